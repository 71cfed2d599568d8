"""``audit_report``: the last day's irregularities, printed or e-mailed to staff."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from aidahub.web.audit.models import AuditEvent
from tests.web.audit.events import event

pytestmark = pytest.mark.django_db


def report(*args) -> str:
    out = io.StringIO()
    call_command("audit_report", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def failed_sign_ins():
    now = timezone.now()
    for n in range(5):
        event(
            "accounts.login_failed",
            ip="192.0.2.9",
            data={"email": "target@uni.example.org"},
            when=now - dt.timedelta(minutes=n),
        )
    # Two days ago: outside the last day.
    for n in range(5):
        event(
            "accounts.login_failed",
            data={"email": "old@uni.example.org"},
            when=now - dt.timedelta(days=2, minutes=n),
        )


def test_without_email_it_prints_the_findings(failed_sign_ins, mailoutbox):
    out = report()
    assert "irregularities from " in out and ": 1" in out
    assert "Repeated failed sign-ins" in out
    assert "5 failed sign-ins for target@uni.example.org" in out
    assert "old@" not in out
    assert mailoutbox == []
    assert "5 failed sign-ins for old@uni.example.org" in report("--days", "3")


def test_with_email_staff_get_the_findings(
    failed_sign_ins,
    staff_user,
    member,
    django_user_model,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    django_user_model.objects.create_user(
        "former", "former@hub.example.org", "pw-former-1", is_staff=True, is_active=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        out = report("--email")
    assert out == "1 finding(s) sent to 1 staff\n"
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["director@hub.example.org"]
    assert mail.subject.endswith("1 irregularity in the audit trail")
    assert "5 failed sign-ins for target@uni.example.org" in mail.body
    assert "&" not in mail.body.split("http")[0]  # plain text, not HTML-escaped
    today = timezone.localdate()
    assert f"/staff/audit/irregularities/?since={today - dt.timedelta(days=1)}" in mail.body
    sent = AuditEvent.objects.get(action="audit.report.sent")
    assert sent.data["recipients"] == 1 and sent.data["findings"] == 1


def test_nothing_to_report_sends_nothing_unless_asked(
    staff_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        out = report("--email")
    assert out.startswith("no irregularities from ") and mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        report("--email", "--always")
    assert len(mailoutbox) == 1
    assert "Nothing was found." in mailoutbox[0].body
    assert mailoutbox[0].subject.endswith("0 irregularities in the audit trail")


def test_no_staff_address_is_an_error(failed_sign_ins):
    with pytest.raises(CommandError, match="no active staff"):
        report("--email")
    with pytest.raises(CommandError, match="--days"):
        report("--days", "0")
