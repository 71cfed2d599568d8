"""DOI content negotiation: which representation of a dataset an Accept header asks for.

DOI resolvers (doi.org) pass a client's Accept header on to the landing page, and citation
managers, harvesters and DataCite's own tools ask for metadata that way
(https://citation.crosscite.org/docs.html). The same representations are plain links under
"Export" on the page (``/<DOI>/export/<format>``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FORMATS", "Format", "by_name", "negotiate", "parse_accept"]


@dataclass(frozen=True)
class Format:
    """One representation: its name in export links, media type and file extension."""

    name: str
    media_type: str
    extension: str
    label: str
    download: bool = False  # offered as a file (citation managers import it)


FORMATS: tuple[Format, ...] = (
    Format("datacite-xml", "application/vnd.datacite.datacite+xml", "xml", "DataCite XML"),
    Format("datacite-json", "application/vnd.datacite.datacite+json", "json", "DataCite JSON"),
    Format("json-ld", "application/ld+json", "jsonld", "schema.org JSON-LD"),
    Format("bibtex", "application/x-bibtex", "bib", "BibTeX", download=True),
    Format("ris", "application/x-research-info-systems", "ris", "RIS", download=True),
    Format("csl-json", "application/vnd.citationstyles.csl+json", "json", "CSL JSON"),
    Format("citation", "text/x-bibliography", "txt", "Formatted citation"),
)
_BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS}
_ALIASES = {"application/vnd.schemaorg.ld+json": "application/ld+json"}
_PAGE = ("text/html", "application/xhtml+xml")


def by_name(name: str) -> Format | None:
    """The format of an export link, or None."""
    return next((f for f in FORMATS if f.name == name), None)


def parse_accept(header: str) -> list[tuple[str, float, dict[str, str]]]:
    """An Accept header as (media type, quality, parameters), best first (RFC 9110 12.5.1).

    Malformed parts are skipped; a missing header means ``*/*``.
    """
    found: list[tuple[str, float, dict[str, str], int]] = []
    for position, part in enumerate((header or "*/*").split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if "/" not in media or len(media) > 100:
            continue
        quality, params = 1.0, {}
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
            elif key:
                params[key] = value[:100]
        found.append((media, quality, params, position))
    # Best quality first; among equals, the more specific type, then the order given.
    found.sort(key=lambda item: (-item[1], item[0].count("*"), item[3]))
    return [(media, quality, params) for media, quality, params, _ in found if quality > 0]


def negotiate(header: str) -> tuple[Format | None, dict[str, str]]:
    """The format an Accept header asks for, with its parameters; None means the page.

    ``text/html`` (and anything a browser sends), ``*/*`` and types the hub does not have
    get the page: an unknown type falls back to it rather than answering 406.
    """
    for media, _, params in parse_accept(header):
        if media in _PAGE or media in ("*/*", "text/*"):
            return None, {}
        chosen = _BY_MEDIA_TYPE.get(_ALIASES.get(media, media))
        if chosen is not None:
            return chosen, params
    return None, {}
