"""Match the next slice of a series to its template on the bytes, before reading it at all.

:mod:`aidahub.deid.series` writes a file of a known context from the template of an
earlier one, redoing only its per-instance elements. Finding the context still reads the
whole file into a dataset and compares it element by element, which costs more than the
reuse itself. A :class:`ByteTemplate` does the same comparison on the file's bytes:

* it is made from the file the series template came from, parsed as
  :func:`aidahub.deid.dicomfile.read` parses it, and cuts its bytes from the ``DICM``
  prefix on into runs of elements that must be byte for byte the same in another file of
  the context, and *slots*: the :data:`~aidahub.deid.series.PER_INSTANCE` elements, the
  Media Storage SOP Instance UID and the meta group length, whose values may differ;
* a file matches when every run is equal, every slot holds the same element (tag, VR and
  length encoding) with a defined length, the meta group length is the length of the meta
  elements, the Pixel Data (if any) is the last element and the file ends with it. Equal
  runs mean equal tags, VRs and values, which is what :func:`aidahub.deid.series.context_of`
  compares; the date plan's anchor is compared as well;
* where each per-instance element that differs is one the engine writes from its bytes
  alone (copied as it is once its check passes, or a UID remapped:
  :meth:`aidahub.deid.engine.InstanceCleaner.byte_rule`), the output is made from the
  bytes, with the same checks; otherwise the file's per-instance elements go, as raw
  elements beside the template's other elements, through
  :func:`aidahub.deid.series.reuse`, with every check the series reuse makes. Either way
  the pixels are checked in the bytes read, and the caller copies them from the input
  file into the output (``copy_file_range``) after the pieces.

Anything unusual (no match, a check that fails, an engine error) leaves the file to the
series reuse and the whole engine, whose verdict then counts. The tests hold the output
to the whole engine's, byte for byte, on every test corpus and on damaged series.
"""

from __future__ import annotations

import re
import struct
from collections import OrderedDict
from collections.abc import Hashable, MutableSequence
from dataclasses import dataclass

from pydicom.dataelem import DataElement, RawDataElement, empty_value_for_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import BaseTag
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

from aidahub.deid import dicomfile, series
from aidahub.deid.damage import converts
from aidahub.deid.series import PER_INSTANCE, Reused, Template

__all__ = ["ByteTemplate", "FastLane", "Match"]

_PIXEL_DATA = 0x7FE00010
_GROUP_LENGTH = 0x00020000
_MEDIA_STORAGE_INSTANCE = 0x00020003
_PREFIX_END = 132  # preamble and "DICM"
_UNDEFINED = 0xFFFFFFFF
_MEMO_SIZE = 16
_SOP_INSTANCE_UID = 0x00080018
_PLANAR_CONFIGURATION = 0x00280006
# A UID pydicom reads without a warning: digits and dots, no leading zeros, 64 at most.
_PLAIN_UID = re.compile(rb"(?=.{1,64}\Z)(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")
_READ_BY_CHECKS = frozenset({0x00080005, 0x00080016})  # Specific Character Set, SOP Class UID
_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<L").unpack_from
_LONG_VRS = frozenset(vr.value for vr in EXPLICIT_VR_LENGTH_32)


@dataclass(frozen=True, slots=True)
class _Slot:
    """An element whose value may differ: its header up to the length field."""

    tag: int
    prefix: bytes
    long: bool
    vr: str | None

    @property
    def header(self) -> int:
        return len(self.prefix) + (4 if self.long else 2)


@dataclass(frozen=True)
class Match:
    """A file written from a byte template: the series' output pieces, and where the file's
    Pixel Data value is (offset, length), to be copied after them; None without pixels."""

    reused: Reused
    pixels: tuple[int, int] | None
    unsigned: str | None


class ByteTemplate:
    """The bytes a file of one series template's context has, and how to read its slots."""

    def __init__(
        self,
        template: Template,
        anchor: Hashable,
        steps: tuple[bytes | _Slot, ...],
        base: dict[BaseTag, DataElement | RawDataElement],
        file_meta: FileMetaDataset,
        implicit: bool,
        encoding: str | MutableSequence[str],
        meta_fixed: int | None,
        unsigned: str | None,
    ) -> None:
        self.template = template
        self.anchor = anchor
        self._steps = steps
        self._base = base
        self._file_meta = file_meta
        self._implicit = implicit
        self._encoding = encoding
        self._meta_fixed = meta_fixed
        self.unsigned = unsigned
        # The slots of the data set's elements (the file meta's are written anew).
        self._instance_slots = tuple(s for s in steps if isinstance(s, _Slot) and s.tag >> 16 != 2)
        self._rules: dict[int, str] = {}
        self._pixel_vr = next(
            (s.vr for s in steps if isinstance(s, _Slot) and s.tag == _PIXEL_DATA), None
        )
        self._pixel_base: dict[BaseTag, DataElement | RawDataElement] = {
            tag: base[tag] for tag in (BaseTag(_PLANAR_CONFIGURATION),) if tag in base
        }

    @classmethod
    def build(
        cls,
        data: bytes,
        template: Template,
        source: Dataset,
        anchor: Hashable,
        unsigned: str | None = None,
    ) -> ByteTemplate | None:
        """The byte template of the file *data* that *template* was made from (*source*
        is that file as read); None when its files cannot be matched on their bytes."""
        parsed = dicomfile.layout(data)
        if parsed is None or template.encapsulated:
            return None
        elements = list(parsed.elements.values())
        if not elements or int(elements[0].tag) in PER_INSTANCE:
            return None  # the first element's bytes tell pydicom the encoding: keep them fixed
        last = elements[-1]
        if last.value_tell + last.length != len(data):
            return None  # trailing bytes the reader skips
        pixels = parsed.elements.get(BaseTag(_PIXEL_DATA))
        if pixels is not None:
            if pixels is not last or template.pixels is None or pixels.length % 2:
                return None  # odd lengths: pydicom pads what it converted, not what is raw
            if not parsed.implicit and pixels.VR not in ("OB", "OW"):
                return None
            if not template.pixels.reads_natively(source):
                return None
        variable = PER_INSTANCE | {_MEDIA_STORAGE_INSTANCE}
        has_instance = BaseTag(_MEDIA_STORAGE_INSTANCE) in parsed.meta
        if has_instance:
            variable = variable | {_GROUP_LENGTH}
        steps: list[bytes | _Slot] = []
        run_start = _PREFIX_END
        meta_fixed: int | None = None
        meta_end = parsed.dataset_at
        for raw, implicit in [(e, False) for e in parsed.meta.values()] + [
            (e, parsed.implicit) for e in elements
        ]:
            tag = int(raw.tag)
            long = implicit or (raw.VR in _LONG_VRS)
            header = 8 if implicit else (12 if long else 8)
            start = raw.value_tell - header
            if tag not in variable:
                continue
            if start > run_start:
                steps.append(data[run_start:start])
            prefix = data[start : start + (4 if implicit else (8 if long else 6))]
            steps.append(_Slot(tag, prefix, long, raw.VR))
            run_start = raw.value_tell + raw.length
        if run_start < len(data):
            steps.append(data[run_start:])
        if has_instance:
            group_length = parsed.meta.get(BaseTag(_GROUP_LENGTH))
            instance = parsed.meta[BaseTag(_MEDIA_STORAGE_INSTANCE)]
            if group_length is None:
                return None
            first_meta = group_length.value_tell + group_length.length
            meta_fixed = meta_end - first_meta - (8 + instance.length)
        base: dict[BaseTag, DataElement | RawDataElement] = dict(parsed.elements)
        # The shared elements the checks read in every file, converted once (each file's
        # are the same bytes): the character set, the SOP class, the image pixel module.
        converted = Dataset(dict(parsed.elements))
        converted.set_original_encoding(parsed.implicit, True, source.original_character_set)
        for tag in list(base):
            if tag in PER_INSTANCE or not (tag in _READ_BY_CHECKS or tag >> 16 == 0x0028):
                continue
            try:
                converted[tag]  # noqa: B018 - converts in place, as the checks would
            except Exception:  # noqa: BLE001, S112 - left raw: the checks convert it as they read
                continue
            base[tag] = converted.get_item(tag)
        made = cls(
            template=template,
            anchor=anchor,
            steps=tuple(steps),
            base=base,
            file_meta=FileMetaDataset(dict(parsed.meta)),
            implicit=parsed.implicit,
            encoding=source.original_character_set,
            meta_fixed=meta_fixed,
            unsigned=unsigned,
        )
        made._learn_rules(data)
        return made

    def spans(self, data: memoryview | bytes, size: int) -> dict[int, tuple[int, int]] | None:
        """Where each slot's value is in *data* (offset, length), or None if it does not match."""
        if size < _PREFIX_END or data[128:_PREFIX_END] != b"DICM":
            return None
        pos = _PREFIX_END
        found: dict[int, tuple[int, int]] = {}
        for step in self._steps:
            if type(step) is bytes:
                end = pos + len(step)
                if end > size or data[pos:end] != step:
                    return None
                pos = end
                continue
            assert isinstance(step, _Slot)
            prefix = step.prefix
            value_at = pos + step.header
            if value_at > size or data[pos : pos + len(prefix)] != prefix:
                return None
            length = _U32(data, value_at - 4)[0] if step.long else _U16(data, value_at - 2)[0]
            if length == _UNDEFINED or value_at + length > size:
                return None
            if step.tag == _PIXEL_DATA and length % 2:
                return None
            found[step.tag] = (value_at, length)
            pos = value_at + length
        if pos != size:
            return None
        if self._meta_fixed is not None:
            group_at, _ = found[_GROUP_LENGTH]
            _, instance_length = found[_MEDIA_STORAGE_INSTANCE]
            if _U32(data, group_at)[0] != self._meta_fixed + 8 + instance_length:
                return None
        return found

    def _learn_rules(self, data: bytes) -> None:
        """Which per-instance elements the engine writes from their bytes alone
        (:meth:`aidahub.deid.engine.InstanceCleaner.byte_rule`), and so :meth:`_from_bytes`
        may write without a dataset: each only if, for the template's own file, what
        :meth:`_written` gives is the template's output for it, byte for byte."""
        spans = self.spans(data, len(data))
        if spans is None or self.template.every_text:
            return
        cleaner, output = self.template.cleaner, self.template.instance_output
        for step in self._instance_slots:
            if step.tag == _PIXEL_DATA:
                continue
            rule = cleaner.byte_rule(self._raw(data, spans, step))
            if rule is None:
                continue
            try:
                written = self._written(data, spans, step, rule)
            except Exception:  # noqa: BLE001, S112 - no rule: the engine's path writes it
                continue
            if written is not None and b"".join(written[0]) == b"".join(output[step.tag] or ()):
                self._rules[step.tag] = rule

    def _raw(
        self, data: memoryview | bytes, spans: dict[int, tuple[int, int]], step: _Slot
    ) -> RawDataElement:
        """The slot's element as pydicom reads it (its value copied out of *data*)."""
        value_at, length = spans[step.tag]
        return RawDataElement(
            BaseTag(step.tag), None if self._implicit else step.vr, length,
            bytes(data[value_at : value_at + length]), value_at, self._implicit, True,
        )  # fmt: skip

    def _written(
        self,
        data: memoryview | bytes,
        spans: dict[int, tuple[int, int]],
        step: _Slot,
        rule: str | None,
    ) -> tuple[tuple[bytes, ...], str | None] | None:
        """The output pieces of a per-instance element under its byte *rule*, and its
        remapped UID (for a ``"uid"`` one); None when only the engine's path can tell.

        Raises
        ------
        DamagedElementError
            Where the engine would (the caller then leaves the file to it).
        """
        tag = step.tag
        value_at, length = spans[tag]
        if rule is None or not length:
            return None
        raw = self._raw(data, spans, step)
        value = bytes(raw.value or b"")
        if not converts(raw):
            return None  # the damage check would convert it: the engine's path does
        cleaner = self.template.cleaner
        if rule == "copy":
            cleaner.check_copy(raw)
            return (bytes(data[value_at - step.header : value_at + length]),), None
        text = value.rstrip(b" \x00")
        if not _PLAIN_UID.fullmatch(text):
            return None  # what pydicom warns about, or several values: the engine decides
        uid = cleaner.remapped_uid(raw, text.decode("ascii"))
        return (dicomfile.ui_element(tag, uid, implicit=self._implicit),), uid

    def _from_bytes(
        self, data: memoryview | bytes, spans: dict[int, tuple[int, int]]
    ) -> Match | None:
        """:meth:`reuse` without a dataset, where every per-instance element that differs
        has a byte rule; None where the dataset path must decide."""
        template = self.template
        own: dict[int, tuple[bytes, ...] | None] = {}
        instance_uid = None
        pixel_header = None
        pixels = None
        for step in self._instance_slots:
            tag = step.tag
            value_at, length = spans[tag]
            if tag == _PIXEL_DATA:
                pixels = (value_at, length)
                continue
            if data[value_at : value_at + length] == template.instance_values[tag]:
                if tag == _SOP_INSTANCE_UID:
                    return None  # two objects with one instance UID: the engine sees both
                continue
            try:
                written = self._written(data, spans, step, self._rules.get(tag))
            except Exception:  # noqa: BLE001 - damage: the engine's verdict counts
                return None
            if written is None:
                return None
            own[tag], uid = written
            if tag == _SOP_INSTANCE_UID:
                instance_uid = uid
        if instance_uid is None:
            return None
        if pixels is not None:
            value_at, length = pixels
            view = memoryview(data)[value_at : value_at + length]
            held = RawDataElement(
                BaseTag(_PIXEL_DATA), None if self._implicit else self._pixel_vr,
                length, view, value_at, self._implicit, True,  # type: ignore[arg-type]
            )  # fmt: skip
            ds = Dataset({**self._pixel_base, BaseTag(_PIXEL_DATA): held})
            ds.file_meta = self._file_meta
            if not series.pixels_pass(template, ds):
                return None  # the dataset path gives the same verdict, with its checks
            pixel_header = dicomfile.value_header(
                _PIXEL_DATA, str(self._pixel_vr), length, self._implicit
            )
        elif template.pixels is not None:
            return None
        try:
            reused = series.assemble(template, own, instance_uid, pixel_header=pixel_header)
        except series.NotReusable:
            return None
        return Match(reused=reused, pixels=pixels, unsigned=self.unsigned)

    def reuse(self, data: memoryview | bytes, spans: dict[int, tuple[int, int]]) -> Match:
        """Write the matched file *data* from the template (raises as
        :func:`aidahub.deid.series.reuse` does)."""
        if self._rules:
            made = self._from_bytes(data, spans)
            if made is not None:
                return made
        template, implicit = self.template, self._implicit
        elements = dict(self._base)
        changed: list[int] = []
        pixels: tuple[int, int] | None = None
        pixel_header: bytes | None = None
        for step in self._instance_slots:
            tag = step.tag
            value_at, length = spans[tag]
            vr = None if implicit else step.vr
            value: bytes | memoryview | None
            if tag == _PIXEL_DATA:
                value = memoryview(data)[value_at : value_at + length]
                pixels = (value_at, length)
                pixel_header = dicomfile.value_header(tag, str(vr), length, implicit)
            elif length:
                value = bytes(data[value_at : value_at + length])
                if value != template.instance_values[tag]:
                    changed.append(tag)
            else:
                value = empty_value_for_VR(vr, raw=True)  # type: ignore[assignment]
                if value != template.instance_values[tag]:
                    changed.append(tag)
            elements[BaseTag(tag)] = RawDataElement(
                BaseTag(tag),
                vr,
                length,
                value,  # type: ignore[arg-type]  # the pixels: a view, read as a buffer
                value_at,
                implicit,
                True,
            )
        ds = Dataset(elements)
        ds.set_original_encoding(implicit, True, self._encoding)
        ds.file_meta = self._file_meta
        reused = series.reuse(template, ds, changed, pixel_header=pixel_header)
        return Match(reused=reused, pixels=pixels, unsigned=self.unsigned)


class FastLane:
    """The byte templates of a worker's series templates, most recently used first."""

    def __init__(self, size: int = _MEMO_SIZE) -> None:
        self._size = size
        self._templates: OrderedDict[Hashable, ByteTemplate] = OrderedDict()

    def learn(self, key: Hashable, template: ByteTemplate) -> None:
        """Keep *template* for the context *key*, in place of an earlier one for it."""
        self._templates[key] = template
        self._templates.move_to_end(key, last=False)
        while len(self._templates) > self._size:
            self._templates.popitem(last=True)

    def match(self, data: memoryview | bytes, size: int, anchor: Hashable) -> Match | None:
        """The output of the file *data* from the first template it matches, or None."""
        for key, candidate in self._templates.items():
            if candidate.anchor != anchor:
                continue
            spans = candidate.spans(data, size)
            if spans is None:
                continue
            self._templates.move_to_end(key, last=False)
            try:
                return candidate.reuse(data, spans)
            except Exception:  # noqa: BLE001 - NotReusable, damage: the whole engine decides
                return None
        return None
