"""DOI content negotiation, export links, FAIR Signposting, sitemap.xml and robots.txt."""

from __future__ import annotations

import json
import re

import pytest
from lxml import etree

from aidahub.web.register.negotiation import FORMATS, negotiate, parse_accept
from aidahub.web.register.services import withdraw
from tests.factories import make_dataset

pytestmark = pytest.mark.django_db

DATACITE = "{http://datacite.org/schema/kernel-4}"


@pytest.fixture
def dataset():
    return make_dataset(doi="10.5072/fair/ct", title='Chest CT <b>&</b> "nodules"')


def _get(client, path, accept=None, **extra):
    if accept is not None:
        extra["HTTP_ACCEPT"] = accept
    return client.get(path, **extra)


def test_accept_headers_are_read_by_quality_and_specificity():
    assert [m for m, _, _ in parse_accept("text/html;q=0.5, application/x-bibtex")] == [
        "application/x-bibtex",
        "text/html",
    ]
    assert negotiate("application/x-bibtex;q=0.9, text/html;q=0.8")[0].name == "bibtex"
    assert negotiate("text/html,application/xhtml+xml,*/*;q=0.8")[0] is None
    assert negotiate("application/vnd.schemaorg.ld+json")[0].name == "json-ld"
    assert negotiate("text/x-bibliography; style=vancouver") == (
        next(f for f in FORMATS if f.name == "citation"),
        {"style": "vancouver"},
    )
    assert negotiate("image/png")[0] is None  # unknown: the page
    assert negotiate("application/x-bibtex;q=0")[0] is None
    assert negotiate("garbage;;;q=x,")[0] is None


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_every_accept_type_gets_its_body_and_content_type(client, dataset, fmt):
    response = _get(client, "/10.5072/fair/ct", fmt.media_type)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == fmt.media_type
    assert "Accept" in response["Vary"]
    body = response.content.decode()
    if fmt.name == "datacite-xml":
        root = etree.fromstring(response.content)
        assert root.find(f"{DATACITE}identifier").text == "10.5072/fair/ct"
    elif fmt.name in ("datacite-json", "json-ld", "csl-json"):
        json.loads(body)
    elif fmt.name == "bibtex":
        assert body.lstrip().startswith("@")
    elif fmt.name == "ris":
        assert "TY  - DATA" in body
    if fmt.name != "datacite-xml":
        assert "nodules" in body


def test_the_same_exports_are_links_on_the_page(client, dataset):
    page = _get(client, "/10.5072/fair/ct").content.decode()
    for fmt in FORMATS:
        link = f'href="/10.5072/fair/ct/export/{fmt.name}"'
        assert link in page
        response = client.get(f"/10.5072/fair/ct/export/{fmt.name}")
        assert response.status_code == 200
        assert response["Content-Type"].split(";")[0] == fmt.media_type
        if fmt.download:
            assert response["Content-Disposition"].startswith("attachment; filename=")


def test_html_and_unknown_types_get_the_page(client, dataset):
    for accept in ("text/html", "*/*", "image/png", None):
        response = _get(client, "/10.5072/fair/ct", accept)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")


def test_a_citation_style_is_chosen_by_parameter_and_an_unknown_one_is_refused(client, dataset):
    apa = _get(client, "/10.5072/fair/ct", "text/x-bibliography").content.decode()
    other = _get(client, "/10.5072/fair/ct", "text/x-bibliography; style=ieee").content.decode()
    assert "10.5072/fair/ct" in apa.lower() and apa != other
    bad = client.get("/10.5072/fair/ct/export/citation?style=no-such-style")
    assert bad.status_code == 400


def test_signposting_links_are_headers_and_elements(client, dataset):
    response = _get(client, "/10.5072/fair/ct")
    header = response["Link"]
    assert '<https://doi.org/10.5072/fair/ct>; rel="cite-as"' in header
    assert 'rel="describedby"; type="application/vnd.datacite.datacite+xml"' in header
    assert '<https://schema.org/Dataset>; rel="type"' in header
    assert 'rel="license"' in header
    assert '<https://orcid.org/0000-0002-1825-0097>; rel="author"' in header
    page = response.content.decode()
    assert '<link rel="cite-as" href="https://doi.org/10.5072/fair/ct">' in page
    assert 'rel="describedby"' in page and 'rel="license"' in page


def test_the_page_embeds_schema_org_json_ld_that_cannot_break_out_of_its_script(client, dataset):
    page = _get(client, "/10.5072/fair/ct").content.decode()
    (script,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    record = json.loads(script)
    assert record["@type"] == "Dataset"
    assert record["name"] == 'Chest CT <b>&</b> "nodules"'
    assert "<" not in script


def test_a_version_doi_is_answered_for_that_version(client):
    dataset = make_dataset(doi="10.5072/fair/mr", version="2.0")
    version = dataset.versions.get()
    response = _get(client, f"/{version.doi}", "application/vnd.datacite.datacite+xml")
    root = etree.fromstring(response.content)
    assert root.find(f"{DATACITE}identifier").text == version.doi
    assert f'<https://doi.org/{version.doi}>; rel="cite-as"' in response["Link"]


def test_a_withdrawn_dataset_is_a_tombstone_whose_metadata_still_answers(client):
    dataset = make_dataset(doi="10.5072/fair/gone")
    withdraw(dataset, "Consent was withdrawn.")
    page = _get(client, "/10.5072/fair/gone")
    assert page.status_code == 410
    assert "Consent was withdrawn." in page.content.decode()
    assert 'rel="cite-as"' in page["Link"]
    xml = _get(client, "/10.5072/fair/gone", "application/vnd.datacite.datacite+xml")
    assert xml.status_code == 200


def test_content_negotiation_is_not_mixed_up_by_the_page_cache(client, dataset):
    first = _get(client, "/10.5072/fair/ct", "application/x-bibtex")
    page = _get(client, "/10.5072/fair/ct", "text/html")
    again = _get(client, "/10.5072/fair/ct", "application/x-bibtex")
    assert first["Content-Type"].startswith("application/x-bibtex")
    assert page["Content-Type"].startswith("text/html")
    assert again.content == first.content and again["Link"] == first["Link"]
    assert page["Link"] == _get(client, "/10.5072/fair/ct")["Link"]


def test_hidden_and_draft_datasets_answer_no_format(client):
    make_dataset(doi="10.5072/fair/hidden", hidden=True)
    make_dataset(doi="10.5072/fair/draft", published=False)
    for doi in ("10.5072/fair/hidden", "10.5072/fair/draft"):
        assert _get(client, f"/{doi}", "application/x-bibtex").status_code == 404
        assert client.get(f"/{doi}/export/ris").status_code == 404
    assert client.get("/10.5072/fair/ct/export/no-such-format").status_code == 404


def test_sitemap_lists_every_public_landing_page_and_nothing_else(client, dataset):
    make_dataset(doi="10.5072/fair/hidden", hidden=True)
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    locations = [e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert any(loc.endswith("/10.5072/fair/ct") for loc in locations)
    assert any(loc.endswith(dataset.versions.get().doi) for loc in locations)
    assert not any("hidden" in loc for loc in locations)


def test_robots_txt_names_the_sitemap(client):
    text = client.get("/robots.txt").content.decode()
    assert "User-agent: *" in text and "/sitemap.xml" in text and "Disallow: /admin/" in text
