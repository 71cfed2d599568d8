"""What the hub knows about a person beyond the login: roles, identity affirmation and the
confidentiality undertakings they accepted.

The policy's organizational measures ("identity affirmation", "confidentiality
undertakings") are records here; whether they suffice for non-public data is decided in one
place, ``aidahub.web.organizations.policies.nonpublic_access``.

Accounts are Django's own ``auth.User`` (sign-in by e-mail through django-allauth); the hub's
extra facts about a person live in ``Profile``, one per user, created on first need.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The hub's roles (policy: data director / system administrator, clinical council,
    members, outside users). Staff is Django's ``is_staff``; member follows from membership."""

    STAFF = "staff", _("data director / system administrator")
    CLINICAL_COUNCIL = "clinical_council", _("clinical council member")
    MEMBER = "member", _("member")
    OUTSIDE = "outside", _("outside user")


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hub_profile"
    )
    display_name = models.CharField(_("name"), max_length=200, blank=True)
    orcid = models.CharField(_("ORCID iD"), max_length=19, blank=True)
    is_clinical_council = models.BooleanField(
        _("clinical council member"),
        default=False,
        help_text=_("Clinical council members edit the list of clinical priorities."),
    )

    class Meta:
        verbose_name = _("profile")

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()


class IdentityMethod(models.TextChoices):
    INSTITUTIONAL_LOGIN = "institutional_login", _("institutional sign-in")
    STAFF_CHECKED = "staff_checked", _("checked by staff")


class IdentityVerification(models.Model):
    """How the hub affirmed that the account belongs to the person it names.

    One row per affirmation; the newest counts. Institutional sign-in creates one by
    itself; staff record how they checked (for example "passport shown at the AIDA days").
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identity_verifications"
    )
    method = models.CharField(_("method"), max_length=32, choices=IdentityMethod.choices)
    evidence = models.TextField(
        _("how it was checked"),
        blank=True,
        help_text=_(
            "For staff checks: what was seen, where and when. For institutional "
            "sign-in: the provider and the subject identifier."
        ),
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-verified_at", "-id"]
        verbose_name = _("identity verification")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(method="staff_checked", evidence=""),
                name="identity_staff_check_has_evidence",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_method_display()}, {self.verified_at:%Y-%m-%d})"


class UndertakingAcceptance(models.Model):
    """A person accepted the confidentiality undertaking in the version then in force.

    The text and its version are settings (``AIDAHUB_UNDERTAKING_VERSION`` and the text
    file); the hash of the text as shown is kept, so a later edit of the text without a new
    version number is visible.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="undertakings"
    )
    version = models.CharField(_("version"), max_length=40)
    text_sha256 = models.CharField(_("SHA-256 of the text shown"), max_length=64)
    accepted_at = models.DateTimeField(_("accepted at"))
    request_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at", "-id"]
        verbose_name = _("confidentiality undertaking")
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="one_acceptance_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.user} accepted version {self.version}"
