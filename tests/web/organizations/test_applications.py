"""Network partner applications: the transition table, pair by pair, and what approval,
rejection and withdrawal do to the organization and whom they tell."""

import itertools

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from aidahub.web.audit.models import AuditEvent
from aidahub.web.organizations import services
from aidahub.web.organizations.application_services import (
    TRANSITIONS,
    Event,
    InvalidTransition,
    next_state,
)
from aidahub.web.organizations.models import (
    ApplicationState,
    FeeStatus,
    MembershipLevel,
    NetworkPartnerApplication,
)
from aidahub.web.organizations.policies import nonpublic_access
from tests.web.organizations import factories as f

pytestmark = pytest.mark.django_db

S = ApplicationState
EXPECTED = {
    (S.SUBMITTED, Event.APPROVE): S.APPROVED,
    (S.SUBMITTED, Event.REJECT): S.REJECTED,
    (S.SUBMITTED, Event.WITHDRAW): S.WITHDRAWN,
}
PAIRS = list(itertools.product(S.values, Event.ALL))


def test_the_table_is_as_documented():
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=[f"{s}-{e}" for s, e in PAIRS])
def test_next_state_for_every_pair(state, event):
    if (state, event) in EXPECTED:
        assert next_state(state, event) == EXPECTED[(state, event)]
    else:
        with pytest.raises(InvalidTransition) as caught:
            next_state(state, event)
        assert f"Cannot {event} an application that is {S(state).label}" in caught.value.messages[0]


def _application(*, waiver=False, verified=True):
    org = f.make_organization(membership=MembershipLevel.NONE, verified=verified)
    applicant = f.make_user()
    f.affiliate(applicant, org)
    return services.apply_network_partner(
        applicant,
        org,
        "We research breast imaging.",
        waiver,
        "We share prioritized data" if waiver else "",
    )


def _run(event, application, staff):
    if event == Event.APPROVE:
        return services.approve_application(application, staff, "Welcome")
    if event == Event.REJECT:
        return services.reject_application(application, staff, "Not a research institution")
    return services.withdraw_application(application, application.applicant)


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=[f"{s}-{e}" for s, e in PAIRS])
def test_every_pair_through_the_services(state, event):
    staff = f.make_user(staff=True)
    application = _application()
    NetworkPartnerApplication.objects.filter(pk=application.pk).update(state=state)
    application.refresh_from_db()
    before = AuditEvent.objects.count()
    if (state, event) in EXPECTED:
        _run(event, application, staff)
        application.refresh_from_db()
        assert application.state == EXPECTED[(state, event)]
        event_row = AuditEvent.objects.filter(action=f"organizations.application.{event}").get()
        assert event_row.data["changes"]["state"] == {"before": state, "after": application.state}
    else:
        with pytest.raises(InvalidTransition):
            _run(event, application, staff)
        application.refresh_from_db()
        assert application.state == state
        assert AuditEvent.objects.count() == before


def test_submitting_tells_staff(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        application = _application()
    assert [m.subject for m in mail.outbox] == [
        f"[AIDA Data Hub] Network partner application: {application.organization.name}"
    ]
    assert AuditEvent.objects.filter(action="organizations.application.submit").exists()


def test_approval_makes_a_network_partner_with_the_fee_due(django_capture_on_commit_callbacks):
    staff = f.make_user(staff=True)
    application = _application()
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_application(application, staff, "Welcome")
    org = application.organization
    org.refresh_from_db()
    assert (org.membership, org.fee_status) == (MembershipLevel.NETWORK_PARTNER, FeeStatus.DUE)
    assert application.decided_by_id == staff.pk and application.decision_note == "Welcome"
    assert mail.outbox[-1].to == [application.applicant.email]
    assert "fee is due" in mail.outbox[-1].body
    change = AuditEvent.objects.get(action="organizations.organization.set_membership")
    assert change.data["changes"]["membership"] == {"before": "none", "after": "network_partner"}
    # Fee due: the applicant is not yet a member.
    f.make_agreement([org])
    for setup in (f.verify_identity, f.accept_undertaking, f.give_mfa):
        setup(application.applicant)
    assert not nonpublic_access(application.applicant).allowed


def test_approval_with_the_requested_waiver_admits_the_applicant():
    staff = f.make_user(staff=True)
    application = _application(waiver=True)
    services.approve_application(application, staff, grant_waiver=True)
    org = application.organization
    org.refresh_from_db()
    assert org.fee_status == FeeStatus.WAIVED
    assert org.fee_waiver_reason == "We share prioritized data"
    f.make_agreement([org], kind="network_partner_agreement")
    for setup in (f.verify_identity, f.accept_undertaking, f.give_mfa):
        setup(application.applicant)
    assert nonpublic_access(application.applicant).allowed


def test_a_waiver_requested_but_not_granted_leaves_the_fee_due():
    application = _application(waiver=True)
    services.approve_application(application, f.make_user(staff=True))
    application.organization.refresh_from_db()
    assert application.organization.fee_status == FeeStatus.DUE


def test_a_waiver_cannot_be_granted_unasked():
    application = _application()
    with pytest.raises(ValidationError, match="did not ask"):
        services.approve_application(application, f.make_user(staff=True), grant_waiver=True)
    application.refresh_from_db()
    assert application.state == S.SUBMITTED


def test_an_unverified_organization_is_verified_before_approval():
    staff = f.make_user(staff=True)
    application = _application(verified=False)
    with pytest.raises(ValidationError, match="Verify"):
        services.approve_application(application, staff)
    services.verify_organization(application.organization, by=staff)
    services.approve_application(application, staff)
    assert application.state == S.APPROVED


def test_rejection_needs_a_reason_and_tells_the_applicant(django_capture_on_commit_callbacks):
    staff = f.make_user(staff=True)
    application = _application()
    with pytest.raises(ValidationError):
        services.reject_application(application, staff, "  ")
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_application(application, staff, "Not a research institution")
    assert "Not a research institution" in mail.outbox[-1].body
    application.organization.refresh_from_db()
    assert application.organization.membership == MembershipLevel.NONE


def test_only_the_applicant_withdraws():
    application = _application()
    with pytest.raises(ValidationError, match="Only the applicant"):
        services.withdraw_application(application, f.make_user(staff=True))
    services.withdraw_application(application, application.applicant)
    assert application.state == S.WITHDRAWN


def test_applying_needs_a_current_affiliation():
    org = f.make_organization(membership=MembershipLevel.NONE)
    user = f.make_user()
    with pytest.raises(ValidationError, match="belong to"):
        services.apply_network_partner(user, org, "Why", False, "")
    f.affiliate(user, org, end=f.days(-1))
    with pytest.raises(ValidationError, match="belong to"):
        services.apply_network_partner(user, org, "Why", False, "")


def test_a_named_organization_may_apply_before_staff_confirm():
    named = services.name_organization(f.make_user(), "New Imaging Lab", "DE", "")
    application = services.apply_network_partner(
        named.affiliation.user, named.organization, "Why", False, ""
    )
    assert application.state == S.SUBMITTED


def test_a_member_organization_cannot_apply():
    org = f.make_organization(membership=MembershipLevel.PARTNER)
    user = f.make_user()
    f.affiliate(user, org)
    with pytest.raises(ValidationError, match="already a partner"):
        services.apply_network_partner(user, org, "Why", False, "")


def test_one_open_application_per_organization():
    application = _application()
    with pytest.raises(ValidationError, match="already waiting"):
        services.apply_network_partner(
            application.applicant, application.organization, "Again", False, ""
        )
    services.withdraw_application(application, application.applicant)
    again = services.apply_network_partner(
        application.applicant, application.organization, "Again", False, ""
    )
    assert again.state == S.SUBMITTED


@pytest.mark.parametrize(
    ("motivation", "waiver", "reason"), [("", False, ""), ("Why", True, ""), ("Why", True, "  ")]
)
def test_applying_needs_a_motivation_and_a_reason_for_a_waiver(motivation, waiver, reason):
    org = f.make_organization(membership=MembershipLevel.NONE)
    user = f.make_user()
    f.affiliate(user, org)
    with pytest.raises(ValidationError):
        services.apply_network_partner(user, org, motivation, waiver, reason)
    assert not NetworkPartnerApplication.objects.exists()
