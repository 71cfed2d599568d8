"""Sign-offs: a reviewer's word that a configuration is safe for one kind of scanner export.

Appendix 3 of the policy: automated tools do most of the work, people then review the
output and tweak the configuration "until no identifying information was found", and this
is repeated for each scanner, "as each care giver and instrument manufacturer will have
their own 'house rules'"; only then is the configuration used at scale. A sign-off records
that step for one *combination* (caregiver, manufacturer, model) and one *configuration*:
the hash of the profile and the house rules it consults (:func:`configuration_hash`), so
that any change to the rules needs a new review.

Sign-offs are YAML files in a folder beside the profiles (:func:`default_folder`), one per
configuration and combination, saying who signed, when, and what was reviewed. They are
plain files on purpose: they travel with the profiles under version control, and a diff
shows who approved what. ``aidahub deid run`` looks each input file's combination up
(:class:`SignOffCheck`): without a sign-off it warns, and with ``--require-signoff`` it sets
the file aside (nothing is written for it) until one exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aidahub.deid.profile import HouseRule, Profile

__all__ = [
    "Combination",
    "SignOff",
    "SignOffCheck",
    "SignOffError",
    "configuration_hash",
    "default_folder",
    "load_signoffs",
    "write_signoff",
]

_SUFFIX = ".signoff.yaml"
_SLUG = re.compile(r"[^a-z0-9]+")


class SignOffError(ValueError):
    """A sign-off cannot be written or read; the message says what to fix."""


@dataclass(frozen=True, order=True)
class Combination:
    """A caregiver's exports from one scanner model.

    Matching ignores letter case and runs of spaces, as scanners write their names in
    varying case (``SIEMENS`` and ``Siemens``).
    """

    source: str
    manufacturer: str
    model: str

    @property
    def key(self) -> tuple[str, str, str]:
        """The form compared: case-folded, spaces collapsed."""
        return (_norm(self.source), _norm(self.manufacturer), _norm(self.model))

    def __str__(self) -> str:
        parts = (self.source or "(no source)", self.manufacturer or "(no manufacturer)")
        return f"{parts[0]} / {parts[1]} / {self.model or '(no model)'}"


@dataclass(frozen=True)
class SignOff:
    """One reviewer's sign-off of a configuration for a combination."""

    combination: Combination
    configuration: str
    profile: str
    reviewer: str
    signed_at: str
    reviewed: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    def as_record(self) -> dict[str, Any]:
        """The YAML record written for it."""
        return {
            "configuration": self.configuration,
            "profile": self.profile,
            "source": self.combination.source,
            "manufacturer": self.combination.manufacturer,
            "model": self.combination.model,
            "reviewer": self.reviewer,
            "signed_at": self.signed_at,
            "reviewed": self.reviewed,
            "notes": self.notes,
        }


def configuration_hash(profile: Profile) -> str:
    """SHA-256 of what the engine does under *profile*: its rules and its house rules.

    Names, motivation and comments do not count; every tag, option, date mode and house
    rule entry does, so editing any rule voids the sign-offs of the old configuration.
    """
    canonical = {
        "level": profile.level,
        "keep": sorted(profile.keep),
        "scrub": sorted(profile.scrub),
        "date_mode": profile.date_mode,
        "options": sorted((k, bool(v)) for k, v in profile.options.items()),
        "house_rules": sorted(_house_rule_record(rule) for rule in profile.house_rules),
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _house_rule_record(rule: HouseRule) -> str:
    record = {
        "manufacturers": sorted(rule.manufacturers),
        "models": sorted(rule.models),
        "safe_private": sorted(
            (s.group, s.creator.upper(), s.offset, s.vr) for s in rule.safe_private
        ),
        "remove": sorted(rule.remove),
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def default_folder(profile_argument: str) -> Path | None:
    """Where sign-offs live by default: ``signoffs/`` beside a profile file.

    For a built-in profile (a name, not a file) there is no such folder inside the
    installed package; the ``AIDAHUB_DEID_SIGNOFFS`` environment variable names one, or
    None is returned and the caller asks for ``--signoffs``.
    """
    candidate = Path(profile_argument)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        return candidate.resolve().parent / "signoffs"
    configured = os.environ.get("AIDAHUB_DEID_SIGNOFFS", "").strip()
    return Path(configured) if configured else None


def write_signoff(folder: Path, signoff: SignOff) -> Path:
    """Write *signoff* into *folder*, replacing an earlier one for the same pair.

    The file is written to a temporary name and renamed into place.

    Raises
    ------
    SignOffError
        If the reviewer is not named or the folder cannot be written.
    """
    if not signoff.reviewer.strip():
        raise SignOffError("a sign-off needs the reviewer's name (--reviewer)")
    name = "--".join(_slug(part) for part in signoff.combination.key)
    path = folder / signoff.configuration[:16] / f"{name}{_SUFFIX}"
    text = "# A reviewer's sign-off of a de-identification configuration (aidahub).\n"
    text += yaml.safe_dump(signoff.as_record(), allow_unicode=True, sort_keys=False)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SignOffError(f"cannot write the sign-off into {folder}: {exc.strerror}") from None
    return path


def load_signoffs(folder: Path) -> list[SignOff]:
    """Every sign-off under *folder* (none when it does not exist).

    Raises
    ------
    SignOffError
        If a file is not a sign-off; the message names the file and what is wrong.
    """
    if not folder.is_dir():
        return []
    found: list[SignOff] = []
    for path in sorted(folder.rglob(f"*{_SUFFIX}")):
        found.append(_read(path))
    return found


def _read(path: Path) -> SignOff:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SignOffError(f"sign-off {path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise SignOffError(f"sign-off {path} must be a mapping of keys to values")
    missing = [k for k in ("configuration", "reviewer", "signed_at") if not data.get(k)]
    if missing:
        raise SignOffError(f"sign-off {path} lacks {', '.join(missing)}")
    reviewed = data.get("reviewed") or {}
    return SignOff(
        combination=Combination(
            str(data.get("source") or ""),
            str(data.get("manufacturer") or ""),
            str(data.get("model") or ""),
        ),
        configuration=str(data["configuration"]),
        profile=str(data.get("profile") or ""),
        reviewer=str(data["reviewer"]),
        signed_at=str(data["signed_at"]),
        reviewed=reviewed if isinstance(reviewed, dict) else {"what": str(reviewed)},
        notes=str(data.get("notes") or ""),
    )


@dataclass(frozen=True)
class SignOffCheck:
    """What ``aidahub deid run`` needs to look sign-offs up, sent to every worker.

    Attributes
    ----------
    configuration
        The hash of the configuration in use.
    signed
        The combinations signed off for it (:attr:`Combination.key` form).
    source
        The caregiver of this run's input (``--source``); when empty, each file's own
        Institution Name stands in.
    require
        Set files of combinations without a sign-off aside instead of only warning.
    """

    configuration: str
    signed: frozenset[tuple[str, str, str]]
    source: str = ""
    require: bool = False

    @classmethod
    def build(
        cls, signoffs: Iterable[SignOff], profile: Profile, *, source: str, require: bool
    ) -> SignOffCheck:
        configuration = configuration_hash(profile)
        signed = frozenset(s.combination.key for s in signoffs if s.configuration == configuration)
        return cls(configuration, signed, source, require)

    def combination(self, manufacturer: str, model: str, institution: str) -> Combination:
        """The combination of a file with these values (as read from the input)."""
        return Combination(self.source or institution.strip(), manufacturer.strip(), model.strip())

    def signed_off(self, combination: Combination) -> bool:
        """Whether *combination* has a sign-off for this configuration."""
        return combination.key in self.signed

    def reason(self, combination: Combination) -> str:
        """The outcome reason (or warning) for a file without a sign-off."""
        return (
            f"no-signoff: no reviewer has signed off configuration {self.configuration[:12]} "
            f"for {combination}"
        )


def now() -> str:
    """The time of a sign-off, in UTC, to the second."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.casefold()).strip("-")[:60] or "none"
