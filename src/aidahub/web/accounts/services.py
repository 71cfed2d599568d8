"""Every change to what the hub knows about a person goes through here, with its audit event.

The policy names identity affirmation and confidentiality undertakings among the
organizational measures before non-public data is shared; these functions record them.
Sign-in itself is allauth's; ``aidahub.web.accounts.signals`` writes its audit events.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aidahub.web.accounts import undertaking
from aidahub.web.accounts.models import (
    IdentityMethod,
    IdentityVerification,
    Profile,
    UndertakingAcceptance,
)
from aidahub.web.audit.services import record

__all__ = [
    "accept_undertaking",
    "activate_totp",
    "add_verified_email",
    "institutional_evidence",
    "record_identity_check",
    "record_institutional_identity",
    "revoke_identity",
    "update_profile",
]


def _require_staff(user) -> None:
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        raise PermissionDenied(_("Only staff record or revoke identity checks."))


def _lock_user(user) -> None:
    # One person's identity rows change one writer at a time (PostgreSQL; SQLite takes
    # its write lock when the transaction starts).
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def _verification_data(verification: IdentityVerification) -> dict:
    return {
        "user_id": verification.user_id,
        "method": verification.method,
        "evidence": verification.evidence,
    }


# --- Identity affirmation -------------------------------------------------------------------


def record_identity_check(user, *, evidence: str, verified_by, request=None):
    """Record that staff member *verified_by* checked that *user* is who the account names.

    *evidence* says what was seen, where and when ("passport shown at the AIDA days, 12
    March"); without it there is nothing to audit, so it is required.
    """
    _require_staff(verified_by)
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationError(
            {"evidence": _("Say how the identity was checked: what was seen, where and when.")}
        )
    with transaction.atomic():
        _lock_user(user)
        verification = IdentityVerification.objects.create(
            user=user,
            method=IdentityMethod.STAFF_CHECKED,
            evidence=evidence,
            verified_by=verified_by,
            verified_at=timezone.now(),
        )
        record(
            "accounts.identity.verified",
            actor=verified_by,
            obj=verification,
            data=_verification_data(verification),
            request=request,
        )
    return verification


def institutional_evidence(provider: str, subject: str) -> str:
    """The evidence text of an institutional sign-in; one verification per provider and
    subject, so it doubles as their key."""
    return f"institutional sign-in through {provider}, subject {subject}"


def record_institutional_identity(user, *, provider: str, subject: str, request=None):
    """Record that *user* signed in through the institution's identity provider.

    Called on every institutional sign-in and sign-up; the first call for a provider and
    subject creates the verification and later ones return it. A verification staff
    revoked stays revoked: signing in again does not undo their decision.
    Returns ``(verification, created)``.
    """
    evidence = institutional_evidence(provider, subject)
    with transaction.atomic():
        _lock_user(user)
        existing = IdentityVerification.objects.filter(
            user=user, method=IdentityMethod.INSTITUTIONAL_LOGIN, evidence=evidence
        ).first()
        if existing is not None:
            return existing, False
        verification = IdentityVerification.objects.create(
            user=user,
            method=IdentityMethod.INSTITUTIONAL_LOGIN,
            evidence=evidence,
            verified_at=timezone.now(),
        )
        record(
            "accounts.identity.verified",
            actor=user,
            obj=verification,
            data=_verification_data(verification) | {"provider": provider, "subject": subject},
            request=request,
        )
    return verification, True


def revoke_identity(verification: IdentityVerification, *, by, reason: str = "", request=None):
    """Withdraw an identity verification (staff only); the row stays, marked revoked."""
    _require_staff(by)
    with transaction.atomic():
        locked = IdentityVerification.objects.select_for_update().get(pk=verification.pk)
        if locked.revoked_at is not None:
            raise ValidationError(_("This identity verification is already revoked."))
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record(
            "accounts.identity.revoked",
            actor=by,
            obj=locked,
            data=_verification_data(locked) | {"reason": reason.strip()},
            request=request,
        )
    verification.revoked_at = locked.revoked_at
    return locked


# --- Confidentiality undertaking ------------------------------------------------------------


def _client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def accept_undertaking(user, *, request, shown_sha256: str | None = None):
    """Record that *user* accepted the undertaking in the version now in force.

    The hash of the text is kept with the acceptance. *shown_sha256* is the hash of the
    text the page showed; if the text changed since, the acceptance is refused, because the
    person has not read what they would be accepting. Accepting a version twice changes
    nothing and returns the first acceptance.
    """
    current = undertaking.current()
    if shown_sha256 is not None and shown_sha256 != current.sha256:
        raise ValidationError(
            _("The undertaking changed while you were reading it. Please read it again.")
        )
    with transaction.atomic():
        existing = UndertakingAcceptance.objects.filter(user=user, version=current.version)
        if found := existing.first():
            return found
        try:
            with transaction.atomic():
                acceptance = UndertakingAcceptance.objects.create(
                    user=user,
                    version=current.version,
                    text_sha256=current.sha256,
                    accepted_at=timezone.now(),
                    request_ip=_client_ip(request),
                )
        except IntegrityError:  # accepted at the same moment in another request
            return existing.get()
        record(
            "accounts.undertaking.accepted",
            actor=user,
            obj=acceptance,
            data={"version": current.version, "text_sha256": current.sha256},
            request=request,
        )
    return acceptance


# --- Profile --------------------------------------------------------------------------------


def update_profile(user, *, display_name: str, orcid: str, request=None) -> Profile:
    """Change the person's name and ORCID iD (already checked by the form)."""
    with transaction.atomic():
        profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
        before = {"display_name": profile.display_name, "orcid": profile.orcid}
        after = {"display_name": display_name.strip(), "orcid": orcid}
        changes = {
            name: {"before": before[name], "after": value}
            for name, value in after.items()
            if before[name] != value
        }
        if not changes:
            return profile
        for name, value in after.items():
            setattr(profile, name, value)
        profile.save(update_fields=list(changes))
        record(
            "accounts.profile.changed",
            actor=user,
            obj=profile,
            data={"changes": changes},
            request=request,
        )
    return profile


# --- Provisioning (the demo, operators' scripts) --------------------------------------------


def add_verified_email(user, email: str, *, by=None) -> EmailAddress:
    """Give *user* *email* as a verified primary address, as if they had confirmed it.

    For accounts set up by an operator (the demo's staff user): allauth's mandatory
    verification otherwise stops their first sign-in until a mail is answered.
    """
    with transaction.atomic():
        address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
        if address is not None and address.verified and address.primary:
            return address
        EmailAddress.objects.filter(user=user, primary=True).exclude(email__iexact=email).update(
            primary=False
        )
        if address is None:
            address = EmailAddress(user=user, email=email)
        address.verified = True
        address.primary = True
        address.save()
        if user.email != email:
            user.email = email
            user.save(update_fields=["email"])
        record(
            "accounts.email_confirmed",
            actor=by,
            obj=user,
            data={"email": email, "how": "provisioned"},
        )
    return address


def activate_totp(user, *, secret: str | None = None, by=None) -> str:
    """Set up an authenticator app (TOTP) for *user* with *secret* (a new one by default)
    and return the secret, for an operator to hand over. Does nothing and returns the
    existing secret when the user has one already."""
    from allauth.mfa.utils import decrypt

    with transaction.atomic():
        _lock_user(user)
        existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if existing is not None:
            return decrypt(existing.data["secret"])
        secret = secret or generate_totp_secret()
        authenticator = TOTP.activate(user, secret).instance
        record(
            "accounts.mfa.activated",
            actor=by,
            obj=user,
            data={"type": authenticator.type, "how": "provisioned"},
        )
    return secret
