"""DOI syntax, and the scheme by which version DOIs derive from a dataset's concept DOI.

A dataset has one *concept DOI* (for example ``10.23698/aida/ctpa``) that always leads to
its newest version. Each version gets ``<concept DOI>.v<version>``, for example
``10.23698/aida/ctpa.v1.1``, the scheme figshare uses: one glance shows which dataset a
version belongs to, and the suffix stays within the characters DataCite recommends.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# DataCite: prefix "10." + registrant code, "/", suffix of printable characters.
_DOI = re.compile(r"^10\.\d{4,9}(\.\d+)*/[A-Za-z0-9\-._;()/:]+$")
_RESOLVERS = (
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "http://dx.doi.org/",
    "doi:",
)
_VERSION_LABEL = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,29}$")


class InvalidDOI(ValueError):
    pass


def normalize_doi(value: str) -> str:
    """Strip resolver prefixes and whitespace; DOIs compare case-insensitively, keep as given."""
    doi = (value or "").strip()
    for prefix in _RESOLVERS:
        if doi.lower().startswith(prefix):
            doi = doi[len(prefix) :]
            break
    return doi


def parse_doi(value: str) -> str:
    """Return the bare DOI in *value*, or raise InvalidDOI saying why it is not one."""
    doi = normalize_doi(value)
    if not doi:
        raise InvalidDOI("a DOI is required")
    if not _DOI.match(doi):
        raise InvalidDOI(
            f"{value!r} is not a DOI: a DOI looks like 10.23698/aida/ctpa "
            "(10., a registrant number, a slash, then letters, digits or -._;()/:)"
        )
    segments = doi.split("/")[1:]
    if any(seg in {"", ".", ".."} for seg in segments):
        raise InvalidDOI(f"{value!r} is not a DOI: its suffix has an empty, '.' or '..' part")
    if len(doi) > 255:
        raise InvalidDOI(f"a DOI is at most 255 characters; this one has {len(doi)}")
    return doi


def validate_doi(value: str) -> None:
    try:
        parse_doi(value)
    except InvalidDOI as exc:
        raise ValidationError(str(exc)) from exc


def version_doi(concept_doi: str, version: str) -> str:
    """The DOI of one version of a dataset: ``<concept DOI>.v<version>``."""
    if not _VERSION_LABEL.match(version or ""):
        raise InvalidDOI(f"version {version!r} must be letters, digits, dots or hyphens")
    return f"{concept_doi}.v{version}"


def doi_url(doi: str) -> str:
    return f"https://doi.org/{doi}"
