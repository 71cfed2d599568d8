"""Sign-offs: a configuration reviewed for a caregiver's scanner, and `deid run` honouring it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from aidahub.cli import main
from aidahub.deid.profile import load_profile
from aidahub.deid.signoff import (
    Combination,
    SignOff,
    SignOffCheck,
    SignOffError,
    configuration_hash,
    default_folder,
    load_signoffs,
    write_signoff,
)
from tests.deid.planted import make_corpus

SOURCE = "Vättersborgs lasarett"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("signoff")
    source = root / "in"
    make_corpus(source, seed=5)
    key = root / "secret.key"
    assert main(["deid", "keygen", str(key)]) == 0
    return root, source, key


def _profile_file(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ct-study.yaml"
    path.write_text("name: ct-study\nextends: images-only\n" + extra, encoding="utf-8")
    return path


def _run(corpus, out: Path, *extra: str) -> int:
    _, source, key = corpus
    argv = ["deid", "run", str(source), str(out), "--key", str(key), "--quiet", *extra]
    return main(argv)


def _report(out: Path) -> dict:
    return json.loads(out.with_name(out.name + ".report.json").read_text(encoding="utf-8"))


def test_the_configuration_hash_follows_the_rules_not_the_wording(tmp_path):
    first = load_profile(str(_profile_file(tmp_path / "a")))
    reworded = load_profile(str(_profile_file(tmp_path / "b", "# a comment\n")))
    stricter = load_profile(str(_profile_file(tmp_path / "c", "house_rules: [ge]\n")))
    assert configuration_hash(first) == configuration_hash(reworded)
    assert configuration_hash(first) != configuration_hash(stricter)
    assert configuration_hash(first) != configuration_hash(load_profile("diagnosis"))


def test_sign_offs_are_files_beside_the_profile_and_read_back(tmp_path):
    profile_path = _profile_file(tmp_path / "profiles")
    folder = default_folder(str(profile_path))
    assert folder == profile_path.parent / "signoffs"
    signoff = SignOff(
        combination=Combination(SOURCE, "SIEMENS", "SOMATOM Force"),
        configuration=configuration_hash(load_profile(str(profile_path))),
        profile="ct-study",
        reviewer="Ann Granskare",
        signed_at="2026-12-02T10:00:00Z",
        reviewed={"sample": "sample-1", "examinations": 3},
    )
    path = write_signoff(folder, signoff)
    assert path.is_file() and path.is_relative_to(folder)
    record = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert record["reviewer"] == "Ann Granskare" and record["reviewed"]["examinations"] == 3
    assert load_signoffs(folder) == [signoff]
    assert not list(folder.rglob("*.partial"))


def test_matching_ignores_letter_case_and_spacing():
    check = SignOffCheck("abc", frozenset({Combination(SOURCE, "SIEMENS", "SOMATOM Force").key}))
    assert check.signed_off(check.combination("Siemens", "SOMATOM  force", SOURCE))
    assert not check.signed_off(check.combination("Siemens", "SOMATOM X.cite", SOURCE))


def test_a_broken_sign_off_file_is_named(tmp_path):
    (tmp_path / "x.signoff.yaml").write_text("reviewer: [unclosed", encoding="utf-8")
    with pytest.raises(SignOffError, match="x.signoff.yaml"):
        load_signoffs(tmp_path)
    with pytest.raises(SignOffError, match="reviewer"):
        write_signoff(tmp_path, SignOff(Combination("a", "b", "c"), "h", "p", " ", "t"))


def test_run_warns_about_every_scanner_without_a_sign_off(corpus, tmp_path, capsys):
    profile = _profile_file(tmp_path / "profiles")
    out = tmp_path / "out"
    capsys.readouterr()
    assert _run(corpus, out, "--profile", str(profile), "--source", SOURCE) == 0
    err = capsys.readouterr().err
    assert "nobody has signed off" in err
    warned = [f for f in _report(out)["files"] if any("no-signoff" in w for w in f["warnings"])]
    assert warned, "every written file of an unreviewed scanner carries the warning"
    assert list(out.rglob("*.dcm")), "without --require-signoff the files are still written"


def test_require_signoff_holds_files_back_until_a_sign_off_then_resume_writes_them(
    corpus, tmp_path, capsys
):
    profile_path = _profile_file(tmp_path / "profiles")
    out = tmp_path / "out"
    args = ["--profile", str(profile_path), "--source", SOURCE, "--require-signoff"]
    assert _run(corpus, out, *args) == 0
    report = _report(out)
    assert report["held"] and report["written"] == 0
    assert not list(out.rglob("*.dcm")), "held files must not be written"
    held = {f["source"] for f in report["files"] if f["outcome"] == "held"}

    # Sign off every combination the run held back (the review itself is tested below).
    profile = load_profile(str(profile_path))
    combos = {f["reason"].split(" for ", 1)[1] for f in report["files"] if f["outcome"] == "held"}
    folder = default_folder(str(profile_path))
    for text in combos:
        source, manufacturer, model = (
            "" if part.startswith("(no ") else part for part in text.split(" / ")
        )
        write_signoff(
            folder,
            SignOff(
                Combination(source, manufacturer, model),
                configuration_hash(profile),
                profile.name,
                "Ann Granskare",
                "2026-12-02T10:00:00Z",
            ),
        )
    capsys.readouterr()
    assert _run(corpus, out, *args, "--resume") == 0
    again = _report(out)
    assert not again["held"]
    assert again["written"] > 0
    assert again["written"] + sum(again["excluded"].values()) == len(held)
    assert len(list(out.rglob("*.dcm"))) == again["written"]


def test_require_signoff_without_a_folder_is_refused(corpus, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("AIDAHUB_DEID_SIGNOFFS", raising=False)
    code = _run(corpus, tmp_path / "out", "--profile", "images-only", "--require-signoff")
    assert code == 2
    assert "--signoffs" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_signoff_command_needs_every_sampled_examination_clean(corpus, tmp_path, capsys):
    from aidahub.deid import report

    profile_path = _profile_file(tmp_path / "profiles")
    out = tmp_path / "out"
    assert _run(corpus, out, "--profile", str(profile_path)) == 0
    sheet = report.sample(out, every=1, seed=7).folder
    verdicts = sheet / "verdicts.csv"
    base = [
        "deid", "signoff", "--profile", str(profile_path), "--source", SOURCE,
        "--manufacturer", "SIEMENS", "--model", "SOMATOM Force", "--reviewer", "Ann Granskare",
        "--sample", str(sheet),
    ]  # fmt: skip
    capsys.readouterr()
    assert main(base) == 1, "an unreviewed sheet cannot be signed off"
    assert "without a verdict" in capsys.readouterr().err

    rows = list(csv.DictReader(verdicts.open(encoding="utf-8")))
    with verdicts.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for number, row in enumerate(rows):
            row["verdict"] = "found" if number == 0 else "clean"
            row["reviewer"] = "Ann Granskare"
            writer.writerow(row)
    assert main(base) == 1, "a sheet with a finding cannot be signed off"

    for row in rows:
        row["verdict"] = "clean"
    with verdicts.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    capsys.readouterr()
    assert main(base) == 0
    assert "signed off configuration" in capsys.readouterr().out
    (signoff,) = load_signoffs(default_folder(str(profile_path)))
    assert signoff.reviewer == "Ann Granskare"
    assert signoff.reviewed["seed"] == 7 and signoff.reviewed["examinations"] == len(rows)
    assert main(["deid", "signoff", "--profile", str(profile_path), "--list"]) == 0
    assert "current" in capsys.readouterr().out
