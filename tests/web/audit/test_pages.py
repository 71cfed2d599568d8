"""The staff pages: who may open them, filters, pages, one event, CSV and the report."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone

from aidahub.web.audit import selectors
from aidahub.web.audit.models import AuditEvent
from aidahub.web.audit.services import record
from tests.web.audit.events import at, event, sql

pytestmark = pytest.mark.django_db

LOG = "/staff/audit/"
EXPORT = "/staff/audit/export.csv"
IRREGULARITIES = "/staff/audit/irregularities/"


@pytest.fixture
def some_event():
    return record("test.thing.touch", data={"n": 1})


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def users(django_user_model, staff_user, member):
    plain_superuser = django_user_model.objects.create_user(
        "root", "root@example.org", "pw-root-1234", is_superuser=True
    )
    inactive_staff = django_user_model.objects.create_user(
        "gone", "gone@example.org", "pw-gone-1234", is_staff=True, is_active=False
    )
    return {
        "anonymous": None,
        "member": member,
        "superuser, not staff": plain_superuser,
        "inactive staff": inactive_staff,
        "staff": staff_user,
    }


EXPECTED = {
    "anonymous": "login",
    "inactive staff": "login",  # an inactive account's session is no session
    "member": 404,
    "superuser, not staff": 404,
    "staff": 200,
}


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("url", [LOG, EXPORT, IRREGULARITIES, "event"])
def test_only_active_staff_open_the_audit_pages(users, some_event, role, url):
    url = f"{LOG}{some_event.pk}/" if url == "event" else url
    response = _client(users[role]).get(url)
    expected = EXPECTED[role]
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    else:
        assert response.status_code == expected


def test_a_refusal_is_recorded(member):
    _client(member).get(LOG + "?actor=director")
    denied = AuditEvent.objects.get(action="security.denied")
    assert denied.actor_id == member.pk
    assert denied.data == {"path": LOG, "missing": ["staff"]}
    assert denied.request_method == "GET" and denied.request_ip == "127.0.0.1"


def test_the_log_lists_newest_first_and_reading_it_is_recorded(staff_client):
    for n in range(3):
        record("test.thing.touch", data={"n": n})
    response = staff_client.get(LOG)
    assert response.status_code == 200
    ids = [e.pk for e in response.context["page"].events]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    assert b"<svg" in response.content and b'role="img"' in response.content
    view = AuditEvent.objects.order_by("id").last()
    assert view.action == "audit.log.view" and view.actor_label == "director"
    assert view.data == {"filters": {}}


def test_filters(staff_client, staff_user, member):
    dataset_like = member  # any model instance will do as the object
    mine = event("organizations.consortium.view", actor=member, ip="192.0.2.5", obj=dataset_like)
    event("organizations.membership.add", actor=staff_user, ip="192.0.2.6")
    event("accounts.login", actor=member, ip="192.0.2.5")
    old = event("accounts.logout", actor=member, when=at(2024, 5, 1, 21, 30))  # 23:30 local

    def listed(query):
        response = staff_client.get(LOG + query)
        assert response.status_code == 200, response.content
        return [e.action for e in response.context["page"].events]

    assert listed("?actor=member&action=organizations.") == ["organizations.consortium.view"]
    assert listed(f"?object_type=auth.user&object_id={member.pk}") == [mine.action]
    assert listed("?ip=192.0.2.5") == ["accounts.login", "organizations.consortium.view"]
    assert listed("?since=2024-05-01&until=2024-05-01") == [old.action]
    assert listed("?since=2024-05-02&until=2024-05-31") == []
    recorded = AuditEvent.objects.filter(action="audit.log.view").order_by("id").first()
    assert recorded.data == {"filters": {"actor": "member", "action": "organizations."}}


def test_a_wrong_filter_is_explained(staff_client):
    response = staff_client.get(LOG + "?ip=not-an-ip&since=2025-02-01&until=2025-01-01")
    assert response.status_code == 400
    assert response.context["page"].events == []
    assert "Enter a valid IPv4 or IPv6 address." in response.content.decode()
    assert "The first day must not come after the last." in response.content.decode()


def test_pages_of_fifty_with_cursors(staff_client):
    ids = [record("test.thing.touch", data={"n": n}).pk for n in range(120)]
    first = selectors.event_page(AuditEvent.objects.all())
    assert [e.pk for e in first.events] == ids[::-1][:50]
    assert first.newer is None and first.older == ids[70]
    second = selectors.event_page(AuditEvent.objects.all(), before=first.older)
    assert [e.pk for e in second.events] == ids[::-1][50:100]
    assert (second.newer, second.older) == (ids[69], ids[20])
    third = selectors.event_page(AuditEvent.objects.all(), before=second.older)
    assert [e.pk for e in third.events] == ids[19::-1] and third.older is None
    back = selectors.event_page(AuditEvent.objects.all(), after=third.newer)
    assert [e.pk for e in back.events] == [e.pk for e in second.events]

    response = staff_client.get(LOG + "?action=test.")
    html = response.content.decode()
    assert f"?action=test.&amp;before={ids[70]}" in html and "Newer" not in html
    response = staff_client.get(f"{LOG}?action=test.&before={ids[70]}")
    assert [e.pk for e in response.context["page"].events] == ids[::-1][50:100]
    assert f"after={ids[69]}" in response.content.decode()
    assert staff_client.get(LOG + "?before=x").status_code == 200  # a bad cursor is ignored


def test_an_event_page_shows_data_escaped_and_its_links(staff_client, member):
    first = record("test.thing.touch")
    hostile = record(
        "accounts.login_failed",
        data={"email": "<script>alert(1)</script>@example.org", "note": "å"},
    )
    third = record("test.thing.touch")
    html = staff_client.get(f"{LOG}{hostile.pk}/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@example.org" in html
    assert "&quot;note&quot;: &quot;å&quot;" in html  # pretty-printed, not ASCII-escaped
    assert hostile.hash in html and hostile.prev_hash in html
    assert f'href="{LOG}{first.pk}/" rel="prev"' in html
    assert f'href="{LOG}{third.pk}/" rel="next"' in html
    assert "contents match the hash" in html
    viewed = AuditEvent.objects.filter(action="audit.event.view").get()
    assert (viewed.object_type, viewed.object_id) == ("audit.auditevent", str(hostile.pk))

    sql("UPDATE {table} SET action = %s WHERE id = %s", ["test.thing.forged", first.pk])
    assert (
        "contents do not match the hash" in staff_client.get(f"{LOG}{first.pk}/").content.decode()
    )
    assert staff_client.get(f"{LOG}999999/").status_code == 404


def test_the_csv_export_is_the_filtered_log_oldest_first(staff_client, member):
    event("accounts.login", actor=member, ip="192.0.2.5", data={"user_agent": "=HYPERLINK(1)"})
    event("accounts.logout", actor=member, ip="192.0.2.5")
    event("accounts.login", actor=member, ip="192.0.2.7")
    response = staff_client.get(EXPORT + "?ip=192.0.2.5")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["action"] for r in rows] == ["accounts.login", "accounts.logout"]
    assert rows[0]["actor_label"] == "member" and rows[0]["request_ip"] == "192.0.2.5"
    assert rows[0]["data"] == '{"user_agent": "=HYPERLINK(1)"}'
    assert rows[0]["hash"] == AuditEvent.objects.get(pk=rows[0]["id"]).hash
    export = AuditEvent.objects.get(action="audit.log.export")
    assert export.data == {"filters": {"ip": "192.0.2.5"}}


def test_a_cell_that_looks_like_a_formula_is_defused(staff_client):
    event("=cmd|' /C calc'!A0", ip="192.0.2.5")
    response = staff_client.get(EXPORT + "?action==cmd")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["action"] == "'=cmd|' /C calc'!A0"


def test_the_irregularities_page(staff_client, settings, member):
    settings.AUDIT_DOWNLOADS_PER_DAY = 2
    for _n in range(3):
        event("sharing.file.download", actor=member, ip="192.0.2.5")
    response = staff_client.get(IRREGULARITIES)
    assert response.status_code == 200
    report = response.context["report"]
    today = timezone.localdate()
    assert report.period.start == dt.datetime.combine(
        today - dt.timedelta(days=29), dt.time(), timezone.get_default_timezone()
    )
    assert [(f.who, f.count) for f in report.downloads] == [("member", 3)]
    html = response.content.decode()
    assert "More than 2 downloads" in html and "00:00–05:59" in html
    assert f"?actor=member&amp;since={today}&amp;until={today}" in html
    viewed = AuditEvent.objects.get(action="audit.irregularities.view")
    assert viewed.data == {"since": str(today - dt.timedelta(days=29)), "until": str(today)}

    assert (
        staff_client.get(IRREGULARITIES + "?since=2020-01-01&until=2025-01-01").status_code == 400
    )
    assert staff_client.get(IRREGULARITIES + "?since=yesterday").status_code == 400


def test_the_admin_list_links_to_the_pages(staff_client):
    html = staff_client.get("/admin/audit/auditevent/").content.decode()
    assert f'href="{LOG}"' in html and f'href="{IRREGULARITIES}"' in html


def test_an_event_of_a_deleted_account_still_opens(staff_client, django_user_model):
    leaver = django_user_model.objects.create_user("leaver", "leaver@example.org", "pw-leaver-1")
    gone = record("test.thing.touch", actor=leaver)
    leaver.delete()
    assert staff_client.get(f"{LOG}{gone.pk}/").status_code == 200
    assert staff_client.get(f"/admin/audit/auditevent/{gone.pk}/change/").status_code == 200
    assert "leaver" in staff_client.get(LOG).content.decode()
