"""Walk the audit trail and say precisely where, if anywhere, it was tampered with.

The walk streams the events in id order (the order they were appended), keeping only the
event before, so it runs in constant memory over millions of rows. Each row is checked
twice: its contents against its own hash (an edited row), and its ``prev_hash`` against the
row before it (a deleted or moved row). Only where a link is broken is the database asked
which event the row really follows, which tells a gap from a reordering. The chain head
catches newest events that were removed, unless whoever removed them also fixed up the
head: only an anchor kept elsewhere (``aidahub manage audit_anchor``) catches that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from aidahub.web.audit.hashing import GENESIS, STORED_FIELDS, hash_matches
from aidahub.web.audit.models import AuditEvent, ChainHead

__all__ = ["Anchor", "AnchorCheck", "Kind", "Problem", "Report", "parse_anchors", "verify"]

_HASH = re.compile(r"^[0-9a-f]{64}$")


class Kind(StrEnum):
    EDITED = "edited"
    DELETED = "deleted"
    REORDERED = "reordered"
    HEAD = "head"
    ANCHOR = "anchor"


@dataclass(frozen=True)
class Problem:
    kind: Kind
    event_id: int | None
    message: str


@dataclass(frozen=True)
class Anchor:
    """A head hash written down elsewhere, with the event count it had then, if known."""

    hash: str
    count: int | None = None


@dataclass(frozen=True)
class AnchorCheck:
    anchor: Anchor
    event_id: int | None
    position: int | None

    @property
    def found(self) -> bool:
        return self.position is not None


@dataclass
class Report:
    count: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    anchors: list[AnchorCheck] = field(default_factory=list)
    keep: int = 1000

    @property
    def intact(self) -> bool:
        return self.problem_count == 0

    def add(self, kind: Kind, event_id: int | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.keep:
            self.problems.append(Problem(kind, event_id, message))


def parse_anchors(values: Iterable[str]) -> list[Anchor]:
    """Anchors as given on the command line.

    Each value is a hash, a comma-separated list of hashes, a line printed by
    ``audit_anchor`` (``<hash> <count> <time>``) or its ``--json`` object.
    """
    anchors: list[Anchor] = []
    for value in values:
        value = value.strip()
        if value.startswith("{"):
            try:
                obj = json.loads(value)
                pieces = [f"{obj['hash']} {obj.get('count', '')}"]
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"not an anchor: {value!r}") from exc
        else:
            pieces = value.split(",")
        for piece in pieces:
            tokens = piece.split()
            if not tokens:
                continue
            digest = tokens[0].lower()
            count = tokens[1] if len(tokens) > 1 else ""
            if not _HASH.match(digest) or (count and not count.isdigit()):
                raise ValueError(
                    f"not an anchor: {piece.strip()!r} (expected a 64-character hex hash, "
                    "optionally followed by the event count and time)"
                )
            anchors.append(Anchor(digest, int(count) if count else None))
    return anchors


def _id_with_hash(digest: str) -> int | None:
    return AuditEvent.objects.filter(hash=digest).values_list("id", flat=True).first()


def _check_link(report: Report, row: dict, prev_id: int | None) -> None:
    """Say why *row* does not follow the row before it (*prev_id*, None at the start)."""
    rid = row["id"]
    follows = _id_with_hash(row["prev_hash"])
    if follows is not None:
        before = f"the event before it (event {prev_id})" if prev_id else "the start of the chain"
        report.add(
            Kind.REORDERED,
            rid,
            f"event {rid}: does not follow {before} but event {follows}: rows are out of order",
        )
    elif prev_id is None:
        report.add(
            Kind.DELETED,
            rid,
            f"event {rid}: does not follow the start of the chain: "
            f"the events before event {rid} were deleted",
        )
    elif row["prev_hash"] == GENESIS:
        report.add(
            Kind.HEAD,
            rid,
            f"event {rid}: does not follow the event before it (event {prev_id}) but starts a "
            "new chain: it was written after the chain head was lost or reset",
        )
    else:
        report.add(
            Kind.DELETED,
            rid,
            f"event {rid}: does not follow the event before it (event {prev_id}); the event "
            f"it follows is gone: events between event {prev_id} and event {rid} were "
            f"deleted, or event {prev_id} was rewritten with a new hash",
        )


def _check_head(report: Report, head: dict | None, head_at: tuple[int, int] | None) -> None:
    """Compare the chain head read before the walk with where the walk found it."""
    if head is None:
        if report.count:
            report.add(
                Kind.HEAD,
                None,
                f"the chain head is missing, so nothing says how many of the {report.count} "
                "events there should be",
            )
        return
    if head_at is None:
        if head["last_hash"] == GENESIS and head["count"] == 0 and not report.count:
            return
        last = f"event {report.last_id} (#{report.count})" if report.count else "none"
        report.add(
            Kind.HEAD,
            None,
            f"the newest events are missing: the chain head names {head['last_hash']} as event "
            f"#{head['count']}, but no event has that hash; the last event left is {last}",
        )
        return
    head_id, position = head_at
    if position != head["count"]:
        report.add(
            Kind.HEAD,
            head_id,
            f"the chain head counts {head['count']} events up to event {head_id}, but it is "
            f"event #{position}: events before it were deleted or added",
        )
    if position < report.count:
        # Rows after the head we started from: appended while we walked, or written around
        # record(). The head now tells which.
        now = ChainHead.objects.filter(pk=1).values_list("last_hash", flat=True).first()
        now_id = _id_with_hash(now) if now else None
        if now_id is None or now_id < (report.last_id or 0):
            after = now_id if now_id is not None else head_id
            report.add(
                Kind.HEAD,
                after,
                f"events after event {after} up to event {report.last_id} were written "
                "without moving the chain head",
            )


def _check_anchors(report: Report, anchors: list[Anchor], found: dict[str, tuple[int, int]]):
    for anchor in anchors:
        event_id, position = found.get(anchor.hash, (None, None))
        if anchor.hash == GENESIS:
            event_id, position = None, 0
        report.anchors.append(AnchorCheck(anchor, event_id, position))
        if position is None:
            report.add(
                Kind.ANCHOR,
                None,
                f"anchor {anchor.hash} is no longer in the chain: the newest events were "
                "truncated or rewritten since the anchor was taken",
            )
        elif anchor.count is not None and anchor.count != position:
            report.add(
                Kind.ANCHOR,
                event_id,
                f"anchor {anchor.hash} was event #{anchor.count} when taken but is event "
                f"#{position} now: events before it were deleted or added",
            )


def verify(anchors: Iterable[Anchor] = (), *, chunk_size: int = 2000, keep: int = 1000) -> Report:
    """Check the whole chain, and that each anchor is still in it at its position.

    At most *keep* problems are kept with their messages; ``problem_count`` counts all.
    """
    anchors = list(anchors)
    wanted = {anchor.hash for anchor in anchors}
    found: dict[str, tuple[int, int]] = {}
    # Read before the walk: events appended while we walk come after it.
    head = ChainHead.objects.filter(pk=1).values("last_hash", "count").first()
    head_at: tuple[int, int] | None = None
    report = Report(keep=keep)
    rows = AuditEvent.objects.order_by("id").values(*STORED_FIELDS)
    for row in rows.iterator(chunk_size=chunk_size):
        report.count += 1
        if row["prev_hash"] != report.last_hash:
            _check_link(report, row, report.last_id)
        if not hash_matches(row):
            report.add(Kind.EDITED, row["id"], f"event {row['id']}: contents do not match its hash")
        if row["hash"] in wanted:
            found[row["hash"]] = (row["id"], report.count)
        if head is not None and row["hash"] == head["last_hash"]:
            head_at = (row["id"], report.count)
        report.last_id, report.last_hash = row["id"], row["hash"]
    _check_head(report, head, head_at)
    _check_anchors(report, anchors, found)
    return report
