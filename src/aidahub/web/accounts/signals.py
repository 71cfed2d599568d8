"""Sign-in, sign-up and two-factor events from allauth and Django, into the audit trail.

The policy asks for logged, monitored access; the audit trail's irregularity report reads
``accounts.login`` (with the country, when the reverse proxy tells it) and
``accounts.login_failed`` (with the address tried; never a password). Signing in through
the institution also affirms the person's identity (``services.record_institutional_identity``).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from allauth.account import signals as account_signals
from allauth.account.authentication import get_authentication_records
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from allauth.socialaccount import signals as social_signals
from django.conf import settings
from django.contrib.auth import signals as auth_signals
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from aidahub.web.accounts import services
from aidahub.web.accounts.middleware import LOGOUT_REASON_ATTR
from aidahub.web.audit.services import record

__all__ = ["client_country", "login_method"]

_NOT_A_COUNTRY = re.compile(r"[^A-Z0-9]")
_USER_AGENT_LENGTH = 300

# allauth's names for how a session was authenticated, in the words of the audit trail.
_METHODS = {"password": "password", "socialaccount": "oidc"}


def client_country(request) -> str:
    """The country code the reverse proxy put in ``AIDAHUB_COUNTRY_HEADER``; "" if unknown."""
    header = settings.COUNTRY_HEADER
    if not header or request is None:
        return ""
    value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    return _NOT_A_COUNTRY.sub("", str(value).upper())[:8]


def _user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:_USER_AGENT_LENGTH] if request else ""


def _sign_in_data(request) -> dict:
    return {"country": client_country(request), "user_agent": _user_agent(request)}


def login_method(request, user, sociallogin=None) -> str:
    """How *user* proved who they are in this session: "password", "oidc", or allauth's
    own name for another way (such as "password_reset", or "email" when confirming the
    address signed them in)."""
    if sociallogin is not None:
        return "oidc"
    records = [r for r in get_authentication_records(request, user) if r.get("method") != "mfa"]
    if not records:
        return "email"
    method = str(records[-1].get("method", ""))
    return _METHODS.get(method, method)


def _institutional(request, sociallogin) -> None:
    account = sociallogin.account
    services.record_institutional_identity(
        sociallogin.user, provider=account.provider, subject=account.uid, request=request
    )


# --- Sign-in and sign-out -------------------------------------------------------------------


@receiver(account_signals.user_logged_in, dispatch_uid="aidahub.accounts.login")
def on_login(sender, request, user, sociallogin=None, **kwargs):
    data = {"method": login_method(request, user, sociallogin), **_sign_in_data(request)}
    if sociallogin is not None:
        data["provider"] = sociallogin.account.provider
    records = get_authentication_records(request, user)
    data["mfa"] = any(r.get("method") == "mfa" for r in records)
    record("accounts.login", actor=user, obj=user, data=data, request=request)
    if sociallogin is not None:
        _institutional(request, sociallogin)


@receiver(auth_signals.user_login_failed, dispatch_uid="aidahub.accounts.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked anything that looks like a secret in *credentials*; only
    # the address is kept all the same.
    email = credentials.get("email") or credentials.get("username") or ""
    record(
        "accounts.login_failed",
        data={"email": str(email)[:254], **_sign_in_data(request)},
        request=request,
    )


@receiver(auth_signals.user_logged_out, dispatch_uid="aidahub.accounts.logout")
def on_logout(sender, request, user, **kwargs):
    if user is None:
        return
    reason = getattr(request, LOGOUT_REASON_ATTR, "") if request is not None else ""
    record(
        "accounts.logout",
        actor=user,
        obj=user,
        data={"reason": reason or "signed_out"},
        request=request,
    )


# --- Sign-up, e-mail, password --------------------------------------------------------------


@receiver(account_signals.user_signed_up, dispatch_uid="aidahub.accounts.signup")
def on_signup(sender, request, user, sociallogin=None, **kwargs):
    data = {"method": "oidc" if sociallogin is not None else "password", **_sign_in_data(request)}
    if sociallogin is not None:
        data["provider"] = sociallogin.account.provider
    record("accounts.signup", actor=user, obj=user, data=data, request=request)
    if sociallogin is not None:
        _institutional(request, sociallogin)


@receiver(social_signals.social_account_added, dispatch_uid="aidahub.accounts.social_added")
def on_social_account_added(sender, request, sociallogin, **kwargs):
    # A signed-in person connected their institutional account to the hub account.
    _institutional(request, sociallogin)


@receiver(account_signals.email_confirmed, dispatch_uid="aidahub.accounts.email_confirmed")
def on_email_confirmed(sender, request, email_address, **kwargs):
    record(
        "accounts.email_confirmed",
        actor=email_address.user,
        obj=email_address.user,
        data={"email": email_address.email},
        request=request,
    )


@receiver(account_signals.password_changed, dispatch_uid="aidahub.accounts.password_changed")
def on_password_changed(sender, request, user, **kwargs):
    record(
        "accounts.password_changed", actor=user, obj=user, data={"how": "changed"}, request=request
    )


@receiver(account_signals.password_set, dispatch_uid="aidahub.accounts.password_set")
def on_password_set(sender, request, user, **kwargs):
    # A first password for an account made through institutional sign-in.
    record("accounts.password_changed", actor=user, obj=user, data={"how": "set"}, request=request)


@receiver(account_signals.password_reset, dispatch_uid="aidahub.accounts.password_reset")
def on_password_reset(sender, request, user, **kwargs):
    record("accounts.password_reset", actor=user, obj=user, request=request)


# --- Two-factor authentication --------------------------------------------------------------


def _mfa_data(authenticator) -> dict:
    return {"type": authenticator.type, "authenticator_id": authenticator.pk}


@receiver(mfa_signals.authenticator_added, dispatch_uid="aidahub.accounts.mfa_added")
def on_authenticator_added(sender, request, user, authenticator, **kwargs):
    action = (
        "accounts.mfa.recovery_codes_generated"
        if authenticator.type == Authenticator.Type.RECOVERY_CODES
        else "accounts.mfa.activated"
    )
    record(action, actor=user, obj=user, data=_mfa_data(authenticator), request=request)


@receiver(mfa_signals.authenticator_reset, dispatch_uid="aidahub.accounts.mfa_reset")
def on_authenticator_reset(sender, request, user, authenticator, **kwargs):
    record(
        "accounts.mfa.recovery_codes_generated",
        actor=user,
        obj=user,
        data=_mfa_data(authenticator) | {"replaced": True},
        request=request,
    )


@receiver(mfa_signals.authenticator_removed, dispatch_uid="aidahub.accounts.mfa_removed")
def on_authenticator_removed(sender, request, user, authenticator, **kwargs):
    # The owner is the authenticator's user: staff may remove someone else's in the admin.
    owner = authenticator.user
    record(
        "accounts.mfa.deactivated",
        actor=user if user is not None and user.is_authenticated else None,
        obj=owner,
        data=_mfa_data(authenticator),
        request=request,
    )


@receiver(mfa_signals.authentication_failed, dispatch_uid="aidahub.accounts.mfa_failed")
def on_mfa_failed(sender, request, user, authenticator, **kwargs):
    record(
        "accounts.mfa.failed",
        obj=user,
        data=_mfa_data(authenticator) | _sign_in_data(request),
        request=request,
    )


# --- The site allauth names in its mail -----------------------------------------------------


@receiver(post_migrate, dispatch_uid="aidahub.accounts.site")
def name_the_site(sender, app_config=None, using="default", **kwargs):
    """Give Django's site (which allauth's mails greet from) the hub's name and address,
    instead of "example.com"; after every migrate, so it follows the settings."""
    if app_config is None or app_config.label != "accounts":
        return
    from django.contrib.sites.models import Site

    Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": urlsplit(settings.BASE_URL).netloc, "name": settings.HUB_NAME},
    )
    Site.objects.clear_cache()
