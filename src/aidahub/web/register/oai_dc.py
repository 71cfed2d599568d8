"""A dataset as unqualified Dublin Core, the ``oai_dc`` format every OAI-PMH server offers.

OAI-PMH 2.0 section 6.2 requires ``oai_dc`` (schema
http://www.openarchives.org/OAI/2.0/oai_dc.xsd). One item is one dataset (its concept DOI);
its elements describe the newest published version, and ``dc:relation`` lists every
published version's DOI so a harvester can tell them apart.

Text from records is hostile: it is only ever set as element text, so lxml escapes it, and
characters XML 1.0 cannot carry (control characters) are dropped first.
"""

from __future__ import annotations

import html
import re

from lxml import etree

from aidahub.web.core.text import human_bytes, plain_text, render_markdown, strip_liquid
from aidahub.web.register.doi import doi_url
from aidahub.web.register.models import Dataset, PublicationRelation, VersionState

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# Register records are written in English.
METADATA_LANGUAGE = "en"

# Characters outside XML 1.0's Char production (https://www.w3.org/TR/xml/#charsets).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_BLOCK_END = re.compile(r"(</(?:p|h[1-6]|blockquote|pre|ul|ol|table)>)")


def has_non_xml(value: str) -> bool:
    return bool(_NOT_XML.search(value))


def xml_text(value) -> str:
    """*value* as text that XML 1.0 can carry: control characters and the like removed."""
    return _NOT_XML.sub("", str(value or ""))


def description_text(markdown: str) -> str:
    """A Markdown description as plain text: paragraphs kept, markup and tags gone."""
    # A blank line after each block keeps paragraphs apart once the tags are gone.
    rendered = _BLOCK_END.sub(r"\1\n\n", render_markdown(strip_liquid(markdown)))
    text = html.unescape(plain_text(rendered))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _unique(values) -> list[str]:
    seen, out = set(), []
    for value in values:
        text = " ".join(xml_text(value).split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out


def _names(values) -> list[str]:
    out = []
    for item in values or []:
        name = item.get("name", "") if isinstance(item, dict) else item
        out.append(str(name or ""))
    return out


def _keywords(value) -> list[str]:
    if isinstance(value, str):
        return value.split(",")
    return [str(v) for v in value or [] if not isinstance(v, dict | list)]


def _rights(version) -> list[str]:
    out = []
    for lic in version.licenses.all():
        out.append(lic.name)
        if lic.identifier.lower().startswith(("https://", "http://")):
            out.append(lic.identifier)
    return out


def _relations(dataset: Dataset, version) -> list[str]:
    papers = [*version.describing_publications.all()]
    papers += [p for p in dataset.publications.all() if p.relation == PublicationRelation.USES]
    out = [paper.link or paper.title for paper in papers]
    versions = [v for v in dataset.versions.all() if v.state == VersionState.PUBLISHED]
    out += [doi_url(v.doi) for v in sorted(versions, key=lambda v: (v.created_at, v.pk))]
    return out


def _date(version) -> str:
    day = version.date_published or (version.published_at and version.published_at.date())
    return day.isoformat() if day else ""


def dc_element(dataset: Dataset, *, base_url: str) -> etree._Element:
    """The ``<oai_dc:dc>`` element for *dataset*, links made absolute with *base_url*."""
    version = dataset.latest_version
    root = etree.Element(
        etree.QName(OAI_DC_NS, "dc"), nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}
    )
    root.set(etree.QName(XSI_NS, "schemaLocation"), f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
    organs = _names(version.organs if isinstance(version.organs, list) else [])
    elements = [
        ("title", [version.title]),
        ("creator", [author.name for author in version.authors.all()]),
        ("subject", [*_keywords(version.keywords), version.subject, *organs]),
        ("description", [description_text(version.description)]),
        ("publisher", [version.publisher]),
        ("date", [_date(version)]),
        ("type", ["Dataset"]),
        ("format", [human_bytes(version.size_bytes)]),
        ("identifier", [doi_url(dataset.concept_doi), base_url + dataset.get_absolute_url()]),
        ("language", [METADATA_LANGUAGE]),
        ("relation", _relations(dataset, version)),
        ("rights", _rights(version)),
    ]
    for name, values in elements:
        for value in values if name == "description" else _unique(values):
            if value:
                etree.SubElement(root, etree.QName(DC_NS, name)).text = xml_text(value)
    return root
