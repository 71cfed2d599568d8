"""Staff curate organizations, memberships, applications and agreements in the admin.

Every edit is in the audit trail (``organizations.<object>.<verb>``). New rows and state
changes go through ``services``: verifying an organization, confirming or ending an
affiliation or a membership, deciding an application, filing an agreement with its signed
copy (hashed, by whom) and terminating it. Staff adding a person to an organization here
confirm that affiliation.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aidahub.web.organizations import services
from aidahub.web.organizations.admin_actions import (
    ApproveForm,
    LastDayForm,
    OrganizationsAuditedMixin,
    RejectForm,
    TerminateForm,
    action_form,
    adopt,
    confirm_page,
    show_error,
)
from aidahub.web.organizations.agreement_services import check_signed_file
from aidahub.web.organizations.models import (
    Affiliation,
    Agreement,
    ApplicationState,
    NetworkPartnerApplication,
    Organization,
    PersonalMembership,
    ResearchGroup,
    Signatory,
)


def _report(request, done: int, message: str) -> None:
    if done:
        messages.success(request, message % {"count": done})


# --- Organizations --------------------------------------------------------------------------


class SignatoryInline(admin.TabularInline):
    model = Signatory
    fields = ["name", "title", "email", "user"]
    raw_id_fields = ["user"]
    extra = 0


class AffiliationInline(admin.TabularInline):
    model = Affiliation
    fields = ["user", "role", "start", "end", "confirmed_at", "confirmed_by"]
    readonly_fields = ["confirmed_at", "confirmed_by"]
    raw_id_fields = ["user"]
    extra = 0
    verbose_name_plural = gettext_lazy("affiliations (adding a person here confirms them)")


@admin.register(Organization)
class OrganizationAdmin(OrganizationsAuditedMixin, admin.ModelAdmin):
    list_display = ["name", "country", "organization_number", "kind", "membership", "fee_status"]
    list_display += ["verified"]
    list_filter = ["membership", "kind", "verified", "country", "fee_status"]
    search_fields = ["name", "organization_number"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    fields = [
        "name",
        "organization_number",
        "country",
        "kind",
        "is_public_authority",
        "membership",
        "fee_status",
        "fee_waiver_reason",
        "verified",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [SignatoryInline, AffiliationInline]
    actions = ["verify_selected"]

    def get_changeform_initial_data(self, request):
        # An organization staff enter themselves is one they have checked.
        return {"verified": True, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = {name: form.cleaned_data[name] for name in services.ORGANIZATION_FIELDS}
        adopt(obj, services.create_organization(by=request.user, request=request, **data))

    def save_formset(self, request, form, formset, change):
        if formset.model is Affiliation:
            now = timezone.now()
            for row in formset.forms:
                if row.instance.pk is None and row.has_changed():
                    row.instance.confirmed_at = now
                    row.instance.confirmed_by = request.user
        super().save_formset(request, form, formset, change)

    @admin.action(description=gettext_lazy("Verify selected organizations"), permissions=["change"])
    def verify_selected(self, request, queryset):
        done = 0
        for org in queryset:
            try:
                services.verify_organization(org, by=request.user, request=request)
                done += 1
            except ValidationError as exc:
                show_error(request, org.name, exc)
        _report(
            request,
            done,
            ngettext("%(count)d organization verified.", "%(count)d organizations verified.", done),
        )


@admin.register(Signatory)
class SignatoryAdmin(OrganizationsAuditedMixin, admin.ModelAdmin):
    list_display = ["name", "title", "organization", "email"]
    list_filter = ["organization__membership"]
    search_fields = ["name", "email", "organization__name"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["organization"]


# --- Affiliations and personal membership ---------------------------------------------------


@admin.register(Affiliation)
class AffiliationAdmin(OrganizationsAuditedMixin, admin.ModelAdmin):
    list_display = ["user", "organization", "role", "start", "end", "confirmed_at"]
    list_filter = [("confirmed_at", admin.EmptyFieldListFilter), "role", "organization__membership"]
    search_fields = ["user__username", "user__email", "organization__name"]
    raw_id_fields = ["user", "organization"]
    readonly_fields = ["confirmed_at", "confirmed_by", "created_at"]
    actions = ["confirm_selected", "end_selected"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        saved = services.add_affiliation(
            data["user"],
            data["organization"],
            by=request.user,
            role=data["role"],
            start=data["start"],
            end=data["end"],
            request=request,
        )
        adopt(obj, saved)

    @admin.action(description=gettext_lazy("Confirm selected affiliations"), permissions=["change"])
    def confirm_selected(self, request, queryset):
        done = 0
        for affiliation in queryset:
            try:
                services.confirm_affiliation(affiliation, by=request.user, request=request)
                done += 1
            except ValidationError as exc:
                show_error(request, str(affiliation), exc)
        _report(
            request,
            done,
            ngettext("%(count)d affiliation confirmed.", "%(count)d affiliations confirmed.", done),
        )

    @admin.action(description=gettext_lazy("End selected affiliations…"), permissions=["change"])
    def end_selected(self, request, queryset):
        form = action_form(LastDayForm, request)
        if not form.is_valid():
            return confirm_page(
                self,
                request,
                queryset,
                form,
                title=_("End affiliations"),
                intro=_("After the last day these affiliations no longer admit anyone."),
                submit_label=_("End them"),
                action="end_selected",
            )
        return _end_each(
            request,
            queryset,
            form.cleaned_data["last_day"],
            services.end_affiliation,
            lambda done: ngettext(
                "%(count)d affiliation ended.", "%(count)d affiliations ended.", done
            ),
        )


def _end_each(request, queryset, last_day, end, message) -> None:
    """End every selected affiliation or membership on *last_day*; report each refusal."""
    done = 0
    for obj in queryset:
        try:
            end(obj, last_day=last_day, by=request.user, request=request)
            done += 1
        except ValidationError as exc:
            show_error(request, str(obj), exc)
    _report(request, done, message(done))


@admin.register(PersonalMembership)
class PersonalMembershipAdmin(OrganizationsAuditedMixin, admin.ModelAdmin):
    list_display = ["user", "basis", "activity", "start", "end"]
    list_filter = ["basis"]
    search_fields = ["user__username", "user__email", "activity"]
    raw_id_fields = ["user"]
    readonly_fields = ["recorded_by", "created_at"]
    actions = ["end_selected"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        saved = services.record_personal_membership(
            data["user"],
            basis=data["basis"],
            activity=data["activity"],
            start=data["start"],
            end=data["end"],
            by=request.user,
            request=request,
        )
        adopt(obj, saved)

    @admin.action(description=gettext_lazy("End selected memberships…"), permissions=["change"])
    def end_selected(self, request, queryset):
        form = action_form(LastDayForm, request)
        if not form.is_valid():
            return confirm_page(
                self,
                request,
                queryset,
                form,
                title=_("End memberships"),
                intro=_("After the last day these memberships no longer admit anyone."),
                submit_label=_("End them"),
                action="end_selected",
            )
        return _end_each(
            request,
            queryset,
            form.cleaned_data["last_day"],
            services.end_personal_membership,
            lambda done: ngettext(
                "%(count)d membership ended.", "%(count)d memberships ended.", done
            ),
        )


@admin.register(ResearchGroup)
class ResearchGroupAdmin(OrganizationsAuditedMixin, admin.ModelAdmin):
    list_display = ["name", "lead", "member_count"]
    search_fields = ["name", "description"]
    filter_horizontal = ["members"]
    raw_id_fields = ["lead"]

    @admin.display(description=gettext_lazy("members"))
    def member_count(self, obj) -> int:
        return obj.members.count()

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        saved = services.create_research_group(
            name=data["name"],
            description=data["description"],
            lead=data["lead"],
            members=data["members"],
            by=request.user,
            request=request,
        )
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        # Members change through the service, which records who came and who went.
        if change:
            services.set_group_members(
                form.instance, form.cleaned_data["members"], by=request.user, request=request
            )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


# --- Network partner applications -----------------------------------------------------------


@admin.register(NetworkPartnerApplication)
class NetworkPartnerApplicationAdmin(OrganizationsAuditedMixin, admin.ModelAdmin):
    list_display = ["organization", "applicant", "state", "fee_waiver_requested", "submitted_at"]
    list_filter = ["state", "fee_waiver_requested"]
    search_fields = ["organization__name", "applicant__username", "applicant__email"]
    readonly_fields = [
        "organization",
        "applicant",
        "motivation",
        "fee_waiver_requested",
        "fee_waiver_reason",
        "state",
        "decided_by",
        "decided_at",
        "decision_note",
        "submitted_at",
    ]
    actions = ["approve_selected", "reject_selected"]

    def has_add_permission(self, request):
        return False  # people apply on the membership pages

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description=gettext_lazy("Approve selected applications…"), permissions=["change"]
    )
    def approve_selected(self, request, queryset):
        form = action_form(ApproveForm, request)
        if not form.is_valid():
            return confirm_page(
                self,
                request,
                queryset,
                form,
                title=_("Approve applications"),
                intro=_(
                    "Each organization becomes a network partner with its fee due, or waived "
                    "if you grant the waiver its applicant asked for. Verify the "
                    "organization first. The applicants are told by e-mail."
                ),
                submit_label=_("Approve"),
                action="approve_selected",
            )
        done = 0
        for application in queryset.filter(state=ApplicationState.SUBMITTED):
            grant = form.cleaned_data["grant_waiver"] and application.fee_waiver_requested
            try:
                services.approve_application(
                    application,
                    request.user,
                    form.cleaned_data["note"],
                    grant_waiver=grant,
                    request=request,
                )
                done += 1
            except ValidationError as exc:
                show_error(request, str(application.organization), exc)
        self._report_undecided(request, queryset)
        _report(
            request,
            done,
            ngettext("%(count)d application approved.", "%(count)d applications approved.", done),
        )
        return None

    @admin.action(description=gettext_lazy("Reject selected applications…"), permissions=["change"])
    def reject_selected(self, request, queryset):
        form = action_form(RejectForm, request)
        if not form.is_valid():
            return confirm_page(
                self,
                request,
                queryset,
                form,
                title=_("Reject applications"),
                intro=_("The applicants are told by e-mail, with the reason below."),
                submit_label=_("Reject"),
                action="reject_selected",
            )
        done = 0
        for application in queryset.filter(state=ApplicationState.SUBMITTED):
            try:
                services.reject_application(
                    application, request.user, form.cleaned_data["note"], request=request
                )
                done += 1
            except ValidationError as exc:
                show_error(request, str(application.organization), exc)
        self._report_undecided(request, queryset)
        _report(
            request,
            done,
            ngettext("%(count)d application rejected.", "%(count)d applications rejected.", done),
        )
        return None

    def _report_undecided(self, request, queryset):
        for application in queryset.exclude(state=ApplicationState.SUBMITTED):
            show_error(
                request,
                str(application.organization),
                services.InvalidTransition(application.state, "decide"),
            )


# --- Agreements -----------------------------------------------------------------------------


AGREEMENT_TERMS = ("kind", "title", "includes_non_disclosure", "valid_from", "valid_until")


class AgreementAdminForm(forms.ModelForm):
    upload = forms.FileField(
        label=gettext_lazy("Signed copy (PDF)"),
        required=False,
        help_text=gettext_lazy(
            "The agreement counts only with its signed copy on record. Uploading a new copy "
            "keeps the old one; both hashes are in the audit trail."
        ),
    )

    class Meta:
        model = Agreement
        fields = [*AGREEMENT_TERMS, "parties"]

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload:
            check_signed_file(upload)
        return upload


@admin.register(Agreement)
class AgreementAdmin(OrganizationsAuditedMixin, admin.ModelAdmin):
    form = AgreementAdminForm
    list_display = ["title", "kind", "valid_from", "valid_until", "terminated_at", "in_force"]
    list_display += ["includes_non_disclosure"]
    list_filter = ["kind", "includes_non_disclosure", ("terminated_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "parties__name", "sha256"]
    filter_horizontal = ["parties"]
    readonly_fields = [
        "signed_copy",
        "sha256",
        "original_filename",
        "uploaded_by",
        "uploaded_at",
        "terminated_at",
        "termination_reason",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "kind",
                    "title",
                    "parties",
                    "includes_non_disclosure",
                    "valid_from",
                    "valid_until",
                ]
            },
        ),
        (
            gettext_lazy("Signed copy"),
            {
                "fields": [
                    "upload",
                    "signed_copy",
                    "sha256",
                    "original_filename",
                    "uploaded_by",
                    "uploaded_at",
                ]
            },
        ),
        (gettext_lazy("Termination"), {"fields": ["terminated_at", "termination_reason"]}),
    ]
    actions = ["terminate_selected"]

    @admin.display(boolean=True, description=gettext_lazy("in force"))
    def in_force(self, obj) -> bool:
        return obj.is_valid(timezone.localdate())

    @admin.display(description=gettext_lazy("signed file"))
    def signed_copy(self, obj) -> str:
        if not obj.pk or not obj.sha256:
            return _("none on record")
        url = reverse("admin:organizations_agreement_signed_file", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_filename or _("download"))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        upload = data.get("upload")
        terms = {name: data[name] for name in AGREEMENT_TERMS}
        if not change:
            saved = services.file_agreement(
                parties=data["parties"],
                uploaded_file=upload,
                by=request.user,
                request=request,
                **terms,
            )
            adopt(obj, saved)
            return
        services.amend_agreement(
            obj, by=request.user, parties=data["parties"], request=request, **terms
        )
        if upload:
            services.attach_signed_file(obj, upload, by=request.user, request=request)

    def save_related(self, request, form, formsets, change):
        # The services set the parties (and record them); the form must not again.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def get_urls(self):
        view = self.admin_site.admin_view(self.signed_file_view)
        return [
            path("<int:object_id>/signed-file/", view, name="organizations_agreement_signed_file"),
            *super().get_urls(),
        ]

    def signed_file_view(self, request, object_id: int):
        agreement = get_object_or_404(Agreement, pk=object_id)
        if not self.has_view_permission(request, agreement):
            raise PermissionDenied
        try:
            handle = services.open_signed_file(agreement, by=request.user, request=request)
        except FileNotFoundError:
            raise Http404 from None
        filename = agreement.original_filename or f"{agreement.sha256}.pdf"
        return FileResponse(
            handle, as_attachment=True, filename=filename, content_type="application/pdf"
        )

    @admin.action(
        description=gettext_lazy("Terminate selected agreements…"), permissions=["change"]
    )
    def terminate_selected(self, request, queryset):
        form = action_form(TerminateForm, request)
        if not form.is_valid():
            return confirm_page(
                self,
                request,
                queryset,
                form,
                title=_("Terminate agreements"),
                intro=_(
                    "From the day below these agreements no longer admit anyone to "
                    "non-public data. The agreements and their signed copies are kept."
                ),
                submit_label=_("Terminate"),
                action="terminate_selected",
            )
        done = 0
        for agreement in queryset:
            try:
                services.terminate_agreement(
                    agreement,
                    form.cleaned_data["on"],
                    request.user,
                    form.cleaned_data["reason"],
                    request=request,
                )
                done += 1
            except ValidationError as exc:
                show_error(request, str(agreement), exc)
        _report(
            request,
            done,
            ngettext("%(count)d agreement terminated.", "%(count)d agreements terminated.", done),
        )
        return None
