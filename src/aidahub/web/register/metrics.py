"""The register's figures: totals, and counts per field, modality, organ and country.

Only listed datasets count (published, not hidden), as on every public page.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from aidahub.web.register.presenters import names
from aidahub.web.register.selectors import listed_versions
from aidahub.web.register.vocab import country_name, modality_name

__all__ = ["Metrics", "Totals", "home_counts", "register_metrics"]


@dataclass
class Totals:
    datasets: int = 0
    bytes: int = 0
    scans: int = 0
    annotations: int = 0


@dataclass
class Metrics:
    total: Totals
    per_subject: list[tuple[str, Totals]]
    modalities: list[tuple[str, int]]
    organs: list[tuple[str, int]]
    countries: list[tuple[str, int]]


def _add(totals: Totals, size, scans, annotations) -> None:
    totals.datasets += 1
    totals.bytes += size or 0
    totals.scans += scans or 0
    totals.annotations += annotations or 0


def _distinct(values, key=str) -> set[str]:
    return {key(name) for name in names(values)}


def register_metrics() -> Metrics:
    """Totals and counts over every listed dataset (hidden ones never count)."""
    total = Totals()
    subjects: dict[str, Totals] = {}
    modalities, organs, countries = Counter(), Counter(), Counter()
    organ_names: dict[str, str] = {}
    rows = listed_versions().values_list(
        "subject",
        "size_bytes",
        "number_of_scans",
        "number_of_annotations",
        "modalities",
        "organs",
        "countries_shared",
    )
    for subject, size, scans, notes, codes, organ_list, shared in rows:
        _add(total, size, scans, notes)
        _add(subjects.setdefault(subject or "Other", Totals()), size, scans, notes)
        for code in _distinct(codes, str.upper):
            name = modality_name(code)
            modalities[code if name == code else f"{code} ({name})"] += 1
        for organ in _distinct(organ_list):
            organ_names.setdefault(organ.lower(), organ)
            organs[organ.lower()] += 1
        for code in _distinct(shared, str.upper):
            countries[country_name(code)] += 1

    def ranked(counter: Counter, labels=None) -> list[tuple[str, int]]:
        rows = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        return [((labels or {}).get(k, k), v) for k, v in rows]

    return Metrics(
        total=total,
        per_subject=sorted(subjects.items(), key=lambda kv: (-kv[1].datasets, kv[0])),
        modalities=ranked(modalities),
        organs=ranked(organs, organ_names),
        countries=ranked(countries),
    )


def home_counts() -> Totals:
    total = Totals()
    for size, scans, notes in listed_versions().values_list(
        "size_bytes", "number_of_scans", "number_of_annotations"
    ):
        _add(total, size, scans, notes)
    return total
