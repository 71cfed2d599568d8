"""``aidahub manage audit_report``: the irregularities of the last day, printed or e-mailed."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from aidahub.web.audit.irregularities import Period, find_irregularities
from aidahub.web.audit.selectors import staff_emails
from aidahub.web.audit.services import record
from aidahub.web.core import notify

TEMPLATE = "audit_irregularities"


class Command(BaseCommand):
    help = (
        "Find the irregularities in the audit trail of the last day (or --days) and print "
        "them; with --email, send them to every active staff account instead. Nothing is "
        "sent when there is nothing to report, unless --always is given. Meant to run from "
        "cron once a day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", action="store_true", help="E-mail the report to staff.")
        parser.add_argument(
            "--always", action="store_true", help="With --email: send even when nothing is found."
        )
        parser.add_argument("--days", type=int, default=1, help="Days to look back (default 1).")

    def handle(self, *args, **options):
        if options["days"] < 1:
            raise CommandError("--days must be at least 1")
        report = find_irregularities(Period.last(dt.timedelta(days=options["days"])))
        if not options["email"]:
            self._print(report)
            return
        recipients = staff_emails()
        if not recipients:
            raise CommandError("no active staff account has an e-mail address")
        if not report and not options["always"]:
            self.stdout.write(f"no irregularities from {report.period}; nothing sent")
            return
        since = timezone.localdate(report.period.start)
        until = timezone.localdate(report.period.end)
        url = f"{reverse('audit:irregularities')}?since={since}&until={until}"
        context = {"report": report, "url": url}
        with transaction.atomic():
            notify.send(TEMPLATE, recipients, context)
            record(
                "audit.report.sent",
                data={
                    "recipients": len(recipients),
                    "findings": report.total,
                    "start": report.period.start.isoformat(),
                    "end": report.period.end.isoformat(),
                },
            )
        self.stdout.write(f"{report.total} finding(s) sent to {len(recipients)} staff")

    def _print(self, report) -> None:
        self.stdout.write(f"irregularities from {report.period}: {report.total}")
        for section in report.sections:
            if section.findings:
                self.stdout.write(f"\n{section.title}")
                for finding in section.findings:
                    self.stdout.write(f"  - {finding.describe()}")
