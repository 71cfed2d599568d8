"""``aidahub deid verify IN OUT``: search every output byte for the inputs' identifying values.

Appendix 3 of the policy asks for de-identified output to be reviewed until "no
identifying information is found". This is the machine half of that review, and it does
not trust the engine: it reads the *inputs* again, takes every value that identifies
someone (below), and searches every byte of every file under *OUT* for them with
:mod:`aidahub.deid.search`, the same rules the engine's own leak tests apply (all
character sets, reordered and folded name parts, personal numbers and dates in all their
formats, original UIDs, deflated content inflated first). Values shorter than
:data:`aidahub.deid.search.MIN_LENGTH` characters are skipped and counted.

Which input values are searched for, at every depth of sequences and in the file meta
information:

* every person name (PN), date (DA, and the date of a DT) and UID (UI) other than the
  standard's own (``1.2.840.10008.*``: SOP classes, transfer syntaxes, coding schemes);
* the whole value of every text element that PS3.15 Table E.1-1 does not keep (actions X,
  Z, D, U and their combinations), searched as a personal number, phone number, e-mail
  address, address or institution, identifier or text by what the element is;
* in free text that the Basic Profile cleans (action C), and in every other text element,
  what the engine's free-text detectors (:func:`aidahub.deid.text.find_identifiers`) find:
  personal numbers, HSA identities, e-mail addresses, phone numbers, dates, street
  addresses and the names the file itself holds;
* the text of private elements (LO, SH, ST, LT, UT, UC, PN and printable UN values).

Given the profile the output was made with, the elements that profile keeps on purpose
(its ``keep`` list, without free-text scrubbing) are not searched whole, and neither are the
private elements its house rules mark safe; their free text is still searched for what the
detectors find. Dates are searched even when kept, unless the profile keeps them unshifted.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from aidahub.deid.profile import Profile
from aidahub.deid.rules import (
    is_private,
    is_private_creator,
    lookup,
    private_creator_tag,
    private_offset,
)
from aidahub.deid.search import Finding, Needle, Searcher
from aidahub.deid.text import find_identifiers, names_in

__all__ = [
    "CODE_TAGS",
    "NEEDLES_PER_PATTERN",
    "VerifyResult",
    "identifying_values",
    "safe_private_tags",
    "input_needles",
    "verify",
]

NEEDLES_PER_PATTERN = 2_000
"""Needles compiled into one pattern: larger sets are searched in several passes."""

_STANDARD_UID = "1.2.840.10008."
_TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC", "AE"})
_FREE_TEXT_VRS = frozenset({"ST", "LT", "UT", "UC", "LO", "SH"})
_PERSONAL_NUMBER = re.compile(r"^(?:\d{2})?\d{6}[-+ ]?\d{4}$")
_PHONE_TAGS = frozenset({0x00102154, 0x00102155})  # Patient's Telephone Numbers, Telecom
_PHRASE_TAGS = frozenset(
    {
        0x00101040,  # Patient's Address
        0x00080080,  # Institution Name
        0x00080081,  # Institution Address
        0x00081040,  # Institutional Department Name
        0x00080092,  # Referring Physician's Address
        0x00321033,  # Requesting Service
        0x00400243,  # Performed Location
        0x00380300,  # Current Patient Location
        0x00380400,  # Patient's Institution Residence
        0x00102152,  # Region of Residence
    }
)
CODE_TAGS = frozenset(
    {0x00080100, 0x00080119, 0x00080120, 0x00080102, 0x00080103, 0x0008010F, 0x00080105}
)
"""Code Value, Long and URN Code Value, Coding Scheme Designator and Version, Context
Identifier, Mapping Resource: codes (DCM 121008) that a date detector would misread."""

# The implementation's class UID and version name name the software that wrote a file.
_SOFTWARE = frozenset({0x00020012, 0x00020013})
_KEPT_ACTIONS = frozenset({"K"})
_CLEANED_ACTIONS = frozenset({"C"})

Progress = Callable[[str, int, int], None]
"""Called with the phase (``"reading inputs"``, ``"searching outputs"``), done and total."""


@dataclass
class VerifyResult:
    """What ``verify`` read, searched and found.

    Attributes
    ----------
    inputs
        DICOM files read from the input folder.
    not_dicom
        Input files that are not DICOM (relative paths), skipped.
    unreadable
        Input files that could not be read, with the reason; their values are not searched.
    needles
        Distinct values searched for.
    too_short
        Distinct values skipped as shorter than the minimum length.
    outputs
        Output files searched.
    findings
        Every identifying value found, with file and byte offset.
    """

    inputs: int = 0
    not_dicom: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    needles: int = 0
    too_short: int = 0
    outputs: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether nothing was found and every input could be read."""
        return not self.findings and not self.unreadable


def identifying_values(ds: Dataset, profile: Profile | None = None) -> list[Needle]:
    """The values of *ds* that identify someone, as needles (see the module docstring).

    Parameters
    ----------
    ds
        An input dataset, as read (its file meta information is included when present).
    profile
        The profile the output was made with; without one every value is searched.

    Returns
    -------
    list of Needle
        Without duplicates, in the order found.
    """
    names = names_in(ds)
    found: dict[tuple[str, str], Needle] = {}
    meta = getattr(ds, "file_meta", None)
    elements: Iterable[DataElement] = ds.iterall()
    if isinstance(meta, Dataset):
        elements = [*meta.iterall(), *elements]
    safe = safe_private_tags(ds, profile)
    for element in elements:
        for needle in _needles_of(element, names, profile, safe):
            found.setdefault((needle.value, needle.kind), needle)
    return list(found.values())


def input_needles(
    input_dir: Path, profile: Profile | None = None, on_file: Progress | None = None
) -> tuple[list[Needle], VerifyResult]:
    """Every identifying value of every DICOM file under *input_dir*, without duplicates."""
    result = VerifyResult()
    needles: dict[tuple[str, str], Needle] = {}
    paths = _files(input_dir)
    for done, path in enumerate(paths, 1):
        relative = path.relative_to(input_dir).as_posix()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = dcmread(path, stop_before_pixels=True)
                values = identifying_values(ds, profile)
        except InvalidDicomError:
            result.not_dicom.append(relative)
        except OSError as exc:
            result.unreadable.append((relative, exc.strerror or type(exc).__name__))
        except Exception as exc:  # noqa: BLE001 - a damaged input is reported, not fatal
            result.unreadable.append((relative, f"{type(exc).__name__}: {exc}"[:200]))
        else:
            result.inputs += 1
            for needle in values:
                needles.setdefault((needle.value, needle.kind), needle)
        if on_file is not None:
            on_file("reading inputs", done, len(paths))
    return list(needles.values()), result


def verify(
    input_dir: Path,
    output_dir: Path,
    *,
    profile: Profile | None = None,
    on_file: Progress | None = None,
) -> VerifyResult:
    """Search every file under *output_dir* for the identifying values of *input_dir*.

    Parameters
    ----------
    input_dir, output_dir
        The folders given to ``aidahub deid run``.
    profile
        The profile the output was made with (what it keeps on purpose is not searched).
    on_file
        Progress callback.

    Returns
    -------
    VerifyResult
        ``result.clean`` is False when anything was found or an input could not be read.
    """
    needles, result = input_needles(input_dir, profile, on_file)
    searchers = [Searcher(chunk) for chunk in _chunks(needles, NEEDLES_PER_PATTERN)]
    result.too_short = sum(len(searcher.skipped) for searcher in searchers)
    result.needles = len(needles) - result.too_short
    searchers = [searcher for searcher in searchers if not searcher.empty]
    outputs = _files(output_dir)
    for done, path in enumerate(outputs, 1):
        try:
            data = path.read_bytes()
        except OSError as exc:
            relative = path.relative_to(output_dir).as_posix()
            result.unreadable.append((f"OUT/{relative}", exc.strerror or type(exc).__name__))
            continue
        for searcher in searchers:
            result.findings.extend(searcher.scan_bytes(data, path))
        result.outputs += 1
        if on_file is not None:
            on_file("searching outputs", done, len(outputs))
    return result


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, _, names in os.walk(root):
        found.extend(Path(folder) / name for name in names)
    return sorted(found)


def _chunks(items: list[Needle], size: int) -> Iterator[list[Needle]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def safe_private_tags(ds: Dataset, profile: Profile | None) -> frozenset[int]:
    """Top-level private tags of *ds* that the profile's house rules keep as safe.

    The engine's own test (``(group, creator, offset)`` against each rule's safe private
    elements), so that what a house rule keeps on purpose is not reported as found.
    """
    if profile is None:
        return frozenset()
    safe = {
        (s.group, s.creator.upper(), s.offset)
        for rule in profile.house_rules_for(ds)
        for s in rule.safe_private
    }
    if not safe:
        return frozenset()
    kept: set[int] = set()
    for element in ds:
        tag = int(element.tag)
        if not is_private(tag) or is_private_creator(tag) or tag & 0xFFFF < 0x0010:
            continue
        creator = ds.get(private_creator_tag(tag))
        name = str(creator.value).upper() if creator is not None else ""
        if (tag >> 16, name, private_offset(tag)) in safe:
            kept.add(tag)
    return frozenset(kept)


def _values(element: DataElement) -> list[str]:
    value = element.value
    if value is None or value == "":
        return []
    if element.VR == "UN" and isinstance(value, bytes):
        text = value.decode("latin-1").strip("\x00 ")
        return [text] if text.isprintable() else []
    if isinstance(value, bytes):
        return []
    items = value if element.VM > 1 and not isinstance(value, str) else [value]
    return [str(item).strip() for item in items if str(item).strip()]


def _needles_of(
    element: DataElement,
    names: list[str],
    profile: Profile | None,
    safe: frozenset[int],
) -> Iterator[Needle]:
    tag, vr = int(element.tag), str(element.VR)
    category = element.keyword or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    if vr == "SQ" or (tag & 0xFFFF) == 0 or is_private_creator(tag) or tag in _SOFTWARE:
        return
    if tag in CODE_TAGS:
        return
    values = _values(element)
    if not values:
        return
    kept = profile is not None and tag in profile.keep
    scrubbed = profile is not None and tag in profile.scrub
    if vr == "UI":
        for value in values:
            if not value.startswith(_STANDARD_UID):
                yield Needle(category, value, "uid")
        return
    if vr in ("DA", "DT"):
        if kept and profile is not None and profile.date_mode != "shift":
            return  # kept as they were, on purpose
        for value in values:
            if len(value) >= 8 and value[:8].isdigit():
                yield Needle(category, value[:8], "date")
        return
    if vr == "PN":
        if not kept:
            for value in values:
                yield Needle(category, value, "person")
        return
    if is_private(tag):
        if tag not in safe and vr in (*_TEXT_VRS, "UN"):
            for value in values:
                yield Needle(category, value, _kind_of(tag, value))
        return
    if vr not in _TEXT_VRS:
        return
    rule = lookup(tag)
    code = rule.basic if rule is not None else "K"
    whole = not kept and code not in _KEPT_ACTIONS | _CLEANED_ACTIONS
    for value in values:
        if whole:
            yield Needle(category, value, _kind_of(tag, value))
        if vr in _FREE_TEXT_VRS and not (kept and not scrubbed and code in _KEPT_ACTIONS):
            for kind, text in find_identifiers(value, names=names):
                yield Needle(category, text, _FIND_KINDS.get(kind, "text"))


_FIND_KINDS = {
    "personal number": "personnummer",
    "identifier": "identifier",
    "e-mail": "email",
    "phone": "phone",
    "date": "date",
    "address": "phrase",
    "name": "person",
}


def _kind_of(tag: int, value: str) -> str:
    if _PERSONAL_NUMBER.match(value):
        return "personnummer"
    if tag in _PHONE_TAGS:
        return "phone"
    if "@" in value and " " not in value:
        return "email"
    if tag in _PHRASE_TAGS:
        return "phrase"
    if any(char.isdigit() for char in value):
        return "identifier"
    return "text"
