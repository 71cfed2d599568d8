from django.apps import AppConfig


class RegisterConfig(AppConfig):
    name = "aidahub.web.register"
    label = "register"
    verbose_name = "Dataset register"

    def ready(self) -> None:
        from aidahub.web.register import signals  # noqa: F401  (cache invalidation)
