"""Keyed date shifting: per patient, rigid per study, order kept, formats handled."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aidahub.deid.dates import (
    MAX_SCALE,
    MIN_SCALE,
    DatePlan,
    blank_tm,
    parse_da,
    parse_dt,
    plan_for,
    shift_da,
    shift_dt,
)
from aidahub.deid.keys import key_from_secret

KEY = key_from_secret(bytes(range(32)))
OTHER_KEY = key_from_secret(bytes(range(1, 33)))
BACK_400 = timedelta(days=-400)

moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 12, 31))
identities = st.text(min_size=1, max_size=30)


def da(day: date) -> str:
    return day.strftime("%Y%m%d")


def dt(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


# Plans -----------------------------------------------------------------------------------


def test_same_key_and_patient_give_the_same_plan():
    anchor = date(2020, 5, 1)
    first = plan_for(KEY, "|123", anchor=anchor, scale_intervals=True)
    again = plan_for(key_from_secret(bytes(range(32))), "|123", anchor=anchor, scale_intervals=True)
    assert first == again


def test_another_key_or_patient_gives_other_offsets():
    patients = [f"|{n}" for n in range(20)]
    ours = [plan_for(KEY, p, anchor=None).offset_days for p in patients]
    theirs = [plan_for(OTHER_KEY, p, anchor=None).offset_days for p in patients]
    assert ours != theirs
    assert len(set(ours)) > 15


@given(identities)
def test_offset_is_one_to_ten_years_into_the_past(identity):
    plan = plan_for(KEY, identity, anchor=None)
    assert -3652 <= plan.offset_days <= -365
    assert plan.scale == 1.0


@given(identities)
def test_scale_is_keyed_within_bounds(identity):
    plan = plan_for(KEY, identity, anchor=date(2020, 1, 1), scale_intervals=True)
    assert MIN_SCALE <= plan.scale <= MAX_SCALE == 1.25


def test_scales_differ_between_patients():
    scales = {plan_for(KEY, f"|{n}", anchor=None, scale_intervals=True).scale for n in range(20)}
    assert len(scales) > 10


def test_custom_offset_range_and_bad_ranges():
    plan = plan_for(KEY, "|1", anchor=None, min_days=30, max_days=30)
    assert plan.offset_days == -30
    for low, high in ((0, 10), (10, 5)):
        with pytest.raises(ValueError, match="min_days"):
            plan_for(KEY, "|1", anchor=None, min_days=low, max_days=high)


def test_without_scaling_every_study_moves_by_the_offset():
    plan = DatePlan(offset_days=-500, anchor=date(2020, 1, 1))
    assert plan.study_delta(date(2023, 6, 1)) == timedelta(days=-500)
    assert plan.study_delta(None) == timedelta(days=-500)


def test_scaling_stretches_intervals_from_the_anchor():
    plan = DatePlan(offset_days=-1000, scale=1.1, anchor=date(2020, 1, 1))
    later = date(2020, 4, 10)  # 100 days after the anchor
    assert plan.study_delta(date(2020, 1, 1)) == timedelta(days=-1000)
    assert later + plan.study_delta(later) - (date(2020, 1, 1) - timedelta(days=1000)) == (
        timedelta(days=110)
    )


@given(
    st.lists(moments, min_size=1, max_size=12, unique_by=lambda m: m.date()),
    identities,
    st.booleans(),
)
def test_order_of_a_patients_studies_is_kept(study_starts, identity, scale_intervals):
    """Whatever the dates, shifted studies keep their order by date and by date-time,
    also an evening study and the next morning's."""
    anchor = min(m.date() for m in study_starts)
    plan = plan_for(KEY, identity, anchor=anchor, scale_intervals=scale_intervals)
    shifted = [
        (
            shift_da(da(m.date()), plan.study_delta(m.date())),
            shift_dt(dt(m), plan.study_delta(m.date())),
        )
        for m in sorted(study_starts)
    ]
    assert [day for day, _ in shifted] == sorted({day for day, _ in shifted})  # strictly
    assert [moment for _, moment in shifted] == sorted(moment for _, moment in shifted)


@given(
    moments,
    st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3))),
    identities,
)
def test_a_study_moves_rigidly(start, offsets_in_study, identity):
    """Every date and date-time of one study moves by the same whole number of days."""
    plan = plan_for(KEY, identity, anchor=start.date() - timedelta(days=300), scale_intervals=True)
    delta = plan.study_delta(start.date())
    for offset in offsets_in_study:
        moment = (start + offset).replace(microsecond=0)
        new = datetime.strptime(shift_dt(dt(moment), delta), "%Y%m%d%H%M%S")
        assert new - moment == delta
        assert new.time() == moment.time()
        assert parse_da(shift_da(da(moment.date()), delta)) == moment.date() + delta


@given(st.lists(moments, min_size=2, max_size=8), identities)
def test_remove_times_puts_every_study_of_a_patient_on_one_date(study_starts, identity):
    anchor = min(m.date() for m in study_starts)
    plan = plan_for(KEY, identity, anchor=anchor, remove_times=True)
    days = {shift_da(da(m.date()), plan.study_delta(m.date())) for m in study_starts}
    assert days == {da(anchor + timedelta(days=plan.offset_days))}
    stamps = {shift_dt(dt(m), plan.study_delta(m.date()), remove_time=True) for m in study_starts}
    assert stamps == days  # no time left to order them by
    assert {blank_tm(m.strftime("%H%M%S")) for m in study_starts} == {""}


# DA values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20240315", "20230209"),
        ("2024.03.15", "20230209"),  # legacy form, written back as DA
        ("202403", "202301"),  # 1 March 2024 - 400 days = 26 January 2023
        ("2024", "2022"),  # 1 January 2024 - 400 days = 27 November 2022
        ("20240315-20240320", "20230209-20230214"),
        ("-20240320", "-20230214"),
        ("20240315-", "20230209-"),
        ("20240315\\20240316", "20230209\\20230210"),
        ("20240315 ", "20230209"),
        ("", ""),
        ("20240230", ""),  # no such day
        ("15/03/2024", ""),  # not DA: removed, never passed through
        ("20240315-garbage", ""),
        ("-", ""),
    ],
)
def test_shift_da(value, expected):
    assert shift_da(value, BACK_400) == expected


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)), st.integers(-4000, 4000))
def test_shift_da_moves_any_date_by_delta(day, days):
    assert parse_da(shift_da(da(day), timedelta(days=days))) == day + timedelta(days=days)


def test_parse_da():
    assert parse_da("20240315") == date(2024, 3, 15)
    assert parse_da("2024.03.15") == date(2024, 3, 15)
    assert parse_da("202403") == date(2024, 3, 1)
    assert parse_da("") is None
    assert parse_da("20240315\\20240316") is None
    assert parse_da("yesterday") is None


# DT values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "without_time"),
    [
        ("20240315143000", "20230209143000", "20230209"),
        ("20240315143000.123456", "20230209143000.123456", "20230209"),
        ("20240315143000.12+0100", "20230209143000.12+0100", "20230209"),
        ("20240315143000-0500", "20230209143000-0500", "20230209"),
        ("202403151430", "202302091430", "20230209"),
        ("20240315", "20230209", "20230209"),
        ("2024", "2022", "2022"),
        ("20240315-20240316", "20230209-20230210", "20230209-20230210"),
        (
            "20240315100000-0500-20240316100000-0500",
            "20230209100000-0500-20230210100000-0500",
            "20230209-20230210",
        ),
        ("2024-2025", "2022-2023", "2022-2023"),  # a range, not a UTC offset of -2025
        ("20240315143060", "20230209143059", "20230209"),  # leap second
        ("", "", ""),
        ("20241315", "", ""),
        ("2024-03-15T14:30", "", ""),
    ],
)
def test_shift_dt(value, expected, without_time):
    assert shift_dt(value, BACK_400) == expected
    assert shift_dt(value, BACK_400, remove_time=True) == without_time


def test_parse_dt():
    assert parse_dt("20240315143000.5+0100") == datetime(2024, 3, 15, 14, 30, 0, 500000)
    assert parse_dt("2024") == datetime(2024, 1, 1)
    assert parse_dt("later") is None


def test_blank_tm():
    assert blank_tm("143000.000") == ""
    assert blank_tm("") == ""
