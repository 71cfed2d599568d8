"""Demo data: a register that looks and reads like a real one, made up from a fixed seed.

``load_demo()`` imports the example records through the importer, then adds about thirty
invented datasets (every license type, withdrawn and hidden ones, several versions), the
clinical council's priority lists, synthetic example images drawn with Pillow, and a staff
user. Running it again changes nothing: each dataset is keyed by its concept DOI and skipped
when present. ``make_bulk()`` makes many datasets quickly for the benchmark.

Everything here is invented. People, papers, diary numbers and ORCID iDs are made up; the
ORCID iDs have a valid check digit but lie in the 0000-0000 block, which ORCID does not
issue, so none of them can point at a real researcher. E-mail addresses are under
example.org (RFC 2606). The images are drawn shapes and noise, not patient data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from aidahub.web.register import services
from aidahub.web.register.demo_catalogue import (
    CATALOGUE,
    COUNTRY_SETS,
    CUSTOM_TERMS,
    FIRST_NAMES,
    INSTITUTIONS,
    JOURNALS,
    LAST_NAMES,
    ORGANS,
    PRIORITY_LISTS,
    SCALES,
    SCANNERS,
    USE_TOPICS,
    WITHDRAWAL_REASONS,
    Blueprint,
)
from aidahub.web.register.demo_images import (
    DRAWERS,
    THUMBNAIL_SIZE,
    draw_legacy_assets,
    example_images,
)
from aidahub.web.register.doi import version_doi
from aidahub.web.register.models import (
    Author,
    Contact,
    CopyrightHolder,
    Dataset,
    DatasetVersion,
    EthicsApproval,
    ExampleImage,
    License,
    LicenseKind,
    Priority,
    PriorityList,
    Publication,
    PublicationRelation,
)
from aidahub.web.register.orcid import check_digit as orcid_checksum
from aidahub.web.register.vocab import modality_name

__all__ = [
    "CATALOGUE",
    "DEMO_LOGIN_FILE",
    "DEMO_USERNAME",
    "DRAWERS",
    "RECORDS_DIR",
    "THUMBNAIL_SIZE",
    "bulk_doi",
    "draw_legacy_assets",
    "import_example_records",
    "invented_orcid",
    "load_demo",
    "make_bulk",
    "orcid_checksum",
]

DEMO_LOGIN_FILE = "demo-login.txt"
DEMO_USERNAME = "director"
RECORDS_DIR = Path(__file__).resolve().parent / "fixtures" / "records"
DEMO_SEED = 20240315

Write = Callable[[str], None]


# --- Invented people ------------------------------------------------------------------------


def invented_orcid(rng: random.Random) -> str:
    """An iD with a valid check digit in the 0000-0000 block, which ORCID never issues."""
    base = "00000000" + "".join(str(rng.randint(0, 9)) for _ in range(7))
    digits = base + orcid_checksum(base)
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


def _ascii(text: str) -> str:
    table = str.maketrans("åäöÅÄÖéü", "aaoAAOeu")
    return text.translate(table).lower()


@dataclass
class Person:
    name: str
    orcid: str
    email: str


def _people(rng: random.Random, count: int, domain: str) -> list[Person]:
    first = rng.sample(FIRST_NAMES, count)
    last = rng.sample(LAST_NAMES, count)
    out = []
    for given, family in zip(first, last, strict=True):
        orcid = invented_orcid(rng) if rng.random() < 0.75 else ""
        email = f"{_ascii(given)}.{_ascii(family)}@{domain}.example.org"
        out.append(Person(f"{given} {family}", orcid, email))
    return out


# --- Invented datasets ----------------------------------------------------------------------


@dataclass
class Spec:
    """Everything needed to create one invented dataset."""

    blueprint: Blueprint
    doi: str
    short_name: str
    fields: dict
    authors: list[Person]
    holders: list[tuple[str, str, str, Person]]
    contacts: list[Person]
    licenses: list[dict]
    papers: list[dict] = field(default_factory=list)
    used_by: list[dict] = field(default_factory=list)
    ethics: dict | None = None
    images: list[dict] = field(default_factory=list)


def _lower_first(text: str) -> str:
    """'Chest radiographs' -> 'chest radiographs', but 'CT colonography' stays."""
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _paper(rng: random.Random, authors: list[Person], topic: str, year: int) -> dict:
    journal, abbreviation = rng.choice(JOURNALS)
    names = ", ".join(f"{p.name.split()[-1]} {p.name[0]}" for p in authors[:4])
    if len(authors) > 4:
        names += ", et al"
    title = f"{names}. {topic}. {journal}. {year};{rng.randint(3, 40)}:{rng.randint(1, 400)}."
    return {
        "title": title,
        "doi": f"10.5072/{abbreviation}.{year}.{rng.randint(100, 9999)}",
        "year": year,
    }


def build_spec(
    bp: Blueprint, *, doi: str, short_name: str, seed: int, with_images: bool = True
) -> Spec:
    """Invent the numbers, people, dates and texts of one dataset; stable for a seed."""
    rng = random.Random(f"{seed}:{doi}")
    modality = bp.modalities[0]
    (size_lo, size_hi), (scans_lo, scans_hi) = SCALES[modality]
    scans = rng.randint(scans_lo, scans_hi)
    size = scans * rng.randint(size_lo, size_hi)
    annotations = int(scans * rng.uniform(0.4, 3.0)) if bp.annotation else None
    created = _random_date(rng, dt.date(2019, 9, 1), dt.date(2025, 6, 30))
    published = created + dt.timedelta(days=rng.randint(20, 140))
    universities = [i for i in INSTITUTIONS if i[3] == "university"]
    regions = [i for i in INSTITUTIONS if i[3] == "region"]
    university = rng.choice(universities)
    authors = _people(rng, rng.randint(2, 6), university[2])
    researcher = authors[-1]
    holders = [(university[0], university[1], university[2], researcher)]
    if rng.random() < 0.35:
        region = rng.choice(regions)
        holders.append((region[0], region[1], region[2], researcher))
    contacts = [authors[0]] + ([researcher] if researcher is not authors[0] else [])
    organs = [{"name": name, "sctid": ORGANS[name]} for name in bp.organs]
    keywords = [bp.subject, *(modality_name(m) for m in bp.modalities), *bp.organs]
    if bp.annotation:
        keywords.append("Annotated")
    if bp.origin == "Synthetic":
        keywords.append("Synthetic")
    if bp.origin == "Synthetic":
        provenance = (
            f"Generated at {holders[0][0]} in {created.year}. The images describe no real patient."
        )
    else:
        provenance = (
            f"Collected at {holders[-1][0]} between {created.year - rng.randint(2, 8)} "
            f"and {created.year}, de-identified and shared on the hub for research."
        )
    description = f"{scans:,} {_lower_first(bp.summary)}\n\n{provenance}"
    additional = ""
    if rng.random() < 0.5:
        scanners = ", ".join(SCANNERS[modality][:2])
        additional = (
            f"## Acquisition\n\nImages were acquired in clinical routine on "
            f"{scanners}. DICOM headers were de-identified with the hub's profile; "
            "dates are shifted per patient."
        )
    fields = {
        "title": bp.title,
        "description": description,
        "additional": additional,
        "subject": bp.subject,
        "origin": bp.origin,
        "status": "Ongoing" if bp.role == "draft" or rng.random() < 0.25 else "Complete",
        "url": f"{settings.BASE_URL}/{doi}",
        "copyright_year": published.year,
        "publisher": settings.HUB_NAME,
        "keywords": keywords,
        "organs": organs,
        "modalities": list(bp.modalities),
        "scanners": sorted(
            rng.sample(SCANNERS[modality], min(len(SCANNERS[modality]), rng.randint(1, 3)))
        ),
        "stain": bp.stain,
        "phase": bp.phase,
        "resolution": bp.resolution,
        "age_span": bp.age_span,
        "number_of_scans": scans,
        "number_of_annotations": annotations,
        "size_bytes": size,
        "annotation_description": bp.annotation,
        "countries_shared": rng.choice(COUNTRY_SETS),
        "date_created": created,
        "date_published": published,
        "date_modified": published,
        "synthetic": bp.origin == "Synthetic",
    }
    licenses = []
    for kind in bp.licenses or ("aida-by",):
        lic = {"kind": kind, "name": str(LicenseKind(kind).label)}
        if kind in {"aida-ca", "aida-by-ca"}:
            lic["review_date"] = published + dt.timedelta(days=365 * rng.choice([1, 2, 4]))
        if kind in {"aida-by", "aida-by-ca"} and rng.random() < 0.4:
            lic["acknowledgement"] = (
                f"Data was provided by {holders[0][0]} through the "
                f"{settings.CONSORTIUM_NAME} data hub."
            )
        if kind == "custom":
            lic["name"] = "Research use with review"
            lic["custom_text"] = CUSTOM_TERMS
        licenses.append(lic)
    what = f"{bp.organs[0].lower()} {modality_name(modality).lower()}"
    papers = [
        _paper(rng, authors, f"{bp.title}: a dataset for {what}", published.year)
        for _ in range(rng.choice([0, 1, 1, 2]))
    ]
    used_by = []
    if rng.random() < 0.3 or any(k == "aida-by-ca" for k in bp.licenses):
        for _ in range(rng.randint(1, 3)):
            year = min(published.year + rng.randint(1, 3), 2026)
            topic = rng.choice(USE_TOPICS).format(what=what)
            used_by.append(_paper(rng, _people(rng, rng.randint(3, 6), "uu"), topic, year))
    ethics = None
    if bp.origin == "Clinical" and rng.random() < 0.5:
        approved = created - dt.timedelta(days=rng.randint(200, 900))
        approved = max(approved, dt.date(2019, 1, 15))
        ethics = {
            "review_authority": "Swedish Ethical Review Authority",
            "diary_number": f"{approved.year}-{rng.randint(100, 99999):05d}",
            "approval_date": approved,
            "research_institution": university[0],
            "responsible_researcher": researcher.name,
            "sharing_sentences": (
                "Coded image data may be shared with researchers within the consortium for "
                "medical diagnostics research, provided that the data is de-identified and "
                "that an agreement including non-disclosure is in place."
            ),
        }
    images = []
    if with_images:
        images = example_images(doi, bp.image, rng.randint(1, 3), rng)
    return Spec(
        bp,
        doi,
        short_name,
        fields,
        authors,
        holders,
        contacts,
        licenses,
        papers,
        used_by,
        ethics,
        images,
    )


def _create_version(dataset: Dataset, spec: Spec, label: str) -> DatasetVersion:
    version = DatasetVersion.objects.create(
        dataset=dataset,
        version=label,
        doi=version_doi(dataset.concept_doi, label),
        image=spec.images[0]["thumbnail_url"] if spec.images else "",
        **spec.fields,
    )
    for n, person in enumerate(spec.authors):
        Author.objects.create(
            version=version,
            position=n,
            name=person.name,
            orcid=person.orcid,
            affiliation=spec.holders[0][0],
        )
    for n, (institution, url, _domain, person) in enumerate(spec.holders):
        CopyrightHolder.objects.create(
            version=version,
            position=n,
            institution=institution,
            institution_url=url,
            responsible_researcher=person.name,
            researcher_orcid=person.orcid,
        )
    for n, person in enumerate(spec.contacts):
        Contact.objects.create(
            version=version,
            position=n,
            name=person.name,
            email=person.email,
            identifier=person.orcid,
        )
    services.ensure_hub_contact(version)
    for n, image in enumerate(spec.images):
        ExampleImage.objects.create(version=version, position=n, **image)
    for n, lic in enumerate(spec.licenses):
        License.objects.create(
            version=version,
            position=n,
            identifier=f"{settings.BASE_URL}/{dataset.concept_doi}#"
            f"{lic['name'].lower().replace(' ', '-')}",
            **lic,
        )
    for n, paper in enumerate(spec.papers):
        Publication.objects.create(
            dataset=dataset,
            version=version,
            position=n,
            relation=PublicationRelation.DESCRIBES,
            **paper,
        )
    return version


def create_dataset(spec: Spec, *, priority: Priority | None = None) -> Dataset:
    """Create, publish and (as the blueprint says) version, withdraw or hide one dataset."""
    bp = spec.blueprint
    with transaction.atomic():
        dataset = Dataset.objects.create(
            concept_doi=spec.doi, short_name=spec.short_name, priority=priority
        )
        version = _create_version(dataset, spec, "1.0")
        if spec.ethics:
            EthicsApproval.objects.create(dataset=dataset, **spec.ethics)
        if bp.role == "draft":
            return dataset
        services.publish(dataset, version)
        if bp.role == "versions":
            _publish_second_version(dataset, spec)
        for paper in spec.used_by:
            services.record_use(dataset, paper["title"], doi=paper["doi"], year=paper["year"])
        if bp.role == "withdrawn":
            services.withdraw(
                dataset,
                WITHDRAWAL_REASONS.get(
                    bp.short, "Withdrawn at the request of the copyright holder."
                ),
            )
        if bp.role == "hidden":
            dataset.refresh_from_db()
            dataset.hidden = True
            dataset.save(update_fields=["hidden", "updated_at"])
    return dataset


def _publish_second_version(dataset: Dataset, spec: Spec) -> None:
    """Version 1.1 adds scans, as a dataset still being collected would."""
    dataset.refresh_from_db()
    draft = services.new_version(dataset, "1.1")
    first = dataset.latest_version
    extra_scans = max(10, (first.number_of_scans or 0) // 4)
    draft.number_of_scans = (first.number_of_scans or 0) + extra_scans
    draft.size_bytes = int(
        (first.size_bytes or 0) * draft.number_of_scans / max(1, first.number_of_scans or 1)
    )
    if first.number_of_annotations:
        draft.number_of_annotations = first.number_of_annotations + extra_scans
    modified = (first.date_published or dt.date(2024, 1, 1)) + dt.timedelta(days=200)
    draft.date_modified = draft.date_published = min(modified, dt.date(2026, 6, 1))
    draft.description += f"\n\nVersion 1.1 adds {extra_scans} scans collected since 1.0."
    draft.save()
    services.publish(dataset, draft)


# --- Priorities, staff login, records -------------------------------------------------------


def ensure_priority_lists() -> dict[tuple[int, int], Priority]:
    """The clinical council's lists, keyed (list index, number); created once."""
    out = {}
    for index, (approved_on, note, items) in enumerate(PRIORITY_LISTS):
        plist, created = PriorityList.objects.get_or_create(
            approved_on=approved_on, defaults={"note": note, "approved_by": "Clinical council"}
        )
        if created:
            for number, (title, description) in enumerate(items, start=1):
                Priority.objects.create(
                    priority_list=plist, number=number, title=title, description=description
                )
        for priority in plist.priorities.all():
            out[(index, priority.number)] = priority
    return out


def ensure_staff_login(write: Write) -> str:
    """Create the staff user once; the password is kept only in the login file.

    Staff sign in with their e-mail address, the password and a code from an
    authenticator app, so the user also gets a verified address and a TOTP secret, which
    is printed (from the database, on every run) for the person trying the demo to add to
    any authenticator app.
    """
    login_file = Path(settings.DATA_DIR) / DEMO_LOGIN_FILE
    user_model = get_user_model()
    user = user_model.objects.filter(username=DEMO_USERNAME).first()
    if user is not None and login_file.is_file():
        line = login_file.read_text(encoding="utf-8").strip()
        write(line)
        _ensure_staff_second_factor(user, write)
        return line
    if user is not None:
        line = (
            f"Staff user {DEMO_USERNAME} exists; its password is not in {DEMO_LOGIN_FILE}. "
            f"Set one with: aidahub manage changepassword {DEMO_USERNAME}"
        )
        write(line)
        _ensure_staff_second_factor(user, write)
        return line
    password = secrets.token_urlsafe(12)
    user = user_model.objects.create_superuser(
        DEMO_USERNAME,
        settings.DATA_DIRECTOR_EMAIL,
        password,
        first_name=settings.DATA_DIRECTOR_NAME,
    )
    line = f"Staff login: {DEMO_USERNAME} / {password} at {settings.BASE_URL}/admin/"
    login_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = login_file.with_name(f".{login_file.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(line + "\n")
    os.replace(tmp, login_file)
    write(line)
    _ensure_staff_second_factor(user, write)
    return line


def _ensure_staff_second_factor(user, write: Write) -> None:
    """A verified e-mail address and an authenticator app for the demo's staff user; what
    exists already is kept, so a second run changes nothing."""
    from aidahub.web.accounts import services as account_services
    from aidahub.web.accounts.totp import current_code

    email = user.email or settings.DATA_DIRECTOR_EMAIL
    account_services.add_verified_email(user, email)
    secret = account_services.activate_totp(user)
    write(f"  Sign in with the e-mail address {email} and that password.")
    write(f"  Two-factor secret: {secret} (use any TOTP app with this secret;")
    write(f"  the code right now is {current_code(secret)}, and it changes every 30 seconds).")


def import_example_records(write: Write) -> list:
    """Import the example records through the register importer (one line per record)."""
    from aidahub.web.register.importer import import_paths

    def on_result(result) -> None:
        write(
            f"{result.outcome}: {result.doi or result.source}"
            + (f" ({result.error})" if result.error else "")
        )
        if result.outcome in {"created", "updated"}:
            for warning in result.warnings:
                write(f"  warning: {warning}")

    paths = sorted(RECORDS_DIR.glob("*.md"))
    results = import_paths(paths, on_result=on_result).results
    from aidahub.web.register.models import DatasetVersion

    for result in results:
        if result.doi and result.version:
            version = DatasetVersion.objects.filter(
                dataset__concept_doi=result.doi, version=result.version
            ).first()
            if version is not None:
                draw_legacy_assets(version)
    return results


# --- Entry points ---------------------------------------------------------------------------


@dataclass
class DemoSummary:
    created: int
    existing: int
    login: str


def demo_doi(bp: Blueprint) -> str:
    slug = bp.short.lower()
    return f"{settings.DOI_PREFIX}/{settings.CONSORTIUM_NAME.lower()}/{slug}"


def load_demo(write: Write = print) -> DemoSummary:
    """Load the demo register; a second run finds everything present and changes nothing."""
    import_example_records(write)
    priorities = ensure_priority_lists()
    created = existing = 0
    for bp in CATALOGUE:
        doi = demo_doi(bp)
        if Dataset.objects.filter(concept_doi=doi).exists():
            existing += 1
            continue
        spec = build_spec(bp, doi=doi, short_name=bp.short, seed=DEMO_SEED)
        # Older datasets serve the first list's priorities, newer ones the current list's.
        list_index = 0 if spec.fields["date_published"] < PRIORITY_LISTS[1][0] else 1
        priority = None
        if bp.priority:
            priority = priorities.get((list_index, bp.priority)) or priorities.get((1, bp.priority))
        create_dataset(spec, priority=priority)
        created += 1
    write(f"Demo register: {created} datasets created, {existing} already present.")
    login = ensure_staff_login(write)
    return DemoSummary(created, existing, login)


def bulk_doi(n: int, seed: int = 1) -> str:
    """The concept DOI ``make_bulk`` gives its *n*-th dataset."""
    short = CATALOGUE[n % len(CATALOGUE)].short.lower()
    return f"{settings.DOI_PREFIX}/bulk/{short}-{seed}-{n}"


def make_bulk(count: int, seed: int = 1) -> int:
    """Create *count* published invented datasets quickly (for the benchmark).

    They share one set of example images and skip versions, withdrawals and ethics records,
    so the landing pages look like the demo's. Returns how many were created.
    """
    shared = {
        kind: example_images(
            f"{settings.DOI_PREFIX}/bulk-images/{kind}", kind, 1, random.Random(kind)
        )
        for kind in {bp.image for bp in CATALOGUE}
    }
    made = 0
    with transaction.atomic():
        for n in range(count):
            bp = CATALOGUE[n % len(CATALOGUE)]
            doi = bulk_doi(n, seed)
            if Dataset.objects.filter(concept_doi=doi).exists():
                continue
            spec = build_spec(
                bp, doi=doi, short_name=f"{bp.short}-{n}", seed=seed, with_images=False
            )
            spec.images = shared[bp.image]
            spec.ethics = None
            spec.blueprint = dataclasses.replace(bp, role="")
            create_dataset(spec)
            made += 1
    return made
