"""The ``aidahub`` command.

``aidahub run`` serves the hub, ``aidahub manage ...`` reaches Django's management commands,
``aidahub register import|export`` moves records in the legacy register format,
``aidahub deid run|keygen|key destroy|profiles`` de-identifies DICOM data without the hub.
"""

from __future__ import annotations

import argparse
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from aidahub import __version__

SETTINGS = "aidahub.web.config.settings"


def _django(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["aidahub manage", *argv])
    except SystemExit as exc:  # Django exits with the command's status
        return int(exc.code or 0)
    return 0


def _run(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    argv = ["runserver", f"{args.host}:{args.port}"]
    if not args.reload:
        argv.append("--noreload")
    return _django(["serve_hub", *argv[1:]])


def _deid_keygen(args: argparse.Namespace) -> int:
    from aidahub.deid.keys import KeyFileError, generate_key

    try:
        key = generate_key(Path(args.keyfile))
    except (KeyFileError, OSError) as exc:
        print(f"aidahub deid keygen: {exc}", file=sys.stderr)
        return 1
    print(f"key {key.key_id} written to {args.keyfile} (readable by its owner only)")
    print("Keep it apart from the data. Destroying it makes pseudonymous output anonymous.")
    return 0


def _deid_destroy(args: argparse.Namespace) -> int:
    from aidahub.deid.keys import KeyFileError, destroy_key

    try:
        record = destroy_key(Path(args.keyfile))
    except (KeyFileError, OSError) as exc:
        print(f"aidahub deid key destroy: {exc}", file=sys.stderr)
        return 1
    print(f"destroyed key {record.key_id} at {record.destroyed_at} by {record.who}")
    return 0


def _deid_profiles(args: argparse.Namespace) -> int:
    from aidahub.deid.profile import PROFILE_NAMES, load_profile

    for name in PROFILE_NAMES:
        profile = load_profile(name)
        print(f"{name:12} {len(profile.keep):4} elements kept")
    return 0


class _NoProgress:
    """What :func:`_deid_progress` returns when nothing is drawn: costs nothing per file."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, *args: object, **kwargs: object) -> int:
        return 0

    def update(self, *args: object, **kwargs: object) -> None:
        return None

    def refresh(self) -> None:
        return None

    def stop(self) -> None:
        return None


def _deid_progress(quiet: bool):
    """A progress bar with files/s, MB/s and time left, drawn on stderr when it is a terminal.

    It is refreshed from the main thread when files finish (no refresh thread), so the
    worker processes can be forked safely. With ``--quiet`` or without a terminal nothing
    is drawn, and the progress library is not even loaded.
    """
    if quiet or not sys.stderr.isatty():
        return _NoProgress()
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rates(ProgressColumn):
        def render(self, task):
            elapsed = task.elapsed or 0.0
            files = task.completed / elapsed if elapsed else 0.0
            megabytes = task.fields.get("bytes", 0) / 1e6 / elapsed if elapsed else 0.0
            return Text(f"{files:,.1f} files/s {megabytes:,.1f} MB/s", style="progress.data.speed")

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        Rates(),
        TimeRemainingColumn(),
        auto_refresh=False,
    )


_T = TypeVar("_T")


def _with_room(function: Callable[[], _T]) -> _T:
    """Call *function* from a frame with room above it on CPython's frame stack.

    CPython 3.11 keeps Python frames in chunks of 16 KiB and frees a chunk as soon as the
    frame at its start returns. Importing numpy and pydicom runs up and down across a
    chunk's end thousands of times, each crossing a memory map and unmap (4,000 of them,
    some 60 ms of ``aidahub deid run``'s start-up on a small virtual machine). A frame with
    4,608 unused local slots (36 KiB) never fits the chunk in use, so it gets one of 64 KiB
    to itself, and what it calls has 28 KiB above it: the imports cross no chunk's end.
    Elsewhere it is an ordinary call.
    """

    def call(target: Callable[[], _T]) -> _T:
        return target()

    code = call.__code__
    unused = tuple(f"_{number}" for number in range(4608))
    roomy = code.replace(co_varnames=code.co_varnames + unused, co_nlocals=1 + len(unused))
    return types.FunctionType(roomy, {})(function)  # type: ignore[no-any-return]


def _deid_run(args: argparse.Namespace) -> int:
    import time

    # Each worker process keeps one core busy: numpy's BLAS threads would only compete with
    # the other workers (set before numpy loads; an operator's own setting wins).
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")

    import importlib

    _with_room(lambda: importlib.import_module("aidahub.deid.batch"))  # the heavy imports
    from aidahub.deid.batch import RunError, RunStopped, run
    from aidahub.deid.keys import KeyFileError, load_key
    from aidahub.deid.profile import ProfileError, load_profile

    try:
        profile = load_profile(args.profile)
        key = load_key(Path(args.key) if args.key else None)
    except (ProfileError, KeyFileError, OSError) as exc:
        print(f"aidahub deid run: {exc}", file=sys.stderr)
        return 2
    if args.key:
        key_path = Path(args.key).resolve()
        for folder in (Path(args.input), Path(args.output)):
            if key_path.is_relative_to(folder.resolve()):
                print(
                    f"aidahub deid run: the key must live apart from the data, not inside {folder}",
                    file=sys.stderr,
                )
                return 2
    from aidahub.cli.review import signoff_check

    signoffs = signoff_check(args, profile)
    if isinstance(signoffs, int):
        return signoffs
    _settle_heap()
    ocr = bool(args.ocr)
    if ocr:
        from aidahub.deid.ocr import MISSING_MESSAGE, BurnedInText

        if BurnedInText.create() is None:
            print(f"note: {MISSING_MESSAGE} Going on without OCR.", file=sys.stderr)
            ocr = False
    workers = args.workers or os.cpu_count() or 1
    with _deid_progress(args.quiet) as progress:
        task = progress.add_task("resuming" if args.resume else "de-identifying", total=None)
        state = {"bytes": 0, "drawn": 0.0}

        def on_file(outcome, done, total):
            state["bytes"] += outcome.size
            progress.update(task, completed=done, total=total, bytes=state["bytes"])
            now = time.monotonic()
            if now - state["drawn"] >= 0.1 or done == total:
                state["drawn"] = now
                progress.refresh()

        try:
            summary = run(
                Path(args.input),
                Path(args.output),
                profile=profile,
                key=key,
                quarantine_dir=Path(args.quarantine) if args.quarantine else None,
                on_file=on_file,
                workers=workers,
                resume=args.resume,
                signoffs=signoffs,
                ocr=ocr,
                sync=args.sync,
            )
        except RunStopped as exc:
            progress.stop()
            print(f"aidahub deid run: {exc}", file=sys.stderr)
            return 3
        except RunError as exc:
            print(f"aidahub deid run: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            progress.stop()
            print(
                "aidahub deid run: interrupted. Run the same command with --resume to finish.",
                file=sys.stderr,
            )
            return 130
    print(
        f"{summary.count('written')} written, {summary.count('excluded')} excluded, "
        f"{summary.count('quarantined')} quarantined in {summary.seconds:.1f} s "
        f"(profile {profile.name}, key {key.key_id})"
    )
    for outcome in ("excluded", "quarantined", "held"):
        for reason, count in sorted(summary.reasons(outcome).items()):
            print(f"  {outcome} {reason}: {count}")
    from aidahub.cli.review import report_unsigned

    report_unsigned(summary, signoffs)
    print(
        f"{summary.processed} files, {summary.bytes_processed / 1e6:,.1f} MB processed: "
        f"{summary.files_per_second:,.1f} files/s, {summary.megabytes_per_second:,.1f} MB/s "
        f"with {summary.workers} worker{'s' if summary.workers != 1 else ''}"
    )
    if summary.resumed:
        print(f"{summary.resumed} files were already done by the interrupted run")
    print(f"report: {summary.output_dir.name}.report.json beside the output folder")
    _settle_heap()
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _add_deid(sub) -> None:
    deid = sub.add_parser(
        "deid",
        help="de-identify DICOM files (no hub needed)",
        description="De-identify DICOM data following the sharing policy's anonymization "
        "levels; pseudonyms, UIDs and date shifts are derived from a secret key.",
    )
    actions = deid.add_subparsers(
        dest="deid_command",
        metavar="{run,inventory,sample,verify,reverify,signoff,keygen,key,profiles}",
        required=True,
    )
    run = actions.add_parser(
        "run",
        help="de-identify a folder into another folder",
        description="Walk IN and write OUT as patient/study/series/instance under pseudonyms. "
        "Unreadable files go to a quarantine folder outside OUT; excluded images "
        "are listed in OUT.report.json beside OUT and never copied.",
    )
    run.add_argument("input", metavar="IN")
    run.add_argument("output", metavar="OUT")
    run.add_argument(
        "--profile",
        required=True,
        help="images-only, scanner, time-period, exam-type, diagnosis, or a profile file",
    )
    run.add_argument(
        "--key",
        metavar="KEYFILE",
        help="the key file (default: the AIDAHUB_DEID_KEY environment variable)",
    )
    run.add_argument("--quarantine", metavar="DIR", help="default: OUT.quarantine beside OUT")
    run.add_argument(
        "--workers",
        type=_positive,
        metavar="N",
        help="worker processes (default: one per core)",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="finish an interrupted run into the same OUT, skipping the files its journal "
        "(OUT.journal beside OUT) lists as done",
    )
    run.add_argument(
        "--source",
        metavar="NAME",
        help="the caregiver the input comes from, for sign-offs (default: each file's "
        "Institution Name)",
    )
    run.add_argument(
        "--signoffs",
        metavar="DIR",
        help="the sign-off folder (default: signoffs/ beside a profile file, or the "
        "AIDAHUB_DEID_SIGNOFFS environment variable)",
    )
    run.add_argument(
        "--require-signoff",
        action="store_true",
        help="hold back files from a caregiver, manufacturer and model without a sign-off "
        "of this configuration (a later --resume looks at them again)",
    )
    run.add_argument(
        "--ocr",
        action="store_true",
        help="read text burned into every kept image with Tesseract and exclude images "
        "showing the patient's own header values or personal numbers, dates, addresses "
        "(about 0.3 s an image)",
    )
    run.add_argument(
        "--sync",
        action="store_true",
        help="make outputs durable on disk before the journal records them, so that after a "
        "power cut --resume has nothing to check (slower: the run waits for the disk). "
        "Without it --resume redoes files whose outputs are missing or short",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(handler=_deid_run)
    from aidahub.cli.review import add_review_commands

    add_review_commands(actions)
    keygen = actions.add_parser(
        "keygen",
        help="create a secret key file",
        description="Create a key readable by its owner only and "
        "print its ID. Keep it apart from the data.",
    )
    keygen.add_argument("keyfile", metavar="KEYFILE")
    keygen.set_defaults(handler=_deid_keygen)
    key = actions.add_parser("key", help="manage a key", description="Manage a key.")
    key_actions = key.add_subparsers(dest="key_command", metavar="{destroy}", required=True)
    destroy = key_actions.add_parser(
        "destroy",
        help="overwrite and delete a key, printing a destruction record",
        description="Overwrite and delete the key file. Without the key, pseudonyms can no "
        "longer be linked back: pseudonymous output becomes anonymous.",
    )
    destroy.add_argument("keyfile", metavar="KEYFILE")
    destroy.set_defaults(handler=_deid_destroy)
    profiles = actions.add_parser("profiles", help="list the built-in profiles")
    profiles.set_defaults(handler=_deid_profiles)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aidahub",
        description="Run and administer a data hub for sharing clinical imaging data.",
    )
    parser.add_argument("--version", action="version", version=f"aidahub {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="serve the hub (http://127.0.0.1:8000 by default)",
        description="Serve the hub; prints the staff login when one was made.",
    )
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--reload", action="store_true", help="restart when code changes")
    run.set_defaults(handler=_run)

    manage = sub.add_parser(
        "manage",
        help="run a Django management command",
        description="Run a Django management command, e.g. 'aidahub manage migrate'.",
        add_help=False,
    )
    manage.add_argument("args", nargs=argparse.REMAINDER)
    manage.set_defaults(handler=lambda a: _django(a.args or ["help"]))

    register = sub.add_parser(
        "register",
        help="import or export register records",
        description="Move dataset records in the legacy register "
        "format (Markdown with YAML front matter).",
    )
    reg_sub = register.add_subparsers(
        dest="register_command", metavar="{import,export}", required=True
    )
    imp = reg_sub.add_parser(
        "import",
        help="import records from files or folders",
        description="Import register records. Prints one line per record (created, updated, "
        "unchanged or skipped) and a warning per repaired value; exits non-zero "
        "only when a record could not be imported at all.",
    )
    imp.add_argument("paths", nargs="+", metavar="PATH", help="a .md record or a folder of them")
    imp.add_argument("--quiet", action="store_true", help="print only problems")
    imp.set_defaults(
        handler=lambda a: _django(["import_register", *a.paths, *(["--quiet"] if a.quiet else [])])
    )
    exp = reg_sub.add_parser(
        "export",
        help="write every record to a folder",
        description="Write every dataset back in the register format, one file per dataset; "
        "repaired values are written as they were found.",
    )
    exp.add_argument("directory", metavar="DIR")
    exp.set_defaults(handler=lambda a: _django(["export_register", a.directory]))
    _add_deid(sub)
    return parser


# Whether this process is the command itself (and ends when it returns), not a caller's.
_WHOLE_PROCESS = False


def _settle_heap() -> None:
    """Move every object alive now out of the garbage collector's sight (``gc.freeze``).

    For a command that is its whole process: the imported modules then cost nothing in
    the collector's passes while it runs (forked workers start with them frozen too), and
    nothing at its end, where the interpreter would otherwise collect a heap it is about
    to drop (a tenth of a second after a large ``deid run``). Called in a process that goes
    on (a test, a caller of :func:`main`), it does nothing: frozen objects are never freed.
    """
    if _WHOLE_PROCESS:
        import gc

        gc.freeze()


def main(argv: list[str] | None = None) -> int:
    global _WHOLE_PROCESS
    if argv is None:
        _WHOLE_PROCESS = True
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["manage"]:
        # Pass everything after 'manage' through untouched, including --help.
        return _django(argv[1:] or ["help"])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
