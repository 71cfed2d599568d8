"""Staff record identity checks in the admin; undertakings are only read there."""

import pytest
from django.urls import reverse

from aidahub.web.accounts import services
from aidahub.web.accounts.models import IdentityMethod, IdentityVerification, Profile
from aidahub.web.audit.models import AuditEvent
from tests.web.accounts.helpers import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return make_person("person@uni.example.org")


def test_staff_add_an_identity_check_and_are_named_as_checker(staff_client, staff_user, person):
    url = reverse("admin:accounts_identityverification_add")
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(
        url, {"user": person.pk, "evidence": "Passport shown at the AIDA days"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    check = IdentityVerification.objects.get(user=person)
    assert check.method == IdentityMethod.STAFF_CHECKED
    assert check.verified_by == staff_user
    event = AuditEvent.objects.get(action="accounts.identity.verified")
    assert event.actor == staff_user


def test_identity_check_without_evidence_is_refused_in_the_admin(staff_client, person):
    url = reverse("admin:accounts_identityverification_add")
    response = staff_client.post(url, {"user": person.pk, "evidence": "  "})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not IdentityVerification.objects.exists()


def test_recorded_check_is_read_only_and_not_deletable(staff_client, staff_user, person):
    check = services.record_identity_check(person, evidence="Passport", verified_by=staff_user)
    change = reverse("admin:accounts_identityverification_change", args=[check.pk])
    html = staff_client.get(change).content.decode()
    assert "Passport" in html
    assert 'name="evidence"' not in html
    staff_client.post(change, {"user": person.pk, "evidence": "Edited"})
    check.refresh_from_db()
    assert check.evidence == "Passport"
    delete = reverse("admin:accounts_identityverification_delete", args=[check.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert IdentityVerification.objects.filter(pk=check.pk).exists()


def test_revoke_action_goes_through_the_service(staff_client, staff_user, person):
    check = services.record_identity_check(person, evidence="Passport", verified_by=staff_user)
    response = staff_client.post(
        reverse("admin:accounts_identityverification_changelist"),
        {"action": "revoke", "_selected_action": [check.pk]},
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.revoked_at is not None
    assert AuditEvent.objects.get(action="accounts.identity.revoked").actor == staff_user


def test_undertaking_acceptances_are_read_only(staff_client, person, rf):
    request = rf.post("/")
    request.user = person
    acceptance = services.accept_undertaking(person, request=request)
    changelist = reverse("admin:accounts_undertakingacceptance_changelist")
    assert f">{person.get_username()}<" in staff_client.get(changelist).content.decode()
    assert staff_client.get(reverse("admin:accounts_undertakingacceptance_add")).status_code == 403
    change = reverse("admin:accounts_undertakingacceptance_change", args=[acceptance.pk])
    html = staff_client.get(change).content.decode()
    assert acceptance.text_sha256 in html
    assert 'name="version"' not in html


def test_profile_edits_in_the_admin_are_audited(staff_client, person):
    profile = Profile.objects.create(user=person)
    change = reverse("admin:accounts_profile_change", args=[profile.pk])
    response = staff_client.post(
        change,
        {"user": person.pk, "display_name": "Ada", "orcid": "", "is_clinical_council": "on"},
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.is_clinical_council
    event = AuditEvent.objects.get(action="admin.profile.change")
    assert event.data["changes"]["is_clinical_council"] == {"before": "False", "after": "True"}
