"""Forms of the hub's own account pages (allauth brings the sign-in forms)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aidahub.web.accounts.orcid import normalize_orcid

__all__ = ["ProfileForm", "UndertakingForm"]


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        help_text=_("As it should appear to the data director and in access requests."),
    )
    orcid = forms.CharField(
        label=_("ORCID iD"),
        max_length=60,
        required=False,
        help_text=_("For example 0000-0002-1825-0097, or the https://orcid.org/ address."),
    )

    def clean_orcid(self) -> str:
        return normalize_orcid(self.cleaned_data["orcid"])


class UndertakingForm(forms.Form):
    accept = forms.BooleanField(
        label=_("I have read the confidentiality undertaking above and accept it."),
        required=True,
        error_messages={"required": _("Tick the box to accept the undertaking.")},
    )
    # The hash of the text the page showed: an acceptance is of the text that was read.
    text_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
