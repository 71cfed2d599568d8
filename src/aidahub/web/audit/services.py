"""``record()``: the one way anything writes to the audit trail."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from aidahub.web.audit.hashing import GENESIS, event_hash, hashed_fields, row_of
from aidahub.web.audit.models import (
    PATH_LENGTH,
    REQUEST_ID_LENGTH,
    USER_AGENT_LENGTH,
    AuditEvent,
    ChainHead,
)
from aidahub.web.audit.verification import verify

logger = logging.getLogger(__name__)

__all__ = ["GENESIS", "event_hash", "record", "verify_chain"]

_REQUEST_ID = re.compile(r"[^A-Za-z0-9._:@/+=-]")


def _text(value: str, length: int) -> str:
    # PostgreSQL refuses NUL in text and JSON; a hostile request must not stop its own
    # audit event from being written.
    return value.replace("\x00", "\ufffd")[:length]


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _ip(value: str | None) -> str | None:
    # Stored as the database normalizes it (IPv6 compressed), so the hash written now is
    # the hash recomputed later from the stored value.
    if not value:
        return None
    try:
        return AuditEvent._meta.get_field("request_ip").to_python(value.strip())
    except ValidationError:
        return None


def _request_details(request) -> dict[str, Any]:
    if request is None:
        return {"request_ip": None}
    meta = request.META
    return {
        "request_ip": _ip(meta.get("REMOTE_ADDR")),
        "request_method": _text(request.method or "", 10),
        # The path without its query string: queries may carry tokens or search terms.
        "request_path": _text(request.path, PATH_LENGTH),
        "user_agent": _text(meta.get("HTTP_USER_AGENT", ""), USER_AGENT_LENGTH),
        "request_id": _REQUEST_ID.sub("", meta.get("HTTP_X_REQUEST_ID", ""))[:REQUEST_ID_LENGTH],
    }


def _actor_label(actor, request) -> str:
    if actor is not None:
        return _text(actor.get_username(), 255)
    return "anonymous" if request is not None else "system"


def _locked_head() -> ChainHead:
    """The chain head, locked until the surrounding transaction ends.

    Migration 0003 creates the row. Should it be gone (a test database flushed between
    tests, a restore without it), it is recreated from the newest event with an insert that
    ignores a concurrent twin, never with get_or_create, whose select-then-insert lets two
    writers race on PostgreSQL.
    """
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    count = AuditEvent.objects.count() if last else 0
    if last:
        logger.error("audit chain head was missing; rebuilt from the newest event")
    ChainHead.objects.bulk_create(
        [ChainHead(pk=1, last_hash=last or GENESIS, count=count)], ignore_conflicts=True
    )
    return ChainHead.objects.select_for_update().get(pk=1)


def record(
    action: str,
    *,
    actor=None,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
    request=None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """Append an event; ``action`` is a namespaced code such as ``register.dataset.publish``.

    The actor defaults to the request's signed-in user. ``at`` sets the event's time, for
    importing events kept elsewhere and for tests; everything else takes the current time.
    Called inside a transaction, the event (and the lock on the chain) belongs to it: a
    rollback takes the event with it, and other writers wait until it ends.
    """
    if actor is None:
        actor = getattr(request, "user", None)
    if actor is not None and not actor.is_authenticated:
        actor = None  # an anonymous visitor is no account
    if at is not None and timezone.is_naive(at):
        raise ValueError("record(at=...) needs an aware datetime")
    event = AuditEvent(
        created_at=(at or timezone.now()).astimezone(dt.UTC),
        actor=actor,
        actor_label=_actor_label(actor, request),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=_text(str(obj.pk), 255) if obj is not None else "",
        object_repr=_text(str(obj), 500) if obj is not None else "",
        data=_scrub(json.loads(json.dumps(data or {}, default=str))),
        **_request_details(request),
    )
    with transaction.atomic():
        head = _locked_head()
        event.prev_hash = head.last_hash
        event.hash = event_hash(event.prev_hash, hashed_fields(row_of(event)))
        event.save()
        head.last_hash = event.hash
        head.count += 1
        head.save(update_fields=["last_hash", "count"])
    return event


def verify_chain() -> list[str]:
    """Return a description of every break in the chain; empty when intact."""
    return [problem.message for problem in verify().problems]
