"""One value of a field, read as the field needs it and repaired where it has to be.

Each reader takes the ``Reader`` of the record, the value's path and the raw value; every
change it makes is logged as a repair there.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from aidahub.web.core.text import has_unsafe_scheme
from aidahub.web.register.legacy.reader import Reader, quote
from aidahub.web.register.models import PartyKind
from aidahub.web.register.orcid import ORCID_ID, checksum_ok

__all__ = [
    "MAX_ITEMS",
    "MAX_LIST_TEXT",
    "MAX_TEXT",
    "max_length",
    "read_count",
    "read_date",
    "read_email",
    "read_field_text",
    "read_flag",
    "read_items",
    "read_kind",
    "read_list",
    "read_orcid",
    "read_text",
    "read_url",
    "read_words",
    "read_year",
]

MAX_TEXT = 100_000  # characters in one Markdown field
MAX_ITEMS = 1_000  # entries in one list (authors, keywords, ...)
MAX_LIST_TEXT = 500  # characters of one entry of a list of words (keyword, modality, ...)


def max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length or MAX_TEXT


def read_text(r: Reader, path: str, value: Any, limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "yes" if value else "no"
        r.repair(path, value, text, f"a yes/no value read as the text {text!r}", restore=True)
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        text = ", ".join(str(v) for v in value)
        r.repair(
            path, value, text, "a list read as one text, its entries joined by commas", restore=True
        )
    else:
        r.repair(path, value, "", "expected a text; the value was left out", restore=True)
        return ""
    if len(text) > limit:
        r.repair(
            path,
            text,
            text[:limit],
            f"{len(text)} characters is too long for this field: cut to {limit}",
            restore=False,
        )
        text = text[:limit]
    return text


def read_field_text(r: Reader, path: str, value: Any, model, name: str) -> str:
    return read_text(r, path, value, max_length(model, name))


_URL_PATH = re.compile(r"^[\w\-./~%+]+\.[A-Za-z0-9]{1,8}(?:[?#][^\s]*)?$")


def _looks_like_url(text: str) -> bool:
    if any(ch.isspace() for ch in text):
        return False
    parts = urlsplit(text)
    if parts.scheme:
        if parts.scheme.lower() in ("http", "https", "ftp"):
            return bool(parts.netloc)
        return parts.scheme.lower() == "mailto"
    return text.startswith(("/", "./", "../", "#")) or bool(_URL_PATH.match(text))


def read_url(r: Reader, path: str, value: Any, limit: int = 500) -> str:
    """A link, or "" when the field holds something else (often a caption)."""
    text = read_text(r, path, value, limit=max(limit, MAX_TEXT)).strip()
    if not text:
        return ""
    if has_unsafe_scheme(text):
        r.repair(path, text, "", f"unsafe link {quote(text)} removed", restore=False)
        return ""
    if not _looks_like_url(text):
        r.repair(
            path,
            text,
            "",
            f"{quote(text)} is not a URL (a caption or note?): left empty; the text is "
            "kept for export",
            restore=True,
        )
        return ""
    if len(text) > limit:
        r.repair(
            path, text, "", f"a URL of {len(text)} characters is too long: left out", restore=False
        )
        return ""
    return text


def read_email(r: Reader, path: str, value: Any) -> str:
    text = read_text(r, path, value, limit=MAX_TEXT).strip()
    if not text:
        return ""
    address = text[len("mailto:") :] if text.lower().startswith("mailto:") else text
    try:
        validate_email(address)
    except ValidationError:
        r.repair(
            path, text, "", f"{quote(text)} is not an e-mail address: left empty", restore=True
        )
        return ""
    if address != text:
        r.repair(path, text, address, "'mailto:' removed from the e-mail address", restore=True)
    return address


_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ][0-9:.]+(?:Z|[+-][0-9:]+)?)?$")


def read_date(r: Reader, path: str, value: Any) -> dt.date | None:
    """An ISO date; impossible ones (day or month 00, 31 April) are read as the nearest date."""
    if value is None or value == "":
        return None
    match = _DATE.match(str(value).strip())
    if not match:
        r.repair(
            path,
            value,
            None,
            f"{quote(value)} is not a date (YYYY-MM-DD): left empty",
            restore=True,
        )
        return None
    year = int(match.group(1))
    month = int(match.group(2) or 1)
    day = int(match.group(3) or 1)
    if not 1 <= month <= 12 and month != 0:
        r.repair(
            path, value, None, f"{quote(value)} has no month {month}: left empty", restore=True
        )
        return None
    month = max(month, 1)
    day = min(max(day, 1), calendar.monthrange(year, month)[1]) if year >= 1 else 1
    try:
        day_value = dt.date(year, month, day)
    except ValueError:
        r.repair(path, value, None, f"{quote(value)} is not a date: left empty", restore=True)
        return None
    iso = day_value.isoformat()
    if str(value) != iso:
        given = (int(match.group(2) or 1), int(match.group(3) or 1))
        if given != (day_value.month, day_value.day):
            what = "impossible date"
        elif not match.group(3):
            what = "incomplete date"
        else:
            what = "date"
        r.repair(path, value, iso, f"{what} {quote(value)} read as {iso}", restore=True)
    return day_value


_BIGINT = 2**63 - 1
_GROUPED = re.compile(r"^\d{1,3}(?:[,\s\u00a0\u202f']\d{3})+$")
_DECIMAL = re.compile(r"^\d+(?:[.,]\d+)?(?:[eE][+-]?\d+)?$")
_UNITS = {
    "b": 1, "byte": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "pb": 10**15, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "pib": 2**50,
}  # fmt: skip
_WITH_UNIT = re.compile(r"^(\d+(?:[.,]\d+)?)\s*([A-Za-z]+)$")


def _number_text(text: str) -> float | None:
    if _GROUPED.match(text):
        return float(re.sub(r"\D", "", text))
    if _DECIMAL.match(text):
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return None
    return None


def read_count(r: Reader, path: str, value: Any, *, units: bool = False) -> int | None:
    """A whole number; "1,250" and (for sizes) "96 GB" are understood."""
    if value is None or value == "":
        return None
    number: float | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        number = _number_text(text)
        unit = _WITH_UNIT.match(text) if units and number is None else None
        if unit and unit.group(2).lower() in _UNITS:
            number = float(unit.group(1).replace(",", ".")) * _UNITS[unit.group(2).lower()]
    if (
        number is None
        or number != number
        or not 0 <= number <= _BIGINT
        or (units is False and isinstance(number, float) and not number.is_integer())
    ):
        r.repair(
            path,
            value,
            None,
            f"{quote(value)} is not a whole number of 0 or more: left empty",
            restore=True,
        )
        return None
    result = int(round(number))
    if isinstance(value, str) and value.strip() != str(result):
        r.repair(path, value, result, f"{quote(value)} read as the number {result}", restore=True)
    return result


def read_year(r: Reader, path: str, value: Any) -> int | None:
    year = read_count(r, path, value)
    if year is not None and not 1900 <= year <= 2200:
        r.repair(
            path, value, None, f"{quote(value)} is not a plausible year: left empty", restore=True
        )
        return None
    return year


def read_flag(r: Reader, path: str, value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    result = text in ("yes", "true", "y", "1", "on")
    if text not in ("yes", "true", "y", "1", "on", "no", "false", "n", "0", "off", ""):
        r.repair(
            path,
            value,
            result,
            f"{quote(value)} is not yes or no: read as {'yes' if result else 'no'}",
            restore=True,
        )
    return result


def read_list(r: Reader, path: str, value: Any, *, split: bool = False) -> list:
    """A list from a list, one entry, or (with *split*) a comma-separated text."""
    if value is None or value == "":
        return []
    if isinstance(value, str) and split:
        items: list = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list):
        items = value
    else:
        items = [value]
    if len(items) > MAX_ITEMS:
        r.repair(
            path,
            f"{len(items)} entries",
            f"{MAX_ITEMS} entries",
            f"{len(items)} entries are too many: only the first {MAX_ITEMS} are kept",
            restore=False,
        )
        items = items[:MAX_ITEMS]
    return items


def read_words(r: Reader, path: str, value: Any, *, split: bool = True) -> list[str]:
    words = []
    for index, item in enumerate(read_list(r, path, value, split=split)):
        if isinstance(item, bool) and path.endswith("countries-shared"):
            # YAML 1.1 reads an unquoted NO (Norway) as "false".
            word = "NO" if item is False else "YES"
            r.repair(
                f"{path}[{index}]",
                item,
                word,
                f"unquoted {word} was read by YAML as a yes/no value; taken as the country code",
                restore=False,
            )
        else:
            word = read_text(r, f"{path}[{index}]", item, MAX_LIST_TEXT).strip()
        if word:
            words.append(word)
    return words


def read_items(r: Reader, path: str, value: Any, name_key: str) -> list[tuple[str, dict]]:
    """The entries of a list of objects; a plain text entry becomes ``{name_key: text}``."""
    out = []
    for index, item in enumerate(read_list(r, path, value)):
        item_path = f"{path}[{index}]"
        if isinstance(item, dict):
            out.append((item_path, dict(item)))
        elif item is not None:
            out.append((item_path, {name_key: item}))
    return out


def read_kind(r: Reader, path: str, value: Any, default: str) -> str:
    if value in (PartyKind.PERSON, PartyKind.ORGANIZATION):
        return value
    if value not in (None, ""):
        r.repair(
            path, value, default, f"unknown @type {quote(value)}: read as {default}", restore=True
        )
    return default


_ORCID = re.compile(f"({ORCID_ID})")


def read_orcid(r: Reader, path: str, value: Any, model, name: str) -> str:
    """An ORCID iD as written (URL or bare), without stray whitespace or empty placeholders."""
    text = read_field_text(r, path, value, model, name)
    clean = text.strip()
    if not clean:
        return ""
    found = _ORCID.search(clean)
    if found is None:
        r.repair(path, text, "", f"{quote(text)} holds no ORCID iD: left empty", restore=True)
        return ""
    if clean != text:
        r.repair(path, text, clean, "white space around the ORCID iD removed", restore=True)
    if not checksum_ok(found.group(1)):
        r.repair(
            path,
            clean,
            clean,
            f"ORCID iD {found.group(1)} fails its check digit: kept, but please check it",
            restore=False,
        )
    return clean
