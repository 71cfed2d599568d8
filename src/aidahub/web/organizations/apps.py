from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "aidahub.web.organizations"
    label = "organizations"
    verbose_name = "Organizations and membership"
