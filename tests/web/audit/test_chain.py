import pytest
from django.db import connection

from aidahub.web.audit.models import AppendOnlyError, AuditEvent
from aidahub.web.audit.services import record, verify_chain

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
