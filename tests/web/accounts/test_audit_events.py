"""Sign-in, sign-up, e-mail, password and two-factor events reach the audit trail, through
allauth's real views."""

import json
import re

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model

from aidahub.web.accounts.totp import current_code
from aidahub.web.audit.models import AuditEvent
from tests.web.accounts.helpers import (
    PASSWORD,
    TOTP_SECRET,
    link_in,
    make_person,
    reauthenticate,
    sign_in,
    wrong_code,
)

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_password_sign_in_records_method_country_and_browser(client, settings):
    settings.COUNTRY_HEADER = "CF-IPCountry"
    user = make_person("person@uni.example.org")

    sign_in(client, "person@uni.example.org", HTTP_CF_IPCOUNTRY="se", HTTP_USER_AGENT=BROWSER)

    [event] = events("accounts.login")
    assert event.actor == user
    assert event.data["method"] == "password"
    assert event.data["country"] == "SE"
    assert event.data["user_agent"] == BROWSER
    assert event.data["mfa"] is False


def test_country_is_unknown_without_the_setting(client, settings):
    assert settings.COUNTRY_HEADER == ""
    make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org", HTTP_CF_IPCOUNTRY="SE")
    assert events("accounts.login")[0].data["country"] == ""


def test_two_factor_sign_in_is_one_login_event(client):
    make_person("person@uni.example.org", totp=True)
    sign_in(client, "person@uni.example.org", secret=TOTP_SECRET)
    [event] = events("accounts.login")
    assert event.data["method"] == "password"
    assert event.data["mfa"] is True


def test_failed_sign_in_keeps_the_address_and_never_the_password(client, settings):
    settings.COUNTRY_HEADER = "CF-IPCountry"
    make_person("person@uni.example.org")
    client.post(
        "/accounts/login/",
        {"login": "Person@uni.example.org", "password": "my-secret-guess-123"},
        HTTP_CF_IPCOUNTRY="NO",
        REMOTE_ADDR="192.0.2.44",
    )
    [event] = events("accounts.login_failed")
    assert event.data["email"].lower() == "person@uni.example.org"
    assert event.data["country"] == "NO"
    assert event.request_ip == "192.0.2.44"
    assert event.actor is None
    stored = json.dumps(event.data) + event.object_repr
    assert "my-secret-guess-123" not in stored
    assert not events("accounts.login")


def test_sign_out_is_recorded(client):
    user = make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org")
    client.post("/accounts/logout/")
    [event] = events("accounts.logout")
    assert event.actor == user
    assert event.data["reason"] == "signed_out"


def test_sign_up_and_email_confirmation_are_recorded(client, mailoutbox):
    client.post(
        "/accounts/signup/",
        {
            "email": "new@uni.example.org",
            "password1": "a-long-new-password",
            "password2": "a-long-new-password",
        },
    )
    user = get_user_model().objects.get(email="new@uni.example.org")
    [signup] = events("accounts.signup")
    assert signup.actor == user and signup.data["method"] == "password"
    assert not events("accounts.login")  # mandatory verification comes first

    confirm = link_in(mailoutbox[-1], r"https?://\S+/accounts/confirm-email/\S+/")
    path = re.sub(r"^https?://[^/]+", "", confirm)
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302

    [confirmed] = events("accounts.email_confirmed")
    assert confirmed.actor == user and confirmed.data["email"] == "new@uni.example.org"
    [login] = events("accounts.login")  # confirming the address signs the person in
    assert login.actor == user
    assert login.data["method"] == "email"  # the link in the mail proved who they are


def test_password_change_is_recorded(client):
    user = make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org")
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "another-long-pw-42",
            "password2": "another-long-pw-42",
        },
    )
    assert response.status_code == 302
    [event] = events("accounts.password_changed")
    assert event.actor == user
    assert "another-long-pw-42" not in json.dumps(event.data)


def test_password_reset_is_recorded(client, mailoutbox):
    user = make_person("person@uni.example.org")
    client.post("/accounts/password/reset/", {"email": "person@uni.example.org"})
    link = link_in(mailoutbox[-1], r"https?://\S+/accounts/password/reset/key/\S+/")
    path = re.sub(r"^https?://[^/]+", "", link)
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else path
    response = client.post(
        action, {"password1": "a-new-long-password-7", "password2": "a-new-long-password-7"}
    )
    assert response.status_code == 302
    [event] = events("accounts.password_reset")
    assert event.actor == user
    user.refresh_from_db()
    assert user.check_password("a-new-long-password-7")


def test_two_factor_changes_are_recorded(client, django_capture_on_commit_callbacks):
    user = make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org")
    reauthenticate(client)
    client.get("/accounts/2fa/totp/activate/")
    secret = client.session["mfa.totp.secret"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/2fa/totp/activate/", {"code": current_code(secret)})
    assert response.status_code == 302
    [activated] = events("accounts.mfa.activated")
    assert activated.actor == user and activated.data["type"] == "totp"
    [codes] = events("accounts.mfa.recovery_codes_generated")
    assert codes.data["type"] == "recovery_codes"

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/accounts/2fa/recovery-codes/generate/").status_code == 302
    assert len(events("accounts.mfa.recovery_codes_generated")) == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/accounts/2fa/totp/deactivate/").status_code == 302
    assert not Authenticator.objects.filter(user=user).exists()
    deactivated = events("accounts.mfa.deactivated")
    assert {e.data["type"] for e in deactivated} == {"totp", "recovery_codes"}
    assert all(e.actor == user for e in deactivated)


def test_wrong_two_factor_code_is_recorded(client):
    make_person("person@uni.example.org", totp=True)
    client.post("/accounts/login/", {"login": "person@uni.example.org", "password": PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": wrong_code()})
    [event] = events("accounts.mfa.failed")
    assert event.data["type"] == "totp"


def test_mail_names_the_hub_not_an_example_site(client, mailoutbox, settings):
    client.post(
        "/accounts/signup/",
        {
            "email": "new@uni.example.org",
            "password1": "a-long-pw-123",
            "password2": "a-long-pw-123",
        },
    )
    body = mailoutbox[-1].body
    assert settings.HUB_NAME in body
    assert "example.com" not in body
