"""Events per day as an inline SVG column chart: drawn on the server, no JavaScript.

The chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` listing every day's
count, so a screen reader reads the numbers; each column's ``<title>`` shows its day and
count on hover.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

__all__ = ["daily_columns"]

WIDTH = 1000
HEIGHT = 180
TOP = 18  # room for the largest value
BOTTOM = 20  # room for the day labels
LABELS = 10  # at most this many day labels under the columns


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def daily_columns(title: str, rows: Sequence[tuple[dt.date, int]]) -> SafeString:
    """A column per (day, count); the tallest column is full height."""
    rows = list(rows)
    span = HEIGHT - TOP - BOTTOM
    column = WIDTH / max(len(rows), 1)
    top = max((count for _day, count in rows), default=0)
    every = max(math.ceil(len(rows) / LABELS), 1)
    description = "; ".join(f"{day.isoformat()}: {count}" for day, count in rows)
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart audit-chart" '
            'viewBox="0 0 {} {}" role="img" aria-labelledby="audit-chart-title '
            'audit-chart-desc" preserveAspectRatio="xMinYMin meet">'
            '<title id="audit-chart-title">{}</title><desc id="audit-chart-desc">{}</desc>'
            '<text class="chart-value" x="2" y="12">{}</text>'
            '<line class="chart-axis" x1="0" x2="{}" y1="{}" y2="{}"></line>',
            WIDTH,
            HEIGHT,
            title,
            description or "-",
            top,
            WIDTH,
            HEIGHT - BOTTOM,
            HEIGHT - BOTTOM,
        )
    ]
    for n, (day, count) in enumerate(rows):
        height = span * count / top if top else 0
        x = n * column
        parts.append(
            format_html(
                '<g class="bar"><title>{}: {}</title><rect class="chart-bar" x="{}" y="{}" '
                'width="{}" height="{}"></rect></g>',
                day.isoformat(),
                count,
                _n(x + 0.5),
                _n(HEIGHT - BOTTOM - height),
                _n(max(column - 1, 0.5)),
                _n(height),
            )
        )
        if n % every == 0:
            parts.append(
                format_html(
                    '<text class="chart-label" x="{}" y="{}" text-anchor="start">{}</text>',
                    _n(x + 0.5),
                    HEIGHT - 5,
                    f"{day:%m-%d}",
                )
            )
    parts.append("</svg>")
    # Every piece above went through format_html, which escapes its arguments.
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308
