"""Small factories for register objects, used across the test suite."""

from __future__ import annotations

import datetime as dt
import itertools

from aidahub.web.register.doi import version_doi
from aidahub.web.register.models import (
    Author,
    Contact,
    CopyrightHolder,
    Dataset,
    DatasetVersion,
    License,
)
from aidahub.web.register.services import publish

_seq = itertools.count(1)


def make_dataset(
    *,
    doi: str | None = None,
    short_name: str | None = None,
    version: str = "1.0",
    title: str = "Chest CT with annotated nodules",
    licenses=("aida-by",),
    published: bool = True,
    hidden: bool = False,
    **fields,
) -> Dataset:
    """A dataset with one version, authors, a holder, contacts and licenses."""
    n = next(_seq)
    doi = doi or f"10.5072/test/ds{n}"
    dataset = Dataset.objects.create(
        concept_doi=doi, short_name=short_name or f"DS{n}", hidden=hidden
    )
    defaults = dict(
        subject="Radiology",
        origin="Clinical",
        status="Complete",
        copyright_year=2024,
        publisher="Example Data Hub",
        keywords=["Radiology", "CT"],
        modalities=["CT"],
        organs=[{"name": "Lung", "sctid": "39607008"}],
        number_of_scans=100,
        size_bytes=1_500_000_000,
        date_published=dt.date(2024, 3, 15),
        description="A test dataset.",
    )
    defaults.update(fields)
    ver = DatasetVersion.objects.create(
        dataset=dataset, version=version, doi=version_doi(doi, version), title=title, **defaults
    )
    Author.objects.create(
        version=ver, position=0, name="Astrid Example", orcid="0000-0002-1825-0097"
    )
    Author.objects.create(version=ver, position=1, name="Bertil Placeholder")
    CopyrightHolder.objects.create(
        version=ver, institution="Example University", responsible_researcher="Astrid Example"
    )
    Contact.objects.create(
        version=ver, position=0, name="Astrid Example", email="astrid@university.example.org"
    )
    Contact.objects.create(
        version=ver,
        position=1,
        name="Data director",
        email="director@hub.example.org",
        is_hub_contact=True,
    )
    names = {
        "aida-by": "AIDA BY license",
        "aida": "AIDA license",
        "aida-ca": "AIDA CA license",
        "aida-by-ca": "AIDA BY CA license",
        "controlled-access": "Controlled access",
        "custom": "Custom terms",
    }
    for position, kind in enumerate(licenses):
        License.objects.create(version=ver, position=position, kind=kind, name=names[kind])
    if published:
        publish(dataset, ver)
        dataset.refresh_from_db()
    return dataset
