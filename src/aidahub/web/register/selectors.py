"""Reads of the register, already scoped to what the user may see.

The list, the metrics, the priorities and the API show *listed* datasets only (published,
not hidden); a landing page may show more to staff (policies.py). What the pages make of
these reads is in ``presenters`` and ``metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Prefetch, QuerySet

from aidahub.web.register.doi import InvalidDOI, parse_doi
from aidahub.web.register.models import Dataset, DatasetState, DatasetVersion, PriorityList
from aidahub.web.register.policies import can_view_dataset, can_view_version, is_staff

# Large text the list never shows.
_LIST_DEFERRED = (
    "description",
    "additional",
    "search_text",
    "extra",
    "repairs",
    "annotation_description",
)


def public_datasets() -> QuerySet[Dataset]:
    """Datasets anyone may find: published, not hidden, with a published version."""
    return Dataset.objects.filter(
        state=DatasetState.PUBLISHED, hidden=False, latest_version__isnull=False
    )


def harvestable_datasets() -> QuerySet[Dataset]:
    """Datasets OAI-PMH harvesters see: the public ones and the withdrawn ones.

    A withdrawn dataset stays as a deleted record (OAI-PMH "persistent" deletion) so that
    harvesters learn it is gone. Hidden and never-published datasets are never shown.
    """
    return Dataset.objects.filter(
        state__in=[DatasetState.PUBLISHED, DatasetState.WITHDRAWN],
        hidden=False,
        latest_version__isnull=False,
    )


def listed_versions() -> QuerySet[DatasetVersion]:
    """The latest version of every public dataset: the rows of the register list."""
    return (
        DatasetVersion.objects.filter(dataset__in=public_datasets())
        .filter(dataset__latest_version=F("pk"))
        .select_related("dataset")
    )


def list_rows(queryset: QuerySet[DatasetVersion]) -> QuerySet[DatasetVersion]:
    return queryset.defer(*_LIST_DEFERRED)


# The ordered parts of a version that its landing page and the API show.
_PARTS = (
    "authors",
    "copyrightholders",
    "contacts",
    "exampleimages",
    "licenses",
    "describing_publications",
)


def _landing_versions() -> QuerySet[DatasetVersion]:
    return DatasetVersion.objects.select_related(
        "dataset",
        "dataset__priority",
        "dataset__priority__priority_list",
    ).prefetch_related(*_PARTS)


@dataclass
class Resolved:
    """What a DOI in a URL leads to, for one user."""

    dataset: Dataset
    version: DatasetVersion
    is_concept: bool

    @property
    def withdrawn(self) -> bool:
        return self.dataset.state == DatasetState.WITHDRAWN


def clean_doi(value: str) -> str:
    """The DOI in a URL path, or InvalidDOI with a message a reader understands."""
    return parse_doi(unquote(value))


def dataset_for_doi(user, doi: str) -> Resolved | None:
    """The dataset (concept DOI) or version (version DOI) *user* may see, else None."""
    try:
        doi = clean_doi(doi)
    except InvalidDOI:
        return None
    dataset = (
        Dataset.objects.filter(concept_doi=doi).first()
        or Dataset.objects.filter(concept_doi__iexact=doi).first()
    )
    if dataset is not None:
        if not can_view_dataset(user, dataset):
            return None
        version_id = dataset.latest_version_id
        if version_id is None and is_staff(user):
            version_id = dataset.versions.order_by("-id").values_list("pk", flat=True).first()
        if version_id is None:
            return None
        version = _landing_versions().get(pk=version_id)
        return Resolved(version.dataset, version, is_concept=True)
    version = (
        _landing_versions().filter(doi=doi).first()
        or _landing_versions().filter(doi__iexact=doi).first()
    )
    if version is None or not can_view_version(user, version):
        return None
    return Resolved(version.dataset, version, is_concept=False)


def versions_for(user, dataset: Dataset) -> list[DatasetVersion]:
    """Every version of *dataset* the user may open, newest first."""
    versions = dataset.versions.only(
        "pk", "version", "doi", "state", "date_published", "published_at", "dataset_id"
    ).order_by("-created_at", "-pk")
    return [v for v in versions if v.is_published or is_staff(user)]


def priority_lists() -> list[PriorityList]:
    """Every priority list, newest first, each priority with its public datasets."""
    datasets = public_datasets().select_related("latest_version").order_by("short_name")
    return list(
        PriorityList.objects.prefetch_related(
            "priorities", Prefetch("priorities__datasets", queryset=datasets)
        ).order_by("-approved_on", "-id")
    )


def recent_versions(limit: int = 5) -> list[DatasetVersion]:
    return list(list_rows(listed_versions()).order_by("-date_published", "-pk")[:limit])


def api_versions() -> QuerySet[DatasetVersion]:
    """Versions the JSON API lists: the same as the register list."""
    return listed_versions().prefetch_related(*_PARTS).order_by("dataset__short_name", "pk")


def api_version_for_doi(doi: str) -> tuple[DatasetVersion | None, bool]:
    """(version, withdrawn) for a DOI in the API; the API shows listed datasets only.

    A published version of a listed dataset is found by its own DOI too. A withdrawn,
    not hidden dataset answers as withdrawn so the API can say 410, like its page.
    """
    resolved = dataset_for_doi(AnonymousUser(), doi)  # the public's view, whoever asks
    if resolved is None:
        return None, False
    return resolved.version, resolved.withdrawn
