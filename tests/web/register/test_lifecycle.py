"""The dataset lifecycle: every (state, event) pair of the transition table."""

import datetime as dt
import itertools

import pytest

from aidahub.web.audit.models import AuditEvent
from aidahub.web.register import services
from aidahub.web.register.models import (
    Dataset,
    DatasetState,
    DatasetVersion,
    ImmutableVersionError,
    VersionState,
)
from aidahub.web.register.services import Event, InvalidTransition, next_state
from tests.factories import make_dataset

EXPECTED = {
    (DatasetState.DRAFT, Event.PUBLISH): DatasetState.PUBLISHED,
    (DatasetState.PUBLISHED, Event.PUBLISH_VERSION): DatasetState.PUBLISHED,
    (DatasetState.PUBLISHED, Event.WITHDRAW): DatasetState.WITHDRAWN,
    (DatasetState.WITHDRAWN, Event.REINSTATE): DatasetState.PUBLISHED,
}
PAIRS = list(itertools.product(DatasetState.values, Event.ALL))


@pytest.mark.parametrize(("state", "event"), PAIRS)
def test_transition_table(state, event):
    if (state, event) in EXPECTED:
        assert next_state(state, event) == EXPECTED[(state, event)]
    else:
        with pytest.raises(InvalidTransition, match=f"cannot {event.replace('_', ' ')}"):
            next_state(state, event)


def _dataset_in(state: str) -> Dataset:
    dataset = make_dataset(published=state != DatasetState.DRAFT)
    if state == DatasetState.WITHDRAWN:
        services.withdraw(dataset, "Consent was withdrawn for part of the cohort.")
    dataset.refresh_from_db()
    assert dataset.state == state
    return dataset


def _apply(dataset: Dataset, event: str):
    if event in (Event.PUBLISH, Event.PUBLISH_VERSION):
        if dataset.state == DatasetState.DRAFT:
            return services.publish(dataset)
        draft = services.new_version(dataset, "9.9")
        return services.publish(dataset, draft)
    if event == Event.WITHDRAW:
        return services.withdraw(dataset, "A reason")
    return services.reinstate(dataset)


@pytest.mark.django_db
@pytest.mark.parametrize(("state", "event"), PAIRS)
def test_services_follow_the_table(state, event):
    dataset = _dataset_in(state)
    before = AuditEvent.objects.count()
    # services.publish() picks 'publish' or 'publish_version' from the state, so a caller
    # that names either event on a draft or a published dataset gets the right one.
    picked = {(DatasetState.DRAFT, Event.PUBLISH_VERSION), (DatasetState.PUBLISHED, Event.PUBLISH)}
    if (state, event) in EXPECTED or (state, event) in picked:
        _apply(dataset, event)
        dataset.refresh_from_db()
        expected = EXPECTED.get((state, event), DatasetState.PUBLISHED)
        assert dataset.state == expected
        assert AuditEvent.objects.count() > before
    else:
        with pytest.raises((InvalidTransition, ValueError)):
            _apply(dataset, event)
        dataset.refresh_from_db()
        assert dataset.state == state


@pytest.mark.django_db
def test_withdrawal_keeps_everything_and_needs_a_reason():
    dataset = make_dataset()
    with pytest.raises(ValueError, match="reason"):
        services.withdraw(dataset, "  ")
    services.withdraw(dataset, "Duplicate of another dataset.")
    dataset.refresh_from_db()
    assert dataset.withdrawal_reason == "Duplicate of another dataset."
    assert dataset.versions.count() == 1
    assert dataset.latest_version.licenses.exists()
    event = AuditEvent.objects.filter(action="register.dataset.withdraw").get()
    assert event.data["reason"] == "Duplicate of another dataset."


@pytest.mark.django_db
def test_published_version_is_immutable_and_new_version_copies_it():
    dataset = make_dataset(title="Original title")
    first = dataset.latest_version
    first.title = "Changed"
    with pytest.raises(ImmutableVersionError):
        first.save()
    draft = services.new_version(dataset, "2.0")
    assert draft.doi == f"{dataset.concept_doi}.v2.0"
    assert draft.state == VersionState.DRAFT
    assert [a.name for a in draft.authors.all()] == [a.name for a in first.authors.all()]
    draft.title = "Revised title"
    draft.save()
    services.publish(dataset, draft)
    dataset.refresh_from_db()
    assert dataset.latest_version == draft
    assert DatasetVersion.objects.get(pk=first.pk).title == "Original title"
    with pytest.raises(ValueError, match="draft"):
        services.new_version(dataset, "3.0")
        services.new_version(dataset, "3.1")


@pytest.mark.django_db
def test_publishing_warns_about_incomplete_contacts():
    dataset = make_dataset(published=False)
    version = dataset.versions.get()
    version.contacts.all().delete()
    result = services.publish(dataset, version)
    assert any("no contacts" in w for w in result.warnings)


@pytest.mark.django_db
def test_contact_warnings_name_what_is_missing():
    dataset = make_dataset(published=False)
    version = dataset.versions.get()
    assert services.contact_warnings(version) == []
    version.contacts.filter(is_hub_contact=True).delete()
    assert services.contact_warnings(version) == [
        "no hub contact (such as the data director) among the contacts"
    ]
    services.ensure_hub_contact(version)
    assert services.contact_warnings(version) == []


@pytest.mark.django_db
def test_ca_license_warns_after_review_date_and_after_first_use():
    dataset = make_dataset(licenses=("aida-ca",), published=False)
    lic = dataset.versions.get().licenses.get()
    lic.review_date = dt.date(2025, 1, 1)
    lic.save()
    services.publish(dataset)
    dataset.refresh_from_db()
    assert services.license_warnings(dataset, today=dt.date(2024, 12, 31)) == []
    overdue = services.license_warnings(dataset, today=dt.date(2025, 1, 2))
    assert len(overdue) == 1 and "due for review on 2025-01-01" in overdue[0]
    services.record_use(dataset, "Someone et al. used it. 2025.", doi="10.5072/used.1")
    warnings = services.license_warnings(dataset, today=dt.date(2024, 12, 31))
    assert len(warnings) == 1 and "AIDA BY license" in warnings[0]


@pytest.mark.django_db
def test_by_license_never_warns():
    dataset = make_dataset(licenses=("aida-by",))
    services.record_use(dataset, "Used it.")
    assert services.license_warnings(dataset) == []


@pytest.mark.django_db
def test_every_register_change_bumps_the_cache_generation():
    from aidahub.web.register.signals import register_generation

    dataset = make_dataset()
    before = register_generation()
    services.record_use(dataset, "A paper that used it.")
    after_use = register_generation()
    assert after_use > before
    services.withdraw(dataset, "reason")
    assert register_generation() > after_use
