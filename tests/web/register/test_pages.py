"""The register's pages as a visitor reads them: list, landing, metrics, priorities."""

import datetime as dt
import html
import re

import pytest
from django.test import Client

from aidahub.web.register import licenses, services, views
from aidahub.web.register.models import (
    Contact,
    DatasetVersion,
    EthicsApproval,
    ExampleImage,
    License,
    Priority,
    PriorityList,
    Publication,
)
from tests.factories import make_dataset


def text_of(response) -> str:
    """The page as text a reader sees: tags removed, entities decoded, spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(body).split())


def _publish(dataset, version=None):
    version = version or dataset.versions.get()
    services.publish(dataset, version)
    dataset.refresh_from_db()
    return dataset


# -- home, navigation, errors ----------------------------------------------------------------


@pytest.mark.django_db
def test_home_page_says_what_the_hub_is_and_counts_the_register():
    make_dataset(size_bytes=2_000_000_000, number_of_scans=10)
    make_dataset(size_bytes=1_000_000_000, number_of_scans=5, hidden=True)
    page = text_of(Client().get("/"))
    assert "anonymized medical imaging data" in page
    assert "Datasets 1" in page and "2.0 GB" in page and "Scans 10" in page


@pytest.mark.django_db
def test_the_admin_link_is_shown_to_staff_only(staff_client):
    assert 'href="/admin/"' not in Client().get("/datasets/").content.decode()
    assert 'href="/admin/"' in staff_client.get("/datasets/").content.decode()


@pytest.mark.django_db
def test_an_unknown_address_gets_the_readable_not_found_page():
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    page = text_of(response)
    assert "Error 404" in page and "Not found" in page
    assert 'href="/"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/10.5072/a//b", "/10.5072/..", "/10.5072/%3Cx%3E"])
def test_a_doi_that_is_not_a_doi_is_refused_with_a_clear_message(path):
    response = Client().get(path)
    assert response.status_code == 404
    assert "Not a DOI" in text_of(response) and "is not a DOI" in text_of(response)


@pytest.mark.django_db
def test_a_trailing_slash_after_a_doi_redirects_to_the_landing_page():
    dataset = make_dataset()
    response = Client().get(f"/{dataset.concept_doi}/")
    assert response.status_code == 301 and response["Location"] == f"/{dataset.concept_doi}"


# -- the register list -----------------------------------------------------------------------


@pytest.fixture
def three(db):
    make_dataset(
        short_name="BBB",
        title="Beta title",
        size_bytes=3_000,
        date_published=dt.date(2021, 1, 1),
        modalities=["MR"],
        organs=[{"name": "Brain"}],
    )
    make_dataset(
        short_name="AAA",
        title="Gamma title",
        size_bytes=2_000_000,
        date_published=dt.date(2023, 1, 1),
        subject="Pathology",
        modalities=["SM"],
        organs=[{"name": "Breast"}],
        licenses=("aida-ca",),
    )
    make_dataset(
        short_name="CCC",
        title="Alpha title",
        size_bytes=None,
        date_published=dt.date(2022, 1, 1),
        modalities=["CT", "PT"],
        organs=[{"name": "Lung"}, {"name": "Liver"}],
    )


def _order(response) -> list[str]:
    return re.findall(
        r'<td><a href="/10\.5072/[^"]+">([A-Z]{3})</a></td>', response.content.decode()
    )


def test_the_list_shows_todays_columns(three):
    response = Client().get("/datasets/")
    page = text_of(response)
    for header in ("Short name", "Field", "Origin", "Modality", "Date", "Size", "Organ", "Title"):
        assert header in page
    assert "AAA Pathology Clinical SM 2023-01-01 2.0 MB Breast Gamma title" in page
    assert "CCC Radiology Clinical CT, PT 2022-01-01 Lung, Liver Alpha title" in page
    assert "3 datasets" in page


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("", ["AAA", "BBB", "CCC"]),
        ("name", ["AAA", "BBB", "CCC"]),
        ("-name", ["CCC", "BBB", "AAA"]),
        ("title", ["CCC", "BBB", "AAA"]),
        ("date", ["BBB", "CCC", "AAA"]),
        ("-date", ["AAA", "CCC", "BBB"]),
        ("size", ["BBB", "AAA", "CCC"]),  # unknown sizes last either way
        ("-size", ["AAA", "BBB", "CCC"]),
        ("subject", ["AAA", "BBB", "CCC"]),
        ("modality", ["CCC", "BBB", "AAA"]),
        ("organ", ["BBB", "AAA", "CCC"]),
        ("nonsense", ["AAA", "BBB", "CCC"]),
    ],
)
def test_sorting_by_any_column(three, sort, order):
    assert _order(Client().get("/datasets/", {"sort": sort} if sort else {})) == order


def test_a_column_header_sorts_then_reverses(three):
    page = Client().get("/datasets/", {"sort": "size"}).content.decode()
    assert 'aria-sort="ascending"' in page
    assert 'href="/datasets/?sort=-size"' in page
    assert 'href="/datasets/?sort=date"' in page
    page = Client().get("/datasets/", {"sort": "-size"}).content.decode()
    assert 'aria-sort="descending"' in page and 'href="/datasets/?sort=size"' in page


def test_pagination(three, monkeypatch):
    monkeypatch.setattr(views, "PER_PAGE", 2)
    first = Client().get("/datasets/", {"sort": "-name"})
    assert _order(first) == ["CCC", "BBB"]
    assert 'href="/datasets/?sort=-name&amp;page=2"' in first.content.decode()
    assert _order(Client().get("/datasets/", {"sort": "-name", "page": 2})) == ["AAA"]
    assert _order(Client().get("/datasets/", {"page": 99})) == ["CCC"]
    assert _order(Client().get("/datasets/", {"page": "x"})) == ["AAA", "BBB"]


def test_facets_count_and_add_a_term_to_the_search(three):
    response = Client().get("/datasets/")
    page = response.content.decode()
    assert re.search(
        r'href="/datasets/\?q=subject%3ARadiology">Radiology</a> '
        r'<span class="count">2</span>',
        page,
    )
    assert re.search(r'>CT \(Computed tomography\)</a> <span class="count">1</span>', page)
    assert re.search(r'>AIDA CA license</a> <span class="count">1</span>', page)
    narrowed = Client().get("/datasets/", {"q": "subject:Radiology"})
    assert _order(narrowed) == ["BBB", "CCC"]
    # Within the narrowed list the facet is active, and its link removes the term again.
    assert re.search(
        r'<li class="active"><a href="/datasets/\?q=" aria-current="true"',
        narrowed.content.decode(),
    )
    refined = Client().get("/datasets/", {"q": "subject:Radiology organ:lung"})
    assert _order(refined) == ["CCC"]


def test_facet_counts_follow_the_search(three):
    page = Client().get("/datasets/", {"q": "organ:breast"}).content.decode()
    assert "Radiology</a>" not in page
    assert re.search(r'>Pathology</a> <span class="count">1</span>', page)


# -- the landing page ------------------------------------------------------------------------


@pytest.fixture
def full(db, settings):
    """A dataset with every field filled in, sample images, papers and an ethics approval."""
    dataset = make_dataset(
        published=False,
        short_name="FULL",
        title="Complete example dataset",
        description="Some **bold** words.",
        additional="## Acquisition\n\nDone {{ page.x }}.",
        subject="Radiology",
        origin="Clinical",
        status="Ongoing",
        copyright_year=2023,
        publisher="Example Data Hub",
        keywords=["Lung", "Nodule"],
        modalities=["CT", "ZZTOP"],
        organs=[{"name": "Lung", "sctid": "39607008"}, {"name": "Pleura"}],
        scanners=["Vendor X 64", "Vendor Y"],
        stain="H&E",
        phase="Arterial",
        resolution="0.5 mm",
        age_span="18-90",
        number_of_scans=1234,
        number_of_annotations=567,
        size_bytes=96_000_000_000,
        annotation_description="Nodules outlined by two radiologists.",
        case_level_annotations="Malignant or benign",
        countries_shared=["SE", "NO", "XX"],
        date_created=dt.date(2023, 1, 2),
        date_published=dt.date(2023, 2, 3),
        date_modified=dt.date(2023, 4, 5),
        synthetic=True,
    )
    version = dataset.versions.get()
    image_dir = settings.MEDIA_ROOT / "register" / "full"
    image_dir.mkdir(parents=True)
    (image_dir / "one.jpg").write_bytes(b"\xff\xd8\xff")
    (image_dir / "one-thumb.jpg").write_bytes(b"\xff\xd8\xff")
    ExampleImage.objects.create(
        version=version,
        position=0,
        caption="Axial slice",
        url="/media/register/full/one.jpg",
        thumbnail_url="/media/register/full/one-thumb.jpg",
    )
    ExampleImage.objects.create(
        version=version, position=1, caption="File is gone", url="/media/register/full/missing.jpg"
    )
    ExampleImage.objects.create(version=version, position=2, caption="", url="")
    Publication.objects.create(
        dataset=dataset,
        version=version,
        relation="describes",
        title="Describing paper (2023)",
        doi="10.1234/describes",
    )
    Publication.objects.create(
        dataset=dataset,
        relation="uses",
        title="Paper that used it",
        url="https://journal.example.org/used",
    )
    EthicsApproval.objects.create(
        dataset=dataset,
        diary_number="Dnr 2023-01234-01",
        approval_date=dt.date(2022, 12, 1),
        research_institution="Example University",
        responsible_researcher="Astrid Example",
        sharing_sentences="Data may be shared with other researchers.",
    )
    version.repairs = [
        {
            "field": "dateModified",
            "raw": "2023-04-00",
            "repaired": "2023-04-05",
            "message": "impossible date",
        }
    ]
    version.save()
    return _publish(dataset)


def test_landing_page_shows_every_field(full):
    response = Client().get(f"/{full.concept_doi}")
    assert response.status_code == 200
    page = text_of(response)
    body = response.content.decode()
    for expected in (
        "Complete example dataset",
        f"DOI: https://doi.org/{full.concept_doi}",
        "Field Radiology",
        "Origin Clinical",
        "Status Ongoing",
        "Version 1.0 (latest)",
        "Authors Astrid Example ORCID Bertil Placeholder",
        "Copyright 2023 Example University, represented by Astrid Example",
        "Publisher Example Data Hub",
        "Keywords Lung Nodule",
        "Organs Lung SCTID 39607008 Pleura",
        "CT Computed tomography",
        "ZZTOP",
        "Scanners Vendor X 64, Vendor Y",
        "Stain H&E",
        "Contrast phase Arterial",
        "Resolution 0.5 mm",
        "Age span 18-90",
        "Number of scans 1,234",
        "Number of annotations 567",
        "Size 96 GB (96,000,000,000 bytes)",
        "Annotation Nodules outlined by two radiologists.",
        "Case-level annotations Malignant or benign",
        "Countries shared with Sweden, Norway, XX",
        "Created 2023-01-02",
        "Published 2023-02-03",
        "Modified 2023-04-05",
        "Synthetic data Yes",
        "Acquisition Done .",
    ):
        assert expected in page, expected
    assert "<strong>bold</strong>" in body
    assert 'href="https://orcid.org/0000-0002-1825-0097"' in body
    assert "conceptId1=39607008" in body
    assert f'href="https://doi.org/{full.concept_doi}"' in body


def test_landing_page_cites_and_gives_bibtex(full):
    page = text_of(Client().get(f"/{full.concept_doi}"))
    assert (
        "Cite as Astrid Example and Bertil Placeholder (2023). Complete example dataset "
        "(Version 1.0) [Data set]. Example Data Hub. "
        f"https://doi.org/{full.concept_doi}"
    ) in page
    assert "@misc{Example2023FULL," in page and f"doi = {{{full.concept_doi}}}" in page


def test_sample_images_link_to_the_full_image_and_missing_ones_show_a_placeholder(full):
    body = Client().get(f"/{full.concept_doi}").content.decode()
    assert (
        '<a href="/media/register/full/one.jpg"><img src="/media/register/full/one-thumb.jpg"'
        ' alt="Axial slice"'
    ) in body
    assert "<figcaption>Axial slice</figcaption>" in body
    assert body.count('class="image-placeholder"') == 2
    assert 'aria-label="File is gone"' in body
    assert 'aria-label="Example image 3 of Complete example dataset"' in body
    assert "missing.jpg" not in body


def test_publications_contacts_and_access(full):
    response = Client().get(f"/{full.concept_doi}")
    page, body = text_of(response), response.content.decode()
    assert "Describing this dataset Describing paper (2023)" in page
    assert 'href="https://doi.org/10.1234/describes"' in body
    assert "Using this dataset Paper that used it" in page
    assert 'href="mailto:astrid@university.example.org"' in body
    assert "How to get access" in page and "Members of AIDA" in page
    assert "Researchers elsewhere" in page
    assert "Controlled access." not in page


def test_staff_see_ethics_warnings_repairs_and_an_edit_link(full, staff_client):
    public = text_of(Client().get(f"/{full.concept_doi}"))
    for secret in (
        "Dnr 2023-01234-01",
        "Data may be shared with other researchers",
        "impossible date",
        "For staff",
    ):
        assert secret not in public
    response = staff_client.get(f"/{full.concept_doi}")
    staff = text_of(response)
    assert "Diary number Dnr 2023-01234-01" in staff
    assert "Data may be shared with other researchers." in staff
    assert "dateModified 2023-04-00 2023-04-05 impossible date" in staff
    assert f'href="/admin/register/dataset/{full.pk}/change/"' in response.content.decode()


@pytest.mark.django_db
def test_staff_see_license_and_contact_warnings(staff_client):
    dataset = make_dataset(published=False, licenses=("aida-ca",))
    version = dataset.versions.get()
    License.objects.filter(version=version).update(review_date=dt.date(2020, 1, 1))
    Contact.objects.create(version=version, position=5, name="No Mail")
    _publish(dataset)
    staff = text_of(staff_client.get(f"/{dataset.concept_doi}"))
    assert "was due for review on 2020-01-01" in staff
    assert "contacts without e-mail: No Mail" in staff
    assert "No ethics approval is recorded" in staff
    assert "was due for review" not in text_of(Client().get(f"/{dataset.concept_doi}"))


@pytest.mark.django_db
def test_every_license_type_is_shown_in_full():
    dataset = make_dataset(
        published=False,
        copyright_year=2022,
        licenses=("aida-by", "aida", "aida-ca", "aida-by-ca", "controlled-access", "custom"),
    )
    version = dataset.versions.get()
    License.objects.filter(version=version, kind="aida-by").update(
        acknowledgement="Data from the Example project."
    )
    License.objects.filter(version=version, kind="aida-by-ca").update(coauthors="Astrid Example")
    License.objects.filter(version=version, kind="custom").update(
        custom_text="Use only on Tuesdays."
    )
    Publication.objects.create(
        dataset=dataset,
        version=version,
        relation="describes",
        title="Example A. A describing paper. 2022.",
        doi="10.1234/p",
    )
    _publish(dataset)
    response = Client().get(f"/{dataset.concept_doi}")
    body, page = response.content.decode(), text_of(response)
    for anchor in (
        "aida-by-license",
        "aida-license",
        "aida-ca-license",
        "aida-by-ca-license",
        "controlled-access",
        "custom-terms",
    ):
        assert f'id="{anchor}"' in body
    sections = {
        m[0]: text_of_fragment(m[1])
        for m in re.findall(
            r'<section class="license" id="([^"]+)">(.*?)</section>', body, re.DOTALL
        )
    }
    citation = (
        f"Astrid Example and Bertil Placeholder (2024) Chest CT with annotated nodules. "
        f"doi:{dataset.concept_doi}"
    )
    by = sections["aida-by-license"]
    assert "Copyright 2022 Example University" in by
    assert "for the purpose of medical diagnostics research" in by
    assert "acknowledgement text “Data from the Example project.”" in by
    assert citation in by and "A describing paper. 2022. doi:10.1234/p" in by
    assert "DISCLAIMS ALL WARRANTIES" in by
    plain = sections["aida-license"]
    assert "Copyright 2022 Example University" in plain and "cite" not in plain
    assert (
        "include the authors of this dataset Astrid Example and Bertil Placeholder in the "
        "author list"
    ) in sections["aida-ca-license"]
    by_ca = sections["aida-by-ca-license"]
    assert "include the authors of this dataset Astrid Example in the author list" in by_ca
    assert citation in by_ca
    assert (
        "Free for use in legal and ethical medical diagnostics research"
        in sections["controlled-access"]
    )
    assert "Use only on Tuesdays." in sections["custom-terms"]
    assert "Controlled access." in page
    assert "asks for co-authorship" in page


def text_of_fragment(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@pytest.mark.django_db
def test_published_terms_never_change_but_a_draft_shows_the_new_templates(
    monkeypatch, staff_client
):
    dataset = make_dataset(licenses=("aida-by",))
    monkeypatch.setattr(licenses, "DISCLAIMER", "A REWORDED DISCLAIMER.")
    published = text_of(Client().get(f"/{dataset.concept_doi}"))
    assert "DISCLAIMS ALL WARRANTIES" in published
    assert "A REWORDED DISCLAIMER." not in published

    draft = services.new_version(dataset, "2.0")
    preview = text_of(staff_client.get(f"/{draft.doi}"))
    assert "A REWORDED DISCLAIMER." in preview
    assert "DISCLAIMS ALL WARRANTIES" not in preview
    # The published version still reads as granted, for staff too.
    assert "DISCLAIMS ALL WARRANTIES" in text_of(staff_client.get(f"/{dataset.concept_doi}"))


@pytest.mark.django_db
def test_a_version_page_says_which_version_is_latest_and_links_every_version():
    dataset = make_dataset(title="First")
    first = dataset.latest_version
    draft = services.new_version(dataset, "2.0")
    DatasetVersion.objects.filter(pk=draft.pk).update(title="Second")
    _publish(dataset, DatasetVersion.objects.get(pk=draft.pk))

    response = Client().get(f"/{first.doi}")
    page, body = text_of(response), response.content.decode()
    assert "First" in page and "This is not the latest version." in page
    assert f'href="/{draft.doi}"' in body and f'href="/{first.doi}"' in body
    assert f"DOI: https://doi.org/{first.doi}" in page
    latest = text_of(Client().get(f"/{dataset.concept_doi}"))
    assert "Second" in latest and "This is not the latest version." not in latest


@pytest.mark.django_db
def test_a_hidden_dataset_is_a_preview_for_staff(staff_client):
    dataset = make_dataset(hidden=True)
    page = text_of(staff_client.get(f"/{dataset.concept_doi}"))
    assert "Preview: hidden from the public register." in page


@pytest.mark.django_db
def test_a_withdrawn_dataset_is_a_tombstone():
    dataset = make_dataset(title="Withdrawn set", description="Secret description words")
    services.withdraw(dataset, "Patients withdrew consent.")
    response = Client().get(f"/{dataset.concept_doi}")
    assert response.status_code == 410
    page = text_of(response)
    assert "Withdrawn set" in page and f"https://doi.org/{dataset.concept_doi}" in page
    assert "Patients withdrew consent." in page
    assert "Cite as Astrid Example and Bertil Placeholder (2024). Withdrawn set" in page
    for gone in (
        "Secret description words",
        "Permission to use",
        "astrid@university",
        "How to get access",
    ):
        assert gone not in page


@pytest.mark.django_db
def test_unknown_modalities_and_odd_values_never_break_the_page():
    dataset = make_dataset(
        modalities=["Synthetic CT", "", None],
        organs=["Head", {}],
        keywords="Radiology, Head",
        scanners="Scanner A",
        countries_shared="SE, NO",
        image="javascript:alert(1)",
    )
    response = Client().get(f"/{dataset.concept_doi}")
    assert response.status_code == 200
    page = text_of(response)
    assert "Synthetic CT" in page and "Keywords Radiology Head" in page
    assert "Scanners Scanner A" in page and "Countries shared with Sweden, Norway" in page
    assert "javascript:" not in response.content.decode()
    assert Client().get("/datasets/").status_code == 200
    assert Client().get("/metrics/").status_code == 200


@pytest.mark.django_db
def test_a_huge_value_is_shown_and_the_stylesheet_breaks_long_words():
    dataset = make_dataset(title="X" * 490, description="Y" * 100_000)
    response = Client().get(f"/{dataset.concept_doi}")
    assert response.status_code == 200 and "X" * 490 in response.content.decode()
    assert '<link rel="stylesheet" href="/static/core/hub.css">' in response.content.decode()
    from django.contrib.staticfiles import finders

    with open(finders.find("core/hub.css"), encoding="utf-8") as css:
        assert "overflow-wrap: anywhere" in css.read()


# -- caching ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_change_shows_at_once_on_cached_pages():
    dataset = make_dataset(short_name="BEFORE")
    client = Client()
    assert "BEFORE" in client.get("/datasets/").content.decode()
    assert "BEFORE" in client.get(f"/{dataset.concept_doi}").content.decode()
    dataset.short_name = "AFTER"
    dataset.save()
    assert "AFTER" in client.get("/datasets/").content.decode()
    assert "AFTER" in client.get(f"/{dataset.concept_doi}").content.decode()
    services.withdraw(dataset, "Gone")
    assert client.get(f"/{dataset.concept_doi}").status_code == 410
    assert "AFTER" not in client.get("/datasets/").content.decode()


@pytest.mark.django_db
def test_anonymous_pages_come_from_the_cache(django_assert_max_num_queries):
    dataset = make_dataset()
    client = Client()
    first = client.get(f"/{dataset.concept_doi}").content
    client.get("/datasets/", {"q": "chest"})
    # One query per request: the register generation, nothing else.
    with django_assert_max_num_queries(2):
        assert client.get(f"/{dataset.concept_doi}").content == first
        assert "Chest CT" in client.get("/datasets/", {"q": "chest"}).content.decode()
    assert "Chest CT" in client.get("/datasets/").content.decode()


@pytest.mark.django_db
def test_staff_pages_are_never_cached(staff_client):
    dataset = make_dataset()
    assert "For staff" not in Client().get(f"/{dataset.concept_doi}").content.decode()
    assert "For staff" in staff_client.get(f"/{dataset.concept_doi}").content.decode()
    assert "For staff" not in Client().get(f"/{dataset.concept_doi}").content.decode()


# -- metrics and priorities ------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_totals_per_subject_and_charts():
    make_dataset(
        subject="Radiology",
        size_bytes=1_000_000_000,
        number_of_scans=10,
        number_of_annotations=4,
        modalities=["CT", "PT"],
        countries_shared=["SE"],
    )
    make_dataset(
        subject="Radiology",
        size_bytes=500_000_000,
        number_of_scans=5,
        modalities=["CT"],
        organs=[{"name": "Brain"}],
    )
    make_dataset(
        subject="Pathology",
        size_bytes=2_000_000_000,
        number_of_scans=1,
        number_of_annotations=100,
        modalities=["SM"],
        countries_shared=["SE", "NO"],
    )
    make_dataset(subject="Cardiology", hidden=True, modalities=["ECG"], size_bytes=10**15)
    response = Client().get("/metrics/")
    page, body = text_of(response), response.content.decode()
    assert "Datasets 3" in page and "Data shared 3.5 GB" in page
    assert "Scans 16" in page and "Annotations 104" in page
    assert "Radiology 2 1.5 GB 15 4" in page and "Pathology 1 2.0 GB 1 100" in page
    assert "Cardiology" not in page and "ECG" not in page
    assert body.count('role="img"') == 4
    assert '<title id="chart-datasets-per-modality-title">Datasets per modality</title>' in body
    assert "CT (Computed tomography): 2" in page and "Sweden: 2" in page and "Norway: 1" in page
    assert "Lung: 2" in page and "Brain: 1" in page


@pytest.mark.django_db
def test_priorities_current_list_with_datasets_and_history():
    old = PriorityList.objects.create(approved_on=dt.date(2022, 5, 1))
    Priority.objects.create(priority_list=old, number=1, title="Old first priority")
    current = PriorityList.objects.create(approved_on=dt.date(2024, 6, 1))
    stroke = Priority.objects.create(priority_list=current, number=1, title="Stroke CT")
    Priority.objects.create(priority_list=current, number=2, title="Prostate MR")
    linked = make_dataset(title="Stroke dataset")
    linked.priority = stroke
    linked.save()
    hidden = make_dataset(title="Hidden stroke dataset", hidden=True)
    hidden.priority = stroke
    hidden.save()
    response = Client().get("/priorities/")
    page, body = text_of(response), response.content.decode()
    assert "Current priorities, approved 2024-06-01" in page
    assert page.index("Stroke CT") < page.index("Prostate MR") < page.index("Earlier lists")
    assert "Stroke dataset" in page and "Hidden stroke dataset" not in page
    assert f'href="/{linked.concept_doi}"' in body
    assert 'value="1"' in body and 'value="2"' in body
    assert page.index("Earlier lists") < page.index("Approved 2022-05-01")
    assert "Old first priority" in page
