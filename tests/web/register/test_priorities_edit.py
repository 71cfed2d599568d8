"""The clinical council records a new priority list through the web page."""

import datetime as dt

import pytest
from django.test import Client

from aidahub.web.accounts.models import Profile
from aidahub.web.audit.models import AuditEvent
from aidahub.web.register.models import Priority, PriorityList

pytestmark = pytest.mark.django_db

URL = "/priorities/new/"


@pytest.fixture
def council(django_user_model):
    user = django_user_model.objects.create_user("council", "council@example.org", "pw-council-1")
    Profile.objects.create(user=user, is_clinical_council=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def current_list():
    plist = PriorityList.objects.create(approved_on=dt.date(2024, 6, 1))
    Priority.objects.create(priority_list=plist, number=1, title="Stroke CT")
    Priority.objects.create(priority_list=plist, number=2, title="Prostate MR")
    return plist


def _post(rows, **fields):
    data = {
        "approved_on": "2025-03-01",
        "approved_by": "Clinical council",
        "note": "",
        "p-TOTAL_FORMS": str(len(rows)),
        "p-INITIAL_FORMS": "0",
        **fields,
    }
    for n, (title, description) in enumerate(rows):
        data[f"p-{n}-title"] = title
        data[f"p-{n}-description"] = description
    return data


def test_the_form_starts_from_the_list_in_force(council, current_list):
    page = council.get(URL).content.decode()
    assert 'value="Stroke CT"' in page and 'value="Prostate MR"' in page


def test_a_new_list_is_published_in_row_order_and_the_old_one_kept(council, current_list):
    data = _post([("Prostate MR", "Biopsy-confirmed"), ("", ""), ("Stroke CT", "")])
    response = council.post(URL, data)
    assert response.status_code == 302 and response["Location"] == "/priorities/"
    new = PriorityList.objects.order_by("-id").first()
    assert [(p.number, p.title) for p in new.priorities.all()] == [
        (1, "Prostate MR"),
        (2, "Stroke CT"),
    ]
    assert list(current_list.priorities.values_list("title", flat=True)) == [
        "Stroke CT",
        "Prostate MR",
    ]
    page = Client().get("/priorities/").content.decode()
    assert "Current priorities, approved 2025-03-01" in page
    assert "Biopsy-confirmed" in page
    event = AuditEvent.objects.get(action="register.priorities.approved")
    assert event.actor_label == "council"
    assert event.data["priorities"] == ["Prostate MR", "Stroke CT"]


def test_an_empty_list_is_refused_and_nothing_stored(council, current_list):
    response = council.post(URL, _post([("", ""), ("", "")]))
    assert response.status_code == 200
    assert "at least one priority" in response.content.decode()
    assert PriorityList.objects.count() == 1


def test_a_description_without_a_title_is_refused(council):
    response = council.post(URL, _post([("", "What is it?")]))
    assert "needs a title" in response.content.decode()
    assert not PriorityList.objects.exists()


def test_hostile_titles_are_escaped(council):
    council.post(URL, _post([("<script>alert(1)</script>", "")]))
    page = Client().get("/priorities/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_only_the_council_and_staff_may_record(django_user_model, staff_client):
    assert Client().get(URL).status_code == 302  # sign in first
    member = django_user_model.objects.create_user("member", "m@example.org", "pw-member-1")
    other = Client()
    other.force_login(member)
    assert other.get(URL).status_code == 404
    assert other.post(URL, _post([("Stroke CT", "")])).status_code == 404
    assert not PriorityList.objects.exists()
    assert "Record a new priority list" not in other.get("/priorities/").content.decode()
    assert staff_client.get(URL).status_code == 200
