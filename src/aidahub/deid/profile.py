"""The policy's levels of associated information, as explicit element lists.

Appendix 3 of the policy ("Associated information") lists combinations of data that can
be anonymous, each adding to the one before:

1. ``images-only`` - images;
2. ``scanner`` - + scanner model;
3. ``time-period`` - + time period;
4. ``exam-type`` - + examination type;
5. ``diagnosis`` - + diagnosis;
6. "even further characterizing data - but you must motivate your decision yourself".

PS3.15 Annex E's options do not map onto these one to one (Manufacturer and model are
not in Table E.1-1 at all; Retain Device Identity also keeps serial numbers and station
names; Clean Descriptors keeps diagnosis-like text), so each level is a YAML file in
``profiles/`` naming exactly the elements it keeps. Everything else is removed, emptied
or replaced as Annex E says (:mod:`aidahub.deid.rules`).

Modality is kept from ``images-only`` on: it is Type 1 in the General Series module and
the SOP Class, which must be kept to read the file at all, already says it for nearly every
storage class. Identifiers and UIDs are never kept as they are, whatever a profile lists:
the engine always replaces them with keyed pseudonyms and remapped UIDs, which hold the
patient/study/series/instance hierarchy together without revealing anything.

Patient age and sex are in no built-in level. The policy names "patient age and sex" with
diagnosis and time stamps as associated data through which an anonymous image "may still
be potentially sensitive information and identifiable", and none of levels 1-5 includes
them, so keeping them is level 6: a custom profile with a written motivation.
``profiles/examples/patient-characteristics.yaml`` is the template; it recodes age into
5-year bands (:func:`aidahub.deid.engine.age_band`), one of the policy's techniques
("recoding variable values").

A profile file has these keys::

    name: my-profile
    extends: diagnosis          # a built-in name or a path relative to this file
    keep: [PatientAge, "(0010,0040)"]   # keywords or tags, added to the parent's
    scrub: [StudyComments]      # kept, with free text scrubbed
    remove: [ProtocolName]      # taken out of the parent's lists
    dates: shift                # or remove
    options: {scale_intervals: false, remove_times: false, recode_age: true}
    house_rules: [ge, ./our-ct.yaml]    # default: every built-in house rule
    motivation: Why the research needs more than the diagnosis level.

A profile that keeps anything the ``diagnosis`` level does not must carry a motivation,
or :func:`load_profile` raises :class:`ProfileError` naming what it keeps extra; the
motivation goes into the output's report.

House rules (``house_rules/*.yaml``) record, per manufacturer and model, which private
elements are safe to keep (PS3.15 E.3.10, Retain Safe Private Option) and which elements
are known to hold what (policy, Appendix 3: "every combination of caregiver and
instrument manufacturer will have their own 'house rules'").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydicom.datadict import dictionary_has_tag, dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.dataset import Dataset

from aidahub.deid.rules import is_private

__all__ = [
    "DATE_MODES",
    "OPTION_NAMES",
    "PROFILE_NAMES",
    "HouseRule",
    "Profile",
    "ProfileError",
    "SafePrivate",
    "builtin_house_rules",
    "load_house_rule",
    "load_profile",
    "tag_name",
]

PROFILE_NAMES: tuple[str, ...] = ("images-only", "scanner", "time-period", "exam-type", "diagnosis")
"""The built-in levels of the policy's Appendix 3, least information first."""

DATE_MODES = ("remove", "shift")
OPTION_NAMES = ("scale_intervals", "remove_times", "recode_age")
BEYOND_DIAGNOSIS = len(PROFILE_NAMES) + 1
"""Level of a profile that keeps more than ``diagnosis`` (policy: "even further
characterizing data")."""

_HERE = Path(__file__).resolve().parent
_PROFILE_DIR = _HERE / "profiles"
_HOUSE_RULE_DIR = _HERE / "house_rules"
_PROFILE_KEYS = frozenset(
    {"name", "extends", "keep", "scrub", "remove", "dates", "options", "house_rules",
     "motivation", "description"}
)  # fmt: skip
_HOUSE_RULE_KEYS = frozenset(
    {"name", "manufacturer", "models", "safe_private", "holds", "remove", "description"}
)
_TEXT_VRS = frozenset({"SH", "LO", "ST", "LT", "UT", "UC", "PN"})
_TAG_TEXT = re.compile(r"^\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?$")
_PRIVATE_TAG_TEXT = re.compile(r"^\(?([0-9A-Fa-f]{4}),\s*[xX]{2}([0-9A-Fa-f]{2})\)?$")


class ProfileError(ValueError):
    """A profile or house rule cannot be used; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class SafePrivate:
    """A private element a house rule marks safe to keep (PS3.15 E.3.10).

    Attributes
    ----------
    group
        The odd group number.
    creator
        The Private Creator value that reserves the block.
    offset
        The element offset within the block: ``0x23`` for ``(0019,xx23)``.
    vr
        The element's VR, used when the file was written with implicit VR.
    name
        What the element holds.
    """

    group: int
    creator: str
    offset: int
    vr: str
    name: str


@dataclass(frozen=True, slots=True)
class HouseRule:
    """How one manufacturer (and optionally model) uses DICOM elements.

    Attributes
    ----------
    name
        The rule's name (its file name without ``.yaml``).
    manufacturers
        Upper-case fragments; the rule applies when the dataset's Manufacturer contains
        one of them.
    models
        Upper-case fragments of ManufacturerModelName; empty means every model.
    safe_private
        Private elements safe to keep.
    holds
        ``(element, what it holds)`` pairs: documentation for reviewers.
    remove
        Standard element tags removed for this manufacturer even when a profile keeps them.
    """

    name: str
    manufacturers: tuple[str, ...]
    models: tuple[str, ...] = ()
    safe_private: tuple[SafePrivate, ...] = ()
    holds: tuple[tuple[str, str], ...] = ()
    remove: frozenset[int] = frozenset()

    def applies_to(self, manufacturer: str, model: str) -> bool:
        """Return True if the rule covers a device with this Manufacturer and model name."""
        maker = manufacturer.upper()
        if not any(fragment in maker for fragment in self.manufacturers):
            return False
        return not self.models or any(fragment in model.upper() for fragment in self.models)


@dataclass(frozen=True)
class Profile:
    """One level of associated information: what the engine keeps, and how.

    Attributes
    ----------
    name
        The profile's name.
    level
        1 to 5 for the policy's levels (or a custom profile within them), 6 for a profile
        that keeps more than ``diagnosis``.
    keep
        Tags of the elements kept, at any depth (a sequence must be kept for its items'
        elements to survive).
    scrub
        Tags of kept text elements whose free text is scrubbed.
    date_mode
        ``"shift"``: kept dates and times are shifted by the patient's date plan;
        ``"remove"``: every date and time is removed or emptied, kept or not.
    options
        ``scale_intervals``, ``remove_times`` and ``recode_age`` flags.
    motivation
        Why the profile keeps more than ``diagnosis``; empty for the built-in levels.
    house_rules
        The house rules the engine consults.
    beyond_diagnosis
        Tags this profile keeps (or keeps unscrubbed) beyond the ``diagnosis`` level.
    """

    name: str
    level: int
    keep: frozenset[int]
    scrub: frozenset[int] = frozenset()
    date_mode: str = "remove"
    options: Mapping[str, bool] = field(default_factory=lambda: MappingProxyType({}))
    motivation: str = ""
    house_rules: tuple[HouseRule, ...] = ()
    beyond_diagnosis: frozenset[int] = frozenset()

    def option(self, name: str) -> bool:
        """Return the value of option *name* (False when unset)."""
        return bool(self.options.get(name, False))

    def house_rules_for(self, ds: Dataset) -> tuple[HouseRule, ...]:
        """Return the house rules that apply to the device that made *ds*."""
        manufacturer = str(ds.get("Manufacturer", "") or "")
        model = str(ds.get("ManufacturerModelName", "") or "")
        if not manufacturer:
            return ()
        return tuple(rule for rule in self.house_rules if rule.applies_to(manufacturer, model))


def tag_name(tag: int) -> str:
    """Return the keyword of *tag*, or ``(gggg,eeee)`` when the dictionary has none."""
    return keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _parse_tag(entry: object, where: str) -> int:
    text = str(entry).strip()
    tag = tag_for_keyword(text)
    if tag is None:
        match = _TAG_TEXT.match(text)
        if match is None:
            raise ProfileError(f"{where}: {text!r} is neither a DICOM keyword nor a tag")
        tag = int(match.group(1) + match.group(2), 16)
    if is_private(tag):
        raise ProfileError(
            f"{where}: {text} is a private element; list safe private elements in a house "
            "rule (creator and element offset) instead"
        )
    if not dictionary_has_tag(tag):
        raise ProfileError(f"{where}: {text} is not in the DICOM data dictionary")
    return tag


def _tags(entries: object, where: str) -> frozenset[int]:
    if entries is None:
        return frozenset()
    if not isinstance(entries, list):
        raise ProfileError(f"{where} must be a list of keywords or tags")
    return frozenset(_parse_tag(entry, where) for entry in entries)


# libyaml's safe loader when PyYAML was built with it: the same documents, parsed about ten
# times faster (the pure-Python parser was a sixth of a run's start-up).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - safe
    except FileNotFoundError:
        raise ProfileError(f"{what} file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProfileError(f"{what} file {path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{what} file {path} must be a mapping of keys to values")
    return data


def _fragments(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise ProfileError(f"{where} must be a text or a list of texts")
    return tuple(item.upper() for item in items)


def _safe_private(entry: object, where: str) -> SafePrivate:
    if not isinstance(entry, dict):
        raise ProfileError(f"{where}: each safe private element is a mapping")
    match = _PRIVATE_TAG_TEXT.match(str(entry.get("tag", "")).strip())
    creator = str(entry.get("creator", "") or "").strip()
    vr = str(entry.get("vr", "") or "").strip().upper()
    if match is None or not int(match.group(1), 16) & 1:
        raise ProfileError(f"{where}: tag must look like (0019,xx23) with an odd group")
    if not creator or len(vr) != 2:
        raise ProfileError(f"{where}: {entry.get('tag')} needs a creator and a 2-letter vr")
    if vr == "SQ":
        raise ProfileError(
            f"{where}: {entry.get('tag')} is a sequence; a sequence is never safe as a whole, "
            "list the safe elements instead"
        )
    return SafePrivate(
        group=int(match.group(1), 16),
        creator=creator,
        offset=int(match.group(2), 16),
        vr=vr,
        name=str(entry.get("name", "") or ""),
    )


def load_house_rule(path: Path) -> HouseRule:
    """Load one house rule file.

    Parameters
    ----------
    path
        A YAML file with ``manufacturer`` (a text or list of texts), optional ``models``,
        ``safe_private`` (list of ``tag: (gggg,xxee)``, ``creator``, ``vr``, ``name``),
        ``holds`` and ``remove``.

    Raises
    ------
    ProfileError
        If the file is missing or malformed.
    """
    data = _read_yaml(path, "house rule")
    where = f"house rule {path.name}"
    unknown = set(data) - _HOUSE_RULE_KEYS
    if unknown:
        raise ProfileError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    manufacturers = _fragments(data.get("manufacturer"), f"{where}: manufacturer")
    if not manufacturers:
        raise ProfileError(f"{where}: manufacturer is required")
    safe = data.get("safe_private") or []
    holds = data.get("holds") or []
    if not isinstance(safe, list) or not isinstance(holds, list):
        raise ProfileError(f"{where}: safe_private and holds must be lists")
    return HouseRule(
        name=str(data.get("name") or path.stem),
        manufacturers=manufacturers,
        models=_fragments(data.get("models"), f"{where}: models"),
        safe_private=tuple(_safe_private(e, f"{where}: safe_private") for e in safe),
        holds=tuple(
            (f"{h.get('creator', '')} {h.get('tag', '')}".strip(), str(h.get("holds", "")))
            for h in holds
            if isinstance(h, dict)
        ),
        remove=_tags(data.get("remove"), f"{where}: remove"),
    )


@functools.cache
def builtin_house_rules() -> tuple[HouseRule, ...]:
    """Return every house rule shipped in ``house_rules/``, sorted by file name."""
    return tuple(load_house_rule(p) for p in sorted(_HOUSE_RULE_DIR.glob("*.yaml")))


def _house_rules(value: object, base: Path, where: str) -> tuple[HouseRule, ...]:
    if not isinstance(value, list):
        raise ProfileError(f"{where}: house_rules must be a list of names or paths")
    rules = []
    for item in value:
        text = str(item)
        builtin = _HOUSE_RULE_DIR / f"{text}.yaml"
        rules.append(load_house_rule(builtin if builtin.is_file() else base / text))
    return tuple(rules)


def _options(value: object, inherited: Mapping[str, bool], where: str) -> dict[str, bool]:
    options = dict(inherited)
    if value is None:
        return options
    if not isinstance(value, dict):
        raise ProfileError(f"{where}: options must be a mapping")
    for name, flag in value.items():
        if name not in OPTION_NAMES:
            raise ProfileError(f"{where}: unknown option {name!r}; use {', '.join(OPTION_NAMES)}")
        if not isinstance(flag, bool):
            raise ProfileError(f"{where}: option {name} must be true or false")
        options[name] = flag
    return options


def _beyond(keep: frozenset[int], scrub: frozenset[int], base: Profile | None) -> frozenset[int]:
    if base is None:
        return frozenset()
    unscrubbed = (base.scrub - scrub) & keep
    return (keep - base.keep) | unscrubbed


def _build(path: Path, builtin: bool, seen: tuple[Path, ...]) -> Profile:
    if path in seen:
        raise ProfileError(f"profile {path.name} extends itself")
    data = _read_yaml(path, "profile")
    where = f"profile {path.name}"
    unknown = set(data) - _PROFILE_KEYS
    if unknown:
        raise ProfileError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    parent: Profile | None = None
    extends = data.get("extends")
    if extends:
        parent = _resolve(str(extends), path.parent, (*seen, path))
    removed = _tags(data.get("remove"), f"{where}: remove")
    # `remove` takes elements out of the parent's lists; this file's own lists then add.
    inherited_keep = parent.keep - removed if parent else frozenset()
    scrub = _tags(data.get("scrub"), f"{where}: scrub") | (
        parent.scrub - removed if parent else frozenset()
    )
    not_text = sorted(tag_name(t) for t in scrub if dictionary_VR(t) not in _TEXT_VRS)
    if not_text:
        raise ProfileError(
            f"{where}: scrub applies to free-text elements only, not {', '.join(not_text)}"
        )
    keep = _tags(data.get("keep"), f"{where}: keep") | inherited_keep | scrub
    dates = data.get("dates", parent.date_mode if parent else "remove")
    if dates not in DATE_MODES:
        raise ProfileError(f"{where}: dates must be one of {', '.join(DATE_MODES)}")
    options = _options(data.get("options"), parent.options if parent else {}, where)
    if "house_rules" in data:
        rules = _house_rules(data["house_rules"], path.parent, where)
    else:
        rules = parent.house_rules if parent else builtin_house_rules()
    motivation = str(data.get("motivation") or "").strip()
    if not motivation and parent is not None:
        motivation = parent.motivation
    name = str(data.get("name") or path.stem)
    if builtin:
        level = PROFILE_NAMES.index(name) + 1
        beyond: frozenset[int] = frozenset()
    else:
        beyond = _beyond(keep, scrub, load_profile("diagnosis"))
        level = BEYOND_DIAGNOSIS if beyond else (parent.level if parent else 1)
    if beyond and not motivation:
        extra = ", ".join(sorted(tag_name(t) for t in beyond))
        raise ProfileError(
            f"{where} keeps more than the diagnosis level ({extra}). The policy allows "
            '"even further characterizing data" only with a motivation: write why the '
            "research needs it under `motivation:` in the profile."
        )
    return Profile(
        name=name,
        level=level,
        keep=keep,
        scrub=scrub,
        date_mode=str(dates),
        options=MappingProxyType(options),
        motivation=motivation,
        house_rules=rules,
        beyond_diagnosis=beyond,
    )


@functools.cache
def _builtin(name: str) -> Profile:
    return _build(_PROFILE_DIR / f"{name}.yaml", True, ())


def _resolve(name_or_path: str, base: Path, seen: tuple[Path, ...]) -> Profile:
    if name_or_path in PROFILE_NAMES:
        return _builtin(name_or_path)
    path = Path(name_or_path)
    if not path.is_absolute():
        path = base / path
    return _build(path.resolve(), False, seen)


def load_profile(name_or_path: str | Path) -> Profile:
    """Return a built-in profile by name, or load a profile file.

    Parameters
    ----------
    name_or_path
        One of :data:`PROFILE_NAMES`, or the path of a YAML profile file.

    Returns
    -------
    Profile

    Raises
    ------
    ProfileError
        If the name is unknown, the file is malformed, or the profile keeps more than
        the ``diagnosis`` level without a motivation.
    """
    text = str(name_or_path)
    if isinstance(name_or_path, str) and text in PROFILE_NAMES:
        return _builtin(text)
    path = Path(name_or_path)
    if not path.is_file():
        raise ProfileError(
            f"unknown profile {text!r}: use one of {', '.join(PROFILE_NAMES)} or the path "
            "of a profile file"
        )
    return _resolve(str(path), Path.cwd(), ())
