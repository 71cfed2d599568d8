"""Every account page is a hub page: the hub's header, footer and stylesheet, no script."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.web.accounts.helpers import TOTP_SECRET, make_person, reauthenticate, sign_in

pytestmark = pytest.mark.django_db

ANONYMOUS_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
    "/accounts/confirm-email/",
    "/accounts/confirm-email/not-a-key/",
    "/accounts/password/reset/key/1-not-a-key/",
    "/accounts/3rdparty/login/cancelled/",
    ("/accounts/3rdparty/login/error/", 401),
]

SIGNED_IN_PAGES = [
    "/accounts/profile/",
    "/accounts/undertaking/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/logout/",
    "/accounts/2fa/",
    "/accounts/2fa/totp/activate/",
    "/accounts/3rdparty/",
]


def assert_hub_page(response, status=200):
    assert response.status_code == status, response
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert 'class="site-footer"' in html
    assert "core/hub.css" in html
    assert "<script" not in html  # works without JavaScript
    return html


@pytest.mark.parametrize("url", ANONYMOUS_PAGES)
def test_entrance_pages_are_hub_pages(client, url):
    url, status = url if isinstance(url, tuple) else (url, 200)
    assert_hub_page(client.get(url), status)


@pytest.mark.parametrize("url", SIGNED_IN_PAGES)
def test_account_pages_are_hub_pages(client, url):
    make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org")
    reauthenticate(client)  # allauth asks for the password again before two-factor changes
    html = assert_hub_page(client.get(url))
    assert 'class="account-nav"' in html


def test_reauthentication_page_is_a_hub_page(client):
    make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org")
    response = client.get("/accounts/2fa/totp/activate/")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert 'name="password"' in assert_hub_page(client.get(response["Location"]))


def test_two_factor_sign_in_page_is_a_hub_page(client):
    make_person("person@uni.example.org", totp=True)
    response = sign_in(client, "person@uni.example.org")
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    html = assert_hub_page(client.get(response["Location"]))
    assert 'name="code"' in html


def test_verification_sent_page_after_sign_up(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@uni.example.org",
            "password1": "a-long-new-password",
            "password2": "a-long-new-password",
        },
        follow=True,
    )
    html = assert_hub_page(response)
    assert response.redirect_chain[-1][0] == "/accounts/confirm-email/"
    assert "sent an email to you for verification" in html


def test_social_sign_up_page_without_a_pending_sign_in_goes_to_sign_in(client):
    response = client.get("/accounts/3rdparty/signup/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_header_offers_sign_in_to_visitors(client):
    html = client.get("/datasets/").content.decode()
    assert 'href="/accounts/login/?next=/datasets/"' in html
    assert "Sign out" not in html
    assert 'href="/accounts/login/?next=/admin/">Staff sign-in' in html
    assert "/admin/login/" not in html


def test_header_offers_account_and_sign_out_when_signed_in(client):
    make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org")
    html = client.get("/datasets/").content.decode()
    assert 'href="/accounts/profile/"' in html
    assert 'action="/accounts/logout/"' in html
    assert "Staff sign-in" not in html
    assert "/accounts/login/" not in html
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not get_user_model().objects.get(email="person@uni.example.org").is_staff
    assert "_auth_user_id" not in client.session


def test_messages_show_on_hub_pages(client):
    make_person("person@uni.example.org")
    response = sign_in(client, "person@uni.example.org")
    html = client.get(response["Location"]).content.decode()
    assert 'class="messages"' in html
    assert "Successfully signed in" in html


def test_rate_limited_page_is_a_hub_page(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "1/m/ip"}
    client.get("/accounts/login/")
    client.post("/accounts/login/", {"login": "a@uni.example.org", "password": "x"})
    response = client.post("/accounts/login/", {"login": "a@uni.example.org", "password": "x"})
    assert "Too many attempts" in assert_hub_page(response, 429)


def test_staff_two_factor_pages_are_reachable(client):
    make_person("boss@hub.example.org", staff=True, totp=True)
    sign_in(client, "boss@hub.example.org", secret=TOTP_SECRET)
    assert_hub_page(client.get("/accounts/2fa/"))
    assert Client().get("/accounts/2fa/").status_code == 302


def test_recovery_code_pages_are_hub_pages(client):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    user = make_person("person@uni.example.org", totp=True)
    RecoveryCodes.activate(user)
    sign_in(client, "person@uni.example.org", secret=TOTP_SECRET)
    reauthenticate(client)
    html = assert_hub_page(client.get("/accounts/2fa/recovery-codes/"))
    assert "Unused codes" in html
    assert_hub_page(client.get("/accounts/2fa/recovery-codes/generate/"))
    assert_hub_page(client.get("/accounts/2fa/totp/deactivate/"))
