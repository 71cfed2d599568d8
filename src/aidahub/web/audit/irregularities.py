"""Irregularities in the audit trail: the patterns staff should look at, over a period.

The policy asks for logged, monitored access to non-public data. The log is the audit
trail; this module is the monitoring: each function reads events of a period and returns
plain findings (dataclasses) for the staff page, ``aidahub manage audit_report`` and its
e-mail. None of them changes anything. The thresholds are settings (docs/audit.md):

(a) downloads by one person (or one address, when anonymous) on one day above
    ``AUDIT_DOWNLOADS_PER_DAY``; downloads are actions ending in ``.download``;
(b) bursts of refused requests for non-public objects: ``AUDIT_REFUSAL_BURST`` or more
    ``security.denied`` events by one person (or address) with at most
    ``AUDIT_REFUSAL_WINDOW_MINUTES`` from the first to the last;
(c) a sign-in from a country the person never signed in from before (only for people who
    have signed in from a known country before: a first sign-in is not news);
(d) sign-ins at odd hours (``AUDIT_ODD_HOURS``) in the hub's time zone;
(e) ``AUDIT_FAILED_SIGNINS`` or more failed sign-ins for one e-mail address.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Max, Min, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Lower, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidahub.web.audit.hours import format_hours, parse_hours
from aidahub.web.audit.models import AuditEvent

__all__ = [
    "DownloadSpike",
    "FailedSignIns",
    "Irregularities",
    "NewCountrySignIn",
    "OddHourSignIn",
    "Period",
    "RefusalBurst",
    "Thresholds",
    "bursts",
    "download_spikes",
    "failed_sign_ins",
    "find_irregularities",
    "new_country_sign_ins",
    "odd_hour_sign_ins",
    "refusal_bursts",
]

LOGIN = "accounts.login"
LOGIN_FAILED = "accounts.login_failed"
DENIED = "security.denied"
DOWNLOAD_SUFFIX = ".download"
_CHUNK = 500  # ids per IN (...) query; SQLite limits query parameters


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, timezone.get_default_timezone())


def _when(moment: dt.datetime) -> str:
    return f"{_local(moment):%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class Period:
    """From ``start`` (included) to ``end`` (excluded), both aware."""

    start: dt.datetime
    end: dt.datetime

    @classmethod
    def last(cls, length: dt.timedelta, *, now: dt.datetime | None = None) -> Period:
        end = now or timezone.now()
        return cls(end - length, end)

    @classmethod
    def days(cls, first: dt.date, last: dt.date) -> Period:
        """Whole days in the hub's time zone, *last* included."""
        zone = timezone.get_default_timezone()
        start = dt.datetime.combine(first, dt.time(), zone)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone)
        return cls(start, end)

    def events(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        return events.filter(created_at__gte=self.start, created_at__lt=self.end)

    def __str__(self) -> str:
        return f"{_when(self.start)} – {_when(self.end)}"


@dataclass(frozen=True)
class Thresholds:
    downloads_per_day: int
    refusal_burst: int
    refusal_window: dt.timedelta
    odd_hours: frozenset[int]
    failed_sign_ins: int

    @property
    def refusal_window_minutes(self) -> int:
        return int(self.refusal_window.total_seconds() // 60)

    @property
    def odd_hours_text(self) -> str:
        return format_hours(self.odd_hours)

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            downloads_per_day=settings.AUDIT_DOWNLOADS_PER_DAY,
            refusal_burst=settings.AUDIT_REFUSAL_BURST,
            refusal_window=dt.timedelta(minutes=settings.AUDIT_REFUSAL_WINDOW_MINUTES),
            odd_hours=parse_hours(settings.AUDIT_ODD_HOURS),
            failed_sign_ins=settings.AUDIT_FAILED_SIGNINS,
        )


def _who(label: str, actor_id: int | None, ip: str | None) -> str:
    if actor_id is not None:
        return label
    return _("anonymous from %(ip)s") % {"ip": ip} if ip else _("anonymous")


@dataclass(frozen=True)
class DownloadSpike:
    who: str
    actor_id: int | None
    ip: str | None
    day: dt.date
    count: int

    def describe(self) -> str:
        return _("%(who)s downloaded %(count)d times on %(day)s") % {
            "who": self.who,
            "count": self.count,
            "day": self.day.isoformat(),
        }


@dataclass(frozen=True)
class RefusalBurst:
    who: str
    actor_id: int | None
    ip: str | None
    start: dt.datetime
    end: dt.datetime
    count: int
    paths: tuple[str, ...] = ()

    def describe(self) -> str:
        return _("%(who)s was refused %(count)d times between %(start)s and %(end)s") % {
            "who": self.who,
            "count": self.count,
            "start": _when(self.start),
            "end": _when(self.end),
        }


@dataclass(frozen=True)
class NewCountrySignIn:
    who: str
    actor_id: int
    event_id: int
    at: dt.datetime
    country: str
    known: tuple[str, ...]

    def describe(self) -> str:
        return _("%(who)s signed in from %(country)s at %(at)s; before only from %(known)s") % {
            "who": self.who,
            "country": self.country,
            "at": _when(self.at),
            "known": ", ".join(self.known),
        }


@dataclass(frozen=True)
class OddHourSignIn:
    who: str
    actor_id: int
    event_id: int
    at: dt.datetime
    ip: str | None

    @property
    def local(self) -> dt.datetime:
        return _local(self.at)

    def describe(self) -> str:
        return _("%(who)s signed in at %(at)s") % {"who": self.who, "at": _when(self.at)}


@dataclass(frozen=True)
class FailedSignIns:
    email: str
    count: int
    first: dt.datetime
    last: dt.datetime
    addresses: int

    def describe(self) -> str:
        return _(
            "%(count)d failed sign-ins for %(email)s between %(first)s and %(last)s "
            "from %(addresses)d IP address(es)"
        ) % {
            "count": self.count,
            "email": self.email,
            "first": _when(self.first),
            "last": _when(self.last),
            "addresses": self.addresses,
        }


def download_spikes(
    events: QuerySet[AuditEvent], period: Period, *, threshold: int
) -> list[DownloadSpike]:
    """(a) More than *threshold* downloads by one person, or one anonymous address, a day."""
    day = TruncDate("created_at", tzinfo=timezone.get_default_timezone())
    downloads = period.events(events).filter(action__endswith=DOWNLOAD_SUFFIX).order_by()
    by_person = (
        downloads.filter(actor_id__isnull=False)
        .annotate(day=day)
        .values("actor_id", "day")
        .annotate(n=Count("id"), label=Max("actor_label"))
        .filter(n__gt=threshold)
    )
    by_address = (
        downloads.filter(actor_id__isnull=True)
        .annotate(day=day)
        .values("request_ip", "day")
        .annotate(n=Count("id"))
        .filter(n__gt=threshold)
    )
    spikes = [
        DownloadSpike(row["label"], row["actor_id"], None, row["day"], row["n"])
        for row in by_person
    ] + [
        DownloadSpike(
            _who("", None, row["request_ip"]), None, row["request_ip"], row["day"], row["n"]
        )
        for row in by_address
    ]
    return sorted(spikes, key=lambda s: (s.day, -s.count, s.who))


def bursts(
    times: Sequence[dt.datetime], *, size: int, window: dt.timedelta
) -> Iterator[tuple[int, int]]:
    """Runs of *times* (sorted) where *size* or more fall within *window*: (first, last) index.

    Every event that belongs to some *size* events at most *window* apart is in a run;
    overlapping runs are merged, so a long attack is one finding.
    """
    if size < 1:
        return
    marked_until = -1
    start = None
    for i in range(len(times) - size + 1):
        j = i + size - 1
        if times[j] - times[i] > window:
            continue
        if start is not None and i > marked_until:
            yield start, marked_until
            start = None
        if start is None:
            start = i
        marked_until = j
    if start is not None:
        yield start, marked_until


def refusal_bursts(
    events: QuerySet[AuditEvent], period: Period, *, size: int, window: dt.timedelta
) -> list[RefusalBurst]:
    """(b) *size* or more refusals by one person (or address) at most *window* apart."""
    series: dict[tuple, list[dict]] = defaultdict(list)
    refusals = (
        period.events(events)
        .filter(action=DENIED)
        .order_by("created_at", "id")
        .values("created_at", "actor_id", "actor_label", "request_ip", "data")
    )
    for row in refusals.iterator(chunk_size=2000):
        key = ("actor", row["actor_id"]) if row["actor_id"] else ("ip", row["request_ip"])
        series[key].append(row)
    found = []
    for rows in series.values():
        times = [row["created_at"] for row in rows]
        for first, last in bursts(times, size=size, window=window):
            run = rows[first : last + 1]
            head = run[0]
            paths = dict.fromkeys(
                str(r["data"].get("path", "")) for r in run if isinstance(r["data"], dict)
            )
            found.append(
                RefusalBurst(
                    who=_who(head["actor_label"], head["actor_id"], head["request_ip"]),
                    actor_id=head["actor_id"],
                    ip=None if head["actor_id"] else head["request_ip"],
                    start=head["created_at"],
                    end=run[-1]["created_at"],
                    count=len(run),
                    paths=tuple(p for p in paths if p)[:5],
                )
            )
    return sorted(found, key=lambda b: b.start)


def _sign_ins(events: QuerySet[AuditEvent], period: Period) -> list[dict]:
    return list(
        period.events(events)
        .filter(action=LOGIN, actor_id__isnull=False)
        .order_by("created_at", "id")
        .values("id", "created_at", "actor_id", "actor_label", "request_ip", "data")
    )


def _country(data) -> str:
    value = data.get("country") if isinstance(data, dict) else None
    return str(value or "").strip().upper()


def _chunks(values: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for n in range(0, len(values), size):
        yield values[n : n + size]


def new_country_sign_ins(
    events: QuerySet[AuditEvent], period: Period, *, sign_ins: list[dict] | None = None
) -> list[NewCountrySignIn]:
    """(c) Sign-ins from a country the person had not signed in from before."""
    sign_ins = _sign_ins(events, period) if sign_ins is None else sign_ins
    known: dict[int, set[str]] = defaultdict(set)
    actors = sorted({row["actor_id"] for row in sign_ins})
    for ids in _chunks(actors):
        earlier = (
            events.filter(action=LOGIN, actor_id__in=ids, created_at__lt=period.start)
            .order_by()
            .values_list("actor_id", "data")
        )
        for actor_id, data in earlier.iterator(chunk_size=2000):
            if country := _country(data):
                known[actor_id].add(country)
    found = []
    for row in sign_ins:
        country, seen = _country(row["data"]), known[row["actor_id"]]
        if country and seen and country not in seen:
            found.append(
                NewCountrySignIn(
                    who=row["actor_label"],
                    actor_id=row["actor_id"],
                    event_id=row["id"],
                    at=row["created_at"],
                    country=country,
                    known=tuple(sorted(seen)),
                )
            )
        if country:
            seen.add(country)
    return found


def odd_hour_sign_ins(
    events: QuerySet[AuditEvent],
    period: Period,
    *,
    hours: frozenset[int],
    sign_ins: list[dict] | None = None,
) -> list[OddHourSignIn]:
    """(d) Sign-ins whose local time (the hub's time zone) falls in one of *hours*."""
    sign_ins = _sign_ins(events, period) if sign_ins is None else sign_ins
    return [
        OddHourSignIn(
            row["actor_label"], row["actor_id"], row["id"], row["created_at"], row["request_ip"]
        )
        for row in sign_ins
        if _local(row["created_at"]).hour in hours
    ]


def failed_sign_ins(
    events: QuerySet[AuditEvent], period: Period, *, threshold: int
) -> list[FailedSignIns]:
    """(e) *threshold* or more failed sign-ins for one e-mail address (any letter case)."""
    rows = (
        period.events(events)
        .filter(action=LOGIN_FAILED)
        .order_by()
        .annotate(email=Lower(KT("data__email")))
        .values("email")
        .annotate(
            n=Count("id"),
            first=Min("created_at"),
            last=Max("created_at"),
            addresses=Count("request_ip", distinct=True),
        )
        .filter(n__gte=threshold)
    )
    found = [
        FailedSignIns(row["email"], row["n"], row["first"], row["last"], row["addresses"])
        for row in rows
        if row["email"]
    ]
    return sorted(found, key=lambda f: (-f.count, f.email))


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    findings: list = field(default_factory=list)


@dataclass(frozen=True)
class Irregularities:
    period: Period
    thresholds: Thresholds
    downloads: list[DownloadSpike]
    refusals: list[RefusalBurst]
    new_countries: list[NewCountrySignIn]
    odd_hours: list[OddHourSignIn]
    failed_sign_ins: list[FailedSignIns]

    TITLES = {
        "downloads": gettext_lazy("Many downloads in a day"),
        "refusals": gettext_lazy("Bursts of refused requests"),
        "new_countries": gettext_lazy("Sign-ins from a new country"),
        "odd_hours": gettext_lazy("Sign-ins at odd hours"),
        "failed_sign_ins": gettext_lazy("Repeated failed sign-ins"),
    }

    @property
    def total(self) -> int:
        return sum(len(section.findings) for section in self.sections)

    @property
    def sections(self) -> list[Section]:
        return [Section(key, str(title), getattr(self, key)) for key, title in self.TITLES.items()]

    def __bool__(self) -> bool:
        return self.total > 0


def find_irregularities(
    period: Period,
    thresholds: Thresholds | None = None,
    events: QuerySet[AuditEvent] | None = None,
) -> Irregularities:
    """Every kind of irregularity over *period*."""
    thresholds = thresholds or Thresholds.from_settings()
    events = AuditEvent.objects.all() if events is None else events
    sign_ins = _sign_ins(events, period)
    return Irregularities(
        period=period,
        thresholds=thresholds,
        downloads=download_spikes(events, period, threshold=thresholds.downloads_per_day),
        refusals=refusal_bursts(
            events, period, size=thresholds.refusal_burst, window=thresholds.refusal_window
        ),
        new_countries=new_country_sign_ins(events, period, sign_ins=sign_ins),
        odd_hours=odd_hour_sign_ins(events, period, hours=thresholds.odd_hours, sign_ins=sign_ins),
        failed_sign_ins=failed_sign_ins(events, period, threshold=thresholds.failed_sign_ins),
    )
