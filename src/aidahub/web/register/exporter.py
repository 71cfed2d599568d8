"""Export every dataset in the legacy register format, one file per dataset.

Each file is named after the concept DOI (``10.5072/example/swfr`` → ``10.5072_example_swfr.md``)
and holds the dataset's newest version with the raw values the importer kept restored, so
that after a first import, export → import → export is byte-identical. Files are written to
a temporary name and renamed into place: a half-written record is never visible.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from aidahub.web.register.models import Dataset, DatasetVersion
from aidahub.web.register.records import render_record

__all__ = ["export_all", "file_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9\-._;()]")


def file_name(concept_doi: str) -> str:
    """``10.5072/example/swfr`` → ``10.5072_example_swfr.md``; never a path of its own."""
    name = _UNSAFE.sub("_", concept_doi.replace("/", "_")).lstrip(".")
    return f"{name or 'dataset'}.md"


def _write_atomically(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _version_to_export(dataset: Dataset) -> DatasetVersion | None:
    return dataset.latest_version or dataset.versions.order_by("-id").first()


def export_all(directory: Path) -> list[Path]:
    """Write one record per dataset into *directory*; return the files written, in DOI order."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for dataset in Dataset.objects.select_related("latest_version").order_by("concept_doi"):
        version = _version_to_export(dataset)
        if version is None:
            continue
        path = directory / file_name(dataset.concept_doi)
        _write_atomically(path, render_record(version))
        written.append(path)
    return written
