"""The audit pages' GET forms: filters for the log and the report's period."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["EventFilterForm", "PeriodForm"]

MAX_DAYS = 366


class _DateInput(forms.DateInput):
    input_type = "date"


def _check_dates(cleaned: dict, *, max_days: int | None = None) -> None:
    since, until = cleaned.get("since"), cleaned.get("until")
    if since and until and since > until:
        raise ValidationError(_("The first day must not come after the last."))
    if max_days and since and until and (until - since).days >= max_days:
        raise ValidationError(
            _("Choose at most %(days)d days.") % {"days": max_days}, code="too_long"
        )


class EventFilterForm(forms.Form):
    actor = forms.CharField(
        label=_("Actor"),
        required=False,
        max_length=255,
        help_text=_("A username, or “anonymous” or “system”."),
    )
    action = forms.CharField(
        label=_("Action starts with"),
        required=False,
        max_length=100,
        help_text=_("For example accounts.login or register."),
    )
    object_type = forms.CharField(
        label=_("Object type"),
        required=False,
        max_length=100,
        help_text=_("For example register.dataset."),
    )
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=255)
    since = forms.DateField(label=_("From"), required=False, widget=_DateInput)
    until = forms.DateField(label=_("Until"), required=False, widget=_DateInput)
    ip = forms.GenericIPAddressField(label=_("IP address"), required=False)

    def clean(self):
        cleaned = super().clean()
        _check_dates(cleaned)
        return cleaned

    def filters(self) -> dict:
        """The filters in use, as plain values (for links and the audit event)."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class PeriodForm(forms.Form):
    """Whole days in the hub's time zone; the last 30 days up to today by default."""

    since = forms.DateField(label=_("From"), required=False, widget=_DateInput)
    until = forms.DateField(label=_("Until"), required=False, widget=_DateInput)

    DEFAULT_DAYS = 30

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        until = cleaned.get("until") or timezone.localdate()
        since = cleaned.get("since") or until - dt.timedelta(days=self.DEFAULT_DAYS - 1)
        cleaned.update(since=since, until=until)
        _check_dates(cleaned, max_days=MAX_DAYS)
        return cleaned
