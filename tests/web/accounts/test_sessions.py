"""Staff need two-factor authentication for the staff pages, and their idle sessions end
sooner; everyone's session ends SESSION_COOKIE_AGE after the last request."""

import datetime as dt
import re
import time

import pytest
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.utils import timezone

from aidahub.web.accounts.middleware import LAST_ACTIVITY_KEY
from aidahub.web.audit.models import AuditEvent
from tests.web.accounts.helpers import TOTP_SECRET, make_person, sign_in, wrong_code

pytestmark = pytest.mark.django_db

ACTIVATE = "/accounts/2fa/totp/activate/"


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Two-factor authentication for staff ----------------------------------------------------


@pytest.mark.parametrize("url", ["/admin/", "/admin/register/dataset/", "/staff/audit/"])
def test_staff_without_authenticator_are_sent_to_set_one_up(client, url):
    make_person("boss@hub.example.org", staff=True)
    sign_in(client, "boss@hub.example.org")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == ACTIVATE
    assert any("two-factor authentication" in m for m in _messages(response))


def test_staff_without_authenticator_reach_two_factor_pages_and_sign_out(client):
    make_person("boss@hub.example.org", staff=True)
    sign_in(client, "boss@hub.example.org")
    assert client.get("/accounts/2fa/").status_code == 200
    # Activation asks for the password again first (allauth), then shows the form.
    assert client.get(ACTIVATE)["Location"].startswith("/accounts/reauthenticate/")
    assert client.get("/accounts/profile/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 200
    response = client.post("/admin/logout/")
    assert response.status_code == 200  # the admin's own "signed out" page
    assert "_auth_user_id" not in client.session


def test_static_files_are_not_held_back(client):
    make_person("boss@hub.example.org", staff=True)
    sign_in(client, "boss@hub.example.org")
    assert client.get("/static/core/hub.css").get("Location") != ACTIVATE


def test_staff_with_authenticator_reach_the_admin(client):
    make_person("boss@hub.example.org", staff=True, totp=True)
    response = sign_in(client, "boss@hub.example.org", secret=TOTP_SECRET)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_people_who_are_not_staff_are_not_asked_for_an_authenticator(client):
    make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org")
    response = client.get("/admin/")
    assert response.get("Location", "") != ACTIVATE
    assert client.get("/accounts/profile/").status_code == 200


def test_staff_sign_in_asks_for_the_code_and_refuses_a_wrong_one(client):
    make_person("boss@hub.example.org", staff=True, totp=True)
    response = client.post(
        "/accounts/login/", {"login": "boss@hub.example.org", "password": "a-long-test-password"}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    wrong = client.post("/accounts/2fa/authenticate/", {"code": wrong_code()})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session


# --- Admin sign-in goes through allauth -----------------------------------------------------


def test_admin_sign_in_is_allauths(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_admin_sign_in_refuses_people_who_are_not_staff(client):
    make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org")
    assert client.get("/admin/login/").status_code == 403


def test_staff_sign_in_through_allauth_lands_in_the_admin(client):
    make_person("boss@hub.example.org", staff=True, totp=True)
    login = client.get("/admin/login/?next=/admin/")["Location"]
    assert client.get(login).status_code == 200
    response = client.post(
        login, {"login": "boss@hub.example.org", "password": "a-long-test-password"}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    from aidahub.web.accounts.totp import current_code

    response = client.post("/accounts/2fa/authenticate/", {"code": current_code(TOTP_SECRET)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


# --- Staff sessions time out ----------------------------------------------------------------


def _age_activity(client, seconds):
    session = client.session
    session[LAST_ACTIVITY_KEY] = time.time() - seconds
    session.save()


def test_staff_session_records_last_activity(client):
    make_person("boss@hub.example.org", staff=True, totp=True)
    sign_in(client, "boss@hub.example.org", secret=TOTP_SECRET)
    before = time.time()
    client.get("/accounts/profile/")
    assert client.session[LAST_ACTIVITY_KEY] >= before


def test_idle_staff_session_ends_with_a_message(client, settings):
    settings.STAFF_SESSION_SECONDS = 30 * 60
    make_person("boss@hub.example.org", staff=True, totp=True)
    sign_in(client, "boss@hub.example.org", secret=TOTP_SECRET)
    client.get("/admin/")
    _age_activity(client, 30 * 60 + 1)

    response = client.get("/admin/register/dataset/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fregister%2Fdataset%2F"
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "no activity for 30 minutes" in page
    event = AuditEvent.objects.filter(action="accounts.logout").latest("id")
    assert event.data["reason"] == "staff_session_timeout"
    assert event.actor.email == "boss@hub.example.org"


def test_active_staff_session_goes_on(client, settings):
    settings.STAFF_SESSION_SECONDS = 30 * 60
    make_person("boss@hub.example.org", staff=True, totp=True)
    sign_in(client, "boss@hub.example.org", secret=TOTP_SECRET)
    _age_activity(client, 30 * 60 - 5)
    assert client.get("/admin/").status_code == 200
    assert time.time() - client.session[LAST_ACTIVITY_KEY] < 5


def test_ordinary_sessions_are_not_cut_short_at_the_staff_limit(client, settings):
    settings.STAFF_SESSION_SECONDS = 60
    make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org")
    _age_activity(client, 3600)
    assert client.get("/accounts/profile/").status_code == 200


def _session_row(client):
    return Session.objects.get(session_key=client.session.session_key)


def test_sessions_last_session_cookie_age_after_each_request(client, settings):
    make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org")
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() + dt.timedelta(seconds=10)
    )
    client.get("/accounts/profile/")
    left = (_session_row(client).expire_date - timezone.now()).total_seconds()
    assert settings.SESSION_COOKIE_AGE - 60 < left <= settings.SESSION_COOKIE_AGE


def test_expired_session_is_signed_out(client):
    make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org")
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_first_staff_account_confirms_its_address_then_sets_up_two_factor(
    client, django_user_model, mailoutbox
):
    # As `aidahub manage createsuperuser` leaves it: no allauth e-mail address row yet.
    django_user_model.objects.create_superuser("root", "root@hub.example.org", "a-long-pw-123")
    response = client.post(
        "/accounts/login/", {"login": "root@hub.example.org", "password": "a-long-pw-123"}
    )
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[-1].body).group(0)
    path = re.sub(r"^https?://[^/]+", "", link)
    client.post(path)
    assert "_auth_user_id" in client.session
    assert client.get("/admin/")["Location"] == ACTIVATE
