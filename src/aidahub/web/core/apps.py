from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "aidahub.web.core"
    label = "core"
    verbose_name = "Core"
