"""DataCite metadata for a dataset version and for its concept DOI, as XML and as JSON.

The XML follows the DataCite Metadata Schema 4.7 (namespace ``kernel-4``), the newest kernel
in the standards folder; it uses no term newer than 4.5, so every record validates against
kernels 4.5, 4.6 and 4.7 alike. The JSON is the ``attributes`` object of the DataCite REST
API (``/dois``). Both are written from one ``Record`` (``datacite_record``), built once from
the models, so the two cannot drift apart; the mapping decisions are documented there.
"""

from __future__ import annotations

from lxml import etree

from aidahub.web.register.datacite_record import (
    Party,
    Record,
    concept_record,
    version_record,
)
from aidahub.web.register.models import Dataset, DatasetVersion

__all__ = [
    "EVENTS",
    "KERNEL",
    "NAMESPACE",
    "SCHEMA_LOCATION",
    "Record",
    "concept_datacite_json",
    "concept_datacite_payload",
    "concept_datacite_xml",
    "concept_record",
    "concept_resource_element",
    "datacite_json",
    "datacite_payload",
    "datacite_xml",
    "record_json",
    "record_xml",
    "resource_element",
    "version_record",
]

KERNEL = "4.7"
NAMESPACE = "http://datacite.org/schema/kernel-4"
SCHEMA_LOCATION = f"https://schema.datacite.org/meta/kernel-{KERNEL}/metadata.xsd"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"

EVENTS = ("publish", "register", "hide")  # the REST API's DOI state changes


# -- XML -------------------------------------------------------------------------------------


def _q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def _sub(parent, tag: str, text: str = "", **attributes: str):
    element = etree.SubElement(parent, _q(tag))
    if text:
        element.text = text
    for name, value in attributes.items():
        if value:
            element.set(name, value)
    return element


def _wrapper(root, tag: str, items) -> etree._Element | None:
    return _sub(root, tag) if items else None


def _party_xml(parent, tag: str, party: Party) -> None:
    element = _sub(parent, tag, contributorType=party.contributor_type)
    _sub(element, f"{tag}Name", party.name, nameType=party.name_type)
    if party.given_name:
        _sub(element, "givenName", party.given_name)
    if party.family_name:
        _sub(element, "familyName", party.family_name)
    for ident in party.identifiers:
        _sub(
            element,
            "nameIdentifier",
            ident.identifier,
            nameIdentifierScheme=ident.scheme,
            schemeURI=ident.scheme_uri,
        )
    for affiliation in party.affiliations:
        _sub(element, "affiliation", affiliation)


def record_xml(record: Record) -> etree._Element:
    """The ``<resource>`` element of *record*."""
    root = etree.Element(_q("resource"), nsmap={None: NAMESPACE, "xsi": _XSI})
    root.set(f"{{{_XSI}}}schemaLocation", f"{NAMESPACE} {SCHEMA_LOCATION}")
    _sub(root, "identifier", record.doi, identifierType="DOI")
    creators = _sub(root, "creators")
    for party in record.creators:
        _party_xml(creators, "creator", party)
    titles = _sub(root, "titles")
    for title in record.titles:
        _sub(titles, "title", title)
    pub = record.publisher
    _sub(
        root,
        "publisher",
        pub.name,
        publisherIdentifier=pub.identifier,
        publisherIdentifierScheme=pub.scheme,
        schemeURI=pub.scheme_uri,
    )
    _sub(root, "publicationYear", f"{record.publication_year:04d}")
    _sub(root, "resourceType", record.resource_type, resourceTypeGeneral="Dataset")
    if (subjects := _wrapper(root, "subjects", record.subjects)) is not None:
        for s in record.subjects:
            _sub(
                subjects,
                "subject",
                s.subject,
                subjectScheme=s.scheme,
                schemeURI=s.scheme_uri,
                valueURI=s.value_uri,
                classificationCode=s.classification_code,
            )
    if (contributors := _wrapper(root, "contributors", record.contributors)) is not None:
        for party in record.contributors:
            _party_xml(contributors, "contributor", party)
    if (dates := _wrapper(root, "dates", record.dates)) is not None:
        for d in record.dates:
            _sub(dates, "date", d.date, dateType=d.date_type, dateInformation=d.information)
    if record.language:
        _sub(root, "language", record.language)
    if (related := _wrapper(root, "relatedIdentifiers", record.related)) is not None:
        for r in record.related:
            _sub(
                related,
                "relatedIdentifier",
                r.identifier,
                relatedIdentifierType=r.identifier_type,
                relationType=r.relation_type,
                resourceTypeGeneral=r.resource_type_general,
            )
    for wrapper, tag, values in (
        ("sizes", "size", record.sizes),
        ("formats", "format", record.formats),
    ):
        if (element := _wrapper(root, wrapper, values)) is not None:
            for value in values:
                _sub(element, tag, value)
    if record.version:
        _sub(root, "version", record.version)
    if (rights_list := _wrapper(root, "rightsList", record.rights)) is not None:
        for rights in record.rights:
            _sub(rights_list, "rights", rights.rights, rightsURI=rights.uri,
                 rightsIdentifier=rights.identifier)  # fmt: skip
    if (descriptions := _wrapper(root, "descriptions", record.descriptions)) is not None:
        for text in record.descriptions:
            _sub(descriptions, "description", text.description,
                 descriptionType=text.description_type)  # fmt: skip
    return root


def _bytes(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def resource_element(version: DatasetVersion, *, base_url: str) -> etree._Element:
    """DataCite XML for one version, as an element (for OAI-PMH to embed)."""
    return record_xml(version_record(version, base_url=base_url))


def datacite_xml(version: DatasetVersion, *, base_url: str) -> bytes:
    """DataCite XML for one version: UTF-8 with an XML declaration."""
    return _bytes(resource_element(version, base_url=base_url))


def concept_resource_element(dataset: Dataset, *, base_url: str) -> etree._Element:
    """DataCite XML for the concept DOI, as an element."""
    return record_xml(concept_record(dataset, base_url=base_url))


def concept_datacite_xml(dataset: Dataset, *, base_url: str) -> bytes:
    return _bytes(concept_resource_element(dataset, base_url=base_url))


# -- JSON (REST API attributes) --------------------------------------------------------------


def _compact(mapping: dict) -> dict:
    return {key: value for key, value in mapping.items() if value not in ("", None)}


def _party_json(party: Party) -> dict:
    return _compact(
        {
            "name": party.name,
            "nameType": party.name_type,
            "givenName": party.given_name,
            "familyName": party.family_name,
            "contributorType": party.contributor_type,
            "nameIdentifiers": [
                {
                    "nameIdentifier": i.identifier,
                    "nameIdentifierScheme": i.scheme,
                    "schemeUri": i.scheme_uri,
                }
                for i in party.identifiers
            ],
            "affiliation": [{"name": name} for name in party.affiliations],
        }
    )


def record_json(record: Record) -> dict:
    """The ``attributes`` of *record* for the DataCite REST API.

    Every list is present, empty or not, so that an update clears what a record no longer
    has; optional keys inside an item are left out when empty.
    """
    pub = record.publisher
    return {
        "doi": record.doi,
        "url": record.url,
        "creators": [_party_json(p) for p in record.creators],
        "titles": [{"title": t} for t in record.titles],
        "publisher": _compact(
            {
                "name": pub.name,
                "publisherIdentifier": pub.identifier,
                "publisherIdentifierScheme": pub.scheme,
                "schemeUri": pub.scheme_uri,
            }
        ),
        "publicationYear": record.publication_year,
        "types": {"resourceTypeGeneral": "Dataset", "resourceType": record.resource_type},
        "subjects": [
            _compact(
                {
                    "subject": s.subject,
                    "subjectScheme": s.scheme,
                    "schemeUri": s.scheme_uri,
                    "valueUri": s.value_uri,
                    "classificationCode": s.classification_code,
                }
            )
            for s in record.subjects
        ],
        "contributors": [_party_json(p) for p in record.contributors],
        "dates": [
            _compact({"date": d.date, "dateType": d.date_type, "dateInformation": d.information})
            for d in record.dates
        ],
        "language": record.language,
        "relatedIdentifiers": [
            _compact(
                {
                    "relatedIdentifier": r.identifier,
                    "relatedIdentifierType": r.identifier_type,
                    "relationType": r.relation_type,
                    "resourceTypeGeneral": r.resource_type_general,
                }
            )
            for r in record.related
        ],
        "sizes": list(record.sizes),
        "formats": list(record.formats),
        "version": record.version or None,
        "rightsList": [
            {"rights": r.rights, "rightsUri": r.uri, "rightsIdentifier": r.identifier}
            for r in record.rights
        ],
        "descriptions": [
            {"description": d.description, "descriptionType": d.description_type}
            for d in record.descriptions
        ],
        "schemaVersion": NAMESPACE,
    }


def _payload(attributes: dict, event: str | None) -> dict:
    if event is not None:
        if event not in EVENTS:
            raise ValueError(f"event must be one of {', '.join(EVENTS)}, not {event!r}")
        attributes = {**attributes, "event": event}
    return {"data": {"id": attributes["doi"], "type": "dois", "attributes": attributes}}


def datacite_json(version: DatasetVersion, *, base_url: str) -> dict:
    """DataCite JSON (REST API attributes) for one version."""
    return record_json(version_record(version, base_url=base_url))


def concept_datacite_json(dataset: Dataset, *, base_url: str) -> dict:
    return record_json(concept_record(dataset, base_url=base_url))


def datacite_payload(version: DatasetVersion, *, base_url: str, event: str | None = None) -> dict:
    """The JSON:API body for ``POST /dois`` or ``PUT /dois/<doi>``, with an optional event.

    ``publish`` makes a DOI findable, ``register`` registers it without listing it, and
    ``hide`` takes a findable DOI back to registered (a withdrawn dataset's tombstone).
    """
    return _payload(datacite_json(version, base_url=base_url), event)


def concept_datacite_payload(dataset: Dataset, *, base_url: str, event: str | None = None) -> dict:
    return _payload(concept_datacite_json(dataset, base_url=base_url), event)
