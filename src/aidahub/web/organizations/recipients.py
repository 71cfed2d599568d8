"""Who is told about what staff must act on."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model


def staff_addresses() -> list[str]:
    """The data director and every active staff account."""
    users = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    return [settings.DATA_DIRECTOR_EMAIL, *users.values_list("email", flat=True)]
