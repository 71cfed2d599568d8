from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "aidahub.web.audit"
    label = "audit"
    verbose_name = "Audit trail"
