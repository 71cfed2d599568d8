"""The register's search box: plain words and ``column:value`` terms, sorting and facets.

``modality:ct lymph node`` finds datasets with a CT modality whose text mentions both
"lymph" and "node". Values may be quoted (``title:"head ct"``). Every term must match. A
column the register does not know is not an error: its value is searched as a plain word
and the page says so. Matching uses the denormalized lower-case columns of the dataset's
latest version (``modality_text``, ``organ_text``, ``search_text``) with ``icontains``,
which behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from aidahub.web.register.models import License, LicenseKind
from aidahub.web.register.vocab import COUNTRIES, MODALITIES, modality_name

# Column name -> what it searches; the keys are what users type.
COLUMNS: dict[str, str] = {
    "name": "short name",
    "title": "title",
    "subject": "field (Radiology, Pathology, ...)",
    "origin": "origin (Clinical, Synthetic)",
    "status": "status (Ongoing, Complete)",
    "modality": "modality code or name",
    "organ": "organ",
    "license": "license type or name",
    "keyword": "keywords",
    "country": "country shared with (code or name)",
    "doi": "DOI",
    "year": "year published",
}
ALIASES = {
    "short": "name", "shortname": "name", "short_name": "name", "field": "subject",
    "modalities": "modality", "organs": "organ", "licence": "license", "licenses": "license",
    "keywords": "keyword", "countries": "country", "countries-shared": "country",
}  # fmt: skip

# A term: optional column, then a quoted value (the closing quote may be missing) or a bare one.
_TOKEN = re.compile(r'(?:(?P<col>[A-Za-z][\w-]*):)?(?:"(?P<quoted>[^"]*)"?|(?P<bare>\S*))')
_NEEDS_QUOTES = re.compile(r'[\s"]')


@dataclass(frozen=True)
class Term:
    column: str | None
    value: str

    def __str__(self) -> str:
        return format_term(self.column, self.value)


@dataclass
class Query:
    terms: list[Term] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return " ".join(str(t) for t in self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)

    def has(self, column: str | None, value: str) -> bool:
        return Term(column, value.lower()) in {Term(t.column, t.value.lower()) for t in self.terms}


def format_term(column: str | None, value: str) -> str:
    """The text that parses back into this term."""
    value = value.replace('"', "")
    # A plain word with a colon would read back as a column term.
    if _NEEDS_QUOTES.search(value) or not value or (column is None and ":" in value):
        value = f'"{value}"'
    return f"{column}:{value}" if column else value


def parse(text: str) -> Query:
    """Split the search box into terms; never raises."""
    query = Query()
    text = (text or "")[:500]
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _TOKEN.match(text, pos)
        pos = max(match.end(), pos + 1)
        column = match["col"]
        value = match["quoted"] if match["quoted"] is not None else match["bare"]
        value = value.strip()
        if column is None:
            if value:
                query.terms.append(Term(None, value))
            continue
        name = ALIASES.get(column.lower(), column.lower())
        if not value:
            query.notes.append(
                _("“%(column)s:” needs a value after the colon; it was left out.")
                % {"column": column}
            )
            continue
        if name not in COLUMNS:
            query.notes.append(
                _(
                    "There is no column “%(column)s”, so “%(value)s” was searched for everywhere. "
                    "Columns you can use: %(columns)s."
                )
                % {"column": column, "value": value, "columns": ", ".join(COLUMNS)}
            )
            query.terms.append(Term(None, value))
            continue
        query.terms.append(Term(name, value))
    return query


def add_term(text: str, column: str | None, value: str) -> str:
    query = parse(text)
    if not query.has(column, value):
        query.terms.append(Term(column, value))
    return str(query)


def remove_term(text: str, column: str | None, value: str) -> str:
    query = parse(text)
    drop = Term(column, value.lower())
    return str(Query([t for t in query.terms if Term(t.column, t.value.lower()) != drop]))


def _word(column: str, word: str) -> Q:
    """*word* as a whole word of a space-separated lower-case column."""
    return (
        Q(**{column: word})
        | Q(**{f"{column}__startswith": f"{word} "})
        | Q(**{f"{column}__contains": f" {word} "})
        | Q(**{f"{column}__endswith": f" {word}"})
    )


def _license(value: str) -> Q:
    if value in LicenseKind.values:
        licenses = License.objects.filter(kind=value)
    else:
        licenses = License.objects.filter(Q(name__icontains=value) | Q(kind__icontains=value))
    return Q(pk__in=licenses.values("version_id"))


def _country(value: str) -> Q:
    codes = {code for code, name in COUNTRIES.items() if name.lower() == value}
    codes.add(value.upper())
    q = Q()
    for code in codes:
        q |= Q(countries_shared__icontains=f'"{code}"')
    return q


def term_q(term: Term) -> Q:
    """The condition one term puts on a DatasetVersion queryset."""
    value = term.value.lower()
    match term.column:
        case None | "keyword":
            return Q(search_text__icontains=value)
        case "name":
            return Q(dataset__short_name__icontains=value)
        case "title" | "subject" | "origin" | "status":
            return Q(**{f"{term.column}__icontains": value})
        case "modality":
            # A known code matches as a word, so "ct" does not find "electrocardiography".
            if value.upper() in MODALITIES:
                return _word("modality_text", value)
            return Q(modality_text__icontains=value)
        case "organ":
            return Q(organ_text__icontains=value)
        case "license":
            return _license(value)
        case "country":
            return _country(value)
        case "doi":
            return Q(doi__icontains=value) | Q(dataset__concept_doi__icontains=value)
        case "year":
            return Q(date_published__year=int(value)) if value.isdigit() else Q(pk__in=[])
    raise ValueError(f"unknown column {term.column!r}")


def apply(queryset: QuerySet, query: Query) -> QuerySet:
    for term in query.terms:
        queryset = queryset.filter(term_q(term))
    return queryset


# Sort key in the URL -> field of DatasetVersion. The short name breaks ties.
SORTS: dict[str, str] = {
    "name": "dataset__short_name",
    "subject": "subject",
    "origin": "origin",
    "modality": "modality_text",
    "date": "date_published",
    "size": "size_bytes",
    "organ": "organ_text",
    "title": "title",
}
DEFAULT_SORT = "name"


def clean_sort(value: str | None) -> str:
    """A valid sort key such as ``date`` or ``-size``; anything else gives the default."""
    value = (value or "").strip()
    key = value.removeprefix("-")
    key = "name" if key == "short" else key
    if key not in SORTS:
        return DEFAULT_SORT
    return f"-{key}" if value.startswith("-") else key


def apply_sort(queryset: QuerySet, sort: str) -> QuerySet:
    sort = clean_sort(sort)
    expression = F(SORTS[sort.removeprefix("-")])
    expression = (
        expression.desc(nulls_last=True)
        if sort.startswith("-")
        else expression.asc(nulls_last=True)
    )
    return queryset.order_by(expression, "dataset__short_name", "pk")


@dataclass
class FacetValue:
    label: str
    column: str
    value: str
    count: int


FACET_LIMIT = 12


def _top(counter: Counter, column: str, labels: dict[str, str] | None = None) -> list[FacetValue]:
    labels = labels or {}
    rows = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0].lower()))[:FACET_LIMIT]
    return [FacetValue(labels.get(value, value), column, value, count) for value, count in rows]


def _names(values) -> list[str]:
    """The distinct, non-empty names in a JSON list from a record (strings or dicts)."""
    out = []
    for item in values if isinstance(values, list) else []:
        name = item.get("name", "") if isinstance(item, dict) else item
        name = str(name or "").strip()
        if name and name.lower() not in {n.lower() for n in out}:
            out.append(name)
    return out


def facets(queryset: QuerySet) -> dict[str, list[FacetValue]]:
    """Counts of datasets per subject, origin, modality, organ and license type."""
    subjects, origins, modalities, organs = Counter(), Counter(), Counter(), Counter()
    for subject, origin, codes, organ_list in queryset.values_list(
        "subject", "origin", "modalities", "organs"
    ):
        if subject:
            subjects[subject] += 1
        if origin:
            origins[origin] += 1
        modalities.update(c.upper() for c in _names(codes))
        organs.update(o.lower() for o in _names(organ_list))
    pairs = set(
        License.objects.filter(version__in=queryset.values("pk")).values_list("kind", "version_id")
    )
    kinds = Counter(kind for kind, _version in pairs)
    modality_labels = {
        c: f"{c} ({modality_name(c)})" if modality_name(c) != c else c for c in modalities
    }
    return {
        _("Field"): _top(subjects, "subject"),
        _("Origin"): _top(origins, "origin"),
        _("Modality"): _top(modalities, "modality", modality_labels),
        _("Organ"): _top(organs, "organ", {o: o.capitalize() for o in organs}),
        _("License"): _top(kinds, "license", dict(LicenseKind.choices)),
    }
