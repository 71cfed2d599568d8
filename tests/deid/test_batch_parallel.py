"""`aidahub deid run --workers N`: the same output, byte for byte, whatever the workers."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
from pathlib import Path

import pydicom
import pytest

from aidahub.cli import main
from aidahub.deid.batch import run
from aidahub.deid.keys import load_key
from aidahub.deid.profile import load_profile
from tests.deid.planted import bad_files, make_corpus
from tests.deid.trees import tree as _tree

CT_ROLES = ("ct1_1", "ct1_2", "ct1_3_j2k", "ct2_1_latin1", "ct2_2_deflated")
PATIENTS = 4
COPIES = 2


def _copy_ct_slices(planted, target: Path) -> int:
    """Copies of the corpus's CT slices for more patients, each with their own UIDs and dates.

    Study dates differ per patient and study, so the date plans' anchors (the patient's first
    examination) matter; every copy keeps its transfer syntax (JPEG 2000, deflated, ...).
    """
    written = 0
    for patient in range(PATIENTS):
        for role in CT_ROLES:
            ds = pydicom.dcmread(planted.files[role])
            study = 1 if role.startswith("ct1") else 2
            for copy in range(COPIES):
                ds.PatientID = f"COPY{patient:02d}"
                ds.PatientName = f"Kopia^Patient{patient}"
                ds.StudyDate = f"20{18 + study + patient}0{study + 2}1{patient}"
                ds.StudyInstanceUID = f"1.2.826.0.1.3680043.10.543.{patient}.{study}"
                ds.SeriesInstanceUID = f"{ds.StudyInstanceUID}.{copy + 1}"
                ds.SOPInstanceUID = f"{ds.SeriesInstanceUID}.{written + 1}"
                ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
                folder = target / f"patient{patient}"
                folder.mkdir(parents=True, exist_ok=True)
                ds.save_as(folder / f"{role}_{copy}.dcm", enforce_file_format=True)
                written += 1
    return written


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("parallel")
    source = root / "in"
    planted = make_corpus(source, seed=1)
    bad = bad_files(source / "bad", planted)
    copies = _copy_ct_slices(planted, source / "copies")
    key = root / "secret.key"
    assert main(["deid", "keygen", str(key)]) == 0
    scaled = root / "scaled.yaml"
    scaled.write_text(
        "name: scaled\nextends: time-period\noptions: {scale_intervals: true}\n", encoding="utf-8"
    )
    return root, source, planted, bad, copies, key, scaled


def _cli(corpus, out: Path, profile: str, workers: int) -> dict:
    root, source, *_, key, _ = corpus
    argv = ["deid", "run", str(source), str(out), "--profile", profile, "--key", str(key)]
    assert main([*argv, "--quiet", "--workers", str(workers)]) == 0
    return json.loads(out.with_name(out.name + ".report.json").read_text(encoding="utf-8"))


def _same_run(a: Path, b: Path) -> None:
    tree_a, tree_b = _tree(a), _tree(b)
    assert sorted(tree_a) == sorted(tree_b)
    different = [name for name in tree_a if tree_a[name] != tree_b[name]]
    assert different == []
    quarantine = lambda out: _tree(out.with_name(out.name + ".quarantine"))  # noqa: E731
    assert quarantine(a) == quarantine(b)


@pytest.mark.parametrize("profile", ["exam-type", "scaled"])
def test_two_workers_write_exactly_what_one_writes(corpus, profile):
    root, source, planted, bad, copies, key, scaled = corpus
    name = str(scaled) if profile == "scaled" else profile
    serial = _cli(corpus, root / f"{profile}-1", name, 1)
    parallel = _cli(corpus, root / f"{profile}-2", name, 2)
    _same_run(root / f"{profile}-1", root / f"{profile}-2")

    total = sum(1 for p in source.rglob("*") if p.is_file())
    dicom_images = len(planted.files) - len(planted.exclusions) + copies
    for report in (serial, parallel):
        assert report["total"] == report["processed"] == total
        assert report["written"] == dicom_images
        assert sum(report["excluded"].values()) == len(planted.exclusions)
        assert sum(report["quarantined"].values()) == len(bad)
        assert report["files_per_second"] > 0 and report["megabytes_per_second"] > 0
        assert report["resumed"] == 0 and report["seconds"] > 0
    assert (serial["workers"], parallel["workers"]) == (1, 2)
    assert serial["files"] == parallel["files"], "the same outcomes, in the same order"
    written = list((root / f"{profile}-2").rglob("*.dcm"))
    assert len(written) == dicom_images


def test_a_patient_gets_one_pseudonym_and_one_date_shift_across_workers(corpus):
    root, source, planted, bad, copies, key, scaled = corpus
    out = root / "consistency"
    _cli(corpus, out, "time-period", 2)
    by_patient: dict[str, set[str]] = {}
    for path in out.rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if ds.StudyInstanceUID.startswith("2.25.") and "ct" in str(ds.get("Modality", "")).lower():
            by_patient.setdefault(ds.PatientID, set()).add(f"{ds.StudyInstanceUID} {ds.StudyDate}")
    # Each patient's two studies, each on one shifted date, whichever worker wrote the slice.
    assert len(by_patient) == PATIENTS + 1
    for studies in by_patient.values():
        assert len(studies) == 2, studies


def test_a_worker_that_dies_does_not_stop_the_run(corpus, tmp_path):
    """A worker killed mid-run (as a crashing decoder would) breaks the pool: the run
    restarts it, retries the files that were in flight one by one, and loses nothing."""
    root, source, *_, key_file, _ = corpus
    profile, key = load_profile("exam-type"), load_key(key_file)
    reference = tmp_path / "one"
    run(source, reference, profile=profile, key=key, workers=1)
    killed: list[int] = []

    def kill_a_worker(outcome, done, total):
        if not killed:
            victim = multiprocessing.active_children()[0]
            killed.append(victim.pid)
            os.kill(victim.pid, signal.SIGKILL)

    out = tmp_path / "two"
    summary = run(source, out, profile=profile, key=key, workers=2, on_file=kill_a_worker)
    assert killed
    assert "crashed" not in summary.reasons("quarantined"), "the killed worker's files came through"
    _same_run(reference, out)


def test_workers_started_by_a_fork_server_write_the_same(corpus, tmp_path):
    """With other threads running, forking is unsafe: the workers come from a fork server."""
    root, source, *_, key, _ = corpus
    reference = root / "exam-type-1"
    if not reference.exists():
        _cli(corpus, reference, "exam-type", 1)
    release = threading.Event()
    bystander = threading.Thread(target=release.wait, daemon=True)
    bystander.start()
    try:
        _cli(corpus, tmp_path / "forkserver", "exam-type", 2)
    finally:
        release.set()
        bystander.join()
    _same_run(reference, tmp_path / "forkserver")
