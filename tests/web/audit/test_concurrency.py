"""Concurrent writers on PostgreSQL: the chain-head lock keeps the chain single.

SQLite serializes every write transaction by itself (the hub opens them IMMEDIATE), so
these tests only mean something where writers really run side by side.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, transaction

from aidahub.web.audit.models import AuditEvent, ChainHead
from aidahub.web.audit.services import record, verify_chain

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite runs one write transaction at a time anyway",
    ),
]

THREADS = 8
EVENTS = 50


def _in_thread(work, errors: list) -> threading.Thread:
    def run():
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    return threading.Thread(target=run)


def test_concurrent_writers_keep_one_unbroken_chain():
    start = threading.Barrier(THREADS)
    errors: list[Exception] = []

    def write(n):
        def work():
            start.wait()
            for i in range(EVENTS):
                record("test.concurrent.write", data={"thread": n, "i": i})

        return work

    threads = [_in_thread(write(n), errors) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert AuditEvent.objects.count() == THREADS * EVENTS
    assert ChainHead.objects.get(pk=1).count == THREADS * EVENTS
    links = Counter(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert links.most_common(1)[0][1] == 1, "two events follow the same event: a fork"
    assert verify_chain() == []
    written = Counter(AuditEvent.objects.values_list("data__thread", flat=True))
    assert written == {n: EVENTS for n in range(THREADS)}


def test_a_writer_waits_for_the_transaction_holding_the_chain():
    """Without the lock the second writer would read the old head and follow the same event.

    The first writer records inside an open transaction and holds it; the second must wait
    until it commits, and then follow the first writer's event.
    """
    record("test.concurrent.first")
    recorded, release, done = threading.Event(), threading.Event(), threading.Event()
    events: dict[str, AuditEvent] = {}
    errors: list[Exception] = []

    def holder():
        with transaction.atomic():
            events["holder"] = record("test.concurrent.holder")
            recorded.set()
            release.wait(10)

    def follower():
        recorded.wait(10)
        events["follower"] = record("test.concurrent.follower")
        done.set()

    threads = [_in_thread(holder, errors), _in_thread(follower, errors)]
    for thread in threads:
        thread.start()
    assert recorded.wait(10)
    assert not done.wait(1), "the second writer did not wait for the chain"
    release.set()
    for thread in threads:
        thread.join()

    assert errors == []
    assert events["follower"].prev_hash == events["holder"].hash
    assert verify_chain() == []
