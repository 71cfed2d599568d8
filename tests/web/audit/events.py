"""Events at chosen times, from chosen addresses, and tampering behind the model's back."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory

from aidahub.web.audit.models import AuditEvent
from aidahub.web.audit.services import record

TABLE = AuditEvent._meta.db_table
UTC = dt.UTC


def at(*args) -> dt.datetime:
    """An aware UTC time: at(2025, 3, 1, 12, 0)."""
    return dt.datetime(*args, tzinfo=UTC)


def request_from(ip="192.0.2.10", user=None, path="/somewhere/", **meta):
    request = RequestFactory().get(path, REMOTE_ADDR=ip, **meta)
    request.user = user or AnonymousUser()
    return request


def event(action, *, when=None, actor=None, data=None, ip=None, obj=None):
    """Record *action* at *when* (UTC), from *ip* when given."""
    request = request_from(ip, actor) if ip else None
    return record(action, actor=actor, data=data, obj=obj, request=request, at=when)


def sql(statement: str, params=()) -> None:
    """Change the table behind the model's back, as someone with database access could."""
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=TABLE), params)
