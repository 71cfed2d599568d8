"""Who may read the audit trail: pure functions of the user, deny by default.

The trail holds who did what, from where, and the personal data that comes with it (names,
e-mail addresses, IP addresses), so only active staff read it. Everyone else is answered as
if the pages did not exist (ARCHITECTURE.md, "Rules").
"""

from __future__ import annotations

__all__ = ["can_view_audit"]


def can_view_audit(user) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
    )
