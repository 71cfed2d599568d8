"""Admin change forms as a browser would submit them, for tests that edit through the admin."""

import datetime as dt

from django.urls import reverse


def change_url(obj) -> str:
    return reverse(f"admin:register_{obj._meta.model_name}_change", args=[obj.pk])


def post_data(response) -> dict:
    """The data the admin form on *response* would submit unchanged, inlines included."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    data = {}
    for form in forms:
        for bound in form:
            value = bound.value()
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
                continue
            if value is None:
                value = ""
            elif isinstance(value, dt.date):
                value = value.isoformat()
            elif not isinstance(value, str | int):
                value = bound.field.prepare_value(value)
            data[bound.html_name] = value
    return data
