"""Template filters shared by every app's pages."""

from django import template
from django.utils.safestring import mark_safe

from aidahub.web.core.text import human_bytes, render_markdown

register = template.Library()


@register.filter
def markdown(value: str) -> str:
    # render_markdown escapes raw HTML and sanitizes the result with nh3.
    return mark_safe(render_markdown(value))  # noqa: S308


@register.filter
def bytes_readable(value: int | None) -> str:
    return human_bytes(value)
