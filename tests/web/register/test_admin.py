"""The register admin: every page loads, actions call the services, changes are audited,
and a published version cannot be changed."""

import datetime as dt

import pytest
from django.contrib import admin
from django.urls import reverse

from aidahub.web.audit.models import AuditEvent
from aidahub.web.register.admin import next_version_label
from aidahub.web.register.models import (
    Contact,
    Dataset,
    DatasetState,
    DatasetVersion,
    License,
    PriorityList,
    Publication,
    PublicationRelation,
)
from aidahub.web.register.services import new_version, record_use
from tests.factories import make_dataset
from tests.web.register.admin_forms import change_url as _change
from tests.web.register.admin_forms import post_data as _post_data

pytestmark = pytest.mark.django_db

REGISTER_MODELS = [m for m in admin.site._registry if m._meta.app_label == "register"]


def _changelist(model) -> str:
    return reverse(f"admin:register_{model._meta.model_name}_changelist")


def _action(client, model, action, objects, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objects], **extra}
    if "apply" not in extra:
        data["index"] = 0
    return client.post(_changelist(model), data)


def test_every_register_model_is_in_the_admin():
    names = {m.__name__ for m in REGISTER_MODELS}
    assert {"Dataset", "DatasetVersion", "PriorityList"} <= names


@pytest.mark.parametrize("model", REGISTER_MODELS, ids=lambda m: m.__name__)
def test_changelist_and_add_pages_load_for_staff(staff_client, model):
    make_dataset()
    assert staff_client.get(_changelist(model)).status_code == 200
    add = reverse(f"admin:register_{model._meta.model_name}_add")
    assert staff_client.get(add).status_code == 200


def test_change_pages_load_for_every_object(staff_client):
    dataset = make_dataset(licenses=("controlled-access", "aida-ca"))
    draft = new_version(dataset, "1.1")
    plist = PriorityList.objects.create(approved_on=dt.date(2023, 11, 20))
    for obj in (dataset, dataset.latest_version, draft, plist):
        response = staff_client.get(_change(obj))
        assert response.status_code == 200, obj
    search = staff_client.get(_changelist(Dataset), {"q": dataset.short_name})
    assert dataset.concept_doi in search.content.decode()


def test_admin_requires_staff(client, django_user_model):
    user = django_user_model.objects.create_user("researcher", password="a-long-password-1")
    client.force_login(user)
    response = client.get(_changelist(Dataset))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_dataset_page_shows_license_and_contact_warnings(staff_client):
    dataset = make_dataset(licenses=("aida-ca",))
    lic = License.objects.get(version=dataset.latest_version)
    License.objects.filter(pk=lic.pk).update(review_date=dt.date(2020, 1, 1))
    Contact.objects.filter(version=dataset.latest_version, is_hub_contact=True).delete()
    record_use(dataset, "A paper that used the data", doi="10.5072/used.1")
    page = staff_client.get(_change(dataset), follow=True).content.decode()
    assert "was due for review on 2020-01-01" in page
    assert "A publication that used this dataset has been recorded" in page
    assert "No hub contact" in page
    assert "A paper that used the data" in page  # the used-by inline


def test_version_list_links_to_each_version(staff_client):
    dataset = make_dataset()
    draft = new_version(dataset, "1.1")
    page = staff_client.get(_change(dataset)).content.decode()
    assert _change(dataset.latest_version) in page
    assert _change(draft) in page
    assert reverse("admin:register_dataset_new_version", args=[dataset.pk]) in page


# --- Actions --------------------------------------------------------------------------------


def test_publish_action_publishes_the_draft_and_is_audited(staff_client, staff_user):
    dataset = make_dataset(published=False)
    response = _action(staff_client, Dataset, "publish_selected", [dataset])
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert dataset.state == DatasetState.PUBLISHED
    assert dataset.latest_version.is_published
    assert dataset.latest_version.licenses.first().rendered_text
    event = AuditEvent.objects.get(action="register.dataset.publish")
    assert event.actor == staff_user
    assert event.object_id == str(dataset.pk)


def test_publish_action_reports_an_invalid_transition(staff_client):
    dataset = make_dataset()
    response = _action(staff_client, Dataset, "publish_selected", [dataset])
    page = staff_client.get(response["Location"]).content.decode()
    assert "cannot publish without a draft version" in page


def test_withdraw_action_asks_for_a_reason_first(staff_client, staff_user):
    dataset = make_dataset()
    response = _action(staff_client, Dataset, "withdraw_selected", [dataset])
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="reason"' in page
    assert 'value="withdraw_selected"' in page
    dataset.refresh_from_db()
    assert dataset.state == DatasetState.PUBLISHED

    empty = _action(staff_client, Dataset, "withdraw_selected", [dataset], apply="yes", reason="  ")
    assert empty.status_code == 200
    assert "This field is required" in empty.content.decode()

    reason = "Consent was withdrawn for part of the cohort."
    done = _action(
        staff_client, Dataset, "withdraw_selected", [dataset], apply="yes", reason=reason
    )
    assert done.status_code == 302
    dataset.refresh_from_db()
    assert dataset.state == DatasetState.WITHDRAWN
    assert dataset.withdrawal_reason == reason
    event = AuditEvent.objects.get(action="register.dataset.withdraw")
    assert event.actor == staff_user
    assert event.data == {"reason": reason}


def test_reinstate_action(staff_client, staff_user):
    dataset = make_dataset()
    _action(staff_client, Dataset, "withdraw_selected", [dataset], apply="yes", reason="Why")
    _action(staff_client, Dataset, "reinstate_selected", [dataset])
    dataset.refresh_from_db()
    assert dataset.state == DatasetState.PUBLISHED
    assert AuditEvent.objects.get(action="register.dataset.reinstate").actor == staff_user


def test_new_version_action_starts_a_draft_with_the_hub_contact(staff_client, staff_user):
    dataset = make_dataset()
    Contact.objects.filter(version=dataset.latest_version, is_hub_contact=True).delete()
    _action(staff_client, Dataset, "new_version_selected", [dataset])
    draft = DatasetVersion.objects.get(dataset=dataset, state="draft")
    assert draft.version == "1.1"
    assert draft.doi == f"{dataset.concept_doi}.v1.1"
    assert draft.contacts.filter(is_hub_contact=True).exists()
    assert AuditEvent.objects.get(action="register.version.create").actor == staff_user
    assert AuditEvent.objects.filter(action="admin.contact.add", actor=staff_user).exists()
    # A second draft is refused while the first is open.
    response = _action(staff_client, Dataset, "new_version_selected", [dataset])
    page = staff_client.get(response["Location"]).content.decode()
    assert "already has a draft version" in page


def test_new_version_page_lets_staff_choose_the_label(staff_client):
    dataset = make_dataset()
    url = reverse("admin:register_dataset_new_version", args=[dataset.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    assert 'value="1.1"' in page.content.decode()
    response = staff_client.post(url, {"label": "2.0"})
    draft = DatasetVersion.objects.get(dataset=dataset, version="2.0")
    assert response["Location"] == _change(draft)
    bad = staff_client.post(url, {"label": "two words"})
    assert bad.status_code == 200
    assert not DatasetVersion.objects.filter(version="two words").exists()


@pytest.mark.parametrize(("labels", "expected"), [
    (["1.0"], "1.1"), (["1.0", "1.1"], "1.2"), (["2"], "3"), (["beta"], "beta.1"),
])  # fmt: skip
def test_next_version_label(labels, expected):
    dataset = make_dataset(version=labels[0])
    for label in labels[1:]:
        services_draft = new_version(dataset, label)
        dataset.refresh_from_db()
        assert services_draft.version == label
    assert next_version_label(dataset) == expected


# --- Published versions are read-only ------------------------------------------------------


def test_published_version_page_is_read_only(staff_client):
    dataset = make_dataset()
    version = dataset.latest_version
    response = staff_client.get(_change(version))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="_save"' not in page
    assert 'name="title"' not in page
    assert "start a new version" in page
    assert reverse("admin:register_dataset_new_version", args=[dataset.pk]) in page
    inlines = response.context["inline_admin_formsets"]
    assert len(inlines) == 6
    for inline in inlines:
        assert not inline.has_add_permission
        assert not inline.has_change_permission
        assert not inline.has_delete_permission


def test_a_post_cannot_change_a_published_version(staff_client):
    dataset = make_dataset()
    version = dataset.latest_version
    draft = new_version(dataset, "1.1")
    data = _post_data(staff_client.get(_change(draft)))
    data["title"] = "Changed after publication"
    response = staff_client.post(_change(version), data)
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.title == "Chest CT with annotated nodules"
    delete = staff_client.post(
        reverse("admin:register_datasetversion_delete", args=[version.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert DatasetVersion.objects.filter(pk=version.pk).exists()


def test_published_dataset_cannot_be_deleted(staff_client):
    dataset = make_dataset()
    url = reverse("admin:register_dataset_delete", args=[dataset.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    assert Dataset.objects.filter(pk=dataset.pk).exists()


# --- Changes are audited with who and before/after ------------------------------------------


def test_admin_change_writes_an_audit_event_with_before_and_after(staff_client, staff_user):
    dataset = make_dataset(published=False, short_name="OLD")
    data = _post_data(staff_client.get(_change(dataset)))
    data["short_name"] = "NEW"
    response = staff_client.post(_change(dataset), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="admin.dataset.change")
    assert event.actor == staff_user
    assert event.actor_label == "director"
    assert event.data["changes"]["short_name"] == {"before": "OLD", "after": "NEW"}


def test_draft_version_edit_with_inlines_is_audited(staff_client, staff_user):
    dataset = make_dataset()
    draft = new_version(dataset, "1.1")
    data = _post_data(staff_client.get(_change(draft)))
    data["title"] = "Chest CT, second edition"
    total = int(data["authors-TOTAL_FORMS"])
    data["authors-TOTAL_FORMS"] = str(total + 1)
    data[f"authors-{total}-name"] = "Cecilia Sample"
    data[f"authors-{total}-kind"] = "Person"
    prefix = "describing_publications"
    data[f"{prefix}-TOTAL_FORMS"] = str(int(data[f"{prefix}-TOTAL_FORMS"]) + 1)
    data[f"{prefix}-0-title"] = "A paper describing the data"
    data[f"{prefix}-0-doi"] = "10.5072/describes.1"
    response = staff_client.post(_change(draft), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    draft.refresh_from_db()
    assert draft.title == "Chest CT, second edition"
    authors = list(draft.authors.all())
    assert authors[-1].name == "Cecilia Sample"
    assert authors[-1].position == len(authors) - 1  # blank order: at the end
    paper = Publication.objects.get(version=draft)
    assert paper.relation == PublicationRelation.DESCRIBES
    assert paper.dataset == dataset
    change = AuditEvent.objects.get(action="admin.datasetversion.change")
    assert change.actor == staff_user
    assert change.data["changes"]["title"] == {
        "before": "Chest CT with annotated nodules",
        "after": "Chest CT, second edition",
    }
    added = AuditEvent.objects.get(action="admin.author.add")
    assert added.actor == staff_user
    assert added.data["after"]["name"] == "Cecilia Sample"


def test_adding_a_version_derives_its_doi_and_adds_the_hub_contact(staff_client):
    dataset = Dataset.objects.create(concept_doi="10.5072/test/new", short_name="NEW")
    add = reverse("admin:register_datasetversion_add")
    data = _post_data(staff_client.get(add, {"dataset": dataset.pk}))
    data.update({"dataset": dataset.pk, "title": "A new dataset", "doi": ""})
    response = staff_client.post(add, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    version = DatasetVersion.objects.get(dataset=dataset)
    assert version.version == "1.0"
    assert version.doi == "10.5072/test/new.v1.0"
    hub = version.contacts.get(is_hub_contact=True)
    assert hub.email
    assert AuditEvent.objects.filter(action="admin.datasetversion.add").exists()


def test_adding_a_dataset_leads_to_its_first_version(staff_client):
    add = reverse("admin:register_dataset_add")
    data = _post_data(staff_client.get(add))
    data.update({"concept_doi": "10.5072/test/fresh", "short_name": "FRESH"})
    response = staff_client.post(add, data)
    dataset = Dataset.objects.get(concept_doi="10.5072/test/fresh")
    assert response["Location"].endswith(f"?dataset={dataset.pk}")
    assert AuditEvent.objects.get(action="admin.dataset.add").actor_label == "director"


def test_invalid_concept_doi_is_refused(staff_client):
    add = reverse("admin:register_dataset_add")
    data = _post_data(staff_client.get(add))
    data.update({"concept_doi": "not a doi", "short_name": "BAD"})
    response = staff_client.post(add, data)
    assert response.status_code == 200
    assert "is not a DOI" in response.content.decode()


def test_priority_list_with_priorities(staff_client, staff_user):
    add = reverse("admin:register_prioritylist_add")
    data = _post_data(staff_client.get(add))
    data.update(
        {
            "approved_on": "2024-05-02",
            "approved_by": "Clinical council",
            "priorities-TOTAL_FORMS": "2",
            "priorities-0-number": "1",
            "priorities-0-title": "Lung cancer",
            "priorities-1-number": "2",
            "priorities-1-title": "Stroke",
        }
    )
    response = staff_client.post(add, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    plist = PriorityList.objects.get(approved_on=dt.date(2024, 5, 2))
    assert [p.title for p in plist.priorities.all()] == ["Lung cancer", "Stroke"]
    assert AuditEvent.objects.filter(action="admin.priority.add", actor=staff_user).count() == 2
