"""FAIR Signposting (https://signposting.org/FAIR/): typed links from a landing page.

Level 1 links, sent both as HTTP ``Link`` headers and as ``<link>`` elements, so that a
machine reading either finds the persistent identifier to cite (``cite-as``), the metadata
records (``describedby``), what kind of thing the page is about (``type``), the license
(``license``) and the authors (``author``, by ORCID).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aidahub.web.register.doi import doi_url
from aidahub.web.register.negotiation import by_name
from aidahub.web.register.orcid import ORCID_ID
from aidahub.web.register.selectors import Resolved

__all__ = ["Link", "header", "links"]

_DESCRIBED_BY = ("datacite-xml", "datacite-json", "json-ld")
_ORCID = re.compile(rf"^(?:https?://orcid\.org/)?({ORCID_ID})$")


@dataclass(frozen=True)
class Link:
    href: str
    rel: str
    type: str = ""

    def as_header(self) -> str:
        # RFC 8288: the target in angle brackets; characters that would end it are escaped.
        href = self.href.replace(">", "%3E").replace("<", "%3C").replace(",", "%2C")
        value = f'<{href}>; rel="{self.rel}"'
        return value + (f'; type="{self.type}"' if self.type else "")


def links(resolved: Resolved, *, base_url: str, license_urls: list[str]) -> list[Link]:
    """The signposts of a landing page."""
    version = resolved.version
    doi = resolved.dataset.concept_doi if resolved.is_concept else version.doi
    found = [Link(doi_url(doi), "cite-as")]
    for name in _DESCRIBED_BY:
        fmt = by_name(name)
        assert fmt is not None
        found.append(Link(f"{base_url}/{doi}/export/{name}", "describedby", fmt.media_type))
    found += [
        Link("https://schema.org/Dataset", "type"),
        Link("https://schema.org/AboutPage", "type"),
    ]
    found += [Link(url, "license") for url in license_urls]
    for author in version.authors.all():
        orcid = _ORCID.search(author.orcid or "")
        if orcid is not None:  # only a well-formed iD becomes a link
            found.append(Link(f"https://orcid.org/{orcid.group(1)}", "author"))
    return found


def header(found: list[Link]) -> str:
    """The ``Link`` header value for *found*."""
    return ", ".join(link.as_header() for link in found)
