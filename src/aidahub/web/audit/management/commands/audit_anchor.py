"""``aidahub manage audit_anchor``: the chain head to keep somewhere else."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from aidahub.web.audit.hashing import GENESIS
from aidahub.web.audit.models import AuditEvent, ChainHead


class Command(BaseCommand):
    help = (
        "Print the audit trail's newest hash with the number of events and the newest "
        "event's time: '<hash> <count> <time>'. Keep it outside the hub's database (print "
        "it, e-mail it, paste it in a ticket); verify_audit --anchor '<that line>' later "
        "proves no event up to it has been removed or rewritten since."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print a JSON object instead.")

    def handle(self, *args, **options):
        head = ChainHead.objects.filter(pk=1).values("last_hash", "count").first()
        if head is None:
            if AuditEvent.objects.exists():
                raise CommandError("the chain head is missing: run verify_audit")
            head = {"last_hash": GENESIS, "count": 0}
        newest = (
            AuditEvent.objects.filter(hash=head["last_hash"])
            .values_list("created_at", flat=True)
            .first()
        )
        if newest is None and head["last_hash"] != GENESIS:
            raise CommandError("no event has the chain head's hash: run verify_audit")
        time = newest.astimezone(dt.UTC).isoformat(timespec="seconds") if newest else "-"
        if options["json"]:
            anchor = {
                "hash": head["last_hash"],
                "count": head["count"],
                "time": time,
                "taken_at": timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
            }
            self.stdout.write(json.dumps(anchor))
        else:
            self.stdout.write(f"{head['last_hash']} {head['count']} {time}")
