"""Reads about DOI minting: which DataCite state each DOI should be in, and what staff see.

The register decides the state a DOI should have (``target_state``); ``doi_services`` moves
the DOI at DataCite until it is there. The rule, from DataCite's DOI states:

=========================================  ================  =====================
register                                    concept DOI       version DOI
=========================================  ================  =====================
draft dataset (with a version)              draft             draft
published, listed                           findable          findable (published)
published, hidden (staff preview)           draft, or         the same
                                            registered once
                                            it was findable
withdrawn (tombstone)                       registered        registered (published)
draft version of any dataset                                  draft
=========================================  ================  =====================

Nothing goes back to draft at DataCite, so a hidden dataset whose DOI was already
registered or findable stays registered: it resolves, is not listed.

``minting_status`` is for staff only (the admin and the landing page's staff panel): it
names DataCite's error messages as they came.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from aidahub.web.register.models import (
    Dataset,
    DatasetState,
    DatasetVersion,
    DoiState,
    VersionState,
)

__all__ = [
    "DoiStatus",
    "MintingStatus",
    "doi_of",
    "in_account_prefix",
    "is_pending",
    "minting_enabled",
    "minting_status",
    "retries_exhausted",
    "target_state",
]

_PUBLIC = (DoiState.REGISTERED, DoiState.FINDABLE)


def minting_enabled() -> bool:
    """Minting needs the repository account's username and password."""
    return bool(settings.DATACITE_USERNAME and settings.DATACITE_PASSWORD)


def in_account_prefix(doi: str) -> bool:
    """Only DOIs under the account's prefix can be minted (imported ones may not be)."""
    return doi.lower().startswith(settings.DATACITE_PREFIX.lower() + "/")


def doi_of(obj: Dataset | DatasetVersion) -> str:
    return obj.concept_doi if isinstance(obj, Dataset) else obj.doi


def _dataset_target(dataset: Dataset, current: str) -> str:
    if dataset.state == DatasetState.WITHDRAWN:
        return DoiState.REGISTERED
    if dataset.state == DatasetState.PUBLISHED and not dataset.hidden:
        return DoiState.FINDABLE
    if dataset.state == DatasetState.PUBLISHED:
        return DoiState.REGISTERED if current in _PUBLIC else DoiState.DRAFT
    return DoiState.DRAFT


def target_state(obj: Dataset | DatasetVersion) -> str:
    """The DataCite state the register says *obj*'s DOI should be in (table above)."""
    if isinstance(obj, DatasetVersion):
        if obj.state != VersionState.PUBLISHED:
            return DoiState.DRAFT
        return _dataset_target(obj.dataset, obj.doi_state)
    if not obj.versions.exists():
        return DoiState.NONE  # nothing to describe yet; reserved with the first version
    return _dataset_target(obj, obj.doi_state)


def is_pending(obj: Dataset | DatasetVersion) -> bool:
    """Should the hub (still) send this DOI to DataCite?"""
    if not in_account_prefix(doi_of(obj)):
        return False
    return bool(obj.doi_error) or obj.doi_state != target_state(obj)


def retries_exhausted(obj: Dataset | DatasetVersion) -> bool:
    return obj.doi_attempts >= settings.DATACITE_MAX_ATTEMPTS


@dataclass(frozen=True)
class DoiStatus:
    """One DOI of a dataset as staff see it."""

    doi: str
    label: str
    state: str
    target: str
    synced_at: dt.datetime | None
    error: str
    attempts: int
    in_prefix: bool
    retries_exhausted: bool

    @property
    def pending(self) -> bool:
        return self.in_prefix and (bool(self.error) or self.state != self.target)

    @property
    def message(self) -> str:
        if not self.in_prefix:
            return _("%(doi)s: not minted: outside the DataCite prefix %(prefix)s.") % {
                "doi": self.doi,
                "prefix": settings.DATACITE_PREFIX,
            }
        if self.error:
            text = _("%(doi)s: DataCite refused the last attempt: %(error)s") % {
                "doi": self.doi,
                "error": self.error,
            }
            if self.retries_exhausted:
                text += " " + _(
                    "Automatic retries stopped after %(count)d failed attempts; correct the "
                    "problem, then use “Retry minting” in the admin."
                ) % {"count": self.attempts}
            return text
        if self.state != self.target:
            return _("%(doi)s: %(state)s at DataCite, to become %(target)s.") % {
                "doi": self.doi,
                "state": DoiState(self.state).label.lower(),
                "target": DoiState(self.target).label.lower(),
            }
        return _("%(doi)s: %(state)s at DataCite.") % {
            "doi": self.doi,
            "state": DoiState(self.state).label.lower(),
        }


@dataclass(frozen=True)
class MintingStatus:
    """Whether a dataset's DOIs are at DataCite as the register says, for the staff panel."""

    enabled: bool
    message: str
    dois: tuple[DoiStatus, ...]

    @property
    def ok(self) -> bool:
        return self.enabled and not any(d.pending for d in self.dois)

    @property
    def errors(self) -> tuple[DoiStatus, ...]:
        return tuple(d for d in self.dois if d.error)


def _status(obj: Dataset | DatasetVersion, label: str) -> DoiStatus:
    doi = doi_of(obj)
    return DoiStatus(
        doi=doi,
        label=label,
        state=obj.doi_state,
        target=target_state(obj),
        synced_at=obj.doi_synced_at,
        error=obj.doi_error,
        attempts=obj.doi_attempts,
        in_prefix=in_account_prefix(doi),
        retries_exhausted=retries_exhausted(obj),
    )


def minting_status(dataset: Dataset) -> MintingStatus:
    """The DOI minting state of *dataset* and its versions, with one line to show staff."""
    dois = (
        _status(dataset, _("concept DOI")),
        *(
            _status(v, _("version %(version)s") % {"version": v.version})
            for v in dataset.versions.select_related("dataset").order_by("id")
        ),
    )
    if not minting_enabled():
        message = _(
            "Not minted: no DataCite credentials configured. The dataset is published on the "
            "hub, but its DOIs do not resolve until AIDAHUB_DATACITE_USERNAME and "
            "AIDAHUB_DATACITE_PASSWORD are set and “aidahub manage sync_dois” has run."
        )
        return MintingStatus(False, message, dois)
    failing = [d for d in dois if d.error]
    waiting = [d for d in dois if d.pending and not d.error]
    if failing:
        message = " ".join(d.message for d in failing)
    elif waiting:
        message = " ".join(d.message for d in waiting)
    elif not any(d.in_prefix for d in dois):
        message = dois[0].message
    else:
        message = _("Minted: every DOI is at DataCite as the register says.")
    return MintingStatus(True, message, dois)
