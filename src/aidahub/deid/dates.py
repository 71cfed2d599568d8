"""Keyed date shifting: the policy's "initial additive timeshift, and proportional timeshifts
of inter-examination interval" (Appendix 3, *Anonymization measures for clinical imaging
data*).

Each patient gets a :class:`DatePlan` from :func:`plan_for`, a pure function of the key and
the patient's identity, so every run and worker shifts a patient alike:

* an additive offset of minus 365 to 3652 days (one to ten years into the past);
* optionally a scale of 1.0 to 1.25 applied to the intervals between the patient's
  examinations, measured from an anchor (the patient's first examination);
* or, with ``remove_times`` (the breast lymph node example: "Time stamps were removed and the
  order of examinations was randomized"), one common date for all the patient's
  examinations, so dates no longer order them.

Each study moves rigidly by :meth:`DatePlan.study_delta` (whole days), so times of day and
the intervals within a study are kept, and the order of a patient's studies is kept too.
The scale is never below 1: a smaller scale would put examinations made on consecutive
days on one date, and an evening study and the next morning's would then swap order.

The value functions rewrite DICOM DA and DT strings (PS3.5 §6.2): single, multi-valued,
ranges, partial precision and the legacy ``YYYY.MM.DD``. A value that cannot be read is
returned empty, never passed through unshifted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aidahub.deid.keys import Key, derive

__all__ = [
    "MAX_SCALE",
    "MIN_SCALE",
    "DatePlan",
    "blank_tm",
    "parse_da",
    "parse_dt",
    "plan_for",
    "shift_da",
    "shift_dt",
]

MIN_SCALE = 1.0
"""Smallest interval scale; below 1 the order of examinations on adjacent days could flip."""

MAX_SCALE = 1.25
"""Largest interval scale."""

_SCALE_STEPS = 2500  # scale = 1 + k / 10000, k in 0..2500: exact in decimal, same everywhere

_DA = re.compile(r"(\d{4})(?:(\d{2})(\d{2})?)?")
_DA_LEGACY = re.compile(r"(\d{4})\.(\d{2})\.(\d{2})")
_DT = re.compile(
    r"(?P<y>\d{4})(?:(?P<mo>\d{2})(?:(?P<d>\d{2})(?:(?P<h>\d{2})(?:(?P<mi>\d{2})"
    r"(?:(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?)?)?)?(?P<tz>[+-]\d{4})?"
)


@dataclass(frozen=True)
class DatePlan:
    """How one patient's dates move.

    Attributes
    ----------
    offset_days : int
        The additive shift (negative: into the past).
    scale : float
        Factor on the interval from *anchor* to each study (1.0: no scaling).
    anchor : date or None
        The patient's reference date, normally the first examination's StudyDate.
    remove_times : bool
        Put every study of the patient on one date (the anchor's shifted date).
    """

    offset_days: int
    scale: float = 1.0
    anchor: date | None = None
    remove_times: bool = False

    def study_delta(self, study_date: date | None) -> timedelta:
        """Return the whole-day shift for every date and date-time of one study.

        Without ``remove_times`` the study moves by
        ``offset + round((study_date - anchor) * (scale - 1))``, so its shifted date is
        ``anchor + offset + (study_date - anchor) * scale``: intervals from the anchor are
        scaled and, with ``scale >= 1``, distinct study dates stay distinct and in order.
        With ``remove_times`` the shift lands every study on ``anchor + offset``. Without
        an anchor or a study date the shift is the offset alone.

        Parameters
        ----------
        study_date : date or None
            The study's StudyDate (see :func:`parse_da`).

        Returns
        -------
        timedelta
            A whole number of days.
        """
        offset = timedelta(days=self.offset_days)
        if study_date is None or self.anchor is None:
            return offset
        if self.remove_times:
            return self.anchor - study_date + offset
        interval = (study_date - self.anchor).days
        # floor(x + 0.5) rather than round(): monotone and the same on every platform.
        return offset + timedelta(days=math.floor(interval * (self.scale - 1) + 0.5))


def plan_for(
    key: Key,
    patient_identity: str,
    *,
    anchor: date | None,
    scale_intervals: bool = False,
    remove_times: bool = False,
    min_days: int = 365,
    max_days: int = 3652,
) -> DatePlan:
    """Return the patient's keyed :class:`DatePlan`.

    Parameters
    ----------
    key : Key
        The de-identification key.
    patient_identity : str
        From :func:`aidahub.deid.pseudonyms.patient_identity`.
    anchor : date or None
        The patient's first examination date, for scaling and ``remove_times``.
    scale_intervals : bool
        Scale the intervals between examinations by a keyed factor in
        [:data:`MIN_SCALE`, :data:`MAX_SCALE`] (the policy's proportional timeshift).
    remove_times : bool
        Give all the patient's examinations one date (see :meth:`DatePlan.study_delta`).
    min_days, max_days : int
        The keyed offset is ``-n`` days with ``min_days <= n <= max_days``.

    Returns
    -------
    DatePlan
        The same for the same key and patient in every run and worker.

    Raises
    ------
    ValueError
        If ``min_days < 1`` or ``max_days < min_days``.
    """
    if min_days < 1 or max_days < min_days:
        raise ValueError(f"need 1 <= min_days <= max_days, got {min_days} and {max_days}")
    span = max_days - min_days + 1
    # 64 bits reduced modulo a span of a few thousand: the bias is below 1e-15.
    n = int.from_bytes(derive(key, "date-offset", patient_identity)[:8], "big") % span
    scale = 1.0
    if scale_intervals:
        k = int.from_bytes(derive(key, "date-scale", patient_identity)[:8], "big")
        scale = 1.0 + (k % (_SCALE_STEPS + 1)) / 10000
    return DatePlan(
        offset_days=-(min_days + n), scale=scale, anchor=anchor, remove_times=remove_times
    )


def parse_da(value: str) -> date | None:
    """Return the date of one DA value, or None if it is empty or unreadable.

    Accepts ``YYYYMMDD``, the legacy ``YYYY.MM.DD`` (PS3.5 §6.2, retired form) and the
    partial ``YYYY`` and ``YYYYMM``, which give the first day of the period. Multi-valued
    and range values give None.

    Parameters
    ----------
    value : str
    """
    parsed = _parse_da(value.strip(" \x00"))
    return parsed[0] if parsed else None


def parse_dt(value: str) -> datetime | None:
    """Return the naive date-time of one DT value, or None if empty or unreadable.

    Missing components count from the start of the period; a UTC offset suffix is read and
    ignored (the result is local time as recorded).

    Parameters
    ----------
    value : str
    """
    parsed = _parse_dt(value.strip(" \x00"))
    return parsed[0] if parsed else None


def shift_da(value: str, delta: timedelta) -> str:
    """Shift a DA value by the whole days of *delta*.

    Handles multi-valued (backslash), range (``A-B``, ``-B``, ``A-``), partial (``YYYY``,
    ``YYYYMM``: the first day of the period is shifted and the precision kept) and legacy
    ``YYYY.MM.DD`` values (written back as ``YYYYMMDD``). An empty value stays empty; a
    value or range bound that cannot be read becomes empty (the whole range if one bound
    fails), never passed through.

    Parameters
    ----------
    value : str
    delta : timedelta
        From :meth:`DatePlan.study_delta`.

    Returns
    -------
    str
    """
    return "\\".join(_range(part, lambda v: _shift_one_da(v, delta)) for part in value.split("\\"))


def shift_dt(value: str, delta: timedelta, *, remove_time: bool = False) -> str:
    """Shift a DT value (``YYYYMMDDHHMMSS.FFFFFF&ZZXX``, any precision) by *delta*.

    Precision, fraction digits and the UTC offset suffix are kept. With *remove_time*, only
    the date part (up to ``YYYYMMDD``) is written, without time or UTC offset. Multi-valued,
    ranges and empty values are handled as in :func:`shift_da`; unreadable values become
    empty.

    Parameters
    ----------
    value : str
    delta : timedelta
    remove_time : bool
        Drop the time of day (policy: "Time stamps were removed").

    Returns
    -------
    str
    """
    return "\\".join(
        _range(part, lambda v: _shift_one_dt(v, delta, remove_time)) for part in value.split("\\")
    )


def blank_tm(value: str) -> str:
    """Return the blanked form of a TM value: always empty (PS3.15 action ``Z``).

    Parameters
    ----------
    value : str
        Ignored; present so TM has the same call shape as DA and DT.
    """
    del value
    return ""


def _range(value: str, shift_one: Callable[[str], str | None]) -> str:
    value = value.strip(" \x00")
    if not value:
        return ""
    single = shift_one(value)
    if single is not None:
        return single
    # A range: try each hyphen (DT's UTC offset may hold one too) until both sides read.
    for i, char in enumerate(value):
        if char != "-":
            continue
        low, high = value[:i], value[i + 1 :]
        if not low and not high:
            break
        new_low = shift_one(low) if low else ""
        new_high = shift_one(high) if high else ""
        if new_low is not None and new_high is not None:
            return f"{new_low}-{new_high}"
    return ""


def _parse_da(value: str) -> tuple[date, int] | None:
    """Return the date and the number of digits of precision (4, 6 or 8)."""
    match = _DA.fullmatch(value) or _DA_LEGACY.fullmatch(value)
    if match is None:
        return None
    year, month, day = match.groups()
    try:
        parsed = date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None
    return parsed, 4 + 2 * (month is not None) + 2 * (day is not None)


def _shift_one_da(value: str, delta: timedelta) -> str | None:
    parsed = _parse_da(value)
    if parsed is None:
        return None
    day, digits = parsed
    try:
        shifted = day + timedelta(days=delta.days)
    except OverflowError:
        return None
    return f"{shifted.year:04d}{shifted.month:02d}{shifted.day:02d}"[:digits]


def _parse_dt(value: str) -> tuple[datetime, str, str] | None:
    """Return the date-time, its precision (last group present, or ``f<n>``) and offset."""
    match = _DT.fullmatch(value)
    if match is None:
        return None
    g = match.groupdict()
    if g["tz"] and (int(g["tz"][1:3]) > 14 or int(g["tz"][3:]) > 59):
        return None  # not a UTC offset (PS3.5 §6.2: -1200 to +1400); maybe a range bound
    second = min(int(g["s"] or 0), 59)  # a leap second (60) is read as 59
    try:
        parsed = datetime(
            int(g["y"]),
            int(g["mo"] or 1),
            int(g["d"] or 1),
            int(g["h"] or 0),
            int(g["mi"] or 0),
            second,
            int((g["f"] or "0").ljust(6, "0")),
        )
    except ValueError:
        return None
    precision = next(
        (name for name in ("f", "s", "mi", "h", "d", "mo") if g[name] is not None), "y"
    )
    if precision == "f":
        precision = f"f{len(g['f'])}"
    return parsed, precision, g["tz"] or ""


def _shift_one_dt(value: str, delta: timedelta, remove_time: bool) -> str | None:
    parsed = _parse_dt(value)
    if parsed is None:
        return None
    moment, precision, tz = parsed
    try:
        shifted = moment + delta
    except OverflowError:
        return None
    if not 1 <= shifted.year <= 9999:
        return None
    lengths = {"y": 4, "mo": 6, "d": 8, "h": 10, "mi": 12, "s": 14}
    text = (
        f"{shifted.year:04d}{shifted.month:02d}{shifted.day:02d}"
        f"{shifted.hour:02d}{shifted.minute:02d}{shifted.second:02d}"
    )
    if remove_time:
        return text[: min(lengths.get(precision, 14), 8)]
    if precision.startswith("f"):
        text += "." + f"{shifted.microsecond:06d}"[: int(precision[1:])]
    else:
        text = text[: lengths[precision]]
    return text + tz
