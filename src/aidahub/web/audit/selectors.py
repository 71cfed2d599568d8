"""Reads of the audit trail. Callers check ``policies.can_view_audit`` first: every read
here is of non-public data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from aidahub.web.audit.models import AuditEvent

__all__ = ["EventPage", "event_page", "events_per_day", "filtered_events", "staff_emails"]

PER_PAGE = 50


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), timezone.get_default_timezone())


def filtered_events(filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    """Events matching the filter form's cleaned data; dates are days in the hub's zone."""
    events = AuditEvent.objects.all()
    if value := filters.get("actor"):
        events = events.filter(actor_label=value)
    if value := filters.get("action"):
        events = events.filter(action__startswith=value)
    if value := filters.get("object_type"):
        events = events.filter(object_type=value)
    if value := filters.get("object_id"):
        events = events.filter(object_id=value)
    if value := filters.get("ip"):
        events = events.filter(request_ip=value)
    if value := filters.get("since"):
        events = events.filter(created_at__gte=_day_start(value))
    if value := filters.get("until"):
        events = events.filter(created_at__lt=_day_start(value + dt.timedelta(days=1)))
    return events


@dataclass(frozen=True)
class EventPage:
    """One page of events, newest first, and the cursors to the pages either side."""

    events: list[AuditEvent]
    newer: int | None  # ?after=<id> shows the page before this one
    older: int | None  # ?before=<id> shows the page after it


def event_page(
    events: QuerySet[AuditEvent],
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PER_PAGE,
) -> EventPage:
    """Keyset pagination by id: each page costs the same however deep, with no COUNT(*)."""
    if after is not None:
        rows = list(events.filter(id__gt=after).order_by("id")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        more_older = bool(rows) and events.filter(id__lt=rows[-1].id).exists()
    else:
        older_first = events.order_by("-id")
        if before is not None:
            older_first = older_first.filter(id__lt=before)
        rows = list(older_first[: size + 1])
        more_older = len(rows) > size
        rows = rows[:size]
        more_newer = bool(rows) and before is not None and events.filter(id__gt=rows[0].id).exists()
    return EventPage(
        events=rows,
        newer=rows[0].id if rows and more_newer else None,
        older=rows[-1].id if rows and more_older else None,
    )


def events_per_day(
    events: QuerySet[AuditEvent], first: dt.date, last: dt.date
) -> list[tuple[dt.date, int]]:
    """How many of *events* fell on each day from *first* to *last*, days without any too."""
    zone = timezone.get_default_timezone()
    counts = dict(
        events.filter(
            created_at__gte=_day_start(first),
            created_at__lt=_day_start(last + dt.timedelta(days=1)),
        )
        .order_by()
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return [(day, counts.get(day, 0)) for day in days]


def staff_emails() -> list[str]:
    """Where the irregularity report goes: every active staff account with an address."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))
