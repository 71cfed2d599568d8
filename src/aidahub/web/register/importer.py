"""Import records in the legacy register format (Markdown with YAML front matter).

Real records are messy, and the legacy register is the authority during the migration, so
the importer takes everything it can understand. Each value it has to change is recorded in
``DatasetVersion.repairs`` as ``{"field", "raw", "repaired", "message", "restore"}`` and
reported as a warning with the file's name and line. ``restore`` says whether an export
writes the raw value back (an impossible date, a caption in a URL field, a misspelled key)
or keeps the repaired one (HTML and scripts are neutralized for good).

A record's identity is its concept DOI (``datacite."@id"``) and version label
(``datacite.version``, "1.0" when absent): importing the same files again never makes
duplicates. Each record is imported in its own transaction; a record that cannot be
imported is skipped with the reason and the batch goes on.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from aidahub.web.audit.services import record
from aidahub.web.core.text import LIQUID_TAG
from aidahub.web.register import licenses, services
from aidahub.web.register.doi import InvalidDOI, parse_doi, version_doi
from aidahub.web.register.models import (
    Author,
    Contact,
    CopyrightHolder,
    Dataset,
    DatasetState,
    DatasetVersion,
    ExampleImage,
    License,
    PartyKind,
    Publication,
    PublicationRelation,
)
from aidahub.web.register.records import (
    AUTHOR_KEYS,
    CITATION_KEYS,
    DATACITE_KEYS,
    HOLDER_KEYS,
    IMAGE_KEYS,
    LICENSE_KEYS,
    ORGAN_KEYS,
    OTHER_KEYS,
    PROVIDER_KEYS,
    PUBLISHER_KEYS,
    TOP_KEYS,
)

__all__ = [
    "ImportReport",
    "ParsedRecord",
    "RecordResult",
    "SkipRecord",
    "import_paths",
    "import_text",
    "neutralize",
    "parse_record",
    "record_files",
]

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 8_000_000  # the largest legacy record is a few kB
MAX_TEXT = 100_000  # characters in one Markdown field
MAX_ITEMS = 1_000  # entries in one list (authors, keywords, ...)
MAX_LIST_TEXT = 500  # characters of one entry of a list of words (keyword, modality, ...)
MAX_KEPT = 2_000  # characters of a raw value kept beside its repair
MAX_UNKNOWN = 20_000  # characters (as JSON) of one unknown key's value kept for export


class SkipRecord(Exception):
    """The record cannot be imported at all; the message says why."""


@dataclass
class RecordResult:
    source: str
    outcome: str  # "created" | "updated" | "unchanged" | "skipped"
    doi: str = ""
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    version: str = ""


@dataclass
class ImportReport:
    results: list[RecordResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def warnings(self) -> int:
        return sum(len(r.warnings) for r in self.results)


# -- reading the file ------------------------------------------------------------------------


class _RecordLoader(yaml.SafeLoader):
    """YAML as the legacy register wrote it, read without guessing.

    Dates stay text (``2019-04-00`` is not a date a YAML library can build, and the importer
    repairs it itself) and so do decimals (``version: 1.10`` is not 1.1). Aliases are refused:
    no record needs them and they can multiply a small file into a huge one.
    """

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not allowed in register records",
                event.start_mark,
            )
        return super().compose_node(parent, index)


_RecordLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}  # fmt: skip


def _split_front_matter(text: str) -> tuple[str, str, int]:
    """(front matter, body, line of the body's first line) of a record's text."""
    if not text.strip():
        raise SkipRecord("the file is empty")
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise SkipRecord(
            "no front matter: a record starts with a line '---', then its YAML, then another "
            "line '---'"
        )
    for number in range(1, len(lines)):
        if lines[number].rstrip() in ("---", "..."):
            front = "\n".join(lines[1:number]) + "\n"
            return front, "\n".join(lines[number + 1 :]), number + 2
    raise SkipRecord("the front matter that starts on line 1 has no closing line '---'")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _parent(path: str) -> str:
    match = re.match(r"^(.*?)(?:\.[^.\[\]]+|\[\d+\])$", path)
    return match.group(1) if match else ""


def _line_map(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    """File line (1-based; line 1 is the opening '---') of every key and list entry."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = _join(path, str(key_node.value))
            lines.setdefault(key, key_node.start_mark.line + 2)
            _line_map(value_node, key, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key = f"{path}[{index}]"
            lines[key] = item.start_mark.line + 2
            _line_map(item, key, lines)


def _load_yaml(front: str) -> tuple[Any, dict[str, int]]:
    loader = _RecordLoader(front)
    try:
        node = loader.get_single_node()
        lines: dict[str, int] = {}
        if node is not None:
            _line_map(node, "", lines)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 2}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "not valid YAML"
        raise SkipRecord(f"malformed YAML{where}: {problem}") from exc
    except yaml.YAMLError as exc:
        raise SkipRecord(f"malformed YAML: {exc}") from exc
    except RecursionError as exc:
        raise SkipRecord("malformed YAML: the front matter is nested too deeply") from exc
    finally:
        loader.dispose()
    return data, lines


# -- neutralizing markup ---------------------------------------------------------------------

# Elements whose content is code or hidden, not text: removed with what they hold.
_CONTENT_ELEMENTS = "script|style|iframe|object|embed|noscript|template|applet|noembed"
_OPEN_CONTENT_ELEMENT = re.compile(rf"<\s*({_CONTENT_ELEMENTS})\b[^>]*>?", re.I)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<![^<>]*>|<\?[^<>]*>")
_STRAY_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UNSAFE_SCHEME = re.compile(r"(?i)^\s*(?:javascript|vbscript|livescript|data|file)\s*:")
# A Markdown autolink such as <https://example.org> or <someone@example.org> is not HTML.
_AUTOLINK = re.compile(
    r"<(?:[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*|[\w.!#$%&'*+/=?^`{|}~\-]+@[\w\-]+(?:\.[\w\-]+)*)>"
)
_LINK_SCRIPT = re.compile(
    r"(?i)(\]\(\s*<?\s*|^\s*\[[^\]\n]+\]:\s*<?\s*)(?:java|vb|live)script\s*:", re.M
)


def _drop_content_elements(text: str) -> str:
    """Remove <script>...</script> and the like with what they hold (unclosed: the tag only)."""
    out, pos = [], 0
    while True:
        opening = _OPEN_CONTENT_ELEMENT.search(text, pos)
        if opening is None:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos : opening.start()])
        closing = re.compile(rf"<\s*/\s*{opening.group(1)}\s*>", re.I).search(text, opening.end())
        pos = opening.end() if closing is None else closing.end()


def _strip_tags(segment: str) -> str:
    segment = _TAG.sub("", segment)
    return _STRAY_OPEN.sub("", segment)


def _neutralize_once(text: str, markdown: bool) -> str:
    text = _CONTROL.sub("", text)
    text = _COMMENT.sub("", text)
    text = _drop_content_elements(text)
    if not markdown:
        return _strip_tags(text)
    pieces, pos = [], 0
    for link in _AUTOLINK.finditer(text):
        pieces.append(_strip_tags(text[pos : link.start()]))
        target = link.group(0)[1:-1]
        pieces.append("" if _UNSAFE_SCHEME.match(target) else link.group(0))
        pos = link.end()
    pieces.append(_strip_tags(text[pos:]))
    return _LINK_SCRIPT.sub(r"\1", "".join(pieces))


def neutralize(text: str, *, markdown: bool = False) -> str:
    """*text* without markup that could run in a browser, repeated until nothing changes.

    Plain fields lose every tag. Markdown fields keep their Markdown (and autolinks such as
    ``<https://...>``) but lose HTML elements and ``javascript:`` link targets. Elements whose
    content is code (``<script>``, ``<style>``, ...) go with their content.
    """
    for _ in range(50):
        cleaned = _neutralize_once(text, markdown)
        if cleaned == text:
            return cleaned
        text = cleaned
    # Pathological nesting: give up on keeping any '<' at all.
    return _neutralize_once(text.replace("<", ""), markdown).replace("<", "")


# -- the reader: state for one record --------------------------------------------------------


def _kept(value: Any) -> tuple[Any, bool]:
    """*value* if it is small enough to keep in the repair log, else an abbreviation."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) <= MAX_KEPT:
        return value, True
    return f"{text[:200]}… ({len(text)} characters in all, not kept)", False


def _quote(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}…{text[-4:]}"


class _Reader:
    def __init__(self, source: str, lines: dict[str, int], body_line: int):
        self.source = source
        self.lines = lines
        self.body_line = body_line
        self.repairs: list[dict] = []
        self.warnings: list[tuple[int, str]] = []
        self.unknown: dict[str, dict] = {}

    def line(self, path: str) -> int:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = _parent(path)
        return 1

    def alias(self, parent: str, old: str, new: str) -> None:
        """Lines under a misspelled key are found under its corrected name too."""
        old_path, new_path = _join(parent, old), _join(parent, new)
        for path, line in list(self.lines.items()):
            if path == old_path or path.startswith((old_path + ".", old_path + "[")):
                self.lines.setdefault(new_path + path[len(old_path) :], line)

    def repair(
        self,
        path: str,
        raw: Any,
        repaired: Any,
        message: str,
        *,
        restore: bool,
        kind: str = "value",
        line: int | None = None,
    ) -> None:
        raw, keepable = _kept(raw)
        repaired, _ = _kept(repaired)
        entry = {
            "field": path,
            "raw": raw,
            "repaired": repaired,
            "message": message,
            "restore": bool(restore and keepable),
        }
        if kind != "value":
            entry["kind"] = kind
        self.repairs.append(entry)
        line = line or self.line(path)
        self.warnings.append((line, f"{self.source}:{line}: {path}: {message}"))

    def keep_unknown(self, path: str, mapping: dict) -> None:
        """Keys the hub does not model, kept in ``extra`` and written back on export."""
        kept = {}
        for key, value in mapping.items():
            size = len(json.dumps(value, default=str))
            if size > MAX_UNKNOWN:
                self.repair(
                    _join(path, key),
                    None,
                    None,
                    f"unknown key with a value of {size} characters: not kept",
                    restore=False,
                )
                continue
            kept[key] = value
        if kept:
            self.unknown[path] = kept


# -- field readers ---------------------------------------------------------------------------


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length or MAX_TEXT


def _text(r: _Reader, path: str, value: Any, limit: int = MAX_TEXT) -> str:
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


def _field_text(r: _Reader, path: str, value: Any, model, name: str) -> str:
    return _text(r, path, value, _max_length(model, name))


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


def _url(r: _Reader, path: str, value: Any, limit: int = 500) -> str:
    """A link, or "" when the field holds something else (often a caption)."""
    text = _text(r, path, value, limit=max(limit, MAX_TEXT)).strip()
    if not text:
        return ""
    if _UNSAFE_SCHEME.match(_CONTROL.sub("", text).replace(" ", "")):
        r.repair(path, text, "", f"unsafe link {_quote(text)} removed", restore=False)
        return ""
    if not _looks_like_url(text):
        r.repair(
            path,
            text,
            "",
            f"{_quote(text)} is not a URL (a caption or note?): left empty; the text is "
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


def _email(r: _Reader, path: str, value: Any) -> str:
    text = _text(r, path, value, limit=MAX_TEXT).strip()
    if not text:
        return ""
    address = text[len("mailto:") :] if text.lower().startswith("mailto:") else text
    try:
        validate_email(address)
    except ValidationError:
        r.repair(
            path, text, "", f"{_quote(text)} is not an e-mail address: left empty", restore=True
        )
        return ""
    if address != text:
        r.repair(path, text, address, "'mailto:' removed from the e-mail address", restore=True)
    return address


_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ][0-9:.]+(?:Z|[+-][0-9:]+)?)?$")


def _date(r: _Reader, path: str, value: Any) -> dt.date | None:
    """An ISO date; impossible ones (day or month 00, 31 April) are read as the nearest date."""
    if value is None or value == "":
        return None
    match = _DATE.match(str(value).strip())
    if not match:
        r.repair(
            path,
            value,
            None,
            f"{_quote(value)} is not a date (YYYY-MM-DD): left empty",
            restore=True,
        )
        return None
    year = int(match.group(1))
    month = int(match.group(2) or 1)
    day = int(match.group(3) or 1)
    if not 1 <= month <= 12 and month != 0:
        r.repair(
            path, value, None, f"{_quote(value)} has no month {month}: left empty", restore=True
        )
        return None
    month = max(month, 1)
    day = min(max(day, 1), calendar.monthrange(year, month)[1]) if year >= 1 else 1
    try:
        day_value = dt.date(year, month, day)
    except ValueError:
        r.repair(path, value, None, f"{_quote(value)} is not a date: left empty", restore=True)
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
        r.repair(path, value, iso, f"{what} {_quote(value)} read as {iso}", restore=True)
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


def _count(r: _Reader, path: str, value: Any, *, units: bool = False) -> int | None:
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
            f"{_quote(value)} is not a whole number of 0 or more: left empty",
            restore=True,
        )
        return None
    result = int(round(number))
    if isinstance(value, str) and value.strip() != str(result):
        r.repair(path, value, result, f"{_quote(value)} read as the number {result}", restore=True)
    return result


def _year(r: _Reader, path: str, value: Any) -> int | None:
    year = _count(r, path, value)
    if year is not None and not 1900 <= year <= 2200:
        r.repair(
            path, value, None, f"{_quote(value)} is not a plausible year: left empty", restore=True
        )
        return None
    return year


def _flag(r: _Reader, path: str, value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    result = text in ("yes", "true", "y", "1", "on")
    if text not in ("yes", "true", "y", "1", "on", "no", "false", "n", "0", "off", ""):
        r.repair(
            path,
            value,
            result,
            f"{_quote(value)} is not yes or no: read as {'yes' if result else 'no'}",
            restore=True,
        )
    return result


def _as_list(r: _Reader, path: str, value: Any, *, split: bool = False) -> list:
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


def _words(r: _Reader, path: str, value: Any, *, split: bool = True) -> list[str]:
    words = []
    for index, item in enumerate(_as_list(r, path, value, split=split)):
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
            word = _text(r, f"{path}[{index}]", item, MAX_LIST_TEXT).strip()
        if word:
            words.append(word)
    return words


def _items(r: _Reader, path: str, value: Any, name_key: str) -> list[tuple[str, dict]]:
    """The entries of a list of objects; a plain text entry becomes ``{name_key: text}``."""
    out = []
    for index, item in enumerate(_as_list(r, path, value)):
        item_path = f"{path}[{index}]"
        if isinstance(item, dict):
            out.append((item_path, dict(item)))
        elif item is not None:
            out.append((item_path, {name_key: item}))
    return out


def _kind(r: _Reader, path: str, value: Any, default: str) -> str:
    if value in (PartyKind.PERSON, PartyKind.ORGANIZATION):
        return value
    if value not in (None, ""):
        r.repair(
            path, value, default, f"unknown @type {_quote(value)}: read as {default}", restore=True
        )
    return default


# -- the blocks of a record ------------------------------------------------------------------

_SCHEMA: dict[str, tuple[str, ...]] = {
    "": TOP_KEYS,
    "datacite": DATACITE_KEYS,
    "other": OTHER_KEYS,
    "datacite.author[]": AUTHOR_KEYS,
    "datacite.copyrightHolder[]": HOLDER_KEYS,
    "datacite.provider[]": PROVIDER_KEYS,
    "datacite.publisher": PUBLISHER_KEYS,
    "datacite.license[]": LICENSE_KEYS,
    "datacite.citation[]": CITATION_KEYS,
    "other.organ[]": ORGAN_KEYS,
    "other.exampleImage[]": IMAGE_KEYS,
}
_MARKDOWN_FIELDS = {"datacite.description", "other.annotation", "datacite.license[].abstract"}


def _squash(key: str) -> str:
    return re.sub(r"[\s_\-@]", "", key.lower())


def _known_key(key: str, known: tuple[str, ...]) -> str | None:
    squashed = {_squash(k): k for k in known}
    if _squash(key) in squashed:
        return squashed[_squash(key)]
    close = difflib.get_close_matches(_squash(key), list(squashed), n=1, cutoff=0.85)
    return squashed[close[0]] if close else None


# Keys that some records use for a field the register knows under another name.
_KEY_ALIASES: dict[str, dict[str, str]] = {"other": {"numberOfImages": "numberOfScans"}}


def _fix_keys(r: _Reader, node: Any, pattern: str, path: str) -> Any:
    """Misspelled keys are read as the key they were meant to be (and written back as found)."""
    if isinstance(node, list):
        return [_fix_keys(r, item, f"{pattern}[]", f"{path}[{i}]") for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    known = _SCHEMA.get(pattern, ())
    fixed: dict = {}
    for raw_key, value in node.items():
        key = str(raw_key) if not isinstance(raw_key, str) else raw_key
        if known and key not in known:
            alias = _KEY_ALIASES.get(pattern, {}).get(key)
            meant = alias or _known_key(key, known)
            if meant and meant not in node and meant not in fixed:
                r.alias(path, key, meant)
                what = "key" if alias else "misspelled key"
                r.repair(
                    _join(path, meant),
                    key,
                    meant,
                    f"{what} {key!r} read as {meant!r} (written back as found)",
                    restore=True,
                    kind="key",
                    line=r.line(_join(path, key)),
                )
                key = meant
        fixed[key] = _fix_keys(r, value, _join(pattern, key), _join(path, key))
    return fixed


def _neutralize_tree(r: _Reader, node: Any, pattern: str, path: str) -> Any:
    if isinstance(node, str):
        clean = neutralize(node, markdown=pattern in _MARKDOWN_FIELDS)
        if clean != node:
            r.repair(
                path,
                node,
                clean,
                "HTML or control characters removed: markup is never passed on",
                restore=False,
            )
        return clean
    if isinstance(node, list):
        return [_neutralize_tree(r, v, f"{pattern}[]", f"{path}[{i}]") for i, v in enumerate(node)]
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            clean_key = neutralize(key)
            if clean_key != key:
                r.repair(
                    _join(path, clean_key), key, clean_key, "HTML removed from a key", restore=False
                )
            out[clean_key] = _neutralize_tree(r, value, _join(pattern, key), _join(path, key))
        return out
    return node


@dataclass
class ParsedRecord:
    """Everything one record says, repaired and ready to store."""

    source: str
    concept_doi: str
    label: str
    short_name: str
    hidden: bool
    fields: dict[str, Any]
    authors: list[dict] = field(default_factory=list)
    holders: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    licenses: list[dict] = field(default_factory=list)
    publications: list[dict] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    repairs: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """Hash of what the record stores; repairs that exports do not use are left out."""
        payload = {
            "concept_doi": self.concept_doi, "label": self.label, "short_name": self.short_name,
            "hidden": self.hidden, "fields": self.fields, "authors": self.authors,
            "holders": self.holders, "contacts": self.contacts, "images": self.images,
            "licenses": self.licenses, "publications": self.publications, "extra": self.extra,
            "repairs": [r for r in self.repairs if r["restore"]],
        }  # fmt: skip
        canonical = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _concept_doi(r: _Reader, datacite: dict) -> str:
    raw = datacite.pop("@id", None)
    line = r.line("datacite.@id") if raw is not None else r.line("datacite")
    if raw is None or raw == "":
        raise SkipRecord(
            f'line {line}: no DOI: the record\'s datacite "@id" is missing, and '
            "a record is known by its dataset's DOI"
        )
    try:
        return parse_doi(str(raw))
    except InvalidDOI as exc:
        raise SkipRecord(f'line {line}: datacite "@id": {exc}') from exc


def _label(r: _Reader, concept_doi: str, datacite: dict) -> str:
    raw = datacite.pop("version", None)
    label = "1.0" if raw is None or raw == "" else str(raw).strip()
    try:
        version_doi(concept_doi, label)
    except InvalidDOI as exc:
        raise SkipRecord(f"line {r.line('datacite.version')}: {exc}") from exc
    return label


_ORCID = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])")


def orcid_checksum_ok(orcid: str) -> bool:
    """ISO 7064 MOD 11-2, the check digit ORCID iDs end with."""
    digits = orcid.replace("-", "")
    total = 0
    for ch in digits[:-1]:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    return digits[-1] == ("X" if check == 10 else str(check))


def _orcid(r: _Reader, path: str, value: Any, model, name: str) -> str:
    """An ORCID iD as written (URL or bare), without stray whitespace or empty placeholders."""
    text = _field_text(r, path, value, model, name)
    clean = text.strip()
    if not clean:
        return ""
    found = _ORCID.search(clean)
    if found is None:
        r.repair(path, text, "", f"{_quote(text)} holds no ORCID iD: left empty", restore=True)
        return ""
    if clean != text:
        r.repair(path, text, clean, "white space around the ORCID iD removed", restore=True)
    if not orcid_checksum_ok(found.group(1)):
        r.repair(
            path,
            clean,
            clean,
            f"ORCID iD {found.group(1)} fails its check digit: kept, but please check it",
            restore=False,
        )
    return clean


def _authors(r: _Reader, value: Any) -> list[dict]:
    authors = []
    for path, item in _items(r, "datacite.author", value, "name"):
        authors.append({
            "name": _field_text(r, f"{path}.name", item.pop("name", None), Author, "name"),
            "orcid": _orcid(r, f"{path}.@id", item.pop("@id", None), Author, "orcid"),
            "kind": _kind(r, f"{path}.@type", item.pop("@type", None), PartyKind.PERSON),
            "affiliation": _field_text(r, f"{path}.affiliation", item.pop("affiliation", None),
                                       Author, "affiliation"),
        })  # fmt: skip
        r.keep_unknown(path, item)
    return authors


def _holders(r: _Reader, value: Any) -> list[dict]:
    """Copyright holders as the policy defines them (section "Roles").

    The copyright holder is a research institution represented by a responsible researcher.
    Legacy records list the institution, then (sometimes) the researcher as a Person: that
    Person becomes the institution's responsible researcher. A Person on their own is
    accepted, with a warning, as a holder without an institution.
    """
    holders: list[dict] = []
    after_institution = False
    for path, item in _items(r, "datacite.copyrightHolder", value, "name"):
        raw_type = item.pop("@type", None)
        if raw_type == PartyKind.PERSON:
            name = _field_text(
                r, f"{path}.name", item.pop("name", None), CopyrightHolder, "responsible_researcher"
            ).strip()
            orcid = _orcid(
                r, f"{path}.@id", item.pop("@id", None), CopyrightHolder, "researcher_orcid"
            )
            if after_institution:
                holders[-1].update(responsible_researcher=name, researcher_orcid=orcid)
            else:
                r.repair(
                    path,
                    name,
                    name,
                    f"a person ({name}) is listed as copyright holder; the policy's "
                    "copyright holder is a research institution represented by a "
                    "responsible researcher: recorded as responsible researcher without "
                    "an institution",
                    restore=False,
                )
                holders.append(
                    {
                        "institution": "",
                        "institution_url": "",
                        "responsible_researcher": name,
                        "researcher_orcid": orcid,
                    }
                )
            after_institution = False
        else:
            _kind(r, f"{path}.@type", raw_type, PartyKind.ORGANIZATION)
            holders.append({
                "institution": _field_text(r, f"{path}.name", item.pop("name", None),
                                           CopyrightHolder, "institution").strip(),
                "institution_url": _url(r, f"{path}.url", item.pop("url", None)),
                "responsible_researcher": "", "researcher_orcid": "",
            })  # fmt: skip
            after_institution = True
        r.keep_unknown(path, item)
    return holders


def _host(url: str) -> str:
    return (urlsplit(url.strip()).hostname or "") if url else ""


def _is_hub_contact(
    kind: str, name: str, email: str, identifier: str, publisher: str, record_url: str = ""
) -> bool:
    """Is this contact the hub itself (the policy's "contact person from AIDA")?

    Legacy records name the hub as an Organization whose @id is the register's address; the
    register may have moved since, so the host of the record's own landing-page URL counts.
    """
    if email and email.lower() == settings.DATA_DIRECTOR_EMAIL.lower():
        return True
    if kind != PartyKind.ORGANIZATION:
        return False
    hub_hosts = {_host(settings.BASE_URL), _host(record_url)} - {""}
    names = {settings.HUB_NAME.strip().lower(), publisher.strip().lower()} - {""}
    return _host(identifier) in hub_hosts or name.strip().lower() in names


def _contacts(r: _Reader, value: Any, publisher: str, record_url: str = "") -> list[dict]:
    contacts = []
    for path, item in _items(r, "datacite.provider", value, "name"):
        contact = {
            "name": _field_text(r, f"{path}.name", item.pop("name", None), Contact, "name"),
            "email": _email(r, f"{path}.email", item.pop("email", None)),
            "identifier": _field_text(r, f"{path}.@id", item.pop("@id", None), Contact,
                                      "identifier"),
            "kind": _kind(r, f"{path}.@type", item.pop("@type", None), PartyKind.PERSON),
        }  # fmt: skip
        contact["identifier"] = contact["identifier"].strip()
        contact["is_hub_contact"] = _is_hub_contact(
            contact["kind"],
            contact["name"],
            contact["email"],
            contact["identifier"],
            publisher,
            record_url,
        )
        contacts.append(contact)
        r.keep_unknown(path, item)
    return contacts


def _publisher(r: _Reader, value: Any) -> str:
    if isinstance(value, dict):
        item = dict(value)
        name = _field_text(
            r, "datacite.publisher.name", item.pop("name", None), DatasetVersion, "publisher"
        )
        if item.get("@type") in (None, PartyKind.ORGANIZATION):
            item.pop("@type", None)
        r.keep_unknown("datacite.publisher", item)
        return name
    return _field_text(r, "datacite.publisher", value, DatasetVersion, "publisher")


def _licenses(r: _Reader, value: Any) -> list[dict]:
    out = []
    for path, item in _items(r, "datacite.license", value, "name"):
        name = _field_text(r, f"{path}.name", item.pop("name", None), License, "name")
        abstract = _text(r, f"{path}.abstract", item.pop("abstract", None))
        kind = licenses.kind_for_name(name)
        if item.get("@type") in (None, "CreativeWork"):
            item.pop("@type", None)
        out.append({
            "kind": kind, "name": name, "abstract": abstract,
            "identifier": _url(r, f"{path}.id", item.pop("id", None)),
            "custom_text": abstract if kind == "custom" else "",
        })  # fmt: skip
        r.keep_unknown(path, item)
    return out


def _publications(r: _Reader, value: Any) -> list[dict]:
    out = []
    for path, item in _items(r, "datacite.citation", value, "name"):
        title = _field_text(r, f"{path}.name", item.pop("name", None), Publication, "title")
        raw_id = item.pop("@id", None)
        doi = url = ""
        if raw_id not in (None, ""):
            try:
                doi = parse_doi(str(raw_id))
            except InvalidDOI:
                url = _url(r, f"{path}.@id", raw_id)
        if item.get("@type") in (None, "CreativeWork"):
            item.pop("@type", None)
        out.append({"title": title, "doi": doi, "url": url})
        r.keep_unknown(path, item)
    return out


def _organs(r: _Reader, value: Any) -> list[dict]:
    organs = []
    for path, item in _items(r, "other.organ", value, "name"):
        organ = {"name": _text(r, f"{path}.name", item.pop("name", None), MAX_LIST_TEXT)}
        sctid = item.pop("sctid", None)
        if sctid not in (None, ""):
            organ["sctid"] = _text(r, f"{path}.sctid", sctid, 30).strip()
        organs.append(organ)
        r.keep_unknown(path, item)
    return organs


def _images(r: _Reader, value: Any) -> list[dict]:
    images = []
    for path, item in _items(r, "other.exampleImage", value, "url"):
        images.append({
            "caption": _field_text(r, f"{path}.title", item.pop("title", None), ExampleImage,
                                   "caption"),
            "url": _url(r, f"{path}.url", item.pop("url", None)),
            "thumbnail_url": _url(r, f"{path}.thumbnail-url", item.pop("thumbnail-url", None)),
        })  # fmt: skip
        r.keep_unknown(path, item)
    return images


_NO_AGE_SPAN = {"-", "–", "—", "n/a", "na", "unknown", "?"}


def _age_span(r: _Reader, value: Any) -> str:
    text = _field_text(r, "other.age-span", value, DatasetVersion, "age_span").strip()
    if text.lower() in _NO_AGE_SPAN:
        r.repair(
            "other.age-span",
            value,
            "",
            f"{_quote(value)} means no age span: left empty",
            restore=True,
        )
        return ""
    return text


def _version_fields(r: _Reader, datacite: dict, other: dict) -> dict[str, Any]:
    dv = DatasetVersion
    pop_d, pop_o = datacite.pop, other.pop
    return {
        "title": _field_text(r, "datacite.name", pop_d("name", None), dv, "title"),
        "subject": _field_text(r, "datacite.about", pop_d("about", None), dv, "subject"),
        "url": _url(r, "datacite.url", pop_d("url", None)),
        "copyright_year": _year(r, "datacite.copyrightYear", pop_d("copyrightYear", None)),
        "date_created": _date(r, "datacite.dateCreated", pop_d("dateCreated", None)),
        "date_published": _date(r, "datacite.datePublished", pop_d("datePublished", None)),
        "date_modified": _date(r, "datacite.dateModified", pop_d("dateModified", None)),
        "keywords": _words(r, "datacite.keywords", pop_d("keywords", None)),
        "description": _text(r, "datacite.description", pop_d("description", None)),
        "origin": _field_text(r, "other.origin", pop_o("origin", None), dv, "origin"),
        "status": _field_text(r, "other.status", pop_o("status", None), dv, "status"),
        "annotation_description": _text(r, "other.annotation", pop_o("annotation", None)),
        "countries_shared": _words(r, "other.countries-shared",
                                   pop_o("countries-shared", None)),
        "organs": _organs(r, pop_o("organ", None)),
        "age_span": _age_span(r, pop_o("age-span", None)),
        "size_bytes": _count(r, "other.bytes", pop_o("bytes", None), units=True),
        "number_of_scans": _count(r, "other.numberOfScans", pop_o("numberOfScans", None)),
        "number_of_annotations": _count(r, "other.numberOfAnnotations",
                                        pop_o("numberOfAnnotations", None)),
        "resolution": _field_text(r, "other.resolution", pop_o("resolution", None), dv,
                                  "resolution"),
        "modalities": _words(r, "other.modality", pop_o("modality", None)),
        "scanners": _words(r, "other.scanner", pop_o("scanner", None), split=False),
        "stain": _field_text(r, "other.stain", pop_o("stain", None), dv, "stain"),
        "phase": _field_text(r, "other.phase", pop_o("phase", None), dv, "phase"),
        "image": _url(r, "other.image", pop_o("image", None)),
        "case_level_annotations": _field_text(r, "other.caseLevelAnnotations",
                                              pop_o("caseLevelAnnotations", None), dv,
                                              "case_level_annotations"),
    }  # fmt: skip


# -- the body --------------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$", re.M)
_LICENSE_HEADING = re.compile(r"^licen[cs]es?$", re.I)


def _split_license_section(body: str) -> tuple[str, str, int]:
    """(body without the legacy license section, the section, where it was).

    The section runs from a "License" heading to the next heading of the same or a higher
    level, or to the end. The hub renders license texts from the policy's templates, so a
    landing page would otherwise show them twice.
    """
    headings = list(_HEADING.finditer(body))
    for index, heading in enumerate(headings):
        if not _LICENSE_HEADING.match(heading.group(2).strip()):
            continue
        level = len(heading.group(1))
        end = len(body)
        for later in headings[index + 1 :]:
            if len(later.group(1)) <= level:
                end = later.start()
                break
        start = heading.start()
        return body[:start] + body[end:], body[start:end], start
    return body, "", 0


def _body_line(r: _Reader, raw: str, clean: str) -> int:
    same = 0
    for a, b in zip(raw, clean, strict=False):
        if a != b:
            break
        same += 1
    return r.body_line + raw.count("\n", 0, same)


def _read_body(r: _Reader, body: str, description: str) -> tuple[str, dict]:
    clean = neutralize(body, markdown=True)
    if clean != body:
        r.repair(
            "body",
            body,
            clean,
            "HTML removed from the Markdown body: markup is never passed on",
            restore=False,
            line=_body_line(r, body, clean),
        )
    body = clean
    if len(body) > MAX_TEXT * 2:
        r.repair(
            "body",
            body,
            body[: MAX_TEXT * 2],
            f"a body of {len(body)} characters is too long: cut to {MAX_TEXT * 2}",
            restore=False,
        )
        body = body[: MAX_TEXT * 2]
    for path, text in (("datacite.description", description), ("body", body)):
        tag = LIQUID_TAG.search(text)
        if tag:
            line = (
                r.body_line + text.count("\n", 0, tag.start()) if path == "body" else r.line(path)
            )
            r.repair(
                path,
                tag.group(0)[:200],
                "",
                f"template tags such as {_quote(tag.group(0), 60)} are kept for export "
                "but shown without them on the hub",
                restore=False,
                line=line,
            )
            break
    additional, section, at = _split_license_section(body)
    extra = {"legacy_license_section": section, "legacy_license_at": at} if section else {}
    return additional, extra


# -- the whole record ------------------------------------------------------------------------


def _normalize_text(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise SkipRecord("not a text file (it contains NUL bytes)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _block(r: _Reader, data: dict, key: str) -> dict:
    block = data.pop(key, None)
    if block is None or isinstance(block, dict):
        return dict(block or {})
    r.repair(
        key, block, {}, f"the {key} block is not a set of keys and values: left out", restore=False
    )
    return {}


def parse_record(text: str, source: str) -> ParsedRecord:
    """Read one record; raise SkipRecord when it cannot be imported at all."""
    text = _normalize_text(text)
    front, body, body_line = _split_front_matter(text)
    data, lines = _load_yaml(front)
    if data is None:
        raise SkipRecord("the front matter is empty: a record needs at least its DOI")
    if not isinstance(data, dict):
        raise SkipRecord("the front matter is not a set of keys and values")
    r = _Reader(source, lines, body_line)
    data = _fix_keys(r, data, "", "")
    data = _neutralize_tree(r, data, "", "")
    datacite = data.pop("datacite", None)
    if not isinstance(datacite, dict):
        raise SkipRecord('no datacite block: a record is known by its DOI, datacite "@id"')
    datacite = dict(datacite)
    concept_doi = _concept_doi(r, datacite)
    label = _label(r, concept_doi, datacite)
    other = _block(r, data, "other")
    hidden = _flag(r, "hidden", data.pop("hidden", None))
    synthetic = _flag(r, "synthetic", data.pop("synthetic", None))
    for key, expected in (("@context", None), ("@type", "Dataset")):
        if expected is None or datacite.get(key) == expected:
            datacite.pop(key, None)
    publisher = _publisher(r, datacite.pop("publisher", None))
    fields = _version_fields(r, datacite, other)
    if not fields["title"]:
        fields["title"] = concept_doi
        r.repair(
            "datacite.name",
            None,
            concept_doi,
            "no title (datacite name): the DOI is shown instead",
            restore=True,
        )
    fields.update(publisher=publisher, synthetic=synthetic)
    short_name = _text(
        r, "other.shortName", other.pop("shortName", None), _max_length(Dataset, "short_name")
    ).strip()
    parsed = ParsedRecord(
        source=source, concept_doi=concept_doi, label=label,
        short_name=short_name or concept_doi.rsplit("/", 1)[-1].upper()[:60], hidden=hidden,
        fields=fields, authors=_authors(r, datacite.pop("author", None)),
        holders=_holders(r, datacite.pop("copyrightHolder", None)),
        contacts=_contacts(r, datacite.pop("provider", None), publisher, fields["url"]),
        images=_images(r, other.pop("exampleImage", None)),
        licenses=_licenses(r, datacite.pop("license", None)),
        publications=_publications(r, datacite.pop("citation", None)),
    )  # fmt: skip
    additional, body_extra = _read_body(r, body, fields["description"])
    fields["additional"] = additional
    for path, rest in (("", data), ("datacite", datacite), ("other", other)):
        r.keep_unknown(path, rest)
    parsed.extra = {**body_extra, **({"unknown": r.unknown} if r.unknown else {})}
    parsed.repairs = r.repairs
    parsed.warnings = [text for _, text in sorted(r.warnings, key=lambda w: w[0])]
    return parsed


# -- storing ---------------------------------------------------------------------------------

_PART_MODELS = (Author, CopyrightHolder, Contact, ExampleImage, License)


def _create_parts(version: DatasetVersion, parsed: ParsedRecord) -> None:
    """Add the record's ordered parts; the legacy register may change published versions."""
    rows = ((Author, parsed.authors), (CopyrightHolder, parsed.holders),
            (Contact, parsed.contacts), (ExampleImage, parsed.images),
            (License, parsed.licenses))  # fmt: skip
    for model, items in rows:
        for position, values in enumerate(items):
            model(version=version, position=position, **values).save(allow_published_change=True)
    for position, values in enumerate(parsed.publications):
        Publication.objects.create(
            dataset=version.dataset,
            version=version,
            position=position,
            relation=PublicationRelation.DESCRIBES,
            **values,
        )


def _version_key(label: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", label))


def _apply(version: DatasetVersion, parsed: ParsedRecord) -> None:
    for name, value in parsed.fields.items():
        if name == "date_published" and value is None and version.date_published:
            continue  # keep the date the hub published it
        setattr(version, name, value)
    version.repairs = parsed.repairs
    version.extra = parsed.extra
    version.content_hash = parsed.content_hash


def _publish(dataset: Dataset, version: DatasetVersion, actor) -> None:
    try:
        services.publish(dataset, version, actor=actor)
    except services.InvalidTransition as exc:
        raise SkipRecord(f"{exc}; it was left as it is") from exc


def _create(parsed: ParsedRecord, actor) -> tuple[Dataset, DatasetVersion]:
    dataset = Dataset.objects.create(
        concept_doi=parsed.concept_doi, short_name=parsed.short_name, hidden=parsed.hidden
    )
    version = DatasetVersion(
        dataset=dataset, version=parsed.label, doi=version_doi(parsed.concept_doi, parsed.label)
    )
    _apply(version, parsed)
    version.save()
    _create_parts(version, parsed)
    _publish(dataset, version, actor)
    return dataset, version


def _update(dataset: Dataset, version: DatasetVersion, parsed: ParsedRecord, actor) -> None:
    """Change a version in place: during the migration the legacy register is the authority."""
    _apply(version, parsed)
    version.save(allow_published_change=True)
    for model in _PART_MODELS:
        model.objects.filter(version=version).delete()
    Publication.objects.filter(version=version, relation=PublicationRelation.DESCRIBES).delete()
    _create_parts(version, parsed)
    if version.is_published:
        services.snapshot_licenses(version, version.policy_version, allow_published_change=True)
    else:
        _publish(dataset, version, actor)


def _add_version(dataset: Dataset, parsed: ParsedRecord, actor) -> DatasetVersion:
    previous = dataset.latest_version
    version = DatasetVersion(
        dataset=dataset, version=parsed.label, doi=version_doi(dataset.concept_doi, parsed.label)
    )
    _apply(version, parsed)
    version.save()
    _create_parts(version, parsed)
    _publish(dataset, version, actor)
    if previous and _version_key(previous.version) > _version_key(parsed.label):
        # An older version imported late does not become the newest.
        Dataset.objects.filter(pk=dataset.pk).update(latest_version=previous)
    return version


def _store(parsed: ParsedRecord, actor) -> tuple[str, Dataset, DatasetVersion]:
    with transaction.atomic():
        dataset = (
            Dataset.objects.select_for_update()
            .filter(concept_doi__iexact=parsed.concept_doi)
            .first()
        )
        if dataset is None:
            dataset, version = _create(parsed, actor)
            outcome = "created"
        else:
            if dataset.state == DatasetState.WITHDRAWN:
                raise SkipRecord(f"{dataset.concept_doi} is withdrawn; it was left as it is")
            version = dataset.versions.filter(version=parsed.label).first()
            if version is not None and version.content_hash == parsed.content_hash:
                return "unchanged", dataset, version
            if version is not None:
                _update(dataset, version, parsed, actor)
            else:
                version = _add_version(dataset, parsed, actor)
            outcome = "updated"
        dataset.refresh_from_db()
        if dataset.latest_version_id in (None, version.pk):
            dataset.short_name, dataset.hidden = parsed.short_name, parsed.hidden
            dataset.save(update_fields=["short_name", "hidden", "updated_at"])
        record("register.record.import", actor=actor, obj=dataset, data={
            "source": parsed.source, "outcome": outcome, "version": parsed.label,
            "doi": version.doi, "content_hash": parsed.content_hash,
            "repairs": [r["field"] for r in parsed.repairs],
        })  # fmt: skip
    return outcome, dataset, version


def import_text(text: str, source: str, *, actor=None) -> RecordResult:
    """Import one record's text; *source* names it in messages (usually the file name)."""
    try:
        parsed = parse_record(text, source)
    except SkipRecord as exc:
        return RecordResult(source, "skipped", error=str(exc))
    except Exception as exc:  # one bad record never stops the batch
        log.exception("could not read %s", source)
        return RecordResult(source, "skipped", error=f"could not be read ({exc!r})")
    result = RecordResult(
        source, "skipped", doi=parsed.concept_doi, warnings=parsed.warnings, version=parsed.label
    )
    try:
        result.outcome, _, _ = _store(parsed, actor)
    except SkipRecord as exc:
        result.error = str(exc)
    except Exception as exc:
        log.exception("could not store %s", source)
        result.error = f"could not be stored ({exc!r}); nothing was changed"
    return result


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise SkipRecord("not a text file (it contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SkipRecord(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} is not valid UTF-8"
        ) from exc


def _import_file(path: Path | None, source: str, actor) -> RecordResult:
    try:
        if path is None:
            raise SkipRecord("no such file or folder")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SkipRecord(f"the file has {size} bytes; a record has at most {MAX_FILE_BYTES}")
        text = _decode(path.read_bytes())
    except SkipRecord as exc:
        return RecordResult(source, "skipped", error=str(exc))
    except OSError as exc:
        return RecordResult(source, "skipped", error=f"could not be read: {exc.strerror}")
    return import_text(text, source, actor=actor)


def record_files(paths: Iterable[Path]) -> list[tuple[str, Path | None]]:
    """(name shown in messages, file) for each record; folders are walked for ``*.md``."""
    found: list[tuple[str, Path | None]] = []
    for path in map(Path, paths):
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*.md") if p.is_file()):
                found.append((file.relative_to(path).as_posix(), file))
        elif path.is_file():
            found.append((path.name, path))
        else:
            found.append((str(path), None))
    return found


def import_paths(
    paths: list[Path], *, actor=None, on_result: Callable[[RecordResult], None] | None = None
) -> ImportReport:
    """Import records from files and folders, one transaction per record."""
    report = ImportReport()
    for source, path in record_files(paths):
        result = _import_file(path, source, actor)
        report.results.append(result)
        if on_result is not None:
            on_result(result)
    return report
