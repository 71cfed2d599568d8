"""Hours of the day as the settings write them: ``0-5`` is 00:00 to 05:59.

Free of Django models, so that the settings can check the value at start-up.
"""

from __future__ import annotations

__all__ = ["format_hours", "parse_hours"]


def parse_hours(text: str) -> frozenset[int]:
    """The hours named by *text*: ranges and single hours, comma-separated.

    ``"0-5"`` is 0 to 5 inclusive, ``"22-4"`` runs past midnight, ``"0-5,23"`` combines, and
    an empty value names no hour. Anything else raises ``ValueError``.
    """
    hours: set[int] = set()
    for piece in text.split(","):
        piece = piece.strip()
        if not piece:
            continue
        first, sep, last = piece.partition("-")
        try:
            start, end = int(first), int(last if sep else first)
        except ValueError:
            raise ValueError(f"not an hour or a range of hours: {piece!r}") from None
        if not (0 <= start <= 23 and 0 <= end <= 23):
            raise ValueError(f"hours run from 0 to 23, not {piece!r}")
        span = range(start, end + 1) if start <= end else [*range(start, 24), *range(0, end + 1)]
        hours.update(span)
    return frozenset(hours)


def format_hours(hours: frozenset[int]) -> str:
    """The hours as clock times, e.g. ``00:00–05:59, 23:00–23:59``."""
    runs: list[list[int]] = []
    for hour in sorted(hours):
        if runs and runs[-1][1] == hour - 1:
            runs[-1][1] = hour
        else:
            runs.append([hour, hour])
    return ", ".join(f"{start:02d}:00–{end:02d}:59" for start, end in runs)
