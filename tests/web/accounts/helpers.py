"""People and sign-ins for the accounts tests, through allauth's real views."""

from __future__ import annotations

import re
import time

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model

from aidahub.web.accounts.totp import current_code

PASSWORD = "a-long-test-password"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def make_person(email="researcher@uni.example.org", *, staff=False, totp=False, verified=True):
    user = get_user_model().objects.create_user(
        email.split("@")[0], email, PASSWORD, is_staff=staff, is_superuser=staff
    )
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    if totp:
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": TOTP_SECRET}
        )
    return user


def sign_in(client, email, password=PASSWORD, *, secret=None, **extra):
    """Sign in through allauth's form (and its two-factor step when *secret* is given)."""
    response = client.post("/accounts/login/", {"login": email, "password": password}, **extra)
    if secret is not None and response.get("Location", "").startswith(
        "/accounts/2fa/authenticate/"
    ):
        response = client.post(
            "/accounts/2fa/authenticate/", {"code": current_code(secret)}, **extra
        )
    return response


def wrong_code(secret=TOTP_SECRET) -> str:
    """A six-digit code the authenticator app would not show in the accepted window."""
    now = time.time()
    valid = {current_code(secret, at=now + step) for step in (-60, -30, 0, 30, 60)}
    return next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in valid)


def reauthenticate(client, password=PASSWORD):
    """Enter the password again, as allauth asks before two-factor changes."""
    response = client.post("/accounts/reauthenticate/", {"password": password})
    assert response.status_code == 302, response
    return response


def link_in(mail, pattern=r"https?://\S+") -> str:
    """The first address in the mail's body matching *pattern*."""
    match = re.search(pattern, mail.body)
    assert match, mail.body
    return match.group(0)
