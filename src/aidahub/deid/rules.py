"""Element-level actions of DICOM PS3.15 Annex E, and how aidahub resolves them.

The Basic Application Level Confidentiality Profile (PS3.15 E.2, Table E.1-1, generated
into :mod:`aidahub.deid._annex_e`) gives each attribute one of six action codes:

======  ==================================================================================
Code    Meaning (PS3.15 Table E.1-1, "Action Codes")
======  ==================================================================================
``D``   replace with a non-zero length dummy value consistent with the VR
``Z``   replace with a zero length value (or a dummy value consistent with the VR)
``X``   remove
``K``   keep (non-sequence attributes), or clean a sequence's items
``C``   clean: replace with values of similar meaning known not to identify anyone
``U``   replace UIDs with non-zero length UIDs that are consistent within the set
======  ==================================================================================

and some attributes a combined code whose choice "depends on the IOD": the standard lets
the de-identifier pick the weaker action only when the stronger one would break the
Information Object Definition (PS3.15 E.1.1, notes to Table E.1-1).

Resolution of the combined codes
--------------------------------
aidahub keeps the least information that still leaves a valid file. A profile keeps only
the elements it names (:mod:`aidahub.deid.profile`); for everything else the Basic Profile
code decides, with the combined codes resolved like this:

=========  ========  ==================================================================
Code       Action    Why
=========  ========  ==================================================================
``X/Z``    ``Z``     Annex E offers Z only because the attribute is Type 2 in some IOD.
                     An empty value carries nothing (its presence is fixed by the IOD,
                     not by the patient), and emptying keeps every Type 2 use valid
                     without needing every IOD's module tables.
``X/D``    ``X``     D is only needed where the attribute is Type 1. None of these
                     (series dates, protocol name, detector ID, ...) is Type 1 in the
                     image modules aidahub keeps, so the value is removed; a dummy value
                     could be mistaken for real data.
``X/Z/D``  ``Z``     As X/Z; upgraded to ``D`` where the instance's IOD makes the
                     attribute Type 1 (see below).
``Z/D``    ``Z``     As X/Z; upgraded to ``D`` where Type 1 (see below).
``X/Z/U*`` ``U``     Reference sequences (Referenced Image, Source Image). Their UIDs are
                     remapped with the key, so they reveal nothing, and removing them
                     would break references a presentation state, segmentation or
                     derived image needs (Type 1 in those IODs).
=========  ========  ==================================================================

The Type 1 upgrades to ``D`` (:data:`TYPE1_WHEN`) are the ones aidahub can tell from the
dataset itself: Content Date and Time are Type 1 in the Multi-frame Functional Groups
module (PS3.3 C.7.6.16) and the SR Document General module (PS3.3 C.17.2); Acquisition
DateTime is Type 1C in the enhanced image modules (PS3.3 C.8.13.1, C.8.15.2) for ORIGINAL
or MIXED images; Device Serial Number is Type 1 in the Enhanced General Equipment module
(PS3.3 C.7.5.2). A dummy value carries no information either.

Private elements (odd groups) are removed: Table E.1-1's row ``(gggg,eeee) where gggg is
odd`` is ``X``, and only a house rule (:mod:`aidahub.deid.profile`) that lists the private
creator and element offset as safe keeps one (the Retain Safe Private Option, PS3.15
E.3.10). Elements the data dictionary does not know, group lengths, command elements and
the retired curve (50xx) and overlay (60xx) groups are removed; the file meta information
(group 0002) is rebuilt by the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from pydicom.datadict import dictionary_has_tag
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from aidahub.deid._annex_e import RULES, Rule

__all__ = [
    "COMBINED",
    "TYPE1_WHEN",
    "TYPE2_OUTSIDE_ANNEX_E",
    "Action",
    "IodContext",
    "Rule",
    "basic_action",
    "iod_context",
    "is_private",
    "is_private_creator",
    "lookup",
    "private_creator_tag",
    "private_offset",
    "resolve",
]


class Action(StrEnum):
    """What happens to one element; the values are PS3.15 Table E.1-1 action codes."""

    KEEP = "K"
    REMOVE = "X"
    EMPTY = "Z"
    DUMMY = "D"
    REMAP = "U"
    CLEAN = "C"


COMBINED: Mapping[str, Action] = MappingProxyType(
    {
        "X/Z": Action.EMPTY,
        "X/D": Action.REMOVE,
        "X/Z/D": Action.EMPTY,
        "Z/D": Action.EMPTY,
        "X/Z/U*": Action.REMAP,
    }
)
"""How each combined code resolves when the attribute is not Type 1 (module docstring)."""


@dataclass(frozen=True, slots=True)
class IodContext:
    """What the top-level dataset says about its IOD, for Type 1 decisions.

    Attributes
    ----------
    enhanced
        The instance uses the Multi-frame Functional Groups module (PS3.3 C.7.6.16), so
        the Enhanced General Equipment module and the enhanced image modules apply.
    original
        Image Type value 1 is ORIGINAL or MIXED (Type 1C conditions of the enhanced image
        modules).
    structured_report
        The instance is an SR document (SR Document General module, PS3.3 C.17.2), which
        includes Key Object Selection documents.
    """

    enhanced: bool = False
    original: bool = False
    structured_report: bool = False


_SHARED_FUNCTIONAL_GROUPS = 0x52009229
_PER_FRAME_FUNCTIONAL_GROUPS = 0x52009230
_SR_MODALITIES = frozenset({"SR", "KO"})


def iod_context(ds: Dataset) -> IodContext:
    """Return the :class:`IodContext` of a top-level dataset.

    Parameters
    ----------
    ds
        The original dataset; only Image Type, Modality, the functional-group sequences
        and the SR Value Type are looked at.
    """
    enhanced = _SHARED_FUNCTIONAL_GROUPS in ds or _PER_FRAME_FUNCTIONAL_GROUPS in ds
    image_type = ds.get("ImageType")
    first = ""
    if image_type:
        first = str(image_type[0] if not isinstance(image_type, str) else image_type)
        first = first.split("\\")[0].strip().upper()
    modality = str(ds.get("Modality", "") or "").strip().upper()
    structured = modality in _SR_MODALITIES or "ValueType" in ds and "ContentSequence" in ds
    return IodContext(
        enhanced=enhanced,
        original=first in {"ORIGINAL", "MIXED"},
        structured_report=structured,
    )


TYPE1_WHEN: Mapping[int, Callable[[IodContext], bool]] = MappingProxyType(
    {
        0x00080023: lambda c: c.enhanced or c.structured_report,  # Content Date
        0x00080033: lambda c: c.enhanced or c.structured_report,  # Content Time
        0x0008002A: lambda c: c.enhanced and c.original,  # Acquisition DateTime
        0x00181000: lambda c: c.enhanced,  # Device Serial Number
    }
)
"""Elements with a ``D`` among their combined codes that are Type 1 in the IODs aidahub
recognises, with the condition (module docstring)."""

TYPE2_OUTSIDE_ANNEX_E: frozenset[int] = frozenset(
    {
        0x00080070,  # Manufacturer: General Equipment, Type 2 (PS3.3 C.7.5.1)
        0x00200011,  # Series Number: General Series, Type 2 (PS3.3 C.7.3.1)
        0x00200013,  # Instance Number: General Image, Type 2 (PS3.3 C.7.6.1)
        0x00200020,  # Patient Orientation: General Image, Type 2C
        0x00200060,  # Laterality: General Series, Type 2C
        0x00201040,  # Position Reference Indicator: Frame of Reference, Type 2 (C.7.4.1)
        0x00180060,  # KVP: CT Image, Type 2 (PS3.3 C.8.2.1)
        0x00700081,  # Content Description: Content Identification Macro, Type 2
    }
)
"""Type 2 elements of common IODs that Table E.1-1 does not list: when a profile does not
keep one, it is emptied rather than removed so that the file stays valid."""


def is_private(tag: int) -> bool:
    """Return True for a private element (odd group number, PS3.5 7.8.1)."""
    return bool((tag >> 16) & 1)


def is_private_creator(tag: int) -> bool:
    """Return True for a Private Creator element ``(gggg,0010)`` to ``(gggg,00FF)``."""
    return is_private(tag) and 0x0010 <= (tag & 0xFFFF) <= 0x00FF


def private_creator_tag(tag: int) -> int:
    """Return the tag of the Private Creator that reserves the block of *tag* (PS3.5 7.8.1).

    ``(0019,1023)`` is in block ``10`` reserved by ``(0019,0010)``.
    """
    return (tag & 0xFFFF0000) | ((tag >> 8) & 0xFF)


def private_offset(tag: int) -> int:
    """Return the element offset within its private block: ``(0019,1023)`` gives ``0x23``."""
    return tag & 0xFF


def lookup(tag: int) -> Rule | None:
    """Return the Table E.1-1 row that applies to *tag*, or None.

    Exact tags are tried first, then the wildcard rows: curve data ``(50xx,xxxx)``,
    overlay data and comments ``(60xx,3000)`` and ``(60xx,4000)``, and private attributes
    ``(gggg,eeee) where gggg is odd``.
    """
    rule = RULES.get(f"{tag:08x}")
    if rule is not None:
        return rule
    group, element = tag >> 16, tag & 0xFFFF
    if group & 1:
        return RULES["ggggeeee"]
    if group & 0xFF00 == 0x5000:
        return RULES["50xxxxxx"]
    if group & 0xFF00 == 0x6000 and not group & 1:
        return RULES.get(f"60xx{element:04x}")
    return None


def resolve(code: str, *, type1: bool = False) -> Action:
    """Return the single action for a Basic Profile *code*, combined or not.

    Parameters
    ----------
    code
        ``D``, ``Z``, ``X``, ``K``, ``C``, ``U`` or a combined code (``X/Z``, ``X/D``,
        ``X/Z/D``, ``Z/D``, ``X/Z/U*``).
    type1
        The attribute is Type 1 in the instance's IOD; a combined code offering ``D``
        then resolves to ``D``.

    Raises
    ------
    ValueError
        For a code PS3.15 does not define.
    """
    if "/" not in code:
        try:
            return Action(code.rstrip("*"))
        except ValueError:
            raise ValueError(f"unknown PS3.15 action code {code!r}") from None
    if type1 and "D" in code.split("/"):
        return Action.DUMMY
    try:
        return COMBINED[code]
    except KeyError:
        raise ValueError(f"unknown PS3.15 combined action code {code!r}") from None


def basic_action(tag: int, context: IodContext | None = None) -> Action:
    """Return what the Basic Profile does to an element a profile does not keep.

    Parameters
    ----------
    tag
        The element's tag.
    context
        The instance's :class:`IodContext`, for the Type 1 upgrades; None means none
        apply.

    Returns
    -------
    Action
        ``X`` for group lengths, command and file meta elements, private elements, curves,
        overlays and elements the dictionary does not know; the resolved Table E.1-1
        action for listed elements; ``Z`` for :data:`TYPE2_OUTSIDE_ANNEX_E`; otherwise
        ``X``: an element no profile keeps and the table does not list is removed.
    """
    tag = int(tag)
    group = tag >> 16
    if tag & 0xFFFF == 0 or group < 0x0008 or is_private(tag):
        return Action.REMOVE
    rule = lookup(tag)
    if rule is not None:
        type1 = False
        condition = TYPE1_WHEN.get(tag)
        if condition is not None and context is not None:
            type1 = condition(context)
        return resolve(rule.basic, type1=type1)
    if not dictionary_has_tag(BaseTag(tag)):
        return Action.REMOVE
    if tag in TYPE2_OUTSIDE_ANNEX_E:
        return Action.EMPTY
    return Action.REMOVE
