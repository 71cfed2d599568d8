"""The keys of a record, put right before any value is read.

Each block has its known keys (``records``); a misspelled key is read as the key it was
meant to be, and markup is neutralized in every key and text.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from aidahub.web.core.text import neutralize
from aidahub.web.register.legacy.reader import Reader, join_path
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

__all__ = ["MARKDOWN_FIELDS", "SCHEMA", "fix_keys", "neutralize_tree"]

SCHEMA: dict[str, tuple[str, ...]] = {
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
MARKDOWN_FIELDS = {"datacite.description", "other.annotation", "datacite.license[].abstract"}


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


def fix_keys(r: Reader, node: Any, pattern: str, path: str) -> Any:
    """Misspelled keys are read as the key they were meant to be (and written back as found)."""
    if isinstance(node, list):
        return [fix_keys(r, item, f"{pattern}[]", f"{path}[{i}]") for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    known = SCHEMA.get(pattern, ())
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
                    join_path(path, meant),
                    key,
                    meant,
                    f"{what} {key!r} read as {meant!r} (written back as found)",
                    restore=True,
                    kind="key",
                    line=r.line(join_path(path, key)),
                )
                key = meant
        fixed[key] = fix_keys(r, value, join_path(pattern, key), join_path(path, key))
    return fixed


def neutralize_tree(r: Reader, node: Any, pattern: str, path: str) -> Any:
    if isinstance(node, str):
        clean = neutralize(node, markdown=pattern in MARKDOWN_FIELDS)
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
        return [neutralize_tree(r, v, f"{pattern}[]", f"{path}[{i}]") for i, v in enumerate(node)]
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            clean_key = neutralize(key)
            if clean_key != key:
                r.repair(
                    join_path(path, clean_key),
                    key,
                    clean_key,
                    "HTML removed from a key",
                    restore=False,
                )
            out[clean_key] = neutralize_tree(
                r, value, join_path(pattern, key), join_path(path, key)
            )
        return out
    return node
