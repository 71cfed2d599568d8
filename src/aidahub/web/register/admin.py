"""Staff edit the register in the Django admin; every change is written to the audit trail.

State changes (publish, withdraw, reinstate, new version) go through ``services`` as admin
actions, never through a form field. A published version is immutable (policy: terms already
granted are never rewritten), so its admin page is read-only and points to "start a new
version" instead.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidahub.web.audit.admin_mixins import AuditedAdminMixin
from aidahub.web.register import doi_services, services
from aidahub.web.register.admin_actions import (
    DatasetActionsMixin,
    add_hub_contact,
    admin_url,
    next_version_label,
    show_warnings,
)
from aidahub.web.register.doi import InvalidDOI, version_doi
from aidahub.web.register.doi_selectors import minting_status
from aidahub.web.register.models import (
    Author,
    Contact,
    CopyrightHolder,
    Dataset,
    DatasetState,
    DatasetVersion,
    EthicsApproval,
    ExampleImage,
    License,
    LicenseKind,
    Priority,
    PriorityList,
    Publication,
    PublicationRelation,
)


class _OrderedPartForm(forms.ModelForm):
    """Parts listed in order (authors, contacts, ...); the admin supplies Meta."""

    position = forms.IntegerField(
        label=gettext_lazy("order"),
        min_value=0,
        required=False,
        help_text=gettext_lazy("Blank: at the end."),
        widget=forms.NumberInput(attrs={"style": "width: 4em"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("position") is None and self.instance.pk is None:
            self.instance.position = None  # placed at the end by _fill_positions
        return cleaned


class _NoBulkDeleteMixin:
    """Bulk delete would skip the per-object checks and the audit trail."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


# --- Dataset --------------------------------------------------------------------------------


class EthicsApprovalInline(admin.StackedInline):
    model = EthicsApproval
    max_num = 1
    extra = 0
    fields = [
        "review_authority",
        "diary_number",
        "approval_date",
        "research_institution",
        "responsible_researcher",
        "document",
        "document_sha256",
        "sharing_sentences",
        "recorded_by",
        "recorded_at",
    ]
    readonly_fields = ["document_sha256", "recorded_by", "recorded_at"]
    verbose_name = gettext_lazy("ethics approval (staff only)")


class UsedByPublicationInline(admin.TabularInline):
    """Publications that used the dataset, recorded as they appear."""

    model = Publication
    fk_name = "dataset"
    form = _OrderedPartForm
    ordering = ["position", "id"]
    fields = ["position", "title", "doi", "url", "year", "recorded_at"]
    readonly_fields = ["recorded_at"]
    extra = 0
    verbose_name = gettext_lazy("publication that used the dataset")
    verbose_name_plural = gettext_lazy("publications that used the dataset")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(relation=PublicationRelation.USES)


# Kept by doi_services: where each DOI stands at DataCite, and DataCite's last complaint.
_DOI_FIELDS = ("minting_summary", "doi_state", "doi_synced_at", "doi_error", "doi_attempts")


def show_minting_status(request, dataset: Dataset) -> None:
    """Tell staff on the dataset's page when its DOIs are not (yet) at DataCite."""
    status = minting_status(dataset)
    if not status.enabled:
        messages.warning(request, status.message)
    elif status.errors:
        messages.error(request, status.message)


# Set by the lifecycle services (and by Django), never in a form.
_STATE_FIELDS = (
    "state",
    "latest_version",
    "withdrawal_reason",
    "withdrawn_at",
    "created_at",
    "updated_at",
)


@admin.register(Dataset)
class DatasetAdmin(_NoBulkDeleteMixin, DatasetActionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "short_name",
        "concept_doi",
        "state",
        "hidden",
        "latest_version_label",
        "subject",
        "doi_state",
        "updated_at",
    ]
    list_display_links = ["short_name", "concept_doi"]
    list_filter = [
        "state",
        "hidden",
        "latest_version__subject",
        "latest_version__origin",
        "priority",
    ]
    list_select_related = ["latest_version"]
    search_fields = ["short_name", "concept_doi", "versions__title", "versions__doi"]
    inlines = [EthicsApprovalInline, UsedByPublicationInline]
    actions = [
        "publish_selected",
        "withdraw_selected",
        "reinstate_selected",
        "new_version_selected",
        "retry_minting_selected",
    ]
    fieldsets = [
        (None, {"fields": ["concept_doi", "short_name", "hidden", "priority"]}),
        (gettext_lazy("State"), {"fields": _STATE_FIELDS}),
        (gettext_lazy("DOI at DataCite"), {"fields": _DOI_FIELDS}),
        (gettext_lazy("Versions"), {"fields": ["version_list"]}),
    ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and (form.has_changed() or any(f.has_changed() for f in formsets)):
            doi_services.on_commit(doi_services.after_edit, form.instance.pk, actor=request.user)

    @admin.display(description=gettext_lazy("latest version"), ordering="latest_version__version")
    def latest_version_label(self, obj: Dataset) -> str:
        return obj.latest_version.version if obj.latest_version else "—"

    @admin.display(description=gettext_lazy("field"), ordering="latest_version__subject")
    def subject(self, obj: Dataset) -> str:
        return obj.latest_version.subject if obj.latest_version else ""

    @admin.display(description=gettext_lazy("versions"))
    def version_list(self, obj: Dataset):
        if obj is None or obj.pk is None:
            return _("Save the dataset first, then add its first version.")
        rows = format_html_join(
            "",
            '<li><a href="{}">{} — {}</a> ({}{})</li>',
            (
                (
                    admin_url(v),
                    v.version,
                    v.doi,
                    v.get_state_display(),
                    f", {v.published_at:%Y-%m-%d}" if v.published_at else "",
                )
                for v in obj.versions.order_by("-id")
            ),
        )
        add_url = reverse("admin:register_datasetversion_add") + f"?dataset={obj.pk}"
        links = format_html('<a href="{}">{}</a>', add_url, _("Add a draft version"))
        if obj.latest_version_id:
            new_url = reverse("admin:register_dataset_new_version", args=[obj.pk])
            links = format_html(
                '{} · <a href="{}">{}</a>', links, new_url, _("Start a new version")
            )
        return format_html("<ul>{}</ul><p>{}</p>", rows, links)

    @admin.display(description=gettext_lazy("minting"))
    def minting_summary(self, obj: Dataset) -> str:
        if obj is None or obj.pk is None:
            return "—"
        return minting_status(obj).message

    def get_readonly_fields(self, request, obj=None):
        readonly = [*_STATE_FIELDS, *_DOI_FIELDS, "version_list"]
        if obj is not None and obj.state != DatasetState.DRAFT:
            # The concept DOI is registered once the dataset is published.
            readonly.append("concept_doi")
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "priority" and field is not None:
            field.queryset = field.queryset.select_related("priority_list")
            field.label_from_instance = lambda p: f"{p.priority_list.approved_on:%Y-%m-%d} — {p}"
        return field

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.state != DatasetState.DRAFT:
            return False  # withdraw instead: withdrawal keeps everything
        return super().has_delete_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            dataset = self.get_object(request, object_id)
            if dataset is not None:
                show_warnings(request, services.license_warnings(dataset))
                show_minting_status(request, dataset)
                if dataset.latest_version is not None:
                    show_warnings(request, services.contact_warnings(dataset.latest_version))
        return super().change_view(request, object_id, form_url, extra_context)

    def save_formset(self, request, form, formset, change):
        for instance in _new_rows(formset):
            if isinstance(instance, Publication):
                instance.relation = PublicationRelation.USES
            if isinstance(instance, EthicsApproval):
                instance.recorded_by = request.user
        _fill_positions(formset)
        super().save_formset(request, form, formset, change)

    def response_add(self, request, obj, post_url_continue=None):
        if "_continue" in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        messages.success(
            request,
            _("The dataset %(name)s was added. Now describe its first version.")
            % {"name": obj.short_name},
        )
        return HttpResponseRedirect(
            reverse("admin:register_datasetversion_add") + f"?dataset={obj.pk}"
        )


# --- Dataset versions -----------------------------------------------------------------------


class _PublishedIsReadOnly:
    """Inline rows of a published version can be neither added, changed nor deleted."""

    def _editable(self, obj) -> bool:
        version = obj if isinstance(obj, DatasetVersion) else None
        return version is None or not version.is_published

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


class _OrderedInline(_PublishedIsReadOnly, admin.TabularInline):
    """Parts listed in order; a new row without a number goes to the end."""

    form = _OrderedPartForm
    extra = 0
    ordering = ["position", "id"]


class AuthorInline(_OrderedInline):
    model = Author
    fields = ["position", "name", "orcid", "kind", "affiliation"]


class CopyrightHolderInline(_OrderedInline):
    model = CopyrightHolder
    fields = [
        "position",
        "institution",
        "institution_url",
        "responsible_researcher",
        "researcher_orcid",
    ]


class ContactInline(_OrderedInline):
    model = Contact
    fields = ["position", "name", "email", "kind", "identifier", "is_hub_contact"]


class ExampleImageInline(_OrderedInline):
    model = ExampleImage
    fields = ["position", "preview", "caption", "url", "thumbnail_url"]
    readonly_fields = ["preview"]

    @admin.display(description=gettext_lazy("preview"))
    def preview(self, obj: ExampleImage):
        src = obj.thumbnail_url or obj.url
        if not src or not src.startswith(("/", "https://")):
            return "—"
        return format_html('<img src="{}" alt="" style="max-height: 80px">', src)


class LicenseForm(_OrderedPartForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "name" in self.fields:
            self.fields["name"].required = False
            self.fields["name"].help_text = _("Blank: the name of the license type.")

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("name") and cleaned.get("kind"):
            cleaned["name"] = str(LicenseKind(cleaned["kind"]).label)
            self.instance.name = cleaned["name"]
        return cleaned


class LicenseInline(_PublishedIsReadOnly, admin.StackedInline):
    model = License
    form = LicenseForm
    extra = 0
    ordering = ["position", "id"]
    fields = [
        "position",
        ("kind", "name"),
        "identifier",
        "abstract",
        "acknowledgement",
        "coauthors",
        "review_date",
        "custom_text",
        "rendered_text",
    ]
    readonly_fields = ["rendered_text"]


class DescribingPublicationInline(_PublishedIsReadOnly, admin.TabularInline):
    """Papers that describe the version; its BY licenses cite them in this order."""

    model = Publication
    fk_name = "version"
    form = _OrderedPartForm
    fields = ["position", "title", "doi", "url", "year"]
    extra = 0
    ordering = ["position", "id"]
    verbose_name = gettext_lazy("describing publication")
    verbose_name_plural = gettext_lazy("describing publications (cited in the licenses)")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(relation=PublicationRelation.DESCRIBES)


class DatasetVersionForm(forms.ModelForm):
    """The version's DOI is derived from the concept DOI when left blank."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "doi" in self.fields:
            self.fields["doi"].required = False
            self.fields["doi"].help_text = _(
                "Blank: the concept DOI followed by .v and the version, e.g. "
                "10.23698/aida/ctpa.v1.1."
            )

    def clean(self):
        cleaned = super().clean()
        dataset = cleaned.get("dataset") or getattr(self.instance, "dataset", None)
        label = cleaned.get("version")
        if "doi" in self.fields and not cleaned.get("doi") and dataset and label:
            try:
                cleaned["doi"] = version_doi(dataset.concept_doi, label)
            except InvalidDOI as exc:
                self.add_error("version", str(exc))
                return cleaned
            if (
                DatasetVersion.objects.filter(doi=cleaned["doi"])
                .exclude(pk=self.instance.pk)
                .exists()
            ):
                self.add_error("version", _("This dataset already has a version with this label."))
        return cleaned


@admin.register(DatasetVersion)
class DatasetVersionAdmin(_NoBulkDeleteMixin, AuditedAdminMixin, admin.ModelAdmin):
    form = DatasetVersionForm
    list_display = [
        "title",
        "dataset_short_name",
        "version",
        "doi",
        "state",
        "doi_state",
        "published_at",
    ]
    list_filter = ["state", "subject", "origin", "status", "synthetic"]
    list_select_related = ["dataset"]
    search_fields = ["title", "doi", "dataset__short_name", "dataset__concept_doi"]
    autocomplete_fields = ["dataset"]
    inlines = [
        AuthorInline,
        CopyrightHolderInline,
        ContactInline,
        ExampleImageInline,
        LicenseInline,
        DescribingPublicationInline,
    ]
    fieldsets = [
        (
            None,
            {"fields": ["dataset", "version", "doi", "state", "published_at", "policy_version"]},
        ),
        (
            gettext_lazy("DOI at DataCite"),
            {"fields": ["doi_state", "doi_synced_at", "doi_error", "doi_attempts"]},
        ),
        (
            gettext_lazy("Description"),
            {
                "fields": [
                    "title",
                    "description",
                    "additional",
                    "subject",
                    "origin",
                    "status",
                    "synthetic",
                    "keywords",
                    "url",
                    "image",
                ]
            },
        ),
        (
            gettext_lazy("Contents"),
            {
                "fields": [
                    "modalities",
                    "organs",
                    "scanners",
                    "stain",
                    "phase",
                    "resolution",
                    "age_span",
                    "number_of_scans",
                    "number_of_annotations",
                    "size_bytes",
                    "annotation_description",
                    "case_level_annotations",
                    "countries_shared",
                ]
            },
        ),
        (
            gettext_lazy("Publication"),
            {
                "fields": [
                    "publisher",
                    "copyright_year",
                    "date_created",
                    "date_published",
                    "date_modified",
                ]
            },
        ),
        (
            gettext_lazy("Imported record"),
            {"classes": ["collapse"], "fields": ["repairs", "extra", "content_hash"]},
        ),
    ]

    @admin.display(description=gettext_lazy("dataset"), ordering="dataset__short_name")
    def dataset_short_name(self, obj: DatasetVersion) -> str:
        return obj.dataset.short_name

    def get_readonly_fields(self, request, obj=None):
        readonly = ["state", "published_at", "policy_version", "repairs", "extra", "content_hash"]
        readonly += ["doi_state", "doi_synced_at", "doi_error", "doi_attempts"]
        if obj is not None:
            readonly += ["dataset"]
        return readonly

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("version", "1.0")
        initial.setdefault("publisher", _hub_publisher())
        return initial

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        if request.method == "GET" and version is not None:
            if version.is_published:
                url = reverse("admin:register_dataset_new_version", args=[version.dataset_id])
                messages.info(
                    request,
                    format_html(
                        '{} <a href="{}">{}</a>',
                        _(
                            "This version is published and can no longer change, so that terms "
                            "already granted are never rewritten. To change anything,"
                        ),
                        url,
                        _("start a new version."),
                    ),
                )
            else:
                show_warnings(request, services.contact_warnings(version))
        return super().change_view(request, object_id, form_url, extra_context)

    def save_formset(self, request, form, formset, change):
        for instance in _new_rows(formset):
            if isinstance(instance, Publication):
                instance.relation = PublicationRelation.DESCRIBES
                instance.dataset_id = form.instance.dataset_id
        _fill_positions(formset)
        super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            add_hub_contact(request, form.instance)
            services.reserve_dois(form.instance, actor=request.user)
        elif form.has_changed() or any(f.has_changed() for f in formsets):
            version = form.instance
            doi_services.on_commit(
                doi_services.after_edit, version.dataset_id, version.pk, actor=request.user
            )


def _new_rows(formset):
    return [f.instance for f in formset.forms if f.instance.pk is None]


def _fill_positions(formset) -> None:
    """Rows left without an order number go to the end, in the order they were entered."""
    instances = [f.instance for f in formset.forms if hasattr(f.instance, "position")]
    if not any(i.position is None for i in instances):
        return
    stored = formset.get_queryset().aggregate(top=models.Max("position"))["top"]
    top = max(
        [i.position for i in instances if i.position is not None]
        + [-1 if stored is None else stored]
    )
    for instance in instances:
        if instance.position is None:
            top += 1
            instance.position = top


def _hub_publisher() -> str:
    return settings.HUB_NAME


# --- Priorities -----------------------------------------------------------------------------


class PriorityInline(admin.TabularInline):
    model = Priority
    fields = ["number", "title", "description", "dataset_count"]
    readonly_fields = ["dataset_count"]
    extra = 0
    ordering = ["number"]

    @admin.display(description=gettext_lazy("datasets"))
    def dataset_count(self, obj: Priority) -> int:
        return obj.datasets.count() if obj.pk else 0


@admin.register(PriorityList)
class PriorityListAdmin(_NoBulkDeleteMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "approved_on", "approved_by", "priority_count"]
    date_hierarchy = "approved_on"
    inlines = [PriorityInline]

    @admin.display(description=gettext_lazy("priorities"))
    def priority_count(self, obj: PriorityList) -> int:
        return obj.priorities.count()


__all__ = ["DatasetAdmin", "DatasetVersionAdmin", "PriorityListAdmin", "next_version_label"]
