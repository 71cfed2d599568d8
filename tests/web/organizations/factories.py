"""Small factories for people, organizations, agreements and what admits a person."""

from __future__ import annotations

import datetime as dt
import itertools

from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from aidahub.web.accounts import undertaking
from aidahub.web.accounts.models import IdentityMethod, IdentityVerification, UndertakingAcceptance
from aidahub.web.organizations.models import (
    Affiliation,
    Agreement,
    AgreementType,
    FeeStatus,
    MembershipBasis,
    MembershipLevel,
    Organization,
    PersonalMembership,
)

_seq = itertools.count(1)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def today() -> dt.date:
    return timezone.localdate()


def days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def make_user(username: str | None = None, *, staff: bool = False, active: bool = True, **fields):
    n = next(_seq)
    username = username or f"person{n}"
    return get_user_model().objects.create_user(
        username,
        fields.pop("email", f"{username}@university.example.org"),
        "a-long-test-password",
        is_staff=staff,
        is_active=active,
        **fields,
    )


def make_organization(name: str | None = None, **fields) -> Organization:
    n = next(_seq)
    defaults = {
        "country": "SE",
        "kind": "university",
        "membership": MembershipLevel.PARTNER,
        "verified": True,
    }
    defaults.update(fields)
    return Organization.objects.create(name=name or f"Example University {n}", **defaults)


def network_partner(*, fee_status: str = FeeStatus.DUE, reason: str = "", **fields):
    return make_organization(
        membership=MembershipLevel.NETWORK_PARTNER,
        fee_status=fee_status,
        fee_waiver_reason=reason,
        **fields,
    )


def affiliate(user, organization, *, confirmed: bool = True, **fields) -> Affiliation:
    return Affiliation.objects.create(
        user=user,
        organization=organization,
        confirmed_at=timezone.now() if confirmed else None,
        **fields,
    )


def make_agreement(
    parties,
    *,
    kind: str = AgreementType.PARTNER_CONTRACT,
    signed: bool = True,
    valid_from: dt.date | None = None,
    **fields,
) -> Agreement:
    n = next(_seq)
    agreement = Agreement.objects.create(
        kind=kind,
        title=fields.pop("title", f"Agreement {n}"),
        valid_from=valid_from or days(-30),
        sha256=f"{n:064x}" if signed else "",
        **fields,
    )
    agreement.parties.set(parties)
    return agreement


def give_mfa(user) -> Authenticator:
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )


def verify_identity(user, *, by=None) -> IdentityVerification:
    return IdentityVerification.objects.create(
        user=user,
        method=IdentityMethod.STAFF_CHECKED,
        evidence="Passport shown at the AIDA days",
        verified_by=by,
        verified_at=timezone.now(),
    )


def accept_undertaking(user) -> UndertakingAcceptance:
    current = undertaking.current()
    return UndertakingAcceptance.objects.create(
        user=user, version=current.version, text_sha256=current.sha256, accepted_at=timezone.now()
    )


def personal_membership(user, *, start: dt.date | None = None, end: dt.date | None = None):
    return PersonalMembership.objects.create(
        user=user,
        basis=MembershipBasis.PROJECT,
        activity="Lung nodule detection",
        start=start or days(-10),
        end=end or days(30),
    )


def make_member(username: str | None = None, *, organization=None):
    """A person who meets every requirement through a partner organization."""
    user = make_user(username)
    org = organization or make_organization()
    affiliate(user, org)
    if not org.agreements.exists():
        make_agreement([org])
    verify_identity(user)
    accept_undertaking(user)
    give_mfa(user)
    return user


def pdf_upload(content: bytes = PDF, name: str = "signed contract.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")
