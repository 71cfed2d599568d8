"""Reads about a person's account: profile, two-factor status, identity, undertaking.

Each takes the user it is about; none is a way to see another person's account.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from aidahub.web.accounts import undertaking
from aidahub.web.accounts.models import IdentityVerification, Profile, UndertakingAcceptance

__all__ = [
    "current_identity",
    "current_undertaking_acceptance",
    "email_addresses",
    "has_totp",
    "profile_of",
]


def has_totp(user) -> bool:
    """Has *user* an authenticator app (TOTP) set up? Recovery codes alone do not count."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def profile_of(user) -> Profile:
    """The person's profile; an unsaved empty one when they have none yet."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def current_identity(user) -> IdentityVerification | None:
    """The newest identity verification that is not revoked, if any."""
    return IdentityVerification.objects.filter(user=user, revoked_at__isnull=True).first()


def current_undertaking_acceptance(user) -> UndertakingAcceptance | None:
    """The person's acceptance of the undertaking in the version now in force, if any."""
    return UndertakingAcceptance.objects.filter(
        user=user, version=undertaking.current().version
    ).first()


def email_addresses(user) -> list[EmailAddress]:
    return list(EmailAddress.objects.filter(user=user).order_by("-primary", "email"))
