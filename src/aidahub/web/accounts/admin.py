"""Staff views of profiles, identity checks and undertakings.

Identity checks are recorded and revoked through ``services`` (which write the audit
events); a recorded check is never edited or deleted, so the history of who vouched for
whom stays whole. Undertaking acceptances are the person's own act: staff only read them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from aidahub.web.accounts import services
from aidahub.web.accounts.models import IdentityVerification, Profile, UndertakingAcceptance
from aidahub.web.audit.admin_mixins import AuditedAdminMixin


@admin.register(Profile)
class ProfileAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "display_name", "orcid", "is_clinical_council"]
    list_filter = ["is_clinical_council"]
    search_fields = ["user__username", "user__email", "display_name", "orcid"]
    raw_id_fields = ["user"]


class IdentityCheckForm(forms.ModelForm):
    evidence = forms.CharField(
        label=_("How it was checked"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "What was seen, where and when, for example: passport shown to the data "
            "director at the AIDA days, 12 March."
        ),
    )

    class Meta:
        model = IdentityVerification
        fields = ["user", "evidence"]


@admin.register(IdentityVerification)
class IdentityVerificationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "method", "verified_by", "verified_at", "revoked_at"]
    list_filter = ["method", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__email", "evidence"]
    raw_id_fields = ["user"]
    actions = ["revoke"]
    form = IdentityCheckForm
    recorded_fields = ["user", "method", "evidence", "verified_by", "verified_at", "revoked_at"]

    def get_fields(self, request, obj=None):
        return self.recorded_fields if obj is not None else ["user", "evidence"]

    def has_change_permission(self, request, obj=None):
        return False  # a recorded check is only read, or revoked

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the record of the check stays

    def has_revoke_permission(self, request):
        return request.user.has_perm("accounts.change_identityverification")

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied
        try:
            created = services.record_identity_check(
                obj.user,
                evidence=form.cleaned_data["evidence"],
                verified_by=request.user,
                request=request,
            )
        except ValidationError as exc:  # the form already requires evidence
            raise PermissionDenied(exc.messages) from exc
        obj.pk = created.pk
        obj.method = created.method
        obj.verified_by = created.verified_by
        obj.verified_at = created.verified_at

    @admin.action(
        description=_("Revoke the selected identity verifications"), permissions=["revoke"]
    )
    def revoke(self, request, queryset):
        revoked = 0
        for verification in queryset.filter(revoked_at__isnull=True):
            services.revoke_identity(verification, by=request.user, request=request)
            revoked += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d identity verification revoked.",
                "%(count)d identity verifications revoked.",
                revoked,
            )
            % {"count": revoked},
            messages.SUCCESS,
        )


@admin.register(UndertakingAcceptance)
class UndertakingAcceptanceAdmin(admin.ModelAdmin):
    list_display = ["user", "version", "accepted_at", "request_ip"]
    list_filter = ["version"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = ["user", "version", "text_sha256", "accepted_at", "request_ip"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
