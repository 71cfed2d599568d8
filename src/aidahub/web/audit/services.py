"""``record()``: the one way anything writes to the audit trail."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from aidahub.web.audit.models import AuditEvent, ChainHead

GENESIS = "0" * 64


def _canonical(event: dict[str, Any]) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), default=str).encode()


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + _canonical(fields)).hexdigest()


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "data": event.data,
        "request_ip": event.request_ip,
    }


def record(
    action: str,
    *,
    actor=None,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
    request=None,
) -> AuditEvent:
    """Append an event; ``action`` is a namespaced code such as ``register.dataset.publish``."""
    if request is not None and actor is None and request.user.is_authenticated:
        actor = request.user
    label = "system"
    if actor is not None:
        label = actor.get_username()
    event = AuditEvent(
        created_at=timezone.now(),
        actor=actor,
        actor_label=label,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:500] if obj is not None else "",
        data=json.loads(json.dumps(data or {}, default=str)),
        request_ip=request.META.get("REMOTE_ADDR") if request is not None else None,
    )
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_hash": GENESIS}
        )
        event.prev_hash = head.last_hash
        event.hash = event_hash(event.prev_hash, _fields(event))
        event.save()
        head.last_hash = event.hash
        head.count += 1
        head.save(update_fields=["last_hash", "count"])
    return event


def verify_chain() -> list[str]:
    """Return a description of every break in the chain; empty when intact."""
    problems: list[str] = []
    expected_prev = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator():
        if event.prev_hash != expected_prev:
            problems.append(f"event {event.pk}: does not follow the event before it")
        if event_hash(event.prev_hash, _fields(event)) != event.hash:
            problems.append(f"event {event.pk}: contents do not match its hash")
        expected_prev = event.hash
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != expected_prev:
        problems.append("the newest events are missing (chain head does not match)")
    return problems
