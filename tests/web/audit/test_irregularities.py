"""The irregularity findings, from events recorded at controlled times."""

from __future__ import annotations

import datetime as dt

import pytest

from aidahub.web.audit import irregularities as irr
from aidahub.web.audit.hours import format_hours, parse_hours
from aidahub.web.audit.models import AuditEvent
from tests.web.audit.events import at, event

MIN = dt.timedelta(minutes=1)
PERIOD = irr.Period(at(2025, 3, 1), at(2025, 4, 1))


def thresholds(**changes) -> irr.Thresholds:
    values = dict(
        downloads_per_day=3,
        refusal_burst=4,
        refusal_window=10 * MIN,
        odd_hours=parse_hours("0-5"),
        failed_sign_ins=5,
    )
    return irr.Thresholds(**(values | changes))


def find(**changes) -> irr.Irregularities:
    return irr.find_irregularities(PERIOD, thresholds(**changes))


@pytest.fixture
def person(django_user_model):
    return django_user_model.objects.create_user("astrid", "astrid@uni.example.org", "pw-a-1234")


@pytest.fixture
def other(django_user_model):
    return django_user_model.objects.create_user("bertil", "bertil@uni.example.org", "pw-b-1234")


def test_the_default_thresholds_come_from_the_settings():
    t = irr.Thresholds.from_settings()
    assert (t.downloads_per_day, t.refusal_burst, t.refusal_window_minutes) == (200, 10, 10)
    assert t.odd_hours == frozenset(range(6)) and t.failed_sign_ins == 5
    assert t.odd_hours_text == "00:00–05:59"


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("0-5", set(range(6))),
        ("22-2", {22, 23, 0, 1, 2}),
        ("0-5, 23", {*range(6), 23}),
        ("7", {7}),
        ("", set()),
    ],
)
def test_hours_are_ranges_that_may_run_past_midnight(text, hours):
    assert parse_hours(text) == hours


@pytest.mark.parametrize("text", ["0-24", "night", "-3", "1-2-3"])
def test_hours_that_are_not_hours_are_refused(text):
    with pytest.raises(ValueError):
        parse_hours(text)


def test_hours_read_back_as_clock_times():
    assert format_hours(parse_hours("22-1,5")) == "00:00–01:59, 05:00–05:59, 22:00–23:59"


def test_a_period_of_days_runs_from_local_midnight_to_local_midnight():
    period = irr.Period.days(dt.date(2025, 7, 1), dt.date(2025, 7, 2))
    assert period.start == at(2025, 6, 30, 22) and period.end == at(2025, 7, 2, 22)


@pytest.mark.django_db
def test_downloads_above_the_threshold_per_person_and_local_day(person, other):
    for minute in range(4):  # 4 > 3 on 10 March
        event("imaging.series.download", actor=person, when=at(2025, 3, 10, 9, minute))
    for minute in range(3):  # exactly 3 is not above
        event("sharing.file.download", actor=other, when=at(2025, 3, 10, 9, minute))
    # 2 + 2 either side of midnight in Stockholm (23:00 UTC is 00:00 local in March)
    for when in (at(2025, 3, 11, 22, 0), at(2025, 3, 11, 22, 30)):
        event("sharing.file.download", actor=other, when=when)
    for when in (at(2025, 3, 11, 23, 0), at(2025, 3, 11, 23, 30)):
        event("sharing.file.download", actor=other, when=when)
    for minute in range(5):  # anonymous: counted per address
        event("register.sample.download", ip="203.0.113.9", when=at(2025, 3, 12, 8, minute))
    event("sharing.file.view", actor=other, when=at(2025, 3, 10, 9, 30))  # not a download
    event("sharing.file.download", actor=person, when=at(2025, 2, 28, 9))  # outside the period

    spikes = irr.download_spikes(AuditEvent.objects.all(), PERIOD, threshold=3)
    assert [(s.who, s.actor_id, s.ip, s.day, s.count) for s in spikes] == [
        ("astrid", person.pk, None, dt.date(2025, 3, 10), 4),
        ("anonymous from 203.0.113.9", None, "203.0.113.9", dt.date(2025, 3, 12), 5),
    ]
    assert spikes[0].describe() == "astrid downloaded 4 times on 2025-03-10"


def test_bursts_are_runs_of_enough_events_close_enough():
    t0 = at(2025, 3, 1)
    times = [t0 + n * MIN for n in (0, 1, 2, 3, 20, 21, 22, 40, 41, 42, 43, 44, 52, 60)]
    assert list(irr.bursts(times, size=4, window=3 * MIN)) == [(0, 3), (7, 11)]
    assert list(irr.bursts(times, size=4, window=2 * MIN)) == []
    assert list(irr.bursts(times, size=1, window=MIN)) == [(n, n) for n in range(len(times))]
    assert list(irr.bursts(times[:2], size=4, window=MIN)) == []


@pytest.mark.django_db
def test_refusal_bursts_per_person_and_per_anonymous_address(person, other):
    for n in range(5):  # five refusals in four minutes
        event(
            "security.denied",
            actor=person,
            ip="192.0.2.1",
            data={"path": f"/datasets/private-{n % 2}/", "missing": ["agreement"]},
            when=at(2025, 3, 5, 10, n),
        )
    for n in range(4):  # four, but spread over 30 minutes
        event("security.denied", actor=other, when=at(2025, 3, 5, 10, 10 * n))
    for n in range(4):  # an anonymous scanner; from two addresses, so two series
        event("security.denied", ip="198.51.100.1", when=at(2025, 3, 6, 2, n))
        event("security.denied", ip="198.51.100.2", when=at(2025, 3, 6, 2, n))
    event("register.dataset.view", actor=person, when=at(2025, 3, 5, 10, 2))

    found = irr.refusal_bursts(AuditEvent.objects.all(), PERIOD, size=4, window=10 * MIN)
    assert [(b.who, b.count, b.start, b.end) for b in found] == [
        ("astrid", 5, at(2025, 3, 5, 10, 0), at(2025, 3, 5, 10, 4)),
        ("anonymous from 198.51.100.1", 4, at(2025, 3, 6, 2, 0), at(2025, 3, 6, 2, 3)),
        ("anonymous from 198.51.100.2", 4, at(2025, 3, 6, 2, 0), at(2025, 3, 6, 2, 3)),
    ]
    assert found[0].paths == ("/datasets/private-0/", "/datasets/private-1/")
    assert (
        found[0].describe()
        == "astrid was refused 5 times between 2025-03-05 11:00 and 2025-03-05 11:04"
    )


def _sign_in(user, when, country):
    return event(
        "accounts.login", actor=user, when=when, data={"method": "password", "country": country}
    )


@pytest.mark.django_db
def test_sign_ins_from_a_country_never_seen_before_for_that_person(person, other):
    _sign_in(person, at(2025, 1, 10, 9), "SE")  # before the period: the history
    _sign_in(person, at(2025, 3, 2, 9), "SE")
    new = _sign_in(person, at(2025, 3, 3, 9), "no")
    _sign_in(person, at(2025, 3, 4, 9), "NO")  # seen since the day before
    _sign_in(person, at(2025, 3, 5, 9), "")  # unknown country: no judgement
    _sign_in(other, at(2025, 3, 3, 9), "US")  # a first sign-in is no news
    later = _sign_in(other, at(2025, 3, 9, 9), "DE")

    found = irr.new_country_sign_ins(AuditEvent.objects.all(), PERIOD)
    assert [(f.who, f.event_id, f.country, f.known) for f in found] == [
        ("astrid", new.pk, "NO", ("SE",)),
        ("bertil", later.pk, "DE", ("US",)),
    ]
    assert (
        found[0].describe() == "astrid signed in from NO at 2025-03-03 10:00; before only from SE"
    )


@pytest.mark.django_db
def test_sign_ins_at_odd_hours_in_the_hubs_time_zone(person):
    winter_night = _sign_in(person, at(2025, 3, 10, 2, 30), "SE")  # 03:30 in Stockholm
    _sign_in(person, at(2025, 3, 10, 5, 0), "SE")  # 06:00 in Stockholm
    after_midnight = _sign_in(person, at(2025, 3, 10, 23, 30), "SE")  # 00:30 the next day
    summer = irr.Period(at(2025, 6, 1), at(2025, 7, 1))
    summer_dawn = _sign_in(person, at(2025, 6, 10, 3, 59), "SE")  # 05:59 summer time
    _sign_in(person, at(2025, 6, 10, 4, 0), "SE")  # 06:00 summer time

    hours = parse_hours("0-5")
    found = irr.odd_hour_sign_ins(AuditEvent.objects.all(), PERIOD, hours=hours)
    assert [f.event_id for f in found] == [winter_night.pk, after_midnight.pk]
    assert [f.local.hour for f in found] == [3, 0]
    assert [
        f.event_id for f in irr.odd_hour_sign_ins(AuditEvent.objects.all(), summer, hours=hours)
    ] == [summer_dawn.pk]
    assert irr.odd_hour_sign_ins(AuditEvent.objects.all(), PERIOD, hours=frozenset()) == []


@pytest.mark.django_db
def test_repeated_failed_sign_ins_for_one_address_in_any_letter_case():
    for n, email in enumerate(["Eve@Example.org", "eve@example.org"] * 3):
        event(
            "accounts.login_failed",
            ip=f"192.0.2.{n % 2 + 1}",
            data={"email": email},
            when=at(2025, 3, 7, 12, n),
        )
    for n in range(4):
        event(
            "accounts.login_failed", data={"email": "once@example.org"}, when=at(2025, 3, 7, 13, n)
        )
    event("accounts.login_failed", data={}, when=at(2025, 3, 7, 14))

    found = irr.failed_sign_ins(AuditEvent.objects.all(), PERIOD, threshold=5)
    assert [(f.email, f.count, f.first, f.last, f.addresses) for f in found] == [
        ("eve@example.org", 6, at(2025, 3, 7, 12, 0), at(2025, 3, 7, 12, 5), 2)
    ]


@pytest.mark.django_db
def test_all_findings_together(person):
    for minute in range(4):
        event("sharing.file.download", actor=person, when=at(2025, 3, 10, 9, minute))
    _sign_in(person, at(2025, 3, 10, 1), "SE")
    report = find()
    assert report and report.total == 2
    assert [(s.key, len(s.findings)) for s in report.sections] == [
        ("downloads", 1),
        ("refusals", 0),
        ("new_countries", 0),
        ("odd_hours", 1),
        ("failed_sign_ins", 0),
    ]
    assert not irr.find_irregularities(irr.Period(at(2024, 1, 1), at(2024, 2, 1)), thresholds())
