"""Clear cached register pages whenever anything in the register changes."""

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

REGISTER_CACHE_VERSION_KEY = "register:generation"


def register_generation() -> int:
    """A number that changes whenever register content changes; part of every cache key."""
    generation = cache.get(REGISTER_CACHE_VERSION_KEY)
    if generation is None:
        generation = 1
        cache.add(REGISTER_CACHE_VERSION_KEY, generation, None)
    return generation


def bump_generation(**_kwargs) -> None:
    try:
        cache.incr(REGISTER_CACHE_VERSION_KEY)
    except ValueError:
        cache.set(REGISTER_CACHE_VERSION_KEY, 2, None)


def _connect() -> None:
    from django.apps import apps

    for model in apps.get_app_config("register").get_models():
        post_save.connect(bump_generation, sender=model, dispatch_uid=f"bump-save-{model}")
        post_delete.connect(bump_generation, sender=model, dispatch_uid=f"bump-del-{model}")


_connect()
