"""The requirements for non-public data as a checklist a person can act on.

Each item is one requirement of ``policies.nonpublic_access``: met or missing, with the
policy's reason and where to fix it. The accounts and allauth pages are found by URL name,
with their known addresses as a fallback; the undertaking page takes ``?next=``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from aidahub.web.organizations.policies import MESSAGES, Decision, Requirement

__all__ = ["Item", "Link", "checklist", "fix_links"]

UNDERTAKING_PATH = "/accounts/undertaking/"

TITLES = {
    Requirement.ACCOUNT: _("An active account"),
    Requirement.MEMBERSHIP: _("Membership of the consortium"),
    Requirement.IDENTITY: _("Verified identity"),
    Requirement.UNDERTAKING: _("Confidentiality undertaking"),
    Requirement.MFA: _("Two-factor authentication"),
    Requirement.AGREEMENT: _("An agreement with non-disclosure"),
}

# What nonpublic_access checks for staff and for everyone else, in its order.
STAFF_REQUIREMENTS = (Requirement.MFA,)
MEMBER_REQUIREMENTS = (
    Requirement.MEMBERSHIP,
    Requirement.IDENTITY,
    Requirement.UNDERTAKING,
    Requirement.MFA,
    Requirement.AGREEMENT,
)


@dataclass(frozen=True)
class Link:
    url: str
    label: str


@dataclass(frozen=True)
class Item:
    requirement: Requirement
    title: str
    met: bool
    reason: str = ""
    links: list[Link] = field(default_factory=list)


def _url(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return fallback


def _mail_director(subject: str) -> str:
    return f"mailto:{settings.DATA_DIRECTOR_EMAIL}?subject={quote(subject)}"


def fix_links(requirement: Requirement, next_url: str = "") -> list[Link]:
    """Where a person goes to meet *requirement*; *next_url* is where to come back to."""
    if requirement is Requirement.ACCOUNT:
        login = _url("account_login", settings.LOGIN_URL)
        return [
            Link(f"{login}?{urlencode({'next': next_url})}" if next_url else login, _("Sign in"))
        ]
    if requirement is Requirement.MEMBERSHIP:
        return [
            Link(reverse("organizations:organization"), _("Name your organization")),
            Link(
                reverse("organizations:network-partner"),
                _("Apply for network partnership"),
            ),
        ]
    if requirement is Requirement.IDENTITY:
        return [
            Link(
                _mail_director(str(_("Please verify my identity"))),
                _("Ask the data director to verify your identity"),
            )
        ]
    if requirement is Requirement.UNDERTAKING:
        query = f"?{urlencode({'next': next_url})}" if next_url else ""
        page = _url("accounts_undertaking", UNDERTAKING_PATH)
        return [Link(page + query, _("Read and accept the undertaking"))]
    if requirement is Requirement.MFA:
        return [
            Link(
                _url("mfa_activate_totp", "/accounts/2fa/"),
                _("Set up an authenticator app"),
            )
        ]
    return [
        Link(
            _mail_director(str(_("An agreement for my organization"))),
            _("Ask the data director about an agreement for your organization"),
        ),
        Link(reverse("organizations:network-partner"), _("Apply for network partnership")),
    ]


def checklist(user, decision: Decision, *, next_url: str = "") -> list[Item]:
    """Every requirement that applies to *user*, in the policy's order."""
    if user is None or not user.is_authenticated or not user.is_active:
        wanted: tuple[Requirement, ...] = (Requirement.ACCOUNT,)
    elif user.is_staff:
        wanted = STAFF_REQUIREMENTS
    else:
        wanted = MEMBER_REQUIREMENTS
    items = []
    for requirement in wanted:
        missing = requirement in decision.missing
        items.append(
            Item(
                requirement=requirement,
                title=str(TITLES[requirement]),
                met=not missing,
                reason=str(MESSAGES[requirement]) if missing else "",
                links=fix_links(requirement, next_url) if missing else [],
            )
        )
    return items
