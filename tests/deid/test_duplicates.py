"""Inputs that share a SOP Instance UID: one output, chosen the same way in every run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from aidahub.cli import main
from tests.deid.trees import tree

UID = "1.2.826.0.1.3680043.10.544.7.1"


def _save(ds, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture
def archive(tmp_path):
    """Forty images; IM0 is also in a resend folder, and an edited IM0 sits in 'edited'."""
    source = tmp_path / "in"
    original = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    for n in range(40):
        ds = original.copy()
        ds.SOPInstanceUID = UID if n == 0 else f"1.2.826.0.1.3680043.10.544.8.{n}"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        _save(ds, source / "a" / f"IM{n:02d}")
    (source / "resend").mkdir()
    shutil.copy(source / "a" / "IM00", source / "resend" / "IM00")
    edited = pydicom.dcmread(source / "a" / "IM00")
    edited.SeriesDescription = "edited after the first send"
    _save(edited, source / "edited" / "IM00")
    key = tmp_path / "secret.key"
    assert main(["deid", "keygen", str(key)]) == 0
    return source, key


def _run(source: Path, out: Path, key: Path, workers: int, *extra: str) -> dict:
    argv = ["deid", "run", str(source), str(out), "--profile", "images-only"]
    argv += ["--key", str(key), "--quiet", "--workers", str(workers), *extra]
    assert main(argv) == 0
    return json.loads(out.with_name(out.name + ".report.json").read_text(encoding="utf-8"))


def _outcomes(out: Path) -> dict[str, dict]:
    """Each input's outcome as the journal has it (a later line for a file wins)."""
    lines = out.with_name(out.name + ".journal").read_text(encoding="ascii").splitlines()
    return {e["source"]: e for e in map(json.loads, lines[1:])}


def test_one_output_per_instance_kept_from_the_first_path(archive, tmp_path):
    source, key = archive
    report = _run(source, tmp_path / "out", key, workers=2)
    files = _outcomes(tmp_path / "out")
    assert files["a/IM00"]["outcome"] == "written"
    for dup in ("edited/IM00", "resend/IM00"):
        assert files[dup]["outcome"] == "excluded"
        assert files[dup]["reason"] == (
            "duplicate SOP Instance UID: the same instance as a/IM00, kept"
        )
    assert report["written"] == 40
    assert report["excluded"] == {"duplicate SOP Instance UID": 2}
    outputs = [p for p in (tmp_path / "out").rglob("*.dcm")]
    assert len(outputs) == 40
    # The kept output is a/IM00's, whichever worker renamed last: compare with a run of it
    # alone.
    alone = tmp_path / "alone"
    (alone / "a").mkdir(parents=True)
    shutil.copy(source / "a" / "IM00", alone / "a" / "IM00")
    _run(alone, tmp_path / "alone-out", key, workers=1)
    only = tree(tmp_path / "alone-out")
    kept = {k: v for k, v in tree(tmp_path / "out").items() if k in only and k.endswith(".dcm")}
    assert kept and kept == {k: v for k, v in only.items() if k.endswith(".dcm")}


def test_runs_agree_whatever_the_number_of_workers(archive, tmp_path):
    source, key = archive
    _run(source, tmp_path / "one", key, workers=1)
    _run(source, tmp_path / "two", key, workers=2)
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_a_run_that_journaled_both_duplicates_is_repaired_on_resume(archive, tmp_path):
    """As if killed after both were journaled as written, before the duplicates were settled."""
    source, key = archive
    out = tmp_path / "out"
    _run(source, out, key, workers=2)
    journal = out.with_name("out.journal")
    lines = journal.read_text(encoding="ascii").splitlines()
    entries = [json.loads(line) for line in lines[1:]]
    kept_output = next(e["output"] for e in entries if e["source"] == "a/IM00")
    unsettled = [lines[0]]
    for entry in entries:
        if entry["source"] in ("edited/IM00", "resend/IM00"):
            entry = {**entry, "outcome": "written", "output": kept_output}
            entry.pop("reason", None)
        unsettled.append(json.dumps(entry, separators=(",", ":")))
    journal.write_text("\n".join(unsettled) + "\n", encoding="ascii")
    # The edited copy renamed last: its bytes are on disk under the shared name.
    edited = tmp_path / "edited-only"
    (edited / "edited").mkdir(parents=True)
    shutil.copy(source / "edited" / "IM00", edited / "edited" / "IM00")
    _run(edited, tmp_path / "edited-out", key, workers=1)
    (out / kept_output).write_bytes((tmp_path / "edited-out" / kept_output).read_bytes())

    _run(source, out, key, 2, "--resume")
    files = _outcomes(out)
    assert [files[d]["outcome"] for d in ("edited/IM00", "resend/IM00")] == ["excluded"] * 2
    reference = tmp_path / "reference"
    _run(source, reference, key, workers=1)
    assert tree(out) == tree(reference)
