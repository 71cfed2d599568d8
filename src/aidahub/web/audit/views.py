"""The staff pages of the audit trail: browse, one event, CSV export, irregularities.

Reading the trail is itself an access to non-public data, so every page view and export is
recorded. Anyone but active staff is answered 404, as if the pages did not exist (a
signed-out visitor is sent to sign in first), and the refusal is recorded.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from aidahub.web.audit import charts, policies, selectors
from aidahub.web.audit.forms import MAX_DAYS, EventFilterForm, PeriodForm
from aidahub.web.audit.hashing import hash_matches, row_of
from aidahub.web.audit.irregularities import Period, find_irregularities
from aidahub.web.audit.models import AuditEvent
from aidahub.web.audit.services import record

CHART_DAYS = 30
CSV_COLUMNS = (
    "id",
    "created_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "data",
    "request_ip",
    "request_method",
    "request_path",
    "user_agent",
    "request_id",
    "prev_hash",
    "hash",
)
# A spreadsheet runs a cell that starts like a formula; the trail holds text anyone can
# choose (user agents, e-mail addresses typed at sign-in, paths).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def staff_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not policies.can_view_audit(request.user):
            record(
                "security.denied",
                request=request,
                data={"path": request.path, "missing": ["staff"]},
            )
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _chart_days(filters: dict) -> tuple[dt.date, dt.date]:
    until = filters.get("until") or timezone.localdate()
    since = filters.get("since") or until - dt.timedelta(days=CHART_DAYS - 1)
    return max(since, until - dt.timedelta(days=MAX_DAYS - 1)), until


@require_safe
@staff_only
def event_list(request):
    form = EventFilterForm(request.GET)
    valid = form.is_valid()
    filters = form.filters() if valid else {}
    events = selectors.filtered_events(filters) if valid else AuditEvent.objects.none()
    page = selectors.event_page(
        events, before=_cursor(request.GET.get("before")), after=_cursor(request.GET.get("after"))
    )
    first, last = _chart_days(filters)
    chart_title = _("Events per day, %(first)s to %(last)s") % {"first": first, "last": last}
    chart = charts.daily_columns(chart_title, selectors.events_per_day(events, first, last))
    record("audit.log.view", request=request, data={"filters": filters})
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "page": page,
            "chart": chart,
            "chart_title": chart_title,
            "filtered": bool(filters),
        },
        status=200 if valid else 400,
    )


@require_safe
@staff_only
def event_detail(request, pk: int):
    event = get_object_or_404(AuditEvent, pk=pk)
    previous = AuditEvent.objects.filter(hash=event.prev_hash).values_list("id", flat=True)
    following = AuditEvent.objects.filter(prev_hash=event.hash).values_list("id", flat=True)
    record("audit.event.view", request=request, obj=event)
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "data_json": json.dumps(event.data, indent=2, ensure_ascii=False, sort_keys=True),
            "hash_ok": hash_matches(row_of(event)),
            "previous_id": previous.first(),
            "next_id": following.first(),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_rows(events):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for row in events.order_by("id").values_list(*CSV_COLUMNS).iterator(chunk_size=2000):
        yield writer.writerow([_cell(value) for value in row])


@require_safe
@staff_only
def event_export(request):
    """The filtered log as CSV, oldest first (the chain's order), streamed row by row."""
    form = EventFilterForm(request.GET)
    if not form.is_valid():
        return event_list(request)
    filters = form.filters()
    record("audit.log.export", request=request, data={"filters": filters})
    response = StreamingHttpResponse(
        _csv_rows(selectors.filtered_events(filters)), content_type="text/csv; charset=utf-8"
    )
    stamp = f"{timezone.localtime():%Y%m%d-%H%M}"
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


@require_safe
@staff_only
def irregularities(request):
    form = PeriodForm(request.GET)
    report = None
    if form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
        report = find_irregularities(Period.days(since, until))
        form = PeriodForm({"since": since, "until": until})  # show the days used
        form.is_valid()
        record(
            "audit.irregularities.view",
            request=request,
            data={"since": since.isoformat(), "until": until.isoformat()},
        )
    return render(
        request,
        "audit/irregularities.html",
        {"form": form, "report": report, "time_zone": settings.TIME_ZONE},
        status=200 if report is not None else 400,
    )
