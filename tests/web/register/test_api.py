"""The JSON API: one object per public dataset, safe to embed, open to other sites."""

import json

import pytest
from django.test import Client

from aidahub.web.register import services
from aidahub.web.register.models import DatasetVersion
from tests.factories import make_dataset


def _get(url: str):
    response = Client().get(url)
    return response, json.loads(response.content)


@pytest.mark.django_db
def test_metadata_lists_public_datasets_with_datacite_other_and_additional():
    public = make_dataset(short_name="PUB", title="Public one")
    make_dataset(short_name="HID", hidden=True)
    make_dataset(short_name="DRA", published=False)
    services.withdraw(make_dataset(short_name="WIT"), "Duplicate")

    response, data = _get("/api/1.0/metadata.json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert [entry["other"]["shortName"] for entry in data] == ["PUB"]
    entry = data[0]
    assert set(entry) == {"datacite", "other", "additional"}
    assert entry["datacite"]["name"] == "Public one"
    assert entry["datacite"]["@id"] == f"https://doi.org/{public.concept_doi}"


@pytest.mark.django_db
def test_one_dataset_by_concept_or_version_doi():
    dataset = make_dataset(title="Version one")
    old = dataset.latest_version
    draft = services.new_version(dataset, "2.0")
    DatasetVersion.objects.filter(pk=draft.pk).update(title="Version two")
    services.publish(dataset, DatasetVersion.objects.get(pk=draft.pk))

    response, data = _get(f"/api/1.0/datasets/{dataset.concept_doi}.json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert data["datacite"]["name"] == "Version two"
    _response, data = _get(f"/api/1.0/datasets/{old.doi}.json")
    assert data["datacite"]["name"] == "Version one"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["unknown", "hidden", "draft", "not a DOI"])
def test_what_the_api_does_not_show_answers_404_json(kind):
    doi = {
        "unknown": "10.5072/nothing/here",
        "hidden": lambda: make_dataset(hidden=True).concept_doi,
        "draft": lambda: make_dataset(published=False).concept_doi,
        "not a DOI": "10.5072/a//b",
    }[kind]
    doi = doi() if callable(doi) else doi
    response, data = _get(f"/api/1.0/datasets/{doi}.json")
    assert response.status_code == 404
    assert response["Access-Control-Allow-Origin"] == "*"
    assert data["error"] == "not found" and data["detail"]


@pytest.mark.django_db
def test_a_hidden_dataset_is_absent_from_the_api_for_staff_too(staff_client):
    dataset = make_dataset(hidden=True)
    assert staff_client.get(f"/api/1.0/datasets/{dataset.concept_doi}.json").status_code == 404
    assert json.loads(staff_client.get("/api/1.0/metadata.json").content) == []


@pytest.mark.django_db
def test_a_withdrawn_dataset_answers_410_with_its_citation_and_reason():
    dataset = make_dataset(title="Gone now")
    services.withdraw(dataset, "The copyright holder asked us to.")
    response, data = _get(f"/api/1.0/datasets/{dataset.concept_doi}.json")
    assert response.status_code == 410
    assert data["title"] == "Gone now"
    assert data["withdrawal_reason"] == "The copyright holder asked us to."
    assert dataset.concept_doi in data["cite_as"]


@pytest.mark.django_db
def test_html_characters_are_escaped_in_the_json():
    make_dataset(title="Nodules <b>&</b> masses", description="</script><script>x()</script>")
    response = Client().get("/api/1.0/metadata.json")
    body = response.content.decode()
    assert "<" not in body and ">" not in body and "&" not in body
    assert "\\u003cb\\u003e\\u0026\\u003c/b\\u003e" in body
    assert json.loads(body)[0]["datacite"]["name"] == "Nodules <b>&</b> masses"


@pytest.mark.django_db
def test_additional_is_the_markdown_body_without_template_tags():
    dataset = make_dataset(published=False)
    version = dataset.versions.get()
    version.additional = "## Notes\n\n{% include blurb.md %}Scanned in {{ page.year }}2020."
    version.save()
    services.publish(dataset, version)
    _response, data = _get(f"/api/1.0/datasets/{dataset.concept_doi}.json")
    assert data["additional"] == "## Notes\n\nScanned in 2020."


@pytest.mark.django_db
def test_a_change_shows_in_the_api_at_once():
    dataset = make_dataset(short_name="BEFORE")
    assert _get("/api/1.0/metadata.json")[1][0]["other"]["shortName"] == "BEFORE"
    dataset.short_name = "AFTER"
    dataset.save()
    assert _get("/api/1.0/metadata.json")[1][0]["other"]["shortName"] == "AFTER"
    services.withdraw(dataset, "Gone")
    assert _get("/api/1.0/metadata.json")[1] == []
