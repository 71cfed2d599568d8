from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "aidahub.web.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from aidahub.web.accounts import signals  # noqa: F401  (sign-in audit, identity)
