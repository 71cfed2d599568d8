"""The profile and undertaking pages."""

import pytest
from django.utils import formats

from aidahub.web.accounts import services, undertaking
from aidahub.web.accounts.models import Profile, UndertakingAcceptance
from tests.web.accounts.helpers import make_person, sign_in

pytestmark = pytest.mark.django_db

UNDERTAKING = "/accounts/undertaking/"
PROFILE = "/accounts/profile/"


@pytest.fixture
def person(client):
    user = make_person("person@uni.example.org")
    sign_in(client, "person@uni.example.org")
    return user


def _accept(client, **extra):
    data = {"accept": "on", "text_sha256": undertaking.current().sha256, **extra}
    return client.post(UNDERTAKING, data)


# --- Undertaking ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [UNDERTAKING, PROFILE])
def test_pages_need_a_signed_in_person(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_undertaking_page_shows_text_version_and_form(client, person):
    html = client.get(UNDERTAKING).content.decode()
    current = undertaking.current()
    first_line = next(line for line in current.text.splitlines() if line.strip())
    assert first_line.strip()[:40] in html
    assert f"Version {current.version}" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'type="checkbox" name="accept"' in html
    assert "I accept" in html


def test_accepting_without_ticking_the_box_is_refused(client, person):
    response = client.post(UNDERTAKING, {"text_sha256": undertaking.current().sha256})
    assert response.status_code == 200
    assert "Tick the box" in response.content.decode()
    assert not UndertakingAcceptance.objects.exists()


def test_accepting_records_and_goes_to_the_profile(client, person):
    response = _accept(client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    acceptance = UndertakingAcceptance.objects.get(user=person)
    assert acceptance.text_sha256 == undertaking.current().sha256


def test_accepting_goes_on_to_a_local_next_address(client, person):
    response = _accept(client, next="/datasets/?q=lung")
    assert response["Location"] == "/datasets/?q=lung"


@pytest.mark.parametrize(
    "target", ["https://evil.example.com/", "//evil.example.com/", "javascript:alert(1)"]
)
def test_accepting_never_goes_to_another_site(client, person, target):
    response = _accept(client, next=target)
    assert response["Location"] == "/accounts/profile/"


def test_next_address_is_carried_through_the_form(client, person):
    html = client.get(UNDERTAKING + "?next=/datasets/").content.decode()
    assert 'name="next" value="/datasets/"' in html


def test_accepted_undertaking_says_when(client, person):
    _accept(client)
    acceptance = UndertakingAcceptance.objects.get(user=person)
    html = client.get(UNDERTAKING).content.decode()
    date = formats.date_format(acceptance.accepted_at, "j F Y")
    assert f"You accepted version {acceptance.version} on {date}." in html
    assert 'name="accept"' not in html
    _accept(client)
    assert UndertakingAcceptance.objects.count() == 1


def test_text_changed_since_shown_is_not_accepted(client, person):
    response = client.post(UNDERTAKING, {"accept": "on", "text_sha256": "0" * 64}, follow=True)
    assert not UndertakingAcceptance.objects.exists()
    html = response.content.decode()
    assert "changed while you were reading" in html
    assert f'value="{undertaking.current().sha256}"' in html


def test_undertaking_page_needs_csrf(person):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(person)
    response = strict.post(
        UNDERTAKING, {"accept": "on", "text_sha256": undertaking.current().sha256}
    )
    assert response.status_code == 403
    assert not UndertakingAcceptance.objects.exists()


# --- Profile --------------------------------------------------------------------------------


def test_profile_saves_name_and_orcid(client, person):
    response = client.post(
        PROFILE, {"display_name": "Ada Lovelace", "orcid": "https://orcid.org/0000-0002-1825-0097"}
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=person)
    assert profile.display_name == "Ada Lovelace"
    assert profile.orcid == "0000-0002-1825-0097"
    html = client.get(PROFILE).content.decode()
    assert 'value="Ada Lovelace"' in html
    assert "Your profile is saved." in html


def test_profile_refuses_an_orcid_with_a_wrong_check_character(client, person):
    response = client.post(PROFILE, {"display_name": "Ada", "orcid": "0000-0002-1825-0098"})
    assert response.status_code == 200
    assert "wrong check character" in response.content.decode()
    assert not Profile.objects.exists()


def test_profile_shows_what_is_missing(client, person):
    html = client.get(PROFILE).content.decode()
    assert "person@uni.example.org" in html
    assert 'href="/accounts/email/"' in html
    assert 'href="/accounts/2fa/"' in html
    assert "Set up an authenticator app" in html
    assert "not verified" in html
    assert "not accepted" in html
    assert 'href="/accounts/undertaking/"' in html


def test_profile_shows_what_is_done(client, person):
    director = make_person("director@hub.example.org", staff=True, totp=True)
    services.record_identity_check(person, evidence="Passport", verified_by=director)
    _accept(client)
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(user=person, type=Authenticator.Type.TOTP, data={"secret": "A"})
    html = client.get(PROFILE).content.decode()
    assert "Verified (checked by staff)" in html
    assert "You accepted version" in html
    assert "An authenticator app is set up." in html
    assert "not accepted" not in html
