"""Stricter sessions for staff: two-factor authentication before the staff pages, and an
idle timeout shorter than everyone else's.

Ordinary sessions end ``SESSION_COOKIE_AGE`` seconds after the last request (Django saves
the session on every request, which moves the expiry forward). Staff can change everything,
so an unattended staff session ends after ``STAFF_SESSION_SECONDS``, and a staff account
without an authenticator app reaches no staff page at all.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from aidahub.web.accounts.selectors import has_totp

__all__ = [
    "LAST_ACTIVITY_KEY",
    "LOGOUT_REASON_ATTR",
    "STAFF_AREAS",
    "RequireStaffMFAMiddleware",
    "StaffSessionTimeoutMiddleware",
]

# Session key holding the time (seconds since the epoch) of the staff user's last request.
LAST_ACTIVITY_KEY = "aidahub_last_activity"
# Request attribute telling the sign-out audit event why the hub signed someone out.
LOGOUT_REASON_ATTR = "aidahub_logout_reason"
# Where staff need two-factor authentication: the admin and the staff pages.
STAFF_AREAS = ("/admin/", "/staff/")


def _is_staff(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def _login_url(request) -> str:
    if request.method in ("GET", "HEAD"):
        return f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path()})}"
    return settings.LOGIN_URL


class StaffSessionTimeoutMiddleware:
    """Sign staff out when more than ``STAFF_SESSION_SECONDS`` passed since their last
    request, and say so on the sign-in page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _is_staff(request):
            now = time.time()
            last = request.session.get(LAST_ACTIVITY_KEY)
            if isinstance(last, int | float) and now - last > settings.STAFF_SESSION_SECONDS:
                setattr(request, LOGOUT_REASON_ATTR, "staff_session_timeout")
                logout(request)
                minutes = max(1, settings.STAFF_SESSION_SECONDS // 60)
                messages.info(
                    request,
                    _(
                        "You were signed out because your staff session had no activity for "
                        "%(minutes)d minutes. Sign in again to continue."
                    )
                    % {"minutes": minutes},
                )
                return HttpResponseRedirect(_login_url(request))
            request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


class RequireStaffMFAMiddleware:
    """Send a staff user without an authenticator app from the staff pages to setting one up.

    Only the admin and ``/staff/`` are held back; the two-factor pages, sign-out and static
    files live elsewhere and stay reachable (the admin's own sign-out too).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.path.startswith(STAFF_AREAS)
            and _is_staff(request)
            and request.path != reverse("admin:logout")
            and not has_totp(request.user)
        ):
            messages.warning(
                request,
                _(
                    "Staff pages need two-factor authentication. Set up an authenticator app "
                    "to continue."
                ),
            )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
