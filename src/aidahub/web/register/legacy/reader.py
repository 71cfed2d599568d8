"""The state of reading one record: where each key is, what was repaired, what is unknown.

Paths name a value in the front matter the way messages show it to people:
``datacite.copyrightHolder[0].url``.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["Reader", "SkipRecord", "join_path", "parent_path", "quote"]

MAX_KEPT = 2_000  # characters of a raw value kept beside its repair
MAX_UNKNOWN = 20_000  # characters (as JSON) of one unknown key's value kept for export


class SkipRecord(Exception):
    """The record cannot be imported at all; the message says why."""


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def parent_path(path: str) -> str:
    match = re.match(r"^(.*?)(?:\.[^.\[\]]+|\[\d+\])$", path)
    return match.group(1) if match else ""


def _kept(value: Any) -> tuple[Any, bool]:
    """*value* if it is small enough to keep in the repair log, else an abbreviation."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) <= MAX_KEPT:
        return value, True
    return f"{text[:200]}… ({len(text)} characters in all, not kept)", False


def quote(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}…{text[-4:]}"


class Reader:
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
            path = parent_path(path)
        return 1

    def alias(self, parent: str, old: str, new: str) -> None:
        """Lines under a misspelled key are found under its corrected name too."""
        old_path, new_path = join_path(parent, old), join_path(parent, new)
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
                    join_path(path, key),
                    None,
                    None,
                    f"unknown key with a value of {size} characters: not kept",
                    restore=False,
                )
                continue
            kept[key] = value
        if kept:
            self.unknown[path] = kept
