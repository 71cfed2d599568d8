"""The dataset register: datasets, their versions and everything a landing page shows.

A ``Dataset`` is the thing a concept DOI names; each ``DatasetVersion`` is one citable state
of it with its own DOI. A published version is immutable: its metadata, file manifest and
the license texts as rendered when it was published never change afterwards, so terms
already granted are never rewritten by a later template change.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from aidahub.web.register.doi import doi_url, validate_doi
from aidahub.web.register.vocab import modality_name


class ImmutableVersionError(RuntimeError):
    """A published version was about to be changed."""


class DatasetState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class VersionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class DoiState(models.TextChoices):
    """Where a DOI stands at DataCite; ``none`` until DataCite holds it."""

    NONE = "none", _("Not at DataCite")
    DRAFT = "draft", _("Draft")
    REGISTERED = "registered", _("Registered (resolves, not listed)")
    FINDABLE = "findable", _("Findable")


class DoiRecord(models.Model):
    """What the hub knows of its DOI at DataCite, kept by ``doi_services``.

    These fields are bookkeeping, not register content: they change on a published version
    too, always through ``QuerySet.update`` so that the version itself stays untouched, and
    an ordinary ``save`` leaves them as stored.
    """

    doi_state = models.CharField(
        _("DOI state at DataCite"),
        max_length=20,
        choices=DoiState.choices,
        default=DoiState.NONE,
        editable=False,
    )
    doi_synced_at = models.DateTimeField(
        _("DOI last sent to DataCite"), null=True, blank=True, editable=False
    )
    doi_error = models.TextField(
        _("last DataCite error"),
        blank=True,
        editable=False,
        help_text=_("Empty once DataCite has accepted the DOI as the hub last sent it."),
    )
    doi_attempts = models.PositiveIntegerField(
        _("failed DataCite attempts"),
        default=0,
        editable=False,
        help_text=_("Failures in a row; automatic retries stop at AIDAHUB_DATACITE_MAX_ATTEMPTS."),
    )

    class Meta:
        abstract = True

    DOI_FIELDS = ("doi_state", "doi_synced_at", "doi_error", "doi_attempts")

    def save(self, *args, **kwargs):
        # A full save of an object read before a DOI call finished would write the old DOI
        # state back; only doi_services writes these fields, with QuerySet.update.
        if (
            self.pk is not None
            and not self._state.adding
            and not args
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
        ):
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.DOI_FIELDS
            ]
        super().save(*args, **kwargs)

    def forget_doi(self) -> None:
        """Start over, for a copy that gets a DOI of its own (a new version)."""
        self.doi_state = DoiState.NONE
        self.doi_synced_at = None
        self.doi_error = ""
        self.doi_attempts = 0


class PriorityList(models.Model):
    """The clinical council's numbered list of data priorities, as approved on one date."""

    approved_on = models.DateField(_("approved on"))
    approved_by = models.CharField(_("approved by"), max_length=200, default="Clinical council")
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-approved_on", "-id"]
        verbose_name = _("priority list")

    def __str__(self) -> str:
        return f"Priorities approved {self.approved_on:%Y-%m-%d}"


class Priority(models.Model):
    priority_list = models.ForeignKey(
        PriorityList, on_delete=models.CASCADE, related_name="priorities"
    )
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["priority_list", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["priority_list", "number"], name="unique_priority_number_per_list"
            ),
        ]
        verbose_name_plural = _("priorities")

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class Dataset(DoiRecord):
    concept_doi = models.CharField(
        _("concept DOI"), max_length=255, unique=True, validators=[validate_doi]
    )
    short_name = models.CharField(_("short name"), max_length=60)
    state = models.CharField(
        max_length=20, choices=DatasetState.choices, default=DatasetState.DRAFT, db_index=True
    )
    hidden = models.BooleanField(
        _("hidden (preview)"),
        default=False,
        help_text=_("Shown only to staff, under a preview banner; absent from list and API."),
    )
    latest_version = models.ForeignKey(
        "DatasetVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The newest published version; the concept DOI leads here."),
    )
    priority = models.ForeignKey(
        Priority,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="datasets",
        help_text=_("The data priority this dataset serves."),
    )
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["short_name"]

    def __str__(self) -> str:
        return f"{self.short_name} ({self.concept_doi})"

    def get_absolute_url(self) -> str:
        return f"/{self.concept_doi}"

    @property
    def doi_url(self) -> str:
        return doi_url(self.concept_doi)

    @property
    def is_public(self) -> bool:
        return self.state == DatasetState.PUBLISHED and not self.hidden


class DatasetVersion(DoiRecord):
    """One citable state of a dataset; every field of today's register record lives here."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(_("version"), max_length=30)
    doi = models.CharField(_("DOI"), max_length=255, unique=True, validators=[validate_doi])
    state = models.CharField(
        max_length=20, choices=VersionState.choices, default=VersionState.DRAFT
    )
    published_at = models.DateTimeField(null=True, blank=True)
    policy_version = models.CharField(
        _("policy version"),
        max_length=20,
        blank=True,
        help_text=_("Version of the sharing policy whose license templates were used."),
    )

    title = models.CharField(_("title"), max_length=500)
    description = models.TextField(_("description (Markdown)"), blank=True)
    additional = models.TextField(
        _("additional text (Markdown)"),
        blank=True,
        help_text=_("The body of the record below the metadata."),
    )
    subject = models.CharField(
        _("field"), max_length=100, blank=True, help_text=_("Radiology, Pathology, ...")
    )
    origin = models.CharField(_("origin"), max_length=50, blank=True)
    status = models.CharField(_("status"), max_length=50, blank=True)
    url = models.CharField(_("landing page URL"), max_length=500, blank=True)
    copyright_year = models.PositiveIntegerField(
        _("copyright year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2200)],
    )
    publisher = models.CharField(_("publisher"), max_length=300, blank=True)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    organs = models.JSONField(
        _("organs"),
        default=list,
        blank=True,
        help_text=_('[{"name": "Wrist", "sctid": "8205005"}]'),
    )
    modalities = models.JSONField(
        _("modalities"),
        default=list,
        blank=True,
        help_text=_('DICOM modality codes, e.g. ["CT", "MR"]'),
    )
    scanners = models.JSONField(_("scanners"), default=list, blank=True)
    stain = models.CharField(_("stain"), max_length=200, blank=True)
    phase = models.CharField(_("contrast phase"), max_length=200, blank=True)
    resolution = models.CharField(_("resolution"), max_length=200, blank=True)
    age_span = models.CharField(_("age span"), max_length=50, blank=True)
    number_of_scans = models.PositiveBigIntegerField(_("number of scans"), null=True, blank=True)
    number_of_annotations = models.PositiveBigIntegerField(
        _("number of annotations"), null=True, blank=True
    )
    size_bytes = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    annotation_description = models.TextField(_("annotation description"), blank=True)
    case_level_annotations = models.CharField(
        _("case-level annotations"), max_length=500, blank=True
    )
    countries_shared = models.JSONField(_("countries shared with"), default=list, blank=True)
    image = models.CharField(_("main image"), max_length=500, blank=True)
    date_created = models.DateField(_("created"), null=True, blank=True)
    date_published = models.DateField(_("published"), null=True, blank=True)
    date_modified = models.DateField(_("modified"), null=True, blank=True)
    synthetic = models.BooleanField(_("synthetic data"), default=False)

    # Fidelity with the legacy register format.
    repairs = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Values that had to be repaired on import: field, raw, repaired, why."),
    )
    extra = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("Record keys the hub does not model, kept for export."),
    )
    content_hash = models.CharField(max_length=64, blank=True)

    # Denormalized, lower-cased text for search and sorting on every database.
    modality_text = models.CharField(max_length=500, blank=True, db_index=True)
    organ_text = models.CharField(max_length=500, blank=True, db_index=True)
    search_text = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dataset", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "version"], name="unique_version_label_per_dataset"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    def save(self, *args, allow_published_change: bool = False, **kwargs):
        if self.pk and not allow_published_change and _stored_as_published(self.pk):
            raise ImmutableVersionError(
                f"version {self.version} of {self.dataset.concept_doi} is published and "
                "cannot change; make a new version instead"
            )
        self.refresh_search_columns()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return f"/{self.doi}"

    @property
    def is_published(self) -> bool:
        return self.state == VersionState.PUBLISHED

    @property
    def modality_names(self) -> list[tuple[str, str]]:
        return [(code, modality_name(code)) for code in self.modalities or []]

    def refresh_search_columns(self) -> None:
        names = [f"{code} {modality_name(code)}" for code in self.modalities or []]
        self.modality_text = " ".join(names).lower()[:500]
        self.organ_text = " ".join(
            str(o.get("name", "")) for o in self.organs or [] if isinstance(o, dict)
        ).lower()[:500]
        parts = [
            self.title,
            self.dataset.short_name if self.dataset_id else "",
            self.subject,
            self.origin,
            self.status,
            self.description,
            " ".join(map(str, self.keywords or [])),
            self.modality_text,
            self.organ_text,
            " ".join(map(str, self.scanners or [])),
            self.stain,
            self.phase,
            self.annotation_description,
            self.doi,
        ]
        self.search_text = " ".join(p for p in parts if p).lower()


def _stored_as_published(version_id) -> bool:
    """Is the version published as stored, whatever an object in memory says?

    Both a version and its parts ask before saving: a published version never changes
    (policy: terms already granted are never rewritten) unless the caller passes
    ``allow_published_change=True``, as only the importer does.
    """
    state = DatasetVersion.objects.filter(pk=version_id).values_list("state", flat=True).first()
    return state == VersionState.PUBLISHED


class _VersionPart(models.Model):
    """Something listed in order on a version; frozen with it once it is published."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="%(class)ss")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def save(self, *args, allow_published_change: bool = False, **kwargs):
        if not allow_published_change and _stored_as_published(self.version_id):
            raise ImmutableVersionError("the version is published and cannot change")
        super().save(*args, **kwargs)


class PartyKind(models.TextChoices):
    PERSON = "Person", _("Person")
    ORGANIZATION = "Organization", _("Organization")


class Author(_VersionPart):
    name = models.CharField(_("name"), max_length=300)
    orcid = models.CharField(_("ORCID iD"), max_length=100, blank=True)
    kind = models.CharField(max_length=20, choices=PartyKind.choices, default=PartyKind.PERSON)
    affiliation = models.CharField(_("affiliation"), max_length=300, blank=True)

    class Meta(_VersionPart.Meta):
        pass

    def __str__(self) -> str:
        return self.name

    @property
    def orcid_url(self) -> str:
        if not self.orcid:
            return ""
        return self.orcid if self.orcid.startswith("http") else f"https://orcid.org/{self.orcid}"


class CopyrightHolder(_VersionPart):
    """A research institution represented by a named responsible researcher (policy: Roles)."""

    institution = models.CharField(_("research institution"), max_length=300, blank=True)
    institution_url = models.CharField(_("institution URL"), max_length=500, blank=True)
    responsible_researcher = models.CharField(
        _("responsible researcher"), max_length=300, blank=True
    )
    researcher_orcid = models.CharField(_("researcher ORCID iD"), max_length=100, blank=True)

    class Meta(_VersionPart.Meta):
        pass

    def __str__(self) -> str:
        if self.institution and self.responsible_researcher:
            return f"{self.institution} ({self.responsible_researcher})"
        return self.institution or self.responsible_researcher


class Contact(_VersionPart):
    name = models.CharField(_("name"), max_length=300)
    email = models.EmailField(_("e-mail"), blank=True)
    kind = models.CharField(max_length=20, choices=PartyKind.choices, default=PartyKind.PERSON)
    identifier = models.CharField(_("identifier (URL or ORCID)"), max_length=500, blank=True)
    is_hub_contact = models.BooleanField(_("hub contact (data director)"), default=False)

    class Meta(_VersionPart.Meta):
        pass

    def __str__(self) -> str:
        return self.name


class ExampleImage(_VersionPart):
    caption = models.CharField(_("caption"), max_length=500, blank=True)
    url = models.CharField(_("image URL"), max_length=500, blank=True)
    thumbnail_url = models.CharField(_("thumbnail URL"), max_length=500, blank=True)

    class Meta(_VersionPart.Meta):
        pass

    def __str__(self) -> str:
        return self.caption or self.url


class LicenseKind(models.TextChoices):
    """The policy's four license types in its order of preference, then the others."""

    AIDA_BY = "aida-by", _("AIDA BY license")
    AIDA = "aida", _("AIDA license")
    AIDA_CA = "aida-ca", _("AIDA CA license")
    AIDA_BY_CA = "aida-by-ca", _("AIDA BY CA license")
    CONTROLLED_ACCESS = "controlled-access", _("Controlled access")
    CUSTOM = "custom", _("Custom terms")


class License(_VersionPart):
    kind = models.CharField(max_length=30, choices=LicenseKind.choices)
    name = models.CharField(_("name"), max_length=300)
    identifier = models.CharField(_("identifier (URL)"), max_length=500, blank=True)
    abstract = models.TextField(_("summary"), blank=True)
    acknowledgement = models.TextField(
        _("acknowledgement text"),
        blank=True,
        help_text=_("BY licenses: text publications must include (optional)."),
    )
    coauthors = models.CharField(
        _("named co-authors"),
        max_length=500,
        blank=True,
        help_text=_("CA licenses: the dataset authors to include (optional; all if blank)."),
    )
    custom_text = models.TextField(_("custom terms (Markdown)"), blank=True)
    review_date = models.DateField(
        _("review date"),
        null=True,
        blank=True,
        help_text=_("CA licenses are for a limited time; staff are warned after this date."),
    )
    rendered_text = models.TextField(
        _("text as granted"),
        blank=True,
        help_text=_("Rendered when the version is published; never rewritten afterwards."),
    )

    class Meta(_VersionPart.Meta):
        pass

    def __str__(self) -> str:
        return self.name

    @property
    def anchor(self) -> str:
        return self.name.lower().replace(" ", "-")


class PublicationRelation(models.TextChoices):
    DESCRIBES = "describes", _("Describes the dataset")
    USES = "uses", _("Used the dataset")


class Publication(models.Model):
    """A paper that describes a dataset version (cited in its license) or that used it."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="publications")
    version = models.ForeignKey(
        DatasetVersion,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="describing_publications",
        help_text=_("Set for describing publications, which the version's license cites."),
    )
    relation = models.CharField(max_length=20, choices=PublicationRelation.choices)
    title = models.CharField(_("title or full citation"), max_length=1000)
    doi = models.CharField(_("DOI"), max_length=255, blank=True)
    url = models.CharField(_("URL"), max_length=500, blank=True)
    year = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["relation", "position", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def link(self) -> str:
        return doi_url(self.doi) if self.doi else self.url


class EthicsApproval(models.Model):
    """The ethical approval a dataset is shared under; staff and request handlers only."""

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="ethics")
    review_authority = models.CharField(
        _("review authority"), max_length=300, default="Swedish Ethical Review Authority"
    )
    diary_number = models.CharField(_("diary number"), max_length=100)
    approval_date = models.DateField(_("approval date"))
    research_institution = models.CharField(_("research institution"), max_length=300)
    responsible_researcher = models.CharField(_("responsible researcher"), max_length=300)
    document = models.FileField(_("approval document"), upload_to="private/ethics/%Y/", blank=True)
    document_sha256 = models.CharField(
        _("document SHA-256"), max_length=64, blank=True, editable=False
    )
    sharing_sentences = models.TextField(
        _("sentences about sharing"),
        blank=True,
        help_text=_("The exact sentences of the approval that allow sharing, quoted."),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.review_authority} {self.diary_number}"

    def save(self, *args, **kwargs):
        if self.document and (not self.document_sha256 or not self.document._committed):
            import hashlib

            digest = hashlib.sha256()
            self.document.open("rb")
            for chunk in self.document.chunks():
                digest.update(chunk)
            self.document.seek(0)
            self.document_sha256 = digest.hexdigest()
        super().save(*args, **kwargs)


class RegisterGeneration(models.Model):
    """A counter bumped in the same transaction as any register change.

    Cached pages are keyed with it. It lives in the database, not the cache, so that every
    server process sees a change at once, whichever process made it.
    """

    generation = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"register generation {self.generation}"
