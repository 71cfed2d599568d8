"""The journal of a de-identification run: what is finished, so a killed run can resume.

A run appends one line per finished input file to ``OUT.journal`` beside the output folder
(never inside it: the journal names input files, and input paths often hold patient
names). The file is JSON Lines:

* the first line is the header, ``{"journal": "aidahub-deid", "version": 1, "profile":
  ..., "key_id": ..., "started": ...}``; a run resumes only with the same profile and key;
* every other line is one :class:`JournalEntry`: the input file's path relative to *IN*,
  its size and modification time (a file changed since is done again), the outcome, the
  reason, the output path relative to *OUT*, and pydicom's warnings for the report.

The order of events is what makes the journal safe to trust: a file's line is queued only
after its output was written to a temporary name and renamed into place, and lines are
written in batches (:data:`COMMIT_SECONDS`, :data:`COMMIT_LINES`). A run killed at any
moment (SIGKILL included) therefore finds every journaled output complete: what a process
wrote is in the kernel's hands, whether or not the process lives on. Files done but not
yet journaled are simply done again, to the same bytes. A line torn by a crash (no final
newline, or not JSON) is ignored and cut off before the next run appends.

A power cut is another matter: the kernel may not have written a journaled output yet.
Each line records the output's size, and a resumed run does again every file whose output
is missing or of another size (on ext4, XFS and btrfs an output whose data did not reach
the disk comes back short or empty, never as other bytes of its length). For a guarantee
that does not depend on the file system, :meth:`Journal.sync_before_commit` (``aidahub
deid run --sync``) makes every commit wait for one ``syncfs`` of the file systems the
outputs went to and fsync the journal after: every journaled output is then on the disk
before its line is, at the cost of waiting for the disk while the run goes on.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

__all__ = [
    "COMMIT_LINES",
    "COMMIT_SECONDS",
    "FORMAT",
    "Journal",
    "JournalBusy",
    "JournalEntry",
    "JournalError",
    "LoadedJournal",
    "check_header",
    "header_for",
    "load_journal",
]

FORMAT = "aidahub-deid"
VERSION = 1
COMMIT_SECONDS = 0.5
"""Longest time a finished file waits before its line is on disk."""
COMMIT_LINES = 200
"""Most lines written in one batch."""


class JournalError(ValueError):
    """The journal cannot be used (another format, or another profile or key)."""


class JournalBusy(JournalError):
    """Another run holds the journal: two runs must never write one output folder."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One finished input file.

    Attributes
    ----------
    source
        Path relative to the input folder, with ``/`` separators.
    size, mtime_ns
        The input file's size and modification time when it was read.
    outcome
        ``written``, ``excluded`` or ``quarantined``.
    reason
        Why it was excluded or quarantined (empty when written).
    output
        The output path relative to the output folder (empty unless written).
    output_size
        The output's size in bytes (0 when not recorded, as by journals of earlier versions).
    warnings
        pydicom's warnings while reading it (for the operator's report only).
    copied
        False when a quarantined file could not be copied to the quarantine folder.
    """

    source: str
    size: int
    mtime_ns: int
    outcome: str
    reason: str = ""
    output: str = ""
    warnings: tuple[str, ...] = ()
    copied: bool = True
    output_size: int = 0

    def as_line(self) -> bytes:
        record: dict[str, Any] = {
            "source": self.source,
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "outcome": self.outcome,
        }
        if self.reason:
            record["reason"] = self.reason
        if self.output:
            record["output"] = self.output
        if self.output_size:
            record["output_size"] = self.output_size
        if self.warnings:
            record["warnings"] = list(self.warnings)
        if not self.copied:
            record["copied"] = False
        # ASCII only: names that are not valid UTF-8 survive as \udcXX escapes.
        return (json.dumps(record, separators=(",", ":")) + "\n").encode("ascii")

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> JournalEntry:
        return cls(
            source=str(record["source"]),
            size=int(record["size"]),
            mtime_ns=int(record["mtime_ns"]),
            outcome=str(record["outcome"]),
            reason=str(record.get("reason", "")),
            output=str(record.get("output", "")),
            warnings=tuple(str(w) for w in record.get("warnings", ())),
            copied=bool(record.get("copied", True)),
            output_size=int(record.get("output_size", 0)),
        )


@dataclass
class LoadedJournal:
    """What an existing journal says: its header, the last entry per source, its sound end.

    Attributes
    ----------
    header
        The first line, or None when the journal is empty or its header is torn.
    entries
        The last entry for each source path.
    sound_bytes
        Length of the journal up to the end of its last complete line; what follows is
        torn and is cut off before appending.
    skipped_lines
        Complete lines that could not be read (damaged in the middle; ignored).
    """

    header: dict[str, Any] | None
    entries: dict[str, JournalEntry] = field(default_factory=dict)
    sound_bytes: int = 0
    skipped_lines: int = 0


def header_for(profile: str, key_id: str) -> dict[str, Any]:
    """Return the header line's fields for a run with *profile* and the key *key_id*."""
    started = f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
    return {
        "journal": FORMAT,
        "version": VERSION,
        "profile": profile,
        "key_id": key_id,
        "started": started,
    }


def load_journal(path: Path) -> LoadedJournal:
    """Read the journal at *path*, ignoring a torn last line.

    Parameters
    ----------
    path
        The journal file; it must exist.

    Returns
    -------
    LoadedJournal

    Raises
    ------
    JournalError
        If the file is not an aidahub de-identification journal.
    OSError
        If it cannot be read.
    """
    data = path.read_bytes()
    loaded = LoadedJournal(header=None)
    # Everything after the last newline is a line torn by a crash: never read, cut off later.
    lines = data[: data.rfind(b"\n") + 1].split(b"\n")[:-1]
    if not lines:
        return loaded
    header = _parse(lines[0])
    if header is None:
        return loaded  # the header itself is torn: nothing after it can be trusted
    if header.get("journal") != FORMAT:
        raise JournalError(f"{path.name} is not an aidahub de-identification journal")
    loaded.header = header
    position = len(lines[0]) + 1
    for raw in lines[1:]:
        position += len(raw) + 1
        entry = _entry(_parse(raw))
        if entry is None:
            loaded.skipped_lines += 1
        else:
            loaded.entries[entry.source] = entry
    loaded.sound_bytes = position
    return loaded


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _entry(record: dict[str, Any] | None) -> JournalEntry | None:
    if record is None:
        return None
    try:
        return JournalEntry.from_record(record)
    except (KeyError, TypeError, ValueError):
        return None


def check_header(loaded: LoadedJournal, profile: str, key_id: str) -> None:
    """Refuse to resume a run that was started with another profile or key.

    Raises
    ------
    JournalError
        With a message naming what differs.
    """
    header = loaded.header or {}
    if header.get("profile") != profile or header.get("key_id") != key_id:
        raise JournalError(
            f"the run in this output folder was started with profile "
            f"{header.get('profile')!r} and key {header.get('key_id')}; resume it with the "
            "same profile and key"
        )


class Journal:
    """An open journal that entries are appended to, written and fsynced in batches.

    Use :meth:`create` for a new run and :meth:`reopen` to resume one; call :meth:`add`
    after each file's output is in place, :meth:`commit_if_due` now and then, and
    :meth:`close` at the end (it commits what is pending).
    """

    def __init__(
        self,
        handle: BinaryIO,
        *,
        every_seconds: float = COMMIT_SECONDS,
        every_lines: int = COMMIT_LINES,
    ) -> None:
        self._handle = handle
        self._pending: list[bytes] = []
        self._folders: set[Path] = set()
        self._filesystems: tuple[Path, ...] = ()
        self._durable = False
        self._every_seconds = every_seconds
        self._every_lines = every_lines
        self._last = time.monotonic()

    @classmethod
    def create(cls, path: Path, header: dict[str, Any]) -> Journal:
        """Start a new journal at *path* with *header*, replacing any journal there.

        Raises
        ------
        JournalBusy
            If another run holds the journal there.
        """
        if path.exists():
            with open(path, "rb") as old:
                _lock(old)
        tmp = path.with_name(f".{path.name}.partial")
        with open(tmp, "wb") as fh:
            fh.write((json.dumps(header, separators=(",", ":")) + "\n").encode("ascii"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _sync_folder(path.parent)
        handle = open(path, "ab")  # noqa: SIM115 - closed by close()
        try:
            _lock(handle)
        except BaseException:
            handle.close()
            raise
        return cls(handle)

    @classmethod
    def reopen(cls, path: Path, loaded: LoadedJournal) -> Journal:
        """Open *path* for appending after its last sound line (a torn tail is cut off).

        Raises
        ------
        JournalBusy
            If another run holds the journal.
        """
        handle = open(path, "r+b")  # noqa: SIM115 - closed by close()
        try:
            _lock(handle)
            handle.truncate(loaded.sound_bytes)
            handle.seek(loaded.sound_bytes)
        except BaseException:
            handle.close()
            raise
        return cls(handle)

    def add(self, entry: JournalEntry, written_in: Iterable[Path] = ()) -> None:
        """Queue *entry*; *written_in* names the folders its output was renamed into.

        With :meth:`sync_before_commit`, the folders are fsynced before the line is, so that
        after a power cut the journal never names an output whose rename was lost.
        """
        self._pending.append(entry.as_line())
        self._folders.update(written_in)
        self.commit_if_due()

    def sync_before_commit(self, *folders: Path) -> None:
        """Make everything written under *folders* durable before each commit.

        One ``syncfs`` per file system and commit replaces an fsync per output file: the
        outputs of a whole batch reach the disk together, before the lines naming them,
        and the journal is fsynced after them.
        """
        self._filesystems = folders
        self._durable = True

    def commit_if_due(self) -> None:
        """Commit when enough lines are pending or the oldest has waited long enough."""
        if not self._pending:
            return
        due = time.monotonic() - self._last >= self._every_seconds
        if due or len(self._pending) >= self._every_lines:
            self.commit()

    def commit(self) -> None:
        """Write the pending lines (one write); with :meth:`sync_before_commit`, after the
        outputs are durable, and fsynced."""
        self._last = time.monotonic()
        if not self._pending:
            return
        if self._durable:
            for folder in self._filesystems:
                _sync_filesystem(folder)
            for folder in sorted(self._folders):
                _sync_folder(folder)
        self._folders.clear()
        self._handle.write(b"".join(self._pending))
        self._pending.clear()
        self._handle.flush()
        if self._durable:
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        """Commit what is pending and close the file."""
        try:
            self.commit()
        finally:
            self._handle.close()

    def abandon(self) -> None:
        """Try to commit what is pending and close, swallowing errors (the run is stopping)."""
        with contextlib.suppress(OSError):
            self.close()


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so the names renamed into it survive a power cut."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_filesystem(folder: Path) -> None:
    """Flush every file and folder written on *folder*'s file system to disk.

    Linux's ``syncfs(2)`` does it for one file system; elsewhere ``sync()`` for all.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except FileNotFoundError:
        return
    try:
        if _SYNCFS is None or _SYNCFS(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _load_syncfs() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    return function


_SYNCFS = _load_syncfs()


def _lock(handle: BinaryIO) -> None:
    """Hold the journal for this run (released when the process ends, however it ends)."""
    try:
        import fcntl
    except ImportError:  # not a Unix system: two runs at once are not detected
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise JournalBusy(
            "another run is writing to this output folder right now; wait for it to end"
        ) from None
