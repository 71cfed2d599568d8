"""Every change of a DOI at DataCite goes through here.

The lifecycle services (``services``) change the register in a transaction and, once it
has committed, ask this module to bring the DOIs along (``transaction.on_commit``):

- a new version (and with the first one, the dataset) reserves draft DOIs;
- publishing makes the version's DOI and the concept DOI findable, updates the previous
  version (its ``IsPreviousVersionOf`` now points at the new one) and the concept, whose
  metadata are the newest version's and whose URL is the concept's landing page;
- withdrawing hides the concept and every published version (findable → registered: the
  DOIs keep resolving, to the tombstone, and are no longer listed);
- reinstating publishes them again.

What each DOI should be is ``doi_selectors.target_state``. A DataCite failure never undoes
the register change: the DOI keeps the state DataCite last confirmed, ``doi_error`` says
why (staff see it), ``doi_attempts`` counts failures in a row, and ``retry_pending_dois``
(``aidahub manage sync_dois``) tries again, up to ``AIDAHUB_DATACITE_MAX_ATTEMPTS``; the
admin's "Retry minting" tries regardless. Within one call an unavailable DataCite is
retried after ``DATACITE_RETRY_DELAYS``. Every call that changes a DOI at DataCite is
written to the audit trail (``register.doi.*``) with its outcome.

No row lock is held while DataCite is called; the row is locked only to save the outcome.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aidahub.web.audit.services import record
from aidahub.web.register.datacite import concept_datacite_json, datacite_json
from aidahub.web.register.doi_client import DataCiteClient, DataCiteError, ErrorKind
from aidahub.web.register.doi_selectors import (
    doi_of,
    in_account_prefix,
    is_pending,
    minting_enabled,
    retries_exhausted,
    target_state,
)
from aidahub.web.register.models import Dataset, DatasetVersion, DoiState, VersionState

__all__ = [
    "SyncResult",
    "client_from_settings",
    "after_edit",
    "on_commit",
    "retry_dataset_dois",
    "retry_pending_dois",
    "sync_dataset_dois",
    "sync_doi",
]

logger = logging.getLogger(__name__)

Sleep = Callable[[float], None]

# The audit action for reaching each state; a DOI that stays where it is was "updated".
_ACTION = {
    DoiState.DRAFT: "register.doi.reserved",
    DoiState.REGISTERED: "register.doi.registered",
    DoiState.FINDABLE: "register.doi.published",
}


@dataclass(frozen=True)
class SyncResult:
    """What one attempt did with one DOI: ``ok``, ``failed`` or ``skipped`` (and why)."""

    doi: str
    outcome: str
    state: str
    detail: str = ""


def client_from_settings() -> DataCiteClient:
    return DataCiteClient(
        settings.DATACITE_URL,
        settings.DATACITE_USERNAME,
        settings.DATACITE_PASSWORD,
        settings.DATACITE_PREFIX,
        timeout=settings.DATACITE_TIMEOUT,
    )


def _event(current: str, target: str) -> str | None:
    """The DataCite event that moves a DOI from *current* to *target*, if one is needed."""
    if current == target or target == DoiState.DRAFT:
        return None
    if target == DoiState.FINDABLE:
        return "publish"
    return "hide" if current == DoiState.FINDABLE else "register"


def _action(current: str, target: str) -> str:
    if target == DoiState.REGISTERED and current == DoiState.FINDABLE:
        return "register.doi.hidden"
    return "register.doi.updated" if current == target else _ACTION[target]


def _attributes(obj: Dataset | DatasetVersion) -> dict[str, Any]:
    if isinstance(obj, Dataset):
        return concept_datacite_json(obj, base_url=settings.BASE_URL)
    return datacite_json(obj, base_url=settings.BASE_URL)


def _push(
    client: DataCiteClient,
    doi: str,
    current: str,
    target: str,
    attributes: dict[str, Any],
    *,
    recovering: bool = False,
) -> str:
    """Send the DOI; return the state DataCite reports.

    The hub's idea of the remote state can be stale: an earlier call may have timed out after
    DataCite acted, or the DOI was minted before the hub (an imported dataset). A create
    that DataCite refuses for a DOI it holds becomes an update, and an update of a DOI it
    does not hold becomes a create, once.
    """
    event = _event(current, target)
    try:
        if current == DoiState.NONE:
            answer = client.create(doi, attributes, event=event)
        else:
            answer = client.update(doi, attributes, event=event)
    except DataCiteError as exc:
        if recovering:
            raise
        if current == DoiState.NONE and exc.kind in (ErrorKind.INVALID, ErrorKind.CONFLICT):
            try:
                remote = client.get(doi).get("state") or DoiState.DRAFT
            except DataCiteError as lookup:
                if lookup.kind == ErrorKind.NOT_FOUND:
                    raise exc from None
                raise
            return _push(client, doi, remote, target, attributes, recovering=True)
        if current != DoiState.NONE and exc.kind == ErrorKind.NOT_FOUND:
            return _push(client, doi, DoiState.NONE, target, attributes, recovering=True)
        raise
    return answer.get("state") or target


def _with_retries(call: Callable[[], str], sleep: Sleep) -> str:
    delays = tuple(settings.DATACITE_RETRY_DELAYS)
    for delay in delays:
        try:
            return call()
        except DataCiteError as exc:
            if not exc.retryable:
                raise
            sleep(delay)
    return call()


def _save(obj: Dataset | DatasetVersion, action: str, data: dict[str, Any], actor, **fields):
    """Lock the row, store the outcome and write the audit event.

    ``QuerySet.update``, not ``save``: a published version is immutable, and these fields
    are bookkeeping about it, not part of it. A failure (no ``doi_attempts`` given) counts
    one more attempt.
    """
    model = type(obj)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=obj.pk)
        fields.setdefault("doi_attempts", locked.doi_attempts + 1)
        model.objects.filter(pk=obj.pk).update(**fields)
        for name, value in fields.items():
            setattr(obj, name, value)
        record(action, actor=actor, obj=obj, data={**data, "attempts": obj.doi_attempts})


@contextmanager
def _client(client: DataCiteClient | None) -> Iterator[DataCiteClient]:
    """The caller's client, or one from the settings that is closed afterwards."""
    if client is not None:
        yield client
        return
    own = client_from_settings()
    try:
        yield own
    finally:
        own.close()


def _skip(obj: Dataset | DatasetVersion, target: str) -> str:
    if not minting_enabled():
        return "no DataCite credentials configured"
    if not in_account_prefix(doi_of(obj)):
        return f"outside the DataCite prefix {settings.DATACITE_PREFIX}"
    if target == DoiState.NONE:
        return "nothing to describe yet"
    return ""


def sync_doi(
    obj: Dataset | DatasetVersion,
    *,
    client: DataCiteClient | None = None,
    actor=None,
    sleep: Sleep = time.sleep,
) -> SyncResult:
    """Bring one DOI at DataCite to the state and metadata the register says."""
    doi = doi_of(obj)
    current = obj.doi_state
    target = target_state(obj)
    if target == DoiState.DRAFT and current in (DoiState.REGISTERED, DoiState.FINDABLE):
        target = current  # DataCite never takes a DOI back to draft
    if reason := _skip(obj, target):
        return SyncResult(doi, "skipped", current, reason)
    action = _action(current, target)
    base = {"doi": doi, "from": current, "to": target}
    try:
        attributes = _attributes(obj)
        with _client(client) as api:
            call = partial(_push, api, doi, current, target, attributes)
            reached = _with_retries(call, sleep)
        if reached != target:
            raise DataCiteError(
                ErrorKind.UNEXPECTED, f"DataCite kept {doi} {reached}, not {target}"
            )
    except (DataCiteError, ValueError) as exc:
        kind = getattr(exc, "kind", ErrorKind.INVALID)
        data = {**base, "outcome": "failed", "kind": kind, "status": getattr(exc, "status", None)}
        data["errors"] = getattr(exc, "titles", []) or [str(exc)]
        _save(obj, action, data, actor, doi_error=str(exc))
        logger.warning("DataCite: %s failed: %s", doi, exc)
        return SyncResult(doi, "failed", current, str(exc))
    _save(
        obj,
        action,
        {**base, "outcome": "ok"},
        actor,
        doi_state=reached,
        doi_synced_at=timezone.now(),
        doi_error="",
        doi_attempts=0,
    )
    return SyncResult(doi, "ok", reached)


def sync_dataset_dois(
    dataset: Dataset,
    versions: Iterable[DatasetVersion] | None = None,
    *,
    concept: bool = True,
    client: DataCiteClient | None = None,
    actor=None,
    sleep: Sleep = time.sleep,
) -> list[SyncResult]:
    """Sync *versions* (all of them by default), then the concept DOI that lists them.

    With ``concept=False`` the concept DOI is sent only when it is pending itself.
    """
    if not minting_enabled():
        return []
    dataset = Dataset.objects.get(pk=dataset.pk)
    ids = [v.pk for v in (dataset.versions.all() if versions is None else versions)]
    rows = DatasetVersion.objects.filter(pk__in=ids).select_related("dataset").order_by("id")
    with _client(client) as api:
        results = [sync_doi(v, client=api, actor=actor, sleep=sleep) for v in rows]
        if concept or is_pending(dataset):
            dataset.refresh_from_db()
            results.append(sync_doi(dataset, client=api, actor=actor, sleep=sleep))
    return results


def _neighbours(version: DatasetVersion) -> list[DatasetVersion]:
    """The version and the published versions its publication changes the relations of."""
    published = version.dataset.versions.filter(state=VersionState.PUBLISHED).exclude(pk=version.pk)
    previous = published.order_by("-published_at", "-id").first()
    return [version, *([previous] if previous else [])]


def after_publish(version_id: int, *, actor=None) -> list[SyncResult]:
    version = DatasetVersion.objects.select_related("dataset").get(pk=version_id)
    return sync_dataset_dois(version.dataset, _neighbours(version), actor=actor)


def after_new_version(version_id: int, *, actor=None) -> list[SyncResult]:
    """Reserve the draft DOI of a new version (and the concept's, with the first version)."""
    version = DatasetVersion.objects.select_related("dataset").get(pk=version_id)
    return sync_dataset_dois(version.dataset, [version], concept=False, actor=actor)


def after_state_change(dataset_id: int, *, actor=None) -> list[SyncResult]:
    """Withdraw or reinstate: every published version and the concept follow the dataset."""
    dataset = Dataset.objects.get(pk=dataset_id)
    published = dataset.versions.filter(state=VersionState.PUBLISHED)
    return sync_dataset_dois(dataset, published, actor=actor)


def after_edit(dataset_id: int, version_id: int | None = None, *, actor=None) -> list[SyncResult]:
    """Staff edited the dataset (or one version): DataCite gets the new metadata and state.

    The concept DOI describes the latest version and every DOI lists its neighbours, so an
    edit of a dataset field (the hidden flag, the short name) resends every DOI; an edit of
    one version resends that version and the concept.
    """
    dataset = Dataset.objects.get(pk=dataset_id)
    versions = dataset.versions.all()
    if version_id is not None:
        versions = versions.filter(pk=version_id)
    return sync_dataset_dois(dataset, versions, actor=actor)


def on_commit(callback: Callable[..., Any], *args, **kwargs) -> None:
    """Run a DOI sync once the register change has committed; its failure is logged only.

    The callbacks catch DataCite's errors themselves; ``robust`` keeps anything else (a
    bug) from turning a committed publication into an error page.
    """
    transaction.on_commit(partial(callback, *args, **kwargs), robust=True)


def retry_pending_dois(
    *,
    force: bool = False,
    client: DataCiteClient | None = None,
    sleep: Sleep = time.sleep,
) -> list[SyncResult]:
    """Send every DOI that is not at DataCite as the register says, or whose last call failed.

    DOIs that failed ``AIDAHUB_DATACITE_MAX_ATTEMPTS`` times in a row are left for staff
    unless *force*: an invalid record fails the same way each time it is sent.
    """
    if not minting_enabled():
        return []
    results: list[SyncResult] = []
    with _client(client) as api:
        for dataset in Dataset.objects.order_by("id"):
            versions = dataset.versions.select_related("dataset").order_by("id")
            for obj in [*versions, dataset]:
                if is_pending(obj) and (force or not retries_exhausted(obj)):
                    results.append(sync_doi(obj, client=api, sleep=sleep))
    return results


def retry_dataset_dois(
    dataset: Dataset, *, actor=None, client: DataCiteClient | None = None
) -> list[SyncResult]:
    """Staff asked to retry: send the dataset's pending DOIs whatever their failure count."""
    dataset = Dataset.objects.get(pk=dataset.pk)
    pending = [v for v in dataset.versions.select_related("dataset") if is_pending(v)]
    return sync_dataset_dois(dataset, pending, concept=False, client=client, actor=actor)
