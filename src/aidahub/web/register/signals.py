"""Keep cached register pages fresh: any register change bumps a generation number."""

from django.db.models import F
from django.db.models.signals import post_delete, post_save


def register_generation() -> int:
    """A number that changes whenever register content changes; part of every cache key."""
    from aidahub.web.register.models import RegisterGeneration

    value = RegisterGeneration.objects.filter(pk=1).values_list("generation", flat=True).first()
    return value or 0


def bump_generation(**_kwargs) -> None:
    from aidahub.web.register.models import RegisterGeneration

    if not RegisterGeneration.objects.filter(pk=1).update(generation=F("generation") + 1):
        RegisterGeneration.objects.get_or_create(pk=1, defaults={"generation": 1})


def _connect() -> None:
    from django.apps import apps

    for model in apps.get_app_config("register").get_models():
        if model.__name__ == "RegisterGeneration":
            continue
        post_save.connect(bump_generation, sender=model, dispatch_uid=f"bump-save-{model}")
        post_delete.connect(bump_generation, sender=model, dispatch_uid=f"bump-del-{model}")


_connect()
