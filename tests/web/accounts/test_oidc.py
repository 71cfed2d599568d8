"""Institutional sign-in end to end: a real OpenID Connect provider on a local port plays
the national research login, the hub runs in pytest-django's live server, and a
``requests`` session clicks through like a browser would (no JavaScript)."""

from __future__ import annotations

import re
import warnings
from html import unescape
from urllib.parse import urljoin

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client

from aidahub.web.accounts.models import IdentityMethod, IdentityVerification
from aidahub.web.audit.models import AuditEvent

# Authlib, under the provider, installs an "always show" filter for its deprecation
# warnings when first imported; imported here, inside catch_warnings, that filter goes away
# again and cannot override the test's own filters below.
with warnings.catch_warnings():
    pytest.importorskip("authlib.deprecate")
    warnings.simplefilter("ignore", DeprecationWarning)
    oidc_provider_mock = pytest.importorskip("oidc_provider_mock")

pytestmark = [
    # Authlib's deprecation warnings are about its own internals, not ours to fix.
    pytest.mark.filterwarnings("ignore::authlib.deprecate.AuthlibDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*"),
    # pytest-django's live server starts before the test's static folder exists.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

CLIENT_ID = "aidahub-test"
CLIENT_SECRET = "not-a-real-secret"
SUBJECT = "urn:example:research-login:4711"


@pytest.fixture
def provider(monkeypatch):
    # The token endpoint runs over plain http on the local machine.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def institution(settings, provider):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": "institution",
                    "name": "Research login",
                    "client_id": CLIENT_ID,
                    "secret": CLIENT_SECRET,
                    "settings": {"server_url": provider},
                }
            ],
        }
    }
    return provider


def _set_claims(provider: str, subject: str, claims: dict) -> None:
    requests.put(f"{provider}/users/{subject}", json=claims, timeout=10).raise_for_status()


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _institution_button(html: str) -> str:
    match = re.search(r'href="(/accounts/oidc/institution/login/[^"]*)"', html)
    assert match, "no institutional sign-in button"
    return unescape(match.group(1))


def _through_the_provider(browser: requests.Session, hub: str, subject: str):
    """Hub sign-in page -> button -> hub's confirmation -> provider's page -> back."""
    login = browser.get(f"{hub}/accounts/login/", timeout=10)
    button = urljoin(hub, _institution_button(login.text))
    confirm = browser.get(button, timeout=10)
    assert confirm.status_code == 200  # allauth asks before leaving the hub (no JS needed)
    assert 'class="site-header"' in confirm.text
    authorize = browser.post(button, data={"csrfmiddlewaretoken": _csrf(confirm.text)}, timeout=10)
    assert authorize.status_code == 200, authorize.text[:500]
    assert authorize.url.startswith(browser.provider_url + "/oauth2/authorize")
    assert 'name="sub"' in authorize.text
    # The provider's own sign-in form: submit the subject, as a person would sign in there.
    return browser.post(authorize.url, data={"sub": subject}, timeout=10)


@pytest.fixture
def browser(institution):
    session = requests.Session()
    session.provider_url = institution
    yield session
    session.close()


@pytest.mark.django_db(transaction=True)
def test_institutional_sign_in_signs_in_and_affirms_identity(live_server, institution, browser):
    _set_claims(
        institution,
        SUBJECT,
        {"email": "ada@uni.example.org", "email_verified": True, "name": "Ada Lovelace"},
    )

    landed = _through_the_provider(browser, live_server.url, SUBJECT)

    assert landed.status_code == 200
    assert landed.url == f"{live_server.url}/accounts/profile/"
    assert "Signed in as ada@uni.example.org" in landed.text
    user = get_user_model().objects.get(email="ada@uni.example.org")
    verification = IdentityVerification.objects.get(user=user)
    assert verification.method == IdentityMethod.INSTITUTIONAL_LOGIN
    assert SUBJECT in verification.evidence
    assert verification.revoked_at is None
    assert "Verified (institutional sign-in)" in landed.text
    [login] = AuditEvent.objects.filter(action="accounts.login", actor=user)
    assert login.data["method"] == "oidc"
    assert login.data["provider"] == "institution"
    assert (
        AuditEvent.objects.filter(action="accounts.signup", actor=user).get().data["method"]
        == "oidc"
    )

    # Signing out and in again is a second sign-in, not a second verification.
    profile = browser.get(f"{live_server.url}/accounts/profile/", timeout=10)
    browser.post(
        f"{live_server.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": _csrf(profile.text)},
        timeout=10,
    )
    again = _through_the_provider(browser, live_server.url, SUBJECT)
    assert again.url == f"{live_server.url}/accounts/profile/"
    assert IdentityVerification.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(action="accounts.login", actor=user).count() == 2
    assert AuditEvent.objects.filter(action="accounts.identity.verified").count() == 1


@pytest.mark.django_db(transaction=True)
def test_institutional_sign_up_without_an_email_claim_asks_for_the_address(
    live_server, institution, browser, mailoutbox
):
    subject = "urn:example:research-login:no-mail"
    _set_claims(institution, subject, {"name": "Grace Hopper"})

    form = _through_the_provider(browser, live_server.url, subject)

    # allauth's sign-up form for third-party accounts, in the hub's layout.
    assert form.url == f"{live_server.url}/accounts/3rdparty/signup/"
    assert 'class="site-header"' in form.text
    sent = browser.post(
        form.url,
        data={"csrfmiddlewaretoken": _csrf(form.text), "email": "grace@uni.example.org"},
        timeout=10,
    )
    assert sent.status_code == 200
    user = get_user_model().objects.get(email="grace@uni.example.org")
    assert IdentityVerification.objects.get(user=user).method == IdentityMethod.INSTITUTIONAL_LOGIN
    assert not AuditEvent.objects.filter(action="accounts.login").exists()  # address unconfirmed

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[-1].body).group(0)
    path = re.sub(r"^https?://[^/]+", "", link)
    confirm = browser.get(live_server.url + path, timeout=10)
    landed = browser.post(
        live_server.url + path, data={"csrfmiddlewaretoken": _csrf(confirm.text)}, timeout=10
    )
    assert landed.url == f"{live_server.url}/accounts/profile/"
    assert "Signed in as grace@uni.example.org" in landed.text
    [login] = AuditEvent.objects.filter(action="accounts.login", actor=user)
    assert login.data["method"] == "oidc"


@pytest.mark.django_db
def test_no_institutional_button_without_oidc_settings(settings):
    assert settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] == []
    html = Client().get("/accounts/login/").content.decode()
    assert "/accounts/oidc/" not in html
    assert "through your institution" not in html


@pytest.mark.django_db
def test_institutional_button_with_oidc_settings(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "institution",
                    "name": "Research login",
                    "client_id": CLIENT_ID,
                    "secret": CLIENT_SECRET,
                    "settings": {"server_url": "https://login.example.org"},
                }
            ]
        }
    }
    html = Client().get("/accounts/login/").content.decode()
    assert _institution_button(html).startswith("/accounts/oidc/institution/login/")
    assert "Research login" in html


@pytest.mark.django_db(transaction=True)
def test_institutional_sign_in_never_takes_over_an_existing_account(
    live_server, institution, browser, mailoutbox
):
    from tests.web.accounts.helpers import make_person

    owner = make_person("owner@uni.example.org")
    subject = "urn:example:research-login:impostor"
    _set_claims(institution, subject, {"email": "owner@uni.example.org", "email_verified": True})

    landed = _through_the_provider(browser, live_server.url, subject)

    # The address is taken: allauth neither signs in as its owner nor says whose it is; it
    # answers as for any sign-up and tells the owner by mail instead.
    assert landed.url == f"{live_server.url}/accounts/confirm-email/"
    assert list(get_user_model().objects.values_list("email", flat=True)) == [owner.email]
    assert mailoutbox[-1].to == [owner.email]
    assert "already exists" in mailoutbox[-1].body
    profile = browser.get(f"{live_server.url}/accounts/profile/", timeout=10)
    assert "/accounts/login/" in profile.url
    assert not AuditEvent.objects.filter(action="accounts.login").exists()
    assert not IdentityVerification.objects.filter(user=owner).exists()
