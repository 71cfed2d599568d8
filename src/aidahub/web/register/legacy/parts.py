"""The parts of a record: the lists of people, terms, papers, organs and images.

Authors, copyright holders, contacts and the publisher come from the ``datacite`` block,
as do licenses and describing publications; organs and example images from ``other``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from aidahub.web.register import licenses
from aidahub.web.register.doi import InvalidDOI, parse_doi
from aidahub.web.register.legacy.reader import Reader
from aidahub.web.register.legacy.values import (
    MAX_LIST_TEXT,
    read_email,
    read_field_text,
    read_items,
    read_kind,
    read_orcid,
    read_text,
    read_url,
)
from aidahub.web.register.models import (
    Author,
    Contact,
    CopyrightHolder,
    DatasetVersion,
    ExampleImage,
    License,
    PartyKind,
    Publication,
)

__all__ = [
    "read_authors",
    "read_contacts",
    "read_holders",
    "read_images",
    "read_licenses",
    "read_organs",
    "read_publications",
    "read_publisher",
]


def _drop_type(item: dict, expected: str) -> None:
    """An ``@type`` that says what the entry always is adds nothing; another is kept."""
    if item.get("@type") in (None, expected):
        item.pop("@type", None)


def read_authors(r: Reader, value: Any) -> list[dict]:
    authors = []
    for path, item in read_items(r, "datacite.author", value, "name"):
        authors.append({
            "name": read_field_text(r, f"{path}.name", item.pop("name", None), Author, "name"),
            "orcid": read_orcid(r, f"{path}.@id", item.pop("@id", None), Author, "orcid"),
            "kind": read_kind(r, f"{path}.@type", item.pop("@type", None), PartyKind.PERSON),
            "affiliation": read_field_text(r, f"{path}.affiliation", item.pop("affiliation", None),
                                           Author, "affiliation"),
        })  # fmt: skip
        r.keep_unknown(path, item)
    return authors


def read_holders(r: Reader, value: Any) -> list[dict]:
    """Copyright holders as the policy defines them (section "Roles").

    The copyright holder is a research institution represented by a responsible researcher.
    Legacy records list the institution, then (sometimes) the researcher as a Person: that
    Person becomes the institution's responsible researcher. A Person on their own is
    accepted, with a warning, as a holder without an institution.
    """
    holders: list[dict] = []
    after_institution = False
    for path, item in read_items(r, "datacite.copyrightHolder", value, "name"):
        raw_type = item.pop("@type", None)
        if raw_type == PartyKind.PERSON:
            name = read_field_text(
                r, f"{path}.name", item.pop("name", None), CopyrightHolder, "responsible_researcher"
            ).strip()
            orcid = read_orcid(
                r, f"{path}.@id", item.pop("@id", None), CopyrightHolder, "researcher_orcid"
            )
            if after_institution:
                holders[-1].update(responsible_researcher=name, researcher_orcid=orcid)
            else:
                r.repair(
                    path,
                    name,
                    name,
                    f"a person ({name}) is listed as copyright holder; the policy's "
                    "copyright holder is a research institution represented by a "
                    "responsible researcher: recorded as responsible researcher without "
                    "an institution",
                    restore=False,
                )
                holders.append(
                    {
                        "institution": "",
                        "institution_url": "",
                        "responsible_researcher": name,
                        "researcher_orcid": orcid,
                    }
                )
            after_institution = False
        else:
            read_kind(r, f"{path}.@type", raw_type, PartyKind.ORGANIZATION)
            holders.append({
                "institution": read_field_text(r, f"{path}.name", item.pop("name", None),
                                               CopyrightHolder, "institution").strip(),
                "institution_url": read_url(r, f"{path}.url", item.pop("url", None)),
                "responsible_researcher": "", "researcher_orcid": "",
            })  # fmt: skip
            after_institution = True
        r.keep_unknown(path, item)
    return holders


def _host(url: str) -> str:
    return (urlsplit(url.strip()).hostname or "") if url else ""


def _is_hub_contact(
    kind: str, name: str, email: str, identifier: str, publisher: str, record_url: str = ""
) -> bool:
    """Is this contact the hub itself (the policy's "contact person from AIDA")?

    Legacy records name the hub as an Organization whose @id is the register's address; the
    register may have moved since, so the host of the record's own landing-page URL counts.
    """
    if email and email.lower() == settings.DATA_DIRECTOR_EMAIL.lower():
        return True
    if kind != PartyKind.ORGANIZATION:
        return False
    hub_hosts = {_host(settings.BASE_URL), _host(record_url)} - {""}
    names = {settings.HUB_NAME.strip().lower(), publisher.strip().lower()} - {""}
    return _host(identifier) in hub_hosts or name.strip().lower() in names


def read_contacts(r: Reader, value: Any, publisher: str, record_url: str = "") -> list[dict]:
    contacts = []
    for path, item in read_items(r, "datacite.provider", value, "name"):
        contact = {
            "name": read_field_text(r, f"{path}.name", item.pop("name", None), Contact, "name"),
            "email": read_email(r, f"{path}.email", item.pop("email", None)),
            "identifier": read_field_text(r, f"{path}.@id", item.pop("@id", None), Contact,
                                          "identifier"),
            "kind": read_kind(r, f"{path}.@type", item.pop("@type", None), PartyKind.PERSON),
        }  # fmt: skip
        contact["identifier"] = contact["identifier"].strip()
        contact["is_hub_contact"] = _is_hub_contact(
            contact["kind"],
            contact["name"],
            contact["email"],
            contact["identifier"],
            publisher,
            record_url,
        )
        contacts.append(contact)
        r.keep_unknown(path, item)
    return contacts


def read_publisher(r: Reader, value: Any) -> str:
    if isinstance(value, dict):
        item = dict(value)
        name = read_field_text(
            r, "datacite.publisher.name", item.pop("name", None), DatasetVersion, "publisher"
        )
        _drop_type(item, PartyKind.ORGANIZATION)
        r.keep_unknown("datacite.publisher", item)
        return name
    return read_field_text(r, "datacite.publisher", value, DatasetVersion, "publisher")


def read_licenses(r: Reader, value: Any) -> list[dict]:
    out = []
    for path, item in read_items(r, "datacite.license", value, "name"):
        name = read_field_text(r, f"{path}.name", item.pop("name", None), License, "name")
        abstract = read_text(r, f"{path}.abstract", item.pop("abstract", None))
        kind = licenses.kind_for_name(name)
        _drop_type(item, "CreativeWork")
        out.append({
            "kind": kind, "name": name, "abstract": abstract,
            "identifier": read_url(r, f"{path}.id", item.pop("id", None)),
            "custom_text": abstract if kind == "custom" else "",
        })  # fmt: skip
        r.keep_unknown(path, item)
    return out


def read_publications(r: Reader, value: Any) -> list[dict]:
    out = []
    for path, item in read_items(r, "datacite.citation", value, "name"):
        title = read_field_text(r, f"{path}.name", item.pop("name", None), Publication, "title")
        raw_id = item.pop("@id", None)
        doi = url = ""
        if raw_id not in (None, ""):
            try:
                doi = parse_doi(str(raw_id))
            except InvalidDOI:
                url = read_url(r, f"{path}.@id", raw_id)
        _drop_type(item, "CreativeWork")
        out.append({"title": title, "doi": doi, "url": url})
        r.keep_unknown(path, item)
    return out


def read_organs(r: Reader, value: Any) -> list[dict]:
    organs = []
    for path, item in read_items(r, "other.organ", value, "name"):
        organ = {"name": read_text(r, f"{path}.name", item.pop("name", None), MAX_LIST_TEXT)}
        sctid = item.pop("sctid", None)
        if sctid not in (None, ""):
            organ["sctid"] = read_text(r, f"{path}.sctid", sctid, 30).strip()
        organs.append(organ)
        r.keep_unknown(path, item)
    return organs


def read_images(r: Reader, value: Any) -> list[dict]:
    images = []
    for path, item in read_items(r, "other.exampleImage", value, "url"):
        images.append({
            "caption": read_field_text(r, f"{path}.title", item.pop("title", None), ExampleImage,
                                       "caption"),
            "url": read_url(r, f"{path}.url", item.pop("url", None)),
            "thumbnail_url": read_url(r, f"{path}.thumbnail-url", item.pop("thumbnail-url", None)),
        })  # fmt: skip
        r.keep_unknown(path, item)
    return images
