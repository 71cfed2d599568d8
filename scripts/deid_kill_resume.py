"""Kill a large ``aidahub deid run`` at random moments, resume it, and check nothing was lost.

Issue 4 asks that "a 100,000-file run can be killed and resumed without loss". This script
builds that many files (copies of pydicom's ``CT_small.dcm`` as slices of series of
several patients, each with its own instance UID, plus a few damaged files), runs
``aidahub deid run --workers N`` on them, SIGKILLs the whole process group at random
moments (``--kills`` times), resumes with ``--resume`` until the run ends, and then checks:

* the journal lists every input file exactly once;
* the output holds exactly the files the report counts as written, each a readable DICOM
  file with Patient Identity Removed ``YES``, and no temporary file is left anywhere;
* the output is byte for byte the output of an uninterrupted run of the same files (with
  ``--compare``; that doubles the time and the disk space).

It prints the figures and exits non-zero on any loss. It only reads and writes the folder
it is given. Usage::

    python scripts/deid_kill_resume.py WORKDIR --files 100000 --kills 3 --compare
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

PATIENTS = 40
SLICES_PER_SERIES = 250


def build(source: Path, files: int) -> int:
    """Write *files* slices (and two damaged files) under *source*; return the total."""
    marker = source.with_name(source.name + ".complete")  # beside the input, not in it
    if marker.exists():
        return int(marker.read_text())
    shutil.rmtree(source, ignore_errors=True)
    original = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    written = 0
    started = time.monotonic()
    for n in range(files):
        series, slice_number = divmod(n, SLICES_PER_SERIES)
        patient = series % PATIENTS
        if slice_number == 0:
            ds = original.copy()
            ds.PatientID = f"SCALE{patient:04d}"
            ds.PatientName = f"Scale^Patient{patient}"
            ds.StudyInstanceUID = f"1.2.826.0.1.3680043.10.545.{patient}"
            ds.SeriesInstanceUID = f"{ds.StudyInstanceUID}.{series}"
            folder = source / f"patient{patient:04d}" / f"series{series:05d}"
            folder.mkdir(parents=True, exist_ok=True)
        ds.SOPInstanceUID = f"{ds.SeriesInstanceUID}.{slice_number + 1}"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = slice_number + 1
        ds.save_as(folder / f"IM{slice_number:05d}.dcm", enforce_file_format=True)
        written += 1
        if written % 10000 == 0:
            print(f"  built {written:,} files ({time.monotonic() - started:.0f} s)", flush=True)
    data = (source / "patient0000" / "series00000" / "IM00000.dcm").read_bytes()
    (source / "cut.dcm").write_bytes(data[: len(data) // 2])
    (source / "notes.txt").write_text("not an image\n", encoding="utf-8")
    total = written + 2
    marker.write_text(str(total))
    return total


def command(aidahub: str, source: Path, out: Path, key: Path, workers: int, *extra: str):
    return [
        aidahub, "deid", "run", str(source), str(out), "--profile", "exam-type",
        "--key", str(key), "--quiet", "--workers", str(workers), *extra,
    ]  # fmt: skip


def journal_lines(out: Path) -> int:
    path = out.with_name(out.name + ".journal")
    if not path.exists():
        return 0
    with open(path, "rb") as fh:
        return max(0, fh.read().count(b"\n") - 1)


def kill_at_random(argv: list[str], out: Path, total: int, rng: random.Random) -> int:
    """Start a run, SIGKILL it once a random share of the files is journaled; lines then."""
    already = journal_lines(out)
    target = already + rng.randint(1, max(1, (total - already) * 2 // 3))
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    while journal_lines(out) < target and process.poll() is None:
        time.sleep(0.02)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return journal_lines(out)


def tree_digest(folder: Path) -> dict[str, str]:
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != "DEIDENTIFICATION.txt":
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return found


def check(out: Path, total: int) -> list[str]:
    problems = []
    journal = out.with_name(out.name + ".journal")
    sources = [json.loads(line)["source"] for line in journal.read_bytes().splitlines()[1:]]
    if len(sources) != total or len(set(sources)) != total:
        problems.append(f"journal lists {len(sources)} lines, {len(set(sources))} files")
    report = json.loads(out.with_name(out.name + ".report.json").read_text())
    outputs = [p for p in out.rglob("*.dcm")]
    if len(outputs) != report["written"]:
        problems.append(f"{len(outputs)} output files, the report says {report['written']}")
    partial = [*out.rglob("*.partial"), *out.with_name(out.name + ".quarantine").rglob("*.partial")]
    if partial:
        problems.append(f"{len(partial)} temporary files left")
    step = max(1, len(outputs) // 2000)
    for path in outputs[::step]:
        if pydicom.dcmread(path).PatientIdentityRemoved != "YES":
            problems.append(f"{path} is not de-identified")
            break
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--compare", action="store_true", help="also run uninterrupted")
    args = parser.parse_args()
    aidahub = str(Path(sys.executable).with_name("aidahub"))
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    source, out, key = work / "in", work / "killed" / "out", work / "scale.key"
    print(f"Building {args.files:,} files in {source} ...", flush=True)
    total = build(source, args.files)
    if not key.exists():
        subprocess.run([aidahub, "deid", "keygen", str(key)], check=True, capture_output=True)
    shutil.rmtree(out.parent, ignore_errors=True)
    out.parent.mkdir(parents=True)
    rng = random.Random(args.seed)  # noqa: S311 - when to kill, not a secret
    argv = command(aidahub, source, out, key, args.workers)
    started = time.monotonic()
    for number in range(args.kills):
        lines = kill_at_random(argv + (["--resume"] if number else []), out, total, rng)
        print(f"kill {number + 1}: {lines:,} of {total:,} files journaled", flush=True)
    finished = subprocess.run(argv + ["--resume"], capture_output=True, text=True)
    seconds = time.monotonic() - started
    print(finished.stdout.strip() or finished.stderr.strip())
    problems = [] if finished.returncode == 0 else [f"resume exit status {finished.returncode}"]
    problems += check(out, total)
    if args.compare and not problems:
        reference = work / "uninterrupted" / "out"
        shutil.rmtree(reference.parent, ignore_errors=True)
        reference.parent.mkdir(parents=True)
        clock = time.monotonic()
        subprocess.run(command(aidahub, source, reference, key, args.workers), check=True)
        print(f"uninterrupted run: {time.monotonic() - clock:.0f} s")
        if tree_digest(out) != tree_digest(reference):
            problems.append("the resumed output differs from the uninterrupted one")
        else:
            print("resumed output is byte for byte the uninterrupted output")
    print(f"{total:,} files, {args.kills} kills, {seconds:.0f} s including the kills")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("no file lost, duplicated or half-written" if not problems else "FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
