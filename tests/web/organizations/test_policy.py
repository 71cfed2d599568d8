"""``nonpublic_access``: every combination of the five requirements for a member, staff,
inactive accounts, and each way membership and agreements stop counting."""

import itertools

import pytest
from django.contrib.auth.models import AnonymousUser

from aidahub.web.organizations.models import AgreementType, FeeStatus, MembershipLevel
from aidahub.web.organizations.policies import Requirement, can_see_nonpublic, nonpublic_access
from tests.web.organizations import factories as f

pytestmark = pytest.mark.django_db

FIVE = (
    Requirement.MEMBERSHIP,
    Requirement.IDENTITY,
    Requirement.UNDERTAKING,
    Requirement.MFA,
    Requirement.AGREEMENT,
)
COMBINATIONS = list(itertools.product((False, True), repeat=5))


def _person(membership, identity, undertaking, mfa, agreement):
    user = f.make_user()
    if membership:
        # Through a funded activity, so membership and agreement can vary independently.
        f.personal_membership(user)
    if agreement:
        # An organization that is not a member but is bound by a non-disclosure agreement.
        org = f.make_organization(membership=MembershipLevel.NONE)
        f.affiliate(user, org)
        f.make_agreement([org])
    if identity:
        f.verify_identity(user)
    if undertaking:
        f.accept_undertaking(user)
    if mfa:
        f.give_mfa(user)
    return user


@pytest.mark.parametrize(
    "met", COMBINATIONS, ids=["".join("1" if m else "0" for m in c) for c in COMBINATIONS]
)
def test_every_combination_of_the_five_requirements(met):
    user = _person(*met)
    decision = nonpublic_access(user)
    expected = tuple(req for req, ok in zip(FIVE, met, strict=True) if not ok)
    assert decision.missing == expected
    assert decision.allowed is all(met)
    assert can_see_nonpublic(user) is all(met)
    assert len(decision.reasons) == len(expected)


def test_a_member_through_a_partner_organization_is_allowed():
    assert nonpublic_access(f.make_member()).allowed


def test_anonymous_and_none_lack_an_account():
    assert nonpublic_access(AnonymousUser()).missing == (Requirement.ACCOUNT,)
    assert nonpublic_access(None).missing == (Requirement.ACCOUNT,)


def test_an_inactive_member_lacks_an_account():
    user = f.make_member()
    user.is_active = False
    user.save()
    assert nonpublic_access(user).missing == (Requirement.ACCOUNT,)


def test_inactive_staff_lack_an_account():
    staff = f.make_user(staff=True, active=False)
    f.give_mfa(staff)
    assert nonpublic_access(staff).missing == (Requirement.ACCOUNT,)


def test_staff_need_only_mfa():
    staff = f.make_user(staff=True)
    assert nonpublic_access(staff).missing == (Requirement.MFA,)
    f.give_mfa(staff)
    assert nonpublic_access(staff).allowed


def test_a_recovery_code_authenticator_is_not_mfa():
    from allauth.mfa.models import Authenticator

    staff = f.make_user(staff=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.RECOVERY_CODES, data={})
    assert nonpublic_access(staff).missing == (Requirement.MFA,)


def test_revoked_identity_does_not_count():
    from django.utils import timezone

    user = f.make_member()
    user.identity_verifications.update(revoked_at=timezone.now())
    assert nonpublic_access(user).missing == (Requirement.IDENTITY,)


def test_an_undertaking_of_an_older_version_does_not_count(settings):
    user = f.make_member()
    settings.UNDERTAKING_VERSION = "2"
    assert nonpublic_access(user).missing == (Requirement.UNDERTAKING,)


# --- Membership ending ----------------------------------------------------------------------


def _member_by_activity(**membership):
    user = f.make_member(organization=f.make_organization(membership=MembershipLevel.NONE))
    f.personal_membership(user, **membership)
    return user


def test_personal_membership_counts_through_its_last_day():
    user = _member_by_activity(start=f.days(-30), end=f.today())
    assert nonpublic_access(user).allowed
    assert nonpublic_access(user, today=f.days(1)).missing == (Requirement.MEMBERSHIP,)


def test_personal_membership_whose_end_date_has_passed_is_refused():
    user = _member_by_activity(start=f.days(-30), end=f.days(-1))
    assert nonpublic_access(user).missing == (Requirement.MEMBERSHIP,)


def test_personal_membership_not_yet_started_is_refused():
    user = _member_by_activity(start=f.days(1), end=f.days(30))
    assert nonpublic_access(user).missing == (Requirement.MEMBERSHIP,)


def test_an_ended_affiliation_is_refused():
    user = f.make_member()
    user.affiliations.update(end=f.days(-1))
    # The agreement came through the same organization, so it no longer covers them either.
    assert nonpublic_access(user).missing == (Requirement.MEMBERSHIP, Requirement.AGREEMENT)


def test_an_affiliation_not_yet_started_is_refused():
    user = f.make_member()
    user.affiliations.update(start=f.days(1))
    assert nonpublic_access(user).missing == (Requirement.MEMBERSHIP, Requirement.AGREEMENT)


def test_an_affiliation_staff_have_not_confirmed_is_refused():
    user = f.make_member()
    user.affiliations.update(confirmed_at=None)
    assert nonpublic_access(user).missing == (Requirement.MEMBERSHIP, Requirement.AGREEMENT)


@pytest.mark.parametrize(
    ("fee_status", "reason", "allowed"),
    [
        (FeeStatus.DUE, "", False),
        (FeeStatus.NOT_APPLICABLE, "", False),
        (FeeStatus.PAID, "", True),
        (FeeStatus.WAIVED, "Shares prioritized data", True),
    ],
)
def test_network_partner_counts_once_its_fee_is_paid_or_waived(fee_status, reason, allowed):
    org = f.network_partner(fee_status=fee_status, reason=reason)
    user = f.make_member(organization=org)
    decision = nonpublic_access(user)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.missing == (Requirement.MEMBERSHIP,)


def test_an_unverified_partner_does_not_count():
    user = f.make_member(organization=f.make_organization(verified=False))
    assert nonpublic_access(user).missing == (Requirement.MEMBERSHIP,)


def test_an_organization_that_is_not_a_member_does_not_count():
    user = f.make_member(organization=f.make_organization(membership=MembershipLevel.NONE))
    assert nonpublic_access(user).missing == (Requirement.MEMBERSHIP,)


# --- Agreements -----------------------------------------------------------------------------


_DATES = ("valid_from", "valid_until", "terminated_at")


def _member_with_agreement(**agreement):
    # Dates are given as days from today, so that parameters never go stale.
    agreement = {k: f.days(v) if k in _DATES else v for k, v in agreement.items()}
    org = f.make_organization()
    f.make_agreement([org], **agreement)
    return f.make_member(organization=org)


@pytest.mark.parametrize(
    "agreement",
    [
        pytest.param({"valid_from": -400, "valid_until": -1}, id="expired"),
        pytest.param({"terminated_at": 0}, id="terminated-today"),
        pytest.param({"terminated_at": -5}, id="terminated"),
        pytest.param({"valid_from": 1}, id="not-yet-valid"),
        pytest.param({"includes_non_disclosure": False}, id="without-non-disclosure"),
        pytest.param({"kind": AgreementType.SERVICE}, id="service-agreement"),
        pytest.param({"kind": AgreementType.DATA_PROCESSING}, id="data-processing-agreement"),
        pytest.param({"signed": False}, id="without-signed-file"),
    ],
)
def test_an_agreement_that_does_not_count_is_refused(agreement):
    user = _member_with_agreement(**agreement)
    assert nonpublic_access(user).missing == (Requirement.AGREEMENT,)


@pytest.mark.parametrize(
    "agreement",
    [
        pytest.param({"valid_until": 0}, id="last-day"),
        pytest.param({"terminated_at": 1}, id="terminated-tomorrow"),
        pytest.param({"kind": AgreementType.NETWORK_PARTNER}, id="network-partner-agreement"),
        pytest.param({"kind": AgreementType.DATA_SHARING}, id="data-sharing-agreement"),
        pytest.param({"kind": AgreementType.DATA_TRANSFER}, id="data-transfer-agreement"),
    ],
)
def test_an_agreement_in_force_with_non_disclosure_counts(agreement):
    assert nonpublic_access(_member_with_agreement(**agreement)).allowed


def test_an_agreement_of_another_organization_does_not_count():
    user = f.make_member(organization=f.make_organization())
    user.affiliations.get().organization.agreements.clear()
    f.make_agreement([f.make_organization()])
    assert nonpublic_access(user).missing == (Requirement.AGREEMENT,)
