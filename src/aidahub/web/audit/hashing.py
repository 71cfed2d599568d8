"""How an audit event is hashed: the fields, their canonical form, and the chain's start.

Each event's hash covers the hash of the event before it and its own fields, so changing,
removing or reordering any row changes every hash after it. Request details were added to
events later: a request field is hashed only when it holds a value, so the events written
before it existed keep the hashes they were written with, while filling in or clearing a
value afterwards still changes the hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64

# Hashed in every event, exactly as written since the first release.
CORE_FIELDS = (
    "created_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "data",
    "request_ip",
)
# Hashed only when not empty (see the module docstring).
REQUEST_FIELDS = ("request_method", "request_path", "user_agent", "request_id")
STORED_FIELDS = ("id", *CORE_FIELDS, *REQUEST_FIELDS, "prev_hash", "hash")


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str).encode()


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + _canonical(fields)).hexdigest()


def hashed_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a stored row (a ``values()`` dict) that its hash covers."""
    fields = {name: row[name] for name in CORE_FIELDS}
    fields["created_at"] = row["created_at"].isoformat()
    for name in REQUEST_FIELDS:
        if row.get(name):
            fields[name] = row[name]
    return fields


def row_of(event) -> dict[str, Any]:
    """An ``AuditEvent`` instance as the mapping :func:`hashed_fields` reads."""
    return {name: getattr(event, name) for name in STORED_FIELDS if name != "id"}


def hash_matches(row: Mapping[str, Any]) -> bool:
    return event_hash(row["prev_hash"], hashed_fields(row)) == row["hash"]


__all__ = ["GENESIS", "STORED_FIELDS", "event_hash", "hash_matches", "hashed_fields", "row_of"]
