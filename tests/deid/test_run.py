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


def _deid(source, out, profile, key) -> int:
    """`aidahub deid run SOURCE OUT --profile PROFILE --key KEY --quiet`; its exit status."""
    argv = ["deid", "run", str(source), str(out), "--profile", str(profile), "--key", str(key)]
    return main([*argv, "--quiet"])


def _run(corpus, profile: str, name: str) -> tuple[int, Path]:
    root, source, _, _, key = corpus
    out = root / name
    code = _deid(str(source), str(out), profile, str(key))
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
    assert _deid(str(source), str(out_c), "scanner", str(other)) == 0
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
    code = _deid(str(source), str(tmp_path / "o"), str(custom), str(key))
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
    assert _deid(str(source), str(out), str(custom), str(key)) == 0
    inside = (out / "DEIDENTIFICATION.txt").read_text(encoding="utf-8")
    assert "Age and sex are needed to study sex differences" in inside
    assert find_leaks(out, planted) == []


def test_output_inside_input_is_refused(corpus, capsys):
    _, source, _, _, key = corpus
    code = _deid(str(source), str(source / "out"), "images-only", str(key))
    assert code == 2
    assert "must not be inside the input folder" in capsys.readouterr().err


def test_remove_times_leaves_nothing_that_orders_a_patients_examinations(corpus, tmp_path):
    """The policy's breast lymph node example: times blanked, examination order hidden."""
    _, source, planted, _, key = corpus
    profile = tmp_path / "no-times.yaml"
    profile.write_text(
        "name: no-times\nextends: time-period\noptions: {remove_times: true}\n", encoding="utf-8"
    )
    out = tmp_path / "no-times"
    assert _deid(str(source), str(out), str(profile), str(key)) == 0
    per_study: dict[str, set[str]] = {}
    for path in out.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        seen = per_study.setdefault(ds.StudyInstanceUID, set())
        for element in ds.iterall():
            if element.VR == "TM":
                assert element.value in ("", None), (path, element)
            elif element.VR in ("DA", "DT") and element.value:
                seen.add(str(element.value))
            elif element.keyword in ("InstanceNumber", "SeriesNumber", "AcquisitionNumber"):
                assert element.value in ("", None), (path, element)
    assert len(per_study) >= 2, "the corpus has several examinations of the patient"
    # No date or date-time tells one examination from another (a constant dummy value,
    # where the standard requires one, tells nothing either).
    all_values = set().union(*per_study.values())
    study_dates = {v[:8] for v in all_values if not v.startswith("1900")}
    assert len(study_dates) == 1, study_dates
    assert find_leaks(out, planted) == []


def test_remapped_uids_do_not_keep_the_original_order(corpus):
    from aidahub.deid.keys import load_key
    from aidahub.deid.uids import remap_uid

    key = load_key(corpus[4])
    originals = [f"1.2.826.0.1.3680043.2.1125.1.{n}" for n in range(1, 201)]
    remapped = [int(remap_uid(key, uid).split(".")[-1]) for uid in originals]
    ascending = sum(a < b for a, b in zip(remapped, remapped[1:], strict=False))
    # A monotone mapping would give 199 ascending neighbours; a keyed hash about half.
    assert 60 < ascending < 140, ascending


@pytest.mark.parametrize("profile", ["time-period", "exam-type", "diagnosis"])
def test_no_shifted_birth_date_survives_to_give_away_the_age(corpus, profile):
    """A birth date moved by the patient's offset keeps the exact age at examination."""
    import datetime as dt

    from aidahub.deid.dates import plan_for
    from aidahub.deid.keys import load_key

    _, _, planted, _, key_file = corpus
    code, out = _run(corpus, profile, f"birth-{profile}")
    assert code == 0
    key = load_key(key_file)
    birth = dt.datetime.strptime(planted.values["birth_date"], "%Y%m%d").date()
    # Every patient identity the corpus uses gives one offset; try them all.
    shifted = set()
    for path in out.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        for element in ds.iterall():
            if element.VR in ("DA", "DT") and element.value:
                shifted.add(str(element.value)[:8])
    offsets = {
        plan_for(key, identity, anchor=None).offset_days for identity in _identities(corpus[1])
    }
    for days in offsets:
        moved = (birth + dt.timedelta(days=days)).strftime("%Y%m%d")
        assert moved not in shifted, (profile, moved)


def _identities(source: Path) -> set[str]:
    from aidahub.deid.pseudonyms import patient_identity

    found = set()
    for path in source.rglob("*"):
        try:
            found.add(patient_identity(pydicom.dcmread(path, stop_before_pixels=True)))
        except Exception:  # noqa: BLE001, S112 - the bad files are not patients
            continue
    return found


def test_a_key_inside_the_data_is_refused(corpus, tmp_path, capsys):
    _, source, _, _, key = corpus
    out = tmp_path / "out"
    out.mkdir()
    inside = out / "copy.key"
    inside.write_bytes(key.read_bytes())
    inside.chmod(0o600)
    code = _deid(str(source), str(out), "images-only", str(inside))
    assert code == 2
    assert "the key must live apart from the data" in capsys.readouterr().err


def test_every_bundled_test_file_is_written_excluded_or_quarantined(tmp_path, capsys):
    """pydicom's own test files and deid-data's: odd syntaxes, odd VRs, damaged files."""
    import shutil

    import deid_data

    source = tmp_path / "bundled"
    shutil.copytree(Path(pydicom.__file__).parent / "data" / "test_files", source / "pydicom")
    shutil.copytree(Path(deid_data.__file__).parent / "data", source / "deid_data")
    total = sum(1 for p in source.rglob("*") if p.is_file())
    key = tmp_path / "k.key"
    assert main(["deid", "keygen", str(key)]) == 0
    out = tmp_path / "out"
    code = _deid(str(source), str(out), "exam-type", str(key))
    assert code == 0
    report = json.loads((tmp_path / "out.report.json").read_text(encoding="utf-8"))
    accounted = (
        report["written"] + sum(report["excluded"].values()) + sum(report["quarantined"].values())
    )
    assert accounted == total
    # Many of the bundled files are one image in several encodings, with one SOP Instance
    # UID: each is de-identified, one output is kept per instance, the others are excluded.
    assert report["written"] >= 90
    assert report["excluded"].get("duplicate SOP Instance UID", 0) >= 5
    assert len(list(out.rglob("*.dcm"))) == report["written"]
    assert "engine-error" not in report["quarantined"]
    for path in out.rglob("*.dcm"):
        assert pydicom.dcmread(path).PatientIdentityRemoved == "YES"
