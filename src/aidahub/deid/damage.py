"""Is a file as read damaged or incomplete? Then it is quarantined, never written.

A wrong length makes the parser lose its place: what follows reads as elements with
impossible values (a count of bytes no number fits, items where text belongs). pydicom
reads such files without complaint and only fails when a value is converted, so
:func:`damage` looks for the elements whose conversion would fail, checks that the object
has its identity and its pixels, and that native pixel data is as long as the image needs.

Converting every element only to look costs more than de-identifying a CT slice does, and
most elements cannot fail to convert: text of the single-byte and UTF-8 character sets
decodes whatever the bytes (pydicom replaces what it cannot decode, with a warning), binary
values stay bytes, and a number converts whenever its length is a multiple of its size.
:func:`damage` converts only the rest (sequences, ambiguous and unknown VRs, numbers of a
wrong length, UN values the dictionary knows better, and every text of an ISO 2022
character set); the tests hold it to the verdict of converting everything.
"""

from __future__ import annotations

import functools
import re

from pydicom.datadict import dictionary_has_tag, dictionary_VR
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

__all__ = [
    "check_element",
    "converts",
    "damage",
    "full_conversion_damage",
    "incompleteness",
    "needed_pixel_bytes",
    "safe_charset",
    "truncation",
]

_PIXEL_TAGS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
_PIXEL_TAG_NUMBERS = (BaseTag(0x7FE00010), BaseTag(0x7FE00008), BaseTag(0x7FE00009))
_SOP_CLASS_UID = BaseTag(0x00080016)
_SOP_INSTANCE_UID = BaseTag(0x00080018)
_ROWS = BaseTag(0x00280010)
_COLUMNS = BaseTag(0x00280011)
# Conversion of these never raises, whatever the bytes (tests/deid/test_damage.py).
_TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DT", "DS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"}
)
_PLAIN_IS = re.compile(rb" *[+-]?[0-9]+ *")
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW"})
_NUMBER_SIZE = {"US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "FD": 8, "UV": 8, "SV": 8}
# pydicom's Python names of the DICOM character sets whose decoding never fails (it
# replaces what it cannot decode): all but the ISO 2022 code extension sets.
_SAFE_ENCODINGS = frozenset(
    {"iso8859", "latin_1", "UTF8", "utf_8", "GB18030", "GBK", "GB2312", "euc_kr", "shift_jis"}
    | {"iso8859_2", "iso8859_3", "iso8859_4", "iso_ir_58", "iso_ir_126", "iso_ir_127"}
    | {"iso_ir_138", "iso_ir_144", "iso_ir_148", "iso_ir_166"}
)


def damage(ds: Dataset) -> str | None:
    """Why the file is damaged or incomplete, if it is; never raises.

    Any exception while looking is itself evidence of damage: a file the checks cannot read
    is quarantined, it never stops the run.
    """
    try:
        return _corruption(ds) or incompleteness(ds) or truncation(ds)
    except Exception as exc:  # noqa: BLE001 - unreadable structure means damage
        return f"corrupt: {type(exc).__name__}: {exc}"


def full_conversion_damage(ds: Dataset) -> str | None:
    """The reference for :func:`damage`'s structure check: convert every element once."""
    try:
        for _ in ds.file_meta.iterall() if getattr(ds, "file_meta", None) is not None else ():
            pass
        for _ in ds.iterall():
            pass
    except Exception as exc:  # noqa: BLE001 - any element that cannot be read means damage
        return f"corrupt: {type(exc).__name__}: {exc}"
    return None


def _corruption(ds: Dataset) -> str | None:
    """Why the file's structure is broken, if it is: an element that cannot be converted."""
    every_text = not safe_charset(ds)
    try:
        meta = getattr(ds, "file_meta", None)
        for holder in (meta, ds) if meta is not None else (ds,):
            for tag in list(holder._dict):
                check_element(holder, tag, every_text=every_text)
    except Exception as exc:  # noqa: BLE001 - any element that cannot be read means damage
        return f"corrupt: {type(exc).__name__}: {exc}"
    return None


def check_element(holder: Dataset, tag: int, *, every_text: bool = False) -> None:
    """Convert the element at *tag* of *holder* if it could fail to convert; raise if so.

    The converted value is not kept (the dataset stays as read, so the engine copies the
    element's bytes), except for a sequence (the engine parses it anyway) and an ambiguous
    VR, which pydicom resolves in place. *every_text* converts text too (character sets
    whose decoding can fail).
    """
    element = holder._dict[BaseTag(tag)]
    if isinstance(element, RawDataElement):
        if not every_text and converts(element):
            return
        vr = element.VR or _dictionary_vr(int(tag))
        if vr == "SQ" or " or " in vr or not vr:
            element = holder[tag]  # converts in place, and raises where pydicom would
        else:
            convert_raw_data_element(element, encoding=holder._character_set, ds=holder)
            return
    if element.VR == "SQ":
        for item in element.value or ():
            for _ in item.iterall():
                pass


def safe_charset(ds: Dataset) -> bool:
    """Whether every text of *ds* decodes whatever its bytes (no ISO 2022 code extensions)."""
    charset = ds._character_set
    names = [charset] if isinstance(charset, str) else list(charset or ["iso8859"])
    return all(name in _SAFE_ENCODINGS for name in names)


def converts(raw: RawDataElement) -> bool:
    """Whether converting *raw* certainly succeeds, judged from its VR and length alone."""
    tag = int(raw.tag)
    vr = raw.VR
    known = "" if tag >> 16 & 1 else _dictionary_vr(tag)
    if vr is None or vr == "UN":
        if vr == "UN" and not known:
            return True  # stays bytes
        vr = known  # what pydicom converts it as
        if not vr:
            return True  # implicit private or unknown: UN, bytes
    if vr in _TEXT_VRS or vr in _BINARY_VRS:
        return True
    if vr == "IS":
        # One integer in at most 12 characters: pydicom's IS reads it without a warning.
        value = raw.value
        return (
            isinstance(value, bytes) and len(value) <= 12 and _PLAIN_IS.fullmatch(value) is not None
        )
    size = _NUMBER_SIZE.get(vr)
    return size is not None and raw.length % size == 0


@functools.lru_cache(maxsize=8192)
def _dictionary_vr(tag: int) -> str:
    if not dictionary_has_tag(BaseTag(tag)):
        return ""
    return dictionary_VR(BaseTag(tag))


def incompleteness(ds: Dataset) -> str | None:
    """An object without its identity, or an image without its pixels, is not complete."""
    if not _text_of(ds, _SOP_CLASS_UID):
        return "incomplete: no SOP Class UID"
    if not _text_of(ds, _SOP_INSTANCE_UID):
        return "incomplete: no SOP Instance UID"
    if _ROWS in ds and _COLUMNS in ds and not any(t in ds for t in _PIXEL_TAG_NUMBERS):
        return "incomplete: an image without Pixel Data"
    return None


def _text_of(ds: Dataset, tag: BaseTag) -> str:
    """``str(ds.get(keyword, "") or "").strip()``, by tag."""
    if tag not in ds:
        return ""
    return str(ds[tag].value or "").strip()


def truncation(ds: Dataset) -> str | None:
    """Why native (uncompressed) Pixel Data is shorter than the image needs, if it is.

    pydicom reads a file cut inside its Pixel Data without complaint; the length check
    catches it before a damaged image could be written as if it were complete.
    """
    expected = needed_pixel_bytes(ds)
    if isinstance(expected, str):
        return expected
    if expected is None:
        return None
    pixels = ds.get_item(BaseTag(0x7FE00010))
    value = pixels.value if pixels is not None else None
    actual = len(value) if isinstance(value, bytes | bytearray) else len(ds.PixelData or b"")
    if actual < expected:
        return f"truncated: Pixel Data has {actual} of the {expected} bytes the image needs"
    return None


def needed_pixel_bytes(ds: Dataset) -> int | str | None:
    """How many bytes of native Pixel Data the image needs; None when that is not known
    from the header (no Pixel Data, compressed), or why the header is damaged."""
    if "PixelData" not in ds or ds.file_meta.get("TransferSyntaxUID") is None:
        return None
    syntax = ds.file_meta.TransferSyntaxUID
    if not getattr(syntax, "is_transfer_syntax", False):
        return f"corrupt: {str(syntax)[:64]!r} is not a transfer syntax"
    if syntax.is_compressed:
        return None
    try:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        return (
            int(ds.Rows)
            * int(ds.Columns)
            * int(ds.get("SamplesPerPixel", 1))
            * int(ds.BitsAllocated)
            * frames
            + 7
        ) // 8
    except (AttributeError, TypeError, ValueError):
        return "incomplete: the image size elements are missing or unreadable"
