"""Template filters of the membership pages."""

from django import template
from django.core.exceptions import ObjectDoesNotExist

register = template.Library()


@register.filter
def person_name(user) -> str:
    """How a person is named to other members: their chosen name, else their account name."""
    if user is None:
        return ""
    try:
        display = user.hub_profile.display_name
    except ObjectDoesNotExist:
        display = ""
    return display or user.get_full_name() or user.get_username()
