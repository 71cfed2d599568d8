"""Every change to organizations, affiliations, personal memberships, signatories and
research groups.

Each function checks the state, runs in one transaction, writes one audit event
(``organizations.<object>.<verb>``, with before/after values where fields change) and then
notifies. Network partner applications live in ``application_services`` and agreements with
their signed files in ``agreement_services``; their functions are re-exported here so that
callers need one module.

Policy: membership comes through partnership, through an AIDA funded activity ("a project,
fellowship or clinical evaluation") or through network partnership. Whether the records
below admit a person to non-public data is decided in ``policies.nonpublic_access``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aidahub.web.audit.services import record
from aidahub.web.core import notify
from aidahub.web.organizations.agreement_services import (
    amend_agreement,
    attach_signed_file,
    file_agreement,
    open_signed_file,
    terminate_agreement,
)
from aidahub.web.organizations.application_services import (
    InvalidTransition,
    apply_network_partner,
    approve_application,
    reject_application,
    withdraw_application,
)
from aidahub.web.organizations.changes import changes, snapshot
from aidahub.web.organizations.models import (
    Affiliation,
    AffiliationRole,
    FeeStatus,
    MembershipBasis,
    MembershipLevel,
    Organization,
    OrganizationType,
    PersonalMembership,
    ResearchGroup,
    Signatory,
)
from aidahub.web.organizations.recipients import staff_addresses

__all__ = [
    "InvalidTransition",
    "NamedOrganization",
    "add_affiliation",
    "add_group_member",
    "add_signatory",
    "amend_agreement",
    "apply_network_partner",
    "approve_application",
    "attach_signed_file",
    "choose_organization",
    "confirm_affiliation",
    "create_organization",
    "create_research_group",
    "end_affiliation",
    "end_personal_membership",
    "file_agreement",
    "name_organization",
    "open_signed_file",
    "record_personal_membership",
    "reject_application",
    "remove_group_member",
    "remove_signatory",
    "set_group_members",
    "staff_addresses",
    "terminate_agreement",
    "verify_organization",
    "withdraw_application",
]

ORGANIZATION_FIELDS = (
    "name",
    "organization_number",
    "country",
    "kind",
    "is_public_authority",
    "membership",
    "fee_status",
    "fee_waiver_reason",
    "verified",
)
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _clean(obj) -> None:
    # Model validation gives the same messages the admin would, before anything is saved.
    obj.full_clean(validate_unique=True, validate_constraints=True)


# --- Organizations --------------------------------------------------------------------------


def create_organization(
    *,
    by,
    name: str,
    country: str = "SE",
    organization_number: str = "",
    kind: str = OrganizationType.OTHER,
    is_public_authority: bool = False,
    membership: str = MembershipLevel.NONE,
    fee_status: str = FeeStatus.NOT_APPLICABLE,
    fee_waiver_reason: str = "",
    verified: bool = True,
    request=None,
) -> Organization:
    """Staff record an organization; one they enter themselves counts as checked."""
    org = Organization(
        name=" ".join(name.split()),
        country=country.strip().upper(),
        organization_number=organization_number.strip(),
        kind=kind,
        is_public_authority=is_public_authority,
        membership=membership,
        fee_status=fee_status,
        fee_waiver_reason=fee_waiver_reason.strip(),
        verified=verified,
        created_by=by,
    )
    _clean(org)
    with transaction.atomic():
        org.save()
        record(
            "organizations.organization.create",
            actor=by,
            obj=org,
            request=request,
            data={"changes": changes({}, snapshot(org, ORGANIZATION_FIELDS))},
        )
    return org


def verify_organization(organization: Organization, *, by, request=None) -> Organization:
    """Staff have checked that an organization named by a user exists as named."""
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        if org.verified:
            raise ValidationError(_("%(name)s is already verified.") % {"name": org.name})
        org.verified = True
        org.save(update_fields=["verified", "updated_at"])
        record(
            "organizations.organization.verify",
            actor=by,
            obj=org,
            request=request,
            data={"changes": {"verified": {"before": False, "after": True}}},
        )
    organization.verified = True
    return org


def _name_key(name: str) -> str:
    # casefold in Python, not the database: SQLite's lower() only folds ASCII, and the
    # consortium's organizations are few enough to compare here.
    return " ".join(name.split()).casefold()


def _number_key(number: str) -> str:
    # 202100-3096, 2021003096 and "202100 3096" are one registration number.
    return re.sub(r"[^0-9A-Za-z]", "", number).upper()


def _find(candidates, name: str, country: str, number: str) -> Organization | None:
    rows = list(candidates)
    wanted = _number_key(number)
    if wanted:
        for org in rows:
            if org.country == country and _number_key(org.organization_number) == wanted:
                return org
    # By name only within the country: "University Hospital" is not one organization
    # across borders, and a wrong match would attach the person to someone else's contracts.
    key = _name_key(name)
    return next(
        (org for org in rows if org.country == country and _name_key(org.name) == key), None
    )


@dataclass(frozen=True)
class NamedOrganization:
    organization: Organization
    affiliation: Affiliation
    created: bool  # a new, unverified organization


def _claim(user, org: Organization, role: str, request) -> Affiliation:
    """A pending affiliation: the person says they belong to *org*; staff confirm it."""
    today = timezone.localdate()
    for existing in Affiliation.objects.filter(user=user, organization=org):
        if existing.is_current(today):
            return existing
    affiliation = Affiliation.objects.create(user=user, organization=org, role=role, start=today)
    record(
        "organizations.affiliation.claim",
        actor=user,
        obj=affiliation,
        request=request,
        data={
            "organization": org.pk,
            "changes": changes({}, {"role": role, "start": today, "confirmed": False}),
        },
    )
    return affiliation


def name_organization(
    user,
    name: str,
    country: str,
    organization_number: str = "",
    *,
    role: str = AffiliationRole.RESEARCHER,
    request=None,
) -> NamedOrganization:
    """A person names the organization they belong to.

    A verified organization in the same country with the same name (ignoring case and
    spacing) or the same registration number is matched; failing that, an unverified one
    already named by someone else; failing that, a new organization is recorded unverified
    and staff are told. Either way the person's affiliation waits for staff to confirm it.
    """
    name = " ".join(name.split())
    country = country.strip().upper()
    organization_number = organization_number.strip()
    if not name:
        raise ValidationError({"name": _("Give the organization's name.")})
    if not _COUNTRY.match(country):
        raise ValidationError({"country": _("Use the two-letter country code, such as SE.")})
    with transaction.atomic():
        org = _find(Organization.objects.filter(verified=True), name, country, organization_number)
        if org is None:
            org = _find(
                Organization.objects.filter(verified=False), name, country, organization_number
            )
        created = org is None
        if created:
            org = Organization(
                name=name,
                country=country,
                organization_number=organization_number,
                verified=False,
                created_by=user,
            )
            _clean(org)
            org.save()
            record(
                "organizations.organization.name",
                actor=user,
                obj=org,
                request=request,
                data={"changes": changes({}, snapshot(org, ORGANIZATION_FIELDS))},
            )
        affiliation = _claim(user, org, role, request)
        if created:
            notify.send(
                "organization_named",
                staff_addresses(),
                {"organization": org, "user": user, "affiliation": affiliation},
            )
    return NamedOrganization(org, affiliation, created)


def choose_organization(
    user, organization: Organization, *, role: str = AffiliationRole.RESEARCHER, request=None
) -> Affiliation:
    """A person picks their organization from the verified ones."""
    if not organization.verified:
        raise ValidationError(_("Choose a verified organization, or name a new one."))
    with transaction.atomic():
        return _claim(user, organization, role, request)


# --- Affiliations ---------------------------------------------------------------------------

AFFILIATION_FIELDS = ("role", "start", "end", "confirmed_at")


def add_affiliation(
    user,
    organization: Organization,
    *,
    by,
    role: str = AffiliationRole.RESEARCHER,
    start: dt.date | None = None,
    end: dt.date | None = None,
    request=None,
) -> Affiliation:
    """Staff record that a person belongs to an organization; that is its confirmation."""
    if start and end and end < start:
        raise ValidationError(_("An affiliation cannot end before it starts."))
    with transaction.atomic():
        affiliation = Affiliation.objects.create(
            user=user,
            organization=organization,
            role=role,
            start=start,
            end=end,
            confirmed_at=timezone.now(),
            confirmed_by=by,
        )
        record(
            "organizations.affiliation.add",
            actor=by,
            obj=affiliation,
            request=request,
            data={
                "organization": organization.pk,
                "user": user.pk,
                "changes": changes({}, snapshot(affiliation, AFFILIATION_FIELDS)),
            },
        )
    return affiliation


def confirm_affiliation(affiliation: Affiliation, *, by, request=None) -> Affiliation:
    """Staff have checked that the person belongs to the organization they named."""
    with transaction.atomic():
        row = Affiliation.objects.select_for_update().get(pk=affiliation.pk)
        if row.confirmed_at is not None:
            raise ValidationError(_("This affiliation is already confirmed."))
        row.confirmed_at = timezone.now()
        row.confirmed_by = by
        row.save(update_fields=["confirmed_at", "confirmed_by"])
        record(
            "organizations.affiliation.confirm",
            actor=by,
            obj=row,
            request=request,
            data={"changes": {"confirmed_at": {"before": None, "after": row.confirmed_at}}},
        )
    affiliation.confirmed_at, affiliation.confirmed_by = row.confirmed_at, row.confirmed_by
    return row


def end_affiliation(
    affiliation: Affiliation, *, last_day: dt.date, by, request=None
) -> Affiliation:
    """The person no longer belongs to the organization after *last_day*."""
    with transaction.atomic():
        row = Affiliation.objects.select_for_update().get(pk=affiliation.pk)
        if row.end is not None and row.end <= last_day:
            raise ValidationError(
                _("This affiliation already ended on %(day)s.") % {"day": row.end.isoformat()}
            )
        if row.start is not None and last_day < row.start:
            raise ValidationError(_("An affiliation cannot end before it starts."))
        before = row.end
        row.end = last_day
        row.save(update_fields=["end"])
        record(
            "organizations.affiliation.end",
            actor=by,
            obj=row,
            request=request,
            data={"changes": {"end": {"before": before, "after": last_day}}},
        )
    affiliation.end = last_day
    return row


# --- Personal membership --------------------------------------------------------------------


def record_personal_membership(
    user,
    *,
    basis: str,
    activity: str,
    start: dt.date,
    end: dt.date,
    by,
    request=None,
) -> PersonalMembership:
    """Staff record membership through a funded activity, for its duration (last day *end*)."""
    if basis not in MembershipBasis.values:
        raise ValidationError({"basis": _("Choose project, fellowship or clinical evaluation.")})
    membership = PersonalMembership(
        user=user, basis=basis, activity=activity.strip(), start=start, end=end, recorded_by=by
    )
    _clean(membership)
    with transaction.atomic():
        membership.save()
        record(
            "organizations.personal_membership.record",
            actor=by,
            obj=membership,
            request=request,
            data={
                "user": user.pk,
                "changes": changes({}, snapshot(membership, ("basis", "activity", "start", "end"))),
            },
        )
    return membership


def end_personal_membership(
    membership: PersonalMembership, *, last_day: dt.date, by, request=None
) -> PersonalMembership:
    """The activity ended early: access through it ends after *last_day*."""
    with transaction.atomic():
        row = PersonalMembership.objects.select_for_update().get(pk=membership.pk)
        if last_day < row.start:
            raise ValidationError(
                _("A membership cannot end before it starts; delete a mistaken one instead.")
            )
        if row.end <= last_day:
            raise ValidationError(
                _("This membership already ends on %(day)s.") % {"day": row.end.isoformat()}
            )
        before = row.end
        row.end = last_day
        row.save(update_fields=["end"])
        record(
            "organizations.personal_membership.end",
            actor=by,
            obj=row,
            request=request,
            data={"changes": {"end": {"before": before, "after": last_day}}},
        )
    membership.end = last_day
    return row


# --- Signatories ----------------------------------------------------------------------------


def add_signatory(
    organization: Organization,
    *,
    name: str,
    by,
    title: str = "",
    email: str = "",
    user=None,
    request=None,
) -> Signatory:
    """A person authorized to sign agreements for the organization (policy: cases failed
    when "it has not been possible to engage an authorized signatory")."""
    signatory = Signatory(
        organization=organization, name=name.strip(), title=title.strip(), email=email, user=user
    )
    _clean(signatory)
    with transaction.atomic():
        signatory.save()
        record(
            "organizations.signatory.add",
            actor=by,
            obj=signatory,
            request=request,
            data={
                "organization": organization.pk,
                "changes": changes({}, snapshot(signatory, ("name", "title", "email", "user"))),
            },
        )
    return signatory


def remove_signatory(signatory: Signatory, *, by, request=None) -> None:
    with transaction.atomic():
        record(
            "organizations.signatory.remove",
            actor=by,
            obj=signatory,
            request=request,
            data={
                "organization": signatory.organization_id,
                "changes": changes(snapshot(signatory, ("name", "title", "email", "user")), {}),
            },
        )
        signatory.delete()


# --- Research groups ------------------------------------------------------------------------


def create_research_group(
    *,
    name: str,
    by,
    description: str = "",
    lead=None,
    members: Iterable = (),
    request=None,
) -> ResearchGroup:
    group = ResearchGroup(name=" ".join(name.split()), description=description, lead=lead)
    _clean(group)
    members = list(members)
    with transaction.atomic():
        group.save()
        group.members.set(members)
        record(
            "organizations.research_group.create",
            actor=by,
            obj=group,
            request=request,
            data={
                "changes": changes({}, snapshot(group, ("name", "description", "lead"))),
                "members_added": sorted(u.pk for u in members),
            },
        )
    return group


def set_group_members(group: ResearchGroup, members: Iterable, *, by, request=None) -> None:
    """Make the group's members exactly *members*; who came and went is recorded."""
    wanted = {u.pk: u for u in members}
    with transaction.atomic():
        ResearchGroup.objects.select_for_update().get(pk=group.pk)
        current = set(group.members.values_list("pk", flat=True))
        added = sorted(set(wanted) - current)
        removed = sorted(current - set(wanted))
        if not added and not removed:
            return
        group.members.add(*added)
        group.members.remove(*removed)
        record(
            "organizations.research_group.members",
            actor=by,
            obj=group,
            request=request,
            data={"members_added": added, "members_removed": removed},
        )


def add_group_member(group: ResearchGroup, user, *, by, request=None) -> None:
    with transaction.atomic():
        ResearchGroup.objects.select_for_update().get(pk=group.pk)
        if group.members.filter(pk=user.pk).exists():
            raise ValidationError(_("%(user)s is already a member.") % {"user": user})
        group.members.add(user)
        record(
            "organizations.research_group.add_member",
            actor=by,
            obj=group,
            request=request,
            data={"members_added": [user.pk]},
        )


def remove_group_member(group: ResearchGroup, user, *, by, request=None) -> None:
    with transaction.atomic():
        ResearchGroup.objects.select_for_update().get(pk=group.pk)
        if not group.members.filter(pk=user.pk).exists():
            raise ValidationError(_("%(user)s is not a member.") % {"user": user})
        group.members.remove(user)
        record(
            "organizations.research_group.remove_member",
            actor=by,
            obj=group,
            request=request,
            data={"members_removed": [user.pk]},
        )
