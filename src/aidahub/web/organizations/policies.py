"""Who may see non-public consortium data: one function, deny by default.

The policy shares data "only when it is ethically approved, and when a contractual
agreement is in place that includes non-disclosure of data, such as partner contracts",
and names identity affirmation, confidentiality undertakings and logged, monitored access
as organizational measures. ``nonpublic_access(user)`` checks, for a person:

1. an active account;
2. active membership: a current personal membership (project, fellowship, clinical
   evaluation), or a current affiliation, confirmed by staff, with a verified partner or
   network-partner organization whose fee is paid or waived;
3. verified identity (institutional sign-in, or a check recorded by staff);
4. the confidentiality undertaking accepted in the version in force;
5. multi-factor authentication (TOTP) set up;
6. a valid agreement with a non-disclosure clause to which one of their current
   organizations is a party.

Staff (the data director and system administrators) run the hub under its own agreements;
for them only an active account and MFA are checked. Later issues call
``nonpublic_access`` (or ``can_see_nonpublic``) before every read of non-public data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidahub.web.accounts import undertaking
from aidahub.web.organizations.models import (
    Affiliation,
    Agreement,
    MembershipLevel,
    PersonalMembership,
)


class Requirement(StrEnum):
    ACCOUNT = "account"
    MEMBERSHIP = "membership"
    IDENTITY = "identity"
    UNDERTAKING = "undertaking"
    MFA = "mfa"
    AGREEMENT = "agreement"


MESSAGES = {
    Requirement.ACCOUNT: _("Sign in with an active account."),
    Requirement.MEMBERSHIP: _(
        "You are not a member of the consortium: your organization is not a partner or a "
        "network partner with its fee settled, and you have no current membership through "
        "a project, fellowship or clinical evaluation."
    ),
    Requirement.IDENTITY: _(
        "Your identity is not verified: sign in through your institution, or ask the data "
        "director to record how they checked it."
    ),
    Requirement.UNDERTAKING: _(
        "You have not accepted the confidentiality undertaking in its current version."
    ),
    Requirement.MFA: _("Set up two-factor authentication (an authenticator app)."),
    Requirement.AGREEMENT: _(
        "No valid agreement with a non-disclosure clause binds your organization to the hub."
    ),
}


@dataclass(frozen=True)
class Decision:
    missing: tuple[Requirement, ...]

    @property
    def allowed(self) -> bool:
        return not self.missing

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def reasons(self) -> list[str]:
        return [str(MESSAGES[r]) for r in self.missing]


def has_mfa(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def identity_verified(user) -> bool:
    return user.identity_verifications.filter(revoked_at__isnull=True).exists()


def current_affiliations(user, today: dt.date):
    """Affiliations in force today that staff have confirmed; a person's own claim is not."""
    rows = Affiliation.objects.filter(user=user, confirmed_at__isnull=False).select_related(
        "organization"
    )
    return [a for a in rows if a.is_current(today)]


def has_active_membership(user, today: dt.date) -> bool:
    personal = PersonalMembership.objects.filter(user=user, start__lte=today, end__gte=today)
    if personal.exists():
        return True
    for affiliation in current_affiliations(user, today):
        org = affiliation.organization
        if org.verified and org.membership != MembershipLevel.NONE and org.fee_settled:
            return True
    return False


def has_non_disclosure_agreement(user, today: dt.date) -> bool:
    orgs = [a.organization_id for a in current_affiliations(user, today)]
    if not orgs:
        return False
    agreements = Agreement.objects.filter(parties__in=orgs).distinct()
    return any(a.binds_non_disclosure and a.is_valid(today) for a in agreements)


def nonpublic_access(user, *, today: dt.date | None = None) -> Decision:
    """What *user* lacks to see non-public consortium data; nothing missing means allowed."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Decision((Requirement.ACCOUNT,))
    today = today or timezone.localdate()
    if user.is_staff:
        return Decision(() if has_mfa(user) else (Requirement.MFA,))
    checks = (
        (Requirement.MEMBERSHIP, lambda: has_active_membership(user, today)),
        (Requirement.IDENTITY, lambda: identity_verified(user)),
        (Requirement.UNDERTAKING, lambda: undertaking.has_accepted_current(user)),
        (Requirement.MFA, lambda: has_mfa(user)),
        (Requirement.AGREEMENT, lambda: has_non_disclosure_agreement(user, today)),
    )
    return Decision(tuple(req for req, ok in checks if not ok()))


def can_see_nonpublic(user, *, today: dt.date | None = None) -> bool:
    return nonpublic_access(user, today=today).allowed
