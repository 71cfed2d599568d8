"""`aidahub deid run` end to end: plant identifiers, run every level, search every byte."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pydicom
import pytest

from aidahub.cli import main
from aidahub.deid.profile import PROFILE_NAMES
from tests.deid.leaks import find_leaks
from tests.deid.planted import bad_files, make_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    source = root / "in"
    planted = make_corpus(source, seed=0)
    bad = bad_files(source, planted)
    key = root / "secret.key"
    assert main(["deid", "keygen", str(key)]) == 0
    return root, source, planted, bad, key


def _run(corpus, profile: str, name: str) -> tuple[int, Path]:
    root, source, _, _, key = corpus
    out = root / name
    code = main(
        ["deid", "run", str(source), str(out), "--profile", profile, "--key", str(key), "--quiet"]
    )
    return code, out


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_no_planted_identifier_survives_anywhere_in_the_output(corpus, profile):
    code, out = _run(corpus, profile, f"out-{profile}")
    assert code == 0
    written = [p for p in out.rglob("*.dcm")]
    assert len(written) >= 8, "the clinical images should come through"
    leaks = find_leaks(out, corpus[2])
    assert leaks == [], "\n".join(map(str, leaks[:20]))


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_excluded_image_is_accounted_for_and_never_copied(corpus, profile):
    _, source, planted, bad, _ = corpus
    code, out = _run(corpus, profile, f"excl-{profile}")
    assert code == 0
    report = json.loads(out.with_name(out.name + ".report.json").read_text(encoding="utf-8"))
    outcomes = {Path(source, f["source"]).resolve(): f for f in report["files"]}
    for path, reason in planted.exclusions.items():
        entry = outcomes[Path(path).resolve()]
        assert entry["outcome"] == "excluded"
        assert entry["reason"].startswith(reason), (path, entry["reason"], reason)
    for path in bad:
        assert outcomes[Path(path).resolve()]["outcome"] == "quarantined", path
    sop_uids_out = {pydicom.dcmread(p).SOPInstanceUID for p in out.rglob("*.dcm")}
    assert len(sop_uids_out) == report["written"]
    inside = (out / "DEIDENTIFICATION.txt").read_text(encoding="utf-8")
    assert f"Profile: {profile}" in inside
    assert f"Images excluded: {len(planted.exclusions)}" in inside


def test_bad_files_are_quarantined_beside_the_output_with_a_reason(corpus):
    _, source, _, bad, _ = corpus
    code, out = _run(corpus, "images-only", "quarantine-check")
    assert code == 0
    quarantine = out.with_name(out.name + ".quarantine")
    for path in bad:
        kept = quarantine / Path(path).relative_to(source)
        assert kept.read_bytes() == Path(path).read_bytes()
        reason = kept.with_name(kept.name + ".reason.txt").read_text(encoding="utf-8")
        assert reason.split(":", 1)[0] in {
            "not-dicom",
            "unreadable",
            "truncated",
            "incomplete",
            "corrupt",
        }
    assert not any(p.name.endswith(".reason.txt") for p in out.rglob("*"))
    assert not any(".partial" in p.name for p in out.rglob("*"))


def test_layout_is_patient_study_series_instance_under_pseudonyms(corpus):
    _, _, planted, _, _ = corpus
    code, out = _run(corpus, "time-period", "layout")
    assert code == 0
    for path in out.rglob("*.dcm"):
        patient, study, series, instance = path.relative_to(out).parts
        ds = pydicom.dcmread(path)
        assert (study, series, instance) == (
            ds.StudyInstanceUID,
            ds.SeriesInstanceUID,
            f"{ds.SOPInstanceUID}.dcm",
        )
        assert study.startswith("2.25.") and instance.startswith("2.25.")
        assert ds.PatientIdentityRemoved == "YES"
        assert ds.PatientID == patient


def test_the_same_key_gives_the_same_output_names_and_another_key_does_not(corpus, tmp_path):
    root, source, _, _, key = corpus
    code_a, out_a = _run(corpus, "scanner", "same-a")
    code_b, out_b = _run(corpus, "scanner", "same-b")
    names = lambda out: sorted(p.relative_to(out) for p in out.rglob("*.dcm"))  # noqa: E731
    assert code_a == code_b == 0 and names(out_a) == names(out_b)
    other = tmp_path / "other.key"
    assert main(["deid", "keygen", str(other)]) == 0
    out_c = tmp_path / "other-out"
    assert (
        main(
            [
                "deid",
                "run",
                str(source),
                str(out_c),
                "--profile",
                "scanner",
                "--key",
                str(other),
                "--quiet",
            ]
        )
        == 0
    )
    assert not set(names(out_a)) & set(names(out_c))


def test_keygen_makes_an_owner_only_key_and_destroy_removes_it(tmp_path, capsys):
    key = tmp_path / "k.key"
    assert main(["deid", "keygen", str(key)]) == 0
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    printed = capsys.readouterr().out
    key_id = printed.split()[1]
    assert main(["deid", "keygen", str(key)]) == 1, "an existing key is never overwritten"
    assert main(["deid", "key", "destroy", str(key)]) == 0
    assert not key.exists()
    assert f"destroyed key {key_id}" in capsys.readouterr().out


def test_a_custom_profile_without_motivation_is_refused(corpus, tmp_path, capsys):
    _, source, _, _, key = corpus
    custom = tmp_path / "more.yaml"
    custom.write_text(
        "name: more\nextends: diagnosis\nkeep: [PatientAge, PatientSex]\n", encoding="utf-8"
    )
    code = main(
        [
            "deid",
            "run",
            str(source),
            str(tmp_path / "o"),
            "--profile",
            str(custom),
            "--key",
            str(key),
            "--quiet",
        ]
    )
    assert code == 2
    assert "motivation" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_motivation_goes_into_the_report_inside_the_output(corpus, tmp_path):
    _, source, planted, _, key = corpus
    custom = tmp_path / "more.yaml"
    custom.write_text(
        "name: more\nextends: diagnosis\nkeep: [PatientAge, PatientSex]\n"
        "motivation: Age and sex are needed to study sex differences in nodule growth.\n",
        encoding="utf-8",
    )
    out = tmp_path / "motivated"
    assert (
        main(
            [
                "deid",
                "run",
                str(source),
                str(out),
                "--profile",
                str(custom),
                "--key",
                str(key),
                "--quiet",
            ]
        )
        == 0
    )
    inside = (out / "DEIDENTIFICATION.txt").read_text(encoding="utf-8")
    assert "Age and sex are needed to study sex differences" in inside
    assert find_leaks(out, planted) == []


def test_output_inside_input_is_refused(corpus, capsys):
    _, source, _, _, key = corpus
    code = main(
        [
            "deid",
            "run",
            str(source),
            str(source / "out"),
            "--profile",
            "images-only",
            "--key",
            str(key),
            "--quiet",
        ]
    )
    assert code == 2
    assert "must not be inside the input folder" in capsys.readouterr().err
