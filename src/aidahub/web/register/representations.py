"""A dataset's metadata in each export format, for content negotiation and export links.

The bodies come from :mod:`aidahub.web.register.datacite` (DataCite XML and JSON) and
:mod:`aidahub.web.register.exports` (schema.org JSON-LD, BibTeX, RIS, CSL JSON, formatted
citations); this module picks the record (a concept DOI is described as the whole dataset
in DataCite XML and JSON, a version DOI as that version) and the media type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aidahub.web.register import datacite, exports
from aidahub.web.register.negotiation import Format
from aidahub.web.register.selectors import Resolved

__all__ = ["Body", "UnknownStyle", "body_for"]


class UnknownStyle(ValueError):
    """A citation style the hub does not bundle; the message lists some it does."""


@dataclass(frozen=True)
class Body:
    content: bytes
    content_type: str
    filename: str


def body_for(fmt: Format, resolved: Resolved, *, base_url: str, params: dict[str, str]) -> Body:
    """The export *fmt* of what *resolved* names (a concept DOI or a version DOI)."""
    version = resolved.version
    doi = resolved.dataset.concept_doi if resolved.is_concept else version.doi
    stem = doi.replace("/", "_")
    if fmt.name == "datacite-xml":
        if resolved.is_concept:
            content = datacite.concept_datacite_xml(resolved.dataset, base_url=base_url)
        else:
            content = datacite.datacite_xml(version, base_url=base_url)
        return Body(content, f"{fmt.media_type}; charset=utf-8", f"{stem}.xml")
    if fmt.name == "datacite-json":
        if resolved.is_concept:
            record = datacite.concept_datacite_json(resolved.dataset, base_url=base_url)
        else:
            record = datacite.datacite_json(version, base_url=base_url)
        return _json(record, fmt, stem)
    if fmt.name == "json-ld":
        return _json(exports.schema_org(version, base_url=base_url, doi=doi), fmt, stem)
    if fmt.name == "csl-json":
        return _json(exports.csl_json(version, base_url=base_url, doi=doi), fmt, stem)
    if fmt.name == "bibtex":
        text = exports.bibtex(version, base_url=base_url, doi=doi)
        return Body(text.encode(), f"{fmt.media_type}; charset=utf-8", f"{stem}.bib")
    if fmt.name == "ris":
        text = exports.ris(version, base_url=base_url, doi=doi)
        return Body(text.encode(), f"{fmt.media_type}; charset=utf-8", f"{stem}.ris")
    style = params.get("style") or "apa"
    locale = params.get("locale") or "en-US"
    try:
        text = exports.citation(version, base_url=base_url, style=style, locale=locale, doi=doi)
    except ValueError as exc:
        raise UnknownStyle(str(exc)) from None
    return Body(text.encode(), f"{fmt.media_type}; charset=utf-8", f"{stem}.txt")


def _json(record: object, fmt: Format, stem: str) -> Body:
    content = json.dumps(record, ensure_ascii=False, indent=2).encode()
    return Body(content, f"{fmt.media_type}; charset=utf-8", f"{stem}.{fmt.extension}")
