"""Who sees which dataset where: role × endpoint × dataset state → status and presence.

Deny by default: a hidden or draft dataset answers 404 to everyone but staff, and is absent
from the list, the metrics and the API for everyone, staff included.
"""

import json

import pytest
from django.test import Client

from aidahub.web.register import services
from tests.factories import make_dataset
from tests.web.roles import add_totp

ROLES = ("anonymous", "user", "staff")
STATES = ("published", "hidden", "draft", "withdrawn")
ENDPOINTS = ("list", "landing_concept", "landing_version", "metrics", "api_list", "api_one")

# Expected (status, appears) per state, endpoint and role. "appears" means the dataset's
# own text is in the response.
_LISTED_ONLY_WHEN_PUBLISHED = {
    state: {role: (200, state == "published") for role in ROLES} for state in STATES
}
EXPECTED = {
    "list": _LISTED_ONLY_WHEN_PUBLISHED,
    "metrics": _LISTED_ONLY_WHEN_PUBLISHED,
    "api_list": _LISTED_ONLY_WHEN_PUBLISHED,
    "landing_concept": {
        "published": {"anonymous": (200, True), "user": (200, True), "staff": (200, True)},
        "hidden": {"anonymous": (404, False), "user": (404, False), "staff": (200, True)},
        "draft": {"anonymous": (404, False), "user": (404, False), "staff": (200, True)},
        "withdrawn": {"anonymous": (410, True), "user": (410, True), "staff": (410, True)},
    },
    "api_one": {
        "published": {role: (200, True) for role in ROLES},
        "hidden": {role: (404, False) for role in ROLES},
        "draft": {role: (404, False) for role in ROLES},
        "withdrawn": {role: (410, True) for role in ROLES},
    },
}
EXPECTED["landing_version"] = EXPECTED["landing_concept"]


def _dataset(state: str):
    organ = f"Organ{state}"
    dataset = make_dataset(
        short_name=f"SN{state.upper()}",
        title=f"Title of the {state} dataset",
        organs=[{"name": organ, "sctid": "1"}],
        hidden=state == "hidden",
        published=state != "draft",
    )
    if state == "withdrawn":
        services.withdraw(dataset, "Consent was withdrawn")
    return dataset


def _client(role: str, django_user_model) -> Client:
    client = Client()
    if role == "user":
        client.force_login(django_user_model.objects.create_user("reader", password="x-y-z-1234"))
    elif role == "staff":
        staff = django_user_model.objects.create_user(
            "staff", password="x-y-z-1234", is_staff=True, is_superuser=True
        )
        add_totp(staff)  # previews need staff with two-factor authentication
        client.force_login(staff)
    return client


def _observe(client: Client, endpoint: str, dataset) -> tuple[int, bool]:
    version_doi = dataset.versions.get().doi
    title = dataset.versions.get().title
    url = {
        "list": "/datasets/",
        "landing_concept": f"/{dataset.concept_doi}",
        "landing_version": f"/{version_doi}",
        "metrics": "/metrics/",
        "api_list": "/api/1.0/metadata.json",
        "api_one": f"/api/1.0/datasets/{dataset.concept_doi}.json",
    }[endpoint]
    response = client.get(url)
    body = response.content.decode()
    if endpoint == "metrics":
        appears = f"Organ{dataset.short_name[2:].lower()}" in body
    elif endpoint.startswith("api"):
        appears = dataset.concept_doi in json.dumps(json.loads(body))
        if endpoint == "api_one" and response.status_code == 404:
            appears = title in body
    else:
        appears = title in body
    return response.status_code, appears


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
def test_status_matrix(role, state, django_user_model):
    dataset = _dataset(state)
    client = _client(role, django_user_model)
    wrong = []
    for endpoint in ENDPOINTS:
        expected = EXPECTED[endpoint][state][role]
        observed = _observe(client, endpoint, dataset)
        if observed != expected:
            wrong.append(f"{endpoint}: expected {expected}, got {observed}")
    assert not wrong, f"{role} × {state}: " + "; ".join(wrong)


@pytest.mark.django_db
def test_draft_version_of_a_published_dataset_is_a_staff_preview(django_user_model):
    dataset = make_dataset(title="Published title")
    draft = services.new_version(dataset, "2.0")
    anonymous, staff = Client(), _client("staff", django_user_model)

    assert anonymous.get(f"/{draft.doi}").status_code == 404
    preview = staff.get(f"/{draft.doi}")
    assert preview.status_code == 200
    assert "Preview: draft, not published" in preview.content.decode()
    # The concept DOI still leads everyone to the published version, not the draft.
    page = anonymous.get(f"/{dataset.concept_doi}").content.decode()
    assert "Version 1.0" in page and draft.doi not in page
    assert draft.doi in staff.get(f"/{dataset.concept_doi}").content.decode()


@pytest.mark.django_db
def test_a_staff_preview_is_never_served_to_the_public_from_the_cache(django_user_model):
    dataset = make_dataset(hidden=True, title="Secret preview")
    staff = _client("staff", django_user_model)
    assert staff.get(f"/{dataset.concept_doi}").status_code == 200
    assert staff.get("/datasets/").status_code == 200
    anonymous = Client()
    assert anonymous.get(f"/{dataset.concept_doi}").status_code == 404
    assert "Secret preview" not in anonymous.get("/datasets/").content.decode()


@pytest.mark.django_db
def test_withdrawn_and_hidden_is_hidden_from_the_public(django_user_model):
    dataset = make_dataset(hidden=True)
    services.withdraw(dataset, "Duplicate")
    assert Client().get(f"/{dataset.concept_doi}").status_code == 404
    assert _client("staff", django_user_model).get(f"/{dataset.concept_doi}").status_code == 410


@pytest.mark.django_db
def test_an_inactive_staff_account_is_treated_as_the_public(django_user_model):
    dataset = make_dataset(hidden=True)
    user = django_user_model.objects.create_user(
        "former", password="x-y-z-1234", is_staff=True, is_active=False
    )
    client = Client()
    client.force_login(user)
    assert client.get(f"/{dataset.concept_doi}").status_code == 404


def test_staff_without_two_factor_see_no_preview(django_user_model):
    dataset = make_dataset(doi="10.5072/matrix/nomfa", hidden=True)
    staff = django_user_model.objects.create_user("nomfa", password="x-y-z-1234", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get(f"/{dataset.concept_doi}").status_code == 404
