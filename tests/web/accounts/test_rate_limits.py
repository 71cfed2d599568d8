"""Repeated failed sign-ins are refused, through allauth's real views and the cache."""

import pytest

from aidahub.web.audit.models import AuditEvent
from tests.web.accounts.helpers import PASSWORD, make_person

pytestmark = pytest.mark.django_db


def _attempt(client, email, password, ip="192.0.2.10"):
    return client.post("/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=ip)


def test_failed_sign_ins_for_one_address_are_refused_even_with_the_right_password(client, settings):
    # The hub's own limit: five failures per address in five minutes.
    assert "5/5m/key" in settings.ACCOUNT_RATE_LIMITS["login_failed"]
    make_person("person@uni.example.org")
    for n in range(5):
        # From different addresses, so that only the per-address limit can bite.
        response = _attempt(client, "person@uni.example.org", "wrong", ip=f"192.0.2.{n + 1}")
        assert response.status_code == 200
        assert "The email address and/or password you specified are not correct." in (
            response.content.decode()
        )

    refused = _attempt(client, "person@uni.example.org", PASSWORD, ip="198.51.100.7")

    assert refused.status_code == 200
    assert "Too many failed login attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="accounts.login_failed").count() == 5
    assert not AuditEvent.objects.filter(action="accounts.login").exists()


def test_other_addresses_are_not_locked_out(client):
    make_person("person@uni.example.org")
    make_person("colleague@uni.example.org")
    for n in range(5):
        _attempt(client, "person@uni.example.org", "wrong", ip=f"192.0.2.{n + 1}")
    response = _attempt(client, "colleague@uni.example.org", PASSWORD, ip="198.51.100.7")
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_too_many_sign_in_requests_from_one_address_get_429(client, settings):
    # The per-IP limit on the sign-in page: 30 a minute.
    assert settings.ACCOUNT_RATE_LIMITS["login"] == "30/m/ip"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    statuses = [
        _attempt(client, f"nobody{n}@uni.example.org", "wrong").status_code for n in range(31)
    ]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    assert "Too many attempts" in _attempt(client, "a@uni.example.org", "x").content.decode()
    # Another address is still served.
    assert _attempt(client, "b@uni.example.org", "x", ip="203.0.113.9").status_code == 200
