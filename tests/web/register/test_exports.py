"""Metadata exports: each format read back by its own reader gives every value exactly."""

import datetime as dt
import json
import re
from html.parser import HTMLParser

import bibtexparser
import pytest
import rispy
from bibtexparser import middlewares
from pyld import jsonld

from aidahub.web.register import exports, services
from aidahub.web.register.demo import load_demo
from aidahub.web.register.models import Author, DatasetVersion, PartyKind, Publication
from tests.factories import make_dataset

pytestmark = pytest.mark.django_db

BASE = "https://hub.example.org"
HOSTILE = r'<script>alert(1)</script> & "quotes" {braces} 100% $x$ #1 a_b ~c ^d \e'
PEOPLE = [
    ("Åsa Öberg", "0000-0002-1825-0097", "Örebro University"),
    ("Σωκράτης Παπαδόπουλος", "", ""),
    ("王小明", "", ""),
]
SCHEMA = "https://schema.org/"


@pytest.fixture
def version():
    dataset = make_dataset(
        title=HOSTILE,
        short_name="Hostile-ÅÄÖ",
        published=False,
        keywords=["CT", "R&D \"quoted\" 'single'"],
        description="A **short** one.\n\nSecond <b>para</b> & more.",
        date_modified=dt.date(2024, 5, 1),
    )
    ver = dataset.versions.get()
    ver.authors.all().delete()
    for position, (name, orcid, affiliation) in enumerate(PEOPLE):
        Author.objects.create(
            version=ver, position=position, name=name, orcid=orcid, affiliation=affiliation
        )
    Author.objects.create(
        version=ver, position=9, name="Lung & Heart Group", kind=PartyKind.ORGANIZATION
    )
    Publication.objects.create(
        dataset=dataset,
        version=ver,
        relation="describes",
        title="Describing paper",
        doi="10.1234/describes",
        year=2023,
    )
    services.publish(dataset, ver)
    return DatasetVersion.objects.get(pk=ver.pk)


# -- BibTeX ----------------------------------------------------------------------------------

_UNESCAPE = {
    r"\textbackslash{}": "\\",
    r"\textasciitilde{}": "~",
    r"\textasciicircum{}": "^",
    **{f"\\{c}": c for c in "{}&%$#_"},
}


def _unescape(value: str) -> str:
    pattern = "|".join(re.escape(k) for k in sorted(_UNESCAPE, key=len, reverse=True))
    return re.sub(pattern, lambda m: _UNESCAPE[m.group()], value)


def _parse_bibtex(text: str, *middleware):
    library = bibtexparser.parse_string(text, append_middleware=list(middleware))
    assert not library.failed_blocks
    (entry,) = library.entries
    return entry


def test_bibtex_is_a_misc_entry_with_an_ascii_key_and_every_field(version):
    entry = _parse_bibtex(exports.bibtex(version, base_url=BASE))
    assert entry.entry_type == "misc"
    assert entry.key == "Oberg2024HostileAAO"
    assert entry["year"] == "2024"
    assert entry["publisher"] == "Example Data Hub"
    assert entry["version"] == "1.0"
    assert entry["note"] == "Version 1.0 [Data set]"
    assert entry["doi"] == version.doi
    assert entry["url"] == f"{BASE}/{version.doi}"
    assert entry["howpublished"] == rf"\url{{https://doi.org/{version.doi}}}"


def test_bibtex_escapes_the_title_and_braces_it_against_recasing(version):
    entry = _parse_bibtex(exports.bibtex(version, base_url=BASE))
    assert entry["title"] == (
        r"{<script>alert(1)</script> \& "
        r'"quotes" \{braces\} 100\% \$x\$ \#1 a\_b \textasciitilde{}c \textasciicircum{}d '
        r"\textbackslash{}e}"
    )
    assert _unescape(entry["title"][1:-1]) == HOSTILE


def test_bibtex_title_decodes_back_with_bibtexparsers_latex_middleware(version):
    entry = _parse_bibtex(
        exports.bibtex(version, base_url=BASE), middlewares.LatexDecodingMiddleware()
    )
    # pylatexenc reads \textasciicircum as U+02C6, the modifier letter, not ASCII '^'.
    assert entry["title"] == HOSTILE.replace("^", "\u02c6")


def test_bibtex_authors_are_family_given_and_non_latin_names_stay_utf8(version):
    entry = _parse_bibtex(
        exports.bibtex(version, base_url=BASE),
        middlewares.SeparateCoAuthors(),
        middlewares.SplitNameParts(),
    )
    # A name kept whole is braced, so BibTeX does not split it into given and family.
    parts = [(_unescape(" ".join(n.last)), n.first) for n in entry["author"]]
    assert parts == [
        ("Öberg", ["Åsa"]),
        ("Παπαδόπουλος", ["Σωκράτης"]),
        ("{王小明}", []),
        ("{Lung & Heart Group}", []),
    ]


def test_bibtex_key_falls_back_when_no_name_has_latin_letters(version):
    version.authors.filter(position__lt=2).delete()
    assert exports.bibtex(version, base_url=BASE).startswith("@misc{dataset2024HostileAAO,")


# -- RIS -------------------------------------------------------------------------------------


def test_ris_reads_back_exactly_with_rispy(version):
    text = exports.ris(version, base_url=BASE)
    assert text.endswith("ER  - \r\n")
    assert text.count("\n") == text.count("\r\n")
    (entry,) = rispy.loads(text)
    assert entry["type_of_reference"] == "DATA"
    assert entry["authors"] == [
        "Öberg, Åsa",
        "Παπαδόπουλος, Σωκράτης",
        "王小明",
        "Lung & Heart Group",
    ]
    assert entry["title"] == HOSTILE
    assert entry["year"] == "2024"
    assert entry["date"] == "2024/03/15"
    assert entry["publisher"] == "Example Data Hub"
    assert entry["edition"] == "1.0"
    assert entry["doi"] == version.doi
    assert entry["urls"] == [f"{BASE}/{version.doi}"]
    assert entry["keywords"] == ["CT", "R&D \"quoted\" 'single'"]
    assert entry["abstract"] == "A short one. Second <b>para</b> & more."


# -- CSL-JSON and citations ------------------------------------------------------------------


def test_csl_json_item(version):
    item = exports.csl_json(version, base_url=BASE)
    assert json.loads(json.dumps(item)) == item
    assert item == {
        "id": version.doi,
        "type": "dataset",
        "title": HOSTILE,
        "author": [
            {"family": "Öberg", "given": "Åsa"},
            {"family": "Παπαδόπουλος", "given": "Σωκράτης"},
            {"literal": "王小明"},
            {"literal": "Lung & Heart Group"},
        ],
        "issued": {"date-parts": [[2024, 3, 15]]},
        "publisher": "Example Data Hub",
        "version": "1.0",
        "DOI": version.doi,
        "URL": f"{BASE}/{version.doi}",
        "keyword": "CT, R&D \"quoted\" 'single'",
        "abstract": "A short one. Second <b>para</b> & more.",
    }


def test_apa_citation_has_authors_year_title_version_and_doi(version):
    text = exports.citation(version, base_url=BASE)
    assert text.startswith("Öberg, Å., Παπαδόπουλος, Σ., 王小明, & Lung & Heart Group. (2024).")
    assert f"{HOSTILE} (Version 1.0) [Dataset]. Example Data Hub." in text
    assert text.endswith(f"https://doi.org/{version.doi}")


@pytest.mark.parametrize(
    "style", ["vancouver", "harvard-cite-them-right", "chicago-author-date", "ieee", "nature"]
)
def test_other_styles_render_without_an_entry_number(style, version):
    text = exports.citation(version, base_url=BASE, style=style)
    # Some styles recase the title (Chicago: "A_b").
    assert "Öberg" in text and "2024" in text and HOSTILE.lower() in text.lower()
    assert not text.startswith(("1", "["))


def test_a_dependent_style_is_rendered_with_its_parent(version):
    assert "Öberg" in exports.citation(version, base_url=BASE, style="vancouver-ama")


def test_html_citation_escapes_every_value(version):
    body = exports.citation(version, base_url=BASE, output="html")

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.tags, self.text = [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)

        def handle_data(self, data):
            self.text.append(data)

    parsed = Collect()
    parsed.feed(body)
    assert set(parsed.tags) <= {"i", "b", "span"}
    assert HOSTILE in "".join(parsed.text)
    assert "&amp;amp;" not in body


def test_unknown_style_locale_or_output_is_refused(version):
    with pytest.raises(ValueError, match=r"unknown citation style 'apa-9'.*apa, vancouver"):
        exports.citation(version, base_url=BASE, style="apa-9")
    with pytest.raises(ValueError, match="unknown citation style"):
        exports.citation(version, base_url=BASE, style="../../../etc/passwd")
    with pytest.raises(ValueError, match="unknown citation locale"):
        exports.citation(version, base_url=BASE, locale="xx-XX")
    with pytest.raises(ValueError, match="output"):
        exports.citation(version, base_url=BASE, output="rtf")


def test_swedish_locale(version):
    assert "(Version 1.0)" in exports.citation(version, base_url=BASE, locale="sv-SE")


def test_available_styles_include_the_common_ones():
    styles = exports.available_styles()
    assert len(styles) > 1000
    assert {"apa", "vancouver", "ieee", "nature", "chicago-author-date"} <= set(styles)


# -- schema.org JSON-LD ----------------------------------------------------------------------


def _expand(doc: dict) -> dict:
    (node,) = jsonld.expand(
        json.loads(json.dumps(doc)), {"documentLoader": exports.document_loader}
    )
    return node


def test_schema_org_dataset_for_google(version):
    doc = exports.schema_org(version, base_url=BASE, images=["/media/a.png", "javascript:x"])
    page, link = f"{BASE}/{version.doi}", f"https://doi.org/{version.doi}"
    assert doc["@context"] == SCHEMA and doc["@type"] == "Dataset"
    assert doc["name"] == HOSTILE
    assert doc["url"] == page and doc["sameAs"] == link
    assert doc["identifier"][0] == link
    assert doc["identifier"][1]["value"] == version.doi
    assert doc["license"] == f"{page}#aida-by-license"
    assert doc["isAccessibleForFree"] is True
    assert doc["conditionsOfAccess"] == (
        f"Access on application, under the AIDA BY license; see {page}#access"
    )
    assert doc["creator"][0] == {
        "@type": "Person",
        "name": "Åsa Öberg",
        "givenName": "Åsa",
        "familyName": "Öberg",
        "@id": "https://orcid.org/0000-0002-1825-0097",
        "sameAs": "https://orcid.org/0000-0002-1825-0097",
        "affiliation": {"@type": "Organization", "name": "Örebro University"},
    }
    assert doc["creator"][2] == {"@type": "Person", "name": "王小明"}
    assert doc["creator"][3] == {"@type": "Organization", "name": "Lung & Heart Group"}
    assert doc["publisher"] == {"@type": "Organization", "name": "Example Data Hub"}
    assert doc["includedInDataCatalog"]["url"] == f"{BASE}/"
    assert doc["measurementTechnique"] == ["Computed tomography"]
    assert doc["about"][0]["termCode"] == "39607008"
    assert doc["keywords"] == ["CT", "R&D \"quoted\" 'single'", "Lung"]
    assert doc["datePublished"] == "2024-03-15" and doc["dateModified"] == "2024-05-01"
    assert doc["image"] == [f"{BASE}/media/a.png"]
    assert doc["citation"][0]["@id"] == "https://doi.org/10.1234/describes"
    assert "creativeWorkStatus" not in doc


def test_short_description_is_made_informative_and_long_one_is_cut(version):
    short = exports.schema_org(version, base_url=BASE)["description"]
    assert short.startswith("A short one. Second <b>para</b> & more.")
    assert HOSTILE in short and "Computed tomography" in short and len(short) >= 50
    version.description = "word " * 2000
    long = exports.schema_org(version, base_url=BASE)["description"]
    assert len(long) <= 5000 and long.endswith("word…")


def test_several_licenses_are_a_list():
    version = make_dataset(licenses=("aida", "aida-ca")).latest_version
    doc = exports.schema_org(version, base_url=BASE)
    page = f"{BASE}/{version.doi}"
    assert doc["license"] == [f"{page}#aida-license", f"{page}#aida-ca-license"]
    assert "under the AIDA license and AIDA CA license" in doc["conditionsOfAccess"]


def test_withdrawn_dataset_is_marked(version):
    services.withdraw(version.dataset, "Consent was withdrawn.")
    version.refresh_from_db()
    doc = exports.schema_org(version, base_url=BASE)
    assert doc["creativeWorkStatus"] == "Withdrawn"
    assert doc["conditionsOfAccess"] == "Withdrawn: Consent was withdrawn."
    assert _expand(doc)[f"{SCHEMA}creativeWorkStatus"] == [{"@value": "Withdrawn"}]


def test_json_ld_expands_offline_with_iris_where_schema_org_has_them(version):
    doc = exports.schema_org(version, base_url=BASE, images=["/media/a.png"])
    node = _expand(doc)
    page, link = f"{BASE}/{version.doi}", f"https://doi.org/{version.doi}"
    assert node["@id"] == link
    assert node["@type"] == [f"{SCHEMA}Dataset"]
    assert node[f"{SCHEMA}name"] == [{"@value": HOSTILE}]
    assert node[f"{SCHEMA}url"] == [{"@id": page}]
    assert node[f"{SCHEMA}sameAs"] == [{"@id": link}]
    assert node[f"{SCHEMA}license"] == [{"@id": f"{page}#aida-by-license"}]
    assert node[f"{SCHEMA}image"] == [{"@id": f"{BASE}/media/a.png"}]
    identifier = node[f"{SCHEMA}identifier"]
    assert {"@value": link} in identifier
    assert identifier[1][f"{SCHEMA}value"] == [{"@value": version.doi}]
    creator = node[f"{SCHEMA}creator"][0]
    assert creator["@id"] == "https://orcid.org/0000-0002-1825-0097"
    assert creator[f"{SCHEMA}familyName"] == [{"@value": "Öberg"}]
    names = [c[f"{SCHEMA}name"][0]["@value"] for c in node[f"{SCHEMA}creator"]]
    assert names == ["Åsa Öberg", "Σωκράτης Παπαδόπουλος", "王小明", "Lung & Heart Group"]


@pytest.mark.parametrize(
    "url",
    [
        "https://schema.org/",
        "https://schema.org",
        "http://schema.org/",
        "http://schema.org",
        "https://schema.org/docs/jsonldcontext.jsonld",
    ],
)
def test_loader_serves_schema_org_from_the_bundled_copy(url):
    document = exports.document_loader(url)
    assert document["documentUrl"] == url
    assert document["document"]["@context"]["@vocab"] == SCHEMA


@pytest.mark.parametrize(
    "url", ["https://example.org/context.jsonld", "https://schema.org.evil.example/", "file:///x"]
)
def test_loader_refuses_every_other_address(url):
    with pytest.raises(exports.OfflineDocumentError, match="no offline copy"):
        exports.document_loader(url)
    with pytest.raises(jsonld.JsonLdError):
        jsonld.expand({"@context": url, "name": "x"}, {"documentLoader": exports.document_loader})


# -- every demo version ----------------------------------------------------------------------


def test_every_demo_version_exports_in_every_format():
    load_demo(write=lambda *args: None)
    versions = DatasetVersion.objects.select_related("dataset").all()
    assert versions.count() > 30
    for version in versions:
        where = version.doi
        bib = _parse_bibtex(exports.bibtex(version, base_url=BASE))
        assert bib["doi"] == version.doi, where
        (record,) = rispy.loads(exports.ris(version, base_url=BASE))
        assert record["title"] == " ".join(version.title.split()), where
        item = exports.csl_json(version, base_url=BASE)
        assert json.loads(json.dumps(item)) == item, where
        assert version.doi in exports.citation(version, base_url=BASE), where
        node = _expand(exports.schema_org(version, base_url=BASE))
        assert node["@id"] == f"https://doi.org/{version.doi}", where
        description = node[f"{SCHEMA}description"][0]["@value"]
        assert 50 <= len(description) <= 5000, where
