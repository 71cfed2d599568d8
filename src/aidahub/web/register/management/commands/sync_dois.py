"""``aidahub manage sync_dois``: send DataCite every DOI not yet as the register says."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from aidahub.web.register.doi_selectors import minting_enabled
from aidahub.web.register.doi_services import retry_pending_dois


class Command(BaseCommand):
    help = (
        "Retry minting: reserve, register, publish or hide each DOI at DataCite whose state "
        "differs from the register's or whose last attempt failed. DOIs that failed "
        "AIDAHUB_DATACITE_MAX_ATTEMPTS times in a row are skipped unless --force is given. "
        "Meant to run from cron, for example every 15 minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Also retry DOIs whose automatic retries have stopped.",
        )

    def handle(self, *args, **options):
        if not minting_enabled():
            self.stdout.write(
                "not minted: no DataCite credentials configured "
                "(set AIDAHUB_DATACITE_USERNAME and AIDAHUB_DATACITE_PASSWORD)"
            )
            return
        results = retry_pending_dois(force=options["force"])
        for result in results:
            line = f"{result.outcome:8} {result.doi} ({result.state})"
            self.stdout.write(f"{line}: {result.detail}" if result.detail else line)
        failed = sum(r.outcome == "failed" for r in results)
        self.stdout.write(f"{len(results) - failed} of {len(results)} DOIs sent")
        if failed:
            raise CommandError(f"{failed} DOI(s) failed; staff see why in the admin")
