"""The Markdown body of a record: neutralized, and without the legacy license section."""

from __future__ import annotations

import re

from aidahub.web.core.text import LIQUID_TAG, neutralize
from aidahub.web.register.legacy.reader import Reader, quote
from aidahub.web.register.legacy.values import MAX_TEXT

__all__ = ["read_body"]

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$", re.M)
_LICENSE_HEADING = re.compile(r"^licen[cs]es?$", re.I)


def _split_license_section(body: str) -> tuple[str, str, int]:
    """(body without the legacy license section, the section, where it was).

    The section runs from a "License" heading to the next heading of the same or a higher
    level, or to the end. The hub renders license texts from the policy's templates, so a
    landing page would otherwise show them twice.
    """
    headings = list(_HEADING.finditer(body))
    for index, heading in enumerate(headings):
        if not _LICENSE_HEADING.match(heading.group(2).strip()):
            continue
        level = len(heading.group(1))
        end = len(body)
        for later in headings[index + 1 :]:
            if len(later.group(1)) <= level:
                end = later.start()
                break
        start = heading.start()
        return body[:start] + body[end:], body[start:end], start
    return body, "", 0


def _body_line(r: Reader, raw: str, clean: str) -> int:
    same = 0
    for a, b in zip(raw, clean, strict=False):
        if a != b:
            break
        same += 1
    return r.body_line + raw.count("\n", 0, same)


def read_body(r: Reader, body: str, description: str) -> tuple[str, dict]:
    clean = neutralize(body, markdown=True)
    if clean != body:
        r.repair(
            "body",
            body,
            clean,
            "HTML removed from the Markdown body: markup is never passed on",
            restore=False,
            line=_body_line(r, body, clean),
        )
    body = clean
    if len(body) > MAX_TEXT * 2:
        r.repair(
            "body",
            body,
            body[: MAX_TEXT * 2],
            f"a body of {len(body)} characters is too long: cut to {MAX_TEXT * 2}",
            restore=False,
        )
        body = body[: MAX_TEXT * 2]
    for path, text in (("datacite.description", description), ("body", body)):
        tag = LIQUID_TAG.search(text)
        if tag:
            line = (
                r.body_line + text.count("\n", 0, tag.start()) if path == "body" else r.line(path)
            )
            r.repair(
                path,
                tag.group(0)[:200],
                "",
                f"template tags such as {quote(tag.group(0), 60)} are kept for export "
                "but shown without them on the hub",
                restore=False,
                line=line,
            )
            break
    additional, section, at = _split_license_section(body)
    extra = {"legacy_license_section": section, "legacy_license_at": at} if section else {}
    return additional, extra
