"""The de-identification engine: one dataset in, one de-identified dataset out, no I/O.

:func:`deidentify` applies a :class:`~aidahub.deid.profile.Profile` (one of the policy's
levels of associated information, Appendix 3) and DICOM PS3.15 Annex E to every element of
a dataset, at any depth: inside sequences, SR content items, icon images, Original
Attributes, overlay (60xx) and curve (50xx) groups, private blocks and the file meta
information. For each element, in this order:

1. Group lengths, command elements and elements the data dictionary does not know are
   removed; the file meta information (group 0002) is rebuilt.
2. Private elements are removed unless a house rule of the device's manufacturer lists
   the creator and element offset as safe (PS3.15 E.3.10, Retain Safe Private Option).
3. Identifiers are replaced by keyed pseudonyms: PatientName and PatientID by the
   patient's pseudonym, AccessionNumber, StudyID, request and examination numbers by
   theirs (policy, Appendix 3: "Indirectly identifying information such as request- and
   examination numbers was also removed or replaced").
4. Every UID (VR UI) that survives, except SOP Class and Transfer Syntax UIDs, is
   remapped with the key, references and MediaStorageSOPInstanceUID included, so the
   hierarchy and references still resolve (PS3.15 action ``U``).
5. Elements the profile keeps are copied as they are (raw bytes, never decoded), except:
   DA and DT values are shifted by the patient's date plan (whole days, so TM values stay
   as written) or removed for profiles without dates; with ``remove_times`` times are
   blanked, date-times cut to the date and series, instance and acquisition numbers
   emptied (policy, breast lymph node example: "Time stamps were removed and the order of
   examinations was randomized"); free text the profile scrubs loses names, personal
   numbers, phones, e-mail, addresses and dates (:mod:`aidahub.deid.text`) and this
   file's own institution, station, addresses and identifiers wherever they appear; and
   age is recoded into bands when the profile asks (:func:`age_band`).
6. Everything else gets its Annex E Basic Profile action (:mod:`aidahub.deid.rules`):
   removed, emptied, or replaced by a dummy value where the file needs one.

Pixel data and other bulk data are copied as the same bytes. Objects whose pixels may
show identifying text are not de-identified at all: :func:`aidahub.deid.pixels.exclusion_reason`
excludes them first (policy, Appendix 3, "Images: remove scanned images, images with
unknown source, or images with low intensity variance").

The output says what was done (PS3.15 E.1.1 and PS3.3 C.12.1.1.7): Patient Identity
Removed ``YES``, De-identification Method naming the profile and the key's ID (never the
key), De-identification Method Code Sequence with the CID 7050 codes of the options used,
and Longitudinal Temporal Information Modified ``MODIFIED`` or ``REMOVED``.
"""

from __future__ import annotations

import copy
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from types import MappingProxyType
from typing import Any

from pydicom.datadict import dictionary_has_tag, dictionary_VM, dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from aidahub.deid.dates import (
    DatePlan,
    blank_tm,
    parse_da,
    plan_for,
    shift_da,
    shift_dt,
)
from aidahub.deid.keys import Key
from aidahub.deid.pixels import exclusion_reason
from aidahub.deid.profile import Profile, SafePrivate
from aidahub.deid.pseudonyms import patient_identity, pseudonym
from aidahub.deid.rules import (
    Action,
    IodContext,
    basic_action,
    iod_context,
    is_private,
    is_private_creator,
    lookup,
    private_creator_tag,
    private_offset,
)
from aidahub.deid.text import PLACEHOLDERS, names_from_values, scrub_text
from aidahub.deid.uids import remap_uid, remap_uid_value

__all__ = [
    "AGE_BAND_YEARS",
    "AGE_TOP_CODE",
    "IDENTIFIERS",
    "IMPLEMENTATION_VERSION_NAME",
    "DamagedElementError",
    "EngineResult",
    "InstanceCleaner",
    "age_band",
    "deidentify",
    "deidentify_instance",
    "method_codes",
]

IDENTIFIERS: Mapping[int, str] = MappingProxyType(
    {
        0x00100010: "patient",  # Patient's Name
        0x00100020: "patient",  # Patient ID
        0x00080050: "accession",  # Accession Number
        0x00200010: "study-id",  # Study ID
        0x00401001: "request",  # Requested Procedure ID
        0x00402016: "request",  # Placer Order Number / Imaging Service Request
        0x00402017: "request",  # Filler Order Number / Imaging Service Request
        0x00400253: "examination",  # Performed Procedure Step ID
        0x00400009: "examination",  # Scheduled Procedure Step ID
    }
)
"""Identifiers replaced by keyed pseudonyms (:func:`aidahub.deid.pseudonyms.pseudonym`),
wherever they survive, with the pseudonym kind. Patient name and ID both become the
pseudonym of the patient's identity."""

AGE_BAND_YEARS = 5
"""Width of the age bands a profile with ``recode_age`` writes."""

AGE_TOP_CODE = 90
"""Ages from this on are written as this band (90 and over): few people are that old, so
exact high ages single people out."""

IMPLEMENTATION_VERSION_NAME = "AIDAHUB_DEID"
"""File meta Implementation Version Name of the output (PS3.10 7.1, at most 16 chars)."""

# UIDs that name a class or an encoding in the standard (or a vendor's private SOP class),
# not an instance: kept as written.
_LITERAL_UIDS = frozenset(
    {
        0x00080016,  # SOP Class UID
        0x00081150,  # Referenced SOP Class UID
        0x00041510,  # Referenced SOP Class UID in File
        0x00041512,  # Referenced Transfer Syntax UID in File
        0x0008001A,  # Related General SOP Class UID
        0x0008001B,  # Original Specialized SOP Class UID
        0x00020002,  # Media Storage SOP Class UID
        0x00020010,  # Transfer Syntax UID
    }
)
# Counters that can order a patient's examinations when a scanner numbers globally; emptied
# with remove_times (policy, breast lymph node example: "the order of examinations was
# randomized").
_COUNTERS = frozenset({0x00200011, 0x00200013, 0x00200012})  # series, instance, acquisition
_INSTANCE_NUMBER = 0x00200013
_META_ACTIONS = {
    0x00020001: Action.KEEP,  # File Meta Information Version
    0x00020002: Action.KEEP,  # Media Storage SOP Class UID
    0x00020003: Action.REMAP,  # Media Storage SOP Instance UID (Table E.1-1: U)
    0x00020010: Action.KEEP,  # Transfer Syntax UID
}
_PATIENT_AGE = 0x00101010
_PATIENT_NAME = 0x00100010
_PATIENT_BIRTH_DATE = 0x00100030
_SPECIFIC_CHARACTER_SET = 0x00080005
_STUDY_DATE = 0x00080020
_TEXT_VRS = frozenset({"SH", "LO", "ST", "LT", "UT", "UC", "PN"})
_DATE_VRS = frozenset({"DA", "DT", "TM"})
_MAX_LENGTH = {"SH": 16, "LO": 64, "ST": 1024, "LT": 10240, "PN": 64}
_DUMMY: Mapping[str, Any] = MappingProxyType(
    {
        "DA": "19000101",
        "DT": "19000101000000",
        "TM": "000000",
        "AS": "000Y",
        "PN": "ANONYMOUS",
        "IS": "0",
        "DS": "0",
        "US": 0,
        "SS": 0,
        "UL": 0,
        "SL": 0,
        "UV": 0,
        "SV": 0,
        "FL": 0.0,
        "FD": 0.0,
        "AT": 0,
    }
)
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_STRING_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI"}
    | {"UR", "UT"}
)
_NUMBER_SIZE = {"US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "FD": 8, "UV": 8, "SV": 8, "AT": 4}
# Control characters no string VR allows (PS3.5 6.1.2.3 and 6.2): all but TAB, LF, FF,
# CR (text VRs) and ESC (code extensions); NUL only as trailing padding.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_UID_TEXT = re.compile(r"[0-9.]*(?:\\[0-9.]*)*")
_NUMERIC_VRS = frozenset({"US", "SS", "UL", "SL", "UV", "SV", "FL", "FD", "AT"})
_REPEATED_PLACEHOLDER = re.compile(r"(\[[a-z -]+ removed\])(?:[\s,;]*\1)+")
_AGE = re.compile(r"^\s*(\d{1,3})\s*([DWMY])\s*$")
_AGE_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12, "Y": 365.25}

# CID 7050 De-identification Method (PS3.16), scheme DCM.
_CODE_BASIC = ("113100", "Basic Application Confidentiality Profile")
_CODE_CLEAN_STRUCTURED = ("113104", "Clean Structured Content Option")
_CODE_CLEAN_DESCRIPTORS = ("113105", "Clean Descriptors Option")
_CODE_MODIFIED_DATES = ("113107", "Retain Longitudinal Temporal Information Modified Dates Option")
_CODE_PATIENT_CHARACTERISTICS = ("113108", "Retain Patient Characteristics Option")
_CODE_DEVICE_IDENTITY = ("113109", "Retain Device Identity Option")
_CODE_SAFE_PRIVATE = ("113111", "Retain Safe Private Option")
_CODE_INSTITUTION_IDENTITY = ("113112", "Retain Institution Identity Option")
_TEXT_VALUE = 0x0040A160
_CONTENT_SEQUENCE = 0x0040A730
_MODALITY = 0x00080060
_SOP_CLASS_UID = 0x00080016
_ACQUISITION_DATETIME = 0x0008002A
_REFERENCED_STUDY_SEQUENCE = 0x00081110
# Elements the Basic Profile removes (X, or not listed) that are Type 1 where they occur,
# so removing them breaks the IOD; a dummy value carries nothing (PS3.15 Table E.1-1,
# action D: a non-zero length value that may be a dummy). Presentation Creation Date and
# Time: Type 1 in the Presentation State Identification module (PS3.3 C.11.10).
_TYPE1_REMOVED = frozenset({0x00700082, 0x00700083})
# Body Part Examined is not in Table E.1-1 and is Type 2 in the CR Series module (PS3.3
# C.8.1.1), so a CR image gets it empty rather than removed (as
# aidahub.deid.rules.TYPE2_OUTSIDE_ANNEX_E does for Type 2 elements of every IOD).
_BODY_PART_EXAMINED = 0x00180015
_CR_IMAGE_CLASS = "1.2.840.10008.5.1.4.1.1.1"  # Computed Radiography Image Storage
_LATERALITY = 0x00200060
# US Image module (PS3.3 C.8.5.6): Acquisition DateTime is Type 1C, required only for
# IVUS, so the empty value X/Z/D resolves to (rules.COMBINED) is invalid there.
_US_IMAGE_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image Storage
        "1.2.840.10008.5.1.4.1.1.3.1",  # Ultrasound Multi-frame Image Storage
        "1.2.840.10008.5.1.4.1.1.6",  # Ultrasound Image Storage (Retired)
        "1.2.840.10008.5.1.4.1.1.3",  # Ultrasound Multi-frame Image Storage (Retired)
    }
)
# SR items that describe the patient, not the findings (PS3.16 TID 1007 Subject Context,
# Patient, and the birth-date concepts of LOINC and SNOMED CT). They are dropped whole at
# every level: a birth date shifted by the patient's offset still gives the exact age.
_SUBJECT_CONTEXT_CODES = frozenset(
    {
        ("121028", "DCM"),  # Subject UID
        ("121029", "DCM"),  # Subject Name
        ("121030", "DCM"),  # Subject ID
        ("121031", "DCM"),  # Subject Birth Date
        ("121032", "DCM"),  # Subject Sex
        ("121033", "DCM"),  # Subject Age
        ("21112-8", "LN"),  # Birth date
        ("184099003", "SCT"),  # Date of birth
    }
)


class DamagedElementError(ValueError):
    """An element the engine would write holds what no value of its VR can: the file's
    structure is broken (a wrong length or VR), so it must be quarantined, not written."""


@dataclass
class EngineResult:
    """The outcome of :func:`deidentify` for one dataset.

    Attributes
    ----------
    dataset
        The de-identified dataset, with file meta information; None when excluded.
    excluded
        Why the object must not leave (:func:`aidahub.deid.pixels.exclusion_reason`), or
        None.
    actions
        How many elements got each PS3.15 action: ``K`` kept, ``X`` removed, ``Z``
        emptied, ``D`` replaced (dummy values and pseudonyms), ``U`` UIDs remapped, ``C``
        cleaned (dates shifted, text scrubbed, age recoded).
    """

    dataset: Dataset | None
    excluded: str | None = None
    actions: dict[str, int] = field(default_factory=dict)


def age_band(value: str) -> str:
    """Recode an Age String into its 5-year band, top-coded at 90.

    Policy (Informational protective measures, "Recoding variable values"): "represent age
    not with birth date but as 'number of years' or give as ranges". The band is written
    as its lower bound in the AS format so the element stays valid: ``052Y`` (50-54)
    becomes ``050Y``, ``093Y`` becomes ``090Y`` (90 and over), ages under a year
    (``010D``, ``003W``, ``011M``) become ``000Y``.

    Parameters
    ----------
    value
        A DICOM AS value (``nnnD``, ``nnnW``, ``nnnM`` or ``nnnY``).

    Returns
    -------
    str
        The band's lower bound as ``nnnY``, or ``""`` when *value* is not an age.
    """
    match = _AGE.match(value or "")
    if match is None:
        return ""
    years = int(int(match.group(1)) * _AGE_DAYS[match.group(2)] // 365.25)
    return _band(years)


def _band(years: int) -> str:
    lower = min(max(years, 0) // AGE_BAND_YEARS * AGE_BAND_YEARS, AGE_TOP_CODE)
    return f"{lower:03d}Y"


def _age_from_dates(birth: str, on: str) -> str:
    born, day = parse_da(birth), parse_da(on)
    if born is None or day is None or day < born:
        return ""
    years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return _band(years)


def method_codes(profile: Profile, *, safe_private_kept: bool = False) -> list[tuple[str, str]]:
    """Return the CID 7050 codes ``(value, meaning)`` of the options a profile uses.

    An option counts as used when the profile keeps an element that PS3.15 Table E.1-1
    removes in the Basic Profile but the option column keeps or cleans: for example
    Clean Descriptors (113105) when StudyDescription is kept scrubbed, Retain Patient
    Characteristics (113108) when PatientSex is kept. Retain Longitudinal Temporal
    Information Modified Dates (113107) is used when the profile shifts dates, and Retain
    Safe Private (113111) when a house rule kept a private element.

    Parameters
    ----------
    profile
        The profile applied.
    safe_private_kept
        A safe private element was kept in this dataset.
    """
    columns: set[str] = set()
    for tag in profile.keep:
        rule = lookup(tag)
        if rule is None or rule.basic == "K":
            continue
        columns.update(col for col, code in rule.options.items() if code in {"K", "C"})
    codes = [_CODE_BASIC]
    if _TEXT_VALUE in profile.scrub:
        codes.append(_CODE_CLEAN_STRUCTURED)
    if "cleanDescOpt" in columns:
        codes.append(_CODE_CLEAN_DESCRIPTORS)
    if profile.date_mode == "shift":
        codes.append(_CODE_MODIFIED_DATES)
    if "rtnPatCharsOpt" in columns:
        codes.append(_CODE_PATIENT_CHARACTERISTICS)
    if "rtnDevIdOpt" in columns:
        codes.append(_CODE_DEVICE_IDENTITY)
    if safe_private_kept:
        codes.append(_CODE_SAFE_PRIVATE)
    if "rtnInstIdOpt" in columns:
        codes.append(_CODE_INSTITUTION_IDENTITY)
    return codes


def _vr_of(tag: int, elem: DataElement | RawDataElement) -> str:
    return _resolved_vr(tag, elem.VR)


@functools.lru_cache(maxsize=8192)
def _resolved_vr(tag: int, vr: str | None) -> str:
    """The VR the engine treats an element as, from its tag and the VR in the file."""
    if not is_private(tag) and dictionary_has_tag(BaseTag(tag)):
        # The dictionary decides what a standard element is: a file that calls a UID "CS"
        # or a description "UI" would otherwise have it kept unmapped or unscrubbed.
        known = dictionary_VR(BaseTag(tag))
        if vr is None or vr == "UN" or vr not in known.split(" or "):
            vr = known
    if not vr:
        return "UN"
    return str(vr).split(" or ")[0]


def _check_intact(
    tag: int, elem: DataElement | RawDataElement, vr: str, *, literal: bool = False
) -> None:
    """Raise :class:`DamagedElementError` if a value the engine writes cannot be its VR's.

    A wrong length or VR in the file makes the parser read the following elements as this
    one's value: the patient's name ends up inside Image Type, a description or Rows. Such
    a value holds the binary tag and length bytes it swallowed (control characters no
    string VR allows, PS3.5 6.1.2.3), or more numbers than the element has (PS3.6 VM).
    A *literal* UID, copied as it is (SOP Class, Transfer Syntax), must be a UID.
    """
    value = elem.value
    if elem.VR == "SQ" and vr != "SQ":
        damaged = True  # items where a value belongs can hide any element
    elif elem.VR in _NUMERIC_VRS and vr in _STRING_VRS:
        damaged = True  # the file wrote text as numbers: its structure is not to be trusted
    elif vr in _STRING_VRS:
        text = value.decode("latin-1") if isinstance(value, bytes) else _text(value)
        damaged = _CONTROL_CHARS.search(text.rstrip(" \x00")) is not None
        if literal and not _UID_TEXT.fullmatch(text.rstrip(" \x00")):
            damaged = True  # written as it is: only digits and dots may pass (PS3.5 9.1)
        if vr == "UI" and "\\" in text and dictionary_has_tag(BaseTag(tag)):
            # A UID that must be single (Study, Series, SOP Instance) read as several.
            damaged = damaged or dictionary_VM(BaseTag(tag)) == "1"
    elif vr in _NUMBER_SIZE and value is not None:
        size = _NUMBER_SIZE[vr]
        if isinstance(value, bytes):
            damaged = len(value) % size != 0
            count = len(value) // size
        else:
            damaged = False
            count = len(value) if isinstance(value, MultiValue | list | tuple) else 1
        vm = dictionary_VM(BaseTag(tag)) if dictionary_has_tag(BaseTag(tag)) else ""
        damaged = damaged or (vm.isdigit() and count > int(vm))
    else:
        return
    if damaged:
        raise DamagedElementError(
            f"{_tag_text(tag)} holds a value no {vr} element can: the file is damaged"
        )


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, MultiValue | list | tuple):
        return "\\".join(str(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def _ascii(ds: Dataset, tag: int) -> str:
    """Return the value of a DA, DT, TM, UI, AS or other ASCII element without converting it.

    Raw bytes are decoded directly: pydicom's conversion would validate (and warn about)
    legacy values that are only going to be shifted or replaced anyway.
    """
    elem = ds.get_item(BaseTag(tag)) if tag in ds else None
    if elem is None:
        return ""
    value = elem.value
    if isinstance(value, bytes):
        return value.decode("latin-1").strip(" \x00")
    return _text(value).strip(" \x00")


def _empty(vr: str) -> str | None:
    """The zero-length value of a VR as pydicom reads it back: text VRs give ``""``."""
    return None if vr in _BINARY_VRS or vr in _NUMERIC_VRS else ""


def _fit(text: str, vr: str) -> str:
    """Cut *text* to the VR's maximum length (PS3.5 6.2)."""
    limit = _MAX_LENGTH.get(vr)
    return text if limit is None else text[:limit]


def _fit_scrubbed(text: str, vr: str) -> str:
    """Fit scrubbed text to its VR, first merging repeated placeholders.

    "[name removed] [name removed]" says no more than one placeholder does, and merging
    keeps the clinical words of a long description within the VR's length.
    """
    limit = _MAX_LENGTH.get(vr)
    if limit is not None and len(text) > limit:
        text = _REPEATED_PLACEHOLDER.sub(r"\1", text)
    return _fit(text, vr)


_PLACE_SOURCES = frozenset(
    {
        0x00080080,  # Institution Name
        0x00080081,  # Institution Address
        0x00081040,  # Institutional Department Name
        0x00081010,  # Station Name
        0x00080092,  # Referring Physician's Address
        0x00101040,  # Patient's Address
        0x00102152,  # Region of Residence
        0x00380300,  # Current Patient Location
        0x00380400,  # Patient's Institution Residence
        0x00400010,  # Scheduled Station Name
        0x00400011,  # Scheduled Procedure Step Location
        0x00400241,  # Performed Station AE Title
        0x00400242,  # Performed Station Name
        0x00400243,  # Performed Location
        0x0040A027,  # Verifying Organization
        0x00321033,  # Requesting Service
        0x00101050,  # Insurance Plan Identification
    }
)
_ID_SOURCES = frozenset(
    {
        *(t for t in IDENTIFIERS if t != 0x00100010),
        0x00101000,  # Other Patient IDs
        0x00100021,  # Issuer of Patient ID
        0x00380010,  # Admission ID
        0x00181000,  # Device Serial Number
        0x00101090,  # Medical Record Locator
        0x00120040,  # Clinical Trial Subject ID
        0x00400512,  # Container Identifier
        0x00400551,  # Specimen Identifier
        0x00102154,  # Patient's Telephone Numbers
        0x00080094,  # Referring Physician's Telephone Numbers
        0x00020016,  # Source Application Entity Title
        0x00020017,  # Sending Application Entity Title
        0x00020018,  # Receiving Application Entity Title
    }
)
_WORD = re.compile(r"[^\W\d_]{4,}")
_POSTAL_CODE = re.compile(r"(?<!\d)\d{3}\s?\d{2}(?!\d)")
_DIGIT_RUN = re.compile(r"\d{6,}")


def _loose(text: str) -> str:
    """A regular expression for *text* that also matches it without diacritics."""
    parts = []
    for char in text:
        folded = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        if char.isspace():
            parts.append(r"\s+")
        elif folded and folded != char:
            parts.append(f"(?:{re.escape(char)}|{re.escape(folded)})")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


class _Phrases:
    """Places and identifiers of one dataset, removed from the free text a profile keeps.

    The text scrubber (:mod:`aidahub.deid.text`) finds names, personal numbers, phones,
    e-mail and addresses by their form; the institution, station, addresses and the
    identifiers of this very file are known exactly, so they are removed wherever they
    appear: whole, and for places also their distinctive words and postal codes
    (policy, Appendix 3: "remove number, names and initials").
    """

    def __init__(self, elements: Iterable[DataElement]) -> None:
        places: set[str] = set()
        identifiers: set[str] = set()
        for element in elements:
            tag = int(element.tag)
            if tag in _PLACE_SOURCES:
                for value in _values(element.value):
                    places.update(_place_patterns(value))
            elif tag in _ID_SOURCES:
                for value in _values(element.value):
                    identifiers.update(_id_patterns(value))
        # Patterns are compiled once per set of values (a series repeats its header).
        self.patterns = [
            (_compile(frozenset(places)), PLACEHOLDERS["address"]),
            (_compile(frozenset(identifiers)), PLACEHOLDERS["identifier"]),
        ]

    def scrub(self, text: str) -> str:
        """Return *text* with every place and identifier of the dataset replaced."""
        for pattern, placeholder in self.patterns:
            if pattern is not None:
                text = pattern.sub(placeholder, text)
        return text


def _select(ds: Dataset, wanted: Callable[[int, str], bool]) -> list[DataElement]:
    """Return the elements *wanted* picks, at any depth, converting no others.

    ``Dataset.iterall`` would decode every element (pixel data included) only to look at
    a handful; this walks the tags and descends into sequences instead.
    """
    found: list[DataElement] = []
    for tag in [int(t) for t in ds.keys()]:  # noqa: SIM118 - tags only, no decoding
        raw = ds.get_item(BaseTag(tag))
        if raw is None:
            continue
        vr = _vr_of(tag, raw)
        try:
            if wanted(tag, vr):
                found.append(ds[tag])
            elif vr == "SQ" and not is_private(tag):
                for item in ds[tag].value or []:
                    found += _select(item, wanted)
        except Exception:  # noqa: BLE001, S112 - what cannot be read is not kept either
            continue
    return found


def _harvest(ds: Dataset) -> tuple[tuple[str, ...], _Phrases]:
    """Return the person names (:func:`aidahub.deid.text.names_in`) and the places and
    identifiers of *ds* and its file meta, decoding only the elements that hold them."""
    found = _select(ds, lambda tag, vr: vr == "PN" or tag in _PLACE_SOURCES or tag in _ID_SOURCES)
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        found += [e for e in meta.iterall() if int(e.tag) in _ID_SOURCES]
    values = [
        str(value)
        for element in found
        if element.VR == "PN" and element.value is not None
        for value in (element.value if element.VM > 1 else [element.value])
    ]
    return names_from_values(tuple(values)), _Phrases(found)


def _values(value: object) -> list[str]:
    if value is None or isinstance(value, bytes | Sequence):
        return []
    if isinstance(value, MultiValue | list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    return [text] if text else []


@functools.lru_cache(maxsize=1024)
def _place_patterns(value: str) -> frozenset[str]:
    patterns = {_loose(value)} if len(value) >= 4 else set()
    patterns.update(_loose(word) + "s?" for word in _WORD.findall(value))
    patterns.update(
        r"(?<!\d)" + code.group(0)[:3] + r"\s?" + code.group(0)[-2:] + r"(?!\d)"
        for code in _POSTAL_CODE.finditer(value)
    )
    return frozenset(patterns)


@functools.lru_cache(maxsize=1024)
def _id_patterns(value: str) -> frozenset[str]:
    patterns = {_loose(value)} if len(value) >= 4 else set()
    patterns.update(r"(?<!\d)" + run + r"(?!\d)" for run in _DIGIT_RUN.findall(value))
    return frozenset(patterns)


@functools.lru_cache(maxsize=256)
def _compile(patterns: frozenset[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    alternatives = sorted(patterns, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


class _Step(Enum):
    """How :meth:`_Run._standard` handles an element, as :meth:`_Run._decide` chose."""

    DROP = "drop"
    PSEUDONYM = "pseudonym"
    SEQUENCE = "sequence"
    UID = "uid"
    KEEP = "keep"
    APPLY = "apply"


_Decision = tuple[_Step, str, Action, bool]
"""The step, the element's VR, its action and whether the profile keeps it."""
_DecisionKey = tuple[int, str | None, bool]
# Decisions depend on the profile and on what the top-level dataset says (its IOD, device
# rules, whether it names the patient), never on other values: one table per combination,
# kept for the life of the process (a few hundred entries per kind of object).
_DECISIONS: dict[int, tuple[Profile, dict[tuple[Any, ...], dict[_DecisionKey, _Decision]]]] = {}


def _decisions_for(profile: Profile, situation: tuple[Any, ...]) -> dict[_DecisionKey, _Decision]:
    entry = _DECISIONS.get(id(profile))
    if entry is None or entry[0] is not profile:
        # Keyed by identity; the profile is held so its id cannot be reused meanwhile.
        entry = _DECISIONS[id(profile)] = (profile, {})
    return entry[1].setdefault(situation, {})


class _Run:
    """The state of one :func:`deidentify` call: what to keep and how to change values."""

    def __init__(self, ds: Dataset, profile: Profile, key: Key, date_plan: DatePlan | None) -> None:
        self.profile = profile
        self.key = key
        self.context: IodContext = iod_context(ds)
        self.identity = patient_identity(ds)
        self.counts: Counter[str] = Counter()
        self.shift = profile.date_mode == "shift"
        self.remove_times = profile.option("remove_times")
        self.recode_age = profile.option("recode_age")
        self.delta = self._delta(ds, date_plan) if self.shift else timedelta(0)
        rules = profile.house_rules_for(ds)
        self.removed = frozenset[int]().union(*(rule.remove for rule in rules))
        self.safe: dict[tuple[int, str, int], SafePrivate] = {
            (s.group, s.creator.upper(), s.offset): s for rule in rules for s in rule.safe_private
        }
        self.safe_private_kept = False
        self.named = _PATIENT_NAME in ds
        sop_class = _ascii(ds, _SOP_CLASS_UID)
        self.ultrasound = sop_class in _US_IMAGE_CLASSES
        self.ivus = self.ultrasound and _ascii(ds, _MODALITY).upper() == "IVUS"
        self.computed_radiography = sop_class == _CR_IMAGE_CLASS
        self._decisions = _decisions_for(
            profile,
            (self.context, self.removed, self.named, self.ultrasound, self.ivus,
             self.computed_radiography),
        )  # fmt: skip
        self._names: tuple[str, ...] | None = None
        self._phrases: _Phrases | None = None
        self._source = ds

    def _delta(self, ds: Dataset, plan: DatePlan | None) -> timedelta:
        study = parse_da(_ascii(ds, _STUDY_DATE))
        if plan is None:
            anchor: date | None = None
            if self.remove_times and study is not None:
                # Without the batch's per-patient anchor, collapse each year's studies.
                anchor = date(study.year, 1, 1)
            plan = plan_for(
                self.key,
                self.identity,
                anchor=anchor,
                scale_intervals=self.profile.option("scale_intervals"),
                remove_times=self.remove_times,
            )
        return plan.study_delta(study)

    @property
    def names(self) -> tuple[str, ...]:
        """The person names of the source, for the scrubber (computed when first needed)."""
        if self._names is None:
            self._names, self._phrases = _harvest(self._source)
        return self._names

    @property
    def phrases(self) -> _Phrases:
        """The source's places and identifiers, to remove from kept free text."""
        if self._phrases is None:
            self._names, self._phrases = _harvest(self._source)
        return self._phrases

    # -- datasets ----------------------------------------------------------------------

    def clean(self, src: Dataset) -> Dataset:
        """Return a new dataset with every element of *src* handled; *src* is unchanged."""
        out = Dataset()
        implicit, little = src.original_encoding
        out.set_original_encoding(implicit, little, src.original_character_set)
        creators = self._creators(src)
        top = src is self._source
        # Dataset iteration would decode every element; the tags alone do not.
        for tag in [int(t) for t in src.keys()]:  # noqa: SIM118
            if is_private(tag):
                self._private(src, out, tag, creators)
            else:
                self._standard(src, out, tag, top)
        return out

    def _creators(self, src: Dataset) -> dict[int, str]:
        creators: dict[int, str] = {}
        for tag in [int(t) for t in src.keys()]:  # noqa: SIM118 - tags only, no decoding
            if is_private_creator(tag):
                try:
                    creators[tag] = _text(src[tag].value).strip(" \x00")
                except Exception:  # noqa: BLE001, S112 - an unreadable creator reserves nothing
                    continue
        return creators

    def _count(self, action: Action) -> None:
        self.counts[action.value] += 1

    # -- private elements --------------------------------------------------------------

    def _private(self, src: Dataset, out: Dataset, tag: int, creators: dict[int, str]) -> None:
        if is_private_creator(tag) or tag & 0xFFFF < 0x0010 or not self.safe:
            self._count(Action.REMOVE)
            return
        creator_tag = private_creator_tag(tag)
        creator = creators.get(creator_tag, "").upper()
        rule = self.safe.get((tag >> 16, creator, private_offset(tag)))
        if rule is None:
            self._count(Action.REMOVE)
            return
        raw = src.get_item(BaseTag(tag))
        if raw is None:
            return
        _check_intact(tag, raw, rule.vr)
        if rule.vr in _DATE_VRS:
            value = self._date_value(rule.vr, _ascii(src, tag))
            if value is None:
                self._count(Action.REMOVE)
                return
            elem: DataElement | RawDataElement = DataElement(tag, rule.vr, value)
            self._count(Action.CLEAN)
        elif isinstance(raw, RawDataElement):
            elem = raw if raw.VR not in (None, "UN") else raw._replace(VR=rule.vr)
            self._count(Action.KEEP)
        else:
            elem = copy.deepcopy(raw)
            self._count(Action.KEEP)
        if creator_tag not in out:
            out[BaseTag(creator_tag)] = copy.deepcopy(src[creator_tag])
        out[BaseTag(tag)] = elem
        self.safe_private_kept = True

    # -- standard elements -------------------------------------------------------------

    def _standard(self, src: Dataset, out: Dataset, tag: int, top: bool) -> None:
        raw = src.get_item(BaseTag(tag))
        if raw is None:
            return
        key = (tag, raw.VR, top)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._decisions[key] = self._decide(tag, raw, top=key[2])
        step, vr, action, kept = decision
        if step is _Step.DROP:
            self._count(Action.REMOVE)
        elif step is _Step.PSEUDONYM:
            self._pseudonym(src, out, tag, vr, IDENTIFIERS[tag])
        elif step is _Step.SEQUENCE:
            self._sequence(src, out, tag, action)
        elif step is _Step.UID:
            self._uid(src, out, tag, raw, action, kept)
        elif step is _Step.KEEP:
            self._keep(src, out, tag, raw, vr)
        else:
            self._apply(src, out, tag, vr, action)

    def _decide(self, tag: int, raw: DataElement | RawDataElement, *, top: bool) -> _Decision:
        """What happens to a standard element: the same for every element with this tag and
        file VR at this depth, so a run decides it once (:attr:`_decisions`)."""
        group = tag >> 16
        if tag & 0xFFFF == 0 or group < 0x0008 or not dictionary_has_tag(BaseTag(tag)):
            return _Step.DROP, "", Action.REMOVE, False
        vr = _vr_of(tag, raw)
        if tag in IDENTIFIERS:
            return _Step.PSEUDONYM, vr, Action.DUMMY, False
        kept = tag in self.profile.keep and tag not in self.removed
        if kept and tag in self.profile.scrub and not self.named:
            # The scrubber finds the patient's name by the file's own Patient's Name (Type
            # 2, so always present): without it, a damaged or cut-short file would have
            # its free text kept with the name in it. The Basic Profile action instead.
            kept = False
            action = basic_action(tag, self.context)
        elif kept and self.remove_times and tag in _COUNTERS:
            kept = False
            action = self._counter_action(tag)
        elif kept and vr in _DATE_VRS and not self.shift:
            kept = False
            action = basic_action(tag, self.context)
        else:
            action = Action.KEEP if kept else basic_action(tag, self.context)
        if not kept:
            action = self._conformant(tag, action, top=top)
        if vr == "SQ":
            return _Step.SEQUENCE, vr, action, kept
        if vr == "UI":
            return _Step.UID, vr, action, kept
        return (_Step.KEEP if kept else _Step.APPLY), vr, action, kept

    def _conformant(self, tag: int, action: Action, *, top: bool) -> Action:
        """Adjust a Basic Profile action that would leave this IOD invalid.

        Table E.1-1 picks among a combined code's actions by what the IOD requires (Type
        1, 2 or 3); :mod:`aidahub.deid.rules` resolves them for all IODs at once, which is
        wrong for the cases below. Each gives no information the Basic Profile action
        would not: a dummy, an empty value, or less.
        """
        if action is Action.REMOVE and tag in _TYPE1_REMOVED:
            return Action.DUMMY
        if action is Action.REMOVE and tag == _BODY_PART_EXAMINED and self.computed_radiography:
            return Action.EMPTY
        if action is Action.EMPTY and tag == _ACQUISITION_DATETIME and self.ultrasound:
            return Action.DUMMY if self.ivus else Action.REMOVE
        if action is Action.EMPTY and tag == _REFERENCED_STUDY_SEQUENCE and top:
            # Type 3 in General Study (PS3.3 C.7.2.1), where a present sequence needs an
            # item; Type 2 (hence X/Z) only inside SR Referenced Request items (C.17.2).
            return Action.REMOVE
        return action

    def _counter_action(self, tag: int) -> Action:
        if tag == _INSTANCE_NUMBER and self.context.enhanced:
            return Action.DUMMY  # Type 1 in the Multi-frame Functional Groups module
        return basic_action(tag, self.context) if tag != _INSTANCE_NUMBER else Action.EMPTY

    def _pseudonym(self, src: Dataset, out: Dataset, tag: int, vr: str, kind: str) -> None:
        original = _ascii(src, tag)
        if kind == "patient":
            value = pseudonym(self.key, kind, self.identity)
        else:
            value = pseudonym(self.key, kind, original) if original else ""
        out[BaseTag(tag)] = DataElement(tag, vr, value)
        self._count(Action.DUMMY if value else Action.EMPTY)

    def _sequence(self, src: Dataset, out: Dataset, tag: int, action: Action) -> None:
        if action is Action.REMOVE:
            self._count(Action.REMOVE)
            return
        if action is Action.EMPTY:
            out[BaseTag(tag)] = DataElement(tag, "SQ", Sequence())
            self._count(Action.EMPTY)
            return
        try:
            value = src[tag].value
        except Exception:  # noqa: BLE001 - a sequence that cannot be parsed is removed
            self._count(Action.REMOVE)
            return
        if value is not None and not isinstance(value, Sequence):
            # The file gave a sequence attribute another VR: its value is whatever the
            # parser read there, not items to clean.
            raise DamagedElementError(f"{_tag_text(tag)} is not a sequence: the file is damaged")
        items = list(value or [])
        if tag == _CONTENT_SEQUENCE:
            kept = [i for i in items if not _describes_subject(i)]
            self.counts[Action.REMOVE.value] += len(items) - len(kept)
            items = kept
        cleaned = [self.clean(i) for i in items]
        if action is Action.DUMMY:
            # An item left with no attributes is invalid in every module (its Type 1
            # attributes are gone): Graphic Annotation Sequence (D) items lose their layer,
            # text and graphics, which no level keeps. Without items the sequence goes
            # too; the Graphic Annotation module is conditional (PS3.3 A.33).
            cleaned = [item for item in cleaned if len(item)]
            if items and not cleaned:
                self._count(Action.REMOVE)
                return
        self._count(Action.KEEP if action is Action.KEEP else Action.CLEAN)
        out[BaseTag(tag)] = DataElement(tag, "SQ", Sequence(cleaned))

    def _uid(
        self,
        src: Dataset,
        out: Dataset,
        tag: int,
        raw: DataElement | RawDataElement,
        action: Action,
        kept: bool,
    ) -> None:
        if kept or action not in (Action.REMOVE, Action.EMPTY):
            _check_intact(tag, raw, "UI", literal=kept and tag in _LITERAL_UIDS)
        if kept and tag in _LITERAL_UIDS:
            out[BaseTag(tag)] = raw if isinstance(raw, RawDataElement) else copy.deepcopy(raw)
            self._count(Action.KEEP)
            return
        if not kept and action in (Action.REMOVE, Action.EMPTY):
            if action is Action.EMPTY:
                out[BaseTag(tag)] = DataElement(tag, "UI", "")
            self._count(action)
            return
        value = remap_uid_value(self.key, _ascii(src, tag))
        out[BaseTag(tag)] = DataElement(tag, "UI", value.split("\\") if "\\" in value else value)
        self._count(Action.REMAP)

    def _keep(
        self, src: Dataset, out: Dataset, tag: int, raw: DataElement | RawDataElement, vr: str
    ) -> None:
        _check_intact(tag, raw, vr)
        if vr in _DATE_VRS and (vr != "TM" or self.remove_times):
            value = self._date_value(vr, _ascii(src, tag))
            self._set_text(out, tag, vr, value or "")
            self._count(Action.CLEAN)
            return
        if tag == _PATIENT_AGE and self.recode_age:
            self._set_text(out, tag, "AS", age_band(_ascii(src, tag)))
            self._count(Action.CLEAN)
            return
        if tag in self.profile.scrub and vr in _TEXT_VRS:
            self._scrub(src, out, tag, vr)
            return
        out[BaseTag(tag)] = raw if isinstance(raw, RawDataElement) else copy.deepcopy(raw)
        self._count(Action.KEEP)

    def _scrub(self, src: Dataset, out: Dataset, tag: int, vr: str) -> None:
        value = src[tag].value
        values = list(value) if isinstance(value, MultiValue | list) else [value]
        cleaned = [
            _fit_scrubbed(self.phrases.scrub(scrub_text(_text(v), self.names)), vr) for v in values
        ]
        if vr in {"ST", "LT", "UT"} or len(cleaned) == 1:
            out[BaseTag(tag)] = DataElement(tag, vr, cleaned[0] if cleaned else "")
        else:
            out[BaseTag(tag)] = DataElement(tag, vr, cleaned)
        self._count(Action.CLEAN)

    def _date_value(self, vr: str, value: str) -> str | None:
        """Return the shifted (or blanked) date or time, or None if dates are removed."""
        if not self.shift:
            return None
        if vr == "DA":
            return shift_da(value, self.delta)
        if vr == "DT":
            return shift_dt(value, self.delta, remove_time=self.remove_times)
        # Whole-day shifts leave the time of day as it was.
        return blank_tm(value) if self.remove_times else value.strip(" \x00")

    def _set_text(self, out: Dataset, tag: int, vr: str, value: str) -> None:
        values = value.split("\\")
        out[BaseTag(tag)] = DataElement(tag, vr, values if len(values) > 1 else value)

    def _apply(self, src: Dataset, out: Dataset, tag: int, vr: str, action: Action) -> None:
        if action in (Action.REMOVE, Action.KEEP, Action.CLEAN, Action.REMAP):
            # K, C and U are never Basic Profile codes of non-UID, non-sequence elements
            # that no profile keeps; removing is the safe reading.
            self._count(Action.REMOVE)
            return
        if action is Action.EMPTY:
            out[BaseTag(tag)] = DataElement(tag, vr, _empty(vr))
            self._count(Action.EMPTY)
            return
        out[BaseTag(tag)] = DataElement(tag, vr, self._dummy(vr))
        self._count(Action.DUMMY)

    def _dummy(self, vr: str) -> Any:
        if vr in _DUMMY:
            return _DUMMY[vr]
        if vr in _BINARY_VRS:
            return b"\x00\x00"
        return "REMOVED"

    # -- the top level -----------------------------------------------------------------

    def finish(self, out: Dataset, src: Dataset) -> None:
        """Add what the output must say about its de-identification, and the file meta."""
        if self.recode_age and _PATIENT_AGE in self.profile.keep and not out.get("PatientAge"):
            birth = _ascii(src, _PATIENT_BIRTH_DATE)
            study = _ascii(src, _STUDY_DATE)
            band = _age_from_dates(birth, study)
            if band:
                out.PatientAge = band
                self._count(Action.CLEAN)
        body_part = out.get(_BODY_PART_EXAMINED)
        if body_part is not None and not body_part.value and _LATERALITY not in out:
            # Laterality is Type 2C in General Series (PS3.3 C.7.3.1), required when the
            # body part is paired: once Body Part Examined is empty that is unknown.
            out[BaseTag(_LATERALITY)] = DataElement(_LATERALITY, "CS", "")
        out.PatientIdentityRemoved = "YES"
        out.DeidentificationMethod = self._method()
        codes = method_codes(self.profile, safe_private_kept=self.safe_private_kept)
        out.DeidentificationMethodCodeSequence = Sequence(
            [_code_item(value, meaning) for value, meaning in codes]
        )
        out.LongitudinalTemporalInformationModified = "MODIFIED" if self.shift else "REMOVED"
        out.file_meta = self._file_meta(out, src)

    def _method(self) -> list[str]:
        method = [
            "aidahub deid",
            _fit(f"profile {self.profile.name} (level {self.profile.level})", "LO"),
            _fit(f"key {self.key.key_id}", "LO"),
            "PS3.15 Annex E Basic Profile",
        ]
        if self.recode_age and _PATIENT_AGE in self.profile.keep:
            method.append(f"age in {AGE_BAND_YEARS}-year bands, {AGE_TOP_CODE}+ top-coded")
        if self.shift:
            method.append(
                "dates shifted per patient" + (", times removed" if self.remove_times else "")
            )
        return method

    def _file_meta(self, out: Dataset, src: Dataset) -> FileMetaDataset:
        source_meta = getattr(src, "file_meta", None) or FileMetaDataset()
        for tag in source_meta.keys():  # noqa: SIM118 - tags only
            # Implementation, application entity and private information elements name
            # the sending site; the meta is rebuilt from the dataset instead.
            self._count(_META_ACTIONS.get(int(tag), Action.REMOVE))
        for tag in (0x00020002, 0x00020010):  # copied below: Media Storage SOP Class, syntax
            if tag in source_meta:
                _check_intact(tag, source_meta.get_item(BaseTag(tag)), "UI", literal=True)
        meta = FileMetaDataset()
        meta.FileMetaInformationVersion = b"\x00\x01"
        sop_class = out.get("SOPClassUID") or source_meta.get("MediaStorageSOPClassUID")
        if sop_class:
            meta.MediaStorageSOPClassUID = sop_class
        sop_instance = out.get("SOPInstanceUID")
        if not sop_instance and source_meta.get("MediaStorageSOPInstanceUID"):
            sop_instance = remap_uid(self.key, str(source_meta.MediaStorageSOPInstanceUID))
        if sop_instance:
            meta.MediaStorageSOPInstanceUID = sop_instance
        meta.TransferSyntaxUID = UID(str(source_meta.get("TransferSyntaxUID") or _syntax(src)))
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
        return meta


def _describes_subject(item: Dataset) -> bool:
    """Is this SR content item one of the patient's subject-context items?"""
    try:
        for code in item.get("ConceptNameCodeSequence", None) or []:
            value = str(code.get("CodeValue", "") or "").strip()
            scheme = str(code.get("CodingSchemeDesignator", "") or "").strip().upper()
            if (value, scheme) in _SUBJECT_CONTEXT_CODES:
                return True
    except Exception:  # noqa: BLE001 - an unreadable concept name is treated as the subject
        return True
    return False


def _syntax(src: Dataset) -> str:
    implicit, little = src.original_encoding
    if implicit:
        return ImplicitVRLittleEndian
    if little is False:
        return ExplicitVRBigEndian
    return ExplicitVRLittleEndian


def _code_item(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = "DCM"
    item.CodeMeaning = meaning
    return item


class InstanceCleaner:
    """Cleans standard top-level elements of further objects as :func:`deidentify` did one.

    Every decision and every derived value of a :func:`deidentify` call comes from the
    profile, the key, the date plan and what the dataset says about its patient, IOD,
    device and people; an element's own output depends on nothing else but its value.
    So for another object whose other elements are byte for byte the same (the next slice
    of a series), handling the elements that differ gives exactly what a whole call
    would: :mod:`aidahub.deid.series` relies on this, and the tests compare both ways.
    """

    def __init__(self, run: _Run) -> None:
        self._run = run

    def byte_rule(self, raw: RawDataElement) -> str | None:
        """How :meth:`clean` writes a standard top-level element like *raw* (this tag, this
        VR in the file) whatever its value, where the value's bytes alone decide it:

        * ``"copy"``: the element as it is, once :meth:`check_copy` passes;
        * ``"uid"``: the value remapped (:meth:`remapped_uid`);
        * None: anything else (dates, scrubbed text, dummies, removal, sequences), which
          only :meth:`clean` does.
        """
        tag = int(raw.tag)
        if is_private(tag):
            return None
        run = self._run
        key = (tag, raw.VR, True)
        decision = run._decisions.get(key)
        if decision is None:
            decision = run._decisions[key] = run._decide(tag, raw, top=True)
        step, vr, action, kept = decision
        if step is _Step.KEEP:
            if vr in _DATE_VRS and (vr != "TM" or run.remove_times):
                return None
            if tag == _PATIENT_AGE and run.recode_age:
                return None
            if tag in run.profile.scrub and vr in _TEXT_VRS:
                return None
            return "copy"
        if step is _Step.UID:
            if kept and tag in _LITERAL_UIDS:
                return None
            if not kept and action in (Action.REMOVE, Action.EMPTY):
                return None
            return "uid"
        return None

    def check_copy(self, raw: RawDataElement) -> None:
        """The check :meth:`clean` makes before it copies *raw* (a ``"copy"`` element).

        Raises
        ------
        DamagedElementError
            As :meth:`clean` would.
        """
        _check_intact(int(raw.tag), raw, self._run._decisions[(int(raw.tag), raw.VR, True)][1])

    def remapped_uid(self, raw: RawDataElement, value: str) -> str:
        """What :meth:`clean` writes for *raw* (a ``"uid"`` element) whose value, decoded
        and stripped as the engine reads it, is *value*.

        Raises
        ------
        DamagedElementError
            As :meth:`clean` would.
        """
        _check_intact(int(raw.tag), raw, "UI")
        return remap_uid_value(self._run.key, value)

    def clean(self, src: Dataset, tags: Iterable[int]) -> Dataset:
        """Return the output elements of the standard, top-level *tags* of *src*.

        Raises
        ------
        DamagedElementError
            As :func:`deidentify` would for these elements.
        """
        out = Dataset()
        implicit, little = src.original_encoding
        out.set_original_encoding(implicit, little, src.original_character_set)
        for tag in tags:
            if is_private(tag):
                raise ValueError(f"{_tag_text(tag)} is private: the whole object must be cleaned")
            self._run._standard(src, out, tag, True)
        return out


def deidentify_instance(
    ds: Dataset, profile: Profile, key: Key, *, date_plan: DatePlan | None = None
) -> tuple[EngineResult, InstanceCleaner | None]:
    """:func:`deidentify`, with the cleaner for further objects that share the context.

    The cleaner is None when the object was excluded.
    """
    reason = exclusion_reason(ds)
    if reason is not None:
        return EngineResult(dataset=None, excluded=reason, actions={}), None
    run = _Run(ds, profile, key, date_plan)
    out = run.clean(ds)
    run.finish(out, ds)
    return EngineResult(dataset=out, excluded=None, actions=dict(run.counts)), InstanceCleaner(run)


def deidentify(
    ds: Dataset, profile: Profile, key: Key, *, date_plan: DatePlan | None = None
) -> EngineResult:
    """De-identify one dataset with a profile and a key.

    Parameters
    ----------
    ds
        The original dataset, as read (raw elements are copied without decoding); it is
        not changed.
    profile
        The level of associated information to keep (:func:`aidahub.deid.profile.load_profile`).
    key
        The secret key behind pseudonyms, UIDs and date shifts; only its ID is written.
    date_plan
        The patient's date plan (:func:`aidahub.deid.dates.plan_for`), anchored at the
        patient's first examination by a batch run. Without one the engine derives a plan
        from the key and the patient's identity with no anchor (a pure offset); with
        ``remove_times`` the studies of each calendar year then share one date.

    Returns
    -------
    EngineResult
        ``dataset`` None and ``excluded`` set when the object must not leave.
    """
    return deidentify_instance(ds, profile, key, date_plan=date_plan)[0]
