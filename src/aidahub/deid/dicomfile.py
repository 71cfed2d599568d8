"""Read and write DICOM files quickly, with pydicom as the reference and the fallback.

A batch run spends most of its time outside the rules: pydicom's general-purpose reader
and writer handle every encoding, deferred reads and element-by-element buffers, which
costs more than de-identifying a CT slice does. The two functions here handle the common
case directly on the bytes, and hand everything else to pydicom:

* :func:`read` parses a file held in memory into the same :class:`~pydicom.dataset.FileDataset`
  that :func:`pydicom.dcmread` would build: one :class:`~pydicom.dataelem.RawDataElement`
  per element, undecoded, with the same VR, length, value and offset. It does so only for
  a preamble and ``DICM`` prefix, file meta information in Explicit VR Little Endian,
  Implicit or Explicit VR Little Endian datasets, defined lengths, known VRs and strictly
  ascending tags; for anything else (undefined lengths, big endian, deflate, a value cut
  short by the end of the file, ...) it calls :func:`pydicom.dcmread` on the same bytes, so
  every oddity is handled exactly as pydicom handles it.
* :func:`encode` returns the bytes ``Dataset.save_as(..., enforce_file_format=True)`` would
  write, as a list of buffers (the pixel data is not copied again). Raw elements are
  written as they were read; decoded elements go through pydicom's own
  ``write_data_element``. Datasets whose encoding pydicom would change on writing
  (another transfer syntax or character set, deflate, encapsulated pixel data) are written
  by pydicom.

The tests hold both to byte-identical results with pydicom on every file of pydicom's and
deid-data's test sets, the planted-identifier corpus and fuzzed files.
"""

from __future__ import annotations

import copy
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from os import PathLike

import pydicom
from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import (
    DataElement,
    RawDataElement,
    convert_raw_data_element,
    empty_value_for_VR,
)
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset, validate_file_meta
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_file_meta_info
from pydicom.tag import BaseTag
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32, VR

__all__ = [
    "Encoded",
    "Layout",
    "encode",
    "encode_element",
    "encode_parts",
    "encapsulated_syntax",
    "file_head",
    "layout",
    "read",
    "read_file",
    "ui_element",
    "value_header",
]

_PREAMBLE = 128
_HEAD = 1 << 16  # bytes read before the last element: headers are rarely longer
Pieces = tuple[bytes, ...]
"""One encoded element: its header and value, written one after the other."""
_PREFIX = b"DICM"
_CHARSET = 0x00080005
_PIXEL_DATA = 0x7FE00010
_UNDEFINED = 0xFFFFFFFF
# VRs as pydicom's reader yields them (plain strings), and which have a 4-byte length.
_VRS = {vr.value.encode("ascii"): vr.value for vr in VR if len(vr.value) == 2}
_LONG = frozenset(vr.value.encode("ascii") for vr in EXPLICIT_VR_LENGTH_32)
_LONG_TEXT = frozenset(vr.value for vr in EXPLICIT_VR_LENGTH_32)
_SYNTAXES = {
    ImplicitVRLittleEndian.encode("ascii"): True,
    ExplicitVRLittleEndian.encode("ascii"): False,
}
_EXPLICIT_HEAD = struct.Struct("<HH2sH")
_IMPLICIT_HEAD = struct.Struct("<HHL")
_LENGTH32 = struct.Struct("<L")
_LONG_HEADER = struct.Struct("<HH2s2xL")
_EMPTY_PREAMBLE = b"\x00" * _PREAMBLE
_ITEM = b"\xfe\xff\x00\xe0"
_DELIMITER = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"  # (FFFE,E0DD), length 0
_GROUP_LENGTH = b"\x02\x00\x00\x00UL\x04\x00"


class _Decline(Exception):
    """The bytes need pydicom's general reader."""


def read_file(path: str | PathLike[str]) -> FileDataset:
    """Return the dataset of the DICOM file at *path*, as :func:`pydicom.dcmread` would.

    The header is read first; a last element that ends where the file ends (the pixel
    data, as a rule) is then read into its own value directly, so the image is copied from
    the page cache once instead of into a buffer for the whole file and out of it again.

    Raises
    ------
    OSError
        If the file cannot be read.
    pydicom.errors.InvalidDicomError, Exception
        Whatever :func:`pydicom.dcmread` raises for the file's bytes.
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(min(size, _HEAD))
        if len(head) >= size:
            return read(head, path)

        def fetch(offset: int, length: int) -> bytes:
            value = os.pread(fh.fileno(), length, offset)
            if len(value) != length:
                raise _Decline  # the file changed while it was read
            return value

        try:
            return _read(head, path, total=size, fetch=fetch)
        except _Decline:
            fh.seek(0)
            return read(fh.read(), path)


def read(data: bytes, name: str | PathLike[str] | None = None) -> FileDataset:
    """Return the dataset of a DICOM file held in *data*, as :func:`pydicom.dcmread` would.

    Parameters
    ----------
    data
        The whole file.
    name
        The file's path, kept as the dataset's ``filename``.

    Raises
    ------
    pydicom.errors.InvalidDicomError, Exception
        Whatever :func:`pydicom.dcmread` raises for these bytes.
    """
    try:
        return _read(data, name)
    except _Decline:
        buffer = BytesIO(data)
        ds = pydicom.dcmread(buffer)
        if name is not None:
            ds.filename = str(name)
        return ds


@dataclass(frozen=True)
class Layout:
    """The top-level elements of a file as :func:`read` parses them, each raw, with its
    value's offset (``value_tell``) and length; *dataset_at* is where the dataset starts."""

    meta: dict[BaseTag, RawDataElement]
    elements: dict[BaseTag, RawDataElement]
    implicit: bool
    dataset_at: int


def layout(data: bytes) -> Layout | None:
    """The :class:`Layout` of a whole file held in *data*; None for a file :func:`read`
    would hand to pydicom's general reader."""
    try:
        return _layout(data)
    except _Decline:
        return None


def _layout(
    data: bytes,
    *,
    total: int | None = None,
    fetch: Callable[[int, int], bytes] | None = None,
) -> Layout:
    if len(data) < _PREAMBLE + 4 or data[_PREAMBLE : _PREAMBLE + 4] != _PREFIX:
        raise _Decline
    meta_elements, offset = _elements(data, _PREAMBLE + 4, implicit=False, meta=True)
    if not meta_elements:
        raise _Decline
    syntax = meta_elements.get(BaseTag(0x00020010))
    if syntax is None or syntax.value is None:
        raise _Decline
    implicit = _SYNTAXES.get(syntax.value.rstrip(b"\x00 "))
    if implicit is None:
        raise _Decline
    if offset >= len(data):
        raise _Decline  # nothing after the file meta: pydicom assumes implicit VR then
    if len(data) - offset >= 6:
        first_vr = data[offset + 4 : offset + 6]
        looks_implicit = not (0x40 < first_vr[0] < 0x5B and 0x40 < first_vr[1] < 0x5B)
        if looks_implicit != implicit:
            raise _Decline  # pydicom warns and switches: let it
        if data[offset : offset + 2] == b"\x00\x00":
            raise _Decline  # command set elements
    elements, _ = _elements(data, offset, implicit=implicit, meta=False, total=total, fetch=fetch)
    return Layout(meta_elements, elements, implicit, offset)  # type: ignore[arg-type]


def _read(
    data: bytes,
    name: str | PathLike[str] | None,
    *,
    total: int | None = None,
    fetch: Callable[[int, int], bytes] | None = None,
) -> FileDataset:
    parsed = _layout(data, total=total, fetch=fetch)
    meta_elements, elements, implicit = parsed.meta, parsed.elements, parsed.implicit
    file_meta = FileMetaDataset(meta_elements)  # type: ignore[arg-type]
    file_meta.set_original_encoding(False, True, default_encoding)
    file_meta[next(iter(meta_elements))]  # pydicom's reader converts the first, as a probe
    dataset = Dataset(elements)  # type: ignore[arg-type]
    encoding: str | list[str] = default_encoding
    charset = elements.get(BaseTag(_CHARSET))
    if isinstance(charset, RawDataElement):
        value = convert_raw_data_element(charset).value
        encoding = convert_encodings(value)
    dataset.set_original_encoding(implicit, True, encoding)
    ds = FileDataset(
        str(name) if name is not None else "",
        dataset,
        preamble=data[:_PREAMBLE],
        file_meta=file_meta,
        is_implicit_VR=implicit,
        is_little_endian=True,
    )
    ds.set_original_encoding(implicit, True, dataset._character_set)
    return ds


def _elements(
    data: bytes,
    offset: int,
    *,
    implicit: bool,
    meta: bool,
    total: int | None = None,
    fetch: Callable[[int, int], bytes] | None = None,
) -> tuple[dict[BaseTag, DataElement | RawDataElement], int]:
    """Parse top-level elements from *offset*; the meta group stops at the first non-0002.

    *data* may be the head of a file of *total* bytes: an element whose value ends exactly
    at the end of the file is then read with *fetch* (offset, length), and ends the parse.
    Everything here mirrors pydicom's ``data_element_generator`` for the cases it accepts;
    whatever it does not accept raises :class:`_Decline`.
    """
    # A hot loop: local names and precompiled structs (as pydicom's own reader does).
    end = len(data)
    found: dict[BaseTag, DataElement | RawDataElement] = {}
    explicit_head = _EXPLICIT_HEAD.unpack_from
    implicit_head = _IMPLICIT_HEAD.unpack_from
    length32 = _LENGTH32.unpack_from
    vrs, long_vrs = _VRS, _LONG
    previous = -1
    while end - offset >= 8:
        if implicit:
            group, element, length = implicit_head(data, offset)
            vr: str | None = None
            value_at = offset + 8
        else:
            group, element, raw_vr, length = explicit_head(data, offset)
            if meta and group != 2:
                break
            vr = vrs.get(raw_vr)
            if vr is None:
                raise _Decline
            if raw_vr in long_vrs:
                if end - offset < 12:
                    raise _Decline
                length = length32(data, offset + 8)[0]
                value_at = offset + 12
            else:
                value_at = offset + 8
        if meta and group != 2:
            break
        tag = group << 16 | element
        if tag <= previous or length == _UNDEFINED or group == 0xFFFE:
            raise _Decline  # out of order, undefined length, an item at the top level
        if value_at + length > end:
            if fetch is None or value_at + length != total or meta:
                raise _Decline
            found[BaseTag(tag)] = RawDataElement(
                BaseTag(tag), vr, length, fetch(value_at, length), value_at, implicit, True
            )
            return found, value_at + length
        if length:
            value: bytes | None = data[value_at : value_at + length]
        else:
            value = empty_value_for_VR(vr, raw=True)  # type: ignore[assignment]
        found[BaseTag(tag)] = RawDataElement(
            BaseTag(tag), vr, length, value, value_at, implicit, True
        )
        previous = tag
        offset = value_at + length
    if total is not None and not meta and total - offset >= 8:
        raise _Decline  # the head ended inside the dataset: read the whole file
    return found, offset


# -- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoded:
    """A DICOM file as ``save_as(enforce_file_format=True)`` writes it, element by element.

    ``meta`` holds the encoded file meta elements after the group length, ``elements``
    the encoded dataset elements, each with its tag and in tag order, as the pieces that
    make it up (a header and a large value stay apart, so the value is never copied).
    """

    meta: tuple[tuple[int, bytes], ...]
    elements: tuple[tuple[int, Pieces], ...]

    def pieces(self) -> list[bytes]:
        """The file, in pieces to write one after another."""
        return [
            *file_head([piece for _, piece in self.meta]),
            *(piece for _, pieces in self.elements for piece in pieces),
        ]


def file_head(meta: list[bytes]) -> list[bytes]:
    """Preamble, prefix and file meta information around encoded meta *elements*."""
    length = sum(len(piece) for piece in meta)
    return [_EMPTY_PREAMBLE, _PREFIX, _GROUP_LENGTH + _LENGTH32.pack(length), *meta]


def encode(ds: Dataset) -> list[bytes]:
    """Return what ``ds.save_as(buffer, enforce_file_format=True)`` would write, in pieces.

    *ds* must carry file meta information with a Transfer Syntax UID (as the engine's
    output does). The pieces concatenated are the file.
    """
    parts = encode_parts(ds)
    return parts.pieces() if parts is not None else [_pydicom_bytes(ds)]


def encode_parts(ds: Dataset) -> Encoded | None:
    """:func:`encode` element by element, or None where pydicom must write the whole file."""
    meta = copy.deepcopy(ds.file_meta)
    syntax = meta.get("TransferSyntaxUID")
    implicit, little = ds.original_encoding
    encapsulated = encapsulated_syntax(syntax)
    fast = (
        syntax is not None
        and (syntax in (ImplicitVRLittleEndian, ExplicitVRLittleEndian) or encapsulated)
        and implicit == (syntax == ImplicitVRLittleEndian)
        and little is True
        and ds.original_character_set == ds._character_set
        and not getattr(ds, "preamble", None)
        and not any(tag >> 16 in (0, 2) for tag in ds._dict)
    )
    if not fast:
        return None
    pixels = ds._dict.get(BaseTag(_PIXEL_DATA))
    if pixels is not None and encapsulated != _encapsulated(pixels):
        return None  # pydicom changes the pixel data's length encoding: let it write
    head = DicomBytesIO()
    head.is_implicit_VR, head.is_little_endian = False, True
    _complete_meta(meta, ds)
    write_file_meta_info(head, meta, enforce_standard=True)
    meta_elements = _split(head.getvalue())
    if meta_elements is None or not meta_elements or meta_elements[0][0] != 0x00020000:
        return None
    encodings = ds.get("SpecificCharacterSet", default_encoding)
    elements: list[tuple[int, Pieces]] = []
    for tag in sorted(ds._dict):
        if tag & 0xFFFF == 0 and tag >> 16 > 6:
            continue  # retired group lengths are not written (PS3.5 7.2)
        piece = encode_element(ds._dict[tag], bool(implicit), encodings)
        if piece is None:
            return None
        elements.append((int(tag), piece))
    return Encoded(meta=tuple(meta_elements[1:]), elements=tuple(elements))


def encode_element(
    elem: DataElement | RawDataElement, implicit: bool, encodings: str | list[str]
) -> Pieces | None:
    """One element as pydicom's ``write_data_element`` writes it; raw ones byte for byte.

    Returns None for what only writing the whole file with pydicom gets right (a raw
    element of another encoding, encapsulated pixel data).
    """
    if isinstance(elem, RawDataElement):
        if _encapsulated(elem):
            return _encapsulated_pixels(elem, implicit)
        if not _plain_raw(elem, implicit):
            return None
        header = _raw_header(elem, implicit)
        return (header, elem.value) if elem.length else (header,)  # type: ignore[return-value]
    if elem.tag == _PIXEL_DATA and elem.is_undefined_length:
        return None
    text = _plain_text(elem)
    if text is not None:
        return (value_header(int(elem.tag), elem.VR, len(text), implicit) + text,)
    buffer = DicomBytesIO()
    buffer.is_implicit_VR, buffer.is_little_endian = implicit, True
    write_data_element(buffer, elem, encodings)
    return (bytes(buffer.getvalue()),)


# VRs whose single ASCII string value pydicom writes as is, padded to even length with
# its padding byte (PS3.5 6.2): NUL for UI, a space for the others.
_TEXT_PADDING = {
    **dict.fromkeys(("AE", "AS", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM"), b" "),
    **dict.fromkeys(("UC", "UR", "UT"), b" "),
    "UI": b"\x00",
}


def _plain_text(elem: DataElement) -> bytes | None:
    """The encoded value of an empty element or of one ASCII string, else None.

    These are most of what the engine writes (emptied elements, pseudonyms, remapped
    UIDs, fixed texts); pydicom's writer gives them exactly these bytes, and the tests
    compare the two on every output.
    """
    if elem.VR == "SQ" or elem.is_buffered:
        return None
    if elem.is_empty:
        return b""
    value = elem.value
    padding = _TEXT_PADDING.get(elem.VR)
    if padding is None or type(value) not in (str, UID) or not value.isascii() or "\\" in value:
        return None
    data: bytes = str(value).encode("ascii")
    return data + padding if len(data) % 2 else data


def value_header(tag: int, vr: str, length: int, implicit: bool) -> bytes:
    """An element's header (tag, VR and length) as pydicom writes it, little endian."""
    if implicit:
        return _IMPLICIT_HEAD.pack(tag >> 16, tag & 0xFFFF, length)
    if vr in _LONG_TEXT:
        return _LONG_HEADER.pack(tag >> 16, tag & 0xFFFF, vr.encode("ascii"), length)
    return _EXPLICIT_HEAD.pack(tag >> 16, tag & 0xFFFF, vr.encode("ascii"), length)


def encapsulated_syntax(syntax: object) -> bool:
    """Whether *syntax* is a public compressed transfer syntax in Explicit VR Little Endian
    (pixel data in items of undefined length), other than Deflated."""
    if not isinstance(syntax, UID) or not syntax.is_transfer_syntax or syntax.is_private:
        return False
    return (
        syntax.is_compressed
        and syntax.is_little_endian
        and not syntax.is_implicit_VR
        and syntax != DeflatedExplicitVRLittleEndian
    )


def _encapsulated(elem: DataElement | RawDataElement) -> bool:
    """Raw Pixel Data of undefined length, its items read as they are."""
    return (
        isinstance(elem, RawDataElement)
        and int(elem.tag) == _PIXEL_DATA
        and elem.length == _UNDEFINED
        and elem.is_little_endian
        and isinstance(elem.value, bytes)
    )


def _encapsulated_pixels(elem: RawDataElement, implicit: bool) -> Pieces | None:
    """Encapsulated Pixel Data as pydicom writes it: undefined length, the items, padding to
    an even length, the sequence delimiter (PS3.5 A.4)."""
    value = elem.value
    if elem.is_implicit_VR != implicit or not isinstance(value, bytes):
        return None
    if not value.startswith(_ITEM):
        return None  # pydicom refuses to write it: so must we (through pydicom)
    vr = "OB" if implicit else str(elem.VR)
    if not implicit and vr not in _LONG_TEXT:
        return None
    header = value_header(_PIXEL_DATA, vr, _UNDEFINED, implicit)
    return (header, value, (b"\x00" if len(value) % 2 else b"") + _DELIMITER)


def _split(meta: bytes) -> list[tuple[int, bytes]] | None:
    """The encoded elements of file meta information written by pydicom."""
    pieces: list[tuple[int, bytes]] = []
    offset = 0
    while offset < len(meta):
        group, element, raw_vr, length = _EXPLICIT_HEAD.unpack_from(meta, offset)
        header = 8
        if raw_vr in _LONG:
            length = _LENGTH32.unpack_from(meta, offset + 8)[0]
            header = 12
        end = offset + header + length
        if group != 2 or end > len(meta):
            return None
        pieces.append((group << 16 | element, meta[offset:end]))
        offset = end
    return pieces


def _complete_meta(meta: FileMetaDataset, ds: Dataset) -> None:
    """The file meta ``dcmwrite`` writes with ``enforce_file_format`` (same checks)."""
    meta_class = meta.get("MediaStorageSOPClassUID", None)
    ds_class = ds.get("SOPClassUID", None)
    if meta_class is None or (ds_class and ds_class != meta_class):
        meta.MediaStorageSOPClassUID = ds_class
    meta_instance = meta.get("MediaStorageSOPInstanceUID", None)
    ds_instance = ds.get("SOPInstanceUID", None)
    if meta_instance is None or (ds_instance and ds_instance != meta_instance):
        meta.MediaStorageSOPInstanceUID = ds_instance
    validate_file_meta(meta, enforce_standard=True)


def _plain_raw(elem: RawDataElement, implicit: bool) -> bool:
    """A raw element written byte for byte: defined length, a value of that length."""
    if elem.length == _UNDEFINED or elem.is_implicit_VR != implicit or not elem.is_little_endian:
        return False
    value = elem.value
    if elem.length == 0:
        return value is None or len(value) == 0
    if not isinstance(value, bytes) or len(value) != elem.length:
        return False
    return implicit or (elem.VR is not None and len(elem.VR) == 2)


def _raw_header(elem: RawDataElement, implicit: bool) -> bytes:
    return value_header(int(elem.tag), str(elem.VR), elem.length, implicit)


def ui_element(tag: int, value: str, implicit: bool = False) -> bytes:
    """A UI element as pydicom writes it: the ASCII value padded with NUL to even length."""
    data = value.encode("ascii")
    if len(data) % 2:
        data += b"\x00"
    return value_header(tag, "UI", len(data), implicit) + data


def _pydicom_bytes(ds: Dataset) -> bytes:
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
