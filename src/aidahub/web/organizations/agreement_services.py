"""Agreements on file and their signed copies.

Policy: the hub shares data "only when it is ethically approved, and when a contractual
agreement is in place that includes non-disclosure of data, such as AIDA partner
contracts". An agreement counts only with its signed copy on record (``sha256``), so the
copy is kept as evidence: a PDF, hashed while it is streamed to a temporary name and renamed
into place under its hash, so that a half-written file is never visible under a real name.
Replacing the copy keeps the old one; both hashes are in the audit trail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aidahub.web.audit.services import record
from aidahub.web.organizations.changes import changes, snapshot
from aidahub.web.organizations.models import (
    Agreement,
    AgreementType,
    Organization,
    agreement_upload_to,
)

__all__ = [
    "PDF_MAGIC",
    "amend_agreement",
    "attach_signed_file",
    "check_signed_file",
    "file_agreement",
    "open_signed_file",
    "terminate_agreement",
]

PDF_MAGIC = b"%PDF-"
AGREEMENT_FIELDS = (
    "kind",
    "title",
    "includes_non_disclosure",
    "valid_from",
    "valid_until",
    "terminated_at",
)
FILE_FIELDS = ("sha256", "original_filename", "signed_file")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f/\\]")


def _limit() -> int:
    return settings.AGREEMENT_MAX_BYTES


def _too_large() -> ValidationError:
    return ValidationError(
        _("The signed file is larger than %(mb).1f MB, the most the hub accepts.")
        % {"mb": _limit() / 1_000_000},
        code="too_large",
    )


def _not_pdf() -> ValidationError:
    return ValidationError(
        _("Only PDF files are accepted, and this file is not a PDF."),
        code="not_pdf",
    )


def check_signed_file(upload) -> None:
    """Refuse a file that is too large or not a PDF, before anything is stored.

    Forms call this for a readable message; ``file_agreement`` checks again while it
    streams, so a file that changes or lies about its size is still refused.
    """
    if upload.size is not None and upload.size > _limit():
        raise _too_large()
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if head != PDF_MAGIC:
        raise _not_pdf()


@dataclass(frozen=True)
class _Spooled:
    path: Path
    sha256: str
    size: int
    original_filename: str


def _storage():
    return Agreement._meta.get_field("signed_file").storage


def _staging_dir() -> str | None:
    # Beside the final place on a local disk, so the rename stays on one file system.
    try:
        directory = _storage().path("agreements")
    except NotImplementedError:
        return None
    os.makedirs(directory, exist_ok=True)
    return directory


def _original_name(upload) -> str:
    name = os.path.basename(getattr(upload, "name", "") or "")
    return _UNPRINTABLE.sub("_", name)[:255] or "signed.pdf"


def _spool(upload) -> _Spooled:
    """Stream *upload* to a temporary file, hashing it and checking it as it goes."""
    check_signed_file(upload)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, name = tempfile.mkstemp(prefix=".incoming-", suffix=".part", dir=_staging_dir())
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in upload.chunks():
                if len(head) < len(PDF_MAGIC):
                    head += chunk[: len(PDF_MAGIC) - len(head)]
                    if not PDF_MAGIC.startswith(head):
                        raise _not_pdf()
                size += len(chunk)
                if size > _limit():
                    raise _too_large()
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if head != PDF_MAGIC:
            raise _not_pdf()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _Spooled(path, digest.hexdigest(), size, _original_name(upload))


def _place(spooled: _Spooled, name: str) -> str:
    """Move the finished temporary file to *name* in one step; return the stored name."""
    storage = _storage()
    try:
        final = storage.path(name)
    except NotImplementedError:
        # Object stores make an upload visible only once it is complete.
        if storage.exists(name):
            return name
        with spooled.path.open("rb") as handle:
            return storage.save(name, File(handle, name=os.path.basename(name)))
    os.makedirs(os.path.dirname(final), exist_ok=True)
    os.replace(spooled.path, final)
    return name


def _discard(spooled: _Spooled | None) -> None:
    if spooled is not None:
        with contextlib.suppress(FileNotFoundError):
            spooled.path.unlink()


def _set_file(agreement: Agreement, spooled: _Spooled, by) -> None:
    agreement.sha256 = spooled.sha256
    agreement.original_filename = spooled.original_filename
    agreement.uploaded_by = by
    agreement.uploaded_at = timezone.now()
    agreement.signed_file.name = agreement_upload_to(agreement, spooled.original_filename)


def _check_fields(kind: str, title: str, valid_from, valid_until, parties) -> None:
    errors = {}
    if kind not in AgreementType.values:
        errors["kind"] = _("Choose the type of agreement.")
    if not title.strip():
        errors["title"] = _("Give the agreement a title.")
    if valid_from is None:
        errors["valid_from"] = _("Give the day the agreement takes effect.")
    elif valid_until is not None and valid_until < valid_from:
        errors["valid_until"] = _("An agreement cannot end before it takes effect.")
    if parties is not None and not parties:
        errors["parties"] = _("Name at least one organization that is party to the agreement.")
    if errors:
        raise ValidationError(errors)


def _party_ids(parties: Iterable[Organization]) -> list[int]:
    return sorted(org.pk for org in parties)


def file_agreement(
    kind: str,
    title: str,
    parties: Iterable[Organization],
    valid_from: dt.date,
    valid_until: dt.date | None,
    uploaded_file,
    by,
    includes_non_disclosure: bool = True,
    *,
    request=None,
) -> Agreement:
    """Staff file an agreement and, usually, its signed copy (a PDF)."""
    parties = list(parties)
    _check_fields(kind, title, valid_from, valid_until, parties)
    spooled = _spool(uploaded_file) if uploaded_file is not None else None
    try:
        with transaction.atomic():
            agreement = Agreement(
                kind=kind,
                title=title.strip(),
                includes_non_disclosure=includes_non_disclosure,
                valid_from=valid_from,
                valid_until=valid_until,
            )
            if spooled is not None:
                _set_file(agreement, spooled, by)
            agreement.save()
            agreement.parties.set(parties)
            record(
                "organizations.agreement.file",
                actor=by,
                obj=agreement,
                request=request,
                data={
                    "parties": _party_ids(parties),
                    "size": spooled.size if spooled else None,
                    "changes": changes(
                        {}, snapshot(agreement, (*AGREEMENT_FIELDS, "sha256", "original_filename"))
                    ),
                },
            )
            # Last, so that any failure before it leaves no file in place.
            if spooled is not None:
                _place(spooled, agreement.signed_file.name)
    finally:
        _discard(spooled)
    return agreement


def attach_signed_file(agreement: Agreement, uploaded_file, *, by, request=None) -> Agreement:
    """Add the signed copy to an agreement filed without one, or replace a wrong copy."""
    spooled = _spool(uploaded_file)
    try:
        with transaction.atomic():
            row = Agreement.objects.select_for_update().get(pk=agreement.pk)
            before = snapshot(row, ("sha256", "original_filename"))
            _set_file(row, spooled, by)
            row.save(update_fields=[*FILE_FIELDS, "uploaded_by", "uploaded_at"])
            record(
                "organizations.agreement.attach_file",
                actor=by,
                obj=row,
                request=request,
                data={
                    "size": spooled.size,
                    "changes": changes(before, snapshot(row, ("sha256", "original_filename"))),
                },
            )
            _place(spooled, row.signed_file.name)
    finally:
        _discard(spooled)
    for name in (*FILE_FIELDS, "uploaded_by_id", "uploaded_at"):
        setattr(agreement, name, getattr(row, name))
    return row


def amend_agreement(
    agreement: Agreement,
    *,
    by,
    parties: Iterable[Organization] | None = None,
    request=None,
    **fields,
) -> Agreement:
    """Correct an agreement's terms as recorded (type, title, dates, parties)."""
    editable = {"kind", "title", "includes_non_disclosure", "valid_from", "valid_until"}
    unknown = set(fields) - editable
    if unknown:
        raise TypeError(f"amend_agreement() cannot change {', '.join(sorted(unknown))}")
    parties = list(parties) if parties is not None else None
    with transaction.atomic():
        row = Agreement.objects.select_for_update().get(pk=agreement.pk)
        before = snapshot(row, AGREEMENT_FIELDS)
        before_parties = sorted(row.parties.values_list("pk", flat=True))
        for name, value in fields.items():
            setattr(row, name, value)
        _check_fields(row.kind, row.title, row.valid_from, row.valid_until, parties)
        diff = changes(before, snapshot(row, AGREEMENT_FIELDS))
        after_parties = _party_ids(parties) if parties is not None else before_parties
        if after_parties != before_parties:
            diff["parties"] = {"before": before_parties, "after": after_parties}
        if not diff:
            return row
        if fields:
            row.save(update_fields=sorted(fields))
        if parties is not None:
            row.parties.set(parties)
        record(
            "organizations.agreement.amend",
            actor=by,
            obj=row,
            request=request,
            data={"changes": diff},
        )
    return row


def terminate_agreement(
    agreement: Agreement, on: dt.date, by, reason: str, *, request=None
) -> Agreement:
    """The agreement is no longer in force from *on*; people it admitted lose access then."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the agreement is terminated.")})
    with transaction.atomic():
        row = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if row.terminated_at is not None:
            raise ValidationError(
                _("This agreement was already terminated on %(day)s.")
                % {"day": row.terminated_at.isoformat()}
            )
        if on < row.valid_from:
            raise ValidationError(_("An agreement cannot be terminated before it takes effect."))
        row.terminated_at = on
        row.termination_reason = reason
        row.save(update_fields=["terminated_at", "termination_reason"])
        record(
            "organizations.agreement.terminate",
            actor=by,
            obj=row,
            request=request,
            data={
                "reason": reason,
                "changes": {"terminated_at": {"before": None, "after": on}},
            },
        )
    agreement.terminated_at, agreement.termination_reason = on, reason
    return row


def open_signed_file(agreement: Agreement, *, by, request=None):
    """The signed copy, opened for reading; every opening is in the audit trail."""
    if not agreement.sha256 or not agreement.signed_file:
        raise FileNotFoundError("no signed file on record")
    handle = agreement.signed_file.storage.open(agreement.signed_file.name, "rb")
    record(
        "organizations.agreement.download",
        actor=by,
        obj=agreement,
        request=request,
        data={"sha256": agreement.sha256},
    )
    return handle
