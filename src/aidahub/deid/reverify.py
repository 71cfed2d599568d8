"""``aidahub deid reverify OUT``: today's rules over output made in the past.

GDPR Article 32 asks for "a process for regularly testing, assessing and evaluating the
effectiveness" of the measures; the policy's Appendix 3 adds that rules are tweaked as new
kinds of identifying information turn up. A rule added today protects tomorrow's exports,
not those already shared. This re-checks de-identified output with the engine's current
rules and reports what they would now catch, file by file, so the data director can decide
whether to withdraw or redo it:

``would-exclude``
    :func:`aidahub.deid.pixels.exclusion_reason` would now exclude the object.
``would-remove`` / ``would-empty`` / ``would-change``
    The engine, run again on the file with today's profile and house rules, removes an
    element, empties it, or writes another value (a dummy, scrubbed text). Values the engine
    derives from the key (pseudonyms, remapped UIDs, shifted dates) are not compared, as
    the check runs with a throwaway key; nor are the elements it writes itself (Patient
    Identity Removed, De-identification Method, ...).
``free-text``
    Today's free-text detectors (:func:`aidahub.deid.text.find_identifiers`) find something
    that looks like a personal number, identity, e-mail address, phone number, date or
    street address in a remaining text value.

Findings never quote the values they are about: they name the file, the element and the
kind of thing found.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from aidahub.deid.engine import IDENTIFIERS, deidentify
from aidahub.deid.keys import key_from_secret
from aidahub.deid.profile import Profile
from aidahub.deid.text import find_identifiers
from aidahub.deid.verify import CODE_TAGS

__all__ = ["ReverifyFinding", "ReverifyResult", "reverify", "reverify_dataset"]

# What the engine writes into every output (PS3.15 E.1.1 and the Patient Identification
# module's de-identification attributes), and a Type 2C element it may add empty.
_WRITTEN = frozenset({0x00120062, 0x00120063, 0x00120064, 0x00280303, 0x00200060, 0x00080005})
_THROWAWAY = key_from_secret(b"reverify: compares which elements survive, never values")
_TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC"})
_DERIVED_VRS = frozenset({"UI", "DA", "DT", "TM", "SQ", "AS"})
# Exclusion reasons that the absence of an element gives (see _removed_evidence).
_ABSENCE_REASONS = {"unknown-source": 0x00080070, "burned-in-unknown": 0x00280301}

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ReverifyFinding:
    """One thing today's rules would catch in a file made earlier."""

    file: str
    code: str
    element: str
    detail: str

    def __str__(self) -> str:
        return f"{self.file}: {self.code} {self.element}: {self.detail}"


@dataclass
class ReverifyResult:
    """What :func:`reverify` checked and found."""

    files: int = 0
    not_dicom: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    findings: list[ReverifyFinding] = field(default_factory=list)

    @property
    def files_with_findings(self) -> int:
        """How many files have at least one finding."""
        return len({finding.file for finding in self.findings})


def reverify(
    output_dir: Path, profile: Profile, *, on_file: Progress | None = None
) -> ReverifyResult:
    """Check every DICOM file under *output_dir* with today's rules for *profile*.

    Files that are not DICOM (the reports) are counted and skipped; a file that cannot be
    read is listed with the reason, and the rest goes on.
    """
    result = ReverifyResult()
    paths = sorted(
        Path(folder) / name for folder, _, names in os.walk(output_dir) for name in names
    )
    for done, path in enumerate(paths, 1):
        relative = path.relative_to(output_dir).as_posix()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = dcmread(path)
                found = reverify_dataset(ds, profile)
        except InvalidDicomError:
            result.not_dicom += 1
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the check
            result.unreadable.append((relative, f"{type(exc).__name__}"))
        else:
            result.files += 1
            result.findings.extend(
                ReverifyFinding(relative, code, element, detail) for code, element, detail in found
            )
        if on_file is not None:
            on_file("re-checking output", done, len(paths))
    return result


def reverify_dataset(ds: Dataset, profile: Profile) -> list[tuple[str, str, str]]:
    """Today's findings for one de-identified dataset: (code, element, detail) triples.

    The engine itself runs again on the dataset (with a throwaway key: only which elements
    survive, and whether they keep a value, is compared), so what it would now remove, empty
    or exclude is exactly what today's rules do, Type 1 conformance included.
    """
    found: list[tuple[str, str, str]] = []
    result = deidentify(_with_stand_ins(ds), profile, _THROWAWAY)
    if result.dataset is None:
        reason = result.excluded or "excluded"
        if not _removed_evidence(reason, profile):
            found.append(("would-exclude", "pixels/header", reason))
        again: Dataset | None = None
    else:
        again = result.dataset
    if again is not None:
        found.extend(_compare(ds, again))
    for element, _ in _elements(ds):
        tag = int(element.tag)
        if element.VR not in _TEXT_VRS or tag in CODE_TAGS or tag in _WRITTEN:
            continue
        name = element.keyword or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        for value in _texts(element):
            kinds = sorted({kind for kind, _ in find_identifiers(value)})
            if kinds:
                found.append(("free-text", name, "looks like " + ", ".join(kinds)))
    return found


def _compare(before: Dataset, after: Dataset) -> Iterator[tuple[str, str, str]]:
    """Elements of *before* that *after* no longer has, or has emptied, at every depth."""
    for element in before:
        tag = int(element.tag)
        if tag in _WRITTEN or tag >> 16 == 0x0002:
            continue
        name = element.keyword or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        kept = after.get(element.tag)
        if kept is None:
            yield "would-remove", name, "today's rules remove this element"
            continue
        if _filled(element) and not _filled(kept):
            yield "would-empty", name, "today's rules empty this element"
            continue
        changed = _filled(element) and _filled(kept) and element.value != kept.value
        if changed and _compared(tag, element):
            yield "would-change", name, "today's rules replace or clean this value"
            continue
        if element.VR == "SQ" and kept.VR == "SQ":
            for old, new in zip(element.value or [], kept.value or [], strict=False):
                yield from _compare(old, new)


def _with_stand_ins(ds: Dataset) -> Dataset:
    """*ds* with stand-ins for what de-identification took away and the engine requires.

    The engine excludes an image without a Manufacturer, or of an ultrasound-like modality
    without Burned In Annotation (checks made on the input, and met by it, before the
    profile removed those elements); with stand-ins the run goes on to the element rules.
    """
    # A new mapping of the same elements: the stand-ins replace elements, never change them.
    copy = Dataset({tag: ds.get_item(tag) for tag in ds.keys()})  # noqa: SIM118 - elements
    copy.file_meta = ds.file_meta
    copy.set_original_encoding(*ds.original_encoding)
    if not str(ds.get("Manufacturer", "") or ""):
        if "Manufacturer" in copy:
            del copy.Manufacturer
        copy.Manufacturer = "REMOVED"
    if "BurnedInAnnotation" not in copy:
        copy.BurnedInAnnotation = "NO"
    return copy


def _compared(tag: int, element: DataElement) -> bool:
    """Whether a changed value means a rule changed: not a value derived from the key.

    Pseudonyms, remapped UIDs and shifted dates come out differently under the throwaway
    key by design; everything else (dummy values, scrubbed text) comes out the same unless
    a rule changed.
    """
    return tag not in IDENTIFIERS and element.VR not in _DERIVED_VRS


def _filled(element: DataElement) -> bool:
    return element.value not in (None, "", b"") and not (
        element.VR == "SQ" and len(element.value) == 0
    )


def _removed_evidence(reason: str, profile: Profile) -> bool:
    """Whether *reason* rests only on an element being absent or empty.

    A de-identified file lacks what its profile removed (Manufacturer, Burned In
    Annotation), which says nothing about the file: the engine checked those on the input.
    """
    del profile
    return reason.partition(":")[0] in _ABSENCE_REASONS


def _elements(ds: Dataset, nested: bool = False) -> Iterator[tuple[DataElement, bool]]:
    for element in ds:
        yield element, nested
        if element.VR == "SQ" and element.value:
            for item in element.value:
                yield from _elements(item, True)


def _texts(element: DataElement) -> list[str]:
    value = element.value
    items = value if isinstance(value, list) or element.VM > 1 else [value]
    return [str(item) for item in items if item]
