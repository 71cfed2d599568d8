"""Organizations, the people who belong to them, membership of the consortium, and the
agreements on file.

Policy: membership comes through partnership (partner contracts), through a funded
activity (project, fellowship, clinical evaluation), or through network partnership, with
a fee that can be waived. Data is shared "only when it is ethically approved, and when a
contractual agreement is in place that includes non-disclosure of data, such as partner
contracts". Whether a person may see non-public data is decided in ``policies``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganizationType(models.TextChoices):
    UNIVERSITY = "university", _("university")
    HEALTHCARE = "healthcare", _("healthcare provider")
    COMPANY = "company", _("company")
    PUBLIC_AGENCY = "public_agency", _("public agency")
    OTHER = "other", _("other")


class MembershipLevel(models.TextChoices):
    PARTNER = "partner", _("partner")
    NETWORK_PARTNER = "network_partner", _("network partner")
    NONE = "none", _("not a member")


class FeeStatus(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", _("no fee")
    DUE = "due", _("due")
    PAID = "paid", _("paid")
    WAIVED = "waived", _("waived")


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=300)
    organization_number = models.CharField(
        _("organization number"),
        max_length=40,
        blank=True,
        help_text=_("The national registration number, such as 202100-3096."),
    )
    country = models.CharField(
        _("country"), max_length=2, default="SE", help_text=_("ISO 3166-1 alpha-2 code.")
    )
    kind = models.CharField(
        _("type"), max_length=20, choices=OrganizationType.choices, default=OrganizationType.OTHER
    )
    is_public_authority = models.BooleanField(
        _("public authority"),
        default=False,
        help_text=_("A public authority must assess harm before it discloses data."),
    )
    membership = models.CharField(
        _("membership"),
        max_length=20,
        choices=MembershipLevel.choices,
        default=MembershipLevel.NONE,
    )
    fee_status = models.CharField(
        _("fee"), max_length=20, choices=FeeStatus.choices, default=FeeStatus.NOT_APPLICABLE
    )
    fee_waiver_reason = models.CharField(
        _("reason for the waiver"),
        max_length=500,
        blank=True,
        help_text=_("For example: shares prioritized data."),
    )
    verified = models.BooleanField(
        _("verified by staff"),
        default=False,
        help_text=_("Organizations named by users stay unverified until staff check them."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        constraints = [
            models.UniqueConstraint(
                fields=["country", "organization_number"],
                condition=~models.Q(organization_number=""),
                name="unique_organization_number_per_country",
            ),
            models.CheckConstraint(
                condition=~models.Q(fee_status="waived", fee_waiver_reason=""),
                name="fee_waiver_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def fee_settled(self) -> bool:
        """Network partners pay a fee unless it is waived; partners and others have none."""
        if self.membership != MembershipLevel.NETWORK_PARTNER:
            return True
        return self.fee_status in (FeeStatus.PAID, FeeStatus.WAIVED)


class Signatory(models.Model):
    """A person authorized to sign agreements for the organization."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="signatories"
    )
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="signatory_for",
    )

    class Meta:
        ordering = ["organization", "name"]
        verbose_name = _("authorized signatory")
        verbose_name_plural = _("authorized signatories")

    def __str__(self) -> str:
        return f"{self.name} ({self.organization})"


class AffiliationRole(models.TextChoices):
    RESEARCHER = "researcher", _("researcher")
    RESPONSIBLE_RESEARCHER = "responsible_researcher", _("responsible researcher")
    CLINICIAN = "clinician", _("clinician")
    ENGINEER = "engineer", _("engineer")
    STUDENT = "student", _("student")
    ADMINISTRATOR = "administrator", _("administrator")
    OTHER = "other", _("other")


class Affiliation(models.Model):
    """A person belongs to an organization in a role, for a period.

    A person may name their own organization; that claim counts for nothing until staff
    confirm it (``confirmed_at``), because a self-declared affiliation with a partner would
    otherwise admit anyone. Affiliations staff add are confirmed as they are added.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="affiliations"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="affiliations"
    )
    role = models.CharField(
        _("role"),
        max_length=30,
        choices=AffiliationRole.choices,
        default=AffiliationRole.RESEARCHER,
    )
    start = models.DateField(_("from"), null=True, blank=True)
    end = models.DateField(_("until"), null=True, blank=True, help_text=_("The last day."))
    confirmed_at = models.DateTimeField(
        _("confirmed by staff at"),
        null=True,
        blank=True,
        help_text=_("Empty: named by the person and not yet checked by staff."),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "organization"]
        verbose_name = _("affiliation")

    def __str__(self) -> str:
        return f"{self.user} — {self.organization} ({self.get_role_display()})"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    def is_current(self, today: dt.date) -> bool:
        return (self.start is None or self.start <= today) and (
            self.end is None or today <= self.end
        )


class ResearchGroup(models.Model):
    """A named set of people that may span organizations; datasets are shared with groups."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="research_groups"
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("research group")

    def __str__(self) -> str:
        return self.name


class MembershipBasis(models.TextChoices):
    PROJECT = "project", _("project")
    FELLOWSHIP = "fellowship", _("fellowship")
    CLINICAL_EVALUATION = "clinical_evaluation", _("clinical evaluation")


class PersonalMembership(models.Model):
    """Membership of one person through a funded activity, for its duration."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_memberships"
    )
    basis = models.CharField(_("through"), max_length=30, choices=MembershipBasis.choices)
    activity = models.CharField(
        _("activity"), max_length=300, help_text=_("The project, fellowship or evaluation by name.")
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start"]
        verbose_name = _("personal membership")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")),
                name="membership_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_basis_display()} {self.activity}"

    def is_current(self, today: dt.date) -> bool:
        return self.start <= today <= self.end


class ApplicationState(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")


class NetworkPartnerApplication(models.Model):
    """An organization asks to become a network partner; staff approve or reject it."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="network_applications"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="network_applications"
    )
    motivation = models.TextField(_("motivation"))
    fee_waiver_requested = models.BooleanField(_("asks for the fee to be waived"), default=False)
    fee_waiver_reason = models.CharField(_("reason for a waiver"), max_length=500, blank=True)
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=ApplicationState.choices,
        default=ApplicationState.SUBMITTED,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("network partner application")
        constraints = [
            # Two open applications for one organization would race to set its membership.
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(state="submitted"),
                name="one_open_application_per_organization",
            ),
            models.CheckConstraint(
                condition=models.Q(fee_waiver_requested=False) | ~models.Q(fee_waiver_reason=""),
                name="fee_waiver_request_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} ({self.get_state_display()})"


class AgreementType(models.TextChoices):
    PARTNER_CONTRACT = "partner_contract", _("partner contract")
    NETWORK_PARTNER = "network_partner_agreement", _("network partner agreement")
    SERVICE = "service_agreement", _("service agreement")
    DATA_PROCESSING = "data_processing_agreement", _("data processing agreement")
    DATA_TRANSFER = "data_transfer_agreement", _("data transfer agreement")
    DATA_SHARING = "data_sharing_agreement", _("data sharing agreement")


# Agreement types that, by the policy's templates, bind the parties to non-disclosure.
NON_DISCLOSURE_TYPES = frozenset(
    {
        AgreementType.PARTNER_CONTRACT,
        AgreementType.NETWORK_PARTNER,
        AgreementType.DATA_TRANSFER,
        AgreementType.DATA_SHARING,
    }
)


def agreement_upload_to(instance: Agreement, filename: str) -> str:
    # The stored name never comes from the user: the hash names the file.
    return f"agreements/{instance.sha256[:2]}/{instance.sha256}.pdf"


class Agreement(models.Model):
    kind = models.CharField(_("type"), max_length=40, choices=AgreementType.choices)
    title = models.CharField(_("title"), max_length=300)
    parties = models.ManyToManyField(Organization, related_name="agreements")
    includes_non_disclosure = models.BooleanField(
        _("includes non-disclosure of data"),
        default=True,
        help_text=_(
            "Only agreements with a non-disclosure clause admit people to non-public data."
        ),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Empty: until terminated.")
    )
    terminated_at = models.DateField(
        _("terminated"), null=True, blank=True, help_text=_("Not in force from this day.")
    )
    termination_reason = models.TextField(_("reason for termination"), blank=True)
    signed_file = models.FileField(_("signed file"), upload_to=agreement_upload_to, blank=True)
    original_filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256 of the signed file"), max_length=64, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = _("agreement")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="agreement_valid_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    def is_valid(self, today: dt.date) -> bool:
        """In force today: signed (file on record), started, not expired, not terminated."""
        if not self.sha256:
            return False
        if self.valid_from > today:
            return False
        if self.valid_until is not None and self.valid_until < today:
            return False
        return self.terminated_at is None or self.terminated_at > today

    @property
    def binds_non_disclosure(self) -> bool:
        return self.includes_non_disclosure and self.kind in NON_DISCLOSURE_TYPES
