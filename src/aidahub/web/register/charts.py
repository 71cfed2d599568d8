"""Horizontal bar charts drawn on the server as inline SVG: no JavaScript, no image files.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` listing every value,
so a screen reader reads the numbers, and every bar carries its label and value as text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

WIDTH = 640
LABEL_WIDTH = 230
VALUE_WIDTH = 90
BAR_HEIGHT = 18
ROW_HEIGHT = 26
MAX_LABEL = 30


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "\u2026"


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, int | float]],
    *,
    formatter: Callable[[int | float], str] = str,
    limit: int = 20,
    empty: str = "-",
) -> SafeString:
    """An accessible SVG bar chart of (label, value) rows, the largest value full width."""
    rows = list(rows)[:limit]
    chart_id = f"chart-{slugify(title) or 'values'}"
    description = "; ".join(f"{label}: {formatter(value)}" for label, value in rows)
    height = max(ROW_HEIGHT * len(rows), ROW_HEIGHT) + 4
    top = max((value for _label, value in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {}" '
            'role="img" aria-labelledby="{}-title {}-desc" preserveAspectRatio="xMinYMin meet">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
            WIDTH,
            height,
            chart_id,
            chart_id,
            chart_id,
            title,
            chart_id,
            description or "-",
        )
    ]
    for n, (label, value) in enumerate(rows):
        y = n * ROW_HEIGHT + 2
        bar = max(round(span * value / top), 1 if value else 0)
        parts.append(
            format_html(
                '<g class="bar"><title>{}: {}</title>'
                '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" rx="2"></rect>'
                '<text class="chart-value" x="{}" y="{}">{}</text></g>',
                label,
                formatter(value),
                LABEL_WIDTH - 8,
                y + BAR_HEIGHT - 4,
                _short(str(label)),
                LABEL_WIDTH,
                y,
                bar,
                BAR_HEIGHT,
                LABEL_WIDTH + bar + 6,
                y + BAR_HEIGHT - 4,
                formatter(value),
            )
        )
    if not rows:
        parts.append(format_html('<text class="chart-label" x="8" y="18">{}</text>', empty))
    parts.append("</svg>")
    # Every piece above went through format_html, which escapes its arguments.
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308


__all__ = ["bar_chart"]
