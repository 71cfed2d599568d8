"""`aidahub register export`: the register format written back, byte-identical on a round trip."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

import aidahub.web.register
from aidahub.cli import main
from aidahub.web.register.exporter import export_all, file_name
from aidahub.web.register.importer import import_paths, import_text
from aidahub.web.register.models import Dataset
from aidahub.web.register.records import record_for
from tests.factories import make_dataset

DEMO = Path(aidahub.web.register.__file__).parent / "fixtures" / "records"
RECORDS = Path(__file__).parent / "records"
NAMES = ["10.5072_example_hostile.md", "10.5072_example_swfr.md", "10.5072_example_synbrain.md"]


@pytest.fixture
def originals(tmp_path) -> Path:
    folder = tmp_path / "originals"
    folder.mkdir()
    for source in [*DEMO.glob("*.md"), RECORDS / "hostile.md"]:
        shutil.copy(source, folder)
    return folder


def front_matter(text: str) -> dict:
    return yaml.safe_load(text.split("---\n")[1])


def body(text: str) -> str:
    return text.split("\n---\n", 1)[1]


@pytest.mark.django_db
def test_export_import_export_is_byte_identical(originals, tmp_path):
    import_paths([originals])
    first = export_all(tmp_path / "first")

    again = import_paths([tmp_path / "first"])
    second = export_all(tmp_path / "second")

    assert [p.name for p in first] == NAMES
    assert [r.outcome for r in again.results] == ["unchanged"] * 3
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


@pytest.mark.django_db
def test_the_export_writes_raw_values_back_as_they_were_found(originals, tmp_path):
    import_paths([originals])
    export_all(tmp_path / "out")

    swfr = (tmp_path / "out" / "10.5072_example_swfr.md").read_text()
    synbrain = (tmp_path / "out" / "10.5072_example_synbrain.md").read_text()
    assert front_matter(swfr)["datacite"]["dateModified"] == "2024-03-00"
    holder = front_matter(synbrain)["datacite"]["copyrightHolder"][0]
    assert holder == {
        "name": "Example Region Healthcare",
        "url": "Synthetic head CT, axial slice",
        "@type": "Organization",
    }
    other = front_matter(synbrain)["other"]
    assert other["caseLevelAnnotaions"] == "none"
    assert "caseLevelAnnotations" not in other
    assert other["age-span"] == "-"
    assert synbrain.startswith("---\nhidden: true\nsynthetic: true\ndatacite:\n")


@pytest.mark.django_db
def test_the_body_goes_back_with_its_license_section_and_template_tags(originals, tmp_path):
    import_paths([originals])
    export_all(tmp_path / "out")

    original = (originals / "10.5072_example_swfr.md").read_text()
    exported = (tmp_path / "out" / "10.5072_example_swfr.md").read_text()
    assert body(exported) == body(original)
    hostile = body((tmp_path / "out" / "10.5072_example_hostile.md").read_text())
    assert hostile == (
        "Some text before. \n\n## License\nThe old terms, rendered by the old "
        "site: {{ page.datacite.copyrightYear }}.\n\n## Access\nAsk the data "
        "director.\n"
    )


@pytest.mark.django_db
def test_the_export_stays_neutralized(originals, tmp_path):
    import_paths([originals])
    written = export_all(tmp_path / "out")

    for path in written:
        text = path.read_text().lower()
        for bad in ("<script", "<iframe", "<img", "onerror", "javascript:"):
            assert bad not in text, (path.name, bad)
    hostile = front_matter((tmp_path / "out" / "10.5072_example_hostile.md").read_text())
    assert hostile["datacite"]["name"] == "Knee MRI with menisci"


@pytest.mark.django_db
def test_unknown_keys_and_repaired_numbers_are_written_back(originals, tmp_path):
    import_paths([originals])
    export_all(tmp_path / "out")

    hostile = front_matter((tmp_path / "out" / "10.5072_example_hostile.md").read_text())
    assert hostile["layout"] == "dataset"
    assert hostile["other"]["funding"] == "Example Foundation grant 42"
    assert (hostile["other"]["numberOfScans"], hostile["other"]["bytes"]) == ("1,250", "96 GB")
    assert hostile["other"]["modality"] == ["MR", "XYZ-UNKNOWN"]
    assert hostile["other"]["image"] == "../../../../etc/passwd"


@pytest.mark.django_db
def test_files_are_named_after_the_doi_and_nothing_else_is_written(originals, tmp_path):
    import_paths([originals])
    out = tmp_path / "out"
    out.mkdir()
    (out / "10.5072_example_swfr.md").write_text("stale")

    written = export_all(out)

    assert sorted(p.name for p in out.iterdir()) == NAMES  # no temporary files left
    assert (out / "10.5072_example_swfr.md").read_text().startswith("---\ndatacite:\n")
    assert sorted(
        p.relative_to(tmp_path).as_posix()
        for p in tmp_path.rglob("*")
        if p.is_file() and "originals" not in p.parts
    ) == [f"out/{n}" for n in NAMES]
    assert written == [out / n for n in NAMES]


def test_a_file_name_never_leaves_the_folder():
    assert file_name("10.5072/example/swfr") == "10.5072_example_swfr.md"
    assert "/" not in file_name("10.5072/../../etc/passwd")
    assert not file_name("../x").startswith(".")


@pytest.mark.django_db
def test_a_dataset_made_on_the_hub_round_trips(tmp_path):
    make_dataset(doi="10.5072/test/hub", short_name="HUB")
    first = export_all(tmp_path / "first")

    result = import_text(first[0].read_text(), first[0].name)
    second = export_all(tmp_path / "second")

    assert result.outcome == "updated"  # the hub's own data gets a record hash once
    assert result.warnings == []
    assert first[0].read_bytes() == second[0].read_bytes()
    assert Dataset.objects.get().versions.count() == 1


@pytest.mark.django_db
def test_the_json_api_view_has_the_clean_values(originals):
    import_paths([originals])

    swfr = record_for(
        Dataset.objects.get(concept_doi="10.5072/example/swfr").latest_version, raw=False
    )
    synbrain = record_for(
        Dataset.objects.get(concept_doi="10.5072/example/synbrain").latest_version, raw=False
    )
    assert list(swfr) == ["datacite", "other"]
    assert swfr["datacite"]["dateModified"] == "2024-03-01"
    assert swfr["datacite"]["@id"] == "https://doi.org/10.5072/example/swfr"
    assert synbrain["other"]["caseLevelAnnotations"] == "none"
    assert "caseLevelAnnotaions" not in synbrain["other"]
    assert "age-span" not in synbrain["other"]
    assert "url" not in synbrain["datacite"]["copyrightHolder"][0]


@pytest.mark.django_db
def test_the_export_command_reports_what_it_wrote(originals, tmp_path):
    import_paths([originals])
    out = io.StringIO()

    call_command("export_register", str(tmp_path / "out"), stdout=out)

    assert out.getvalue() == f"exported 3 records to {tmp_path / 'out'}\n"


@pytest.mark.django_db(transaction=True)
def test_the_cli_exports(originals, tmp_path, capsys):
    import_paths([originals])

    assert main(["register", "export", str(tmp_path / "cli")]) == 0

    assert sorted(p.name for p in (tmp_path / "cli").iterdir()) == NAMES
    assert "exported 3 records" in capsys.readouterr().out
