"""Forms of the membership pages. They only collect input; services make the change."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aidahub.web.organizations import selectors
from aidahub.web.organizations.models import AffiliationRole, Organization


class _OrganizationChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organization) -> str:
        return f"{obj.name} ({obj.country})"


class NameOrganizationForm(forms.Form):
    organization = _OrganizationChoice(
        label=_("Your organization"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("— not in the list: name it below —"),
    )
    name = forms.CharField(label=_("Name of the organization"), max_length=300, required=False)
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        min_length=2,
        initial="SE",
        required=False,
        help_text=_("Two letters, such as SE, NO or DE."),
    )
    organization_number = forms.CharField(
        label=_("Organization number"),
        max_length=40,
        required=False,
        help_text=_("The national registration number, if you know it, such as 202100-3096."),
    )
    role = forms.ChoiceField(
        label=_("Your role there"), choices=AffiliationRole.choices, initial="researcher"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = selectors.verified_organizations()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("organization") is None and not (cleaned.get("name") or "").strip():
            raise forms.ValidationError(
                _("Pick your organization from the list, or give its name.")
            )
        if cleaned.get("organization") is None and not (cleaned.get("country") or "").strip():
            self.add_error("country", _("Give the country of the organization."))
        return cleaned


class NetworkPartnerForm(forms.Form):
    organization = _OrganizationChoice(
        label=_("Organization"), queryset=Organization.objects.none(), empty_label=None
    )
    motivation = forms.CharField(
        label=_("Why does the organization want to join?"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 70}),
        max_length=5000,
        help_text=_("The research it does in medical imaging, and what it will contribute."),
    )
    fee_waiver_requested = forms.BooleanField(
        label=_("Ask for the membership fee to be waived"), required=False
    )
    fee_waiver_reason = forms.CharField(
        label=_("Reason for waiving the fee"),
        max_length=500,
        required=False,
        help_text=_("For example: the organization shares prioritized data on the hub."),
    )

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        pks = [org.pk for org in organizations]
        self.fields["organization"].queryset = Organization.objects.filter(pk__in=pks).order_by(
            "name"
        )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("fee_waiver_requested")
            and not (cleaned.get("fee_waiver_reason") or "").strip()
        ):
            self.add_error("fee_waiver_reason", _("Say why the fee should be waived."))
        return cleaned
