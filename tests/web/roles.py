"""Users in every role and state the hub's permissions tell apart, built with the real models.

Policy roles (``aidahub.web.accounts.models.Role``): the data director and system
administrators (staff), the clinical council, members, and outside users. A member reaches
non-public data only when ``aidahub.web.organizations.policies.nonpublic_access`` finds
nothing missing, so besides the full member there is one member state for each requirement
that can be missing, and one whose membership has ended.

``make_user(role)`` builds the user of a role; ``client_for(role)`` signs that user in with
``Client.force_login`` (which skips allauth's two-factor stage: permission tests are about
what a session may do, not about how it was opened). The smaller builders (``affiliate``,
``add_totp`` …) are for tests that assemble a state of their own.

Every signed-in user has a verified primary e-mail address, so allauth's mandatory
verification never stands between a test and the page it asks for.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import struct
import time
from functools import lru_cache

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone

from aidahub.web.accounts import undertaking
from aidahub.web.accounts.models import (
    IdentityMethod,
    IdentityVerification,
    Profile,
    UndertakingAcceptance,
)
from aidahub.web.organizations.models import (
    Affiliation,
    AffiliationRole,
    Agreement,
    AgreementType,
    MembershipLevel,
    Organization,
    OrganizationType,
)
from aidahub.web.organizations.policies import Requirement

PASSWORD = "a-long-test-password"

ANONYMOUS = "anonymous"
OUTSIDE = "outside"
MEMBER = "member"
MEMBER_NO_MEMBERSHIP = "member_no_membership"
MEMBER_NO_IDENTITY = "member_no_identity"
MEMBER_NO_UNDERTAKING = "member_no_undertaking"
MEMBER_NO_MFA = "member_no_mfa"
MEMBER_NO_AGREEMENT = "member_no_agreement"
MEMBER_ENDED = "member_ended"
CLINICAL_COUNCIL = "clinical_council"
STAFF_NO_MFA = "staff_no_mfa"
STAFF = "staff"
INACTIVE = "inactive"

# Members lacking exactly one requirement of ``nonpublic_access``.
MEMBERS_LACKING = {
    MEMBER_NO_MEMBERSHIP: Requirement.MEMBERSHIP,
    MEMBER_NO_IDENTITY: Requirement.IDENTITY,
    MEMBER_NO_UNDERTAKING: Requirement.UNDERTAKING,
    MEMBER_NO_MFA: Requirement.MFA,
    MEMBER_NO_AGREEMENT: Requirement.AGREEMENT,
}

ROLES: tuple[str, ...] = (
    ANONYMOUS,
    OUTSIDE,
    MEMBER,
    *MEMBERS_LACKING,
    MEMBER_ENDED,
    CLINICAL_COUNCIL,
    STAFF_NO_MFA,
    STAFF,
    INACTIVE,
)

# What ``nonpublic_access`` finds missing for each role: the fixtures' own contract, checked
# by tests/web/test_permission_matrix.py. The ended member's affiliation no longer counts,
# so the agreement it reached through that affiliation stops counting too.
MISSING: dict[str, tuple[Requirement, ...]] = {
    ANONYMOUS: (Requirement.ACCOUNT,),
    OUTSIDE: (
        Requirement.MEMBERSHIP,
        Requirement.IDENTITY,
        Requirement.UNDERTAKING,
        Requirement.MFA,
        Requirement.AGREEMENT,
    ),
    MEMBER: (),
    **{role: (requirement,) for role, requirement in MEMBERS_LACKING.items()},
    MEMBER_ENDED: (Requirement.MEMBERSHIP, Requirement.AGREEMENT),
    CLINICAL_COUNCIL: (),
    STAFF_NO_MFA: (Requirement.MFA,),
    STAFF: (),
    INACTIVE: (Requirement.ACCOUNT,),
}


# -- the pieces ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # Hashing takes a fifth of a second on purpose; the matrix builds a user per test, so
    # every user shares one hash of PASSWORD (still a real hash: signing in checks it).
    return make_password(PASSWORD)


def create_user(username: str, **fields):
    """A user who can sign in by e-mail with PASSWORD; the address is verified and primary."""
    user = get_user_model().objects.create(
        username=username, email=f"{username}@example.org", password=_password_hash(), **fields
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def organization(
    name: str = "Example University Hospital",
    *,
    membership: str = MembershipLevel.PARTNER,
    verified: bool = True,
    **fields,
) -> Organization:
    fields.setdefault("kind", OrganizationType.HEALTHCARE)
    return Organization.objects.create(
        name=name, membership=membership, verified=verified, **fields
    )


def affiliate(
    user,
    org: Organization,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    role: str = AffiliationRole.RESEARCHER,
    confirmed_by=None,
) -> Affiliation:
    """An affiliation staff have confirmed (a person's own unconfirmed claim counts for
    nothing in ``nonpublic_access``)."""
    return Affiliation.objects.create(
        user=user,
        organization=org,
        role=role,
        start=start,
        end=end,
        confirmed_at=timezone.now(),
        confirmed_by=confirmed_by,
    )


def non_disclosure_agreement(*parties: Organization, today: dt.date | None = None) -> Agreement:
    """A signed partner contract in force, with the non-disclosure clause."""
    today = today or timezone.localdate()
    agreement = Agreement.objects.create(
        kind=AgreementType.PARTNER_CONTRACT,
        title="Partner contract",
        includes_non_disclosure=True,
        valid_from=today - dt.timedelta(days=365),
        valid_until=today + dt.timedelta(days=365),
        sha256=hashlib.sha256(b"signed partner contract").hexdigest(),
        uploaded_at=timezone.now(),
    )
    agreement.parties.set(parties)
    return agreement


def verify_identity(user, *, by=None) -> IdentityVerification:
    return IdentityVerification.objects.create(
        user=user,
        method=IdentityMethod.STAFF_CHECKED,
        evidence="Passport shown to the data director.",
        verified_by=by,
        verified_at=timezone.now(),
    )


def accept_undertaking(user) -> UndertakingAcceptance:
    current = undertaking.current()
    return UndertakingAcceptance.objects.create(
        user=user, version=current.version, text_sha256=current.sha256, accepted_at=timezone.now()
    )


def add_totp(user) -> str:
    """Set up an authenticator app for *user*; returns the base32 secret it shares."""
    secret = base64.b32encode(secrets.token_bytes(20)).decode("ascii")
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": encrypt(secret)}
    )
    return secret


def totp_code(secret: str, at: float | None = None, *, period: int = 30, digits: int = 6) -> str:
    """The code an authenticator app shows for *secret* (RFC 6238 over RFC 4226 HOTP).

    Written out rather than taken from allauth, so the sign-in tests check allauth against
    the standard, not against itself.
    """
    counter = int(time.time() if at is None else at) // period
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def totp_code_to_type(secret: str, *, seconds_needed: float = 10, period: int = 30) -> str:
    """The code a person would type: read early enough in its period to still be valid
    when the server checks it. A code read a moment before the period ends is refused on
    arrival (allauth allows no clock drift), so wait for the next period instead."""
    left = period - time.time() % period
    if left < seconds_needed:
        time.sleep(left + 0.05)
    return totp_code(secret, period=period)


def make_clinical_council(user) -> Profile:
    profile, _ = Profile.objects.update_or_create(user=user, defaults={"is_clinical_council": True})
    return profile


# -- the roles -------------------------------------------------------------------------------


def make_member(
    username: str = "member",
    *,
    lacking: Requirement | None = None,
    ended: bool = False,
    org: Organization | None = None,
    today: dt.date | None = None,
):
    """A member with everything ``nonpublic_access`` asks for, except *lacking*.

    Membership comes through an affiliation with a verified partner organization that has
    a partner contract in force. Without membership, the organization is verified and bound
    by the contract but is not a member; *ended* makes the affiliation end yesterday.
    """
    today = today or timezone.localdate()
    user = create_user(username)
    if org is None:
        member_level = lacking != Requirement.MEMBERSHIP
        org = organization(
            f"Hospital of {username}",
            membership=MembershipLevel.PARTNER if member_level else MembershipLevel.NONE,
        )
        if lacking != Requirement.AGREEMENT:
            non_disclosure_agreement(org, today=today)
    start = today - dt.timedelta(days=400)
    affiliate(user, org, start=start, end=today - dt.timedelta(days=1) if ended else None)
    if lacking != Requirement.IDENTITY:
        verify_identity(user)
    if lacking != Requirement.UNDERTAKING:
        accept_undertaking(user)
    if lacking != Requirement.MFA:
        add_totp(user)
    return user


def make_staff(username: str = "staff", *, mfa: bool = True):
    """The data director or a system administrator (staff and superuser)."""
    user = create_user(username, is_staff=True, is_superuser=True)
    if mfa:
        add_totp(user)
    return user


def make_user(role: str, *, username: str | None = None, today: dt.date | None = None):
    """The user of *role* (None for anonymous); *username* defaults to the role's name."""
    name = username or role
    if role == ANONYMOUS:
        return None
    if role == OUTSIDE:
        return create_user(name)
    if role == MEMBER:
        return make_member(name, today=today)
    if role in MEMBERS_LACKING:
        return make_member(name, lacking=MEMBERS_LACKING[role], today=today)
    if role == MEMBER_ENDED:
        return make_member(name, ended=True, today=today)
    if role == CLINICAL_COUNCIL:
        user = make_member(name, today=today)
        make_clinical_council(user)
        return user
    if role == STAFF_NO_MFA:
        return make_staff(name, mfa=False)
    if role == STAFF:
        return make_staff(name)
    if role == INACTIVE:
        # A full member whose account was closed: closing the account alone denies.
        user = make_member(name, today=today)
        user.is_active = False
        user.save(update_fields=["is_active"])
        return user
    raise ValueError(f"no such role: {role!r} (one of {', '.join(ROLES)})")


def client_for(role: str, client: Client | None = None, **kwargs) -> tuple[Client, object]:
    """A test client signed in as a new user of *role*, and that user.

    The inactive user is signed in too: Django's backends then refuse the session on the
    next request, which is what the hub must do when an account is closed mid-session.
    """
    client = client or Client()
    user = make_user(role, **kwargs)
    if user is not None:
        client.force_login(user)
    return client, user
