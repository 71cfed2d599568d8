"""De-identify the next slice of a series by redoing only what differs from the last one.

The slices of a CT or MR series repeat their header: the patient, study, series, device,
people and image layout are the same, and only a handful of elements change from slice to
slice (the instance UID and number, the slice position, acquisition times, window and
rescale values, the pixels). Everything :func:`aidahub.deid.engine.deidentify` decides and
derives (the actions, pseudonyms, date shift, names and places to scrub, the exclusion of
the object by its kind) comes from the profile, the key, the date plan and the elements
that do not change; each element's output depends on nothing else but its own value
(:class:`aidahub.deid.engine.InstanceCleaner`).

So a worker keeps, for the last few *contexts* it saw, a :class:`Template`: the encoded
output of a file that went the whole way through the engine. The context is everything but
the :data:`PER_INSTANCE` elements, compared byte for byte (with the set of tags, the VRs
in the file, the file meta information and the date plan), never by a hash. A file of the
same context gets:

* the template's output for every element outside :data:`PER_INSTANCE`;
* for each :data:`PER_INSTANCE` element, the template's output again where its value is
  byte for byte the template's, or else the engine's own handling of that element, with
  the engine's checks for damaged values;
* the checks of :mod:`aidahub.deid.damage` that can differ (the per-instance elements
  convert, the object has an instance UID, the pixel data is complete) and the pixel
  checks of :mod:`aidahub.deid.pixels`, on its own pixels;
* file meta information naming its own instance.

The result is byte for byte what the whole engine writes for the file; the tests compare
the two on every test corpus and on fuzzed series. Only clean outcomes become templates: a
file that was excluded or quarantined, or whose reading or cleaning gave any warning, is
never reused, so whatever is unusual about a file is seen by the whole engine.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from pydicom.charset import default_encoding
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from aidahub.deid import dicomfile
from aidahub.deid.damage import check_element, incompleteness, needed_pixel_bytes, safe_charset
from aidahub.deid.dicomfile import Pieces
from aidahub.deid.engine import InstanceCleaner
from aidahub.deid.pixels import PixelChecker
from aidahub.deid.pseudonyms import patient_identity

__all__ = [
    "PER_INSTANCE",
    "Context",
    "NotReusable",
    "Reused",
    "assemble",
    "pixels_pass",
    "SeriesMemo",
    "Template",
    "context_of",
    "reuse",
]

PER_INSTANCE: frozenset[int] = frozenset(
    {
        0x00080013,  # Instance Creation Time
        0x00080018,  # SOP Instance UID
        0x00080032,  # Acquisition Time
        0x00080033,  # Content Time
        0x00181060,  # Trigger Time
        0x00181150,  # Exposure Time
        0x00181151,  # X-Ray Tube Current
        0x00181152,  # Exposure
        0x00181170,  # Generator Power
        0x00189345,  # CTDIvol
        0x00200012,  # Acquisition Number
        0x00200013,  # Instance Number
        0x00200032,  # Image Position (Patient)
        0x00201041,  # Slice Location
        0x00281050,  # Window Center
        0x00281051,  # Window Width
        0x00281052,  # Rescale Intercept
        0x00281053,  # Rescale Slope
        0x00280106,  # Smallest Image Pixel Value
        0x00280107,  # Largest Image Pixel Value
        0x7FE00010,  # Pixel Data
    }
)
"""Elements that change from one object of a series to the next and that nothing but
their own output depends on: numbers, times, UIDs and the pixels; no text that is scrubbed,
no dates that anchor a date plan, no person names, places or identifiers, nothing the
exclusion checks read apart from the pixels (tests/deid/test_series.py checks each)."""

_SOP_INSTANCE_UID = 0x00080018
_MEDIA_STORAGE_INSTANCE = 0x00020003
_PIXEL_DATA = 0x7FE00010
_MEMO_SIZE = 16


@dataclass(frozen=True)
class Context:
    """What must be equal for a template to apply, and a file's per-instance raw values."""

    key: tuple[Hashable, ...]
    instance: dict[int, bytes | None]


@dataclass(frozen=True)
class Template:
    """A file's encoded output, and how to clean another of its context."""

    instance_values: dict[int, bytes | None]
    # The output between the per-instance elements, in tag order: gaps[0] before the first
    # of gap_tags, gaps[i + 1] after gap_tags[i] (each the shared elements' pieces, joined).
    gaps: tuple[bytes, ...]
    gap_tags: tuple[int, ...]
    instance_output: dict[int, Pieces | None]
    meta_before: tuple[bytes, ...]
    meta_after: tuple[bytes, ...]
    cleaner: InstanceCleaner
    pixels: PixelChecker | None
    pixel_bytes: int | None
    encapsulated: bool
    implicit: bool
    encodings: str | list[str]
    identity: str
    study_uid: str
    series_uid: str
    every_text: bool = False  # the character set's decoding can fail: check every text


@dataclass(frozen=True)
class Reused:
    """The output of :meth:`SeriesMemo.apply`: the file's pieces, its patient's identity
    (:func:`aidahub.deid.pseudonyms.patient_identity`) and its output UIDs."""

    pieces: list[bytes]
    identity: str
    study_uid: str
    series_uid: str
    instance_uid: str


def context_of(ds: Dataset, plan_key: Hashable) -> Context | None:
    """The context of *ds* as read (before anything converts its elements), or None.

    None when the file cannot share a template: an element pydicom had to parse itself
    (an undefined-length sequence), or no instance UID to name its output by.
    """
    charset = ds.original_character_set
    items: list[Hashable] = [
        plan_key,
        ds.original_encoding,
        charset if isinstance(charset, str) else tuple(charset),
    ]
    instance: dict[int, bytes | None] = {}
    for tag, elem in ds._dict.items():
        if tag in PER_INSTANCE:
            if not isinstance(elem, RawDataElement):
                return None
            instance[int(tag)] = elem.value
            items.append((int(tag), elem.VR))
        else:
            value = _comparable(elem)
            if value is None:
                return None
            items.append((int(tag), elem.VR, value))
    if _SOP_INSTANCE_UID not in instance:
        return None
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        return None
    for tag, elem in meta._dict.items():
        if tag == _MEDIA_STORAGE_INSTANCE:
            continue
        value = _comparable(elem)
        if value is None:
            return None
        items.append((int(tag), elem.VR, value))
    return Context(key=tuple(items), instance=instance)


def _comparable(elem: DataElement | RawDataElement) -> Hashable | None:
    """An element's value as it compares for a context: raw bytes, or a converted text,
    number or list of them (the character set and a few file meta elements arrive
    converted); None for anything else (a parsed sequence)."""
    if isinstance(elem, RawDataElement):
        return (b"raw", elem.value)
    value = elem.value
    if isinstance(value, str | bytes | int | float):
        return (type(value).__name__, value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ("list", tuple(value))
    return None


class SeriesMemo:
    """The templates of the last few contexts a worker saw (least recently used goes)."""

    def __init__(self, size: int = _MEMO_SIZE) -> None:
        self._size = size
        self._templates: OrderedDict[tuple[Hashable, ...], Template] = OrderedDict()

    def get(self, context: Context) -> Template | None:
        template = self._templates.get(context.key)
        if template is not None:
            self._templates.move_to_end(context.key)
        return template

    def remember(
        self,
        context: Context,
        source: Dataset,
        output: Dataset,
        parts: dicomfile.Encoded,
        cleaner: InstanceCleaner,
    ) -> Template | None:
        """Keep *output*, the engine's dataset for *source* (of *context*), as a template.

        *source* has passed every check of :func:`aidahub.deid.damage.damage`; *parts* is
        *output* encoded (:func:`aidahub.deid.dicomfile.encode_parts`). Returns the
        template, or None when the file cannot be one (or the memo keeps none).
        """
        if self._size <= 0:
            return None
        instance_uid = str(output.get("SOPInstanceUID", "") or "")
        pixel_bytes = needed_pixel_bytes(source)
        if not instance_uid or isinstance(pixel_bytes, str):
            return None
        try:
            pixels = PixelChecker(source) if _PIXEL_DATA in source else None
        except Exception:  # noqa: BLE001 - the engine's own check decides such files
            return None
        meta_before, meta_after, found = [], [], False
        for tag, piece in parts.meta:
            if tag == _MEDIA_STORAGE_INSTANCE:
                found = True
            elif found:
                meta_after.append(piece)
            else:
                meta_before.append(piece)
        if not found:
            return None
        implicit, _ = output.original_encoding
        gaps, gap_tags = _gaps(parts.elements, context.instance)
        template = Template(
            instance_values=dict(context.instance),
            gaps=gaps,
            gap_tags=gap_tags,
            instance_output={t: _piece(parts.elements, t) for t in context.instance},
            meta_before=tuple(meta_before),
            meta_after=tuple(meta_after),
            cleaner=cleaner,
            pixels=pixels,
            pixel_bytes=pixel_bytes,
            encapsulated=dicomfile.encapsulated_syntax(source.file_meta.get("TransferSyntaxUID")),
            implicit=bool(implicit),
            encodings=output.get("SpecificCharacterSet", default_encoding),
            identity=patient_identity(source),
            study_uid=str(output.get("StudyInstanceUID", "") or ""),
            series_uid=str(output.get("SeriesInstanceUID", "") or ""),
            every_text=not safe_charset(source),
        )
        self._templates[context.key] = template
        self._templates.move_to_end(context.key)
        while len(self._templates) > self._size:
            self._templates.popitem(last=False)
        return template

    def apply(self, template: Template, context: Context, ds: Dataset) -> Reused:
        """De-identify *ds*, of the template's context, reusing the template.

        Only a file that would be written comes out of here: whatever else the file's own
        values give (damage, exclusion by its pixels, an engine error) raises
        :class:`NotReusable` or the engine's exception, and the caller runs the whole
        engine on the file, whose verdict (and message) is then the one reported.
        """
        changed = [t for t, v in context.instance.items() if v != template.instance_values[t]]
        return reuse(template, ds, changed)


def reuse(
    template: Template, ds: Dataset, changed: list[int], *, pixel_header: bytes | None = None
) -> Reused:
    """:meth:`SeriesMemo.apply` for *ds*, whose per-instance elements *changed* differ from
    the template's.

    With *pixel_header* the caller writes the Pixel Data's value itself, straight from the
    input file (:mod:`aidahub.deid.fastlane`): the pieces then end with this header, the
    pixels are checked whether or not they are in *changed*, and ``ds``'s Pixel Data may
    hold a :class:`memoryview`.
    """
    if _SOP_INSTANCE_UID not in changed:
        raise NotReusable  # two objects with one instance UID: let the engine see both
    every_text = template.every_text  # the character set is part of the context
    for tag in changed:
        check_element(ds, tag, every_text=every_text)  # raises where damage() would
    if incompleteness(ds) or not pixels_pass(template, ds):
        raise NotReusable
    out = template.cleaner.clean(ds, [t for t in changed if t != _PIXEL_DATA])
    own: dict[int, Pieces | None] = {}
    for tag in changed:
        elem: DataElement | RawDataElement | None
        if tag == _PIXEL_DATA:
            elem = ds.get_item(BaseTag(tag))
        else:
            elem = out.get_item(BaseTag(tag)) if tag in out else None
        if elem is None:
            own[tag] = None
            continue
        piece = dicomfile.encode_element(elem, template.implicit, template.encodings)
        if piece is None:
            raise NotReusable
        own[tag] = piece
    return assemble(template, own, _instance_uid(out), pixel_header=pixel_header)


def assemble(
    template: Template,
    own: dict[int, Pieces | None],
    instance_uid: str,
    *,
    pixel_header: bytes | None = None,
) -> Reused:
    """The output of a file of *template*'s context: *own* holds the pieces of each
    per-instance element that changed (None: not written), *instance_uid* its output SOP
    Instance UID; with *pixel_header* the pixels' value follows from the input (as in
    :func:`reuse`)."""
    if pixel_header is not None:
        own[_PIXEL_DATA] = (pixel_header,)
    if not instance_uid:
        raise NotReusable
    uid_element = dicomfile.ui_element(_MEDIA_STORAGE_INSTANCE, instance_uid)
    head = dicomfile.file_head([*template.meta_before, uid_element, *template.meta_after])
    body = _assemble(template, own)
    if pixel_header is not None and (not body or body[-1] is not pixel_header):
        raise NotReusable  # the pixels must be what the file ends with
    # Matched from bytes, the pixels follow from the input: the rest is one short write.
    pieces = [b"".join([*head, *body])] if pixel_header is not None else [*head, *body]
    return Reused(
        pieces=pieces,
        identity=template.identity,
        study_uid=template.study_uid,
        series_uid=template.series_uid,
        instance_uid=instance_uid,
    )


def pixels_pass(template: Template, ds: Dataset) -> bool:
    """The checks of the pixels that differ: complete (as damage's truncation check
    says), and not excluded (as the exclusion's pixel checks say)."""
    if template.pixels is None:
        return _PIXEL_DATA not in ds
    pixels = ds.get_item(BaseTag(_PIXEL_DATA))
    value = pixels.value if pixels is not None else None
    if not isinstance(value, bytes | memoryview):
        return False
    encapsulated = isinstance(pixels, RawDataElement) and pixels.length == 0xFFFFFFFF
    if encapsulated != template.encapsulated:
        return False  # the whole engine (and pydicom's writer) decide such a file
    if template.pixel_bytes is not None and len(value) < template.pixel_bytes:
        return False
    return template.pixels.reason(ds) is None


class NotReusable(Exception):
    """This file needs the whole engine after all (nothing was written)."""


def _piece(elements: tuple[tuple[int, Pieces], ...], tag: int) -> Pieces | None:
    for found, piece in elements:
        if found == tag:
            return piece
    return None


def _instance_uid(out: Dataset) -> str:
    elem = out.get(BaseTag(_SOP_INSTANCE_UID))
    return str(elem.value or "") if elem is not None else ""


def _gaps(
    elements: tuple[tuple[int, Pieces], ...], instance: dict[int, bytes | None]
) -> tuple[tuple[bytes, ...], tuple[int, ...]]:
    """The template's output around the per-instance elements (:attr:`Template.gaps`).

    Elements are written in tag order, so every per-instance element, whatever its output,
    falls between the same two runs of shared elements; joined once here, each file's
    output is a few pieces instead of one for each element.
    """
    order = sorted(
        [(tag, None) for tag in instance]
        + [(tag, pieces) for tag, pieces in elements if tag not in PER_INSTANCE],
        key=lambda item: item[0],
    )
    gaps: list[bytes] = []
    gap_tags: list[int] = []
    run: list[bytes] = []
    for tag, pieces in order:
        if pieces is None:
            gaps.append(b"".join(run))
            gap_tags.append(tag)
            run = []
        else:
            run.extend(pieces)
    gaps.append(b"".join(run))
    return tuple(gaps), tuple(gap_tags)


def _assemble(template: Template, own: dict[int, Pieces | None]) -> list[bytes]:
    """The output's elements: the template's gaps with each per-instance element's pieces
    (its own where it changed, else the template's) between them."""
    gaps, output = template.gaps, template.instance_output
    body = [gaps[0]] if gaps[0] else []
    for tag, gap in zip(template.gap_tags, gaps[1:], strict=True):
        pieces = own[tag] if tag in own else output[tag]
        if pieces is not None:
            body.extend(pieces)
        if gap:
            body.append(gap)
    return body
