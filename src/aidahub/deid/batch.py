"""De-identify a folder of files into a clean pseudonymous layout.

``run(IN, OUT, ...)`` walks *IN*, de-identifies every DICOM file with one profile and one
key, and writes ``OUT/<patient>/<study>/<series>/<instance>.dcm`` under pseudonyms and
remapped UIDs. Nothing that may carry an identifier ever lands inside *OUT*:

* files that are not DICOM, are truncated or corrupt go to a quarantine folder outside
  *OUT* (by default the sibling ``OUT.quarantine``), each with a ``.reason.txt``;
* excluded images (secondary captures, pictures of text, burned-in annotation, ...) are
  listed with their reasons in the operator's report beside *OUT*
  (``OUT.report.json``), never copied;
* inside *OUT* only ``DEIDENTIFICATION.txt`` describes the run: profile, motivation, key
  ID and counts, with no file names (input paths often hold patient names).

Every file is written to a temporary name and renamed into place, so a half-written file
is never visible.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from aidahub.deid.dates import DatePlan, parse_da, plan_for
from aidahub.deid.engine import deidentify
from aidahub.deid.keys import Key
from aidahub.deid.profile import Profile
from aidahub.deid.pseudonyms import patient_identity, pseudonym

__all__ = ["FileOutcome", "RunError", "RunSummary", "default_quarantine", "run"]

REPORT_INSIDE = "DEIDENTIFICATION.txt"
_HEADER_TAGS = ["PatientID", "IssuerOfPatientID", "PatientName", "PatientBirthDate", "StudyDate"]


class RunError(RuntimeError):
    """The run cannot start or go on (bad folders); the message says what to fix."""


@dataclass
class FileOutcome:
    """What happened to one input file: ``written``, ``excluded`` or ``quarantined``."""

    source: Path
    outcome: str
    reason: str = ""
    output: Path | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class RunSummary:
    """Counts and reasons of one run; ``files`` lists every input file's outcome."""

    input_dir: Path
    output_dir: Path
    quarantine_dir: Path
    profile: str
    key_id: str
    files: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    def reasons(self, outcome: str) -> dict[str, int]:
        return dict(Counter(f.reason.split(":", 1)[0] for f in self.files if f.outcome == outcome))


def default_quarantine(output_dir: Path) -> Path:
    """``OUT.quarantine``, beside *OUT* and never inside it."""
    return output_dir.with_name(output_dir.name + ".quarantine")


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _check_folders(input_dir: Path, output_dir: Path, quarantine_dir: Path) -> None:
    if not input_dir.is_dir():
        raise RunError(f"input folder {input_dir} does not exist or is not a folder")
    for name, folder in (("output", output_dir), ("quarantine", quarantine_dir)):
        if _inside(folder, input_dir):
            raise RunError(f"the {name} folder must not be inside the input folder")
    if _inside(quarantine_dir, output_dir):
        raise RunError("the quarantine folder must be outside the output folder")
    if _inside(input_dir, output_dir):
        raise RunError("the input folder must not be inside the output folder")


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _quarantine(source: Path, input_dir: Path, quarantine_dir: Path, reason: str) -> None:
    target = quarantine_dir / source.relative_to(input_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    _atomic_write(target.with_name(target.name + ".reason.txt"), (reason + "\n").encode())


def _read_header(path: Path) -> Dataset | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_HEADER_TAGS)
    except Exception:  # noqa: BLE001 - any unreadable header is handled by the main pass
        return None


def _date_plans(files: list[Path], key: Key, profile: Profile) -> dict[str, DatePlan]:
    """One date plan per patient, anchored at the patient's first examination.

    The policy's "initial additive timeshift, and proportional timeshifts of
    inter-examination interval" needs every study date of a patient before any is shifted.
    """
    anchors: dict[str, dt.date | None] = {}
    for path in files:
        header = _read_header(path)
        if header is None:
            continue
        identity = patient_identity(header)
        day = parse_da(str(header.get("StudyDate", "") or ""))
        known = anchors.get(identity)
        if identity not in anchors or (day is not None and (known is None or day < known)):
            anchors[identity] = day if day is not None else known
    options = profile.options
    return {
        identity: plan_for(
            key, identity, anchor=anchor,
            scale_intervals=bool(options.get("scale_intervals", False)),
            remove_times=bool(options.get("remove_times", False)),
        )
        for identity, anchor in anchors.items()
    }  # fmt: skip


def _output_path(output_dir: Path, ds: Dataset, key: Key, identity: str) -> Path:
    def part(value: Any, fallback: str) -> str:
        text = str(value or "").strip()
        return text if text and "/" not in text and text not in {".", ".."} else fallback

    patient = part(pseudonym(key, "patient", identity), "unknown-patient")
    study = part(ds.get("StudyInstanceUID"), "unknown-study")
    series = part(ds.get("SeriesInstanceUID"), "unknown-series")
    instance = part(ds.get("SOPInstanceUID"), "unknown-instance")
    return output_dir / patient / study / series / f"{instance}.dcm"


def _encode(ds: Dataset) -> bytes:
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _corruption(ds: Dataset) -> str | None:
    """Why the file's structure is broken, if it is.

    A wrong length makes the parser lose its place: what follows reads as elements with
    impossible value representations. Converting every element once finds that, so such a
    file is quarantined instead of written with whatever survived.
    """
    try:
        for _ in ds.iterall():
            pass
    except Exception as exc:  # noqa: BLE001 - any element that cannot be read means damage
        return f"corrupt: {type(exc).__name__}: {exc}"
    return None


def _truncation(ds: Dataset) -> str | None:
    """Why native (uncompressed) Pixel Data is shorter than the image needs, if it is.

    pydicom reads a file cut inside its Pixel Data without complaint; the length check
    catches it before a damaged image could be written as if it were complete.
    """
    if "PixelData" not in ds or ds.file_meta.get("TransferSyntaxUID") is None:
        return None
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        return None
    try:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        expected = (
            int(ds.Rows)
            * int(ds.Columns)
            * int(ds.get("SamplesPerPixel", 1))
            * int(ds.BitsAllocated)
            * frames
            + 7
        ) // 8
    except (AttributeError, TypeError, ValueError):
        return "incomplete: the image size elements are missing or unreadable"
    actual = len(ds.PixelData)
    if actual < expected:
        return f"truncated: Pixel Data has {actual} of the {expected} bytes the image needs"
    return None


def _one_file(
    path: Path, summary: RunSummary, profile: Profile, key: Key, plans: dict[str, DatePlan]
) -> FileOutcome:
    """One file, with pydicom's warnings kept for the operator's report, not the terminal.

    Warnings quote input values (UIDs, odd strings), so they never go inside *OUT*.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = _process(path, summary, profile, key, plans)
    outcome.warnings = sorted({str(w.message) for w in caught})[:20]
    return outcome


def _process(
    path: Path, summary: RunSummary, profile: Profile, key: Key, plans: dict[str, DatePlan]
) -> FileOutcome:
    try:
        ds = pydicom.dcmread(path)
        ds.PixelData if "PixelData" in ds else None  # noqa: B018 - force the read of bulk data
    except InvalidDicomError:
        return FileOutcome(path, "quarantined", "not-dicom: the file is not a DICOM file")
    except Exception as exc:  # noqa: BLE001 - every unreadable file is quarantined, not fatal
        return FileOutcome(path, "quarantined", f"unreadable: {type(exc).__name__}: {exc}")
    damaged = _truncation(ds) or _corruption(ds)
    if damaged:
        return FileOutcome(path, "quarantined", damaged)
    identity = patient_identity(ds)
    try:
        result = deidentify(ds, profile, key, date_plan=plans.get(identity))
    except Exception as exc:  # noqa: BLE001 - a file the engine cannot handle never stops a batch
        return FileOutcome(path, "quarantined", f"engine-error: {type(exc).__name__}: {exc}")
    if result.dataset is None:
        return FileOutcome(path, "excluded", result.excluded or "excluded")
    try:
        data = _encode(result.dataset)
    except Exception as exc:  # noqa: BLE001
        return FileOutcome(path, "quarantined", f"unwritable: {type(exc).__name__}: {exc}")
    target = _output_path(summary.output_dir, result.dataset, key, identity)
    _atomic_write(target, data)
    return FileOutcome(path, "written", "", target)


def _inside_report(summary: RunSummary, profile: Profile) -> str:
    lines = [
        "De-identified with aidahub",
        f"Profile: {profile.name}",
        f"Key ID: {summary.key_id}",
        f"Finished: {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}",
        f"Files written: {summary.count('written')}",
        f"Images excluded: {summary.count('excluded')}",
    ]
    for reason, count in sorted(summary.reasons("excluded").items()):
        lines.append(f"  {reason}: {count}")
    lines.append(f"Files quarantined: {summary.count('quarantined')}")
    if profile.motivation:
        lines += ["", "Motivation for keeping more than the diagnosis level:", profile.motivation]
    return "\n".join(lines) + "\n"


def _operator_report(summary: RunSummary) -> dict[str, Any]:
    return {
        "profile": summary.profile,
        "key_id": summary.key_id,
        "seconds": round(summary.seconds, 3),
        "written": summary.count("written"),
        "excluded": summary.reasons("excluded"),
        "quarantined": summary.reasons("quarantined"),
        "files": [
            {"source": str(f.source.relative_to(summary.input_dir)), "outcome": f.outcome,
             "reason": f.reason, "warnings": f.warnings}
            for f in summary.files if f.outcome != "written" or f.warnings
        ],
    }  # fmt: skip


def run(
    input_dir: Path,
    output_dir: Path,
    *,
    profile: Profile,
    key: Key,
    quarantine_dir: Path | None = None,
    on_file: Callable[[FileOutcome, int, int], None] | None = None,
) -> RunSummary:
    """De-identify every file under *input_dir* into *output_dir*.

    Parameters
    ----------
    input_dir, output_dir
        Folders; *output_dir* is created and must not overlap *input_dir*.
    profile, key
        The policy level to apply and the secret key for pseudonyms, UIDs and date shifts.
    quarantine_dir
        Where unreadable files go; defaults to ``OUT.quarantine`` beside *output_dir*.
    on_file
        Called after each file with its outcome, the number done and the total.
    """
    quarantine_dir = quarantine_dir or default_quarantine(output_dir)
    _check_folders(input_dir, output_dir, quarantine_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    files = list(_walk(input_dir))
    summary = RunSummary(input_dir, output_dir, quarantine_dir, profile.name, key.key_id)
    plans = _date_plans(files, key, profile)
    for done, path in enumerate(files, start=1):
        outcome = _one_file(path, summary, profile, key, plans)
        if outcome.outcome == "quarantined":
            _quarantine(path, input_dir, quarantine_dir, outcome.reason)
        summary.files.append(outcome)
        if on_file is not None:
            on_file(outcome, done, len(files))
    summary.seconds = time.perf_counter() - started
    _atomic_write(output_dir / REPORT_INSIDE, _inside_report(summary, profile).encode())
    report = output_dir.with_name(output_dir.name + ".report.json")
    _atomic_write(report, json.dumps(_operator_report(summary), indent=2).encode())
    return summary
