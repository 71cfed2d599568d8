"""Import records in the legacy register format (Markdown with YAML front matter).

``legacy`` reads a record and repairs what it has to; this module stores what it read. A
record's identity is its concept DOI (``datacite."@id"``) and version label
(``datacite.version``, "1.0" when absent): importing the same files again never makes
duplicates. Each record is imported in its own transaction; a record that cannot be
imported is skipped with the reason and the batch goes on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from aidahub.web.audit.services import record
from aidahub.web.core.text import neutralize
from aidahub.web.register import services
from aidahub.web.register.doi import version_doi
from aidahub.web.register.legacy.reader import SkipRecord
from aidahub.web.register.legacy.record import ParsedRecord, parse_record
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
)
from aidahub.web.register.orcid import checksum_ok as orcid_checksum_ok

__all__ = [
    "ImportReport",
    "ParsedRecord",
    "RecordResult",
    "SkipRecord",
    "import_paths",
    "import_text",
    "neutralize",
    "orcid_checksum_ok",
    "parse_record",
    "record_files",
]

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 8_000_000  # the largest legacy record is a few kB


@dataclass
class RecordResult:
    source: str
    outcome: str  # "created" | "updated" | "unchanged" | "skipped"
    doi: str = ""
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    version: str = ""


@dataclass
class ImportReport:
    results: list[RecordResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def warnings(self) -> int:
        return sum(len(r.warnings) for r in self.results)


# -- storing ---------------------------------------------------------------------------------

_PART_MODELS = (Author, CopyrightHolder, Contact, ExampleImage, License)


def _create_parts(version: DatasetVersion, parsed: ParsedRecord) -> None:
    """Add the record's ordered parts; the legacy register may change published versions."""
    rows = ((Author, parsed.authors), (CopyrightHolder, parsed.holders),
            (Contact, parsed.contacts), (ExampleImage, parsed.images),
            (License, parsed.licenses))  # fmt: skip
    for model, items in rows:
        for position, values in enumerate(items):
            model(version=version, position=position, **values).save(allow_published_change=True)
    for position, values in enumerate(parsed.publications):
        Publication.objects.create(
            dataset=version.dataset,
            version=version,
            position=position,
            relation=PublicationRelation.DESCRIBES,
            **values,
        )


def _version_key(label: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", label))


def _apply(version: DatasetVersion, parsed: ParsedRecord) -> None:
    for name, value in parsed.fields.items():
        if name == "date_published" and value is None and version.date_published:
            continue  # keep the date the hub published it
        setattr(version, name, value)
    version.repairs = parsed.repairs
    version.extra = parsed.extra
    version.content_hash = parsed.content_hash


def _publish(dataset: Dataset, version: DatasetVersion, actor) -> None:
    try:
        services.publish(dataset, version, actor=actor)
    except services.InvalidTransition as exc:
        raise SkipRecord(f"{exc}; it was left as it is") from exc


def _new_version(dataset: Dataset, parsed: ParsedRecord, actor) -> DatasetVersion:
    """Store the record as a new version of *dataset*, with its parts, and publish it."""
    version = DatasetVersion(
        dataset=dataset, version=parsed.label, doi=version_doi(dataset.concept_doi, parsed.label)
    )
    _apply(version, parsed)
    version.save()
    _create_parts(version, parsed)
    _publish(dataset, version, actor)
    return version


def _create(parsed: ParsedRecord, actor) -> tuple[Dataset, DatasetVersion]:
    dataset = Dataset.objects.create(
        concept_doi=parsed.concept_doi, short_name=parsed.short_name, hidden=parsed.hidden
    )
    return dataset, _new_version(dataset, parsed, actor)


def _update(dataset: Dataset, version: DatasetVersion, parsed: ParsedRecord, actor) -> None:
    """Change a version in place: during the migration the legacy register is the authority."""
    _apply(version, parsed)
    version.save(allow_published_change=True)
    for model in _PART_MODELS:
        model.objects.filter(version=version).delete()
    Publication.objects.filter(version=version, relation=PublicationRelation.DESCRIBES).delete()
    _create_parts(version, parsed)
    if version.is_published:
        services.snapshot_licenses(version, version.policy_version, allow_published_change=True)
    else:
        _publish(dataset, version, actor)


def _add_version(dataset: Dataset, parsed: ParsedRecord, actor) -> DatasetVersion:
    previous = dataset.latest_version
    version = _new_version(dataset, parsed, actor)
    if previous and _version_key(previous.version) > _version_key(parsed.label):
        # An older version imported late does not become the newest.
        Dataset.objects.filter(pk=dataset.pk).update(latest_version=previous)
    return version


def _store(parsed: ParsedRecord, actor) -> tuple[str, Dataset, DatasetVersion]:
    with transaction.atomic():
        dataset = (
            Dataset.objects.select_for_update()
            .filter(concept_doi__iexact=parsed.concept_doi)
            .first()
        )
        if dataset is None:
            dataset, version = _create(parsed, actor)
            outcome = "created"
        else:
            if dataset.state == DatasetState.WITHDRAWN:
                raise SkipRecord(f"{dataset.concept_doi} is withdrawn; it was left as it is")
            version = dataset.versions.filter(version=parsed.label).first()
            if version is not None and version.content_hash == parsed.content_hash:
                return "unchanged", dataset, version
            if version is not None:
                _update(dataset, version, parsed, actor)
            else:
                version = _add_version(dataset, parsed, actor)
            outcome = "updated"
        dataset.refresh_from_db()
        if dataset.latest_version_id in (None, version.pk):
            dataset.short_name, dataset.hidden = parsed.short_name, parsed.hidden
            dataset.save(update_fields=["short_name", "hidden", "updated_at"])
        record("register.record.import", actor=actor, obj=dataset, data={
            "source": parsed.source, "outcome": outcome, "version": parsed.label,
            "doi": version.doi, "content_hash": parsed.content_hash,
            "repairs": [r["field"] for r in parsed.repairs],
        })  # fmt: skip
    return outcome, dataset, version


def import_text(text: str, source: str, *, actor=None) -> RecordResult:
    """Import one record's text; *source* names it in messages (usually the file name)."""
    try:
        parsed = parse_record(text, source)
    except SkipRecord as exc:
        return RecordResult(source, "skipped", error=str(exc))
    except Exception as exc:  # one bad record never stops the batch
        log.exception("could not read %s", source)
        return RecordResult(source, "skipped", error=f"could not be read ({exc!r})")
    result = RecordResult(
        source, "skipped", doi=parsed.concept_doi, warnings=parsed.warnings, version=parsed.label
    )
    try:
        result.outcome, _, _ = _store(parsed, actor)
    except SkipRecord as exc:
        result.error = str(exc)
    except Exception as exc:
        log.exception("could not store %s", source)
        result.error = f"could not be stored ({exc!r}); nothing was changed"
    return result


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise SkipRecord("not a text file (it contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SkipRecord(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} is not valid UTF-8"
        ) from exc


def _import_file(path: Path | None, source: str, actor) -> RecordResult:
    try:
        if path is None:
            raise SkipRecord("no such file or folder")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SkipRecord(f"the file has {size} bytes; a record has at most {MAX_FILE_BYTES}")
        text = _decode(path.read_bytes())
    except SkipRecord as exc:
        return RecordResult(source, "skipped", error=str(exc))
    except OSError as exc:
        return RecordResult(source, "skipped", error=f"could not be read: {exc.strerror}")
    return import_text(text, source, actor=actor)


def record_files(paths: Iterable[Path]) -> list[tuple[str, Path | None]]:
    """(name shown in messages, file) for each record; folders are walked for ``*.md``."""
    found: list[tuple[str, Path | None]] = []
    for path in map(Path, paths):
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*.md") if p.is_file()):
                found.append((file.relative_to(path).as_posix(), file))
        elif path.is_file():
            found.append((path.name, path))
        else:
            found.append((str(path), None))
    return found


def import_paths(
    paths: list[Path], *, actor=None, on_result: Callable[[RecordResult], None] | None = None
) -> ImportReport:
    """Import records from files and folders, one transaction per record."""
    report = ImportReport()
    for source, path in record_files(paths):
        result = _import_file(path, source, actor)
        report.results.append(result)
        if on_result is not None:
            on_result(result)
    return report
