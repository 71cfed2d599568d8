"""HTML and scripts in any text field are shown as text on every page and in the API."""

import datetime as dt
import json
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client

from aidahub.web.register import services
from aidahub.web.register.models import (
    Author,
    Contact,
    CopyrightHolder,
    EthicsApproval,
    ExampleImage,
    License,
    Priority,
    PriorityList,
    Publication,
)
from tests.factories import make_dataset

EVIL = (
    "<script>alert(1)</script><img src=x onerror=alert(2)>\"'><svg onload=alert(3)>"
    '[click](javascript:alert(4)) <a href="javascript:alert(5)">x</a>'
)
EVIL_URL = 'javascript:alert(6)" onmouseover="alert(7)'


class _Markup(HTMLParser):
    """Collects every piece of markup that could run a script."""

    def __init__(self):
        super().__init__()
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "iframe", "object", "embed"}:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in {"href", "src", "action", "formaction"} and (
                value or ""
            ).strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                self.problems.append(f"<{tag} {name}={value!r}>")


_JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def assert_inert(content: bytes, where: str) -> None:
    text = content.decode()
    # The one script element allowed: schema.org JSON-LD, data that no browser runs, which
    # must parse as JSON and hold no "<" that could end the element early.
    for data in _JSON_LD.findall(text):
        assert "<" not in data, where
        json.loads(data)
    text = _JSON_LD.sub("", text)
    assert "<script" not in text.lower(), where
    checker = _Markup()
    checker.feed(text)
    assert not checker.problems, f"{where}: {checker.problems}"


def _fit(model, name: str, value: str = EVIL) -> str:
    """*value* cut to the column's length, so PostgreSQL stores it too."""
    return value[: model._meta.get_field(name).max_length or None]


def _create(model, **values):
    fitted = {k: _fit(model, k, v) if isinstance(v, str) else v for k, v in values.items()}
    return model.objects.create(**fitted)


def _plant(dataset, version):
    for name in (
        "title",
        "description",
        "additional",
        "subject",
        "origin",
        "status",
        "publisher",
        "stain",
        "phase",
        "resolution",
        "annotation_description",
        "case_level_annotations",
    ):
        setattr(version, name, _fit(type(version), name))
    version.age_span = _fit(type(version), "age_span")
    version.keywords = [EVIL, "CT"]
    version.organs = [{"name": EVIL, "sctid": EVIL}]
    version.modalities = [EVIL[:40], "CT"]
    version.scanners = [EVIL]
    version.countries_shared = [EVIL, "SE"]
    version.image = EVIL_URL
    version.repairs = [{"field": EVIL, "raw": EVIL, "repaired": EVIL, "why": EVIL}]
    version.save()
    _create(Author, version=version, position=2, name=EVIL, orcid=EVIL_URL)
    _create(
        CopyrightHolder,
        version=version,
        position=1,
        institution=EVIL,
        institution_url=EVIL_URL,
        responsible_researcher=EVIL,
        researcher_orcid=EVIL,
    )
    _create(Contact, version=version, position=3, name=EVIL, email=EVIL[:200], identifier=EVIL_URL)
    _create(
        ExampleImage,
        version=version,
        position=0,
        caption=EVIL,
        url=EVIL_URL,
        thumbnail_url=EVIL_URL,
    )
    _create(
        ExampleImage,
        version=version,
        position=1,
        caption=EVIL,
        url='https://images.example.org/a.jpg" onerror="alert(8)',
    )
    for kind in ("aida-by", "aida-ca", "custom"):
        _create(
            License,
            version=version,
            position=5,
            kind=kind,
            name=EVIL[:200],
            identifier=EVIL_URL,
            abstract=EVIL,
            acknowledgement=EVIL,
            coauthors=EVIL[:200],
            custom_text=EVIL,
        )
    _create(
        Publication,
        dataset=dataset,
        version=version,
        relation="describes",
        title=EVIL,
        url=EVIL_URL,
    )
    _create(Publication, dataset=dataset, relation="uses", title=EVIL, doi=EVIL[:200])
    _create(
        EthicsApproval,
        dataset=dataset,
        diary_number=EVIL[:100],
        approval_date=dt.date(2024, 1, 1),
        review_authority=EVIL[:300],
        research_institution=EVIL[:300],
        responsible_researcher=EVIL[:300],
        sharing_sentences=EVIL,
    )
    plist = _create(
        PriorityList, approved_on=dt.date(2024, 1, 1), approved_by=EVIL[:200], note=EVIL
    )
    dataset.priority = _create(
        Priority, priority_list=plist, number=1, title=EVIL, description=EVIL
    )
    dataset.save()


@pytest.fixture
def hostile(db):
    dataset = make_dataset(published=False, short_name=EVIL[:60])
    version = dataset.versions.get()
    _plant(dataset, version)
    services.publish(dataset, version)
    dataset.refresh_from_db()
    hidden = make_dataset(published=False, short_name=EVIL[:60], hidden=True)
    _plant(hidden, hidden.versions.get())
    services.publish(hidden, hidden.versions.get())
    hidden.refresh_from_db()
    return dataset, hidden


def _urls(dataset, hidden):
    return [
        "/",
        "/datasets/",
        "/datasets/?q=" + EVIL,
        "/datasets/?q=title:" + EVIL + "&sort=" + EVIL,
        "/datasets/?sort=-title&page=" + EVIL,
        f"/{dataset.concept_doi}",
        f"/{dataset.latest_version.doi}",
        f"/{hidden.concept_doi}",
        "/metrics/",
        "/priorities/",
        "/api/",
        "/10.5072/" + EVIL,
        "/" + EVIL,
    ]


@pytest.mark.parametrize("role", ["anonymous", "staff"])
def test_no_page_lets_markup_through(hostile, role, staff_user):
    client = Client()
    if role == "staff":
        client.force_login(staff_user)
    dataset, hidden = hostile
    for url in _urls(dataset, hidden):
        response = client.get(url)
        assert response.status_code in {200, 404}, url
        assert_inert(response.content, url)
    # The hostile text is there, as text: it was escaped, not dropped.
    landing = client.get(f"/{dataset.concept_doi}").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in landing


def test_the_staff_panel_and_the_tombstone_let_no_markup_through(hostile, staff_client):
    dataset, _hidden = hostile
    staff = staff_client.get(f"/{dataset.concept_doi}")
    assert "For staff" in staff.content.decode()
    assert_inert(staff.content, "staff landing")
    services.withdraw(dataset, EVIL)
    for client in (Client(), staff_client):
        response = client.get(f"/{dataset.concept_doi}")
        assert response.status_code == 410
        assert_inert(response.content, "tombstone")


def test_the_api_never_holds_markup(hostile):
    dataset, _hidden = hostile
    for url in (
        "/api/1.0/metadata.json",
        f"/api/1.0/datasets/{dataset.concept_doi}.json",
        "/api/1.0/datasets/10.5072/" + EVIL + ".json",
    ):
        response = Client().get(url)
        body = response.content.decode()
        assert "<" not in body and ">" not in body, url
        json.loads(body)
    data = json.loads(Client().get(f"/api/1.0/datasets/{dataset.concept_doi}.json").content)
    assert data["datacite"]["description"] == EVIL


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values = []

    def handle_starttag(self, tag, attrs):
        self.values += [value or "" for name, value in attrs if name in {"href", "src"}]


def test_a_hostile_url_is_never_a_link_or_a_source(hostile):
    dataset, _hidden = hostile
    links = _Links()
    links.feed(Client().get(f"/{dataset.concept_doi}").content.decode())
    assert links.values
    # Links within the page (#license-name, also written out in full as the signposting
    # license links are) may spell anything; they never leave it.
    page = f"{settings.BASE_URL}/{dataset.concept_doi}"
    outbound = [v for v in links.values if v.partition("#")[0] not in ("", page)]
    assert not [v for v in outbound if "javascript" in v.lower() or "alert" in v]
    assert 'class="image-placeholder"' in Client().get(f"/{dataset.concept_doi}").content.decode()
