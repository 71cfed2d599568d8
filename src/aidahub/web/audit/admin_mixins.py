"""Admin behaviour shared by every app: each change is written to the audit trail."""

from __future__ import annotations

from django.contrib import admin
from django.forms.models import model_to_dict

from aidahub.web.audit.services import record


def _snapshot(obj) -> dict:
    return {k: str(v) for k, v in model_to_dict(obj).items()}


class AuditedAdminMixin(admin.ModelAdmin):
    """Record who changed what, with before/after values, for every admin save or delete."""

    audit_prefix = "admin"

    def _record(self, request, action, obj, data):
        record(
            f"{self.audit_prefix}.{obj._meta.model_name}.{action}",
            request=request,
            obj=obj,
            data=data,
        )

    def save_model(self, request, obj, form, change):
        before = {}
        if change and obj.pk:
            previous = type(obj).objects.filter(pk=obj.pk).first()
            before = _snapshot(previous) if previous else {}
        super().save_model(request, obj, form, change)
        after = _snapshot(obj)
        diff = {
            k: {"before": before.get(k), "after": v} for k, v in after.items() if before.get(k) != v
        }
        self._record(request, "change" if change else "add", obj, {"changes": diff})

    def delete_model(self, request, obj):
        self._record(request, "delete", obj, {"before": _snapshot(obj)})
        super().delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            self._record(request, "delete", deleted, {"before": _snapshot(deleted)})
            deleted.delete()
        for instance in instances:
            is_new = instance.pk is None
            instance.save()
            self._record(
                request, "add" if is_new else "change", instance, {"after": _snapshot(instance)}
            )
        formset.save_m2m()
