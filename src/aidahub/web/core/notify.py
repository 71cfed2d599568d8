"""E-mail notifications from templates.

Each notification is three templates under ``templates/email/``: ``<name>_subject.txt``
(one line), ``<name>.txt`` (the plain body) and, optionally, ``<name>.html``. The console
backend prints mail in development; ``AIDAHUB_EMAIL_HOST`` switches to SMTP. Sending happens
after the transaction commits, so a rolled-back change never announces itself, and a mail
server that is down is logged, never turned into an error page.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

__all__ = ["render", "send"]


def _context(context: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "HUB_NAME": settings.HUB_NAME,
        "BASE_URL": settings.BASE_URL,
        "DATA_DIRECTOR_EMAIL": settings.DATA_DIRECTOR_EMAIL,
        **(context or {}),
    }


def render(name: str, context: dict[str, Any] | None = None) -> EmailMultiAlternatives:
    """Build the message for template *name* (without recipients)."""
    ctx = _context(context)
    subject = render_to_string(f"email/{name}_subject.txt", ctx)
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split())
    body = render_to_string(f"email/{name}.txt", ctx)
    message = EmailMultiAlternatives(subject=subject, body=body)
    with contextlib.suppress(TemplateDoesNotExist):  # the HTML part is optional
        message.attach_alternative(render_to_string(f"email/{name}.html", ctx), "text/html")
    return message


def _deliver(message: EmailMultiAlternatives) -> None:
    try:
        message.send()
    except OSError:
        logger.exception("notification %r to %s could not be sent", message.subject, message.to)


def send(name: str, to: Iterable[str], context: dict[str, Any] | None = None) -> None:
    """Send notification *name* to *to* once the current transaction commits."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return
    message = render(name, context)
    message.to = recipients
    transaction.on_commit(lambda: _deliver(message))
