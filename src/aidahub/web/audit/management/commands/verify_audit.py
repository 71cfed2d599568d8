"""``aidahub manage verify_audit``: prove the audit trail is intact, or say where it is not."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from aidahub.web.audit.verification import parse_anchors, verify


class Command(BaseCommand):
    help = (
        "Walk the audit trail in the order it was written and check every event against its "
        "hash and the event before it, and the newest against the chain head. Reports each "
        "edited, deleted or reordered event and missing newest events, and exits non-zero "
        "if there is any. --anchor checks that a head hash written down earlier (by "
        "audit_anchor) is still in the chain: the only way to notice newest events removed "
        "together with a fixed-up chain head."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="HASH",
            help=(
                "A hash printed by audit_anchor, optionally with its count and time as printed "
                "(quote it), or its --json output; repeat it or separate hashes with commas."
            ),
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=2000,
            help="Events read from the database at a time (default 2000).",
        )
        parser.add_argument(
            "--max-problems",
            type=int,
            default=100,
            help="Problems listed one by one; the rest are counted (default 100).",
        )

    def handle(self, *args, **options):
        try:
            anchors = parse_anchors(options["anchor"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        report = verify(
            anchors, chunk_size=max(options["chunk_size"], 1), keep=max(options["max_problems"], 0)
        )
        for problem in report.problems:
            self.stdout.write(f"{problem.kind.value}: {problem.message}")
        unlisted = report.problem_count - len(report.problems)
        if unlisted:
            self.stdout.write(f"... and {unlisted} more problems")
        for check in report.anchors:
            if check.found:
                where = f"event {check.event_id}" if check.event_id else "the start of the chain"
                self.stdout.write(
                    f"anchor {check.anchor.hash} is in the chain: {where} (#{check.position})"
                )
        if not report.intact:
            first = next((p.event_id for p in report.problems if p.event_id), None)
            at = f"; the first at event {first}" if first else ""
            raise CommandError(
                f"audit trail BROKEN: {report.problem_count} problem(s) in "
                f"{report.count} events{at}"
            )
        self.stdout.write(f"audit trail intact: {report.count} events, head {report.last_hash}")
