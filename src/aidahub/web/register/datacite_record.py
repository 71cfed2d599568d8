"""What a DataCite record says about a dataset version or a concept DOI, built from the models.

``datacite`` writes a ``Record`` out as XML and as JSON; everything the register decides
about the mapping is here, once. Numbers are the properties of the DataCite Metadata Schema.

- 1 Identifier: the version DOI; a concept record carries the concept DOI.
- 2 Creator: the authors in order, ``Family, Given`` when a personal name splits, the
  ORCID iD as a nameIdentifier. Without authors the publisher is the creator, as in the
  "cite as" line (``citation.cite_as``).
- 6 Subject: each keyword and the field as written; the field again as the OECD field of
  science DataCite uses for facets; organs as SNOMED CT concepts; modalities by their DICOM
  code.
- 7 Contributor: each contact a ContactPerson (DataCite has no e-mail field, so only the
  name goes out); each copyright holder's research institution a RightsHolder and its
  responsible researcher (policy: Roles) a ProjectLeader; the hub the HostingInstitution.
- 8 Date: Created, Issued, Updated, Copyrighted; Withdrawn, with the reason, on a tombstone.
- 12 RelatedIdentifier: a describing publication ``IsDescribedBy`` (it describes the data
  and the BY licenses ask users to cite it); a publication that used the data
  ``IsReferencedBy`` ("A is used as a source of information by B", which is what the hub
  records; DataCite counts it as a citation). Versions follow DataCite's versioning
  guidance as Zenodo applies it: a version ``IsVersionOf`` the concept DOI and
  ``IsNewVersionOf`` / ``IsPreviousVersionOf`` its published neighbours in version order;
  the concept ``HasVersion`` each published version. Drafts have no registered DOI and
  are never linked to.
- 16 Rights: one per license, its URI the license's anchor on the record's landing page.

Missing values are left out; nothing is written as an empty element.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import quote

from django.conf import settings
from markdown_it import MarkdownIt

from aidahub.web.core.text import human_bytes, strip_liquid
from aidahub.web.register.doi import InvalidDOI, parse_doi
from aidahub.web.register.models import (
    Dataset,
    DatasetState,
    DatasetVersion,
    PartyKind,
    PublicationRelation,
    VersionState,
)
from aidahub.web.register.orcid import ORCID_ID, checksum_ok
from aidahub.web.register.presenters import as_list, safe_url
from aidahub.web.register.vocab import MODALITIES, modality_name

__all__ = [
    "Date",
    "Description",
    "NameIdentifier",
    "Party",
    "Publisher",
    "Record",
    "Related",
    "Rights",
    "Subject",
    "concept_record",
    "markdown_text",
    "publication_identifier",
    "split_name",
    "version_record",
]

_ORCID_SCHEME = ("ORCID", "https://orcid.org")
_ROR_SCHEME = ("ROR", "https://ror.org")
_SNOMED = ("SNOMED CT", "http://snomed.info/sct")
_DICOM_MODALITY = (
    "DICOM Modality (0008,0060)",
    "https://dicom.nema.org/medical/dicom/current/output/chtml/part03/sect_C.7.3.html",
)
# DataCite's own mapping of fields of research (OECD Fields of Science and Technology).
_FOS = ("Fields of Science and Technology (FOS)", "http://www.oecd.org/science/inno/38235147.pdf")
_CLINICAL_FIELDS = {"radiology", "pathology", "cardiology", "dermatology", "ophthalmology"}

# Whole-slide images come as (pyramidal) TIFF from the slide scanners; other modalities as DICOM.
_WHOLE_SLIDE = {"SM", "WSI", "GM"}
_FORMAT_FOR_FIELD = {"pathology": "image/tiff", "radiology": "application/dicom"}

# Characters XML 1.0 cannot hold at all; lxml refuses them, so they are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ORCID = re.compile(rf"(?:^|orcid\.org/)({ORCID_ID})/?$", re.I)
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_PARTICLES = {"af", "av", "da", "de", "del", "della", "den", "der", "di", "dos", "du", "la",
              "le", "ten", "ter", "van", "von", "zu"}  # fmt: skip


# -- the intermediate record -----------------------------------------------------------------


@dataclass(frozen=True)
class NameIdentifier:
    identifier: str
    scheme: str
    scheme_uri: str


@dataclass(frozen=True)
class Party:
    """A creator or a contributor (contributors have a ``contributor_type``)."""

    name: str
    name_type: str  # "Personal" | "Organizational"
    given_name: str = ""
    family_name: str = ""
    identifiers: tuple[NameIdentifier, ...] = ()
    affiliations: tuple[str, ...] = ()
    contributor_type: str = ""


@dataclass(frozen=True)
class Publisher:
    name: str
    identifier: str = ""
    scheme: str = ""
    scheme_uri: str = ""


@dataclass(frozen=True)
class Subject:
    subject: str
    scheme: str = ""
    scheme_uri: str = ""
    value_uri: str = ""
    classification_code: str = ""


@dataclass(frozen=True)
class Date:
    date: str
    date_type: str
    information: str = ""


@dataclass(frozen=True)
class Related:
    identifier: str
    identifier_type: str
    relation_type: str
    resource_type_general: str = ""


@dataclass(frozen=True)
class Rights:
    rights: str
    uri: str
    identifier: str


@dataclass(frozen=True)
class Description:
    description: str
    description_type: str  # "Abstract" | "TechnicalInfo" | "Other"


@dataclass(frozen=True)
class Record:
    """One DataCite record, independent of how it is written out."""

    doi: str
    url: str
    creators: tuple[Party, ...]
    titles: tuple[str, ...]
    publisher: Publisher
    publication_year: int
    resource_type: str
    subjects: tuple[Subject, ...] = ()
    contributors: tuple[Party, ...] = ()
    dates: tuple[Date, ...] = ()
    language: str = "en"
    related: tuple[Related, ...] = ()
    sizes: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    version: str = ""
    rights: tuple[Rights, ...] = ()
    descriptions: tuple[Description, ...] = ()


# -- text ------------------------------------------------------------------------------------


def _text(value) -> str:
    """*value* as text XML can hold, without surrounding white space."""
    return _NOT_XML.sub("", "" if value is None else str(value)).strip()


_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def _inline_text(children) -> str:
    out: list[str] = []
    href, start = "", 0
    for child in children:
        if child.type in {"text", "code_inline", "image"}:
            out.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            out.append(" " if child.type == "softbreak" else "\n")
        elif child.type == "link_open":
            href, start = str(child.attrGet("href") or ""), len(out)
        elif child.type == "link_close" and href:
            label = "".join(out[start:])
            if href not in {label, f"mailto:{label}"}:
                out.append(f" ({href})")
            href = ""
    return "".join(out)


def markdown_text(source: str) -> str:
    """Markdown (without the legacy register's Liquid tags) as plain text.

    Each block becomes a paragraph; the items of a list keep a bullet and the rows of a
    table their cells joined with `` | ``, one line each. Raw HTML is not interpreted: it
    stays the literal text it is (the XML serializer escapes it).
    """
    blocks: list[tuple[str, int]] = []  # (text, the list or table it is a line of, or 0)
    group, groups, prefix = 0, 0, ""
    cells: list[str] | None = None  # the cells of the table row being read
    for token in _markdown.parse(strip_liquid(source or "")):
        if token.type in {"bullet_list_open", "ordered_list_open", "table_open"}:
            groups += 1
            group = groups
        elif token.type in {"bullet_list_close", "ordered_list_close", "table_close"}:
            group = 0
        elif token.type == "list_item_open":
            prefix = f"{token.info}{token.markup} " if token.info else "- "
        elif token.type == "tr_open":
            cells = []
        elif token.type == "tr_close" and cells is not None:
            blocks.append((" | ".join(cells), group))
            cells = None
        elif token.type == "inline" and cells is not None:
            cells.append(_inline_text(token.children or []).strip())
        elif token.type == "inline":
            text = _inline_text(token.children or []).strip()
            if text:
                blocks.append((prefix + text, group if prefix else 0))
            prefix = ""
        elif token.type in {"fence", "code_block"}:
            blocks.append((token.content.rstrip("\n"), 0))
    out = ""
    for n, (text, in_group) in enumerate(blocks):
        if n:
            out += "\n" if in_group and in_group == blocks[n - 1][1] else "\n\n"
        out += text
    return _text(out)


# -- names and identifiers -------------------------------------------------------------------


def _orcid(value: str) -> str:
    """The ORCID iD in *value* (bare or as a URL) as ``https://orcid.org/...``, else ''."""
    match = _ORCID.search((value or "").strip())
    if not match or not checksum_ok(match.group(1).upper()):
        return ""
    return f"https://orcid.org/{match.group(1).upper()}"


def _orcid_ids(value: str) -> tuple[NameIdentifier, ...]:
    orcid = _orcid(value)
    return (NameIdentifier(orcid, *_ORCID_SCHEME),) if orcid else ()


def _ror_ids(value: str) -> tuple[NameIdentifier, ...]:
    url = (value or "").strip()
    if re.match(r"^https://ror\.org/0[a-z0-9]{8}$", url):
        return (NameIdentifier(url, *_ROR_SCHEME),)
    return ()


def split_name(name: str) -> tuple[str, str]:
    """(given, family) of a personal name, or ('', '') when the split is not safe.

    "Family, Given" is read as written; otherwise the last word is the family name, with
    any particles before it ("van der Berg"). Names in CJK scripts are left whole: their
    order varies and cannot be read from the text.
    """
    name = " ".join(name.split())
    if _CJK.search(name):
        return "", ""
    if name.count(",") == 1:
        family, given = (part.strip() for part in name.split(","))
        return (given, family) if given and family else ("", "")
    words = name.split(" ")
    if len(words) < 2 or "," in name:
        return "", ""
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:])


def _name_type(kind: str) -> str:
    return "Organizational" if kind == PartyKind.ORGANIZATION else "Personal"


def _person(name: str, kind: str = PartyKind.PERSON, **parts) -> Party:
    name = _text(name)
    name_type = _name_type(kind)
    given, family = split_name(name) if name_type == "Personal" else ("", "")
    written = f"{family}, {given}" if given and family else name
    return Party(written, name_type, given, family, **parts)


# -- building a record -----------------------------------------------------------------------


def _creators(version: DatasetVersion, publisher: Publisher) -> tuple[Party, ...]:
    creators = tuple(
        _person(
            a.name,
            a.kind,
            identifiers=_orcid_ids(a.orcid),
            affiliations=(_text(a.affiliation),) if _text(a.affiliation) else (),
        )
        for a in version.authors.all()
        if _text(a.name)
    )
    return creators or (Party(publisher.name, "Organizational"),)


def _contacts(version: DatasetVersion) -> list[Party]:
    """ContactPerson for each contact, by name only: DataCite has no field for e-mail."""
    affiliation_of = {_text(a.name): _text(a.affiliation) for a in version.authors.all()}
    out = []
    for contact in version.contacts.all():
        name = _text(contact.name)
        if not name:
            continue
        if contact.is_hub_contact:
            # The data director is often named by role ("Data director"): not split.
            hub = (_text(settings.HUB_NAME),) if contact.kind == PartyKind.PERSON else ()
            party = Party(name, _name_type(contact.kind), affiliations=hub)
        else:
            affiliation = affiliation_of.get(name, "")
            party = _person(name, contact.kind, affiliations=(affiliation,) if affiliation else ())
        identifiers = _orcid_ids(contact.identifier)
        out.append(replace(party, identifiers=identifiers, contributor_type="ContactPerson"))
    return out


def _holders(version: DatasetVersion) -> list[Party]:
    """RightsHolder for each institution; its responsible researcher a ProjectLeader.

    A holder recorded without an institution (older records name a person) is itself the
    RightsHolder. One researcher representing several institutions is listed once.
    """
    out: list[Party] = []
    leaders: dict[str, tuple[str, list[str]]] = {}  # name -> (ORCID as recorded, institutions)
    for holder in version.copyrightholders.all():
        institution, researcher = _text(holder.institution), _text(holder.responsible_researcher)
        if institution:
            ror = _ror_ids(holder.institution_url)
            out.append(Party(institution, "Organizational", identifiers=ror,
                             contributor_type="RightsHolder"))  # fmt: skip
        elif researcher:
            ids = _orcid_ids(holder.researcher_orcid)
            out.append(_person(researcher, identifiers=ids, contributor_type="RightsHolder"))
            continue
        if researcher:
            leaders.setdefault(researcher, (holder.researcher_orcid, []))[1].append(institution)
    for researcher, (orcid, institutions) in leaders.items():
        affiliations = tuple(dict.fromkeys(institutions))
        out.append(_person(researcher, identifiers=_orcid_ids(orcid), affiliations=affiliations,
                           contributor_type="ProjectLeader"))  # fmt: skip
    return out


def _contributors(version: DatasetVersion) -> tuple[Party, ...]:
    hub = Party(_text(settings.HUB_NAME), "Organizational", contributor_type="HostingInstitution")
    return (*_contacts(version), *_holders(version), hub)


def _publisher(version: DatasetVersion) -> Publisher:
    name = _text(version.publisher) or _text(settings.HUB_NAME)
    # A legacy record's publisher "@id" is kept in ``extra``; only a ROR iD identifies it.
    kept = (version.extra or {}).get("datacite.publisher")
    ror = _ror_ids(kept.get("@id", "")) if isinstance(kept, dict) else ()
    if ror:
        return Publisher(name, ror[0].identifier, ror[0].scheme, ror[0].scheme_uri)
    return Publisher(name)


def _publication_year(version: DatasetVersion) -> int:
    if version.date_published:
        return version.date_published.year
    if version.copyright_year:
        return version.copyright_year
    if version.date_created:
        return version.date_created.year
    return version.created_at.year


def _modality_codes(version: DatasetVersion) -> list[str]:
    return [_text(code) for code in as_list(version.modalities) if _text(code)]


def _resource_type(version: DatasetVersion) -> str:
    kind = "Synthetic medical imaging dataset" if version.synthetic else "Medical imaging dataset"
    names = [modality_name(code) for code in _modality_codes(version)]
    return f"{kind} ({', '.join(names)})" if names else kind


def _subjects(version: DatasetVersion) -> tuple[Subject, ...]:
    subjects = [Subject(_text(k)) for k in as_list(version.keywords)]
    field = _text(version.subject)
    if field:
        subjects.append(Subject(field))
        if field.lower() in _CLINICAL_FIELDS:
            subjects.append(Subject("FOS: Clinical medicine", *_FOS))
    for organ in as_list(version.organs):
        if not isinstance(organ, dict):
            organ = {"name": organ}
        name, sctid = _text(organ.get("name")), _text(organ.get("sctid"))
        if sctid.isdigit():
            value_uri = f"http://snomed.info/id/{sctid}"
            subjects.append(Subject(name or sctid, *_SNOMED, value_uri, sctid))
        elif name:
            subjects.append(Subject(name))
    for code in _modality_codes(version):
        if code.upper() in MODALITIES:
            subjects.append(
                Subject(modality_name(code), *_DICOM_MODALITY, classification_code=code.upper())
            )
        else:
            subjects.append(Subject(code))
    return tuple(dict.fromkeys(s for s in subjects if s.subject))


def _dates(version: DatasetVersion, dataset: Dataset) -> tuple[Date, ...]:
    dates = [
        Date(day.isoformat(), kind)
        for day, kind in (
            (version.date_created, "Created"),
            (version.date_published, "Issued"),
            (version.date_modified, "Updated"),
        )
        if day
    ]
    if version.copyright_year:
        dates.append(Date(str(version.copyright_year), "Copyrighted"))
    if dataset.state == DatasetState.WITHDRAWN:
        when = dataset.withdrawn_at or dataset.updated_at
        dates.append(Date(when.date().isoformat(), "Withdrawn", _text(dataset.withdrawal_reason)))
    return tuple(dates)


_DOI_IN_TEXT = re.compile(r"(?:doi:\s*|doi\.org/)(10\.\d{4,9}/\S+)", re.I)
_PMID = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|PMID:?\s*)(\d{1,9})\b", re.I)
_ARXIV = re.compile(r"(?:arxiv\.org/(?:abs|pdf)/|arXiv:\s*)(\d{4}\.\d{4,5}(?:v\d+)?)", re.I)
_HANDLE = re.compile(r"^https?://hdl\.handle\.net/(\S+)$", re.I)


def _doi_in(text: str) -> str:
    match = _DOI_IN_TEXT.search(text)
    if not match:
        return ""
    try:
        return parse_doi(match.group(1).rstrip(".,;)"))
    except InvalidDOI:
        return ""


def publication_identifier(pub) -> tuple[str, str] | None:
    """(identifier, relatedIdentifierType) of a publication, from its DOI, URL or citation."""
    try:
        return parse_doi(pub.doi), "DOI"
    except InvalidDOI:
        pass
    url = safe_url(pub.url)
    for text in (url, _text(pub.title)):
        if doi := _doi_in(text):
            return doi, "DOI"
        if match := _PMID.search(text):
            return match.group(1), "PMID"
        if match := _ARXIV.search(text):
            return f"arXiv:{match.group(1)}", "arXiv"
    if match := _HANDLE.match(url):
        return match.group(1), "Handle"
    if url.startswith(("https://", "http://")):
        return url, "URL"
    return None


def _publications(pubs: Iterable, relation: str, relation_type: str) -> list[Related]:
    out = []
    for pub in pubs:
        found = publication_identifier(pub) if pub.relation == relation else None
        if found:
            out.append(Related(found[0], found[1], relation_type))
    return out


def _version_key(label: str) -> tuple:
    # The importer's order: numeric parts compare as numbers, so 1.10 follows 1.9.
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", label))


def _published_versions(dataset: Dataset) -> list[tuple[str, str]]:
    rows = dataset.versions.filter(state=VersionState.PUBLISHED).values_list("version", "doi")
    return sorted(rows, key=lambda row: _version_key(row[0]))


def _version_relations(version: DatasetVersion) -> list[Related]:
    dataset = version.dataset
    chain = _published_versions(dataset)
    if version.doi not in {doi for _, doi in chain}:
        chain = sorted([*chain, (version.version, version.doi)], key=lambda r: _version_key(r[0]))
    at = [doi for _, doi in chain].index(version.doi)
    out = [Related(dataset.concept_doi, "DOI", "IsVersionOf", "Dataset")]
    if at > 0:
        out.append(Related(chain[at - 1][1], "DOI", "IsNewVersionOf", "Dataset"))
    if at + 1 < len(chain):
        out.append(Related(chain[at + 1][1], "DOI", "IsPreviousVersionOf", "Dataset"))
    return out


def _sizes(version: DatasetVersion) -> tuple[str, ...]:
    sizes = []
    for count, one, many in (
        (version.number_of_scans, "scan", "scans"),
        (version.number_of_annotations, "annotation", "annotations"),
    ):
        if count is not None:
            sizes.append(f"{count} {one if count == 1 else many}")
    if version.size_bytes is not None:
        sizes.append(human_bytes(version.size_bytes))
    return tuple(sizes)


def _formats(version: DatasetVersion) -> tuple[str, ...]:
    formats = []
    for code in (c.upper() for c in _modality_codes(version)):
        if code in _WHOLE_SLIDE:
            formats.append("image/tiff")
        elif code in MODALITIES:
            formats.append("application/dicom")
    if not formats and version.subject.lower() in _FORMAT_FOR_FIELD:
        formats.append(_FORMAT_FOR_FIELD[version.subject.lower()])
    return tuple(dict.fromkeys(formats))


def _rights(version: DatasetVersion, landing_url: str) -> tuple[Rights, ...]:
    return tuple(
        Rights(_text(lic.name), f"{landing_url}#{quote(lic.anchor, safe='')}", lic.kind)
        for lic in version.licenses.all()
        if _text(lic.name)
    )


def _technical_info(version: DatasetVersion) -> str:
    lines = [markdown_text(version.annotation_description)]
    scanners = ", ".join(_text(s) for s in as_list(version.scanners) if _text(s))
    for label, value in (
        ("Case-level annotations", version.case_level_annotations),
        ("Scanners", scanners),
        ("Stain", version.stain),
        ("Contrast phase", version.phase),
        ("Resolution", version.resolution),
        ("Age span", version.age_span),
    ):
        if _text(value):
            lines.append(f"{label}: {_text(value)}")
    return "\n\n".join(line for line in lines if line)


def _descriptions(version: DatasetVersion) -> tuple[Description, ...]:
    texts = (
        (markdown_text(version.description), "Abstract"),
        (_technical_info(version), "TechnicalInfo"),
        (markdown_text(version.additional), "Other"),
    )
    return tuple(Description(text, kind) for text, kind in texts if text)


def _record(
    version: DatasetVersion,
    *,
    doi: str,
    landing_url: str,
    label: str,
    related: list[Related],
) -> Record:
    publisher = _publisher(version)
    title = _text(version.title) or _text(version.dataset.short_name) or ":unav"
    return Record(
        doi=doi,
        url=landing_url,
        creators=_creators(version, publisher),
        titles=(title,),
        publisher=publisher,
        publication_year=_publication_year(version),
        resource_type=_resource_type(version),
        subjects=_subjects(version),
        contributors=_contributors(version),
        dates=_dates(version, version.dataset),
        related=tuple(dict.fromkeys(related)),
        sizes=_sizes(version),
        formats=_formats(version),
        version=label,
        rights=_rights(version, landing_url),
        descriptions=_descriptions(version),
    )


def _landing_url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + quote(path, safe="/:;()")


def version_record(version: DatasetVersion, *, base_url: str) -> Record:
    """The record of one version: its own DOI, landing page and neighbours."""
    pubs = list(version.describing_publications.all())
    related = [
        *_publications(pubs, PublicationRelation.DESCRIBES, "IsDescribedBy"),
        # Uses are recorded for the dataset; a version claims only those tied to it.
        *_publications(pubs, PublicationRelation.USES, "IsReferencedBy"),
        *_version_relations(version),
    ]
    landing = _landing_url(base_url, version.get_absolute_url())
    return _record(
        version, doi=version.doi, landing_url=landing, label=version.version, related=related
    )


def _latest(dataset: Dataset) -> DatasetVersion:
    version = dataset.latest_version or dataset.versions.order_by("-id").first()
    if version is None:
        raise ValueError(f"{dataset.concept_doi} has no version to describe")
    return version


def concept_record(dataset: Dataset, *, base_url: str) -> Record:
    """The record of the concept DOI: the latest version's metadata, and every version."""
    latest = _latest(dataset)
    related = [
        *_publications(
            latest.describing_publications.all(), PublicationRelation.DESCRIBES, "IsDescribedBy"
        ),
        *_publications(dataset.publications.all(), PublicationRelation.USES, "IsReferencedBy"),
        *(Related(doi, "DOI", "HasVersion", "Dataset") for _, doi in _published_versions(dataset)),
    ]
    landing = _landing_url(base_url, dataset.get_absolute_url())
    return _record(latest, doi=dataset.concept_doi, landing_url=landing, label="", related=related)
