"""The demo's staff login, as `make run` prints it, signs in through allauth with two-factor
authentication and reaches the admin."""

import re

import pytest

from aidahub.web.accounts.totp import current_code
from aidahub.web.audit.models import AuditEvent
from aidahub.web.register import demo

pytestmark = pytest.mark.django_db


def test_printed_demo_login_reaches_the_admin(client):
    lines = []
    demo.ensure_staff_login(lines.append)
    printed = "\n".join(lines)
    password = re.search(r"Staff login: \S+ / (\S+) at ", printed).group(1)
    email = re.search(r"e-mail address (\S+) and that password", printed).group(1)
    secret = re.search(r"Two-factor secret: ([A-Z2-7]+) ", printed).group(1)
    assert "use any TOTP app with this secret" in printed

    login = client.get("/admin/")["Location"]
    login = client.get(login)["Location"]  # the admin's sign-in is allauth's
    response = client.post(login, {"login": email, "password": password})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    response = client.post(response["Location"], {"code": current_code(secret)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_demo_staff_second_factor_is_made_once():
    first, second = [], []
    demo.ensure_staff_login(first.append)
    events = AuditEvent.objects.count()
    demo.ensure_staff_login(second.append)
    secret = [line for line in first if "Two-factor secret" in line]
    assert secret and secret == [line for line in second if "Two-factor secret" in line]
    assert AuditEvent.objects.count() == events
