"""Safe rendering of text that comes from users and imported records.

Every piece of text from a record is treated as hostile: Markdown is rendered with raw
HTML disabled and the result is cleaned again with nh3 (an allow-list HTML sanitizer), so a
``<script>`` in a description shows as text and never runs. Text stored from outside
(imported records) is first neutralized: markup that could run in a browser is removed
before it is kept at all.
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


# -- neutralizing markup ---------------------------------------------------------------------

# Elements whose content is code or hidden, not text: removed with what they hold.
_CONTENT_ELEMENTS = "script|style|iframe|object|embed|noscript|template|applet|noembed"
_OPEN_CONTENT_ELEMENT = re.compile(rf"<\s*({_CONTENT_ELEMENTS})\b[^>]*>?", re.I)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<![^<>]*>|<\?[^<>]*>")
_STRAY_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UNSAFE_SCHEME = re.compile(r"(?i)^\s*(?:javascript|vbscript|livescript|data|file)\s*:")
# A Markdown autolink such as <https://example.org> or <someone@example.org> is not HTML.
_AUTOLINK = re.compile(
    r"<(?:[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*|[\w.!#$%&'*+/=?^`{|}~\-]+@[\w\-]+(?:\.[\w\-]+)*)>"
)
_LINK_SCRIPT = re.compile(
    r"(?i)(\]\(\s*<?\s*|^\s*\[[^\]\n]+\]:\s*<?\s*)(?:java|vb|live)script\s*:", re.M
)


def has_unsafe_scheme(url: str) -> bool:
    """Does *url* start a script or embedded data (``javascript:``, ``data:``, ...)?

    Control characters and spaces are ignored, as browsers ignore them in a scheme.
    """
    return bool(_UNSAFE_SCHEME.match(_CONTROL.sub("", url).replace(" ", "")))


def _drop_content_elements(text: str) -> str:
    """Remove <script>...</script> and the like with what they hold (unclosed: the tag only)."""
    out, pos = [], 0
    while True:
        opening = _OPEN_CONTENT_ELEMENT.search(text, pos)
        if opening is None:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos : opening.start()])
        closing = re.compile(rf"<\s*/\s*{opening.group(1)}\s*>", re.I).search(text, opening.end())
        pos = opening.end() if closing is None else closing.end()


def _strip_tags(segment: str) -> str:
    segment = _TAG.sub("", segment)
    return _STRAY_OPEN.sub("", segment)


def _neutralize_once(text: str, markdown: bool) -> str:
    text = _CONTROL.sub("", text)
    text = _COMMENT.sub("", text)
    text = _drop_content_elements(text)
    if not markdown:
        return _strip_tags(text)
    pieces, pos = [], 0
    for link in _AUTOLINK.finditer(text):
        pieces.append(_strip_tags(text[pos : link.start()]))
        target = link.group(0)[1:-1]
        pieces.append("" if _UNSAFE_SCHEME.match(target) else link.group(0))
        pos = link.end()
    pieces.append(_strip_tags(text[pos:]))
    return _LINK_SCRIPT.sub(r"\1", "".join(pieces))


def neutralize(text: str, *, markdown: bool = False) -> str:
    """*text* without markup that could run in a browser, repeated until nothing changes.

    Plain fields lose every tag. Markdown fields keep their Markdown (and autolinks such as
    ``<https://...>``) but lose HTML elements and ``javascript:`` link targets. Elements whose
    content is code (``<script>``, ``<style>``, ...) go with their content.
    """
    for _ in range(50):
        cleaned = _neutralize_once(text, markdown)
        if cleaned == text:
            return cleaned
        text = cleaned
    # Pathological nesting: give up on keeping any '<' at all.
    return _neutralize_once(text.replace("<", ""), markdown).replace("<", "")
