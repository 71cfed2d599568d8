"""How a dataset version is cited: the "cite as" line, BibTeX, and the license's list."""

from __future__ import annotations

import re

from aidahub.web.register.doi import doi_url
from aidahub.web.register.licenses import LicenseContext, join_names, policy_version_on


def _year(version) -> int | None:
    if version.date_published:
        return version.date_published.year
    return version.copyright_year


def author_names(version) -> list[str]:
    return [a.name for a in version.authors.all()]


def cite_as(version, *, doi: str | None = None) -> str:
    """'Authors (Year). Title (Version v) [Data set]. Publisher. https://doi.org/...'"""
    authors = join_names(author_names(version)) or version.publisher
    year = _year(version)
    parts = [f"{authors} ({year})." if year else f"{authors}."]
    title = version.title.rstrip(".")
    parts.append(f"{title} (Version {version.version}) [Data set].")
    if version.publisher:
        parts.append(f"{version.publisher.rstrip('.')}.")
    parts.append(doi_url(doi or version.dataset.concept_doi))
    return " ".join(parts)


def license_citation(version) -> str:
    """The dataset's own entry in a BY license's citation list (the policy's <This dataset>)."""
    authors = join_names(author_names(version)) or version.publisher
    year = _year(version)
    doi = version.dataset.concept_doi
    when = f" ({year})" if year else ""
    return f"{authors}{when} {version.title.rstrip('.')}. doi:{doi}"


def paper_citations(version) -> list[str]:
    out = []
    for pub in version.describing_publications.all():
        text = pub.title
        if pub.doi and pub.doi not in text:
            text = f"{text} doi:{pub.doi}"
        elif not pub.doi and pub.url and pub.url not in text:
            text = f"{text} {pub.url}"
        out.append(text)
    return out


def license_context(version, *, policy_version: str | None = None) -> LicenseContext:
    holders = [h.institution or h.responsible_researcher for h in version.copyrightholders.all()]
    return LicenseContext(
        copyright_year=version.copyright_year,
        holders=[h for h in holders if h],
        dataset_citation=license_citation(version),
        paper_citations=paper_citations(version),
        author_names=author_names(version),
        policy_version=policy_version
        or version.policy_version
        or policy_version_on(version.date_published),
    )


_BIBTEX_SPECIAL = re.compile(r"([&%$#_{}])")


def _bibtex_escape(value: str) -> str:
    value = value.replace("\\", r"\textbackslash{}")
    value = _BIBTEX_SPECIAL.sub(r"\\\1", value)
    return value.replace("~", r"\textasciitilde{}").replace("^", r"\textasciicircum{}")


def bibtex_key(version) -> str:
    first = (author_names(version) or [version.publisher or "dataset"])[0]
    surname = re.sub(r"[^A-Za-z0-9]", "", first.split()[-1] if first.split() else "dataset")
    short = re.sub(r"[^A-Za-z0-9]", "", version.dataset.short_name)
    return f"{surname or 'dataset'}{_year(version) or ''}{short}"


def bibtex(version, *, doi: str | None = None) -> str:
    doi = doi or version.dataset.concept_doi
    fields = [
        (
            "author",
            " and ".join(
                f"{{{_bibtex_escape(n)}}}" if " " not in n.strip() else _bibtex_escape(n)
                for n in author_names(version)
            ),
        ),
        ("title", f"{{{_bibtex_escape(version.title)}}}"),
        ("publisher", _bibtex_escape(version.publisher)),
        ("year", str(_year(version) or "")),
        ("version", _bibtex_escape(version.version)),
        ("doi", _bibtex_escape(doi)),
        ("url", doi_url(doi)),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{bibtex_key(version)},\n{body}\n}}\n"
