"""`aidahub deid verify` and `reverify`: the machine half of the review, from outside the engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from aidahub.cli import main
from aidahub.deid.profile import load_profile
from aidahub.deid.reverify import reverify
from aidahub.deid.search import MIN_LENGTH, Needle, Searcher, forms
from aidahub.deid.verify import identifying_values, verify
from tests.deid.leaks import find_leaks
from tests.deid.planted import make_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("verify")
    source = root / "in"
    planted = make_corpus(source, seed=3)
    key = root / "secret.key"
    assert main(["deid", "keygen", str(key)]) == 0
    out = root / "out"
    argv = ["deid", "run", str(source), str(out), "--profile", "images-only", "--key", str(key)]
    assert main([*argv, "--quiet"]) == 0
    return root, source, planted, out


def test_own_output_is_verified_clean(corpus, capsys):
    _, source, _, out = corpus
    capsys.readouterr()
    assert main(["deid", "verify", str(source), str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "clean: no identifying value" in printed
    assert "FOUND" not in printed


def test_a_copy_of_the_input_shows_every_planted_value_where_the_tests_find_it(corpus):
    root, source, planted, _ = corpus
    copy = root / "copy"
    shutil.copytree(source, copy, dirs_exist_ok=True)
    result = verify(source, copy)
    assert not result.clean
    found_at = {(f.file, f.offset) for f in result.findings}
    expected = find_leaks(copy, planted)
    missed = [leak for leak in expected if (leak.file, leak.offset) not in found_at]
    assert expected and not missed, "\n".join(map(str, missed[:10]))


def test_one_leaked_name_in_one_output_file_fails_with_file_and_offset(corpus, tmp_path, capsys):
    _, source, planted, out = corpus
    leaky = tmp_path / "leaky"
    shutil.copytree(out, leaky)
    target = sorted(leaky.rglob("*.dcm"))[0]
    ds = pydicom.dcmread(target)
    family = planted.values["patient_name"].split("^")[0]
    ds.ImageComments = f"seen by {family}"
    ds.save_as(target)
    capsys.readouterr()
    assert main(["deid", "verify", str(source), str(leaky), "--quiet"]) == 1
    printed = capsys.readouterr().out
    relative = target.relative_to(leaky).as_posix()
    assert f"FOUND {relative}: " in printed
    assert family in printed
    assert "NOT CLEAN: " in printed


def test_findings_are_written_as_json_outside_the_output(corpus, tmp_path):
    _, source, _, out = corpus
    report = tmp_path / "verify.json"
    assert main(["deid", "verify", str(source), str(source), "--quiet", "--json", str(report)]) == 1
    record = json.loads(report.read_text(encoding="utf-8"))
    assert record["findings"] and record["inputs"] > 0
    assert {"file", "category", "form", "offset"} <= set(record["findings"][0])


def test_an_unreadable_input_makes_the_verification_fail(corpus, tmp_path, capsys):
    _, source, _, out = corpus
    inputs = tmp_path / "in"
    shutil.copytree(source, inputs)
    good = sorted(inputs.rglob("*.dcm"))[0]
    data = good.read_bytes()
    (inputs / "cut.dcm").write_bytes(data[: len(data) // 3])
    (inputs / "notes.txt").write_text("not DICOM")
    capsys.readouterr()
    code = main(["deid", "verify", str(inputs), str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert "1 inputs not DICOM" in printed
    if "UNREADABLE cut.dcm" in printed:  # pydicom may read a cut file up to the cut
        assert code == 1
    else:
        assert code == 0


def _dataset(**values) -> pydicom.Dataset:
    ds = pydicom.Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = "1.2.3.4.5.6.7"
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
    return ds


def test_identifying_values_take_names_ids_dates_uids_and_what_free_text_holds():
    ds = _dataset(
        PatientName="Lindqvist^Karin",
        PatientID="VB7734519",
        PatientBirthDate="19560314",
        Manufacturer="SIEMENS",
        StudyDescription="CT thorax, remiss från dr Holmberg 19560314-2386",
        SeriesDescription="AX 5mm",
    )
    needles = {(n.value, n.kind) for n in identifying_values(ds)}
    assert ("Lindqvist^Karin", "person") in needles
    assert ("VB7734519", "identifier") in needles
    assert ("19560314", "date") in needles
    assert ("1.2.3.4.5.6.7", "uid") in needles
    assert ("19560314-2386", "personnummer") in needles  # found in the free text
    values = {value for value, _ in needles}
    assert "SIEMENS" not in values  # kept by Annex E: not identifying
    assert "1.2.840.10008.5.1.4.1.1.2" not in values  # the standard's own UID
    assert "1.2.826.0.1.3680043.8.498.1" not in values  # the writing software's UID
    assert "AX 5mm" in values  # the Basic Profile removes descriptions (X)
    keeping = load_profile("diagnosis")
    assert 0x0008103E in keeping.keep
    assert "AX 5mm" not in {n.value for n in identifying_values(ds, keeping)}


def test_a_profile_that_keeps_an_element_on_purpose_is_not_reported_for_it(tmp_path):
    custom = tmp_path / "stations.yaml"
    custom.write_text(
        "name: stations\nextends: scanner\nmotivation: station names for a QA study\n"
        "keep:\n  - StationName\n",
        encoding="utf-8",
    )
    profile = load_profile(str(custom))
    ds = _dataset(PatientName="Lindqvist^Karin", StationName="CTLAB07")
    assert "CTLAB07" in {n.value for n in identifying_values(ds)}
    lenient = {n.value for n in identifying_values(ds, profile)}
    assert "CTLAB07" not in lenient
    assert "Lindqvist^Karin" in lenient


def test_values_below_the_minimum_length_are_skipped_and_counted():
    searcher = Searcher([Needle("x", "ab"), Needle("y", "Holmberg", "person")])
    assert [n.value for n in searcher.skipped] == ["ab"]
    assert MIN_LENGTH == 3
    assert searcher.scan_bytes(b"xx ab xx") == []
    assert [f.category for f in searcher.scan_bytes(b"dr HOLMBERG said")] == ["y"]


def test_short_values_count_only_as_whole_words():
    searcher = Searcher([Needle("name", "Ove", "person"), Needle("code", "CT7", "text")])
    assert searcher.scan_bytes(b"REMOVED overlay CT70") == []
    assert {f.category for f in searcher.scan_bytes(b"Ove^Berg CT7 ")} == {"name", "code"}
    assert all(len(form) >= MIN_LENGTH for form in forms("Ove", "person"))


def test_reverify_finds_nothing_in_output_made_with_todays_rules(corpus):
    _, _, _, out = corpus
    result = reverify(out, load_profile("images-only"))
    assert result.files >= 8
    assert result.findings == [], "\n".join(map(str, result.findings[:10]))


def test_reverify_reports_what_todays_rules_would_catch_in_old_output(corpus, tmp_path):
    """Output made before a rule existed: here, an element the profile no longer keeps, a
    personal number typed into a kept comment, and an image now excluded."""
    _, _, _, out = corpus
    old = tmp_path / "old"
    shutil.copytree(out, old)
    files = sorted(old.rglob("*.dcm"))
    images = [f for f in files if "PixelData" in pydicom.dcmread(f, stop_before_pixels=False)]
    first, second = images[0], images[1]
    ds = pydicom.dcmread(first)
    ds.OperatorsName = "Holmberg^Ann"
    ds.save_as(first)
    ds = pydicom.dcmread(second)
    ds.BurnedInAnnotation = "YES"
    ds.save_as(second)
    result = reverify(old, load_profile("images-only"))
    by_file: dict[str, set[str]] = {}
    for finding in result.findings:
        by_file.setdefault(finding.file, set()).add(f"{finding.code} {finding.element}")
        assert "Holmberg" not in str(finding)  # findings never quote values
    caught = by_file[first.relative_to(old).as_posix()]
    assert caught & {
        "would-remove OperatorsName",
        "would-empty OperatorsName",
        "would-change OperatorsName",
    }, caught
    assert any(
        item.startswith("would-exclude") for item in by_file[second.relative_to(old).as_posix()]
    )
    assert len(by_file) == 2


def test_reverify_command_exits_1_and_names_the_file(corpus, tmp_path, capsys):
    _, source, _, _ = corpus
    capsys.readouterr()
    code = main(["deid", "reverify", str(source), "--profile", "images-only", "--quiet"])
    assert code == 1
    printed = capsys.readouterr().out
    assert "WOULD NOW CATCH " in printed and "re-checked" in printed


def test_verify_refuses_a_missing_folder(tmp_path, capsys):
    assert main(["deid", "verify", str(tmp_path / "nope"), str(tmp_path), "--quiet"]) == 2
    assert "is not a folder" in capsys.readouterr().err


def _written(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())
