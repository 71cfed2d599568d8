import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Accounts here only sign in with force_login; hashing passwords properly is slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user(
        "member", "member@uni.example.org", "a-long-test-password"
    )
