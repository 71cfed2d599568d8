"""ORCID iDs: sixteen characters in groups of four, the last a check character.

The check character is ISO 7064 MOD 11-2 over the first fifteen digits, as ORCID's
"Structure of the ORCID Identifier" describes; "X" stands for ten.
"""

from __future__ import annotations

__all__ = ["ORCID_ID", "check_digit", "checksum_ok"]

# An iD as written, bare or inside a URL such as https://orcid.org/0000-0002-1825-0097.
ORCID_ID = r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]"


def check_digit(base15: str) -> str:
    """The check character of an iD whose first fifteen digits are *base15*."""
    total = 0
    for digit in base15:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def checksum_ok(orcid: str) -> bool:
    """Does the iD (with or without hyphens) end with the right check character?"""
    digits = orcid.replace("-", "")
    return digits[-1] == check_digit(digits[:-1])
