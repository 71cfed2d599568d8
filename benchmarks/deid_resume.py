"""A 100,000-file ``aidahub deid run`` killed at random moments, resumed, and checked.

Issue 4: "A 100,000-file run can be killed and resumed without loss". This builds an
export of that size (invented patients, CT series of small slices with identifiers
planted, and one file in 500 damaged: cut short, empty, not DICOM, or with random bytes
in its header), then:

1. runs ``aidahub deid run IN REF --profile images-only`` once, uninterrupted;
2. runs the same into OUT and kills it with SIGKILL ``--kills`` times, at random points
   spread over the run, resuming with ``--resume`` after each kill; the kills alternate
   between the whole process group and the main process alone (whose workers must then die
   with it);
3. resumes OUT to the end, and compares it with REF: the same output files with the same
   bytes, the same quarantine, no temporary file left, the same counts in the report, and
   every input journaled exactly once.

It prints the time of each run, where each kill fell (files journaled by then) and the
outcome of every check, and exits 1 if any check fails. The corpus is built once into
benchmarks/.cache/ and reused; the outputs are removed at the end. ``--files 2000`` makes a
quick run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
SLICES = 100  # per series
SIZE = 64  # pixels a side
DAMAGED_EVERY = 500


def _base(patient: int, series: int) -> Dataset:
    """The first slice of a series, with fixed-width per-instance values to patch."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = CTImageStorage
    study_uid = f"1.2.826.0.1.3680043.9.7431.{patient + 10000}"  # fixed widths, no zeros first
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = f"{study_uid}.{series + 10000}"
    ds.SOPInstanceUID = f"{ds.SeriesInstanceUID}.{100000}"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "CT"
    ds.Manufacturer = "Invented Medical"
    ds.ManufacturerModelName = "Scanner 64"
    ds.InstitutionName = "Testsjukhuset Norrköping"
    ds.StationName = "CTLAB07"
    ds.PatientName = f"Lindqvist^Åsa^{patient:05d}"
    ds.PatientID = f"19{patient % 90 + 10:02d}0101-{patient % 10000:04d}"
    ds.PatientBirthDate = f"19{patient % 90 + 10:02d}0101"
    ds.PatientSex = "F" if patient % 2 else "M"
    ds.AccessionNumber = f"ACC{patient:05d}{series:03d}"
    ds.StudyDate = "20240315"
    ds.StudyTime = "101500"
    ds.SeriesNumber = series + 1
    ds.InstanceNumber = "000001"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SliceThickness = "2.5"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = SIZE
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    rng = np.random.default_rng(patient * 1000 + series)
    ds.PixelData = rng.integers(0, 4000, size=(SIZE, SIZE), dtype=np.uint16).tobytes()
    return ds


def _spans(data: bytes) -> dict[str, tuple[int, int]]:
    ds = pydicom.dcmread(pydicom.filebase.DicomBytesIO(data))
    found = {}
    for name, tag in (("uid", 0x00080018), ("number", 0x00200013), ("pixels", 0x7FE00010)):
        raw = ds.get_item(tag)
        found[name] = (raw.value_tell, raw.length)
    meta = ds.file_meta.get_item(0x00020003)
    found["meta-uid"] = (meta.value_tell, meta.length)
    return found


def build_corpus(files: int) -> Path:
    root = CACHE / f"resume-{files}-{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]}"
    done = root / "complete.json"
    if done.exists():
        return root / "in"
    shutil.rmtree(root, ignore_errors=True)
    source = root / "in"
    written = 0
    series_count = (files + SLICES - 1) // SLICES
    started = time.perf_counter()
    for series in range(series_count):
        patient = series // 4
        base = _base(patient, series)
        buffer = pydicom.filebase.DicomBytesIO()
        base.save_as(buffer, enforce_file_format=True)
        data = bytearray(buffer.getvalue())
        spans = _spans(bytes(data))
        folder = source / f"p{patient:05d}" / f"s{series:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        uid_at, uid_length = spans["uid"]
        prefix = base.SOPInstanceUID.rsplit(".", 1)[0]
        for number in range(min(SLICES, files - written)):
            uid = f"{prefix}.{number + 100000}".encode().ljust(uid_length, b"\x00")
            data[uid_at : uid_at + uid_length] = uid
            meta_at, _ = spans["meta-uid"]
            data[meta_at : meta_at + uid_length] = uid
            number_at, number_length = spans["number"]
            data[number_at : number_at + number_length] = f"{number + 1:06d}".encode()
            pixels_at, _ = spans["pixels"]
            struct.pack_into("<H", data, pixels_at + 2 * (number % (SIZE * SIZE)), number)
            content = bytes(data)
            written += 1
            if written % DAMAGED_EVERY == 0:
                content = _damage(content, written // DAMAGED_EVERY)
            (folder / f"IM{number:06d}.dcm").write_bytes(content)
        if series % 50 == 0 or written == files:
            print(f"\rbuilding the corpus: {written:,} of {files:,} files", end="", flush=True)
    print(f" ({time.perf_counter() - started:.0f} s)")
    done.write_text(json.dumps({"files": written}))
    return source


def _damage(content: bytes, which: int) -> bytes:
    kind = which % 4
    if kind == 0:
        return content[: len(content) - 1000]  # cut inside the pixels
    if kind == 1:
        return b""
    if kind == 2:
        return b"This is a referral letter, not an image.\n" * 20
    rng = random.Random(which)
    damaged = bytearray(content)
    for _ in range(16):
        damaged[rng.randrange(132, 1200)] = rng.randrange(256)
    return bytes(damaged)


def _argv(aidahub: str, source: Path, out: Path, key: Path, workers: int, *extra: str) -> list[str]:
    return [
        aidahub, "deid", "run", str(source), str(out), "--profile", "images-only",
        "--key", str(key), "--workers", str(workers), "--quiet", *extra,
    ]  # fmt: skip


def _journaled(out: Path) -> list[str]:
    path = out.with_name(out.name + ".journal")
    if not path.exists():
        return []
    data = path.read_bytes()
    sources = []
    for line in data[: data.rfind(b"\n") + 1].splitlines()[1:]:
        try:
            sources.append(json.loads(line)["source"])
        except (ValueError, KeyError):
            continue
    return sources


def _tree(folder: Path) -> dict[str, str]:
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == "DEIDENTIFICATION.txt":
                data = b"".join(
                    line for line in data.splitlines(True) if not line.startswith(b"Finished:")
                )
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(data).hexdigest()
    return found


def _partials(out: Path) -> list[Path]:
    quarantine = out.with_name(out.name + ".quarantine")
    return [*out.rglob("*.partial"), *quarantine.rglob("*.partial")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    aidahub = str(Path(sys.executable).with_name("aidahub"))
    source = build_corpus(args.files)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="aidahub-resume-", dir=HERE))
    try:
        key = work / "bench.key"
        subprocess.run([aidahub, "deid", "keygen", str(key)], check=True, capture_output=True)
        reference, out = work / "ref", work / "out"
        started = time.perf_counter()
        subprocess.run(
            _argv(aidahub, source, reference, key, args.workers),
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        uninterrupted = time.perf_counter() - started
        print(
            f"uninterrupted run: {uninterrupted:.1f} s ({args.files / uninterrupted:,.0f} files/s)"
        )

        spent = 0.0
        # Kill points spread over the whole run: each run gets its share of the uninterrupted
        # time, after the start-up and the skipping of what is done (about half a second).
        points = sorted(rng.uniform(0.03, 0.97) for _ in range(args.kills))
        for number in range(args.kills):
            extra = ["--resume"] if number else []
            share = points[number] - (points[number - 1] if number else 0.0)
            delay = 0.5 + share * uninterrupted
            process = subprocess.Popen(
                _argv(aidahub, source, out, key, args.workers, *extra),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
            begun = time.perf_counter()
            time.sleep(delay)
            whole = number % 2 == 0
            if process.poll() is not None:
                print(
                    f"kill {number + 1}: the run ended before the kill (exit {process.returncode})"
                )
                continue
            if whole:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                os.kill(process.pid, signal.SIGKILL)  # the workers must follow by themselves
            process.wait()
            spent += time.perf_counter() - begun
            time.sleep(0.5)  # workers of a killed main process end on their own
            target = "the process group" if whole else "the main process"
            print(
                f"kill {number + 1}: SIGKILL to {target} after {delay:.1f} s,"
                f" {len(_journaled(out)):,} files journaled"
            )
        started = time.perf_counter()
        finish = subprocess.run(
            _argv(aidahub, source, out, key, args.workers, "--resume"),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        spent += time.perf_counter() - started
        print(
            f"final resume: exit {finish.returncode}; all runs of the killed output: {spent:.1f} s"
        )

        checks: dict[str, bool] = {}
        expected, got = _tree(reference), _tree(out)
        checks["same output files"] = sorted(expected) == sorted(got)
        checks["same bytes in every output file"] = all(
            got.get(n) == h for n, h in expected.items()
        )
        checks["same quarantine"] = _tree(reference.with_name("ref.quarantine")) == _tree(
            out.with_name("out.quarantine")
        )
        checks["no temporary file left"] = _partials(out) == []
        report = json.loads(out.with_name("out.report.json").read_text(encoding="utf-8"))
        full = json.loads(reference.with_name("ref.report.json").read_text(encoding="utf-8"))
        checks["same counts in the report"] = all(
            report[field] == full[field]
            for field in ("total", "written", "excluded", "quarantined")
        )
        sources = _journaled(out)
        checks["every input journaled exactly once"] = (
            len(sources) == len(set(sources)) == args.files
        )
        excluded, quarantined = full["excluded"], full["quarantined"]
        print(
            f"\n{args.files:,} inputs: {full['written']:,} written,"
            f" {sum(excluded.values()):,} excluded {excluded},"
            f" {sum(quarantined.values()):,} quarantined {quarantined}"
        )
        for name, passed in checks.items():
            print(f"  {'ok  ' if passed else 'FAIL'} {name}")
        return 0 if all(checks.values()) and finish.returncode == 0 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
