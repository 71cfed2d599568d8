"""Time-based one-time codes (RFC 6238) as allauth computes them, for the people who set
up an account by hand (the demo's staff user) and for tests that sign in for real."""

from __future__ import annotations

import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

__all__ = ["current_code"]


def current_code(secret: str, *, at: float | None = None) -> str:
    """The code an authenticator app with *secret* shows at *at* (now by default)."""
    counter = int(time.time() if at is None else at) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))
