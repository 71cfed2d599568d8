"""How a dataset version is cited: the "cite as" line, BibTeX, and the license's list."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from aidahub.web.register.doi import doi_url
from aidahub.web.register.licenses import LicenseContext, join_names, policy_version_on
from aidahub.web.register.models import PartyKind


def publication_year(version) -> int | None:
    """The year a citation gives: of publication, else the copyright year."""
    if version.date_published:
        return version.date_published.year
    return version.copyright_year


def author_names(version) -> list[str]:
    return [a.name for a in version.authors.all()]


def cite_as(version, *, doi: str | None = None) -> str:
    """'Authors (Year). Title (Version v) [Data set]. Publisher. https://doi.org/...'"""
    authors = join_names(author_names(version)) or version.publisher
    year = publication_year(version)
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
    year = publication_year(version)
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


# -- names -----------------------------------------------------------------------------------

_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


@dataclass(frozen=True)
class NameParts:
    """A creator's name as citation formats want it: family and given names, or a literal."""

    family: str = ""
    given: str = ""
    suffix: str = ""
    literal: str = ""


def name_parts(name: str, *, kind: str = PartyKind.PERSON) -> NameParts:
    """Split a person's name written 'Given Family' or 'Family, Given'.

    An organization, and a person whose name is one word (a mononym, or a name in a script
    written without spaces such as 王小明), stays whole as a literal: where such a name
    divides cannot be told from the text, and a wrong guess would misname the person.
    Lower-case particles before the family name belong to it ('van der Berg').
    """
    name = " ".join((name or "").split())
    if kind != PartyKind.PERSON:
        return NameParts(literal=name)
    if "," in name:
        family, _, given = (part.strip() for part in name.partition(","))
        return (
            NameParts(family=family, given=given) if family and given else NameParts(literal=name)
        )
    tokens = name.split(" ")
    suffix = tokens.pop() if len(tokens) > 2 and tokens[-1].lower() in _SUFFIXES else ""
    if len(tokens) < 2:
        return NameParts(literal=name)
    cut = len(tokens) - 1
    while cut > 1 and tokens[cut - 1].islower():
        cut -= 1
    return NameParts(" ".join(tokens[cut:]), " ".join(tokens[:cut]), suffix)


def creators(version) -> list[tuple[NameParts, object]]:
    """(name parts, author) for each author; the publisher when there are none, as cite_as."""
    authors = [(name_parts(a.name, kind=a.kind), a) for a in version.authors.all()]
    if authors or not version.publisher:
        return authors
    return [(NameParts(literal=version.publisher), None)]


# -- BibTeX ----------------------------------------------------------------------------------

# One pass, so the braces of a replacement such as \textbackslash{} are not escaped again.
_BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_BIBTEX_SPECIAL = re.compile("|".join(re.escape(c) for c in _BIBTEX_ESCAPES))
# Verbatim fields (doi, url) are not escaped, but a brace or backslash would end them early.
_NOT_VERBATIM = re.compile(r"[{}\\\s]")


def _bibtex_escape(value: str) -> str:
    return _BIBTEX_SPECIAL.sub(lambda m: _BIBTEX_ESCAPES[m.group()], value or "")


def _bibtex_name(parts: NameParts) -> str:
    """'Family, Given' (BibTeX's 'von Last, Jr, First'); a literal whole in braces."""
    if parts.literal:
        return f"{{{_bibtex_escape(parts.literal)}}}"

    def protect(part: str) -> str:
        # A comma or a word 'and' inside a part would split the name list.
        part = _bibtex_escape(part)
        return f"{{{part}}}" if re.search(r",|\band\b", part, re.IGNORECASE) else part

    pieces = [protect(parts.family), protect(parts.suffix), protect(parts.given)]
    return ", ".join(p for p in pieces if p)


def _ascii_word(text: str) -> str:
    """Letters and digits of *text* with accents dropped: 'Öberg' -> 'Oberg', '王' -> ''."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", folded)


def bibtex_key(version) -> str:
    """First creator's family name, year and short name, ASCII only: 'Oberg2024CTPA'."""
    found = creators(version)
    first = found[0][0] if found else NameParts(literal="dataset")
    name = _ascii_word(first.family) if first.family else _ascii_word(first.literal)[:20]
    short = _ascii_word(version.dataset.short_name)
    return f"{name or 'dataset'}{publication_year(version) or ''}{short}"


def bibtex(version, *, doi: str | None = None, url: str = "") -> str:
    """A BibTeX ``@misc`` entry (BibTeX has no dataset type; biblatex's @dataset is not
    read by classic styles). ``howpublished`` carries the DOI link for styles that print
    neither ``doi`` nor ``url``; *url* is the landing page, the DOI link if not given.
    The title is braced twice so styles keep its capitals."""
    doi = doi or version.dataset.concept_doi
    year = publication_year(version)
    label = _bibtex_escape(version.version)
    fields = [
        ("author", " and ".join(_bibtex_name(parts) for parts, _ in creators(version))),
        ("title", f"{{{_bibtex_escape(version.title)}}}"),
        ("howpublished", rf"\url{{{_NOT_VERBATIM.sub('', doi_url(doi))}}}"),
        ("publisher", _bibtex_escape(version.publisher)),
        ("year", str(year or "")),
        ("version", label),
        ("note", f"Version {label} [Data set]" if label else "[Data set]"),
        ("doi", _NOT_VERBATIM.sub("", doi)),
        ("url", _NOT_VERBATIM.sub("", url or doi_url(doi))),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{bibtex_key(version)},\n{body}\n}}\n"
