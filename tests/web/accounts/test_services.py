"""Identity affirmation and confidentiality undertakings: the service functions."""

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory

from aidahub.web.accounts import services, undertaking
from aidahub.web.accounts.models import IdentityMethod, IdentityVerification, UndertakingAcceptance
from aidahub.web.audit.models import AuditEvent
from aidahub.web.audit.services import verify_chain
from tests.web.accounts.helpers import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return make_person("person@uni.example.org")


@pytest.fixture
def director():
    return make_person("director@hub.example.org", staff=True, totp=True)


def _request(user, ip="192.0.2.5"):
    request = RequestFactory().post("/accounts/undertaking/", REMOTE_ADDR=ip)
    request.user = user
    return request


# --- Staff checks ---------------------------------------------------------------------------


def test_staff_check_is_recorded_with_who_checked(person, director):
    check = services.record_identity_check(
        person, evidence="  Passport shown at the AIDA days, 12 March.  ", verified_by=director
    )
    assert check.method == IdentityMethod.STAFF_CHECKED
    assert check.verified_by == director
    assert check.evidence == "Passport shown at the AIDA days, 12 March."
    event = AuditEvent.objects.get(action="accounts.identity.verified")
    assert event.actor == director
    assert event.object_id == str(check.pk)
    assert event.data["user_id"] == person.pk
    assert event.data["evidence"] == check.evidence


@pytest.mark.parametrize("evidence", ["", "   ", None])
def test_staff_check_without_evidence_is_refused(person, director, evidence):
    with pytest.raises(ValidationError) as raised:
        services.record_identity_check(person, evidence=evidence, verified_by=director)
    assert "evidence" in raised.value.message_dict
    assert "how the identity was checked" in raised.value.message_dict["evidence"][0]
    assert not IdentityVerification.objects.exists()
    assert not AuditEvent.objects.exists()


def test_only_staff_record_checks(person):
    other = make_person("other@uni.example.org")
    with pytest.raises(PermissionDenied):
        services.record_identity_check(person, evidence="I know them", verified_by=other)
    assert not IdentityVerification.objects.exists()


def test_revoking_keeps_the_row_and_is_audited(person, director):
    check = services.record_identity_check(person, evidence="Passport", verified_by=director)
    services.revoke_identity(check, by=director, reason="Wrong person")
    check.refresh_from_db()
    assert check.revoked_at is not None
    event = AuditEvent.objects.get(action="accounts.identity.revoked")
    assert event.actor == director and event.data["reason"] == "Wrong person"
    with pytest.raises(ValidationError):
        services.revoke_identity(check, by=director)
    assert AuditEvent.objects.filter(action="accounts.identity.revoked").count() == 1


def test_only_staff_revoke(person, director):
    check = services.record_identity_check(person, evidence="Passport", verified_by=director)
    with pytest.raises(PermissionDenied):
        services.revoke_identity(check, by=person)
    check.refresh_from_db()
    assert check.revoked_at is None


# --- Institutional sign-in ------------------------------------------------------------------


def test_institutional_identity_is_one_row_per_provider_and_subject(person):
    first, created = services.record_institutional_identity(
        person, provider="institution", subject="abc-123"
    )
    again, created_again = services.record_institutional_identity(
        person, provider="institution", subject="abc-123"
    )
    assert created and not created_again
    assert first == again
    assert first.method == IdentityMethod.INSTITUTIONAL_LOGIN
    assert "institution" in first.evidence and "abc-123" in first.evidence
    assert first.verified_by is None
    other, created_other = services.record_institutional_identity(
        person, provider="institution", subject="xyz-789"
    )
    assert created_other and other != first
    assert AuditEvent.objects.filter(action="accounts.identity.verified").count() == 2


def test_revoked_institutional_identity_stays_revoked(person, director):
    verification, _ = services.record_institutional_identity(
        person, provider="institution", subject="abc-123"
    )
    services.revoke_identity(verification, by=director)
    again, created = services.record_institutional_identity(
        person, provider="institution", subject="abc-123"
    )
    assert not created
    assert again.revoked_at is not None
    assert IdentityVerification.objects.count() == 1


# --- Undertakings ---------------------------------------------------------------------------


def test_accepting_keeps_version_hash_and_address(person):
    current = undertaking.current()
    acceptance = services.accept_undertaking(person, request=_request(person))
    assert acceptance.version == current.version
    assert acceptance.text_sha256 == hashlib.sha256(current.text.encode()).hexdigest()
    assert acceptance.request_ip == "192.0.2.5"
    assert undertaking.has_accepted_current(person)
    event = AuditEvent.objects.get(action="accounts.undertaking.accepted")
    assert event.actor == person
    assert event.data == {"version": current.version, "text_sha256": current.sha256}
    assert verify_chain() == []


def test_accepting_twice_changes_nothing(person):
    first = services.accept_undertaking(person, request=_request(person))
    second = services.accept_undertaking(person, request=_request(person, ip="192.0.2.99"))
    assert first == second
    assert UndertakingAcceptance.objects.count() == 1
    assert AuditEvent.objects.filter(action="accounts.undertaking.accepted").count() == 1


def test_a_new_version_is_accepted_again(person, settings, tmp_path):
    services.accept_undertaking(person, request=_request(person))
    text = tmp_path / "undertaking-2.txt"
    text.write_text("Version two: keep everything confidential.\n", encoding="utf-8")
    settings.UNDERTAKING_FILE = text
    settings.UNDERTAKING_VERSION = "2"
    assert not undertaking.has_accepted_current(person)
    acceptance = services.accept_undertaking(person, request=_request(person))
    assert acceptance.version == "2"
    assert acceptance.text_sha256 == hashlib.sha256(text.read_bytes()).hexdigest()
    assert UndertakingAcceptance.objects.filter(user=person).count() == 2


def test_accepting_a_text_that_changed_since_it_was_shown_is_refused(person):
    with pytest.raises(ValidationError):
        services.accept_undertaking(person, request=_request(person), shown_sha256="0" * 64)
    assert not UndertakingAcceptance.objects.exists()


# --- Profile and provisioning ---------------------------------------------------------------


def test_profile_change_is_audited_with_before_and_after(person):
    services.update_profile(person, display_name="Ada Lovelace", orcid="")
    services.update_profile(person, display_name="Ada Lovelace", orcid="0000-0002-1825-0097")
    services.update_profile(person, display_name="Ada Lovelace", orcid="0000-0002-1825-0097")
    changes = [
        e.data["changes"]
        for e in AuditEvent.objects.filter(action="accounts.profile.changed").order_by("id")
    ]
    assert changes == [
        {"display_name": {"before": "", "after": "Ada Lovelace"}},
        {"orcid": {"before": "", "after": "0000-0002-1825-0097"}},
    ]


def test_provisioned_totp_and_email_are_kept_on_a_second_call(django_user_model):
    user = django_user_model.objects.create_user("ops", "ops@hub.example.org", "x-long-pw-123")
    secret = services.activate_totp(user)
    assert services.activate_totp(user) == secret
    services.add_verified_email(user, "ops@hub.example.org")
    services.add_verified_email(user, "ops@hub.example.org")
    assert user.emailaddress_set.get().verified
    assert AuditEvent.objects.filter(action="accounts.mfa.activated").count() == 1
    assert AuditEvent.objects.filter(action="accounts.email_confirmed").count() == 1
