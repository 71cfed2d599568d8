"""DataCite XML and JSON: valid against the official schema, and saying what harvesters read.

Every record is validated against each kernel folder in ../shared/standards/datacite (beside
the checkout), so a record stays valid for every 4.x kernel the hub may be asked for.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.conf import settings
from lxml import etree

from aidahub.web.register import services
from aidahub.web.register.datacite import (
    KERNEL,
    NAMESPACE,
    SCHEMA_LOCATION,
    concept_datacite_json,
    concept_datacite_payload,
    concept_datacite_xml,
    concept_resource_element,
    datacite_json,
    datacite_payload,
    datacite_xml,
    resource_element,
)
from aidahub.web.register.datacite_record import markdown_text, split_name
from aidahub.web.register.demo import load_demo
from aidahub.web.register.importer import import_paths
from aidahub.web.register.models import (
    Author,
    Contact,
    CopyrightHolder,
    Dataset,
    DatasetVersion,
    Publication,
    PublicationRelation,
)
from tests.factories import make_dataset

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED = REPO_ROOT / ".." / "shared"
STANDARDS = SHARED / "standards" / "datacite"
EXAMPLES = SHARED / "examples" / "register"
BASE = "https://hub.example.org"
NS = {"d": NAMESPACE}
XSI = "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"
_SAFE = etree.XMLParser(no_network=True, resolve_entities=False)


# -- the schema, loaded once and never from the network --------------------------------------


class _Offline(etree.Resolver):
    """Sees every file the XSD includes; refuses anything that is not a local file."""

    seen: list[str] = []

    def resolve(self, url, pubid, context):
        self.seen.append(url)
        if url.split(":", 1)[0].lower() in {"http", "https", "ftp"}:
            raise AssertionError(f"the DataCite XSD tried to fetch {url}")
        return None  # a local include: libxml2 reads the file itself


_SCHEMAS: dict[str, etree.XMLSchema] = {}


def _schemas() -> dict[str, etree.XMLSchema]:
    if not _SCHEMAS and STANDARDS.is_dir():
        for xsd in sorted(STANDARDS.glob("kernel-4.*/metadata.xsd")):
            parser = etree.XMLParser(no_network=True, resolve_entities=False)
            parser.resolvers.add(_Offline())
            # Parsed from its path, so include/*.xsd resolve beside it.
            _SCHEMAS[xsd.parent.name] = etree.XMLSchema(etree.parse(str(xsd), parser))
    return _SCHEMAS


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    found = _schemas()
    if not found:
        pytest.skip(
            "the DataCite XSDs (../shared/standards/datacite/kernel-4.*/metadata.xsd beside the "
            "repository) are not here, so generated records cannot be validated"
        )
    return found


def _empty_leaves(root: etree._Element) -> list[str]:
    return [root.getroottree().getpath(el) for el in root.iter() if len(el) == 0 and not el.text]


def valid(xml: bytes | etree._Element, schemas) -> etree._Element:
    """The parsed record, after checking it against every kernel and for empty elements."""
    root = etree.fromstring(xml, _SAFE) if isinstance(xml, bytes) else xml
    for kernel, schema in schemas.items():
        if not schema.validate(root):
            errors = "\n".join(str(e) for e in schema.error_log)
            raise AssertionError(f"not valid DataCite {kernel}:\n{errors}")
    assert not _empty_leaves(root), f"empty elements: {_empty_leaves(root)}"
    return root


def texts(root, path: str) -> list[str]:
    return [el.text for el in root.xpath(path, namespaces=NS)]


def related(root) -> list[tuple[str, str, str]]:
    return [
        (el.get("relationType"), el.get("relatedIdentifierType"), el.text)
        for el in root.xpath("d:relatedIdentifiers/d:relatedIdentifier", namespaces=NS)
    ]


def contributor(root, kind: str) -> list[etree._Element]:
    return root.xpath(f"d:contributors/d:contributor[@contributorType='{kind}']", namespaces=NS)


# -- XML and JSON say the same -----------------------------------------------------------------


def _xml_parties(root, tag: str) -> list[dict]:
    out = []
    for el in root.xpath(f"d:{tag}s/d:{tag}", namespaces=NS):
        name = el.find(f"d:{tag}Name", NS)
        party = {
            "name": name.text,
            "nameType": name.get("nameType"),
            "givenName": el.findtext("d:givenName", None, NS),
            "familyName": el.findtext("d:familyName", None, NS),
            "nameIdentifiers": [
                (i.text, i.get("nameIdentifierScheme"), i.get("schemeURI"))
                for i in el.findall("d:nameIdentifier", NS)
            ],
            "affiliation": [a.text for a in el.findall("d:affiliation", NS)],
        }
        if tag == "contributor":
            party["contributorType"] = el.get("contributorType")
        out.append(party)
    return out


def _json_parties(items: list[dict]) -> list[dict]:
    out = []
    for item in items:
        party = {
            "name": item["name"],
            "nameType": item["nameType"],
            "givenName": item.get("givenName"),
            "familyName": item.get("familyName"),
            "nameIdentifiers": [
                (i["nameIdentifier"], i["nameIdentifierScheme"], i["schemeUri"])
                for i in item["nameIdentifiers"]
            ],
            "affiliation": [a["name"] for a in item["affiliation"]],
        }
        if "contributorType" in item:
            party["contributorType"] = item["contributorType"]
        out.append(party)
    return out


def assert_same(root: etree._Element, attributes: dict) -> None:
    json.dumps(attributes)  # plain JSON, nothing a client cannot send
    assert attributes["doi"] == root.findtext("d:identifier", None, NS)
    assert _json_parties(attributes["creators"]) == _xml_parties(root, "creator")
    assert _json_parties(attributes["contributors"]) == _xml_parties(root, "contributor")
    assert [t["title"] for t in attributes["titles"]] == texts(root, "d:titles/d:title")
    assert [
        (r["relationType"], r["relatedIdentifierType"], r["relatedIdentifier"])
        for r in attributes["relatedIdentifiers"]
    ] == related(root)
    assert [(r["rights"], r["rightsUri"]) for r in attributes["rightsList"]] == [
        (el.text, el.get("rightsURI")) for el in root.xpath("d:rightsList/d:rights", namespaces=NS)
    ]
    assert str(attributes["publicationYear"]) == root.findtext("d:publicationYear", None, NS)


def check_dataset(dataset: Dataset, schemas) -> int:
    """Validate every version and the concept record of *dataset*; return how many."""
    checked = 0
    for version in dataset.versions.all():
        root = valid(datacite_xml(version, base_url=BASE), schemas)
        assert root.findtext("d:identifier", None, NS) == version.doi
        assert_same(root, datacite_json(version, base_url=BASE))
        checked += 1
    concept = valid(concept_datacite_xml(dataset, base_url=BASE), schemas)
    assert concept.findtext("d:identifier", None, NS) == dataset.concept_doi
    assert_same(concept, concept_datacite_json(dataset, base_url=BASE))
    return checked + 1


# -- every kind of record validates ----------------------------------------------------------


def test_the_schemas_load_from_local_files_only(schemas):
    assert any(url.endswith("include/xml.xsd") for url in _Offline.seen)
    assert all(Path(url).is_file() for url in _Offline.seen)


@pytest.mark.django_db
def test_validation_catches_what_the_schema_forbids(schemas):
    root = resource_element(make_dataset().latest_version, base_url=BASE)
    root.find("d:relatedIdentifiers/d:relatedIdentifier", NS).set("relationType", "Uses")
    with pytest.raises(AssertionError, match="not valid DataCite"):
        valid(root, schemas)
    # nameIdentifier and affiliation are untyped in the XSD, so emptiness is checked here.
    root = resource_element(make_dataset().latest_version, base_url=BASE)
    root.find("d:creators/d:creator/d:nameIdentifier", NS).text = ""
    with pytest.raises(AssertionError, match="empty elements"):
        valid(root, schemas)


def test_the_declared_kernel_is_one_validated_against(schemas):
    assert f"kernel-{KERNEL}" in schemas
    assert f"https://schema.datacite.org/meta/kernel-{KERNEL}/metadata.xsd" == SCHEMA_LOCATION


@pytest.mark.django_db
def test_every_demo_record_is_valid(schemas):
    load_demo(write=lambda line: None)
    datasets = list(Dataset.objects.prefetch_related("versions"))
    assert len(datasets) >= 30
    checked = sum(check_dataset(dataset, schemas) for dataset in datasets)
    assert checked > len(datasets) + 30


@pytest.mark.django_db
def test_every_example_record_is_valid(schemas):
    records = sorted(EXAMPLES.glob("*.md")) if EXAMPLES.is_dir() else []
    if not records:
        pytest.skip("no example register records in ../shared/examples/register")
    report = import_paths(records)
    assert report.count("created") == len(records), [r.error for r in report.results]
    for result in report.results:
        check_dataset(Dataset.objects.get(concept_doi=result.doi), schemas)


@pytest.mark.django_db
def test_an_imported_record_keeps_its_organ_codes_orcids_and_license_anchors(schemas):
    if not (EXAMPLES / "10.5072_example_swfr.md").is_file():
        pytest.skip("the example record 10.5072_example_swfr.md is not in ../shared/examples")
    import_paths([EXAMPLES / "10.5072_example_swfr.md"])
    version = Dataset.objects.get(concept_doi="10.5072/example/swfr").latest_version
    root = valid(datacite_xml(version, base_url=BASE), schemas)
    wrist = root.xpath("d:subjects/d:subject[@subjectScheme='SNOMED CT']", namespaces=NS)
    assert [(s.text, s.get("valueURI"), s.get("classificationCode")) for s in wrist] == [
        ("Wrist", "http://snomed.info/id/8205005", "8205005")
    ]
    assert texts(root, "d:creators/d:creator/d:nameIdentifier") == [
        "https://orcid.org/0000-0002-1825-0097"
    ]
    assert [el.get("rightsURI") for el in root.xpath("d:rightsList/d:rights", namespaces=NS)] == [
        f"{BASE}/10.5072/example/swfr.v1.1#controlled-access",
        f"{BASE}/10.5072/example/swfr.v1.1#aida-by-license",
    ]
    assert ("IsDescribedBy", "DOI", "10.5072/example-paper-1") in related(root)
    abstract = root.findtext("d:descriptions/d:description[@descriptionType='Abstract']", "", NS)
    assert abstract.startswith("120 computed radiography examinations of the wrist")
    assert "<script>" not in abstract  # the importer removed it; nothing reintroduces markup


# -- hostile, withdrawn and nearly empty records ---------------------------------------------

HOSTILE_TITLE = 'Lungs <script>alert("x")</script> & "quotes" {braces} \'apostrophes\''
NAMES = ["Åsa Öberg", "Γιώργος Παπαδόπουλος", "王小明", "Anna van der Berg"]


@pytest.mark.django_db
def test_hostile_text_and_non_latin_names_survive_exactly(schemas):
    dataset = make_dataset(
        title=HOSTILE_TITLE,
        keywords=["{curly}", "a & b", "<b>bold</b>", "Ωmega", "肺"],
        description="**Bold** & <i>raw</i> text with [a link](https://example.org/x?a=1&b=2).",
        annotation_description="Masks {label: 1} drawn in ITK-SNAP & checked.",
        published=False,
    )
    version = dataset.versions.get()
    Author.objects.filter(version=version).delete()
    for n, name in enumerate(NAMES):
        Author.objects.create(version=version, position=n, name=name, affiliation="Umeå & Co")
    services.publish(dataset, version)
    version.refresh_from_db()

    xml = datacite_xml(version, base_url=BASE)
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = valid(xml, schemas)
    assert texts(root, "d:titles/d:title") == [HOSTILE_TITLE]
    creators = root.xpath("d:creators/d:creator", namespaces=NS)
    assert [c.findtext("d:creatorName", None, NS) for c in creators] == [
        "Öberg, Åsa",
        "Παπαδόπουλος, Γιώργος",
        "王小明",
        "van der Berg, Anna",
    ]
    assert [c.findtext("d:givenName", None, NS) for c in creators] == [
        "Åsa",
        "Γιώργος",
        None,
        "Anna",
    ]
    assert texts(root, "d:creators/d:creator/d:affiliation") == ["Umeå & Co"] * 4
    subjects = texts(root, "d:subjects/d:subject")
    assert {"{curly}", "a & b", "<b>bold</b>", "Ωmega", "肺"} <= set(subjects)
    abstract = root.findtext("d:descriptions/d:description[@descriptionType='Abstract']", "", NS)
    assert abstract == "Bold & <i>raw</i> text with a link (https://example.org/x?a=1&b=2)."
    technical = root.xpath(
        "d:descriptions/d:description[@descriptionType='TechnicalInfo']", namespaces=NS
    )
    assert technical[0].text == "Masks {label: 1} drawn in ITK-SNAP & checked."
    assert b"&lt;script&gt;" in xml and b"<script" not in xml
    attributes = datacite_json(version, base_url=BASE)
    assert attributes["titles"] == [{"title": HOSTILE_TITLE}]
    assert_same(root, attributes)


@pytest.mark.django_db
def test_characters_xml_cannot_hold_are_dropped_not_fatal(schemas):
    # Control characters XML 1.0 cannot hold (NUL cannot even be stored in PostgreSQL).
    dataset = make_dataset(title="Bell\x07 and escape\x1b title\x0b", published=False)
    root = valid(datacite_xml(dataset.versions.get(), base_url=BASE), schemas)
    assert texts(root, "d:titles/d:title") == ["Bell and escape title"]


@pytest.mark.django_db
def test_a_withdrawn_dataset_is_a_valid_tombstone(schemas):
    dataset = make_dataset()
    services.withdraw(dataset, 'Consent withdrawn for <all> patients & "more".')
    dataset.refresh_from_db()
    assert check_dataset(dataset, schemas) == 2
    for root in (
        resource_element(dataset.latest_version, base_url=BASE),
        concept_resource_element(dataset, base_url=BASE),
    ):
        withdrawn = root.xpath("d:dates/d:date[@dateType='Withdrawn']", namespaces=NS)
        assert [(d.text, d.get("dateInformation")) for d in withdrawn] == [
            (
                dataset.withdrawn_at.date().isoformat(),
                'Consent withdrawn for <all> patients & "more".',
            )
        ]


@pytest.mark.django_db
def test_a_nearly_empty_draft_still_makes_a_valid_record(schemas):
    dataset = Dataset.objects.create(concept_doi="10.5072/test/bare", short_name="BARE")
    version = DatasetVersion.objects.create(
        dataset=dataset, version="1.0", doi="10.5072/test/bare.v1.0", title=""
    )
    root = valid(datacite_xml(version, base_url=BASE), schemas)
    assert texts(root, "d:titles/d:title") == ["BARE"]
    assert texts(root, "d:creators/d:creator/d:creatorName") == [settings.HUB_NAME]
    assert texts(root, "d:publisher") == [settings.HUB_NAME]
    assert texts(root, "d:publicationYear") == [str(version.created_at.year)]
    assert root.find("d:subjects", NS) is None and root.find("d:rightsList", NS) is None
    assert related(root) == [("IsVersionOf", "DOI", "10.5072/test/bare")]
    concept = valid(concept_datacite_xml(dataset, base_url=BASE), schemas)
    assert related(concept) == []  # nothing is published yet
    attributes = datacite_json(version, base_url=BASE)
    assert attributes["subjects"] == [] and attributes["descriptions"] == []
    assert_same(root, attributes)


# -- what a harvester notices ----------------------------------------------------------------


@pytest.mark.django_db
def test_people_institutions_and_subjects_are_identified(schemas):
    dataset = make_dataset(title="Chest CT")
    version = dataset.latest_version
    root = valid(datacite_xml(version, base_url=BASE), schemas)

    astrid = root.xpath("d:creators/d:creator", namespaces=NS)[0]
    ident = astrid.find("d:nameIdentifier", NS)
    assert (ident.text, ident.get("nameIdentifierScheme"), ident.get("schemeURI")) == (
        "https://orcid.org/0000-0002-1825-0097",
        "ORCID",
        "https://orcid.org",
    )
    assert astrid.findtext("d:creatorName", None, NS) == "Example, Astrid"
    assert astrid.find("d:creatorName", NS).get("nameType") == "Personal"

    lung = root.xpath("d:subjects/d:subject[@subjectScheme='SNOMED CT']", namespaces=NS)
    assert [(s.text, s.get("schemeURI"), s.get("valueURI"), s.get("classificationCode"))
            for s in lung] == [
        ("Lung", "http://snomed.info/sct", "http://snomed.info/id/39607008", "39607008")
    ]  # fmt: skip

    (holder,) = contributor(root, "RightsHolder")
    assert holder.findtext("d:contributorName", None, NS) == "Example University"
    assert holder.find("d:contributorName", NS).get("nameType") == "Organizational"
    contacts = [
        c.findtext("d:contributorName", None, NS) for c in contributor(root, "ContactPerson")
    ]
    assert contacts == ["Example, Astrid", "Data director"]  # a role is not split into names
    hub_contact = contributor(root, "ContactPerson")[-1]
    assert hub_contact.findtext("d:affiliation", None, NS) == settings.HUB_NAME
    assert b"@" not in etree.tostring(root)  # no e-mail address leaves the hub this way

    assert [el.get("rightsURI") for el in root.xpath("d:rightsList/d:rights", namespaces=NS)] == [
        f"{BASE}/{version.doi}#aida-by-license"
    ]
    rights = root.find("d:rightsList/d:rights", NS)
    assert (rights.text, rights.get("rightsIdentifier")) == ("AIDA BY license", "aida-by")
    assert texts(root, "d:formats/d:format") == ["application/dicom"]
    assert texts(root, "d:sizes/d:size") == ["100 scans", "1.5 GB"]
    assert texts(root, "d:language") == ["en"]
    assert texts(root, "d:resourceType") == ["Medical imaging dataset (Computed tomography)"]
    assert [(d.get("dateType"), d.text) for d in root.find("d:dates", NS)] == [
        ("Issued", "2024-03-15"),
        ("Copyrighted", "2024"),
    ]


@pytest.mark.django_db
def test_versions_link_to_their_neighbours_and_the_concept(schemas):
    dataset = make_dataset(doi="10.5072/test/chain")
    services.publish(dataset, services.new_version(dataset, "1.1"))
    services.publish(dataset, services.new_version(dataset, "1.10"))
    services.new_version(dataset, "2.0")  # a draft: no DOI is registered for it yet
    first, second, third, draft = (
        dataset.versions.get(version=label) for label in ("1.0", "1.1", "1.10", "2.0")
    )

    def relations(version) -> list[tuple[str, str, str]]:
        return related(valid(datacite_xml(version, base_url=BASE), schemas))

    concept = "10.5072/test/chain"
    assert relations(first) == [
        ("IsVersionOf", "DOI", concept),
        ("IsPreviousVersionOf", "DOI", second.doi),
    ]
    assert relations(second) == [
        ("IsVersionOf", "DOI", concept),
        ("IsNewVersionOf", "DOI", first.doi),
        ("IsPreviousVersionOf", "DOI", third.doi),
    ]
    assert relations(third) == [
        ("IsVersionOf", "DOI", concept),
        ("IsNewVersionOf", "DOI", second.doi),
    ]
    assert ("IsNewVersionOf", "DOI", third.doi) in relations(draft)
    dataset.refresh_from_db()
    root = valid(concept_datacite_xml(dataset, base_url=BASE), schemas)
    assert related(root) == [("HasVersion", "DOI", v.doi) for v in (first, second, third)]
    assert root.find("d:version", NS) is None
    assert root.findtext("d:rightsList/d:rights", None, NS) == "AIDA BY license"
    assert root.find("d:rightsList/d:rights", NS).get("rightsURI") == (
        f"{BASE}/{concept}#aida-by-license"
    )


@pytest.mark.django_db
def test_publications_are_related_by_what_they_did_with_the_data(schemas):
    dataset = make_dataset(doi="10.5072/test/papers", published=False)
    version = dataset.versions.get()
    for n, (title, doi, url) in enumerate(
        [
            ("Describing paper", "10.5072/paper.1", ""),
            ("Preprint arXiv:2101.01234v2", "", ""),
            ("On the web", "", "https://journal.example.org/article/7"),
            ("No identifier at all", "", ""),
        ]
    ):
        Publication.objects.create(
            dataset=dataset,
            version=version,
            position=n,
            relation=PublicationRelation.DESCRIBES,
            title=title,
            doi=doi,
            url=url,
        )
    services.publish(dataset, version)
    services.record_use(dataset, "Used it", url="https://pubmed.ncbi.nlm.nih.gov/12345678/")
    services.record_use(dataset, "Used it too. doi:10.5072/other.2.")
    dataset.refresh_from_db()

    root = valid(datacite_xml(dataset.latest_version, base_url=BASE), schemas)
    assert related(root)[:3] == [
        ("IsDescribedBy", "DOI", "10.5072/paper.1"),
        ("IsDescribedBy", "arXiv", "arXiv:2101.01234v2"),
        ("IsDescribedBy", "URL", "https://journal.example.org/article/7"),
    ]
    assert not [r for r in related(root) if r[0] == "IsReferencedBy"]  # uses are the dataset's
    concept = valid(concept_datacite_xml(dataset, base_url=BASE), schemas)
    assert [r for r in related(concept) if r[0] == "IsReferencedBy"] == [
        ("IsReferencedBy", "PMID", "12345678"),
        ("IsReferencedBy", "DOI", "10.5072/other.2"),
    ]


@pytest.mark.django_db
def test_rights_holders_and_their_responsible_researchers(schemas):
    dataset = make_dataset(published=False, modalities=["SM"], subject="Pathology")
    version = dataset.versions.get()
    CopyrightHolder.objects.filter(version=version).delete()
    for n, institution in enumerate(["Example University", "Region Example"]):
        CopyrightHolder.objects.create(
            version=version,
            position=n,
            institution=institution,
            institution_url="https://ror.org/048a87296" if n == 0 else "https://region.example",
            responsible_researcher="Astrid Example",
            researcher_orcid="https://orcid.org/0000-0002-1825-0097",
        )
    Contact.objects.filter(version=version).update(identifier="not an orcid")
    root = valid(datacite_xml(version, base_url=BASE), schemas)
    holders = contributor(root, "RightsHolder")
    assert [h.findtext("d:contributorName", None, NS) for h in holders] == [
        "Example University",
        "Region Example",
    ]
    assert texts(holders[0], "d:nameIdentifier") == ["https://ror.org/048a87296"]
    assert texts(holders[1], "d:nameIdentifier") == []
    (leader,) = contributor(root, "ProjectLeader")
    assert texts(leader, "d:affiliation") == ["Example University", "Region Example"]
    assert texts(leader, "d:nameIdentifier") == ["https://orcid.org/0000-0002-1825-0097"]
    assert all(not texts(c, "d:nameIdentifier") for c in contributor(root, "ContactPerson"))
    assert texts(root, "d:formats/d:format") == ["image/tiff"]
    assert "FOS: Clinical medicine" in texts(root, "d:subjects/d:subject")


# -- JSON for the REST API -------------------------------------------------------------------


@pytest.mark.django_db
def test_json_attributes_have_the_rest_api_shape():
    dataset = make_dataset(doi="10.5072/test/json")
    version = dataset.latest_version
    attributes = datacite_json(version, base_url=BASE + "/")
    assert attributes["doi"] == version.doi
    assert attributes["url"] == f"{BASE}/{version.doi}"
    assert attributes["schemaVersion"] == "http://datacite.org/schema/kernel-4"
    assert attributes["types"] == {
        "resourceTypeGeneral": "Dataset",
        "resourceType": "Medical imaging dataset (Computed tomography)",
    }
    assert attributes["creators"][0] == {
        "name": "Example, Astrid",
        "nameType": "Personal",
        "givenName": "Astrid",
        "familyName": "Example",
        "nameIdentifiers": [
            {
                "nameIdentifier": "https://orcid.org/0000-0002-1825-0097",
                "nameIdentifierScheme": "ORCID",
                "schemeUri": "https://orcid.org",
            }
        ],
        "affiliation": [],
    }
    assert attributes["publisher"] == {"name": "Example Data Hub"}
    assert attributes["publicationYear"] == 2024
    assert attributes["version"] == "1.0"
    assert {"date": "2024-03-15", "dateType": "Issued"} in attributes["dates"]
    assert attributes["rightsList"] == [
        {
            "rights": "AIDA BY license",
            "rightsUri": f"{BASE}/{version.doi}#aida-by-license",
            "rightsIdentifier": "aida-by",
        }
    ]
    subject = next(s for s in attributes["subjects"] if s.get("subjectScheme") == "SNOMED CT")
    assert subject["valueUri"] == "http://snomed.info/id/39607008"


@pytest.mark.django_db
def test_payloads_wrap_the_attributes_with_an_optional_event():
    dataset = make_dataset(doi="10.5072/test/payload")
    version = dataset.latest_version
    plain = datacite_payload(version, base_url=BASE)
    assert plain == {
        "data": {
            "id": version.doi,
            "type": "dois",
            "attributes": datacite_json(version, base_url=BASE),
        }
    }
    assert "event" not in plain["data"]["attributes"]
    published = datacite_payload(version, base_url=BASE, event="publish")
    assert published["data"]["attributes"]["event"] == "publish"
    hidden = concept_datacite_payload(dataset, base_url=BASE, event="hide")
    assert hidden["data"]["attributes"]["doi"] == "10.5072/test/payload"
    assert hidden["data"]["attributes"]["event"] == "hide"
    with pytest.raises(ValueError, match="event must be one of"):
        datacite_payload(version, base_url=BASE, event="delete")


# -- the small pieces --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Astrid Example", ("Astrid", "Example")),
        ("Example, Astrid", ("Astrid", "Example")),
        ("Anna Maria  van der Berg", ("Anna Maria", "van der Berg")),
        ("Åsa Öberg", ("Åsa", "Öberg")),
        ("Madonna", ("", "")),
        ("王小明", ("", "")),
        ("山田 太郎", ("", "")),
        ("A, B, C", ("", "")),
    ],
)
def test_split_name(name, expected):
    assert split_name(name) == expected


def test_markdown_becomes_plain_text():
    source = (
        "# Heading\n\nSome *emphasis* and `code`.\n\n- one\n- two\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n{% include blurb.md %}{{ page.x }}"
        "<script>x</script>\n\n```\nverbatim <tag>\n```"
    )
    assert markdown_text(source) == (
        "Heading\n\nSome emphasis and code.\n\n- one\n- two\n\na | b\n1 | 2\n\n"
        "<script>x</script>\n\nverbatim <tag>"
    )
    assert markdown_text("") == ""


@pytest.mark.django_db
def test_the_root_declares_namespace_and_schema_location():
    version = make_dataset().latest_version
    root = resource_element(version, base_url=BASE)
    assert root.tag == f"{{{NAMESPACE}}}resource"
    assert root.get(XSI) == f"{NAMESPACE} {SCHEMA_LOCATION}"
    assert dt.date.today().year >= int(root.findtext("d:publicationYear", None, NS))
