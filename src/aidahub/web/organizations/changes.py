"""Before/after values for audit events, and the object names in their action codes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import models

# Action codes read organizations.<object>.<verb>; these are the objects' names in them.
OBJECT_NAMES = {
    "organization": "organization",
    "signatory": "signatory",
    "affiliation": "affiliation",
    "researchgroup": "research_group",
    "personalmembership": "personal_membership",
    "networkpartnerapplication": "application",
    "agreement": "agreement",
}


def object_name(obj: models.Model) -> str:
    model_name = obj._meta.model_name
    return OBJECT_NAMES.get(model_name, model_name)


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of *obj* as JSON values (a related object by its primary key)."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if isinstance(field, models.ForeignKey):
            values[name] = getattr(obj, field.attname)
        else:
            values[name] = _plain(getattr(obj, name))
    return values


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"before": ..., "after": ...}}`` for every field whose value differs."""
    keys = list(dict.fromkeys([*before, *after]))
    return {
        key: {"before": _plain(before.get(key)), "after": _plain(after.get(key))}
        for key in keys
        if _plain(before.get(key)) != _plain(after.get(key))
    }
