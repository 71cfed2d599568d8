"""Filing agreements: the signed PDF is hashed while streamed, renamed into place under its
hash, and anything that is not a PDF (or too large) is refused leaving nothing behind."""

import hashlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from aidahub.web.audit.models import AuditEvent
from aidahub.web.organizations import agreement_services, services
from aidahub.web.organizations.models import Agreement, AgreementType
from aidahub.web.organizations.policies import nonpublic_access
from tests.web.organizations import factories as f

pytestmark = pytest.mark.django_db


def _files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _file(upload, *, parties=None, by=None, **fields):
    return services.file_agreement(
        fields.pop("kind", AgreementType.PARTNER_CONTRACT),
        fields.pop("title", "Partner contract 2025"),
        parties if parties is not None else [f.make_organization()],
        fields.pop("valid_from", f.days(-1)),
        fields.pop("valid_until", None),
        upload,
        by or f.make_user(staff=True),
        **fields,
    )


def test_the_signed_file_is_stored_under_its_hash(settings):
    content = f.PDF + b"x" * 300_000  # several chunks
    staff = f.make_user(staff=True)
    agreement = _file(f.pdf_upload(content, "Avtal <signerat>.pdf"), by=staff)
    digest = hashlib.sha256(content).hexdigest()
    assert agreement.sha256 == digest
    assert agreement.signed_file.name == f"agreements/{digest[:2]}/{digest}.pdf"
    assert agreement.uploaded_by == staff and agreement.uploaded_at is not None
    assert agreement.original_filename == "Avtal <signerat>.pdf"
    stored = _files(settings)
    assert stored == [Path(settings.MEDIA_ROOT) / agreement.signed_file.name]
    assert stored[0].read_bytes() == content
    event = AuditEvent.objects.get(action="organizations.agreement.file")
    assert event.data["changes"]["sha256"]["after"] == digest
    assert event.data["size"] == len(content)


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04 a docx is a zip",
        b"<html>%PDF-</html>",
        b"%PD",
        b"",
        b" %PDF-1.4",
    ],
    ids=["docx", "html", "short", "empty", "leading-space"],
)
def test_a_file_that_is_not_a_pdf_is_refused_and_nothing_is_stored(settings, content):
    with pytest.raises(ValidationError) as caught:
        _file(f.pdf_upload(content, "contract.pdf"))
    assert "Only PDF files are accepted" in caught.value.messages[0]
    assert not Agreement.objects.exists()
    assert _files(settings) == []
    assert not AuditEvent.objects.filter(action="organizations.agreement.file").exists()


def test_a_file_above_the_limit_is_refused(settings):
    settings.AGREEMENT_MAX_BYTES = 1000
    with pytest.raises(ValidationError, match="larger than"):
        _file(f.pdf_upload(f.PDF + b"x" * 1000))
    assert not Agreement.objects.exists()
    assert _files(settings) == []


def test_a_file_that_grows_while_streamed_is_refused(settings):
    settings.AGREEMENT_MAX_BYTES = 1000
    upload = f.pdf_upload(f.PDF + b"x" * 2000)
    upload.size = 10  # lies about its size
    with pytest.raises(ValidationError, match="larger than"):
        _file(upload)
    assert _files(settings) == []


def test_a_failure_before_the_rename_leaves_no_file(settings, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(agreement_services.os, "replace", fail)
    with pytest.raises(OSError):
        _file(f.pdf_upload())
    assert not Agreement.objects.exists()
    assert _files(settings) == []


def test_parties_and_dates_are_checked_before_the_file_is_read(settings):
    with pytest.raises(ValidationError) as caught:
        _file(f.pdf_upload(), parties=[], valid_from=f.today(), valid_until=f.days(-1))
    assert set(caught.value.error_dict) == {"parties", "valid_until"}
    assert _files(settings) == []


def test_an_agreement_filed_without_its_copy_counts_once_attached(settings):
    org = f.make_organization()
    user = f.make_member(organization=org)
    org.agreements.all().delete()
    staff = f.make_user(staff=True)
    agreement = _file(None, parties=[org], by=staff)
    assert agreement.sha256 == "" and not nonpublic_access(user).allowed
    services.attach_signed_file(agreement, f.pdf_upload(), by=staff)
    assert agreement.sha256 == hashlib.sha256(f.PDF).hexdigest()
    assert nonpublic_access(user).allowed
    replaced = f.PDF + b"% corrected scan\n"
    services.attach_signed_file(agreement, f.pdf_upload(replaced), by=staff)
    event = AuditEvent.objects.filter(action="organizations.agreement.attach_file").latest("id")
    assert event.data["changes"]["sha256"] == {
        "before": hashlib.sha256(f.PDF).hexdigest(),
        "after": hashlib.sha256(replaced).hexdigest(),
    }
    assert len(_files(settings)) == 2  # the first copy is kept as evidence


def test_terminating_ends_access_from_that_day():
    org = f.make_organization()
    user = f.make_member(organization=org)
    agreement = org.agreements.get()
    staff = f.make_user(staff=True)
    with pytest.raises(ValidationError):
        services.terminate_agreement(agreement, f.today(), staff, "")
    services.terminate_agreement(agreement, f.days(3), staff, "Partner left the consortium")
    assert nonpublic_access(user).allowed
    assert not nonpublic_access(user, today=f.days(3)).allowed
    event = AuditEvent.objects.get(action="organizations.agreement.terminate")
    assert event.data["reason"] == "Partner left the consortium"
    assert event.data["changes"]["terminated_at"]["after"] == f.days(3).isoformat()
    with pytest.raises(ValidationError, match="already terminated"):
        services.terminate_agreement(agreement, f.today(), staff, "Again")


def test_an_agreement_cannot_be_terminated_before_it_takes_effect():
    agreement = f.make_agreement([f.make_organization()], valid_from=f.days(10))
    with pytest.raises(ValidationError):
        services.terminate_agreement(agreement, f.today(), f.make_user(staff=True), "Why")


def test_amending_records_before_and_after_including_parties():
    one, two = f.make_organization(), f.make_organization()
    agreement = f.make_agreement([one])
    staff = f.make_user(staff=True)
    services.amend_agreement(
        agreement, by=staff, parties=[one, two], title="Renamed", includes_non_disclosure=False
    )
    agreement.refresh_from_db()
    assert agreement.title == "Renamed" and set(agreement.parties.all()) == {one, two}
    data = AuditEvent.objects.get(action="organizations.agreement.amend").data["changes"]
    assert data["parties"] == {"before": [one.pk], "after": sorted([one.pk, two.pk])}
    assert data["includes_non_disclosure"] == {"before": True, "after": False}
    with pytest.raises(TypeError):
        services.amend_agreement(agreement, by=staff, sha256="0" * 64)
