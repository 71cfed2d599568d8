"""``aidahub deid inventory|sample|verify|reverify|signoff``: the review loop of Appendix 3.

A new scanner's export goes from a first run to a signed-off configuration with these
commands (docs/deid-review.md walks through it): run, ``inventory`` (what is left, what is
new), ``sample`` (one examination in N, every element and a thumbnail of every image, with a
place for the verdict), ``verify`` (every output byte searched for the inputs' identifying
values), tweak the profile or house rules and run again, then ``signoff``. ``reverify``
is the follow-up of past output with today's rules.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["add_review_commands", "report_unsigned", "signoff_check"]


def _fail(command: str, message: str, status: int = 2) -> int:
    print(f"aidahub deid {command}: {message}", file=sys.stderr)
    return status


def _progress(quiet: bool, what: str):
    """A drawing callback (phase, done, total) and the bar to close, or a no-op."""
    from aidahub.cli import _deid_progress

    progress = _deid_progress(quiet)
    tasks: dict[str, Any] = {}
    drawn = [0.0]

    def on_file(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(phase, total=total)
        progress.update(tasks[phase], completed=done, total=total)
        now = time.monotonic()
        if now - drawn[0] >= 0.1 or done == total:
            drawn[0] = now
            progress.refresh()

    return progress, on_file


# -- sign-offs in `deid run` -----------------------------------------------------------------


def signoff_check(args: argparse.Namespace, profile):
    """The run's :class:`~aidahub.deid.signoff.SignOffCheck`, None, or an exit status."""
    from aidahub.deid.signoff import SignOffCheck, SignOffError, default_folder, load_signoffs

    folder = Path(args.signoffs) if args.signoffs else default_folder(args.profile)
    if folder is None:
        if args.require_signoff:
            return _fail("run", "--require-signoff needs the sign-off folder: give --signoffs DIR")
        print(
            "note: sign-offs are not checked: no sign-off folder (give --signoffs DIR or set "
            "AIDAHUB_DEID_SIGNOFFS)",
            file=sys.stderr,
        )
        return None
    try:
        signoffs = load_signoffs(folder)
    except SignOffError as exc:
        return _fail("run", str(exc))
    return SignOffCheck.build(
        signoffs, profile, source=args.source or "", require=args.require_signoff
    )


def report_unsigned(summary, check) -> None:
    """Say once, after a run, which combinations had no sign-off."""
    if check is None:
        return
    unsigned: Counter[str] = Counter()
    for outcome in summary.files:
        notes = [outcome.reason] if outcome.outcome == "held" else outcome.warnings
        for note in notes:
            if note.startswith("no-signoff:"):
                unsigned[note.partition(": ")[2]] += 1
    for text, count in sorted(unsigned.items()):
        print(f"  {text}: {count} files", file=sys.stderr)
    held = summary.count("held")
    unsigned_count = sum(unsigned.values())
    if unsigned_count:
        print(
            f"warning: {unsigned_count} files come from scanners whose "
            f"configuration {check.configuration[:12]} nobody has signed off"
            + (f"; {held} were held back (see above)" if held else "")
            + ". Review them (aidahub deid inventory, sample, verify), then aidahub deid "
            "signoff.",
            file=sys.stderr,
        )


# -- verify ----------------------------------------------------------------------------------


def _verify(args: argparse.Namespace) -> int:
    from aidahub.deid.profile import ProfileError, load_profile
    from aidahub.deid.search import MIN_LENGTH
    from aidahub.deid.verify import verify

    input_dir, output_dir = Path(args.input), Path(args.output)
    for folder in (input_dir, output_dir):
        if not folder.is_dir():
            return _fail("verify", f"{folder} is not a folder")
    try:
        profile = load_profile(args.profile) if args.profile else None
    except ProfileError as exc:
        return _fail("verify", str(exc))
    progress, on_file = _progress(args.quiet, "verify")
    with progress:
        result = verify(input_dir, output_dir, profile=profile, on_file=on_file)
    by_file: Counter[Path] = Counter(f.file for f in result.findings)
    shown = 0
    for finding in result.findings:
        if shown >= args.max_shown:
            break
        where = finding.file.relative_to(output_dir).as_posix()
        stream = f"{finding.stream} " if finding.stream else ""
        print(
            f"FOUND {where}: {finding.category} {finding.form!r} at {stream}byte "
            f"{finding.offset} ({finding.view})"
        )
        shown += 1
    if len(result.findings) > shown:
        print(f"... and {len(result.findings) - shown} more (--max-shown)")
    for relative, reason in result.unreadable:
        print(f"UNREADABLE {relative}: {reason}")
    print(
        f"searched {result.outputs} output files for {result.needles} identifying values "
        f"from {result.inputs} input files ({result.too_short} values shorter than "
        f"{MIN_LENGTH} characters skipped, {len(result.not_dicom)} inputs not DICOM)"
    )
    if args.json:
        record = {
            "inputs": result.inputs,
            "outputs": result.outputs,
            "needles": result.needles,
            "too_short": result.too_short,
            "not_dicom": result.not_dicom,
            "unreadable": [{"file": f, "reason": r} for f, r in result.unreadable],
            "findings": [
                {
                    "file": f.file.relative_to(output_dir).as_posix(),
                    "category": f.category,
                    "form": f.form,
                    "offset": f.offset,
                    "stream": f.stream,
                    "view": f.view,
                }
                for f in result.findings
            ],
        }
        Path(args.json).write_text(json.dumps(record, indent=2, ensure_ascii=False))
    if result.findings:
        print(f"NOT CLEAN: {len(result.findings)} findings in {len(by_file)} files")
        return 1
    if result.unreadable:
        print("NOT VERIFIED: some inputs could not be read, so their values were not searched")
        return 1
    print("clean: no identifying value of the inputs was found in the output")
    return 0


# -- inventory and sample --------------------------------------------------------------------


def _inventory(args: argparse.Namespace) -> int:
    from aidahub.deid import report

    output_dir = Path(args.output)
    if not output_dir.is_dir():
        return _fail("inventory", f"{output_dir} is not a folder")
    folder = Path(args.folder) if args.folder else None
    try:
        result = report.inventory(output_dir, folder=folder, source=args.source or "")
    except (report.ReviewError, OSError) as exc:
        return _fail("inventory", str(exc))
    print(_describe(result))
    return 0


def _sample(args: argparse.Namespace) -> int:
    from aidahub.deid import report

    output_dir = Path(args.output)
    if not output_dir.is_dir():
        return _fail("sample", f"{output_dir} is not a folder")
    folder = Path(args.folder) if args.folder else None
    if args.every < 1:
        return _fail("sample", "--every must be at least 1")
    try:
        result = report.sample(
            output_dir, every=args.every, seed=args.seed, folder=folder, source=args.source or ""
        )
    except (report.ReviewError, OSError) as exc:
        return _fail("sample", str(exc))
    print(_describe(result))
    return 0


def _describe(result: Any) -> str:
    """The paths and counts a result carries, one per line."""
    lines = []
    for name, value in vars(result).items():
        if isinstance(value, Path | str | int | float) and not name.startswith("_"):
            lines.append(f"{name.replace('_', ' ')}: {value}")
    return "\n".join(lines)


# -- sign-off --------------------------------------------------------------------------------


def _signoff(args: argparse.Namespace) -> int:
    from aidahub.deid import report
    from aidahub.deid.profile import ProfileError, load_profile
    from aidahub.deid.signoff import (
        Combination,
        SignOff,
        SignOffError,
        configuration_hash,
        default_folder,
        load_signoffs,
        now,
        write_signoff,
    )

    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        return _fail("signoff", str(exc))
    folder = Path(args.signoffs) if args.signoffs else default_folder(args.profile)
    if folder is None:
        return _fail("signoff", "give the sign-off folder with --signoffs DIR")
    configuration = configuration_hash(profile)
    if args.list:
        try:
            signoffs = load_signoffs(folder)
        except SignOffError as exc:
            return _fail("signoff", str(exc))
        for s in signoffs:
            mark = "current" if s.configuration == configuration else "other configuration"
            print(f"{s.combination}: {s.reviewer}, {s.signed_at} ({mark} {s.configuration[:12]})")
        return 0
    missing = [n for n in ("source", "manufacturer", "reviewer", "sample") if not getattr(args, n)]
    if missing:
        return _fail("signoff", "give " + ", ".join(f"--{n}" for n in missing))
    sheet = Path(args.sample)
    try:
        verdicts = report.read_verdicts(sheet)
    except (OSError, ValueError) as exc:
        return _fail("signoff", f"the review sheet cannot be read: {exc}")
    words = Counter(v.verdict for v in verdicts)
    unreviewed = [v for v in verdicts if v.verdict != "clean"]
    if not verdicts or unreviewed:
        what = ", ".join(f"{n} {w or 'without a verdict'}" for w, n in sorted(words.items()))
        return _fail(
            "signoff",
            "every sampled examination must be reviewed 'clean' before a sign-off "
            f"({what or 'no examinations'}): fix the configuration, run and review again",
            1,
        )
    reviewed: dict[str, Any] = {"sample": sheet.name, "examinations": len(verdicts)}
    info = sheet / "sample.json"
    if info.is_file():
        data = json.loads(info.read_text(encoding="utf-8"))
        reviewed.update({k: data[k] for k in ("seed", "every") if k in data})
    if args.inventory:
        reviewed["inventory"] = Path(args.inventory).name
    signoff = SignOff(
        combination=Combination(args.source, args.manufacturer, args.model or ""),
        configuration=configuration,
        profile=profile.name,
        reviewer=args.reviewer,
        signed_at=now(),
        reviewed=reviewed,
        notes=args.notes or "",
    )
    try:
        path = write_signoff(folder, signoff)
    except SignOffError as exc:
        return _fail("signoff", str(exc))
    print(f"signed off configuration {configuration[:12]} for {signoff.combination}: {path}")
    return 0


# -- reverify --------------------------------------------------------------------------------


def _reverify(args: argparse.Namespace) -> int:
    from aidahub.deid.profile import ProfileError, load_profile
    from aidahub.deid.reverify import reverify

    output_dir = Path(args.output)
    if not output_dir.is_dir():
        return _fail("reverify", f"{output_dir} is not a folder")
    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        return _fail("reverify", str(exc))
    progress, on_file = _progress(args.quiet, "reverify")
    with progress:
        result = reverify(output_dir, profile, on_file=on_file)
    for item in result.findings[: args.max_shown]:
        print(f"WOULD NOW CATCH {item}")
    if len(result.findings) > args.max_shown:
        print(f"... and {len(result.findings) - args.max_shown} more (--max-shown)")
    print(
        f"re-checked {result.files} output files with today's rules: "
        f"{len(result.findings)} findings in {result.files_with_findings} files"
    )
    return 1 if result.findings else 0


# -- the parsers -----------------------------------------------------------------------------


def add_review_commands(actions: Any) -> None:
    """Add the review loop's commands to ``aidahub deid``'s subcommands."""
    verify = actions.add_parser(
        "verify",
        help="search every output byte for the inputs' identifying values",
        description="Read IN again, take every value that identifies someone (names, IDs, "
        "personal numbers, dates, addresses, UIDs and what the free-text detectors find), "
        "and search every byte of every file under OUT for them in every form and "
        "character set. Exits 1 with file and byte offset when anything is found.",
    )
    verify.add_argument("input", metavar="IN")
    verify.add_argument("output", metavar="OUT")
    verify.add_argument(
        "--profile", help="the profile OUT was made with: what it keeps on purpose is not searched"
    )
    verify.add_argument("--json", metavar="FILE", help="also write the findings as JSON here")
    verify.add_argument("--max-shown", type=int, default=50, metavar="N")
    verify.add_argument("--quiet", action="store_true", help="no progress bar")
    verify.set_defaults(handler=_verify)

    inventory = actions.add_parser(
        "inventory",
        help="list every distinct remaining value, grouped by caregiver and scanner",
        description="Every distinct value of every element left in OUT with counts, per "
        "caregiver, manufacturer and model, as CSV and HTML beside OUT; values that look "
        "like names, numbers, dates or addresses are highlighted, and values that are new "
        "since the previous inventory are listed first.",
    )
    inventory.add_argument("output", metavar="OUT")
    inventory.add_argument("--source", metavar="NAME", help="the caregiver OUT came from")
    inventory.add_argument("--folder", metavar="DIR", help="default: OUT.review beside OUT")
    inventory.set_defaults(handler=_inventory)

    sample = actions.add_parser(
        "sample",
        help="write a full review sheet for one examination in N",
        description="Pick one examination in N reproducibly (the seed is recorded) and write "
        "a review sheet: every element of every file in those examinations, thumbnails of "
        "each image, and verdicts.csv for the reviewer's verdict.",
    )
    sample.add_argument("output", metavar="OUT")
    sample.add_argument("--every", type=int, default=100, metavar="N")
    sample.add_argument("--seed", type=int, help="repeat an earlier pick")
    sample.add_argument("--source", metavar="NAME", help="the caregiver OUT came from")
    sample.add_argument("--folder", metavar="DIR", help="default: OUT.review beside OUT")
    sample.set_defaults(handler=_sample)

    reverify = actions.add_parser(
        "reverify",
        help="re-check output made in the past with today's rules",
        description="Run today's exclusion checks, free-text detectors and element rules "
        "over de-identified output and report what they would now catch (the follow-up of "
        "past anonymization GDPR asks for). Exits 1 when anything is found.",
    )
    reverify.add_argument("output", metavar="OUT")
    reverify.add_argument("--profile", required=True, help="today's profile for this output")
    reverify.add_argument("--max-shown", type=int, default=50, metavar="N")
    reverify.add_argument("--quiet", action="store_true", help="no progress bar")
    reverify.set_defaults(handler=_reverify)

    signoff = actions.add_parser(
        "signoff",
        help="sign off a configuration for a caregiver, manufacturer and model",
        description="Record that a reviewer found no identifying information in a sampled "
        "review of this configuration (profile plus house rules) for one caregiver's "
        "scanner. Every examination of the review sheet must have the verdict 'clean'.",
    )
    signoff.add_argument("--profile", required=True)
    signoff.add_argument("--source", metavar="NAME", help="the caregiver")
    signoff.add_argument("--manufacturer", metavar="NAME")
    signoff.add_argument("--model", metavar="NAME", help="default: every model")
    signoff.add_argument("--reviewer", metavar="NAME")
    signoff.add_argument("--sample", metavar="SHEET", help="the reviewed sample sheet folder")
    signoff.add_argument("--inventory", metavar="FILE", help="the inventory that was reviewed")
    signoff.add_argument("--notes", metavar="TEXT")
    signoff.add_argument("--signoffs", metavar="DIR", help="default: signoffs/ beside the profile")
    signoff.add_argument("--list", action="store_true", help="list the sign-offs instead")
    signoff.set_defaults(handler=_signoff)
