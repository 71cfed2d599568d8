"""De-identified output as a reviewer reads it: its files, their elements, and flags.

Shared by the inventory (:mod:`aidahub.deid.report`) and the review sheets
(:mod:`aidahub.deid.review_sheet`), the two halves of the manual review that Appendix 3 of
the policy asks for: people review the output and tweak the configuration "until no
identifying information was found".

Every element is shown at every depth of sequences, the file meta information included,
as :class:`Entry`: a nested element is named by its path (``ReferencedStudySequence >
ReferencedSOPInstanceUID``) and a private element by its tag, with the block byte written
``xx`` so that one creator's element has one name in every file, and its private creator
(``(0029,xx10) [SIEMENS CSA HEADER]``). Bulk binary values (pixel data, overlay data, any
OB, OW, OF, OD, OL, OV or UN value longer than :data:`BULK_LIMIT` bytes) are summarised as
``<N bytes>``; shown values are cut at :data:`VALUE_LIMIT` characters.

:func:`value_flags` marks values a reviewer should look at with cheap detectors, most of
them the free-text detectors of :mod:`aidahub.deid.text`. They are hints, not a verdict:
``aidahub deid verify`` searches the output for the inputs' own values.

Review files never go inside *OUT* (nothing derived from identifiers may be written
there): the default place is ``OUT.review`` beside it (:func:`default_review_folder`).
"""

from __future__ import annotations

import functools
import html
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydicom import dcmread
from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag

from aidahub.deid.damage import damage
from aidahub.deid.dicomfile import read_file
from aidahub.deid.rules import is_private, is_private_creator, private_creator_tag

# _names is private to text.py: it is the detector scrub() uses for the names a file holds,
# and the inventory must flag exactly what scrubbing would have removed, not a look-alike.
from aidahub.deid.text import _names, find_identifiers, names_in
from aidahub.deid.verify import CODE_TAGS

__all__ = [
    "BULK_LIMIT",
    "FLAGS",
    "IDENTIFYING_FLAGS",
    "VALUE_LIMIT",
    "Entry",
    "ReviewError",
    "UnreadableFile",
    "badges",
    "default_review_folder",
    "elements",
    "legend",
    "output_files",
    "page",
    "person_names",
    "read_output_file",
    "read_with_damage",
    "relative_name",
    "review_folder",
    "utc_stamp",
    "value_flags",
    "write_atomically",
]

VALUE_LIMIT = 200
"""Characters of a value shown; a longer value is cut and flagged ``truncated``."""

BULK_LIMIT = 64
"""Binary values longer than this many bytes are summarised as ``<N bytes>``."""

FLAGS: dict[str, str] = {
    "name": "looks like a person's name: a PN value, two capitalised words, or a name that "
    "one of the file's person name elements holds",
    "personal-number": "a Swedish personal identity or coordination number",
    "number": "a run of four or more digits that is not part of a UID",
    "date": "a date: every DA and DT value, and dates written in text",
    "address": "a street address, a PO box or a Swedish postal code",
    "phone": "a phone number",
    "email": "an e-mail address",
    "identifier": "an HSA-id, or a request, examination or journal number",
    "truncated": f"longer than {VALUE_LIMIT} characters: only the start is shown",
}
"""Every flag :func:`value_flags` sets, with what it means (the legend of the pages)."""

IDENTIFYING_FLAGS = frozenset(FLAGS) - {"truncated"}
"""The flags that mark a value as possibly identifying (highlighted on the pages)."""

_SUFFIX = ".review"
_PARTIAL = ".partial"
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_BULK_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010, 0x54001010, 0x00420011})
# Text VRs worth running text detectors on; numbers (DS, IS, US, ...), times, UIDs and tags
# are left alone, or every slice position and window width would be flagged.
_TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT", "UN"})
_DATE_VRS = frozenset({"DA", "DT"})
_CATEGORY_FLAGS = {
    "personal number": "personal-number",
    "identifier": "identifier",
    "e-mail": "email",
    "phone": "phone",
    "date": "date",
    "address": "address",
    "name": "name",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UID_LIKE = re.compile(r"(?<![\w.])\d+(?:\.\d+){2,}(?![\w.])")
_DIGITS = re.compile(r"\d{4,}")
_WORDS = re.compile(r"[\s^,;/]+")
_PRINTABLE = re.compile(rb"[\x20-\x7e\t\r\n]*")
_CACHED_LENGTH = 1_000
_CODE_MEANING = 0x00080104


class ReviewError(ValueError):
    """A review file cannot be written or read; the message says what to fix."""


class UnreadableFile(Exception):
    """A file under *OUT* is DICOM (or named so) but cannot be read; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Entry:
    """One element of a file, as a reviewer sees it.

    Attributes
    ----------
    path : str
        The element's name with its sequences, without item numbers (the inventory's key).
    location : str
        The same with item numbers: ``ReferencedStudySequence[2] > ReferencedSOPInstanceUID``.
    tag : str
        ``(gggg,eeee)``.
    number : int
        The tag as a number.
    keyword : str
        The dictionary keyword, or the private element's name (see the module docstring).
    vr : str
    value : str
        The value shown: control characters written ``\\xNN``, cut at :data:`VALUE_LIMIT`
        characters (then ending in ``…``), ``<N bytes>`` for bulk data, ``<N items>`` for a
        sequence.
    text : str
        The whole value as text, for the detectors (empty for bulk data and sequences).
    truncated : bool
    bulk : bool
    sequence : bool
    depth : int
        0 for a top-level element, 1 inside one sequence, and so on.
    """

    path: str
    location: str
    tag: str
    number: int
    keyword: str
    vr: str
    value: str
    text: str
    truncated: bool = False
    bulk: bool = False
    sequence: bool = False
    depth: int = 0


# -- folders and files -------------------------------------------------------------------


def default_review_folder(out_dir: Path) -> Path:
    """Where review files go by default: ``OUT.review`` beside *out_dir*, never inside it."""
    out = Path(os.path.abspath(out_dir))
    return out.parent / f"{out.name}{_SUFFIX}"


def review_folder(out_dir: Path, folder: Path | None) -> Path:
    """The review folder to use: *folder*, or the default; refused when inside *out_dir*.

    Raises
    ------
    ReviewError
        If the folder is *out_dir* or inside it.
    """
    chosen = default_review_folder(out_dir) if folder is None else folder
    if Path(chosen).resolve().is_relative_to(Path(out_dir).resolve()):
        raise ReviewError(
            f"the review folder {chosen} is inside the output folder {out_dir}; nothing "
            "derived from the data may be written there: choose a folder beside it"
        )
    return Path(chosen)


def output_files(out_dir: Path) -> list[Path]:
    """Every file under *out_dir*, in a stable (sorted) order."""
    found: list[Path] = []
    for folder, subfolders, names in os.walk(out_dir):
        subfolders.sort()
        found.extend(Path(folder) / name for name in sorted(names))
    return found


def relative_name(path: Path, out_dir: Path) -> str:
    """*path* relative to *out_dir*, with ``/`` (the pseudonymous layout, not a machine path)."""
    return path.relative_to(out_dir).as_posix()


def read_output_file(path: Path, *, header_only: bool = False) -> Dataset | None:
    """Read one file of the output; None when it is not DICOM.

    With *header_only* only the elements before the pixel data are read and the file is not
    checked for damage (enough to group files into examinations).

    Raises
    ------
    UnreadableFile
        If the file is DICOM but damaged or truncated (:func:`aidahub.deid.damage.damage`),
        or cannot be read at all (see :func:`read_with_damage`).
    """
    ds, problem = _read(path, header_only=header_only)
    if problem:
        raise UnreadableFile(problem)
    return ds


def read_with_damage(path: Path) -> tuple[Dataset | None, str]:
    """Read one whole file of the output, and why it is damaged ("" when it is not).

    For showing what can still be read of a damaged file. The dataset is None when the file
    is not DICOM.

    Raises
    ------
    UnreadableFile
        If nothing of it can be read, or it is named ``.dcm`` but is not DICOM: the output
        layout names every DICOM file so, and a file cut short before its header ends reads
        as not DICOM at all.
    """
    return _read(path, header_only=False)


def _read(path: Path, *, header_only: bool) -> tuple[Dataset | None, str]:
    try:
        with warnings.catch_warnings():
            # pydicom warns about quirks of values it still reads; a reviewer wants the value.
            warnings.simplefilter("ignore")
            ds = dcmread(path, stop_before_pixels=True) if header_only else read_file(path)
            problem = None if header_only else damage(ds)
    except InvalidDicomError:
        if path.suffix.lower() == ".dcm":
            raise UnreadableFile("not DICOM although named .dcm (cut short?)") from None
        return None, ""
    except OSError as exc:
        raise UnreadableFile(exc.strerror or type(exc).__name__) from None
    except Exception as exc:  # noqa: BLE001 - a damaged file is listed, the rest goes on
        raise UnreadableFile(f"{type(exc).__name__}: {exc}"[:VALUE_LIMIT]) from None
    return ds, (problem or "")[:VALUE_LIMIT]


def write_atomically(path: Path, data: bytes) -> None:
    """Write *data* to a temporary name beside *path*, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{_PARTIAL}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def utc_stamp(moment: datetime | None = None) -> str:
    """``YYYYmmddTHHMMSSZ`` of *moment* (now when None), in UTC."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# -- elements ----------------------------------------------------------------------------


def elements(ds: Dataset) -> Iterator[Entry]:
    """Every element of *ds* at every depth, the file meta information first.

    Raises whatever pydicom raises converting a damaged value.
    """
    meta = getattr(ds, "file_meta", None)
    if isinstance(meta, Dataset):
        yield from _walk(meta, (), (), 0)
    yield from _walk(ds, (), (), 0)


def _walk(
    ds: Dataset, names: tuple[str, ...], located: tuple[str, ...], depth: int
) -> Iterator[Entry]:
    for tag in list(ds.keys()):
        element = ds[tag]
        name = _name(ds, element.tag)
        path, location = (*names, name), (*located, name)
        if element.VR == "SQ":
            items = list(element.value or ())
            yield _entry(path, location, element, f"<{len(items)} items>", depth, sequence=True)
            for number, item in enumerate(items, 1):
                inner = (*located, f"{name}[{number}]")
                yield from _walk(item, path, inner, depth + 1)
            continue
        yield _value_entry(path, location, element, depth)


def _name(ds: Dataset, tag: BaseTag) -> str:
    if is_private_creator(tag):
        return f"{tag} Private Creator"
    if is_private(tag):
        creator = ds.get(BaseTag(private_creator_tag(tag)))
        owner = str(creator.value).strip() if creator is not None and creator.value else ""
        label = f"({tag.group:04X},xx{tag.element & 0xFF:02X})" if owner else str(tag)
        return f"{label} [{owner or 'no private creator'}]"
    return keyword_for_tag(tag) or str(tag)


def _entry(
    path: tuple[str, ...],
    location: tuple[str, ...],
    element: DataElement,
    value: str,
    depth: int,
    *,
    text: str = "",
    **kind: bool,
) -> Entry:
    return Entry(
        path=" > ".join(path),
        location=" > ".join(location),
        tag=str(element.tag),
        number=int(element.tag),
        keyword=path[-1],
        vr=str(element.VR),
        value=value,
        text=text,
        depth=depth,
        **kind,
    )


def _value_entry(
    path: tuple[str, ...], location: tuple[str, ...], element: DataElement, depth: int
) -> Entry:
    value = element.value
    if isinstance(value, bytes | bytearray):
        if (
            int(element.tag) in _BULK_TAGS
            or _is_overlay_data(element.tag)
            or (element.VR in _BINARY_VRS and len(value) > BULK_LIMIT)
        ):
            return _entry(path, location, element, f"<{len(value)} bytes>", depth, bulk=True)
        text = _short_binary(bytes(value))
    else:
        text = _as_text(value)
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    truncated = len(shown) > VALUE_LIMIT
    if truncated:
        shown = shown[:VALUE_LIMIT] + "…"
    return _entry(path, location, element, shown, depth, text=text, truncated=truncated)


def _is_overlay_data(tag: BaseTag) -> bool:
    return tag.group & 0xFF01 == 0x6000 and tag.element == 0x3000


def _short_binary(value: bytes) -> str:
    """A short binary value as text when it is printable (text in a UN element), else hex."""
    stripped = value.rstrip(b"\x00 ")
    if stripped and _PRINTABLE.fullmatch(stripped):
        return stripped.decode("ascii")
    return " ".join(f"{byte:02x}" for byte in value)


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, MultiValue | list | tuple):
        return "\\".join(_as_text(v) for v in value)
    return str(value)


# -- flags -------------------------------------------------------------------------------


def value_flags(entry: Entry, names: Sequence[str] = ()) -> frozenset[str]:
    """The flags of :data:`FLAGS` for one element's value.

    Parameters
    ----------
    entry
        The element, from :func:`elements`.
    names
        The person names of its file (:func:`person_names`): a text that holds one of them
        is flagged ``name``.
    """
    flags: set[str] = {"truncated"} if entry.truncated else set()
    text = entry.text
    if not text.strip() or entry.bulk or entry.sequence or entry.number in CODE_TAGS:
        # Codes come from coding schemes (DCM 121008, LN 18748-4), not from the patient.
        return frozenset(flags)
    detect = _cached_flags if len(text) <= _CACHED_LENGTH else _flags
    flags |= detect(text, entry.vr, entry.number == _CODE_MEANING)
    if names and entry.vr in _TEXT_VRS and any(True for _ in _names(text, names)):
        flags.add("name")
    return frozenset(flags)


def person_names(ds: Dataset) -> tuple[str, ...]:
    """The person names of *ds* (:func:`aidahub.deid.text.names_in`) worth searching for.

    A name part with a digit in it is a pseudonym (``ZUZEXTL5LSV7REYW``), which the
    output's Patient ID repeats on purpose: searching for it would flag every Patient ID.
    """
    return tuple(name for name in names_in(ds) if any(_is_word(w) for w in _WORDS.split(name)))


def _is_word(part: str) -> bool:
    return len(part) >= 2 and all(c.isalpha() or c in "-'" for c in part)


def _flags(text: str, vr: str, code_meaning: bool) -> frozenset[str]:
    """Flags that depend on the value alone."""
    if vr in _DATE_VRS:
        return frozenset({"date"})
    if vr not in _TEXT_VRS:
        return frozenset()
    # Code meanings are written in title case ("Person Observer Name"): not names.
    looks_named = not code_meaning and _two_capitalised_words(text)
    flags = {"name"} if vr == "PN" or looks_named else set()
    if _DIGITS.search(_UID_LIKE.sub(" ", text)):
        flags.add("number")
    flags.update(_CATEGORY_FLAGS[category] for category, _ in find_identifiers(text))
    return frozenset(flags)


# Output repeats values in every file (the same dates, descriptions and codes in each slice).
_cached_flags = functools.lru_cache(maxsize=65_536)(_flags)


def _two_capitalised_words(text: str) -> bool:
    capitalised = [_capitalised(word) for word in _WORDS.split(text)]
    return any(a and b for a, b in zip(capitalised, capitalised[1:], strict=False))


def _capitalised(word: str) -> bool:
    return len(word) >= 2 and word.isalpha() and word[0].isupper() and word[1:].islower()


# -- pages -------------------------------------------------------------------------------


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1a1a1a; line-height: 1.4; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
h1, h2, h3, code { overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.4rem; text-align: left; vertical-align: top; }
th { background: #eee; }
td.value { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all;
  max-width: 60rem; }
tr.flagged td { background: #fff1c2; }
tr.flagged td.value { font-weight: bold; }
.flag { display: inline-block; padding: 0 0.35rem; margin: 0 0.15rem 0.1rem 0;
  border-radius: 0.3rem; background: #b3261e; color: #fff; font-size: 0.8rem; }
.flag.truncated { background: #666; }
.note { color: #555; }
.problem { color: #b3261e; font-weight: bold; }
figure { display: inline-block; margin: 0 1rem 1rem 0; }
figure img { max-width: 256px; max-height: 256px; min-width: 96px; image-rendering: pixelated;
  border: 1px solid #999; }
.placeholder { width: 256px; height: 96px; border: 2px dashed #b3261e; color: #b3261e;
  display: flex; align-items: center; justify-content: center; text-align: center; }
code { background: #f3f3f3; padding: 0 0.2rem; }
"""


def legend() -> str:
    """The legend of the flags, as HTML."""
    rows = "".join(
        f"<tr><td>{badges(frozenset({flag}))}</td><td>{html.escape(text)}</td></tr>"
        for flag, text in FLAGS.items()
    )
    return f'<table class="legend"><tr><th>Flag</th><th>Meaning</th></tr>{rows}</table>'


def badges(flags: frozenset[str]) -> str:
    """The flags as HTML badges, in the order of :data:`FLAGS`."""
    return "".join(
        f'<span class="flag {flag}">{html.escape(flag)}</span>' for flag in FLAGS if flag in flags
    )


def page(title: str, body: str) -> str:
    """A self-contained HTML page (inline CSS, no scripts) around *body*.

    *title* is escaped here; *body* must already be HTML with every value escaped.
    """
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # A sheet of hostile values must never fetch or run anything.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src 'self'; style-src 'unsafe-inline'\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )
