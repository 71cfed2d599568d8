"""Every change of a dataset's state goes through here.

Each function checks the state against the lifecycle table, locks the row, saves, and
writes an audit event, in one transaction. Once that transaction has committed, the DOIs
follow at DataCite (``doi_services``); a DataCite failure never undoes the change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aidahub.web.audit.services import record
from aidahub.web.register import doi_services, licenses
from aidahub.web.register.citation import license_context
from aidahub.web.register.doi import version_doi
from aidahub.web.register.models import (
    Author,
    Contact,
    CopyrightHolder,
    Dataset,
    DatasetState,
    DatasetVersion,
    ExampleImage,
    License,
    Publication,
    PublicationRelation,
    VersionState,
)


class InvalidTransition(RuntimeError):
    """The event is not allowed in the dataset's current state."""

    def __init__(self, state: str, event: str):
        super().__init__(f"cannot {event.replace('_', ' ')} a dataset that is {state}")
        self.state = state
        self.event = event


class Event:
    PUBLISH = "publish"
    PUBLISH_VERSION = "publish_version"
    WITHDRAW = "withdraw"
    REINSTATE = "reinstate"

    ALL = (PUBLISH, PUBLISH_VERSION, WITHDRAW, REINSTATE)


# The dataset lifecycle: (state, event) -> new state. Any pair not listed is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (DatasetState.DRAFT, Event.PUBLISH): DatasetState.PUBLISHED,
    (DatasetState.PUBLISHED, Event.PUBLISH_VERSION): DatasetState.PUBLISHED,
    (DatasetState.PUBLISHED, Event.WITHDRAW): DatasetState.WITHDRAWN,
    (DatasetState.WITHDRAWN, Event.REINSTATE): DatasetState.PUBLISHED,
}


def next_state(state: str, event: str) -> str:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(state, event) from None


@dataclass
class PublishResult:
    dataset: Dataset
    version: DatasetVersion
    warnings: list[str]


def contact_warnings(version: DatasetVersion) -> list[str]:
    """The policy advises contacts for the first author, the copyright holder and the hub."""
    contacts = list(version.contacts.all())
    names = {c.name.strip().lower() for c in contacts}
    warnings = []
    if not contacts:
        return [
            "no contacts: add at least the first author, the copyright holder and the data director"
        ]
    without_email = [c.name for c in contacts if not c.email]
    if without_email:
        warnings.append(f"contacts without e-mail: {', '.join(without_email)}")
    first = version.authors.first()
    if first and first.name.strip().lower() not in names:
        warnings.append(f"the first author ({first.name}) is not a contact")
    holder_names = set()
    for holder in version.copyrightholders.all():
        holder_names |= {
            holder.institution.strip().lower(),
            holder.responsible_researcher.strip().lower(),
        } - {""}
    if holder_names and not holder_names & names:
        warnings.append("no contact represents the copyright holder")
    if not any(c.is_hub_contact for c in contacts):
        warnings.append("no hub contact (such as the data director) among the contacts")
    return warnings


def snapshot_licenses(
    version: DatasetVersion, policy_version: str, *, allow_published_change: bool = False
) -> None:
    """Render each license's full text and keep it with the version as the terms granted.

    Only the importer, which mirrors the legacy register, re-renders a published version.
    """
    ctx = license_context(version, policy_version=policy_version)
    for lic in version.licenses.all():
        lic.rendered_text = licenses.render(
            lic.kind,
            ctx,
            acknowledgement=lic.acknowledgement,
            coauthors=lic.coauthors,
            custom_text=lic.custom_text or lic.abstract,
        )
        lic.save(update_fields=["rendered_text"], allow_published_change=allow_published_change)


def _freeze(version: DatasetVersion, when: dt.datetime) -> None:
    policy_version = version.policy_version or licenses.policy_version_on(
        version.date_published or when.date()
    )
    version.policy_version = policy_version
    snapshot_licenses(version, policy_version)
    version.state = VersionState.PUBLISHED
    version.published_at = when
    if version.date_published is None:
        version.date_published = when.date()
    version.save()


def _lock(dataset: Dataset) -> Dataset:
    return Dataset.objects.select_for_update().get(pk=dataset.pk)


def publish(
    dataset: Dataset, version: DatasetVersion | None = None, *, actor=None, request=None
) -> PublishResult:
    """Publish a draft dataset (event ``publish``) or a new version of a published one."""
    with transaction.atomic():
        dataset = _lock(dataset)
        event = Event.PUBLISH if dataset.state == DatasetState.DRAFT else Event.PUBLISH_VERSION
        new_state = next_state(dataset.state, event)
        if version is None:
            version = dataset.versions.filter(state=VersionState.DRAFT).order_by("-id").first()
        if version is None or version.dataset_id != dataset.pk:
            raise InvalidTransition(dataset.state, "publish without a draft version of")
        if version.is_published:
            raise InvalidTransition("already published", "publish version of")
        warnings = contact_warnings(version)
        _freeze(version, timezone.now())
        dataset.state = new_state
        dataset.latest_version = version
        dataset.save(update_fields=["state", "latest_version", "updated_at"])
        record(
            f"register.dataset.{event}",
            actor=actor,
            request=request,
            obj=dataset,
            data={"version": version.version, "doi": version.doi, "warnings": warnings},
        )
        doi_services.on_commit(doi_services.after_publish, version.pk, actor=actor)
    return PublishResult(dataset, version, warnings)


def withdraw(dataset: Dataset, reason: str, *, actor=None, request=None) -> Dataset:
    """Withdraw: the landing page becomes a tombstone; nothing is deleted."""
    if not reason.strip():
        raise ValueError("a withdrawal needs a reason, shown on the tombstone")
    with transaction.atomic():
        dataset = _lock(dataset)
        dataset.state = next_state(dataset.state, Event.WITHDRAW)
        dataset.withdrawal_reason = reason.strip()
        dataset.withdrawn_at = timezone.now()
        dataset.save(update_fields=["state", "withdrawal_reason", "withdrawn_at", "updated_at"])
        record(
            "register.dataset.withdraw",
            actor=actor,
            request=request,
            obj=dataset,
            data={"reason": dataset.withdrawal_reason},
        )
        doi_services.on_commit(doi_services.after_state_change, dataset.pk, actor=actor)
    return dataset


def reinstate(dataset: Dataset, *, actor=None, request=None) -> Dataset:
    with transaction.atomic():
        dataset = _lock(dataset)
        dataset.state = next_state(dataset.state, Event.REINSTATE)
        dataset.withdrawn_at = None
        dataset.save(update_fields=["state", "withdrawn_at", "updated_at"])
        record(
            "register.dataset.reinstate",
            actor=actor,
            request=request,
            obj=dataset,
            data={"previous_reason": dataset.withdrawal_reason},
        )
        doi_services.on_commit(doi_services.after_state_change, dataset.pk, actor=actor)
    return dataset


def reserve_dois(version: DatasetVersion, *, actor=None) -> None:
    """A version was added (in the admin): reserve its draft DOI, and the concept's if new."""
    doi_services.on_commit(doi_services.after_new_version, version.pk, actor=actor)


def ensure_hub_contact(version: DatasetVersion) -> Contact | None:
    """Add the data director as a contact, as the policy advises, unless one is there."""
    if version.is_published or version.contacts.filter(is_hub_contact=True).exists():
        return None
    position = version.contacts.count()
    return Contact.objects.create(
        version=version,
        position=position,
        name=settings.DATA_DIRECTOR_NAME,
        email=settings.DATA_DIRECTOR_EMAIL,
        kind="Person",
        is_hub_contact=True,
    )


_PARTS = (Author, CopyrightHolder, Contact, ExampleImage, License)


def new_version(dataset: Dataset, label: str, *, actor=None, request=None) -> DatasetVersion:
    """Start a draft version that copies the newest version; the old one stays as it was."""
    with transaction.atomic():
        dataset = _lock(dataset)
        source = dataset.latest_version or dataset.versions.order_by("-id").first()
        if source is None:
            raise ValueError("the dataset has no version to copy")
        if dataset.versions.filter(state=VersionState.DRAFT).exists():
            raise ValueError("the dataset already has a draft version")
        parts = {model: list(model.objects.filter(version=source)) for model in _PARTS}
        papers = list(source.describing_publications.all())
        draft = DatasetVersion.objects.get(pk=source.pk)
        draft.pk = None
        draft.id = None
        draft.version = label
        draft.doi = version_doi(dataset.concept_doi, label)
        draft.forget_doi()
        draft.state = VersionState.DRAFT
        draft.published_at = None
        draft.date_published = None
        draft.date_modified = timezone.now().date()
        draft.policy_version = ""
        draft.content_hash = ""
        draft.repairs = []
        draft.save()
        for rows in parts.values():
            for row in rows:
                row.pk = None
                row.id = None
                row.version = draft
                if isinstance(row, License):
                    row.rendered_text = ""
                row.save()
        for paper in papers:
            paper.pk = None
            paper.id = None
            paper.version = draft
            paper.save()
        record(
            "register.version.create",
            actor=actor,
            request=request,
            obj=draft,
            data={"from": source.version, "doi": draft.doi},
        )
        doi_services.on_commit(doi_services.after_new_version, draft.pk, actor=actor)
    return draft


def record_use(
    dataset: Dataset,
    title: str,
    *,
    doi: str = "",
    url: str = "",
    year: int | None = None,
    actor=None,
    request=None,
) -> Publication:
    """Record a publication that used the dataset (shown as it appears; may prompt CA→BY)."""
    with transaction.atomic():
        position = dataset.publications.filter(relation=PublicationRelation.USES).count()
        pub = Publication.objects.create(
            dataset=dataset,
            relation=PublicationRelation.USES,
            title=title,
            doi=doi,
            url=url,
            year=year,
            position=position,
        )
        record(
            "register.publication.add",
            actor=actor,
            request=request,
            obj=pub,
            data={"dataset": dataset.concept_doi, "doi": doi},
        )
    return pub


def license_warnings(dataset: Dataset, today: dt.date | None = None) -> list[str]:
    """Staff warnings that a co-authorship (CA) license should become a BY license.

    The policy recommends CA licenses only for a limited time while collection is ongoing
    and until the first publication that used the dataset.
    """
    version = dataset.latest_version
    if version is None:
        return []
    today = today or timezone.localdate()
    used = dataset.publications.filter(relation=PublicationRelation.USES).exists()
    warnings = []
    for lic in version.licenses.all():
        if not licenses.is_co_authorship(lic.kind):
            continue
        if lic.review_date and lic.review_date < today:
            warnings.append(
                f"The {lic.name} was due for review on {lic.review_date:%Y-%m-%d}. The policy "
                "recommends CA licenses only for a limited time: consider a new version under "
                "the AIDA BY license."
            )
        if used:
            warnings.append(
                f"A publication that used this dataset has been recorded. The policy recommends "
                f"changing the {lic.name} to the AIDA BY license (a new version), so that "
                "co-authorship is no longer required."
            )
    return warnings
