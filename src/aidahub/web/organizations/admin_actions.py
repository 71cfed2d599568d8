"""What the organizations admin shares: audit codes in the app's namespace, the page that
asks for a note or a date before an action, and handing a service's new object back to the
admin's add view.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from aidahub.web.audit.admin_mixins import AuditedAdminMixin
from aidahub.web.audit.services import record
from aidahub.web.organizations.changes import object_name

CONFIRM_TEMPLATE = "admin/organizations/confirm_action.html"


class OrganizationsAuditedMixin(AuditedAdminMixin):
    """Admin edits are recorded as ``organizations.<object>.add|change|delete``."""

    audit_prefix = "organizations"

    def _record(self, request, action, obj, data):
        record(
            f"{self.audit_prefix}.{object_name(obj)}.{action}",
            request=request,
            obj=obj,
            data=data,
        )

    def get_actions(self, request):
        # Bulk delete would skip the per-object audit events.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


def adopt(obj, saved) -> None:
    """Make the admin's unsaved *obj* the row a service just created as *saved*."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def show_error(request, label: str, exc: ValidationError) -> None:
    messages.error(request, f"{label}: {' '.join(exc.messages)}")


class ApproveForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note to the applicant"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
    )
    grant_waiver = forms.BooleanField(
        label=gettext_lazy("Waive the fee, as the applicant asked"),
        required=False,
        help_text=gettext_lazy(
            "Only for applications that ask for it; the applicant's reason is kept with the "
            "organization. Otherwise the fee is due."
        ),
    )


class RejectForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Reason, sent to the applicant"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
    )


class TerminateForm(forms.Form):
    on = forms.DateField(
        label=gettext_lazy("Not in force from"),
        initial=timezone.localdate,
        help_text=gettext_lazy("Today ends access through the agreement at once."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3, "cols": 80})
    )


class LastDayForm(forms.Form):
    last_day = forms.DateField(
        label=gettext_lazy("Last day"),
        initial=timezone.localdate,
        help_text=gettext_lazy("Access through it ends after this day."),
    )


def action_form(form_class, request):
    """The action's form, bound once the intermediate page has been submitted."""
    return form_class(request.POST if "apply" in request.POST else None)


def confirm_page(modeladmin, request, queryset, form, *, title, intro, submit_label, action):
    opts = modeladmin.model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "intro": intro,
        "objects": list(queryset),
        "form": form,
        "submit_label": submit_label,
        "action_name": action,
        "action_url": changelist,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "cancel_url": changelist,
    }
    return TemplateResponse(request, CONFIRM_TEMPLATE, context)
