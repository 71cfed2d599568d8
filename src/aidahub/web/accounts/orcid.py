"""ORCID iDs as people type them into their profile.

Sixteen characters in four groups of four; the last is a check character computed with
ISO 7064 MOD 11-2 over the first fifteen digits ("X" stands for ten), as ORCID's
"Structure of the ORCID Identifier" describes. People paste the bare iD, the iD without
hyphens, or the https://orcid.org/ URL; all are kept as the bare hyphenated iD.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = ["check_character", "normalize_orcid"]

_URL_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?orcid\.org/", re.IGNORECASE)
_DIGITS = re.compile(r"^\d{15}[\dX]$")


def check_character(base15: str) -> str:
    """The check character of an iD whose first fifteen digits are *base15*."""
    total = 0
    for digit in base15:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalize_orcid(value: str) -> str:
    """The iD in *value* as ``0000-0002-1825-0097``; empty stays empty.

    Raises ``ValidationError`` when it is not sixteen characters of the right shape or
    when its check character is wrong (a typing mistake, most often).
    """
    text = _URL_PREFIX.sub("", value.strip()).rstrip("/")
    if not text:
        return ""
    digits = text.replace("-", "").replace(" ", "").upper()
    if not _DIGITS.match(digits):
        raise ValidationError(
            _("An ORCID iD is sixteen characters such as 0000-0002-1825-0097."), code="shape"
        )
    if check_character(digits[:15]) != digits[15]:
        raise ValidationError(
            _("This ORCID iD has a wrong check character; please check it for a typo."),
            code="checksum",
        )
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))
