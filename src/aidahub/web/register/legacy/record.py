"""One record read whole: its identity, the version's fields, its parts and its body."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from aidahub.web.register.doi import InvalidDOI, parse_doi, version_doi
from aidahub.web.register.legacy.body import read_body
from aidahub.web.register.legacy.front_matter import load_yaml, normalize_text, split_front_matter
from aidahub.web.register.legacy.keys import fix_keys, neutralize_tree
from aidahub.web.register.legacy.parts import (
    read_authors,
    read_contacts,
    read_holders,
    read_images,
    read_licenses,
    read_organs,
    read_publications,
    read_publisher,
)
from aidahub.web.register.legacy.reader import Reader, SkipRecord, quote
from aidahub.web.register.legacy.values import (
    max_length,
    read_count,
    read_date,
    read_field_text,
    read_flag,
    read_text,
    read_url,
    read_words,
    read_year,
)
from aidahub.web.register.models import Dataset, DatasetVersion

__all__ = ["ParsedRecord", "parse_record"]


@dataclass
class ParsedRecord:
    """Everything one record says, repaired and ready to store."""

    source: str
    concept_doi: str
    label: str
    short_name: str
    hidden: bool
    fields: dict[str, Any]
    authors: list[dict] = field(default_factory=list)
    holders: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    licenses: list[dict] = field(default_factory=list)
    publications: list[dict] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    repairs: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """Hash of what the record stores; repairs that exports do not use are left out."""
        payload = {
            "concept_doi": self.concept_doi, "label": self.label, "short_name": self.short_name,
            "hidden": self.hidden, "fields": self.fields, "authors": self.authors,
            "holders": self.holders, "contacts": self.contacts, "images": self.images,
            "licenses": self.licenses, "publications": self.publications, "extra": self.extra,
            "repairs": [r for r in self.repairs if r["restore"]],
        }  # fmt: skip
        canonical = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _concept_doi(r: Reader, datacite: dict) -> str:
    raw = datacite.pop("@id", None)
    line = r.line("datacite.@id") if raw is not None else r.line("datacite")
    if raw is None or raw == "":
        raise SkipRecord(
            f'line {line}: no DOI: the record\'s datacite "@id" is missing, and '
            "a record is known by its dataset's DOI"
        )
    try:
        return parse_doi(str(raw))
    except InvalidDOI as exc:
        raise SkipRecord(f'line {line}: datacite "@id": {exc}') from exc


def _label(r: Reader, concept_doi: str, datacite: dict) -> str:
    raw = datacite.pop("version", None)
    label = "1.0" if raw is None or raw == "" else str(raw).strip()
    try:
        version_doi(concept_doi, label)
    except InvalidDOI as exc:
        raise SkipRecord(f"line {r.line('datacite.version')}: {exc}") from exc
    return label


_NO_AGE_SPAN = {"-", "–", "—", "n/a", "na", "unknown", "?"}


def _age_span(r: Reader, value: Any) -> str:
    text = read_field_text(r, "other.age-span", value, DatasetVersion, "age_span").strip()
    if text.lower() in _NO_AGE_SPAN:
        r.repair(
            "other.age-span",
            value,
            "",
            f"{quote(value)} means no age span: left empty",
            restore=True,
        )
        return ""
    return text


def _version_fields(r: Reader, datacite: dict, other: dict) -> dict[str, Any]:
    dv = DatasetVersion
    pop_d, pop_o = datacite.pop, other.pop
    return {
        "title": read_field_text(r, "datacite.name", pop_d("name", None), dv, "title"),
        "subject": read_field_text(r, "datacite.about", pop_d("about", None), dv, "subject"),
        "url": read_url(r, "datacite.url", pop_d("url", None)),
        "copyright_year": read_year(r, "datacite.copyrightYear", pop_d("copyrightYear", None)),
        "date_created": read_date(r, "datacite.dateCreated", pop_d("dateCreated", None)),
        "date_published": read_date(r, "datacite.datePublished", pop_d("datePublished", None)),
        "date_modified": read_date(r, "datacite.dateModified", pop_d("dateModified", None)),
        "keywords": read_words(r, "datacite.keywords", pop_d("keywords", None)),
        "description": read_text(r, "datacite.description", pop_d("description", None)),
        "origin": read_field_text(r, "other.origin", pop_o("origin", None), dv, "origin"),
        "status": read_field_text(r, "other.status", pop_o("status", None), dv, "status"),
        "annotation_description": read_text(r, "other.annotation", pop_o("annotation", None)),
        "countries_shared": read_words(r, "other.countries-shared",
                                       pop_o("countries-shared", None)),
        "organs": read_organs(r, pop_o("organ", None)),
        "age_span": _age_span(r, pop_o("age-span", None)),
        "size_bytes": read_count(r, "other.bytes", pop_o("bytes", None), units=True),
        "number_of_scans": read_count(r, "other.numberOfScans", pop_o("numberOfScans", None)),
        "number_of_annotations": read_count(r, "other.numberOfAnnotations",
                                            pop_o("numberOfAnnotations", None)),
        "resolution": read_field_text(r, "other.resolution", pop_o("resolution", None), dv,
                                      "resolution"),
        "modalities": read_words(r, "other.modality", pop_o("modality", None)),
        "scanners": read_words(r, "other.scanner", pop_o("scanner", None), split=False),
        "stain": read_field_text(r, "other.stain", pop_o("stain", None), dv, "stain"),
        "phase": read_field_text(r, "other.phase", pop_o("phase", None), dv, "phase"),
        "image": read_url(r, "other.image", pop_o("image", None)),
        "case_level_annotations": read_field_text(r, "other.caseLevelAnnotations",
                                                  pop_o("caseLevelAnnotations", None), dv,
                                                  "case_level_annotations"),
    }  # fmt: skip


def _block(r: Reader, data: dict, key: str) -> dict:
    block = data.pop(key, None)
    if block is None or isinstance(block, dict):
        return dict(block or {})
    r.repair(
        key, block, {}, f"the {key} block is not a set of keys and values: left out", restore=False
    )
    return {}


def parse_record(text: str, source: str) -> ParsedRecord:
    """Read one record; raise SkipRecord when it cannot be imported at all."""
    text = normalize_text(text)
    front, body, body_line = split_front_matter(text)
    data, lines = load_yaml(front)
    if data is None:
        raise SkipRecord("the front matter is empty: a record needs at least its DOI")
    if not isinstance(data, dict):
        raise SkipRecord("the front matter is not a set of keys and values")
    r = Reader(source, lines, body_line)
    data = fix_keys(r, data, "", "")
    data = neutralize_tree(r, data, "", "")
    datacite = data.pop("datacite", None)
    if not isinstance(datacite, dict):
        raise SkipRecord('no datacite block: a record is known by its DOI, datacite "@id"')
    datacite = dict(datacite)
    concept_doi = _concept_doi(r, datacite)
    label = _label(r, concept_doi, datacite)
    other = _block(r, data, "other")
    hidden = read_flag(r, "hidden", data.pop("hidden", None))
    synthetic = read_flag(r, "synthetic", data.pop("synthetic", None))
    for key, expected in (("@context", None), ("@type", "Dataset")):
        if expected is None or datacite.get(key) == expected:
            datacite.pop(key, None)
    publisher = read_publisher(r, datacite.pop("publisher", None))
    fields = _version_fields(r, datacite, other)
    if not fields["title"]:
        fields["title"] = concept_doi
        r.repair(
            "datacite.name",
            None,
            concept_doi,
            "no title (datacite name): the DOI is shown instead",
            restore=True,
        )
    fields.update(publisher=publisher, synthetic=synthetic)
    short_name = read_text(
        r, "other.shortName", other.pop("shortName", None), max_length(Dataset, "short_name")
    ).strip()
    parsed = ParsedRecord(
        source=source, concept_doi=concept_doi, label=label,
        short_name=short_name or concept_doi.rsplit("/", 1)[-1].upper()[:60], hidden=hidden,
        fields=fields, authors=read_authors(r, datacite.pop("author", None)),
        holders=read_holders(r, datacite.pop("copyrightHolder", None)),
        contacts=read_contacts(r, datacite.pop("provider", None), publisher, fields["url"]),
        images=read_images(r, other.pop("exampleImage", None)),
        licenses=read_licenses(r, datacite.pop("license", None)),
        publications=read_publications(r, datacite.pop("citation", None)),
    )  # fmt: skip
    additional, body_extra = read_body(r, body, fields["description"])
    fields["additional"] = additional
    for path, rest in (("", data), ("datacite", datacite), ("other", other)):
        r.keep_unknown(path, rest)
    parsed.extra = {**body_extra, **({"unknown": r.unknown} if r.unknown else {})}
    parsed.repairs = r.repairs
    parsed.warnings = [text for _, text in sorted(r.warnings, key=lambda w: w[0])]
    return parsed
