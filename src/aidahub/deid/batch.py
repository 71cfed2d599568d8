"""De-identify a folder of files into a clean pseudonymous layout, in parallel and resumably.

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

**Workers.** With ``workers > 1`` the files are spread over worker processes in chunks;
each worker receives the profile and key once, when it starts, and results come back in
the order they finish. Workers share no mutable state: pseudonyms, remapped UIDs and date
offsets are keyed derivations of the key and the original values, so the same patient
gets the same pseudonym, date shift and UID map whichever worker or run handles it. Only a
date plan's anchor (the patient's first examination, needed by ``scale_intervals`` and
``remove_times``) depends on other files; a header pre-pass over every input file, in the
same workers, finds it and each chunk carries the anchors of its patients. A worker that
dies (a decoder crashing on a damaged file, the out-of-memory killer) does not stop the
run: its files are retried one at a time and a file that kills a worker on its own is
quarantined.

**Journal.** Each finished input file is journaled beside *OUT* (``OUT.journal``, see
:mod:`aidahub.deid.journal`) after its output is in place; ``resume=True`` skips the files
the journal lists (same size and modification time) and finishes the rest, so a run killed
at any moment loses, duplicates and half-writes nothing. A run that cannot go on (disk
full, output not writable, input folder not readable) raises :class:`RunStopped`, whose
message says what to fix and that the run can be resumed.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import dataclasses
import datetime as dt
import errno
import functools
import gc
import json
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from aidahub.deid import dicomfile, fastlane, series
from aidahub.deid import journal as journal_file
from aidahub.deid.damage import damage
from aidahub.deid.dates import DatePlan, parse_da, plan_for
from aidahub.deid.engine import DamagedElementError, InstanceCleaner, deidentify_instance
from aidahub.deid.journal import Journal, JournalEntry, JournalError
from aidahub.deid.keys import Key
from aidahub.deid.profile import Profile
from aidahub.deid.pseudonyms import patient_identity, pseudonym
from aidahub.deid.series import Context, SeriesMemo
from aidahub.deid.signoff import SignOffCheck, configuration_hash

if TYPE_CHECKING:
    from aidahub.deid.ocr import BurnedInText

__all__ = [
    "FileOutcome",
    "RunError",
    "RunStopped",
    "RunSummary",
    "default_journal",
    "default_quarantine",
    "run",
]

REPORT_INSIDE = "DEIDENTIFICATION.txt"
PARTIAL = ".partial"
_HEADER_TAGS = ["PatientID", "IssuerOfPatientID", "PatientName", "PatientBirthDate", "StudyDate"]
# Chunks amortize the cost of handing work to a process (about 0.1 ms) over files that take
# 5 to 50 ms each, while staying small enough that the progress bar moves smoothly.
_CHUNK_FILES = 32
_SMALLEST_MATCH = 132  # preamble and prefix
_LARGEST_MATCH = 1 << 28  # larger files are read as datasets
_CHUNK_HEADERS = 256
_QUEUED_PER_WORKER = 3
_MAX_CONSECUTIVE_CRASHES = 5

_T = TypeVar("_T")
_R = TypeVar("_R")
_Anchor = tuple[str, dt.date | None]
"""A patient identity and the patient's first examination date, from the pre-pass."""
_FileTask = tuple[str, _Anchor | None]
_Header = tuple[str, _Anchor | None]
"""A file and its patient's identity and study date (None when the header is unreadable)."""


class RunError(RuntimeError):
    """The run cannot start or go on (bad folders); the message says what to fix."""


class RunStopped(RunError):
    """The run stopped part-way: disk full, output not writable or input not readable.

    What was finished is in the journal; the message names the problem and says that
    running again with ``--resume`` finishes the run.
    """


@dataclass(slots=True)
class FileOutcome:
    """What happened to one input file: ``written``, ``excluded`` or ``quarantined``.

    ``size`` is the input's size in bytes, ``output_size`` the output's; ``copied`` is False
    for a quarantined file that could not be copied to the quarantine folder (the reason is
    then only in the report).
    """

    source: Path
    outcome: str
    reason: str = ""
    output: Path | None = None
    warnings: list[str] = field(default_factory=list)
    size: int = 0
    mtime_ns: int = 0
    copied: bool = True
    output_size: int = 0


@dataclass
class RunSummary:
    """Counts and reasons of one run; ``files`` lists every input file's outcome.

    ``resumed`` counts the files an earlier, interrupted run had finished (taken from the
    journal); ``seconds``, ``processed`` and ``bytes_processed`` describe this run alone.
    """

    input_dir: Path
    output_dir: Path
    quarantine_dir: Path
    profile: str
    key_id: str
    files: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1
    resumed: int = 0
    bytes_processed: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    def reasons(self, outcome: str) -> dict[str, int]:
        return dict(Counter(f.reason.split(":", 1)[0] for f in self.files if f.outcome == outcome))

    @property
    def processed(self) -> int:
        """Files handled by this run (not taken from the journal)."""
        return len(self.files) - self.resumed

    @property
    def files_per_second(self) -> float:
        return self.processed / self.seconds if self.seconds > 0 else 0.0

    @property
    def megabytes_per_second(self) -> float:
        return self.bytes_processed / 1e6 / self.seconds if self.seconds > 0 else 0.0


def default_quarantine(output_dir: Path) -> Path:
    """``OUT.quarantine``, beside *OUT* and never inside it."""
    return output_dir.with_name(output_dir.name + ".quarantine")


def default_journal(output_dir: Path) -> Path:
    """``OUT.journal``, beside *OUT* and never inside it (it names input files)."""
    return output_dir.with_name(output_dir.name + ".journal")


def _report_path(output_dir: Path) -> Path:
    return output_dir.with_name(output_dir.name + ".report.json")


# -- stopping with a clear message -----------------------------------------------------------


def _problem(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno == errno.ENOTDIR:
        return "part of the path is a file, not a folder"
    return (exc.strerror or type(exc).__name__).lower()


def _stopped(exc: OSError, doing: str) -> RunStopped:
    return RunStopped(
        f"cannot {doing}: {_problem(exc)}. Fix that, then run the same command with "
        "--resume to finish."
    )


# -- folders ---------------------------------------------------------------------------------


def _walk(root: Path) -> list[str]:
    """Every file under *root*, relative, in a stable (sorted) order."""

    def refuse(exc: OSError) -> None:
        raise _stopped(exc, f"read the input folder {exc.filename or root}")

    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=refuse):
        dirnames.sort()
        relative = os.path.relpath(dirpath, root)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        found.extend(prefix + name for name in sorted(filenames))
    return found


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _check_folders(input_dir: Path, output_dir: Path, quarantine_dir: Path, journal: Path) -> None:
    if not input_dir.is_dir():
        raise RunError(f"input folder {input_dir} does not exist or is not a folder")
    for name, folder in (("output", output_dir), ("quarantine", quarantine_dir)):
        if _inside(folder, input_dir):
            raise RunError(f"the {name} folder must not be inside the input folder")
    if _inside(quarantine_dir, output_dir):
        raise RunError("the quarantine folder must be outside the output folder")
    if _inside(input_dir, output_dir):
        raise RunError("the input folder must not be inside the output folder")
    if _inside(journal, output_dir) or _inside(journal, input_dir):
        raise RunError("the journal must be outside the input and output folders")


def _holds_files(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(True for _ in entries)
    except (FileNotFoundError, NotADirectoryError):
        return False


def _is_partial(name: str) -> bool:
    return name.startswith(".") and name.endswith(PARTIAL)


def _remove_partials(folder: Path) -> None:
    """Remove temporary files a killed run left (they were never renamed into place)."""
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            if _is_partial(name):
                os.unlink(os.path.join(dirpath, name))


# -- writing ---------------------------------------------------------------------------------


def _atomic_write(path: Path, data: bytes) -> None:
    """Write *data* to a temporary name, flush it to disk, then rename it into place."""
    _write_output(path, [data], sync=True)


class _InputFailed(Exception):
    """The input changed while its pixels were copied."""


@dataclass(frozen=True)
class _Tail:
    """Bytes of an open input file to append to an output: *value* is what was read from
    *fd* at *offset* (and checked), *before* the input's status at that time."""

    fd: int
    offset: int
    value: memoryview
    before: os.stat_result


def _write_output(
    path: Path,
    pieces: list[bytes],
    *,
    sync: bool = False,
    tail: _Tail | None = None,
) -> int:
    """Write a file's *pieces* to a temporary name, then rename it into place; return its
    size.

    *tail* is appended after the pieces, copied inside the kernel where it can
    (``copy_file_range``): the pixels of a matched slice (:mod:`aidahub.deid.fastlane`)
    then do not go back through the process. The input's size, modification and change
    times must be as they were when it was read, so that what is written is what was
    checked.

    The temporary name carries the process ID: two workers writing the same output (two
    inputs with one SOP Instance UID) never write into one temporary file. Outputs are not
    fsynced one by one (*sync* is for the reports): the journal records each output's size
    for a resume after a power cut to check, or with ``--sync`` makes every output durable
    at once before it records them (:meth:`aidahub.deid.journal.Journal.commit` syncs the
    file system first). A run killed before the rename leaves only a temporary name, which
    ``--resume`` removes.

    Raises
    ------
    OSError
        If the output cannot be written.
    _InputFailed
        If the input changed after it was read (nothing is left behind).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}{PARTIAL}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            _write_all(fd, pieces)
            if tail is not None:
                _append(tail, fd)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except (OSError, _InputFailed):
        tmp.unlink(missing_ok=True)
        raise
    return sum(len(piece) for piece in pieces) + (len(tail.value) if tail is not None else 0)


def _write_all(fd: int, pieces: list[bytes] | list[memoryview]) -> None:
    views = [memoryview(piece) for piece in pieces if piece]
    while views:
        written = os.writev(fd, views[:1024])
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


# copy_file_range errors that are the output's; after the others the bytes read are written.
_OUTPUT_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO})
_copy_in_kernel = hasattr(os, "copy_file_range")


def _append(tail: _Tail, target: int) -> None:
    """Append *tail*'s bytes to *target* (at its position), then check the input is as read."""
    global _copy_in_kernel
    length, done = len(tail.value), 0
    if _copy_in_kernel:
        try:
            while done < length:
                copied = os.copy_file_range(tail.fd, target, length - done, tail.offset + done)
                if copied == 0:
                    raise _InputFailed("the input file ended early")
                done += copied
        except OSError as exc:
            if exc.errno in _OUTPUT_ERRORS:
                raise
            # Not between these file systems (or not here): stop trying.
            _copy_in_kernel = False
    if done < length:
        _write_all(target, [tail.value[done:]])
    after, before = os.fstat(tail.fd), tail.before
    if (after.st_size, after.st_mtime_ns, after.st_ctime_ns) != (
        before.st_size, before.st_mtime_ns, before.st_ctime_ns,
    ):  # fmt: skip
        raise _InputFailed("the input file changed while it was read")


def _quarantine(source: Path, relative: str, quarantine_dir: Path, reason: str) -> bool:
    """Copy *source* to the quarantine with its reason; False if it could not be read.

    Raises
    ------
    RunStopped
        If the quarantine folder cannot be written.
    """
    target = quarantine_dir / relative
    tmp = target.with_name(f".{target.name}.{os.getpid()}{PARTIAL}")
    try:
        reader = open(source, "rb")  # noqa: SIM115 - closed below, apart from the writing
    except OSError:
        return False
    try:
        with reader:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as writer:
                copied = _copy(reader, writer)
                writer.flush()
                os.fsync(writer.fileno())
            if not copied:
                tmp.unlink()
                return False
            os.replace(tmp, target)
        _atomic_write(target.with_name(target.name + ".reason.txt"), (reason + "\n").encode())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _stopped(exc, f"write to the quarantine folder {quarantine_dir}") from None
    return True


def _copy(reader: BinaryIO, writer: BinaryIO) -> bool:
    """Copy *reader* into *writer*; False if the source cannot be read to its end.

    Read errors belong to the input file (it is then only listed in the report), write
    errors to the quarantine folder (they stop the run): they are told apart here.
    """
    while True:
        try:
            block = reader.read(1 << 20)
        except OSError:
            return False
        if not block:
            return True
        writer.write(block)


# -- one file --------------------------------------------------------------------------------


def _read_header(path: Path) -> Dataset | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_HEADER_TAGS)
    except Exception:  # noqa: BLE001 - any unreadable header is handled by the main pass
        return None


def _output_path(output_dir: Path, ds: Dataset, key: Key, identity: str) -> Path:
    return _output_path_of(
        output_dir, key, identity,
        ds.get("StudyInstanceUID"), ds.get("SeriesInstanceUID"), ds.get("SOPInstanceUID"),
    )  # fmt: skip


def _output_path_of(
    output_dir: Path, key: Key, identity: str, study_uid: Any, series_uid: Any, instance_uid: Any
) -> Path:
    folder = _output_folder(output_dir, key, identity, str(study_uid or ""), str(series_uid or ""))
    return folder / f"{_path_part(key, instance_uid, 'unknown-instance')}.dcm"


@functools.lru_cache(maxsize=256)
def _output_folder(
    output_dir: Path, key: Key, identity: str, study_uid: str, series_uid: str
) -> Path:
    """patient/study/series under *output_dir* (a series' files share it: kept a while)."""
    patient = _path_part(key, pseudonym(key, "patient", identity), "unknown-patient")
    study = _path_part(key, study_uid, "unknown-study")
    series = _path_part(key, series_uid, "unknown-series")
    return output_dir / patient / study / series


def _path_part(key: Key, value: Any, fallback: str) -> str:
    text = str(value or "").strip()
    usable = text and len(text) <= 64 and "/" not in text and "\x00" not in text
    if usable and text not in {".", ".."}:
        return text
    # A keyed name, never a shared fallback: two files must not land on one path.
    return f"{fallback}-{pseudonym(key, 'path', text)}" if text else fallback


def _text(ds: Dataset, keyword: str) -> str:
    """An element's value as text, "" when missing or unreadable (it is only looked up)."""
    try:
        return str(ds.get(keyword, "") or "")
    except Exception:  # noqa: BLE001 - a damaged value: the engine's checks report it
        return ""


def _unreadable(exc: OSError) -> str:
    return f"unreadable: {_problem(exc)}"


@dataclass(frozen=True)
class _Setup:
    """What every worker needs, sent once when it starts (the profile is a few kB)."""

    input_dir: Path
    output_dir: Path
    quarantine_dir: Path
    profile: Profile
    key: Key
    signoffs: SignOffCheck | None = None
    ocr: bool = False


_PIXEL_DATA_TAG = 0x7FE00010


class _Worker:
    """De-identifies files, in a worker process or (with one worker) in the caller's."""

    def __init__(self, setup: _Setup) -> None:
        self.setup = setup
        self._plans: dict[_Anchor, DatePlan] = {}
        self._memo = SeriesMemo()
        # Matching on the bytes skips reading; OCR needs every image read, so it has none.
        self._lane = None if setup.ocr else fastlane.FastLane()
        self._note = ""
        # One Tesseract set-up per worker; the caller has checked that the program is there.
        self._ocr = _burned_in_text() if setup.ocr else None
        self._candidate: (
            tuple[Context, Dataset, Dataset, dicomfile.Encoded, InstanceCleaner] | None
        ) = None

    def headers(self, sources: list[str]) -> list[_Header]:
        """The patient identity and study date of each file, for the date plans' anchors."""
        found: list[_Header] = []
        for source in sources:
            header = _read_header(self.setup.input_dir / source)
            if header is None:
                found.append((source, None))
                continue
            day = parse_da(str(header.get("StudyDate", "") or ""))
            found.append((source, (patient_identity(header), day)))
        return found

    def files(self, tasks: list[_FileTask]) -> list[FileOutcome]:
        """De-identify each file and write or quarantine it; return the outcomes."""
        return [self.one(source, anchor) for source, anchor in tasks]

    def one(self, source: str, anchor: _Anchor | None) -> FileOutcome:
        """One file, with pydicom's warnings kept for the operator's report, not the terminal.

        Warnings quote input values (UIDs, odd strings), so they never go inside *OUT*.
        """
        path = self.setup.input_dir / source
        self._candidate = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outcome = self._process(path, anchor)
        outcome.warnings = sorted({str(w.message) for w in caught})[:20]
        if self._note:
            outcome.warnings.append(self._note)
            self._note = ""
        if self._candidate is not None and not caught and outcome.outcome == "written":
            # Only a file the engine saw nothing unusual in becomes a template.
            template = self._memo.remember(*self._candidate)
            if template is not None and self._lane is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the file gave none the first time
                    self._learn(path, template, anchor)
        self._candidate = None
        if outcome.outcome == "quarantined":
            outcome.copied = _quarantine(path, source, self.setup.quarantine_dir, outcome.reason)
        return outcome

    def _plan(self, identity: str, anchor: _Anchor | None) -> DatePlan | None:
        if anchor is None or anchor[0] != identity:
            return None
        plan = self._plans.get(anchor)
        if plan is None:
            options = self.setup.profile.options
            plan = self._plans[anchor] = plan_for(
                self.setup.key, identity, anchor=anchor[1],
                scale_intervals=bool(options.get("scale_intervals", False)),
                remove_times=bool(options.get("remove_times", False)),
            )  # fmt: skip
        return plan

    def _process(self, path: Path, anchor: _Anchor | None) -> FileOutcome:
        # The input's size and time are taken before it is read, so a file changed while
        # it was handled is journaled as the older one and done again by --resume.
        if self._lane is not None:
            matched = self._from_bytes(path, anchor)  # its own status is from before it read
            if matched is not None:
                return matched
        try:
            stat = os.stat(path)
        except OSError as exc:
            return FileOutcome(path, "quarantined", _unreadable(exc))
        outcome = self._deidentify(path, anchor)
        outcome.size, outcome.mtime_ns = stat.st_size, stat.st_mtime_ns
        return outcome

    def _learn(self, path: Path, template: series.Template, anchor: _Anchor | None) -> None:
        """Make the byte template of the file that just became a series template."""
        assert self._candidate is not None and self._lane is not None
        context, source = self._candidate[0], self._candidate[1]
        try:
            data = path.read_bytes()
            again = series.context_of(dicomfile.read(data), anchor)
        except Exception:  # noqa: BLE001 - no byte template, the series one still works
            return
        if again is None or again.key != context.key:
            return  # the file changed since it was read
        unsigned = self._unsigned(source)
        made = fastlane.ByteTemplate.build(data, template, source, anchor, unsigned)
        if made is not None:
            self._lane.learn(context.key, made)

    def _from_bytes(self, path: Path, anchor: _Anchor | None) -> FileOutcome | None:
        """Write a file that matches a byte template, or None to read it as a dataset."""
        assert self._lane is not None
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            status = os.fstat(fd)
            size = status.st_size
            if size < _SMALLEST_MATCH or size > _LARGEST_MATCH:
                return None
            try:
                view = memoryview(os.pread(fd, size, 0))
            except OSError:
                return None
            if len(view) != size:
                return None
            match = self._lane.match(view, size, anchor)
            if match is None:
                return None
            tail = None
            if match.pixels is not None:
                offset, length = match.pixels
                tail = _Tail(fd, offset, view[offset : offset + length], status)
            outcome = self._write_match(path, match, tail)
            if outcome is not None:
                outcome.size, outcome.mtime_ns = size, status.st_mtime_ns
            return outcome
        finally:
            os.close(fd)

    def _write_match(
        self, path: Path, match: fastlane.Match, tail: _Tail | None
    ) -> FileOutcome | None:
        if match.unsigned is not None:
            if self.setup.signoffs is not None and self.setup.signoffs.require:
                return FileOutcome(path, "held", match.unsigned)
            self._note = match.unsigned
        reused = match.reused
        target = _output_path_of(
            self.setup.output_dir, self.setup.key, reused.identity,
            reused.study_uid, reused.series_uid, reused.instance_uid,
        )  # fmt: skip
        try:
            written = _write_output(target, reused.pieces, tail=tail)
        except _InputFailed:
            self._note = ""
            return None  # read as a dataset, it gets the whole engine's verdict
        except OSError as exc:
            raise _stopped(exc, f"write to the output folder {self.setup.output_dir}") from None
        return FileOutcome(path, "written", "", target, output_size=written)

    def _deidentify(self, path: Path, anchor: _Anchor | None) -> FileOutcome:
        try:
            ds = dicomfile.read_file(path)
        except InvalidDicomError:
            return FileOutcome(path, "quarantined", "not-dicom: the file is not a DICOM file")
        except OSError as exc:
            return FileOutcome(path, "quarantined", _unreadable(exc))
        except Exception as exc:  # noqa: BLE001 - every unreadable file is quarantined, not fatal
            return FileOutcome(path, "quarantined", f"unreadable: {type(exc).__name__}: {exc}")
        unsigned = self._unsigned(ds)
        if unsigned is not None:
            if self.setup.signoffs is not None and self.setup.signoffs.require:
                return FileOutcome(path, "held", unsigned)
            self._note = unsigned  # a warning in the report, not a reason to skip templates
        context = series.context_of(ds, anchor)
        template = self._memo.get(context) if context is not None else None
        if context is not None and template is not None:
            written = self._reuse(path, template, context, ds)
            if written is not None:
                return written
            try:  # as read: the attempt converted some elements
                ds = dicomfile.read_file(path)
            except Exception as exc:  # noqa: BLE001 - it was read a moment ago
                return FileOutcome(path, "quarantined", f"unreadable: {type(exc).__name__}: {exc}")
        return self._whole(path, anchor, ds, context)

    def _unsigned(self, ds: Dataset) -> str | None:
        """Why *ds*'s combination is not signed off for this configuration, or None."""
        check = self.setup.signoffs
        if check is None:
            return None
        combination = check.combination(
            _text(ds, "Manufacturer"), _text(ds, "ManufacturerModelName"),
            _text(ds, "InstitutionName"),
        )  # fmt: skip
        return None if check.signed_off(combination) else check.reason(combination)

    def _burned_in(self, source: Dataset) -> str | None:
        """With ``--ocr``: why text read in a kept image excludes it (the input's own header
        values and the free-text detectors), or None. OCR that fails excludes the image too:
        an image that could not be read is not known to be clean."""
        if self._ocr is None or _PIXEL_DATA_TAG not in source:
            return None
        try:
            from aidahub.deid.ocr import HeaderValues  # noqa: PLC0415 - loaded with --ocr only

            return self._ocr.reason(source, HeaderValues.from_dataset(source))
        except Exception as exc:  # noqa: BLE001 - never a crash, never a silent pass
            return f"ocr-failed: {type(exc).__name__}"

    def _reuse(
        self, path: Path, template: series.Template, context: Context, ds: Dataset
    ) -> FileOutcome | None:
        """Write the next object of a series from its template, or None to do it whole."""
        try:
            reused = self._memo.apply(template, context, ds)
        except Exception:  # noqa: BLE001 - NotReusable, damage: the whole engine decides
            return None
        burned_in = self._burned_in(ds)
        if burned_in is not None:
            return FileOutcome(path, "excluded", burned_in)
        target = _output_path_of(
            self.setup.output_dir, self.setup.key, reused.identity,
            reused.study_uid, reused.series_uid, reused.instance_uid,
        )  # fmt: skip
        try:
            written = _write_output(target, reused.pieces)
        except OSError as exc:
            raise _stopped(exc, f"write to the output folder {self.setup.output_dir}") from None
        return FileOutcome(path, "written", "", target, output_size=written)

    def _whole(
        self, path: Path, anchor: _Anchor | None, ds: Dataset, context: Context | None
    ) -> FileOutcome:
        """De-identify one dataset with every check and the whole engine."""
        setup = self.setup
        damaged = damage(ds)
        if damaged:
            return FileOutcome(path, "quarantined", damaged)
        identity = patient_identity(ds)
        try:
            plan = self._plan(identity, anchor)
            result, cleaner = deidentify_instance(ds, setup.profile, setup.key, date_plan=plan)
        except DamagedElementError as exc:
            return FileOutcome(path, "quarantined", f"corrupt: {exc}")
        except Exception as exc:  # noqa: BLE001 - a file the engine cannot handle never stops a batch
            return FileOutcome(path, "quarantined", f"engine-error: {type(exc).__name__}: {exc}")
        if result.dataset is None:
            return FileOutcome(path, "excluded", result.excluded or "excluded")
        burned_in = self._burned_in(ds)
        if burned_in is not None:
            return FileOutcome(path, "excluded", burned_in)
        try:
            parts = dicomfile.encode_parts(result.dataset)
            pieces = parts.pieces() if parts is not None else dicomfile.encode(result.dataset)
        except Exception as exc:  # noqa: BLE001
            return FileOutcome(path, "quarantined", f"unwritable: {type(exc).__name__}: {exc}")
        target = _output_path(setup.output_dir, result.dataset, setup.key, identity)
        try:
            written = _write_output(target, pieces)
        except OSError as exc:
            raise _stopped(exc, f"write to the output folder {setup.output_dir}") from None
        if context is not None and cleaner is not None and parts is not None:
            self._candidate = (context, ds, result.dataset, parts, cleaner)
        return FileOutcome(path, "written", "", target, output_size=written)


def _burned_in_text() -> BurnedInText | None:
    # Imported when asked for: OCR loads Pillow, which a run without --ocr does not need.
    from aidahub.deid.ocr import BurnedInText  # noqa: PLC0415

    return BurnedInText.create()


# -- worker processes ------------------------------------------------------------------------

_worker: _Worker | None = None


def _start_worker(setup: _Setup) -> None:
    """Initializer of each worker process."""
    global _worker
    _die_with_parent()
    # Ctrl-C reaches the whole process group; the main process alone decides what to do.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker = _Worker(setup)
    # What the worker inherited (modules, the profile) lives as long as it does: out of the
    # garbage collector's passes, which then only look at what each file made.
    gc.freeze()


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when its parent dies (``prctl(PR_SET_PDEATHSIG)``).

    A main process killed with SIGKILL cannot stop its workers; without this they would
    go on writing (or wait forever) beside the run that resumes.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return


def _headers_in_worker(sources: list[str]) -> list[_Header]:
    assert _worker is not None
    return _worker.headers(sources)


def _files_in_worker(tasks: list[_FileTask]) -> list[FileOutcome]:
    assert _worker is not None
    return _worker.files(tasks)


def _context() -> BaseContext:
    """``fork`` when it is safe (no other thread could hold a lock), else ``forkserver``.

    Forking is much the fastest way to start workers that already hold the imported
    modules; with other threads running, a forked child could inherit a lock held by one of
    them, so a fork server started for the purpose forks the workers instead.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def _portable(profile: Profile) -> Profile:
    # A MappingProxyType cannot be pickled; spawned and fork-server workers need a dict.
    return dataclasses.replace(profile, options=dict(profile.options))


_Tick = Callable[[], None]


class _InProcess:
    """One worker, in the calling process: simple to debug, no start-up cost."""

    workers = 1

    def __init__(self, setup: _Setup) -> None:
        self._worker = _Worker(setup)

    def headers(self, chunks: Iterable[list[str]], tick: _Tick) -> Iterator[list[_Header]]:
        for chunk in chunks:
            yield self._worker.headers(chunk)
            tick()

    def files(self, chunks: Iterable[list[_FileTask]], tick: _Tick) -> Iterator[list[FileOutcome]]:
        for chunk in chunks:
            yield self._worker.files(chunk)
            tick()

    def close(self) -> None:
        pass


class _Pool:
    """Worker processes that run chunks of files, and survive workers that die.

    When a worker dies the pool breaks and every chunk in flight fails with it. Those
    chunks are split into single files and retried one at a time: a file that breaks the
    pool on its own is the culprit and is quarantined; the others come through.
    """

    def __init__(self, setup: _Setup, workers: int) -> None:
        self.workers = workers
        self._setup = dataclasses.replace(setup, profile=_portable(setup.profile))
        self._executor = self._start()

    def _start(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=_context(),
            initializer=_start_worker,
            initargs=(self._setup,),
        )

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _restart(self) -> None:
        """A new pool, once the broken one's workers are gone and their temporary files too."""
        self.close()
        try:
            _remove_partials(self._setup.output_dir)
            _remove_partials(self._setup.quarantine_dir)
        except OSError as exc:
            raise _stopped(exc, f"clean up the output folder {self._setup.output_dir}") from None
        self._executor = self._start()

    def headers(self, chunks: Iterable[list[str]], tick: _Tick) -> Iterator[list[_Header]]:
        return self._run(_headers_in_worker, chunks, lambda source: (source, None), tick)

    def files(self, chunks: Iterable[list[_FileTask]], tick: _Tick) -> Iterator[list[FileOutcome]]:
        return self._run(_files_in_worker, chunks, self._crashed, tick)

    def _crashed(self, task: _FileTask) -> FileOutcome:
        source = task[0]
        path = self._setup.input_dir / source
        reason = "crashed: reading this file killed the worker process"
        outcome = FileOutcome(path, "quarantined", reason)
        try:
            stat = os.stat(path)
            outcome.size, outcome.mtime_ns = stat.st_size, stat.st_mtime_ns
        except OSError:
            pass
        outcome.copied = _quarantine(path, source, self._setup.quarantine_dir, reason)
        return outcome

    def _run(
        self,
        function: Callable[[list[_T]], list[_R]],
        chunks: Iterable[list[_T]],
        crashed: Callable[[_T], _R],
        tick: _Tick,
    ) -> Iterator[list[_R]]:
        """Yield each chunk's results as it finishes; *crashed* stands in for a culprit."""
        queue = iter(chunks)
        suspects: deque[list[_T]] = deque()
        in_flight: dict[cf.Future[list[_R]], list[_T]] = {}
        alone: cf.Future[list[_R]] | None = None
        crashes = 0
        while True:
            # Suspects go one at a time, so that a crash names its file.
            limit = 1 if suspects else self.workers * _QUEUED_PER_WORKER
            while len(in_flight) < limit:
                chunk = suspects.popleft() if suspects else next(queue, None)
                if chunk is None:
                    break
                future = self._executor.submit(function, chunk)
                in_flight[future] = chunk
                alone = future if len(chunk) == 1 and len(in_flight) == 1 else None
            if not in_flight:
                return
            finished, _ = cf.wait(in_flight, timeout=0.5, return_when=cf.FIRST_COMPLETED)
            tick()
            broken = False
            for future in finished:
                chunk = in_flight.pop(future)
                try:
                    results = future.result()
                except BrokenProcessPool:
                    broken = True
                    if future is not alone:
                        suspects.extend([item] for item in chunk)
                        continue
                    crashes += 1
                    if crashes >= _MAX_CONSECUTIVE_CRASHES:
                        raise RunStopped(
                            "the worker processes keep dying (out of memory?). Try fewer "
                            "--workers, then run the same command with --resume to finish."
                        ) from None
                    results = [crashed(chunk[0])]
                else:
                    crashes = 0
                yield results
            if broken:
                # Every chunk still in flight went down with the pool.
                for chunk in in_flight.values():
                    suspects.extend([item] for item in chunk)
                in_flight.clear()
                alone = None
                self._restart()


_Runner = _InProcess | _Pool


def _chunks(items: list[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _chunk_size(count: int, workers: int, largest: int) -> int:
    # About eight chunks per worker keeps every worker busy to the end of the run.
    return max(1, min(largest, count // (workers * 8)))


# -- the run ---------------------------------------------------------------------------------


def _needs_anchors(profile: Profile) -> bool:
    """Whether date plans depend on the patient's first examination.

    Without ``scale_intervals`` and ``remove_times`` a plan is a pure keyed offset, the same
    with or without an anchor, and the header pre-pass is skipped.
    """
    return profile.date_mode == "shift" and (
        profile.option("scale_intervals") or profile.option("remove_times")
    )


def _anchors(runner: _Runner, files: list[str], tick: _Tick) -> dict[str, _Anchor]:
    """Each file's patient and that patient's first examination date (its plan's anchor).

    The policy's "initial additive timeshift, and proportional timeshifts of
    inter-examination interval" needs every study date of a patient before any is shifted.
    """
    size = _chunk_size(len(files), runner.workers, _CHUNK_HEADERS)
    first: dict[str, dt.date | None] = {}
    patient_of: dict[str, str] = {}
    for headers in runner.headers(_chunks(files, size), tick):
        for source, header in headers:
            if header is None:
                continue
            identity, day = header
            patient_of[source] = identity
            known = first.get(identity)
            if identity not in first or (day is not None and (known is None or day < known)):
                first[identity] = day if day is not None else known
    return {source: (identity, first[identity]) for source, identity in patient_of.items()}


def _earlier_run(
    journal_path: Path, output_dir: Path, profile: Profile, key: Key, resume: bool
) -> journal_file.LoadedJournal | None:
    """The journal of the run to resume, or None to start afresh; refuses to mix runs."""
    try:
        if not journal_path.is_file() or journal_path.stat().st_size == 0:
            return None
        if not resume:
            if _holds_files(output_dir):
                raise RunError(
                    f"{output_dir} already holds a run: use --resume to finish it, or "
                    "choose another folder"
                )
            return None
        loaded = journal_file.load_journal(journal_path)
        if loaded.header is None:
            return None
        journal_file.check_header(loaded, profile.name, key.key_id)
    except JournalError as exc:
        raise RunError(str(exc)) from None
    except OSError as exc:
        raise _stopped(exc, f"read the journal {journal_path}") from None
    return loaded


def _create_output(output_dir: Path) -> None:
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _stopped(exc, f"create the output folder {output_dir}") from None


def _remove_leftovers(output_dir: Path, quarantine_dir: Path) -> None:
    """Remove what a killed run left half-written: temporary files never renamed into place.

    Called with the journal held, so no other run can be writing them.
    """
    report = re.compile(rf"\.{re.escape(_report_path(output_dir).name)}\.\d+{PARTIAL}")
    try:
        _remove_partials(output_dir)
        _remove_partials(quarantine_dir)
        for name in os.listdir(output_dir.parent):
            if report.fullmatch(name):
                os.unlink(output_dir.parent / name)
    except OSError as exc:
        raise _stopped(exc, f"clean up the output folder {output_dir}") from None


def _open_journal(
    path: Path, earlier: journal_file.LoadedJournal | None, profile: Profile, key: Key
) -> Journal:
    try:
        if earlier is not None:
            return Journal.reopen(path, earlier)
        return Journal.create(path, journal_file.header_for(profile.name, key.key_id))
    except JournalError as exc:
        raise RunError(str(exc)) from None
    except OSError as exc:
        raise _stopped(exc, f"write the journal {path}") from None


def _unchanged(input_dir: Path, output_dir: Path, entry: JournalEntry) -> bool:
    """Whether the journal's entry still holds: same input file, output still there and of
    the size written (after a power cut, an output the kernel had not written yet comes back
    short or empty)."""
    try:
        stat = os.stat(input_dir / entry.source)
    except OSError:
        return False
    if stat.st_size != entry.size or stat.st_mtime_ns != entry.mtime_ns:
        return False
    if not entry.output:
        return True
    try:
        output = os.stat(output_dir / entry.output)
    except OSError:
        return False
    if not S_ISREG(output.st_mode):
        return False
    return not entry.output_size or output.st_size == entry.output_size


def _drop_stale_output(
    entry: JournalEntry | None,
    outcome: FileOutcome,
    outcomes: dict[str, FileOutcome],
    output_dir: Path,
) -> None:
    """An input that changed since the journaled run may now go elsewhere, or nowhere.

    Its earlier output (an older version of the file, or of one now excluded or
    quarantined) is removed unless another file of this run claims the same path; a file
    still to come that claims it writes it anew.
    """
    if entry is None or not entry.output:
        return
    stale = output_dir / entry.output
    if outcome.output == stale:
        return
    if any(other.output == stale for other in outcomes.values()):
        return
    with contextlib.suppress(FileNotFoundError):
        stale.unlink()


def _from_entry(entry: JournalEntry, input_dir: Path, output_dir: Path) -> FileOutcome:
    return FileOutcome(
        source=input_dir / entry.source,
        outcome=entry.outcome,
        reason=entry.reason,
        output=output_dir / entry.output if entry.output else None,
        warnings=list(entry.warnings),
        size=entry.size,
        mtime_ns=entry.mtime_ns,
        copied=entry.copied,
        output_size=entry.output_size,
    )


def _to_entry(outcome: FileOutcome, source: str, output_dir: Path) -> JournalEntry:
    output = outcome.output.relative_to(output_dir).as_posix() if outcome.output else ""
    return JournalEntry(
        source=source,
        size=outcome.size,
        mtime_ns=outcome.mtime_ns,
        outcome=outcome.outcome,
        reason=outcome.reason,
        output=output,
        warnings=tuple(outcome.warnings),
        copied=outcome.copied,
        output_size=outcome.output_size if outcome.output else 0,
    )


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
    if summary.count("held"):
        lines.append(f"Files held until their scanner is signed off: {summary.count('held')}")
    if profile.motivation:
        lines += ["", "Motivation for keeping more than the diagnosis level:", profile.motivation]
    return "\n".join(lines) + "\n"


def _file_record(f: FileOutcome, input_dir: Path) -> dict[str, Any]:
    record: dict[str, Any] = {
        "source": f.source.relative_to(input_dir).as_posix(),
        "outcome": f.outcome,
        "reason": f.reason,
        "warnings": f.warnings,
    }
    if not f.copied:
        record["copied"] = False
    return record


def _operator_report(summary: RunSummary) -> dict[str, Any]:
    return {
        "profile": summary.profile,
        "key_id": summary.key_id,
        "total": len(summary.files),
        "written": summary.count("written"),
        "excluded": summary.reasons("excluded"),
        "quarantined": summary.reasons("quarantined"),
        "held": summary.reasons("held"),
        "resumed": summary.resumed,
        "processed": summary.processed,
        "seconds": round(summary.seconds, 3),
        "megabytes": round(summary.bytes_processed / 1e6, 3),
        "files_per_second": round(summary.files_per_second, 2),
        "megabytes_per_second": round(summary.megabytes_per_second, 2),
        "workers": summary.workers,
        "files": [
            _file_record(f, summary.input_dir)
            for f in summary.files if f.outcome != "written" or f.warnings
        ],
    }  # fmt: skip


def _write_reports(summary: RunSummary, profile: Profile) -> None:
    output_dir = summary.output_dir
    try:
        _atomic_write(output_dir / REPORT_INSIDE, _inside_report(summary, profile).encode())
        record = _operator_report(summary)
        record["configuration"] = configuration_hash(profile)  # what a sign-off is for
        report = json.dumps(record, indent=2).encode()
        _atomic_write(_report_path(output_dir), report)
    except OSError as exc:
        raise _stopped(exc, f"write the reports of {output_dir}") from None


def run(
    input_dir: Path,
    output_dir: Path,
    *,
    profile: Profile,
    key: Key,
    quarantine_dir: Path | None = None,
    on_file: Callable[[FileOutcome, int, int], None] | None = None,
    workers: int = 1,
    resume: bool = False,
    journal_path: Path | None = None,
    signoffs: SignOffCheck | None = None,
    ocr: bool = False,
    sync: bool = False,
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
        Called after each file this run handles with its outcome, the number done and the
        number to do (files finished by an earlier run are not counted).
    workers
        Worker processes; 1 works in the calling process.
    resume
        Finish the run the journal describes, skipping the files it lists as done (same
        size and modification time). Without it, an output folder that holds a journaled
        run is refused.
    journal_path
        Defaults to ``OUT.journal`` beside *output_dir*.
    signoffs
        The sign-offs of the configuration in use (:mod:`aidahub.deid.signoff`): a file
        from a (caregiver, manufacturer, model) combination without one gets a warning, or,
        when the check requires sign-offs, is held (outcome ``"held"``, nothing written)
        and looked at again by the next ``resume=True`` run.
    ocr
        Read text burned into every kept image with Tesseract (:mod:`aidahub.deid.ocr`)
        and exclude an image whose text matches its own header values or the free-text
        detectors (``burned-in-text``), or that could not be read (``ocr-failed``). The
        caller checks that Tesseract is there (:meth:`BurnedInText.create`).
    sync
        Make the outputs durable before the journal records them (one ``syncfs`` per
        commit, :meth:`aidahub.deid.journal.Journal.sync_before_commit`), so that after a
        power cut no journaled output needs checking. Without it a resumed run redoes the
        files whose outputs are missing or of another size than journaled.

    Raises
    ------
    RunError
        If the folders are wrong or hold another run; nothing was written.
    RunStopped
        If the run cannot go on (disk full, output not writable, input not readable);
        what is finished is journaled and ``resume=True`` finishes the rest.
    """
    quarantine_dir = quarantine_dir or default_quarantine(output_dir)
    journal_path = journal_path or default_journal(output_dir)
    _check_folders(input_dir, output_dir, quarantine_dir, journal_path)
    started = time.perf_counter()
    earlier = _earlier_run(journal_path, output_dir, profile, key, resume)
    _create_output(output_dir)
    journal = _open_journal(journal_path, earlier, profile, key)
    if sync:
        journal.sync_before_commit(output_dir, quarantine_dir)
    try:
        _remove_leftovers(output_dir, quarantine_dir)
        summary = _run_files(
            _Setup(input_dir, output_dir, quarantine_dir, profile, key, signoffs, ocr),
            journal, earlier, workers, on_file,
        )  # fmt: skip
        journal.commit()
        summary.seconds = time.perf_counter() - started
        _write_reports(summary, profile)
    except OSError as exc:  # the workers' and the reports' own errors arrive as RunStopped
        journal.abandon()
        raise _stopped(exc, f"write the journal {journal_path}") from None
    except BaseException:
        journal.abandon()
        raise
    journal.abandon()  # everything is committed: this only closes it
    return summary


def _run_files(
    setup: _Setup,
    journal: Journal,
    earlier: journal_file.LoadedJournal | None,
    workers: int,
    on_file: Callable[[FileOutcome, int, int], None] | None,
) -> RunSummary:
    """Walk, skip what the journal has, de-identify the rest; journal each file as it ends.

    OSError comes only from the journal; the workers' own write failures arrive as
    :class:`RunStopped`.
    """
    input_dir, output_dir = setup.input_dir, setup.output_dir
    files = _walk(input_dir)
    entries = earlier.entries if earlier is not None else {}
    outcomes: dict[str, FileOutcome] = {}
    todo: list[str] = []
    for source in files:
        entry = entries.get(source)
        # A file held for want of a sign-off is looked at again: one may exist now.
        if (
            entry is not None
            and entry.outcome != "held"
            and _unchanged(input_dir, output_dir, entry)
        ):
            outcomes[source] = _from_entry(entry, input_dir, output_dir)
        else:
            todo.append(source)
    count = max(1, min(workers, len(todo)))
    summary = RunSummary(
        input_dir, output_dir, setup.quarantine_dir, setup.profile.name, setup.key.key_id,
        workers=count, resumed=len(outcomes),
    )  # fmt: skip
    runner: _Runner = _InProcess(setup) if count == 1 else _Pool(setup, count)
    try:
        anchors = {}
        if todo and _needs_anchors(setup.profile):
            anchors = _anchors(runner, files, journal.commit_if_due)
        tasks: list[_FileTask] = [(source, anchors.get(source)) for source in todo]
        size = _chunk_size(len(tasks), count, _CHUNK_FILES)
        finished = 0
        for chunk in runner.files(_chunks(tasks, size), journal.commit_if_due):
            for outcome in chunk:
                source = outcome.source.relative_to(input_dir).as_posix()
                journal.add(_to_entry(outcome, source, output_dir))
                outcomes[source] = outcome
                _drop_stale_output(entries.get(source), outcome, outcomes, output_dir)
                summary.bytes_processed += outcome.size
                finished += 1
                if on_file is not None:
                    on_file(outcome, finished, len(tasks))
        _settle_duplicates(setup, journal, outcomes, anchors, files)
    finally:
        runner.close()
    summary.files = [outcomes[source] for source in files]
    return summary


def _settle_duplicates(
    setup: _Setup,
    journal: Journal,
    outcomes: dict[str, FileOutcome],
    anchors: dict[str, _Anchor],
    files: list[str],
) -> None:
    """Two inputs with one SOP Instance UID name one output: keep one, exclude the others.

    Archives often hold an image twice (a resend, a copy in another folder). Workers write
    such files concurrently to one output name, so the bytes on disk are whichever renamed
    last. The input whose path sorts first keeps the output, which is written again from it
    so its bytes are certain; every other one is excluded with the reason, naming the file
    kept. Resumed files take part too, so a run killed before this step is repaired by the
    next ``--resume``.
    """
    claims: dict[str, list[str]] = {}  # by the output's text: a Path hashes slowly
    for source, outcome in outcomes.items():
        if outcome.outcome == "written" and outcome.output is not None:
            claims.setdefault(os.fspath(outcome.output), []).append(source)
    groups = [sorted(sources) for sources in claims.values() if len(sources) > 1]
    if not groups:
        return
    if not anchors and _needs_anchors(setup.profile):
        anchors = _anchors(_InProcess(setup), files, journal.commit_if_due)
    rewrite = _InProcess(setup)
    output_dir = setup.output_dir
    for keep, *others in groups:
        for chunk in rewrite.files([[(keep, anchors.get(keep))]], journal.commit_if_due):
            for outcome in chunk:
                journal.add(_to_entry(outcome, keep, output_dir))
                outcomes[keep] = outcome
        for source in others:
            first = outcomes[source]
            reason = f"duplicate SOP Instance UID: the same instance as {keep}, kept"
            excluded = dataclasses.replace(first, outcome="excluded", reason=reason, output=None)
            journal.add(_to_entry(excluded, source, output_dir))
            outcomes[source] = excluded
