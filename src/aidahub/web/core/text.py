"""Safe rendering of text that comes from users and imported records.

Every piece of text from a record is treated as hostile: Markdown is rendered with raw
HTML disabled and the result is cleaned again with nh3 (an allow-list HTML sanitizer), so a
``<script>`` in a description shows as text and never runs.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "sub",
    "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
_URL_SCHEMES = {"http", "https", "mailto"}

# html=False: raw HTML in Markdown is escaped, not passed through.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

# Liquid template tags from the legacy register ({% include ... %}, {{ page.x }}).
LIQUID_TAG = re.compile(r"\{%-?.*?-?%\}|\{\{-?.*?-?\}\}", re.DOTALL)


def render_markdown(text: str) -> str:
    """Render Markdown to HTML that is safe to place in a page as is."""
    html = _markdown.render(text or "")
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="nofollow noopener",
    )


def plain_text(text: str) -> str:
    """Strip every tag, leaving text to be escaped by the template engine."""
    return nh3.clean(text or "", tags=set())


def strip_liquid(text: str) -> str:
    """Remove Liquid tags, which only the legacy register's site generator understood."""
    return LIQUID_TAG.sub("", text or "")


def human_bytes(value: int | None) -> str:
    """Format a byte count the way people read sizes: 1.3 GB, 96 GB, 512 bytes."""
    if value is None:
        return ""
    size = float(value)
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if size < 1000 or unit == "PB":
            if unit == "bytes":
                return f"{int(size)} bytes"
            return f"{size:.1f} {unit}" if size < 10 else f"{size:.0f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")
