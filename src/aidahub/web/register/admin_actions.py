"""The dataset admin's actions: publish, withdraw, reinstate, start a new version, and
retry minting the DOIs at DataCite.

Each action calls the service that makes the state change (``services``); none changes a
dataset through a form field. Withdrawing asks for the reason, and starting a new version
from a dataset's page asks for the label, on an intermediate page
(``admin/register/confirm_action.html``).
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aidahub.web.audit.services import record
from aidahub.web.register import doi_services, services
from aidahub.web.register.doi import InvalidDOI
from aidahub.web.register.doi_selectors import minting_enabled
from aidahub.web.register.models import Dataset, DatasetVersion

__all__ = [
    "DatasetActionsMixin",
    "NewVersionForm",
    "WithdrawForm",
    "add_hub_contact",
    "admin_url",
    "next_version_label",
    "show_warnings",
]

CONFIRM_TEMPLATE = "admin/register/confirm_action.html"


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for withdrawal"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=gettext_lazy("Shown on the dataset's tombstone page. Nothing is deleted."),
    )


class NewVersionForm(forms.Form):
    label = forms.CharField(
        label=gettext_lazy("New version"),
        max_length=30,
        help_text=gettext_lazy(
            "For example 1.1. The version's DOI is the concept DOI followed by .v and this label."
        ),
    )


def next_version_label(dataset: Dataset) -> str:
    """The next free minor version after the newest one: 1.0 -> 1.1, 2 -> 3, beta -> beta.1."""
    taken = set(dataset.versions.values_list("version", flat=True))
    newest = dataset.latest_version or dataset.versions.order_by("-id").first()
    label = newest.version if newest else "0"
    while label in taken or label == "0":
        match = re.search(r"(\d+)$", label)
        label = f"{label[: match.start()]}{int(match.group(1)) + 1}" if match else f"{label}.1"
    return label


def admin_url(obj, view: str = "change") -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def show_warnings(request, warnings: list[str]) -> None:
    for warning in warnings:
        messages.warning(request, warning)


def add_hub_contact(request, version: DatasetVersion) -> None:
    """The policy advises a hub contact such as the data director on every dataset."""
    contact = services.ensure_hub_contact(version)
    if contact is not None:
        record(
            "admin.contact.add",
            request=request,
            obj=contact,
            data={
                "after": {"name": contact.name, "email": contact.email},
                "why": "hub contact added to a new draft version",
            },
        )


class DatasetActionsMixin:
    """The actions of the dataset admin, and its page for starting one dataset's new version."""

    @admin.action(
        description=gettext_lazy("Publish the draft version of selected datasets"),
        permissions=["change"],
    )
    def publish_selected(self, request, queryset):
        for dataset in queryset:
            try:
                result = services.publish(dataset, actor=request.user, request=request)
            except services.InvalidTransition as exc:
                messages.error(request, f"{dataset.short_name}: {exc}")
                continue
            messages.success(
                request,
                _("%(name)s: version %(version)s published as %(doi)s.")
                % {
                    "name": dataset.short_name,
                    "version": result.version.version,
                    "doi": result.version.doi,
                },
            )
            show_warnings(request, [f"{dataset.short_name}: {w}" for w in result.warnings])

    @admin.action(description=gettext_lazy("Withdraw selected datasets…"), permissions=["change"])
    def withdraw_selected(self, request, queryset):
        form = WithdrawForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for dataset in queryset:
                try:
                    services.withdraw(
                        dataset, form.cleaned_data["reason"], actor=request.user, request=request
                    )
                    done += 1
                except (services.InvalidTransition, ValueError) as exc:
                    messages.error(request, f"{dataset.short_name}: {exc}")
            if done:
                messages.success(
                    request,
                    ngettext("%(count)d dataset withdrawn.", "%(count)d datasets withdrawn.", done)
                    % {"count": done},
                )
            return None
        return self._confirm_page(
            request,
            queryset,
            form,
            title=_("Withdraw datasets"),
            intro=_(
                "The landing pages of these datasets will show a tombstone with the "
                "reason below. Their records, versions and files are kept."
            ),
            submit_label=_("Withdraw"),
            action_name="withdraw_selected",
            action_url=reverse("admin:register_dataset_changelist"),
        )

    @admin.action(
        description=gettext_lazy("Reinstate selected withdrawn datasets"), permissions=["change"]
    )
    def reinstate_selected(self, request, queryset):
        for dataset in queryset:
            try:
                services.reinstate(dataset, actor=request.user, request=request)
            except services.InvalidTransition as exc:
                messages.error(request, f"{dataset.short_name}: {exc}")
                continue
            messages.success(request, _("%(name)s reinstated.") % {"name": dataset.short_name})

    @admin.action(
        description=gettext_lazy("Start a new version of selected datasets"), permissions=["change"]
    )
    def new_version_selected(self, request, queryset):
        for dataset in queryset:
            self._start_new_version(request, dataset, next_version_label(dataset))

    @admin.action(
        description=gettext_lazy("Retry minting the DOIs of selected datasets"),
        permissions=["change"],
    )
    def retry_minting_selected(self, request, queryset):
        if not minting_enabled():
            messages.warning(
                request,
                _(
                    "Not minted: no DataCite credentials configured. Set "
                    "AIDAHUB_DATACITE_USERNAME and AIDAHUB_DATACITE_PASSWORD first."
                ),
            )
            return
        for dataset in queryset:
            results = doi_services.retry_dataset_dois(dataset, actor=request.user)
            failed = [r for r in results if r.outcome == "failed"]
            for result in failed:
                messages.error(request, f"{dataset.short_name}: {result.doi}: {result.detail}")
            if not failed:
                messages.success(
                    request,
                    _("%(name)s: every DOI is at DataCite as the register says.")
                    % {"name": dataset.short_name},
                )

    # A page for one dataset's new version, where staff choose the label -------------------

    def get_urls(self):
        view = self.admin_site.admin_view(self.new_version_view)
        return [
            path("<int:object_id>/new-version/", view, name="register_dataset_new_version"),
            *super().get_urls(),
        ]

    def new_version_view(self, request, object_id: int):
        dataset = get_object_or_404(Dataset, pk=object_id)
        if not self.has_change_permission(request, dataset):
            raise PermissionDenied
        if request.method == "POST":
            form = NewVersionForm(request.POST)
            if form.is_valid():
                draft = self._start_new_version(request, dataset, form.cleaned_data["label"])
                if draft is not None:
                    return HttpResponseRedirect(admin_url(draft))
        else:
            form = NewVersionForm(initial={"label": next_version_label(dataset)})
        return self._confirm_page(
            request,
            [dataset],
            form,
            title=_("Start a new version"),
            intro=_(
                "A new draft version copies the newest version with its authors, "
                "copyright holders, contacts, images, licenses and describing "
                "publications. Published versions stay as they are."
            ),
            submit_label=_("Start the new version"),
            action_name="",
            action_url=request.path,
        )

    def _start_new_version(self, request, dataset: Dataset, label: str):
        try:
            draft = services.new_version(dataset, label, actor=request.user, request=request)
        except (ValueError, InvalidDOI) as exc:
            messages.error(request, f"{dataset.short_name}: {exc}")
            return None
        add_hub_contact(request, draft)
        messages.success(
            request,
            format_html(
                '{}: <a href="{}">{}</a>',
                dataset.short_name,
                admin_url(draft),
                _("draft version %(version)s started") % {"version": draft.version},
            ),
        )
        return draft

    def _confirm_page(
        self, request, datasets, form, *, title, intro, submit_label, action_name, action_url
    ):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "intro": intro,
            "datasets": list(datasets),
            "form": form,
            "submit_label": submit_label,
            "action_name": action_name,
            "action_url": action_url,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": reverse("admin:register_dataset_changelist"),
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)
