"""Kill real `aidahub deid run` processes at random points; `--resume` must lose nothing.

Every test compares with one uninterrupted run: the same relative paths with the same bytes
in the output and the quarantine, the same counts in the report, no temporary file left.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from aidahub.cli import main
from tests.deid.trees import tree as _tree

FILES = 600
PATIENTS = 8
BAD = 2
PROFILE = "name: scaled\nextends: time-period\noptions: {scale_intervals: true}\n"


def _make_corpus(target: Path) -> int:
    """Copies of pydicom's CT_small.dcm: patients with two studies each, new UIDs, bad files.

    The studies of a patient lie on different dates and the profile scales the intervals,
    so a resumed run must find each patient's first examination again.
    """
    original = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    for n in range(FILES):
        ds = original.copy()
        patient, study = n % PATIENTS, (n // PATIENTS) % 2
        ds.PatientID = f"RES{patient:03d}"
        ds.PatientName = f"Resume^Patient{patient}"
        ds.StudyDate = f"20{20 + study}0{patient + 1}15"
        ds.StudyInstanceUID = f"1.2.826.0.1.3680043.10.544.{patient}.{study}"
        ds.SeriesInstanceUID = f"{ds.StudyInstanceUID}.{n % 3}"
        ds.SOPInstanceUID = f"{ds.SeriesInstanceUID}.{n}"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        folder = target / f"patient{patient}" / f"study{study}"
        folder.mkdir(parents=True, exist_ok=True)
        ds.save_as(folder / f"IM{n:04d}", enforce_file_format=True)
    (target / "notes.txt").write_text("not an image\n", encoding="utf-8")
    data = (target / "patient0" / "study0" / "IM0000").read_bytes()
    (target / "patient0" / "cut.dcm").write_bytes(data[: len(data) // 2])
    return FILES + BAD


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    source = root / "in"
    total = _make_corpus(source)
    key = root / "secret.key"
    assert main(["deid", "keygen", str(key)]) == 0
    profile = root / "scaled.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    reference = root / "reference"
    done = _command(root, reference)
    assert done.returncode == 0, done.stderr
    return root, total, reference


def _argv(root: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "aidahub.cli", "deid", "run", str(root / "in"), str(out),
        "--profile", str(root / "scaled.yaml"), "--key", str(root / "secret.key"),
        "--quiet", "--workers", "2", *extra,
    ]  # fmt: skip


def _command(root: Path, out: Path, *extra: str, **options) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _argv(root, out, *extra), capture_output=True, text=True, timeout=120, **options
    )


def _beside(out: Path, suffix: str) -> Path:
    return out.with_name(out.name + suffix)


def _journal_entries(out: Path) -> list[dict]:
    path = _beside(out, ".journal")
    if not path.exists():
        return []
    data = path.read_bytes()
    entries = []
    for line in data[: data.rfind(b"\n") + 1].splitlines()[1:]:
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue  # a damaged line, which the run ignores too
    return entries


def _temporary_files(out: Path) -> list[Path]:
    """The run's temporary files: in OUT, in its quarantine, and its own beside OUT."""
    inside = [*out.rglob("*.partial"), *_beside(out, ".quarantine").rglob("*.partial")]
    return [*inside, *out.parent.glob(f".{out.name}.*.partial")]


def _report(out: Path) -> dict:
    return json.loads(_beside(out, ".report.json").read_text(encoding="utf-8"))


def _assert_same_as_reference(out: Path, reference: Path, total: int) -> None:
    expected, got = _tree(reference), _tree(out)
    assert sorted(got) == sorted(expected), "no output missing, none extra"
    assert [name for name in expected if expected[name] != got[name]] == []
    assert _tree(_beside(out, ".quarantine")) == _tree(_beside(reference, ".quarantine"))
    assert _temporary_files(out) == []
    report, full = _report(out), _report(reference)
    for field in ("total", "written", "excluded", "quarantined", "files"):
        assert report[field] == full[field], field
    sources = [entry["source"] for entry in _journal_entries(out)]
    assert len(sources) == len(set(sources)) == total, "each file journaled exactly once"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def _run_and_kill(root: Path, out: Path, rng: random.Random, how: str, *extra: str) -> None:
    """Start a run and SIGKILL it once the journal holds some lines, or after a delay."""
    process = subprocess.Popen(
        _argv(root, out, *extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        if how == "delay":
            time.sleep(rng.uniform(0.2, 1.2))
        else:
            already = len(_journal_entries(out))
            target = already + rng.randint(1, max(1, (FILES - already) // 2))
            deadline = time.monotonic() + 60
            while len(_journal_entries(out)) < target and time.monotonic() < deadline:
                time.sleep(0.005)
        assert process.poll() is None, "the run should still be going when it is killed"
        if how == "parent":
            workers = _children(process.pid)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            deadline = time.monotonic() + 10
            while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert all(_gone(pid) for pid in workers), "workers die with their parent"
        else:
            os.killpg(process.pid, signal.SIGKILL)  # the whole run, workers included
            process.wait(timeout=10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize(
    ("seed", "kills"),
    [(0, ("journal",)), (1, ("delay",)), (2, ("parent",)), (3, ("journal", "journal"))],
)
def test_a_killed_run_resumes_to_exactly_the_uninterrupted_output(corpus, seed, kills):
    root, total, reference = corpus
    rng = random.Random(seed)
    out = root / f"killed-{seed}"
    for number, how in enumerate(kills):
        _run_and_kill(root, out, rng, how, *(["--resume"] if number else []))
    journaled = len(_journal_entries(out))
    assert journaled < total, "the kill came before the end"
    finished = _command(root, out, "--resume")
    assert finished.returncode == 0, finished.stderr
    _assert_same_as_reference(out, reference, total)
    assert _report(out)["resumed"] == journaled
    assert _report(out)["processed"] == total - journaled


def test_running_again_without_resume_is_refused(corpus):
    root, _, reference = corpus
    before = _beside(reference, ".journal").read_bytes()
    again = _command(root, reference)
    assert again.returncode == 2
    assert "already holds a run: use --resume to finish it, or choose another folder" in (
        again.stderr
    )
    assert _beside(reference, ".journal").read_bytes() == before


def test_a_second_run_on_the_same_output_is_refused_while_the_first_runs(corpus, capsys):
    root, _, _ = corpus
    out = root / "busy"
    first = subprocess.Popen(
        _argv(root, out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _journal_entries(out) and time.monotonic() < deadline:
            time.sleep(0.005)
        argv = ["deid", "run", str(root / "in"), str(out), "--profile"]
        argv += [str(root / "scaled.yaml"), "--key", str(root / "secret.key"), "--quiet"]
        assert main([*argv, "--resume"]) == 2
        assert "another run is writing to this output folder" in capsys.readouterr().err
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()


def test_resuming_with_another_key_is_refused(corpus, tmp_path, capsys):
    root, _, reference = corpus
    other = tmp_path / "other.key"
    assert main(["deid", "keygen", str(other)]) == 0
    argv = ["deid", "run", str(root / "in"), str(reference), "--profile"]
    argv += [str(root / "scaled.yaml"), "--key", str(other), "--quiet", "--resume"]
    assert main(argv) == 2
    assert "resume it with the same profile and key" in capsys.readouterr().err


def test_a_torn_journal_line_is_ignored_and_cut_off(corpus, tmp_path):
    root, total, reference = corpus
    out = tmp_path / "torn"
    # The finished reference run, copied; the journal names paths relative to IN and OUT.
    shutil.copytree(reference, out)
    shutil.copytree(_beside(reference, ".quarantine"), _beside(out, ".quarantine"))
    journal = _beside(out, ".journal")
    lines = _beside(reference, ".journal").read_bytes().splitlines(keepends=True)
    kept = lines[: 1 + total * 2 // 3]
    # A damaged line in the middle, then a last line cut short as a crash would leave it.
    journal.write_bytes(b"".join([*kept, b"not json\n", lines[-1][: len(lines[-1]) // 2]]))
    resumed = _command(root, out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    _assert_same_as_reference(out, reference, total)
    assert _report(out)["resumed"] == len(kept) - 1
    assert journal.read_bytes().endswith(b"\n")


def test_an_unwritable_output_folder_stops_with_a_clear_message(corpus, tmp_path):
    """Tests run as root, where chmod stops no write: the output folder is put under a file."""
    root, _, _ = corpus
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way\n", encoding="utf-8")
    stopped = _command(root, blocker / "out")
    assert stopped.returncode == 3
    message = stopped.stderr.strip()
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("aidahub deid run: cannot create the output folder")
    assert "--resume" in message


def _limit_file_size() -> None:
    # Smaller than every de-identified CT_small (32 kB of pixels), larger than the journal's
    # header and the quarantined files: the first output write fails as on a full disk.
    resource.setrlimit(resource.RLIMIT_FSIZE, (30_000, 30_000))


def test_a_failing_write_stops_cleanly_and_the_run_resumes(corpus):
    root, total, reference = corpus
    out = root / "write-fails"
    stopped = _command(root, out, preexec_fn=_limit_file_size)
    assert stopped.returncode == 3, stopped.stderr
    message = stopped.stderr.strip()
    assert "\n" not in message and "Traceback" not in message
    assert "cannot write to the output folder" in message and "--resume" in message
    assert not [p for p in out.rglob("*") if p.is_file() and p.name != "DEIDENTIFICATION.txt"]
    assert _temporary_files(out) == []
    finished = _command(root, out, "--resume")
    assert finished.returncode == 0, finished.stderr
    _assert_same_as_reference(out, reference, total)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_input_file_is_quarantined_by_reason_only(tmp_path):
    source = tmp_path / "in"
    _make_corpus(source)
    locked = source / "patient1" / "study0" / "IM0001"
    locked.chmod(0)
    key = tmp_path / "k.key"
    assert main(["deid", "keygen", str(key)]) == 0
    out = tmp_path / "out"
    argv = ["deid", "run", str(source), str(out), "--profile", "images-only"]
    assert main([*argv, "--key", str(key), "--quiet", "--workers", "1"]) == 0
    entry = next(f for f in _report(out)["files"] if f["source"] == "patient1/study0/IM0001")
    assert entry["reason"] == "unreadable: permission denied"
    assert entry["copied"] is False


def test_an_input_changed_since_the_run_replaces_its_old_output(tmp_path):
    """Resume redoes a changed file; what it wrote before must not stay beside the new."""
    source = tmp_path / "in"
    source.mkdir()
    original = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    for n in range(3):
        ds = original.copy()
        ds.SOPInstanceUID = f"1.2.826.0.1.3680043.10.544.9.{n}"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(source / f"IM{n}", enforce_file_format=True)
    key = tmp_path / "secret.key"
    assert main(["deid", "keygen", str(key)]) == 0
    out = tmp_path / "out"
    argv = ["deid", "run", str(source), str(out), "--profile", "images-only", "--key", str(key)]
    argv += ["--quiet", "--workers", "1"]
    assert main(argv) == 0
    before = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    outputs = lambda: {e["source"]: e.get("output", "") for e in _journal_entries(out)}  # noqa: E731
    first = outputs()

    # IM0 is now another image (a new SOP Instance UID: a new output name); IM1 is cut short.
    ds = original.copy()
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.10.544.9.77"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(source / "IM0", enforce_file_format=True)
    data = (source / "IM1").read_bytes()
    (source / "IM1").write_bytes(data[:300])
    os.utime(source / "IM1", ns=(1, 1))
    assert main([*argv, "--resume"]) == 0

    now = outputs()  # the journal's last line per file wins
    assert now["IM2"] == first["IM2"]
    assert now["IM0"] != first["IM0"] and now["IM1"] == ""
    after = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    dicom_after = {p for p in after if p.as_posix() in now.values()}
    assert not (out / first["IM0"]).exists(), "the old version's output is gone"
    assert not (out / first["IM1"]).exists(), "a now quarantined file leaves no output"
    assert (out / now["IM0"]).is_file() and (out / now["IM2"]).is_file()
    assert dicom_after == {Path(now["IM0"]), Path(now["IM2"])}
    assert len(after) == len(before) - 1  # two outputs then three; the report files stay


def test_after_a_power_cut_outputs_that_did_not_reach_the_disk_are_done_again(corpus):
    """An output the kernel had not written when the power went comes back short or empty
    (or not at all) while its journal line survived: --resume must not trust it."""
    root, total, reference = corpus
    out = root / "power-cut"
    first = _command(root, out)
    assert first.returncode == 0, first.stderr
    entries = [e for e in _journal_entries(out) if e["outcome"] == "written"]
    assert all(e["output_size"] > 0 for e in entries)
    emptied, cut, gone = (out / entries[n]["output"] for n in (0, 1, 2))
    emptied.write_bytes(b"")
    cut.write_bytes(cut.read_bytes()[:-100])
    gone.unlink()
    finished = _command(root, out, "--resume")
    assert finished.returncode == 0, finished.stderr
    assert _report(out)["resumed"] == total - 3
    expected, got = _tree(reference), _tree(out)
    assert [name for name in expected if expected[name] != got.get(name)] == []


def test_with_sync_every_commit_waits_for_the_disk(tmp_path, monkeypatch):
    """--sync: the file systems of the output and the quarantine are synced before the
    journal's lines are written; without it, never (the size check covers a power cut)."""
    from aidahub.deid import batch
    from aidahub.deid import journal as journal_module
    from aidahub.deid.keys import key_from_secret
    from aidahub.deid.profile import load_profile

    source = tmp_path / "in"
    source.mkdir()
    shutil.copy(get_testdata_file("CT_small.dcm"), source / "a.dcm")
    synced: list[Path] = []
    monkeypatch.setattr(journal_module, "_sync_filesystem", synced.append)
    options = {"profile": load_profile("images-only"), "key": key_from_secret(b"k" * 32)}
    batch.run(source, tmp_path / "plain", **options)
    assert synced == []
    batch.run(source, tmp_path / "durable", sync=True, **options)
    assert synced == [tmp_path / "durable", tmp_path / "durable.quarantine"]
    lines = (tmp_path / "durable.journal").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["outcome"] == "written"
