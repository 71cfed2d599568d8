"""Network partner applications: an organization asks to join, staff decide.

Policy: researchers outside the consortium can become part of it "by becoming network
partner. The membership fee for network partners is low, but some fee is important as a
means to establish that a meaningful commitment has been made. It can be waived if the
network partner contributes by other means, for example by sharing prioritized data."

An application moves through the table ``TRANSITIONS``; any other (state, event) pair
raises ``InvalidTransition``. Approval makes the organization a network partner with its
fee due, or waived with the applicant's reason when staff grant the requested waiver.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aidahub.web.audit.services import record
from aidahub.web.core import notify
from aidahub.web.organizations.changes import changes, snapshot
from aidahub.web.organizations.models import (
    Affiliation,
    ApplicationState,
    FeeStatus,
    MembershipLevel,
    NetworkPartnerApplication,
    Organization,
)
from aidahub.web.organizations.recipients import staff_addresses

__all__ = [
    "TRANSITIONS",
    "Event",
    "InvalidTransition",
    "apply_network_partner",
    "approve_application",
    "next_state",
    "reject_application",
    "withdraw_application",
]


class Event:
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"

    ALL = (APPROVE, REJECT, WITHDRAW)


# (state, event) -> new state. A decided or withdrawn application is final: the
# organization applies again if it wants another decision.
TRANSITIONS: dict[tuple[str, str], str] = {
    (ApplicationState.SUBMITTED, Event.APPROVE): ApplicationState.APPROVED,
    (ApplicationState.SUBMITTED, Event.REJECT): ApplicationState.REJECTED,
    (ApplicationState.SUBMITTED, Event.WITHDRAW): ApplicationState.WITHDRAWN,
}


class InvalidTransition(ValidationError):
    """The event is not allowed in the application's current state."""

    def __init__(self, state: str, event: str):
        label = ApplicationState(state).label if state in ApplicationState.values else state
        super().__init__(
            _("Cannot %(event)s an application that is %(state)s.")
            % {"event": event, "state": label}
        )
        self.state = state
        self.event = event


def next_state(state: str, event: str) -> str:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(state, event) from None


def apply_network_partner(
    user,
    organization: Organization,
    motivation: str,
    fee_waiver_requested: bool = False,
    reason: str = "",
    *,
    request=None,
) -> NetworkPartnerApplication:
    """A person applies for network partnership on behalf of an organization they belong to."""
    motivation = motivation.strip()
    reason = reason.strip()
    if not motivation:
        raise ValidationError({"motivation": _("Say why the organization wants to join.")})
    if fee_waiver_requested and not reason:
        raise ValidationError(
            {
                "fee_waiver_reason": _(
                    "Give the reason for waiving the fee, such as the data shared."
                )
            }
        )
    today = timezone.localdate()
    belongs = any(
        a.is_current(today)
        for a in Affiliation.objects.filter(user=user, organization=organization)
    )
    if not belongs:
        raise ValidationError(_("You can apply only for an organization you belong to."))
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        if org.membership != MembershipLevel.NONE:
            raise ValidationError(
                _("%(name)s is already a %(level)s.")
                % {"name": org.name, "level": org.get_membership_display()}
            )
        if org.network_applications.filter(state=ApplicationState.SUBMITTED).exists():
            raise ValidationError(
                _("An application for %(name)s is already waiting for a decision.")
                % {"name": org.name}
            )
        application = NetworkPartnerApplication(
            organization=org,
            applicant=user,
            motivation=motivation,
            fee_waiver_requested=fee_waiver_requested,
            fee_waiver_reason=reason if fee_waiver_requested else "",
        )
        try:
            with transaction.atomic():
                application.save()
        except IntegrityError:  # a concurrent twin won the race for the open application
            raise ValidationError(
                _("An application for %(name)s is already waiting for a decision.")
                % {"name": org.name}
            ) from None
        record(
            "organizations.application.submit",
            actor=user,
            obj=application,
            request=request,
            data={
                "organization": org.pk,
                "changes": changes(
                    {},
                    snapshot(application, ("state", "fee_waiver_requested", "fee_waiver_reason")),
                ),
            },
        )
        notify.send(
            "network_partner_application_submitted",
            staff_addresses(),
            {"application": application, "organization": org, "user": user},
        )
    return application


def _locked(application: NetworkPartnerApplication) -> NetworkPartnerApplication:
    return NetworkPartnerApplication.objects.select_for_update().get(pk=application.pk)


def _decide(row, event: str, by, note: str, request) -> str:
    before = row.state
    row.state = next_state(row.state, event)
    row.decided_by = by
    row.decided_at = timezone.now()
    row.decision_note = note
    row.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    record(
        f"organizations.application.{event}",
        actor=by,
        obj=row,
        request=request,
        data={
            "organization": row.organization_id,
            "note": note,
            "changes": {"state": {"before": before, "after": row.state}},
        },
    )
    return before


def _refresh(application: NetworkPartnerApplication, row: NetworkPartnerApplication) -> None:
    for name in ("state", "decided_by_id", "decided_at", "decision_note"):
        setattr(application, name, getattr(row, name))


def approve_application(
    application: NetworkPartnerApplication,
    by,
    note: str = "",
    *,
    grant_waiver: bool = False,
    request=None,
) -> NetworkPartnerApplication:
    """Staff approve: the organization becomes a network partner with its fee due, or
    waived for the applicant's reason when *grant_waiver* answers their request."""
    with transaction.atomic():
        row = _locked(application)
        next_state(row.state, Event.APPROVE)  # refuse before looking further
        if grant_waiver and not row.fee_waiver_requested:
            raise ValidationError(_("The applicant did not ask for the fee to be waived."))
        org = Organization.objects.select_for_update().get(pk=row.organization_id)
        if not org.verified:
            raise ValidationError(
                _("Verify %(name)s before approving its application.") % {"name": org.name}
            )
        if org.membership != MembershipLevel.NONE:
            raise ValidationError(
                _("%(name)s is already a %(level)s.")
                % {"name": org.name, "level": org.get_membership_display()}
            )
        _decide(row, Event.APPROVE, by, note.strip(), request)
        fields = ("membership", "fee_status", "fee_waiver_reason")
        before = snapshot(org, fields)
        org.membership = MembershipLevel.NETWORK_PARTNER
        if grant_waiver:
            org.fee_status = FeeStatus.WAIVED
            org.fee_waiver_reason = row.fee_waiver_reason
        else:
            org.fee_status = FeeStatus.DUE
            org.fee_waiver_reason = ""
        org.save(update_fields=[*fields, "updated_at"])
        record(
            "organizations.organization.set_membership",
            actor=by,
            obj=org,
            request=request,
            data={"application": row.pk, "changes": changes(before, snapshot(org, fields))},
        )
        notify.send(
            "network_partner_application_approved",
            [row.applicant.email],
            {"application": row, "organization": org, "fee_waived": grant_waiver},
        )
    _refresh(application, row)
    return row


def reject_application(
    application: NetworkPartnerApplication, by, note: str, *, request=None
) -> NetworkPartnerApplication:
    """Staff reject, saying why; the applicant is told."""
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say why the application is rejected.")})
    with transaction.atomic():
        row = _locked(application)
        _decide(row, Event.REJECT, by, note, request)
        notify.send(
            "network_partner_application_rejected",
            [row.applicant.email],
            {"application": row, "organization": row.organization},
        )
    _refresh(application, row)
    return row


def withdraw_application(
    application: NetworkPartnerApplication, by, *, request=None
) -> NetworkPartnerApplication:
    """The applicant takes the application back before staff decide."""
    with transaction.atomic():
        row = _locked(application)
        if row.applicant_id != by.pk:
            raise ValidationError(_("Only the applicant can withdraw an application."))
        _decide(row, Event.WITHDRAW, by, "", request)
    _refresh(application, row)
    return row
