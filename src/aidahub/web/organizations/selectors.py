"""Reads of organizations and membership, scoped to the person asking.

A person sees their own affiliations, memberships, applications and the agreements that
cover their organizations. The consortium directory (member organizations, signatories,
research groups) is non-public: ``consortium_directory`` raises ``NotAllowed`` unless
``policies.nonpublic_access`` admits the person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from aidahub.web.organizations.models import (
    Affiliation,
    Agreement,
    ApplicationState,
    MembershipLevel,
    NetworkPartnerApplication,
    Organization,
    PersonalMembership,
    ResearchGroup,
    Signatory,
)
from aidahub.web.organizations.policies import Decision, nonpublic_access

__all__ = [
    "AgreementCover",
    "ConsortiumDirectory",
    "NotAllowed",
    "affiliations_of",
    "agreements_covering",
    "applications_of",
    "consortium_directory",
    "organizations_for",
    "organizations_open_to_apply",
    "personal_memberships_of",
    "verified_organizations",
]


class NotAllowed(Exception):
    """The person may not see non-public consortium information; ``decision`` says why."""

    def __init__(self, decision: Decision):
        super().__init__(", ".join(r.value for r in decision.missing))
        self.decision = decision


def _anonymous(user) -> bool:
    return user is None or not user.is_authenticated


def affiliations_of(user) -> QuerySet[Affiliation]:
    """Every affiliation of *user*, current or past, confirmed or waiting."""
    if _anonymous(user):
        return Affiliation.objects.none()
    return (
        Affiliation.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name", "-start")
    )


def organizations_for(user, *, today: dt.date | None = None) -> list[Organization]:
    """The organizations *user* belongs to today, by their own word or confirmed."""
    today = today or timezone.localdate()
    seen: dict[int, Organization] = {}
    for affiliation in affiliations_of(user):
        if affiliation.is_current(today):
            seen.setdefault(affiliation.organization_id, affiliation.organization)
    return list(seen.values())


def organizations_open_to_apply(user) -> list[Organization]:
    """The person's organizations that are not members and have no application waiting."""
    waiting = set(
        NetworkPartnerApplication.objects.filter(state=ApplicationState.SUBMITTED).values_list(
            "organization_id", flat=True
        )
    )
    return [
        org
        for org in organizations_for(user)
        if org.membership == MembershipLevel.NONE and org.pk not in waiting
    ]


def personal_memberships_of(user) -> QuerySet[PersonalMembership]:
    if _anonymous(user):
        return PersonalMembership.objects.none()
    return PersonalMembership.objects.filter(user=user).order_by("-start")


def applications_of(user) -> QuerySet[NetworkPartnerApplication]:
    if _anonymous(user):
        return NetworkPartnerApplication.objects.none()
    return (
        NetworkPartnerApplication.objects.filter(applicant=user)
        .select_related("organization")
        .order_by("-submitted_at")
    )


@dataclass(frozen=True)
class AgreementCover:
    agreement: Agreement
    in_force: bool
    counts: bool  # in force and binding its parties to non-disclosure


def agreements_covering(user, *, today: dt.date | None = None) -> list[AgreementCover]:
    """Agreements to which one of the person's confirmed, current organizations is party."""
    today = today or timezone.localdate()
    orgs = {
        a.organization_id for a in affiliations_of(user) if a.is_confirmed and a.is_current(today)
    }
    if not orgs:
        return []
    agreements = (
        Agreement.objects.filter(parties__in=orgs)
        .distinct()
        .prefetch_related("parties")
        .order_by("-valid_from", "title")
    )
    covers = []
    for agreement in agreements:
        in_force = agreement.is_valid(today)
        covers.append(
            AgreementCover(agreement, in_force, in_force and agreement.binds_non_disclosure)
        )
    return covers


def verified_organizations() -> QuerySet[Organization]:
    """The organizations a person can pick as theirs (names only are shown)."""
    return Organization.objects.filter(verified=True).order_by("name")


@dataclass(frozen=True)
class ConsortiumDirectory:
    organizations: list[Organization]
    research_groups: list[ResearchGroup]


def consortium_directory(user, *, today: dt.date | None = None) -> ConsortiumDirectory:
    """The members' area: member organizations with their level and authorized
    signatories, and research groups with their members. Raises ``NotAllowed``."""
    decision = nonpublic_access(user, today=today)
    if not decision.allowed:
        raise NotAllowed(decision)
    organizations = (
        Organization.objects.filter(verified=True)
        .exclude(membership=MembershipLevel.NONE)
        .prefetch_related(Prefetch("signatories", queryset=Signatory.objects.order_by("name")))
        .order_by("name")
    )
    groups = ResearchGroup.objects.select_related("lead", "lead__hub_profile").prefetch_related(
        "members", "members__hub_profile"
    )
    return ConsortiumDirectory(list(organizations), list(groups.order_by("name")))
