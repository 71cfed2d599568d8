"""DOIs follow the dataset lifecycle at DataCite, against a local DataCite over real HTTP.

DataCite cannot be reached from the tests, so ``datacite_server.MockDataCite`` answers as
its REST API documents (see that module for the behaviour and where it differs). The hub
is configured to use it through its ordinary settings; nothing is patched.
"""

from __future__ import annotations

import itertools
import logging
from functools import partial

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from aidahub.web.audit.models import AuditEvent
from aidahub.web.register import doi_services, services
from aidahub.web.register.doi_client import DataCiteClient, DataCiteError, ErrorKind
from aidahub.web.register.doi_selectors import minting_status, target_state
from aidahub.web.register.models import Dataset, DatasetVersion, DoiState
from tests.factories import make_dataset
from tests.web.register.admin_forms import change_url, post_data
from tests.web.register.datacite_server import TRANSITIONS, MockDataCite

pytestmark = pytest.mark.django_db

BASE_URL = "https://datahub.example.org"


@pytest.fixture
def datacite():
    server = MockDataCite()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def minting(settings, datacite):
    """The hub's settings pointing at the local DataCite, with instant retries."""
    settings.BASE_URL = BASE_URL
    settings.DATACITE_URL = datacite.url
    settings.DATACITE_USERNAME = datacite.username
    settings.DATACITE_PASSWORD = datacite.password
    settings.DATACITE_PREFIX = datacite.prefix
    settings.DATACITE_RETRY_DELAYS = (0, 0)
    settings.DATACITE_MAX_ATTEMPTS = 3
    return datacite


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs the block, then its on-commit callbacks, as a request does."""
    return partial(django_capture_on_commit_callbacks, execute=True)


@pytest.fixture(autouse=True)
def _no_swallowed_errors(caplog):
    """On-commit callbacks are robust: an exception in one is only logged. Fail on it."""
    yield
    swallowed = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not swallowed, [r.getMessage() for r in swallowed]


@pytest.fixture
def client_api(minting):
    with requests.Session() as session:
        yield DataCiteClient(
            minting.url, minting.username, minting.password, minting.prefix, session=session
        )


def _published(committed, **fields) -> Dataset:
    with committed():
        dataset = make_dataset(**fields)
    dataset.refresh_from_db()
    return dataset


def _version(dataset: Dataset, label: str) -> DatasetVersion:
    return dataset.versions.get(version=label)


def _doi_events(outcome: str | None = None) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(action__startswith="register.doi.").order_by("id")
    return [e for e in events if outcome is None or e.data["outcome"] == outcome]


# -- the client against DataCite's documented behaviour ----------------------------------


def _attributes(doi: str, **changes) -> dict:
    attributes = {
        "doi": doi,
        "url": f"{BASE_URL}/{doi}",
        "titles": [{"title": "Chest CT"}],
        "creators": [{"name": "Example, Astrid"}],
        "publisher": {"name": "Example Data Hub"},
        "publicationYear": 2024,
        "types": {"resourceTypeGeneral": "Dataset"},
    }
    return {**attributes, **changes}


def test_client_walks_a_doi_through_every_state(client_api, minting):
    doi = "10.5072/test/client"
    assert client_api.create_draft(doi)["state"] == "draft"
    assert client_api.register(doi, _attributes(doi))["state"] == "registered"
    assert client_api.publish(doi)["state"] == "findable"
    assert client_api.hide(doi)["state"] == "registered"
    assert client_api.publish(doi)["state"] == "findable"
    assert client_api.update(doi, {"titles": [{"title": "New"}]})["titles"] == [{"title": "New"}]
    assert client_api.get(doi)["state"] == "findable"
    method, path, body = minting.requests[0]
    assert (method, path) == ("POST", "/dois")
    assert body["data"]["type"] == "dois"
    assert body["data"]["attributes"]["doi"] == doi


def test_only_a_draft_can_be_deleted(client_api):
    client_api.create_draft("10.5072/test/gone")
    client_api.delete_draft("10.5072/test/gone")
    with pytest.raises(DataCiteError) as gone:
        client_api.get("10.5072/test/gone")
    assert gone.value.kind == ErrorKind.NOT_FOUND and gone.value.status == 404
    client_api.create("10.5072/test/kept", _attributes("10.5072/test/kept"), event="publish")
    with pytest.raises(DataCiteError) as refused:
        client_api.delete_draft("10.5072/test/kept")
    assert refused.value.kind == ErrorKind.NOT_ALLOWED and refused.value.status == 405
    assert not refused.value.retryable


def test_findable_cannot_go_back_to_draft_or_be_registered(client_api):
    doi = "10.5072/test/onward"
    client_api.create(doi, _attributes(doi), event="publish")
    with pytest.raises(DataCiteError) as refused:
        client_api.register(doi)
    assert refused.value.kind == ErrorKind.INVALID
    assert refused.value.titles == ["event: Cannot register a DOI that is findable"]


def test_missing_metadata_is_invalid_with_the_server_titles(client_api):
    doi = "10.5072/test/bare"
    with pytest.raises(DataCiteError) as refused:
        client_api.create(doi, {"url": f"{BASE_URL}/x"}, event="publish")
    exc = refused.value
    assert exc.kind == ErrorKind.INVALID and exc.status == 422 and not exc.retryable
    assert "titles: can't be blank" in exc.titles
    assert "publicationYear: can't be blank" in exc.titles
    assert "types: resourceTypeGeneral can't be blank" in exc.titles
    assert "titles: can't be blank" in str(exc)
    # A draft needs no metadata.
    assert client_api.create_draft(doi)["state"] == "draft"


def test_bad_credentials_and_unknown_dois(minting):
    with requests.Session() as session:
        wrong = DataCiteClient(
            minting.url, minting.username, "wrong", minting.prefix, session=session
        )
        with pytest.raises(DataCiteError) as refused:
            wrong.get("10.5072/test/any")
    assert refused.value.kind == ErrorKind.UNAUTHORIZED and refused.value.status == 401
    assert refused.value.titles == ["Bad credentials."]


def test_a_doi_outside_the_prefix_is_refused_before_sending(client_api, minting):
    with pytest.raises(DataCiteError, match="outside the account's prefix 10.5072"):
        client_api.create_draft("10.1234/elsewhere")
    assert minting.requests == []


def test_server_down_is_retryable(minting):
    minting.stop()
    with requests.Session() as session:
        api = DataCiteClient(minting.url, "u", "p", minting.prefix, timeout=2, session=session)
        with pytest.raises(DataCiteError) as down:
            api.get("10.5072/test/any")
    assert down.value.kind == ErrorKind.UNAVAILABLE and down.value.retryable
    assert down.value.status is None
    minting.start()


# -- the mock's own state machine, pair by pair ------------------------------------------


@pytest.mark.parametrize(
    ("state", "event"),
    list(
        itertools.product(
            ["draft", "registered", "findable"], [None, "register", "publish", "hide"]
        )
    ),
)
def test_mock_state_machine(client_api, state, event):
    doi = f"10.5072/test/{state}-{event}"
    client_api.create(doi, _attributes(doi), event={"draft": None, "registered": "register",
                                                     "findable": "publish"}[state])  # fmt: skip
    if (state, event) in TRANSITIONS:
        assert client_api.update(doi, event=event)["state"] == TRANSITIONS[(state, event)]
    else:
        with pytest.raises(DataCiteError) as refused:
            client_api.update(doi, event=event)
        assert refused.value.kind == ErrorKind.INVALID


@pytest.mark.parametrize(
    ("current", "target"),
    list(
        itertools.product(DoiState.values, [DoiState.DRAFT, DoiState.REGISTERED, DoiState.FINDABLE])
    ),
)
def test_the_hub_sends_the_event_datacite_expects(current, target):
    """The event the hub picks is one the documented state machine accepts."""
    event = doi_services._event(current, target)
    if target == DoiState.DRAFT and current in (DoiState.REGISTERED, DoiState.FINDABLE):
        return  # never asked: target_state keeps such a DOI where it is
    if current == DoiState.NONE:
        assert event == {"draft": None, "registered": "register", "findable": "publish"}[target]
    else:
        assert TRANSITIONS[(current, event)] == target


# -- the lifecycle ------------------------------------------------------------------------


def test_publish_makes_both_dois_findable_with_the_hubs_metadata(minting, committed):
    dataset = _published(committed, title="Wrist fractures in children")
    version = _version(dataset, "1.0")
    concept = minting.attributes(dataset.concept_doi)
    held = minting.attributes(version.doi)
    assert concept["state"] == held["state"] == "findable"
    assert held["titles"] == [{"title": "Wrist fractures in children"}]
    assert [c["name"] for c in held["creators"]] == ["Example, Astrid", "Placeholder, Bertil"]
    assert held["url"] == f"{BASE_URL}/{version.doi}"
    assert concept["url"] == f"{BASE_URL}/{dataset.concept_doi}"
    assert {"relatedIdentifier": version.doi, "relatedIdentifierType": "DOI",
            "relationType": "HasVersion", "resourceTypeGeneral": "Dataset"} in concept[
        "relatedIdentifiers"]  # fmt: skip
    for obj in (dataset, version):
        assert (obj.doi_state, obj.doi_error, obj.doi_attempts) == (DoiState.FINDABLE, "", 0)
        assert obj.doi_synced_at is not None
    events = _doi_events()
    assert [e.action for e in events] == ["register.doi.published"] * 2
    assert [e.data["doi"] for e in events] == [version.doi, dataset.concept_doi]
    assert all(e.data["outcome"] == "ok" for e in events)
    status = minting_status(dataset)
    assert status.ok and status.message.startswith("Minted")


def test_a_draft_reserves_draft_dois_then_publishing_makes_them_findable(minting, committed):
    dataset = make_dataset(published=False)
    version = _version(dataset, "1.0")
    with committed():
        services.reserve_dois(version)
    assert minting.state(version.doi) == minting.state(dataset.concept_doi) == "draft"
    assert [e.action for e in _doi_events()] == ["register.doi.reserved"] * 2
    with committed():
        services.publish(dataset, version)
    assert minting.state(version.doi) == minting.state(dataset.concept_doi) == "findable"
    puts = [(m, p) for m, p, _ in minting.changes()[2:]]
    assert puts == [("PUT", f"/dois/{version.doi}"), ("PUT", f"/dois/{dataset.concept_doi}")]


def test_a_new_version_is_minted_and_the_concept_leads_to_it(minting, committed):
    dataset = _published(committed)
    first = _version(dataset, "1.0")
    with committed():
        draft = services.new_version(dataset, "1.1")
    assert minting.state(draft.doi) == "draft"
    draft.title = "Chest CT with annotated nodules, second release"
    draft.save()
    with committed():
        services.publish(dataset, draft)
    assert minting.state(draft.doi) == "findable"
    concept = minting.attributes(dataset.concept_doi)
    assert concept["titles"] == [{"title": "Chest CT with annotated nodules, second release"}]
    assert concept["url"] == f"{BASE_URL}/{dataset.concept_doi}"
    has_version = [
        r["relatedIdentifier"]
        for r in concept["relatedIdentifiers"]
        if r["relationType"] == "HasVersion"
    ]
    assert has_version == [first.doi, draft.doi]
    previous = minting.attributes(first.doi)
    assert previous["state"] == "findable"
    assert {
        "relatedIdentifier": draft.doi,
        "relatedIdentifierType": "DOI",
        "relationType": "IsPreviousVersionOf",
        "resourceTypeGeneral": "Dataset",
    } in previous["relatedIdentifiers"]
    assert "register.doi.updated" in {e.action for e in _doi_events()}


def test_withdraw_hides_every_doi_and_the_page_is_a_tombstone(minting, committed, client):
    dataset = _published(committed)
    with committed():
        draft = services.new_version(dataset, "1.1")
        services.publish(dataset, draft)
    with committed():
        services.withdraw(dataset, "Consent was withdrawn for part of the cohort.")
    dois = [dataset.concept_doi, *dataset.versions.values_list("doi", flat=True)]
    assert {minting.state(doi) for doi in dois} == {"registered"}
    withdrawn = [
        d.get("dateInformation")
        for d in minting.attributes(dataset.concept_doi)["dates"]
        if d["dateType"] == "Withdrawn"
    ]
    assert withdrawn == ["Consent was withdrawn for part of the cohort."]
    hidden = [e for e in _doi_events() if e.action == "register.doi.hidden"]
    assert sorted(e.data["doi"] for e in hidden) == sorted(dois)
    assert client.get(f"/{dataset.concept_doi}").status_code == 410
    assert client.get(f"/{draft.doi}").status_code == 410
    with committed():
        services.reinstate(dataset)
    assert {minting.state(doi) for doi in dois} == {"findable"}
    dataset.refresh_from_db()
    assert dataset.doi_state == DoiState.FINDABLE


def test_hiding_in_the_admin_registers_the_dois_and_showing_makes_them_findable(
    minting, committed, staff_client
):
    dataset = _published(committed)
    dois = [dataset.concept_doi, _version(dataset, "1.0").doi]
    assert {minting.state(doi) for doi in dois} == {"findable"}
    data = post_data(staff_client.get(change_url(dataset)))
    data["hidden"] = "on"
    with committed():
        response = staff_client.post(change_url(dataset), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert {minting.state(doi) for doi in dois} == {"registered"}
    data.pop("hidden")
    with committed():
        staff_client.post(change_url(dataset), data)
    assert {minting.state(doi) for doi in dois} == {"findable"}


def test_editing_a_draft_version_in_the_admin_updates_its_draft_doi(
    minting, committed, staff_client
):
    dataset = _published(committed)
    with committed():
        draft = services.new_version(dataset, "1.1")
    assert minting.state(draft.doi) == "draft"
    data = post_data(staff_client.get(change_url(draft)))
    data["title"] = "Chest CT, second edition"
    with committed():
        response = staff_client.post(change_url(draft), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert minting.attributes(draft.doi)["titles"][0]["title"] == "Chest CT, second edition"
    assert minting.state(draft.doi) == "draft"
    assert minting.state(dataset.concept_doi) == "findable"  # still the published 1.0


def test_saving_unchanged_sends_nothing(minting, committed, staff_client):
    dataset = _published(committed)
    before = len(minting.requests)
    data = post_data(staff_client.get(change_url(dataset)))
    with committed():
        staff_client.post(change_url(dataset), data)
    assert len(minting.requests) == before


# -- failures ------------------------------------------------------------------------------


def test_bad_credentials_keep_the_dataset_published_and_tell_staff(
    minting, committed, settings, staff_client
):
    settings.DATACITE_PASSWORD = "not-the-password"
    dataset = _published(committed)
    assert dataset.state == "published" and dataset.is_public
    assert dataset.doi_state == DoiState.NONE and dataset.doi_attempts == 1
    assert "401" in dataset.doi_error and "Bad credentials." in dataset.doi_error
    assert len(minting.requests) == 2  # one per DOI: a 401 is not retried in the call
    failed = _doi_events("failed")
    assert failed and failed[0].data["kind"] == "unauthorized"
    assert failed[0].data["errors"] == ["Bad credentials."]

    status = minting_status(dataset)
    assert not status.ok and "Bad credentials." in status.message
    page = staff_client.get(reverse("admin:register_dataset_change", args=[dataset.pk]))
    assert "Bad credentials." in page.content.decode()
    landing = staff_client.get(f"/{dataset.concept_doi}").content.decode()
    assert 'data-minting="failed"' in landing and "Bad credentials." in landing
    public = Client().get(f"/{dataset.concept_doi}").content.decode()
    assert "data-minting" not in public and "Bad credentials." not in public

    settings.DATACITE_PASSWORD = minting.password
    results = doi_services.retry_pending_dois()
    assert [r.outcome for r in results] == ["ok", "ok"]
    dataset.refresh_from_db()
    assert (dataset.doi_state, dataset.doi_error, dataset.doi_attempts) == ("findable", "", 0)
    assert minting_status(dataset).ok
    landing = staff_client.get(f"/{dataset.concept_doi}").content.decode()
    assert 'data-minting="ok"' in landing and "Bad credentials." not in landing


def test_datacite_down_is_retried_then_a_later_retry_succeeds(minting, committed):
    minting.stop()
    dataset = _published(committed)
    assert dataset.state == "published"
    assert "could not be reached" in dataset.doi_error
    assert _doi_events("failed")[0].data["kind"] == "unavailable"
    minting.start()
    results = doi_services.retry_pending_dois()
    assert {r.outcome for r in results} == {"ok"}
    assert minting.state(dataset.concept_doi) == "findable"


def test_unavailable_is_retried_with_backoff_within_one_call(minting, settings):
    settings.DATACITE_RETRY_DELAYS = (0.25, 0.5)
    dataset = make_dataset()  # published, not yet minted: no on-commit callbacks ran
    version = _version(dataset, "1.0")
    waits: list[float] = []
    minting.fail_next = [503, 503]
    assert doi_services.sync_doi(version, sleep=waits.append).outcome == "ok"
    assert waits == [0.25, 0.5]
    minting.fail_next = [503, 502, 503]
    waits.clear()
    result = doi_services.sync_doi(dataset, sleep=waits.append)
    assert result.outcome == "failed" and "503" in result.detail
    assert waits == [0.25, 0.5]
    dataset.refresh_from_db()
    assert dataset.doi_attempts == 1


def test_a_refused_record_shows_datacites_reason_and_retries_stop(
    minting, committed, settings, staff_client
):
    minting.prefix = "10.80000"  # the account's prefix is not the one the hub was given
    dataset = _published(committed)
    assert "Prefix 10.5072 is not assigned to this repository" in dataset.doi_error
    for _ in range(5):
        doi_services.retry_pending_dois()
    dataset.refresh_from_db()
    assert dataset.doi_attempts == settings.DATACITE_MAX_ATTEMPTS == 3
    before = len(minting.requests)
    assert doi_services.retry_pending_dois() == []
    assert len(minting.requests) == before
    status = minting_status(dataset)
    assert "Prefix 10.5072 is not assigned" in status.message
    assert "Automatic retries stopped after 3 failed attempts" in status.message

    # Staff fix the account, then retry from the admin regardless of the count.
    minting.prefix = "10.5072"
    response = staff_client.post(
        reverse("admin:register_dataset_changelist"),
        {"action": "retry_minting_selected", "_selected_action": [dataset.pk]},
        follow=True,
    )
    assert "every DOI is at DataCite as the register says" in response.content.decode()
    dataset.refresh_from_db()
    assert (dataset.doi_state, dataset.doi_attempts, dataset.doi_error) == ("findable", 0, "")


def test_a_doi_datacite_already_holds_is_updated_not_duplicated(minting, client_api):
    dataset = make_dataset()  # minted elsewhere before the hub, say by the old register
    client_api.create(dataset.concept_doi, _attributes(dataset.concept_doi), event="publish")
    assert doi_services.sync_doi(dataset).outcome == "ok"
    assert [m for m, _, _ in minting.requests[1:]] == ["POST", "GET", "PUT"]
    assert minting.attributes(dataset.concept_doi)["titles"] == [
        {"title": "Chest CT with annotated nodules"}
    ]


def test_the_sync_command_retries_and_reports(minting, settings):
    dataset = make_dataset()
    settings.DATACITE_PASSWORD = "wrong"
    with pytest.raises(CommandError, match="2 DOI"):
        call_command("sync_dois")
    settings.DATACITE_PASSWORD = minting.password
    call_command("sync_dois")
    dataset.refresh_from_db()
    assert dataset.doi_state == DoiState.FINDABLE


# -- without credentials --------------------------------------------------------------------


def test_without_credentials_nothing_is_sent_and_staff_are_told(
    minting, committed, settings, staff_client, capsys
):
    settings.DATACITE_USERNAME = ""
    settings.DATACITE_PASSWORD = ""
    dataset = _published(committed)
    assert dataset.state == "published"
    assert minting.requests == []
    assert dataset.doi_state == DoiState.NONE and dataset.doi_error == ""
    assert target_state(dataset) == DoiState.FINDABLE
    status = minting_status(dataset)
    assert not status.enabled and not status.ok
    assert status.message.lower().startswith("not minted: no datacite credentials configured")
    page = staff_client.get(reverse("admin:register_dataset_change", args=[dataset.pk]))
    assert "Not minted: no DataCite credentials configured" in page.content.decode()
    landing = staff_client.get(f"/{dataset.concept_doi}").content.decode()
    assert 'data-minting="disabled"' in landing
    assert "Not minted: no DataCite credentials configured" in landing
    assert doi_services.retry_pending_dois() == []
    call_command("sync_dois")
    assert "not minted: no DataCite credentials configured" in capsys.readouterr().out
    assert _doi_events() == []
