import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from aidahub.web.audit.hashing import GENESIS, event_hash
from aidahub.web.audit.models import AppendOnlyError, AuditEvent, ChainHead
from aidahub.web.audit.services import record, verify_chain
from tests.web.audit.events import request_from, sql

TABLE = AuditEvent._meta.db_table


@pytest.mark.django_db
def test_events_form_an_intact_chain(staff_user):
    for n in range(5):
        record("test.thing.touch", actor=staff_user, data={"n": n})
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.data["n"] for e in events] == [0, 1, 2, 3, 4]
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    assert events[0].actor_label == "director"
    assert verify_chain() == []


@pytest.mark.django_db
def test_events_cannot_be_changed_or_deleted_through_the_orm():
    event = record("test.thing.touch")
    event.action = "test.thing.other"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


@pytest.mark.django_db
def test_tampering_with_a_row_is_detected():
    for n in range(3):
        record("test.thing.touch", data={"n": n})
    middle = AuditEvent.objects.order_by("id")[1]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET action = %s WHERE id = %s",  # noqa: S608
            ["test.thing.forged", middle.pk],
        )
    problems = verify_chain()
    assert problems == [f"event {middle.pk}: contents do not match its hash"]


@pytest.mark.django_db
def test_deleting_a_row_is_detected():
    for n in range(3):
        record("test.thing.touch", data={"n": n})
    first = AuditEvent.objects.order_by("id").first()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [first.pk])  # noqa: S608
    assert any("does not follow" in p for p in verify_chain())


# --- Request details, the head row and the second guard -------------------------------


@pytest.mark.django_db
def test_record_fills_in_and_hashes_the_request_details(staff_user):
    request = request_from(
        "2001:DB8:0:0::1",
        staff_user,
        path="/datasets/x/" + "p" * 2000 + "?token=secret",
        HTTP_USER_AGENT="Browser/1.0 " + "u" * 1000,
        HTTP_X_REQUEST_ID="req-42\n<script>",
    )
    event = record("test.thing.touch", request=request)
    event.refresh_from_db()
    assert event.actor_id == staff_user.pk and event.actor_label == "director"
    assert event.request_method == "GET"
    assert event.request_path.startswith("/datasets/x/p") and len(event.request_path) == 1000
    assert "secret" not in event.request_path
    assert event.user_agent.startswith("Browser/1.0") and len(event.user_agent) == 500
    assert event.request_id == "req-42script"
    assert event.request_ip == "2001:db8::1"
    assert verify_chain() == []
    sql("UPDATE {table} SET request_path = %s WHERE id = %s", ["/elsewhere/", event.pk])
    assert verify_chain() == [f"event {event.pk}: contents do not match its hash"]


@pytest.mark.django_db
def test_events_without_request_details_keep_the_original_hash():
    """Events written before the request columns existed still verify."""
    event = record("test.thing.touch", data={"n": 1})
    fields = {
        "created_at": event.created_at.isoformat(),
        "actor_id": None,
        "actor_label": "system",
        "action": "test.thing.touch",
        "object_type": "",
        "object_id": "",
        "object_repr": "",
        "data": {"n": 1},
        "request_ip": None,
    }
    assert event.hash == event_hash(GENESIS, fields)
    sql("UPDATE {table} SET request_method = %s WHERE id = %s", ["POST", event.pk])
    assert verify_chain() == [f"event {event.pk}: contents do not match its hash"]


@pytest.mark.django_db
def test_anonymous_requests_and_hostile_text_are_recorded():
    request = request_from("198.51.100.7", path="/a\x00b/", HTTP_USER_AGENT="x\x00y")
    event = record("security.denied", request=request, data={"path": "/a\x00b/", "k\x00": ["\x00"]})
    event.refresh_from_db()
    assert event.actor_id is None and event.actor_label == "anonymous"
    assert event.request_path == "/a\ufffdb/" and event.user_agent == "x\ufffdy"
    assert event.data == {"path": "/a\ufffdb/", "k\ufffd": ["\ufffd"]}
    assert verify_chain() == []


@pytest.mark.django_db
def test_an_event_at_a_given_time_is_stored_in_utc_and_verifies():
    stockholm = dt.timezone(dt.timedelta(hours=1))
    event = record("test.imported", at=dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=stockholm))
    event.refresh_from_db()
    assert event.created_at == dt.datetime(2024, 1, 2, 2, 4, 5, 6, tzinfo=dt.UTC)
    assert verify_chain() == []
    with pytest.raises(ValueError, match="aware"):
        record("test.imported", at=dt.datetime(2024, 1, 2))


@pytest.mark.django_db
def test_deleting_a_user_keeps_their_events_and_the_chain(django_user_model):
    user = django_user_model.objects.create_user("leaver", "leaver@example.org", "pw-leaver-1")
    event, user_id = record("test.thing.touch", actor=user), user.pk
    user.delete()
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor_id == user_id and event.actor_label == "leaver"
    assert verify_chain() == []


@pytest.mark.django_db
def test_an_event_inside_a_rolled_back_transaction_leaves_no_trace():
    record("test.thing.kept")
    head = ChainHead.objects.get(pk=1)
    with pytest.raises(RuntimeError), transaction.atomic():
        record("test.thing.rolled_back")
        raise RuntimeError
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["test.thing.kept"]
    assert ChainHead.objects.get(pk=1).last_hash == head.last_hash
    record("test.thing.after")
    assert verify_chain() == []


@pytest.mark.django_db
def test_the_migration_creates_the_head_and_a_lost_head_is_rebuilt():
    assert ChainHead.objects.filter(pk=1).exists()
    first = record("test.thing.touch")
    ChainHead.objects.all().delete()
    second = record("test.thing.touch")
    assert second.prev_hash == first.hash
    assert ChainHead.objects.get(pk=1).count == 2
    assert verify_chain() == []


@pytest.mark.django_db
def test_two_events_cannot_follow_the_same_event():
    """The unique prev_hash is the second guard against a forked chain."""
    first = record("test.thing.touch")
    with pytest.raises(IntegrityError), transaction.atomic():
        sql(
            "INSERT INTO {table} (created_at, actor_label, action, object_type, object_id, "
            "object_repr, data, request_method, request_path, user_agent, request_id, "
            "prev_hash, hash) VALUES (%s, '', 'x', '', '', '', '{{}}', '', '', '', '', %s, %s)",
            [first.created_at, first.prev_hash, "f" * 64],
        )
