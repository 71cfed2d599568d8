"""Shared fixtures. Tests that touch the database run on SQLite and, in `make test`, again
on PostgreSQL when a server answers."""

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: test only meaningful on SQLite")
    config.addinivalue_line("markers", "browser: drives Chromium (tests/web/browser)")


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STATIC_ROOT.mkdir()
    settings.DATA_DIR = tmp_path
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(tmp_path),
        }
    }
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def staff_user(django_user_model):
    """The data director, with what staff need to reach the admin: a verified e-mail
    address and an authenticator app (two-factor authentication)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    user = django_user_model.objects.create_user(
        "director",
        "director@hub.example.org",
        "a-long-test-password",
        is_staff=True,
        is_superuser=True,
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    return user


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
