"""What the register's pages show, as plain values ready for a template.

No template has to know how a legacy record spells a list, whether a stored link is safe to
put in an ``href``, or whether an image file exists: ``list_row`` makes one line of the
register list and ``LandingPage`` everything a landing page shows. The reads behind them
are the selectors'; what a user may see is already decided there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from aidahub.web.core.text import strip_liquid
from aidahub.web.register import citation, doi_selectors, licenses, services
from aidahub.web.register.doi import doi_url
from aidahub.web.register.models import Dataset, DatasetVersion, PublicationRelation
from aidahub.web.register.orcid import ORCID_ID
from aidahub.web.register.policies import can_edit_dataset, can_view_staff_panel
from aidahub.web.register.selectors import Resolved, versions_for
from aidahub.web.register.vocab import country_name, modality_name, snomed_url

__all__ = [
    "LandingPage",
    "ListRow",
    "as_list",
    "image_available",
    "landing_page",
    "license_text",
    "list_row",
    "names",
    "safe_url",
]


# -- values as legacy records hold them ------------------------------------------------------


def as_list(value) -> list:
    """Legacy records hold lists, comma-separated strings or nothing at all."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [item for item in value if item not in (None, "")]
    return [value]


def names(values) -> list[str]:
    """The names in a list of names or of objects with a name, without empty ones."""
    out = []
    for item in as_list(values):
        name = item.get("name", "") if isinstance(item, dict) else item
        if str(name or "").strip():
            out.append(str(name).strip())
    return out


# -- links and images ------------------------------------------------------------------------

# Characters a URL never holds unencoded; their presence means a value is not a URL.
_NOT_IN_URLS = re.compile(r"[\s\"'<>`\\\x00-\x1f\x7f]")


def safe_url(value: str) -> str:
    """*value* if it is an http(s) URL or a path on this site; '' for anything else."""
    value = (value or "").strip()
    if _NOT_IN_URLS.search(value):
        return ""
    lowered = value.lower()
    if lowered.startswith(("https://", "http://")):
        return value
    if value.startswith("/") and not value.startswith("//"):
        return value
    return ""


def _local_roots() -> list[tuple[str, Path]]:
    """URL prefixes the hub serves images from, and the folders behind them (config/urls)."""
    media = Path(settings.MEDIA_ROOT)
    return [
        (settings.MEDIA_URL, media),
        ("/assets/images/", media / "register" / "assets" / "images"),
    ]


def _local_file(url: str) -> Path | None:
    """The file behind a local image URL, or None when the hub does not serve the URL."""
    for prefix, folder in _local_roots():
        if url.startswith(prefix):
            root = folder.resolve()
            path = (root / unquote(url[len(prefix) :])).resolve()
            return path if path.is_relative_to(root) else root
    return None


def image_available(url: str) -> bool:
    """Can a browser load this image? Local files are checked; remote URLs are trusted."""
    url = safe_url(url)
    if not url:
        return False
    if url.startswith(("https://", "http://")):
        return True
    local = _local_file(url)
    if local is not None:
        return local.is_file()
    return url.startswith(settings.STATIC_URL)


# -- a line of the register list -------------------------------------------------------------


@dataclass
class ListRow:
    short_name: str
    doi: str
    url: str
    title: str
    subject: str
    origin: str
    modalities: str
    date: object
    size_bytes: int | None
    organs: str


def list_row(version: DatasetVersion) -> ListRow:
    """One line of the register list (and of the home page's newest datasets)."""
    dataset = version.dataset
    return ListRow(
        short_name=dataset.short_name,
        doi=dataset.concept_doi,
        url=dataset.get_absolute_url(),
        title=version.title,
        subject=version.subject,
        origin=version.origin,
        modalities=", ".join(names(version.modalities)),
        date=version.date_published,
        size_bytes=version.size_bytes,
        organs=", ".join(names(version.organs)),
    )


# -- a landing page --------------------------------------------------------------------------


@dataclass
class Image:
    url: str
    thumbnail: str
    caption: str
    alt: str
    available: bool


@dataclass
class Organ:
    name: str
    sctid: str
    url: str


@dataclass
class Holder:
    institution: str
    institution_url: str
    researcher: str
    researcher_url: str


@dataclass
class LicenseText:
    anchor: str
    name: str
    kind: str
    identifier: str
    paragraphs: list[str]
    review_date: object = None


@dataclass
class ContactRow:
    name: str
    email: str
    mailto: str
    is_hub_contact: bool


def _mailto(email: str) -> str:
    """A mailto: link for a well-formed address only."""
    try:
        validate_email(email)
    except ValidationError:
        return ""
    return f"mailto:{email}"


@dataclass
class Link:
    text: str
    url: str


def license_text(version: DatasetVersion, lic) -> str:
    """The text as granted for a published version; the current templates for a draft."""
    if version.is_published and lic.rendered_text:
        return lic.rendered_text
    return licenses.render(
        lic.kind,
        citation.license_context(version),
        acknowledgement=lic.acknowledgement,
        coauthors=lic.coauthors,
        custom_text=lic.custom_text or lic.abstract,
    )


_ORCID = re.compile(rf"^{ORCID_ID}$")


def _orcid_url(orcid: str) -> str:
    """A link for an ORCID iD given bare or as a URL; nothing for anything else."""
    orcid = (orcid or "").strip()
    if _ORCID.match(orcid):
        return f"https://orcid.org/{orcid}"
    return safe_url(orcid) if orcid.lower().startswith(("https://", "http://")) else ""


@dataclass
class LandingPage:
    """Everything a landing page shows for one version, for one user."""

    user: object
    resolved: Resolved

    @property
    def dataset(self) -> Dataset:
        return self.resolved.dataset

    @property
    def version(self) -> DatasetVersion:
        return self.resolved.version

    @property
    def doi(self) -> str:
        """The DOI this page is about: the concept DOI, or the version's own."""
        return self.dataset.concept_doi if self.resolved.is_concept else self.version.doi

    @property
    def doi_url(self) -> str:
        return doi_url(self.doi)

    @property
    def is_preview_hidden(self) -> bool:
        return self.dataset.hidden

    @property
    def is_draft(self) -> bool:
        return not self.version.is_published

    @cached_property
    def versions(self) -> list[DatasetVersion]:
        return versions_for(self.user, self.dataset)

    @property
    def latest_version_id(self):
        return self.dataset.latest_version_id

    @property
    def is_latest(self) -> bool:
        return self.version.pk == self.dataset.latest_version_id

    @cached_property
    def latest_version(self) -> DatasetVersion | None:
        return next((v for v in self.versions if v.pk == self.dataset.latest_version_id), None)

    @cached_property
    def cite_as(self) -> str:
        return citation.cite_as(self.version, doi=self.doi)

    @cached_property
    def bibtex(self) -> str:
        return citation.bibtex(self.version, doi=self.doi)

    @cached_property
    def authors(self) -> list[Link]:
        return [Link(a.name, _orcid_url(a.orcid)) for a in self.version.authors.all()]

    @cached_property
    def holders(self) -> list[Holder]:
        return [
            Holder(
                h.institution,
                safe_url(h.institution_url),
                h.responsible_researcher,
                _orcid_url(h.researcher_orcid),
            )
            for h in self.version.copyrightholders.all()
        ]

    @cached_property
    def keywords(self) -> list[str]:
        return [str(k) for k in as_list(self.version.keywords)]

    @cached_property
    def organs(self) -> list[Organ]:
        out = []
        for item in as_list(self.version.organs):
            name, sctid = (
                (item.get("name", ""), item.get("sctid", ""))
                if isinstance(item, dict)
                else (item, "")
            )
            sctid = str(sctid or "").strip()
            url = snomed_url(sctid) if sctid.isdigit() else ""
            out.append(Organ(str(name or sctid), sctid, url))
        return out

    @cached_property
    def modalities(self) -> list[tuple[str, str]]:
        """(code, readable name); the name is empty for a code the hub does not know."""
        out = []
        for code in as_list(self.version.modalities):
            code = str(code)
            name = modality_name(code)
            out.append((code, "" if name == code else name))
        return out

    @cached_property
    def scanners(self) -> list[str]:
        return [str(s) for s in as_list(self.version.scanners)]

    @cached_property
    def countries(self) -> list[str]:
        return [country_name(str(c)) for c in as_list(self.version.countries_shared)]

    @cached_property
    def images(self) -> list[Image]:
        title = self.version.title
        rows = [(i.url, i.thumbnail_url, i.caption) for i in self.version.exampleimages.all()]
        if not rows and self.version.image:
            rows = [(self.version.image, "", "")]
        images = []
        for n, (url, thumb, caption) in enumerate(rows, start=1):
            full, small = safe_url(url), safe_url(thumb)
            if not image_available(small):
                small = full if image_available(full) else ""
            alt = caption or _("Example image %(n)s of %(title)s") % {"n": n, "title": title}
            images.append(
                Image(full if image_available(full) else "", small, caption, alt, bool(small))
            )
        return images

    @cached_property
    def licenses(self) -> list[LicenseText]:
        out = []
        for lic in self.version.licenses.all():
            text = license_text(self.version, lic)
            paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
            out.append(
                LicenseText(
                    lic.anchor,
                    lic.name,
                    lic.kind,
                    safe_url(lic.identifier),
                    paragraphs,
                    lic.review_date,
                )
            )
        return out

    @property
    def is_controlled_access(self) -> bool:
        return any(lic.kind == "controlled-access" for lic in self.licenses)

    @property
    def needs_coauthorship(self) -> bool:
        return any(licenses.is_co_authorship(lic.kind) for lic in self.licenses)

    @cached_property
    def describing_publications(self) -> list[Link]:
        return [Link(p.title, safe_url(p.link)) for p in self.version.describing_publications.all()]

    @cached_property
    def using_publications(self) -> list[Link]:
        pubs = self.dataset.publications.filter(relation=PublicationRelation.USES)
        return [Link(p.title, safe_url(p.link)) for p in pubs]

    @cached_property
    def contacts(self) -> list[ContactRow]:
        return [
            ContactRow(c.name, c.email, _mailto(c.email), c.is_hub_contact)
            for c in self.version.contacts.all()
        ]

    @property
    def additional(self) -> str:
        """The body below the metadata, without the legacy site's template tags."""
        return strip_liquid(self.version.additional)

    @property
    def priority(self):
        return self.dataset.priority

    # Staff only: callers check ``show_staff_panel`` first.
    @property
    def show_staff_panel(self) -> bool:
        return can_view_staff_panel(self.user, self.dataset)

    @cached_property
    def ethics(self):
        return getattr(self.dataset, "ethics", None) if self.show_staff_panel else None

    @cached_property
    def minting(self) -> doi_selectors.MintingStatus | None:
        """Whether this dataset's DOIs are at DataCite as the register says (staff only)."""
        return doi_selectors.minting_status(self.dataset) if self.show_staff_panel else None

    @cached_property
    def license_warnings(self) -> list[str]:
        return services.license_warnings(self.dataset) if self.show_staff_panel else []

    @cached_property
    def contact_warnings(self) -> list[str]:
        return services.contact_warnings(self.version) if self.show_staff_panel else []

    @cached_property
    def repairs(self) -> list[dict]:
        if not self.show_staff_panel:
            return []
        rows = []
        for repair in as_list(self.version.repairs):
            repair = repair if isinstance(repair, dict) else {"message": str(repair)}
            rows.append(
                {
                    "field": repair.get("field", ""),
                    "raw": repair.get("raw", ""),
                    "repaired": repair.get("repaired", ""),
                    "why": repair.get("message") or repair.get("why", ""),
                }
            )
        return rows

    @cached_property
    def admin_urls(self) -> dict[str, str]:
        if not can_edit_dataset(self.user, self.dataset):
            return {}
        urls = {}
        for key, name, pk in (
            ("dataset", "admin:register_dataset_change", self.dataset.pk),
            ("version", "admin:register_datasetversion_change", self.version.pk),
        ):
            try:
                urls[key] = reverse(name, args=[pk])
            except NoReverseMatch:
                continue
        return urls


def landing_page(user, resolved: Resolved) -> LandingPage:
    return LandingPage(user, resolved)
