"""``verify_audit`` and ``audit_anchor`` against a trail tampered with in raw SQL."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aidahub.web.audit.hashing import GENESIS
from aidahub.web.audit.models import AuditEvent
from aidahub.web.audit.services import record
from tests.web.audit.events import sql

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain():
    """Six events; their ids in order."""
    return [record("test.thing.touch", data={"n": n}).pk for n in range(6)]


def verify(*args) -> tuple[bool, str]:
    """Run the command: (intact, everything it printed)."""
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def anchor(*args) -> str:
    out = io.StringIO()
    call_command("audit_anchor", *args, stdout=out)
    return out.getvalue().strip()


def test_an_untouched_chain_is_intact(chain):
    head = AuditEvent.objects.get(pk=chain[-1]).hash
    assert verify() == (True, f"audit trail intact: 6 events, head {head}\n")


def test_an_empty_trail_is_intact():
    assert verify() == (True, f"audit trail intact: 0 events, head {GENESIS}\n")


def test_an_edited_row_is_named(chain):
    sql("UPDATE {table} SET data = %s WHERE id = %s", ['{"n": 99}', chain[2]])
    intact, out = verify()
    assert not intact
    assert f"edited: event {chain[2]}: contents do not match its hash" in out
    assert out.count("event ") == 2  # the problem line and the summary
    assert f"audit trail BROKEN: 1 problem(s) in 6 events; the first at event {chain[2]}" in out


def test_a_deleted_middle_row_is_named_with_the_ids_around_the_gap(chain):
    sql("DELETE FROM {table} WHERE id = %s", [chain[3]])
    intact, out = verify()
    assert not intact
    assert (
        f"deleted: event {chain[4]}: does not follow the event before it (event {chain[2]}); "
        f"the event it follows is gone: events between event {chain[2]} and event {chain[4]} "
        "were deleted" in out
    )
    assert f"the chain head counts 6 events up to event {chain[5]}, but it is event #5" in out


def test_a_deleted_first_row_is_named(chain):
    sql("DELETE FROM {table} WHERE id = %s", [chain[0]])
    intact, out = verify()
    assert not intact
    assert f"the events before event {chain[1]} were deleted" in out


def test_swapped_rows_are_reported_as_out_of_order(chain):
    a, b = chain[2], chain[3]
    sql("UPDATE {table} SET id = %s WHERE id = %s", [-1, a])
    sql("UPDATE {table} SET id = %s WHERE id = %s", [a, b])
    sql("UPDATE {table} SET id = %s WHERE id = %s", [b, -1])
    intact, out = verify()
    assert not intact
    assert "edited" not in out  # every row still matches its own hash
    assert f"event {a}: does not follow the event before it (event {chain[1]}) but event {b}" in out
    assert f"event {b}: does not follow the event before it (event {a}) but event {chain[1]}" in out
    assert f"event {chain[4]}: does not follow the event before it (event {b}) but event {a}" in out
    assert out.count("rows are out of order") == 3


def test_a_missing_tail_is_caught_by_the_head(chain):
    sql("DELETE FROM {table} WHERE id >= %s", [chain[4]])
    intact, out = verify()
    assert not intact
    assert "the newest events are missing: the chain head names" in out
    assert f"the last event left is event {chain[3]} (#4)" in out


def test_a_missing_tail_with_a_fixed_up_head_is_caught_only_by_an_anchor(chain):
    taken, taken_json = anchor(), anchor("--json")
    digest, count, time = taken.split()
    assert (digest, count) == (AuditEvent.objects.get(pk=chain[-1]).hash, "6")
    assert time.endswith("+00:00")

    sql("DELETE FROM {table} WHERE id >= %s", [chain[4]])
    new_head = AuditEvent.objects.get(pk=chain[3]).hash
    sql("UPDATE audit_chainhead SET last_hash = %s, count = 4 WHERE id = 1", [new_head])

    assert verify()[0], "without the anchor the shortened chain looks whole"
    for given in (taken, digest, f"{GENESIS},{digest}", taken_json):
        intact, out = verify("--anchor", given)
        assert not intact, given
        assert f"anchor {digest} is no longer in the chain: the newest events were truncated" in out


def test_anchors_still_in_the_chain_pass(chain):
    old = anchor()
    record("test.thing.touch")
    intact, out = verify("--anchor", old, "--anchor", anchor("--json"))
    assert intact, out
    assert f"anchor {old.split()[0]} is in the chain: event {chain[-1]} (#6)" in out
    assert out.endswith(f"head {AuditEvent.objects.order_by('id').last().hash}\n")


def test_an_anchor_at_another_position_is_reported(chain):
    taken = anchor()
    sql("DELETE FROM {table} WHERE id = %s", [chain[0]])
    intact, out = verify("--anchor", taken)
    assert not intact
    assert "was event #6 when taken but is event #5 now" in out


def test_a_malformed_anchor_is_refused(chain):
    with pytest.raises(CommandError, match="not an anchor"):
        call_command("verify_audit", "--anchor", "abc123", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not an anchor"):
        call_command("verify_audit", "--anchor", f"{GENESIS} six", stdout=io.StringIO())


def test_events_written_around_the_head_are_reported(chain):
    last = AuditEvent.objects.get(pk=chain[-1])
    sql("UPDATE audit_chainhead SET last_hash = %s, count = 5 WHERE id = 1", [last.prev_hash])
    intact, out = verify()
    assert not intact
    assert (
        f"events after event {chain[4]} up to event {chain[5]} were written without moving "
        "the chain head" in out
    )


def test_many_problems_are_counted_beyond_the_listed_ones(chain):
    sql("UPDATE {table} SET action = %s", ["test.thing.forged"])
    intact, out = verify("--max-problems", "2")
    assert not intact
    assert out.count("edited: ") == 2
    assert "... and 4 more problems" in out
    assert "6 problem(s) in 6 events" in out


def test_anchor_json_names_the_head(chain):
    obj = json.loads(anchor("--json"))
    assert obj["hash"] == AuditEvent.objects.get(pk=chain[-1]).hash
    assert obj["count"] == 6
    assert set(obj) == {"hash", "count", "time", "taken_at"}
