"""`aidahub register import`: the example records, each quirk of real records, bad input."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import strategies as st

import aidahub.web.register
from aidahub.cli import main
from aidahub.web.audit.models import AuditEvent
from aidahub.web.register.importer import import_paths, import_text, neutralize
from aidahub.web.register.models import (
    Dataset,
    DatasetState,
    DatasetVersion,
    License,
    PublicationRelation,
    VersionState,
)
from aidahub.web.register.records import body_for
from tests.factories import make_dataset

DEMO = Path(aidahub.web.register.__file__).parent / "fixtures" / "records"
RECORDS = Path(__file__).parent / "records"
SWFR = "10.5072/example/swfr"
SYNBRAIN = "10.5072/example/synbrain"


def run_import(*paths, quiet: bool = False) -> tuple[int, str]:
    """Run the command as the CLI does; return (exit status, printed text)."""
    out = io.StringIO()
    args = [str(p) for p in paths] + (["--quiet"] if quiet else [])
    try:
        call_command("import_register", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def latest(doi: str) -> DatasetVersion:
    return Dataset.objects.get(concept_doi=doi).latest_version


def record(
    *,
    doi: str = "10.5072/test/rec",
    version: str = "1.0",
    datacite: str = "",
    other: str = "",
    top: str = "",
    body: str = "",
    name: str = "Test record",
) -> str:
    """A small record in today's format; extra lines are indented by the caller's text."""
    return (
        f"---\n{top}datacite:\n"
        f'  "@id": "https://doi.org/{doi}"\n'
        f'  name: "{name}"\n'
        f'  version: "{version}"\n'
        f"{datacite}"
        f'other:\n  shortName: "REC"\n{other}'
        f"---\n{body}"
    )


def repair_for(version: DatasetVersion, field: str) -> dict:
    found = [r for r in version.repairs if r["field"] == field]
    assert found, f"no repair of {field}: {version.repairs}"
    return found[0]


# -- the example records ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_example_records_are_created_published_and_reported_one_line_each():
    code, out = run_import(DEMO)

    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"created {SWFR}  (10.5072_example_swfr.md)"
    assert f"created {SYNBRAIN}  (10.5072_example_synbrain.md)" in lines
    assert lines[-1] == "2 records: 2 created, 0 updated, 0 unchanged, 0 skipped; 6 warnings"
    dataset = Dataset.objects.get(concept_doi=SWFR)
    assert dataset.state == DatasetState.PUBLISHED
    assert dataset.short_name == "SWFR"
    version = dataset.latest_version
    assert (version.version, version.doi) == ("1.1", f"{SWFR}.v1.1")
    assert version.state == VersionState.PUBLISHED
    assert version.title == "Synthetic wrist fracture radiographs"
    assert version.subject == "Radiology"
    assert version.keywords == [
        "Radiology",
        "Computed radiography",
        "Wrist",
        "Fracture",
        "Annotated",
    ]
    assert version.date_published == dt.date(2024, 3, 15)
    assert version.copyright_year == 2024
    assert version.publisher == "Example Data Hub"


@pytest.mark.django_db
def test_the_parts_of_a_record_are_stored_in_order():
    run_import(DEMO)
    version = latest(SWFR)

    assert [(a.name, a.orcid) for a in version.authors.all()] == [
        ("Astrid Example", "https://orcid.org/0000-0002-1825-0097"),
        ("Bertil Placeholder", ""),
    ]
    assert [(lic.kind, lic.identifier) for lic in version.licenses.all()] == [
        ("controlled-access", f"https://hub.example.org/{SWFR}#controlled-access"),
        ("aida-by", f"https://hub.example.org/{SWFR}#aida-by-license"),
    ]
    by_license = version.licenses.get(kind="aida-by")
    assert "Example University" in by_license.rendered_text
    assert "doi:10.5072/example-paper-1" in by_license.rendered_text
    paper = version.describing_publications.get()
    assert (paper.relation, paper.title, paper.doi) == (
        PublicationRelation.DESCRIBES,
        "A made-up paper on wrist fractures",
        "10.5072/example-paper-1",
    )
    assert version.organs == [{"name": "Wrist", "sctid": "8205005"}]
    assert version.countries_shared == ["SE", "NO"]
    assert (version.size_bytes, version.number_of_scans, version.number_of_annotations) == (
        1_250_000_000,
        120,
        212,
    )
    assert version.age_span == "18-90"
    assert version.scanners == ["Example Vendor XR-1000"]
    assert version.image == f"/assets/images/{SWFR}/thumbnail.jpg"
    image = version.exampleimages.get()
    assert (image.caption, image.url, image.thumbnail_url) == (
        "Lateral view with annotated fracture.",
        f"/assets/images/{SWFR}/lateral.jpg",
        f"/assets/images/{SWFR}/lateral-thumbnail.jpg",
    )


@pytest.mark.django_db
def test_the_hub_is_marked_as_the_hub_contact_and_people_are_not():
    run_import(DEMO)

    contacts = [(c.name, c.email, c.is_hub_contact) for c in latest(SWFR).contacts.all()]
    assert contacts == [
        ("Astrid Example", "astrid@university.example.org", False),
        ("Example Data Hub", "datahub@hub.example.org", True),
    ]
    assert latest(SYNBRAIN).contacts.get().is_hub_contact


@pytest.mark.django_db
def test_hidden_and_synthetic_flags_are_read():
    run_import(DEMO)

    assert Dataset.objects.get(concept_doi=SYNBRAIN).hidden
    assert latest(SYNBRAIN).synthetic
    assert not Dataset.objects.get(concept_doi=SWFR).hidden
    assert not latest(SWFR).synthetic


@pytest.mark.django_db
def test_each_import_writes_an_audit_event():
    run_import(DEMO)

    events = AuditEvent.objects.filter(action="register.record.import")
    assert sorted(e.data["doi"] for e in events) == [f"{SWFR}.v1.1", f"{SYNBRAIN}.v1.0"]
    assert {e.data["outcome"] for e in events} == {"created"}


# -- importing again -------------------------------------------------------------------------


@pytest.mark.django_db
def test_importing_the_same_files_again_changes_nothing():
    run_import(DEMO)
    events = AuditEvent.objects.count()

    code, out = run_import(DEMO)

    assert code == 0
    assert f"unchanged {SWFR}  (10.5072_example_swfr.md)" in out.splitlines()
    assert "2 records: 0 created, 0 updated, 2 unchanged, 0 skipped" in out
    assert Dataset.objects.count() == 2
    assert DatasetVersion.objects.count() == 2
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_changed_content_updates_the_published_version_in_place():
    first = import_text(
        record(datacite='  copyrightYear: 2020\n  copyrightHolder:\n  - name: "Old University"\n'),
        "rec.md",
    )
    version = latest("10.5072/test/rec")

    result = import_text(
        record(
            name="A better title",
            datacite="  copyrightYear: 2021\n  copyrightHolder:\n"
            '  - name: "New University"\n'
            '  license:\n  - name: "AIDA license"\n',
        ),
        "rec.md",
    )

    assert (first.outcome, result.outcome) == ("created", "updated")
    assert DatasetVersion.objects.count() == 1
    version.refresh_from_db()
    assert version.title == "A better title"
    assert version.state == VersionState.PUBLISHED
    assert [h.institution for h in version.copyrightholders.all()] == ["New University"]
    text = License.objects.get(version=version).rendered_text
    assert text.startswith("Copyright 2021 New University")


@pytest.mark.django_db
def test_a_new_version_label_is_published_as_the_newest_version():
    import_text(record(version="1.0", name="First"), "rec.md")

    result = import_text(record(version="1.1", name="Second"), "rec.md")

    assert result.outcome == "updated"
    dataset = Dataset.objects.get(concept_doi="10.5072/test/rec")
    assert [(v.version, v.title, v.state) for v in dataset.versions.order_by("version")] == [
        ("1.0", "First", VersionState.PUBLISHED),
        ("1.1", "Second", VersionState.PUBLISHED),
    ]
    assert dataset.latest_version.version == "1.1"


@pytest.mark.django_db
def test_an_older_version_imported_later_does_not_become_the_newest():
    import_text(record(version="2.0"), "rec.md")
    import_text(record(version="1.0"), "rec.md")

    assert Dataset.objects.get(concept_doi="10.5072/test/rec").latest_version.version == "2.0"


# -- the quirks of real records --------------------------------------------------------------


@pytest.mark.django_db
def test_an_impossible_date_is_repaired_and_the_raw_value_kept():
    code, out = run_import(DEMO)
    version = latest(SWFR)

    assert code == 0
    assert version.date_modified == dt.date(2024, 3, 1)
    repair = repair_for(version, "datacite.dateModified")
    assert (repair["raw"], repair["repaired"], repair["restore"]) == (
        "2024-03-00",
        "2024-03-01",
        True,
    )
    line = line_of(DEMO / "10.5072_example_swfr.md", "dateModified")
    assert (
        f"  warning: 10.5072_example_swfr.md:{line}: datacite.dateModified: impossible "
        "date '2024-03-00' read as 2024-03-01"
    ) in out.splitlines()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2019-04-00", dt.date(2019, 4, 1)),
        ("2019-00-10", dt.date(2019, 1, 10)),
        ("2021-02-30", dt.date(2021, 2, 28)),
        ("2020-06", dt.date(2020, 6, 1)),
        ("2020-6-5", dt.date(2020, 6, 5)),
    ],
)
@pytest.mark.django_db
def test_dates_that_are_not_iso_dates_are_read_as_the_nearest_date(raw, expected):
    result = import_text(record(datacite=f'  dateCreated: "{raw}"\n'), "rec.md")

    assert latest("10.5072/test/rec").date_created == expected
    assert any(f"'{raw}' read as {expected.isoformat()}" in w for w in result.warnings)


@pytest.mark.django_db
def test_a_text_that_is_no_date_at_all_is_left_empty_with_a_warning():
    result = import_text(record(datacite='  dateCreated: "spring 2020"\n'), "rec.md")

    assert result.outcome == "created"
    assert latest("10.5072/test/rec").date_created is None
    assert any("'spring 2020' is not a date" in w for w in result.warnings)


@pytest.mark.django_db
def test_a_caption_in_a_url_field_is_left_out_and_kept_for_export():
    code, out = run_import(DEMO)
    holder = latest(SYNBRAIN).copyrightholders.get()

    assert holder.institution == "Example Region Healthcare"
    assert holder.institution_url == ""
    repair = repair_for(latest(SYNBRAIN), "datacite.copyrightHolder[0].url")
    assert (repair["raw"], repair["restore"]) == ("Synthetic head CT, axial slice", True)
    line = line_of(DEMO / "10.5072_example_synbrain.md", "Synthetic head CT, axial slice")
    assert (
        f"  warning: 10.5072_example_synbrain.md:{line}: datacite.copyrightHolder[0].url: "
        "'Synthetic head CT, axial slice' is not a URL"
    ) in out


@pytest.mark.django_db
def test_a_misspelled_key_is_read_as_the_key_it_was_meant_to_be():
    _, out = run_import(DEMO)
    version = latest(SYNBRAIN)

    assert version.case_level_annotations == "none"
    repair = repair_for(version, "other.caseLevelAnnotations")
    assert (repair["raw"], repair["repaired"], repair["restore"]) == (
        "caseLevelAnnotaions",
        "caseLevelAnnotations",
        True,
    )
    line = line_of(DEMO / "10.5072_example_synbrain.md", "caseLevelAnnotaions")
    assert (
        f"  warning: 10.5072_example_synbrain.md:{line}: other.caseLevelAnnotations: "
        "misspelled key 'caseLevelAnnotaions'"
    ) in out


@pytest.mark.django_db
def test_a_script_in_the_description_is_removed_for_good():
    _, out = run_import(DEMO)
    version = latest(SWFR)

    assert "<script" not in version.description
    assert "alert(1)" not in version.description
    assert "delineated by a radiologist." in version.description
    repair = repair_for(version, "datacite.description")
    assert repair["restore"] is False
    line = line_of(DEMO / "10.5072_example_swfr.md", "description:")
    assert f"10.5072_example_swfr.md:{line}: datacite.description: HTML" in out


@pytest.mark.django_db
def test_template_tags_are_kept_for_export_with_one_warning():
    _, out = run_import(DEMO)
    version = latest(SWFR)

    tag_warnings = [line for line in out.splitlines() if "template tags" in line]
    assert len(tag_warnings) == 1
    line = line_of(DEMO / "10.5072_example_swfr.md", "{% include")
    assert tag_warnings[0].startswith(f"  warning: 10.5072_example_swfr.md:{line}: body:")
    assert "{% include access-request-blurb.md" in body_for(version, raw=True)
    assert "{%" not in body_for(version, raw=False)
    assert "{{" not in body_for(version, raw=False)


@pytest.mark.django_db
def test_the_legacy_license_section_is_kept_apart_from_the_body():
    run_import(DEMO)
    version = latest(SWFR)

    assert version.additional == ""  # the example's body is all license section
    section = version.extra["legacy_license_section"]
    assert section.startswith("## License\n### Controlled access\n")
    assert section.endswith(
        "[doi:{{ page.datacite['@id'] | remove: \"https://doi.org/\" }}]"
        '({{ page.datacite["@id"] }}).\n'
    )


@pytest.mark.django_db
def test_the_license_section_ends_at_the_next_heading_of_its_level():
    body = "Intro.\n\n## License\nOld terms.\n### Detail\nMore.\n## Access\nAsk us.\n"
    import_text(record(body=body), "rec.md")
    version = latest("10.5072/test/rec")

    assert version.additional == "Intro.\n\n## Access\nAsk us.\n"
    assert version.extra["legacy_license_section"] == "## License\nOld terms.\n### Detail\nMore.\n"
    assert body_for(version, raw=True) == body


@pytest.mark.django_db
def test_a_person_after_an_institution_is_its_responsible_researcher():
    _, out = run_import(DEMO)

    holders = [
        (h.institution, h.institution_url, h.responsible_researcher, h.researcher_orcid)
        for h in latest(SWFR).copyrightholders.all()
    ]
    assert holders == [
        (
            "Example University",
            "https://university.example.org/",
            "Astrid Example",
            "https://orcid.org/0000-0002-1825-0097",
        )
    ]
    assert "listed as copyright holder" not in out


@pytest.mark.django_db
def test_a_person_alone_as_copyright_holder_is_accepted_with_a_warning():
    result = import_text(
        record(datacite='  copyrightHolder:\n  - name: "Dora Tester"\n    "@type": "Person"\n'),
        "rec.md",
    )

    holder = latest("10.5072/test/rec").copyrightholders.get()
    assert (holder.institution, holder.responsible_researcher) == ("", "Dora Tester")
    assert result.outcome == "created"
    assert any(
        "rec.md:" in w and "a person (Dora Tester) is listed as copyright holder" in w
        for w in result.warnings
    )


@pytest.mark.django_db
def test_numbers_written_as_text_are_read_where_they_can_be():
    result = import_text(
        record(other='  numberOfScans: "1,250"\n  bytes: "96 GB"\n  numberOfAnnotations: "many"\n'),
        "rec.md",
    )
    version = latest("10.5072/test/rec")

    assert (version.number_of_scans, version.size_bytes) == (1250, 96_000_000_000)
    assert version.number_of_annotations is None
    assert result.outcome == "created"
    joined = "\n".join(result.warnings)
    assert "other.numberOfScans: '1,250' read as the number 1250" in joined
    assert "other.bytes: '96 GB' read as the number 96000000000" in joined
    assert "other.numberOfAnnotations: 'many' is not a whole number" in joined


@pytest.mark.django_db
def test_a_dash_for_the_age_span_means_none():
    run_import(DEMO)

    assert latest(SYNBRAIN).age_span == ""
    assert repair_for(latest(SYNBRAIN), "other.age-span")["raw"] == "-"


@pytest.mark.django_db
def test_a_record_with_only_its_doi_and_title_is_imported():
    text = '---\ndatacite:\n  "@id": "10.5072/test/bare"\n  name: "Bare"\n---\n'

    result = import_text(text, "bare.md")

    assert (result.outcome, result.warnings) == ("created", [])
    version = latest("10.5072/test/bare")
    assert (version.version, version.title, version.modalities) == ("1.0", "Bare", [])
    assert version.size_bytes is None


@pytest.mark.django_db
def test_unknown_modality_codes_are_kept_as_given():
    run_import(DEMO)

    assert latest(SYNBRAIN).modalities == ["Synthetic CT"]


@pytest.mark.django_db
def test_unknown_keys_are_kept():
    import_text(
        record(
            top="layout: dataset\n",
            datacite='  inLanguage: "sv"\n',
            other='  funding: "Example grant 42"\n',
        ),
        "rec.md",
    )

    assert latest("10.5072/test/rec").extra["unknown"] == {
        "": {"layout": "dataset"},
        "datacite": {"inLanguage": "sv"},
        "other": {"funding": "Example grant 42"},
    }


@pytest.mark.django_db
def test_an_unquoted_no_among_countries_is_norway():
    result = import_text(record(other="  countries-shared:\n  - SE\n  - NO\n"), "rec.md")

    assert latest("10.5072/test/rec").countries_shared == ["SE", "NO"]
    assert any("unquoted NO" in w for w in result.warnings)


# -- hostile text ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_html_and_scripts_are_neutralized_in_every_field():
    result = import_text((RECORDS / "hostile.md").read_text(), "hostile.md")
    version = latest("10.5072/example/hostile")

    assert result.outcome == "created"
    texts = [
        version.title,
        version.description,
        version.additional,
        " ".join(version.keywords),
        version.dataset.short_name,
        str(version.extra),
    ]
    texts += [a.name for a in version.authors.all()]
    texts += [i.caption + i.url + i.thumbnail_url for i in version.exampleimages.all()]
    for text in texts:
        assert not re.search(r"<\s*(script|iframe|img|svg|b|a|i|em)\b", text, re.I), text
        assert "onerror" not in text and "onmouseover" not in text
        assert "javascript:" not in text.lower()
    assert version.title == "Knee MRI with menisci"
    assert version.url == ""
    assert "Kept text & more." in version.description
    assert "<https://hub.example.org/docs>" in version.description  # Markdown autolink stays
    assert version.additional == "Some text before. \n\n## Access\nAsk the data director.\n"


@pytest.mark.django_db
def test_path_traversal_in_image_urls_is_only_ever_text():
    import_text((RECORDS / "hostile.md").read_text(), "hostile.md")
    version = latest("10.5072/example/hostile")

    assert version.image == "../../../../etc/passwd"
    assert version.exampleimages.get().url == "/assets/images/../../../../../etc/shadow"


@given(st.text())
def test_neutralized_text_is_stable_and_has_no_tags(text):
    once = neutralize(text)
    assert neutralize(once) == once
    assert not re.search(r"<[A-Za-z/!?]", once)
    markdown = neutralize(text, markdown=True)
    assert neutralize(markdown, markdown=True) == markdown


@pytest.mark.parametrize(
    "text",
    [
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "<<script>script>alert(1)<</script>/script>",
        "<ScRiPt >alert(1)</sCrIpT >",
        "<img src=x onerror=alert(1)//",
        "<!-- <script>alert(1)</script> -->",
    ],
)
def test_nested_and_broken_script_tags_do_not_survive(text):
    for markdown in (False, True):
        cleaned = neutralize(text, markdown=markdown)
        assert "<" not in cleaned, cleaned


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_malformed_yaml_is_reported_with_the_file_name_and_its_line():
    code, out = run_import(RECORDS / "malformed.md")

    line = line_of(RECORDS / "malformed.md", '"@type": "Person"')
    assert code == 1
    assert out.splitlines()[0].startswith(f"skipped malformed.md: malformed YAML at line {line},")
    assert not Dataset.objects.exists()


@pytest.mark.django_db
def test_a_doi_that_is_not_a_doi_is_refused_with_a_clear_message():
    code, out = run_import(RECORDS / "not-a-doi.md")

    assert code == 1
    assert out.splitlines()[0] == (
        "skipped not-a-doi.md: line 3: datacite \"@id\": 'https://example.org/datasets/42' is "
        "not a DOI: a DOI looks like 10.23698/aida/ctpa (10., a registrant number, a slash, "
        "then letters, digits or -._;()/:)"
    )


def test_a_record_without_a_doi_is_skipped():
    result = import_text('---\ndatacite:\n  name: "No DOI"\n---\n', "nodoi.md")

    assert result.outcome == "skipped"
    assert 'no DOI: the record\'s datacite "@id" is missing' in result.error


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "the file is empty"),
        ("blank.md", b"\n\n  \n", "the file is empty"),
        ("plain.md", b"# Title\n\nJust text.\n", "no front matter"),
        ("open.md", b'---\ndatacite:\n  "@id": "10.5072/x/y"\n', "has no closing line '---'"),
        ("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        (
            "latin1.md",
            b'---\ndatacite:\n  name: "Sk\xe5ne"\n---\n',
            "not UTF-8 text: byte 0xe5 on line 3",
        ),
        ("list.md", b"---\n- a\n- b\n---\n", "not a set of keys and values"),
        ("alias.md", b"---\na: &x [1, 2]\nb: *x\n---\n", "aliases (*name) are not allowed"),
        (
            "version.md",
            b'---\ndatacite:\n  "@id": "10.5072/x/y"\n  version: "1 beta"\n---\n',
            "version '1 beta' must be letters, digits, dots or hyphens",
        ),
    ],
)
@pytest.mark.django_db
def test_files_that_cannot_be_read_are_skipped_with_the_reason(tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)

    code, out = run_import(tmp_path / name)

    assert code == 1
    assert out.splitlines()[0].startswith(f"skipped {name}: ")
    assert reason in out.splitlines()[0]


@pytest.mark.django_db
def test_one_bad_record_never_stops_the_batch(tmp_path):
    for source in (
        DEMO / "10.5072_example_swfr.md",
        RECORDS / "malformed.md",
        RECORDS / "empty.md",
        RECORDS / "not-a-doi.md",
    ):
        shutil.copy(source, tmp_path / source.name)
    (tmp_path / "zz-binary.md").write_bytes(bytes(range(256)))

    code, out = run_import(tmp_path)

    assert code == 1
    outcomes = [line.split()[0] for line in out.splitlines() if not line.startswith(" ")]
    assert outcomes[:-1] == ["created", "skipped", "skipped", "skipped", "skipped"]
    assert out.splitlines()[-1].startswith(
        "5 records: 1 created, 0 updated, 0 unchanged, 4 skipped"
    )
    assert Dataset.objects.get().concept_doi == SWFR


@pytest.mark.django_db
def test_a_huge_title_is_cut_with_a_warning_and_not_stored_whole():
    result = import_text(record(name="x" * 1_000_000), "huge.md")

    version = latest("10.5072/test/rec")
    assert result.outcome == "created"
    assert version.title == "x" * 500
    assert any(
        "1000000 characters is too long for this field: cut to 500" in w for w in result.warnings
    )
    assert len(str(version.repairs)) < 5_000


@pytest.mark.django_db
def test_a_record_that_fails_while_stored_changes_nothing():
    other = make_dataset(doi="10.5072/test/other")
    # A version DOI already taken: storing the new dataset fails half way.
    DatasetVersion.objects.create(
        dataset=other, version="9", doi="10.5072/test/clash.v1.0", title="Taken"
    )

    result = import_text(record(doi="10.5072/test/clash"), "clash.md")

    assert result.outcome == "skipped"
    assert "could not be stored" in result.error and "nothing was changed" in result.error
    assert not Dataset.objects.filter(concept_doi="10.5072/test/clash").exists()


@pytest.mark.django_db
def test_a_withdrawn_dataset_is_left_as_it_is():
    import_text(record(), "rec.md")
    dataset = Dataset.objects.get(concept_doi="10.5072/test/rec")
    from aidahub.web.register.services import withdraw

    withdraw(dataset, "Consent withdrawn")

    result = import_text(record(name="Changed"), "rec.md")

    assert result.outcome == "skipped"
    assert "withdrawn" in result.error
    assert latest("10.5072/test/rec").title == "Test record"


@pytest.mark.django_db
def test_a_path_that_does_not_exist_is_skipped(tmp_path):
    code, out = run_import(tmp_path / "missing")

    assert code == 1
    assert out.splitlines()[0] == f"skipped {tmp_path / 'missing'}: no such file or folder"


@pytest.mark.django_db
def test_folders_are_walked_for_markdown_files_in_sorted_order(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.md").write_text(record(doi="10.5072/test/b"))
    (tmp_path / "a.md").write_text(record(doi="10.5072/test/a"))
    (tmp_path / "sub" / "c.md").write_text(record(doi="10.5072/test/c"))
    (tmp_path / "notes.txt").write_text("not a record")
    seen = []

    report = import_paths([tmp_path], on_result=seen.append)

    assert [r.source for r in report.results] == ["a.md", "b.md", "sub/c.md"]
    assert seen == report.results
    assert report.skipped == 0


@pytest.mark.django_db
def test_quiet_prints_only_problems(tmp_path):
    shutil.copy(DEMO / "10.5072_example_synbrain.md", tmp_path)
    shutil.copy(RECORDS / "not-a-doi.md", tmp_path)

    _, out = run_import(tmp_path, quiet=True)

    lines = out.splitlines()
    assert not any(line.startswith("created") for line in lines)
    assert any(line.startswith("skipped not-a-doi.md:") for line in lines)
    assert any(line.startswith("  warning: 10.5072_example_synbrain.md:") for line in lines)


@pytest.mark.django_db(transaction=True)
def test_the_cli_exits_non_zero_only_when_a_record_was_skipped(tmp_path, capsys):
    shutil.copy(DEMO / "10.5072_example_synbrain.md", tmp_path)

    assert main(["register", "import", str(tmp_path)]) == 0  # warnings only
    assert "created 10.5072/example/synbrain" in capsys.readouterr().out

    assert main(["register", "import", str(RECORDS / "empty.md")]) == 1
    assert "skipped empty.md: the file is empty" in capsys.readouterr().out
