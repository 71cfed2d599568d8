"""OAI-PMH 2.0 at /oai: every verb, every error, paging, and a real harvest with Sickle."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from lxml import etree

from aidahub.web.register import oai, services
from aidahub.web.register.models import Author, Dataset, DatasetVersion, Publication
from tests.factories import make_dataset

NS = {
    "oai": "http://www.openarchives.org/OAI/2.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "id": "http://www.openarchives.org/OAI/2.0/oai-identifier",
    "dcite": "http://datacite.org/schema/kernel-4",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
UTC_SECOND = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
HOSTILE_TITLE = '<script>alert(1)</script> & "quoted" \x01 Lungröntgen 肺 КТ'


def harvest(method: str = "get", **params) -> etree._Element:
    """One OAI-PMH request; checks what every answer shares and returns the parsed root."""
    if "from_" in params:
        params["from"] = params.pop("from_")
    response = getattr(Client(), method)("/oai", params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(response.content)
    assert root.tag == "{http://www.openarchives.org/OAI/2.0/}OAI-PMH"
    assert root.get(f"{{{NS['xsi']}}}schemaLocation").split() == [
        NS["oai"],
        "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd",
    ]
    assert UTC_SECOND.match(root.findtext("oai:responseDate", namespaces=NS))
    assert root.findtext("oai:request", namespaces=NS) == "http://testserver/oai"
    return root


def error_code(root: etree._Element) -> str:
    errors = root.findall("oai:error", namespaces=NS)
    assert len(errors) == 1, etree.tostring(root)
    assert errors[0].text
    return errors[0].get("code")


def request_args(root: etree._Element) -> dict[str, str]:
    return dict(root.find("oai:request", namespaces=NS).attrib)


def oai_id(dataset: Dataset) -> str:
    return f"oai:127.0.0.1:{dataset.concept_doi}"


def ids(root: etree._Element) -> list[str]:
    return [e.text for e in root.iterfind(".//oai:header/oai:identifier", namespaces=NS)]


def set_changed(dataset: Dataset, when: dt.datetime) -> None:
    """Make *when* the dataset's last change (no signal: the register generation stays)."""
    Dataset.objects.filter(pk=dataset.pk).update(updated_at=when)
    DatasetVersion.objects.filter(pk=dataset.latest_version_id).update(updated_at=when)


@pytest.fixture
def register(db):
    """Public datasets in two fields, a withdrawn one, and ones harvesters never see."""
    radiology = make_dataset(short_name="RAD", subject="Radiology", licenses=("aida-by",))
    pathology = make_dataset(
        short_name="PAT", subject="Pathology", licenses=("aida-ca", "controlled-access")
    )
    withdrawn = make_dataset(short_name="WIT", subject="Radiology")
    services.withdraw(withdrawn, "Consent was withdrawn")
    hidden = make_dataset(short_name="HID", hidden=True)
    draft = make_dataset(short_name="DRA", published=False)
    return {
        "radiology": Dataset.objects.get(pk=radiology.pk),
        "pathology": Dataset.objects.get(pk=pathology.pk),
        "withdrawn": Dataset.objects.get(pk=withdrawn.pk),
        "hidden": hidden,
        "draft": draft,
    }


# -- Identify --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_identify_describes_the_repository(register, settings):
    set_changed(register["pathology"], dt.datetime(2021, 5, 6, 7, 8, 9, 500, tzinfo=dt.UTC))

    root = harvest(verb="Identify")

    assert request_args(root) == {"verb": "Identify"}
    ident = root.find("oai:Identify", namespaces=NS)
    assert [etree.QName(e).localname for e in ident] == [
        "repositoryName",
        "baseURL",
        "protocolVersion",
        "adminEmail",
        "earliestDatestamp",
        "deletedRecord",
        "granularity",
    ]
    text = {etree.QName(e).localname: e.text for e in ident}
    assert text["repositoryName"] == settings.HUB_NAME
    assert text["baseURL"] == "http://testserver/oai"
    assert text["protocolVersion"] == "2.0"
    assert text["adminEmail"] == settings.DATA_DIRECTOR_EMAIL
    assert text["earliestDatestamp"] == "2021-05-06T07:08:09Z"
    assert text["deletedRecord"] == "persistent"
    assert text["granularity"] == "YYYY-MM-DDThh:mm:ssZ"


@pytest.mark.django_db
def test_identify_describes_the_identifier_scheme_when_the_host_is_a_domain(settings):
    settings.BASE_URL = "https://datahub.example.org"
    dataset = make_dataset()

    root = harvest(verb="Identify")

    desc = root.find("oai:Identify/oai:description/id:oai-identifier", namespaces=NS)
    assert desc is not None
    assert desc.findtext("id:scheme", namespaces=NS) == "oai"
    assert desc.findtext("id:repositoryIdentifier", namespaces=NS) == "datahub.example.org"
    assert desc.findtext("id:delimiter", namespaces=NS) == ":"
    sample = desc.findtext("id:sampleIdentifier", namespaces=NS)
    assert sample == f"oai:datahub.example.org:{dataset.concept_doi}"
    records = harvest(verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert ids(records) == [sample]


@pytest.mark.django_db
def test_post_answers_like_get(register):
    get = harvest(verb="ListIdentifiers", metadataPrefix="oai_dc")
    post = harvest("post", verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert ids(get) == ids(post) and len(ids(get)) == 3
    assert request_args(post) == {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}


# -- ListMetadataFormats and ListSets --------------------------------------------------------


@pytest.mark.django_db
def test_list_metadata_formats(register):
    for params in ({}, {"identifier": oai_id(register["radiology"])}):
        root = harvest(verb="ListMetadataFormats", **params)
        formats = {
            f.findtext("oai:metadataPrefix", namespaces=NS): (
                f.findtext("oai:schema", namespaces=NS),
                f.findtext("oai:metadataNamespace", namespaces=NS),
            )
            for f in root.iterfind("oai:ListMetadataFormats/oai:metadataFormat", namespaces=NS)
        }
        assert formats == {
            "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", NS["oai_dc"]),
            "oai_datacite": (
                "https://schema.datacite.org/meta/kernel-4/metadata.xsd",
                NS["dcite"],
            ),
        }


@pytest.mark.django_db
def test_list_metadata_formats_for_unknown_and_withdrawn_items(register):
    for name in ("hidden", "draft"):
        root = harvest(verb="ListMetadataFormats", identifier=oai_id(register[name]))
        assert error_code(root) == "idDoesNotExist"
        assert request_args(root)["identifier"] == oai_id(register[name])
    root = harvest(verb="ListMetadataFormats", identifier=oai_id(register["withdrawn"]))
    assert error_code(root) == "noMetadataFormats"


@pytest.mark.django_db
def test_list_sets_by_field_and_license_type(register):
    make_dataset(subject="Рентгенология")  # no Latin letters: the set gets a hashed name

    root = harvest(verb="ListSets")

    sets = {
        s.findtext("oai:setSpec", namespaces=NS): s.findtext("oai:setName", namespaces=NS)
        for s in root.iterfind("oai:ListSets/oai:set", namespaces=NS)
    }
    assert sets["field"] == "Datasets by field"
    assert sets["field:radiology"] == "Field: Radiology"
    assert sets["field:pathology"] == "Field: Pathology"
    assert "Field: Рентгенология" in sets.values()
    assert sets["license"] == "Datasets by license type"
    assert sets["license:aida-by"] == "License: AIDA BY license"
    assert {"license:aida", "license:aida-ca", "license:aida-by-ca"} < set(sets)
    spec = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
    assert all(spec.match(s) for s in sets)


# -- GetRecord -------------------------------------------------------------------------------


def _dc(root: etree._Element) -> dict[str, list[str]]:
    dc = root.find(".//oai:metadata/oai_dc:dc", namespaces=NS)
    assert dc.get(f"{{{NS['xsi']}}}schemaLocation").split() == [
        NS["oai_dc"],
        "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
    ]
    out: dict[str, list[str]] = {}
    for element in dc:
        assert etree.QName(element).namespace == NS["dc"]
        out.setdefault(etree.QName(element).localname, []).append(element.text)
    return out


@pytest.mark.django_db
def test_get_record_in_dublin_core(register):
    dataset = register["radiology"]
    Publication.objects.create(
        dataset=dataset, relation="uses", title="A study that used it", doi="10.1234/used"
    )

    root = harvest(verb="GetRecord", identifier=oai_id(dataset), metadataPrefix="oai_dc")

    assert request_args(root) == {
        "verb": "GetRecord",
        "identifier": oai_id(dataset),
        "metadataPrefix": "oai_dc",
    }
    header = root.find("oai:GetRecord/oai:record/oai:header", namespaces=NS)
    assert header.get("status") is None
    assert header.findtext("oai:identifier", namespaces=NS) == oai_id(dataset)
    assert UTC_SECOND.match(header.findtext("oai:datestamp", namespaces=NS))
    specs = [e.text for e in header.iterfind("oai:setSpec", namespaces=NS)]
    assert specs == ["field:radiology", "license:aida-by"]
    dc = _dc(root)
    assert dc["title"] == ["Chest CT with annotated nodules"]
    assert dc["creator"] == ["Astrid Example", "Bertil Placeholder"]
    assert dc["subject"] == ["Radiology", "CT", "Lung"]
    assert dc["description"] == ["A test dataset."]
    assert dc["publisher"] == ["Example Data Hub"]
    assert dc["date"] == ["2024-03-15"]
    assert dc["type"] == ["Dataset"]
    assert dc["format"] == ["1.5 GB"]
    assert dc["identifier"] == [
        f"https://doi.org/{dataset.concept_doi}",
        f"http://testserver/{dataset.concept_doi}",
    ]
    assert dc["language"] == ["en"]
    assert dc["relation"] == [
        "https://doi.org/10.1234/used",
        f"https://doi.org/{dataset.latest_version.doi}",
    ]
    assert dc["rights"] == ["AIDA BY license"]


@pytest.mark.django_db
def test_get_record_of_a_withdrawn_dataset_is_a_deleted_header(register):
    root = harvest(
        verb="GetRecord", identifier=oai_id(register["withdrawn"]), metadataPrefix="oai_dc"
    )
    record = root.find("oai:GetRecord/oai:record", namespaces=NS)
    assert record.find("oai:header", namespaces=NS).get("status") == "deleted"
    assert record.find("oai:metadata", namespaces=NS) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "identifier",
    [
        "hidden",
        "draft",
        "oai:127.0.0.1:10.5072/nothing/here",
        "oai:elsewhere.example.org:{doi}",
        "{doi}",
        "oai:127.0.0.1:10.5072/../../../etc/passwd",
        "oai:127.0.0.1:../../settings.py",
        "oai:127.0.0.1:https://doi.org/{doi}",
        "oai:127.0.0.1:" + "9" * 900,
        "oai:127.0.0.1:%00",
    ],
)
def test_get_record_of_what_is_not_an_item_is_id_does_not_exist(register, identifier):
    if identifier in register:
        identifier = oai_id(register[identifier])
    identifier = identifier.format(doi=register["radiology"].concept_doi)
    root = harvest(verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")
    assert error_code(root) == "idDoesNotExist"
    assert request_args(root)["identifier"] == identifier


@pytest.mark.django_db
def test_hostile_and_non_latin_metadata_is_escaped_text(db):
    dataset = make_dataset(
        published=False,
        title=HOSTILE_TITLE,
        description="**Bold** <b>tag</b> & <script>alert(2)</script>\n\nSecond\x0b paragraph",
        keywords=["<img src=x onerror=alert(3)>", "Лёгкие"],
    )
    version = dataset.versions.get()
    Author.objects.create(version=version, position=2, name="李小龍 <i>&amp;</i>")
    Author.objects.create(version=version, position=3, name="Åsa Öberg-Ångström")
    services.publish(dataset, version)

    response = Client().get(
        "/oai", {"verb": "GetRecord", "identifier": oai_id(dataset), "metadataPrefix": "oai_dc"}
    )
    assert b"<script" not in response.content
    assert b"<img" not in response.content
    dc = _dc(etree.fromstring(response.content))
    assert dc["title"] == ['<script>alert(1)</script> & "quoted" Lungröntgen 肺 КТ']
    assert dc["creator"][2:] == ["李小龍 <i>&amp;</i>", "Åsa Öberg-Ångström"]
    assert "<img src=x onerror=alert(3)>" in dc["subject"] and "Лёгкие" in dc["subject"]
    assert dc["description"] == ["Bold <b>tag</b> & <script>alert(2)</script>\n\nSecond paragraph"]


@pytest.mark.django_db
def test_get_record_in_datacite(register):
    dataset = register["radiology"]
    root = harvest(verb="GetRecord", identifier=oai_id(dataset), metadataPrefix="oai_datacite")
    resource = root.find("oai:GetRecord/oai:record/oai:metadata/dcite:resource", namespaces=NS)
    assert resource is not None
    identifier = resource.find("dcite:identifier", namespaces=NS)
    assert identifier.get("identifierType") == "DOI"
    assert identifier.text == dataset.concept_doi


# -- ListIdentifiers and ListRecords ---------------------------------------------------------


@pytest.mark.django_db
def test_list_records_shows_public_and_withdrawn_never_hidden_or_draft(register):
    root = harvest(verb="ListRecords", metadataPrefix="oai_dc")

    records = root.findall("oai:ListRecords/oai:record", namespaces=NS)
    by_id = {r.findtext("oai:header/oai:identifier", namespaces=NS): r for r in records}
    assert set(by_id) == {oai_id(register[n]) for n in ("radiology", "pathology", "withdrawn")}
    deleted = by_id[oai_id(register["withdrawn"])]
    assert deleted.find("oai:header", namespaces=NS).get("status") == "deleted"
    assert deleted.find("oai:metadata", namespaces=NS) is None
    assert by_id[oai_id(register["pathology"])].find("oai:metadata", namespaces=NS) is not None
    # The whole list fits in one answer: no resumptionToken at all.
    assert root.find(".//oai:resumptionToken", namespaces=NS) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("set_spec", "expected"),
    [
        ("field", {"radiology", "pathology", "withdrawn"}),
        ("field:radiology", {"radiology", "withdrawn"}),
        ("field:pathology", {"pathology"}),
        ("license", {"radiology", "pathology", "withdrawn"}),
        ("license:aida-by", {"radiology", "withdrawn"}),
        ("license:controlled-access", {"pathology"}),
    ],
)
def test_list_identifiers_in_a_set(register, set_spec, expected):
    root = harvest(verb="ListIdentifiers", metadataPrefix="oai_dc", set=set_spec)
    assert set(ids(root)) == {oai_id(register[name]) for name in expected}
    assert root.find("oai:ListIdentifiers/oai:header/oai:setSpec", namespaces=NS) is not None
    assert request_args(root)["set"] == set_spec


@pytest.mark.django_db
@pytest.mark.parametrize("set_spec", ["license:aida-nc", "field:oncology", "subject:x", "x"])
def test_an_unknown_or_empty_set_matches_no_records(register, set_spec):
    root = harvest(verb="ListRecords", metadataPrefix="oai_dc", set=set_spec)
    assert error_code(root) == "noRecordsMatch"
    assert request_args(root) == {
        "verb": "ListRecords",
        "metadataPrefix": "oai_dc",
        "set": set_spec,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("2024-01-01", "", {"new", "newest"}),
        ("", "2023-06-30", {"old"}),
        ("2023-07-01", "2024-01-01", set()),
        ("2023-06-30", "2023-06-30", {"old"}),
        ("2024-01-02", "2024-01-02", {"new"}),  # both days inclusive
        ("2024-01-02T10:00:00Z", "2024-01-02T10:00:00Z", {"new"}),  # to the second
        ("2024-01-02T10:00:01Z", "", {"newest"}),
        ("", "2024-01-02T09:59:59Z", {"old"}),
    ],
)
def test_from_and_until_select_by_datestamp(db, since, until, expected):
    datasets = {name: make_dataset(short_name=name) for name in ("old", "new", "newest")}
    set_changed(datasets["old"], dt.datetime(2023, 6, 30, 23, 59, 59, tzinfo=dt.UTC))
    set_changed(datasets["new"], dt.datetime(2024, 1, 2, 10, 0, 0, 999999, tzinfo=dt.UTC))
    set_changed(datasets["newest"], dt.datetime(2025, 2, 3, tzinfo=dt.UTC))
    params = {"from_": since, "until": until}
    params = {key: value for key, value in params.items() if value}

    root = harvest(verb="ListIdentifiers", metadataPrefix="oai_dc", **params)

    if not expected:
        assert error_code(root) == "noRecordsMatch"
        return
    assert set(ids(root)) == {oai_id(datasets[name]) for name in expected}
    stamps = root.findall(".//oai:header/oai:datestamp", namespaces=NS)
    if "new" in expected:
        assert "2024-01-02T10:00:00Z" in [s.text for s in stamps]


@pytest.mark.django_db
def test_a_publication_that_used_a_dataset_changes_its_datestamp(db):
    dataset = make_dataset()
    set_changed(dataset, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    services.record_use(dataset, "A later study")
    root = harvest(verb="ListIdentifiers", metadataPrefix="oai_dc", from_="2021-01-01")
    assert ids(root) == [oai_id(dataset)]


@pytest.mark.django_db
def test_lists_are_split_with_signed_resumption_tokens(db, monkeypatch):
    monkeypatch.setattr(oai, "PAGE_SIZE", 2)
    datasets = [make_dataset() for _ in range(5)]

    seen, cursors, token = [], [], None
    while True:
        params = {"resumptionToken": token} if token else {"metadataPrefix": "oai_dc"}
        root = harvest(verb="ListRecords", **params)
        if token:
            assert request_args(root) == {"verb": "ListRecords", "resumptionToken": token}
        seen += ids(root)
        element = root.find("oai:ListRecords/oai:resumptionToken", namespaces=NS)
        assert element.get("completeListSize") == "5"
        cursors.append(element.get("cursor"))
        token = element.text
        if not token:
            break
    assert seen == [oai_id(d) for d in datasets]
    assert cursors == ["0", "2", "4"]


@pytest.mark.django_db
def test_a_token_is_refused_after_a_register_change_and_when_forged(db, monkeypatch):
    monkeypatch.setattr(oai, "PAGE_SIZE", 2)
    for _ in range(3):
        make_dataset()
    root = harvest(verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = root.findtext("oai:ListIdentifiers/oai:resumptionToken", namespaces=NS)

    for forged in (token[:-2] + "xx", "../../etc/passwd", "\u00e5" * 200, token + ":x"):
        assert error_code(harvest(verb="ListIdentifiers", resumptionToken=forged)) == (
            "badResumptionToken"
        )
    # A token is for the verb that issued it.
    assert error_code(harvest(verb="ListRecords", resumptionToken=token)) == "badResumptionToken"
    assert (
        harvest(verb="ListIdentifiers", resumptionToken=token).find(
            "oai:ListIdentifiers", namespaces=NS
        )
        is not None
    )

    make_dataset()

    root = harvest(verb="ListIdentifiers", resumptionToken=token)
    assert error_code(root) == "badResumptionToken"
    assert request_args(root) == {"verb": "ListIdentifiers", "resumptionToken": token}


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "badVerb"),
        ("verb=", "badVerb"),
        ("verb=Identify&verb=Identify", "badVerb"),
        ("verb=identify", "badVerb"),
        ("verb=DeleteEverything", "badVerb"),
        ("verb=%3Cscript%3E%01", "badVerb"),
        ("verb=Identify&metadataPrefix=oai_dc", "badArgument"),
        ("verb=ListRecords", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&colour=blue", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&=blue", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc%00", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&set=field%1Fx", "badArgument"),
        ("verb=ListRecords&metadataPrefix=" + "x" * 5000, "badArgument"),
        ("verb=GetRecord&metadataPrefix=oai_dc", "badArgument"),
        ("verb=GetRecord&identifier=oai:127.0.0.1:10.5072/x", "badArgument"),
        ("verb=ListMetadataFormats&set=field", "badArgument"),
        ("verb=ListSets&resumptionToken=abc", "badResumptionToken"),
        ("verb=ListSets&set=field", "badArgument"),
        ("verb=Identify&resumptionToken=abc", "badArgument"),
        ("verb=ListRecords&resumptionToken=abc&metadataPrefix=oai_dc", "badArgument"),
        ("verb=ListIdentifiers&resumptionToken=abc&from=2024-01-01", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2024-13-01", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2024-02-30", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=0000-01-01", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01T00:00:00", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01T00:00:00.5Z", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01T00:00Z", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&until=%D9%A2024-01-01", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&until=yesterday", "badArgument"),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01&until=2024-02-01T00:00:00Z",
            "badArgument",
        ),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2024-02-01&until=2024-01-01", "badArgument"),
        ("verb=ListRecords&metadataPrefix=marc21", "cannotDisseminateFormat"),
        ("verb=ListIdentifiers&metadataPrefix=../../etc", "cannotDisseminateFormat"),
        ("verb=GetRecord&metadataPrefix=mods&identifier=x", "cannotDisseminateFormat"),
        ("verb=GetRecord&metadataPrefix=oai_dc&identifier=x", "idDoesNotExist"),
        ("verb=ListIdentifiers&resumptionToken=abc", "badResumptionToken"),
        ("verb=ListRecords&metadataPrefix=oai_dc&until=1999-01-01", "noRecordsMatch"),
    ],
)
def test_errors(register, query, code):
    response = Client().get("/oai?" + query)
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    assert error_code(root) == code
    assert root.find("oai:request", namespaces=NS).text == "http://testserver/oai"
    args = request_args(root)
    if code in {"badVerb", "badArgument"}:
        assert args == {}  # section 3.2: the base URL only
    else:
        assert args["verb"] and args == dict(part.split("=", 1) for part in query.split("&"))
    # An error answer holds nothing but the envelope and the error.
    assert [etree.QName(e).localname for e in root] == ["responseDate", "request", "error"]


@pytest.mark.django_db
def test_too_many_arguments_is_a_bad_argument_not_a_server_error(db, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "verb=Identify&" + "&".join(f"a{i}=1" for i in range(20))
    assert error_code(etree.fromstring(Client().get("/oai?" + query).content)) == "badArgument"
    response = Client().post("/oai", {f"a{i}": "1" for i in range(20)} | {"verb": "Identify"})
    assert error_code(etree.fromstring(response.content)) == "badArgument"


@pytest.mark.django_db
def test_other_methods_are_not_allowed(db):
    assert Client().put("/oai?verb=Identify").status_code == 405
    assert Client().head("/oai?verb=Identify").status_code == 200


# -- a real harvest --------------------------------------------------------------------------

# pytest-django starts one live server for the session, before this suite's settings give
# WhiteNoise a static folder; the harvest needs no static files.
live = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


@pytest.fixture
def big_register(transactional_db, monkeypatch):
    """Twelve public datasets (more than two pages of five), a withdrawn one, and others."""
    monkeypatch.setattr(oai, "PAGE_SIZE", 5)
    public = [
        make_dataset(subject="Pathology" if n % 3 == 0 else "Radiology", title=f"Set {n} 肺")
        for n in range(12)
    ]
    withdrawn = make_dataset(subject="Radiology")
    services.withdraw(withdrawn, "Duplicate of another dataset")
    make_dataset(hidden=True)
    make_dataset(published=False)
    services.withdraw(hidden := make_dataset(hidden=True), "Hidden and withdrawn")
    assert hidden.hidden
    return public, withdrawn


@live
@pytest.mark.django_db(transaction=True)
def test_sickle_harvests_every_record_exactly_once(live_server, big_register):
    from sickle import Sickle

    public, withdrawn = big_register
    sickle = Sickle(live_server.url + "/oai")

    records = list(sickle.ListRecords(metadataPrefix="oai_dc"))

    identifiers = [r.header.identifier for r in records]
    assert len(identifiers) == len(set(identifiers)) == 13
    assert set(identifiers) == {oai_id(d) for d in [*public, withdrawn]}
    deleted = [r.header.identifier for r in records if r.header.deleted]
    assert deleted == [oai_id(withdrawn)]
    live = [r for r in records if not r.header.deleted]
    assert sorted(r.metadata["title"][0] for r in live) == sorted(f"Set {n} 肺" for n in range(12))
    assert all(r.metadata["type"] == ["Dataset"] for r in live)

    pathology = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="field:pathology"))
    assert {h.identifier for h in pathology} == {oai_id(public[n]) for n in (0, 3, 6, 9)}

    record = sickle.GetRecord(identifier=oai_id(public[1]), metadataPrefix="oai_dc")
    assert record.metadata["identifier"][0] == f"https://doi.org/{public[1].concept_doi}"
    assert sickle.Identify().repositoryName == settings.HUB_NAME


@live
@pytest.mark.django_db(transaction=True)
def test_sickle_harvests_from_a_date(live_server, big_register):
    from sickle import Sickle

    public, _withdrawn = big_register
    for dataset in public[:7]:
        set_changed(dataset, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    sickle = Sickle(live_server.url + "/oai")

    recent = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", **{"from": "2021-01-01"}))
    old = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", until="2020-01-01T00:00:00Z"))

    assert len(recent) == 6  # five public datasets and the withdrawn one
    assert {h.identifier for h in old} == {oai_id(d) for d in public[:7]}


@live
@pytest.mark.django_db(transaction=True)
def test_sickle_sees_a_stale_token_as_bad(live_server, big_register):
    from sickle import Sickle
    from sickle.oaiexceptions import BadResumptionToken

    sickle = Sickle(live_server.url + "/oai")
    headers = sickle.ListIdentifiers(metadataPrefix="oai_dc")
    first_page = [next(headers) for _ in range(5)]
    assert len(first_page) == 5

    make_dataset()

    with pytest.raises(BadResumptionToken):
        next(headers)


@live
@pytest.mark.django_db(transaction=True)
def test_sickle_harvests_datacite(live_server, big_register):
    from sickle import Sickle

    public, withdrawn = big_register
    records = list(Sickle(live_server.url + "/oai").ListRecords(metadataPrefix="oai_datacite"))

    assert len(records) == 13
    dois = set()
    for record in records:
        if record.header.deleted:
            assert record.header.identifier == oai_id(withdrawn)
            continue
        resource = record.xml.find(".//oai:metadata/dcite:resource", namespaces=NS)
        dois.add(resource.findtext("dcite:identifier[@identifierType='DOI']", namespaces=NS))
    assert dois == {d.concept_doi for d in public}


@pytest.mark.django_db
def test_a_page_of_records_costs_the_same_queries_however_many_it_holds(db):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            harvest(verb="ListRecords", metadataPrefix="oai_dc")
        return len(captured.captured_queries)

    make_dataset()
    one = queries()
    for _ in range(5):
        make_dataset()
    assert queries() == one
