"""``aidahub register import PATH...``: read records in the legacy register format.

One line per record (created, updated, unchanged or skipped) and a warning line per
repaired value; a progress bar only on a terminal. The exit status is 1 only when some
record could not be imported at all.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aidahub.web.register.importer import (
    ImportReport,
    RecordResult,
    import_paths,
    record_files,
)


def result_lines(result: RecordResult, *, quiet: bool = False) -> list[str]:
    if result.outcome == "skipped":
        lines = [f"skipped {result.source}: {result.error}"]
    elif quiet:
        lines = []
    else:
        lines = [f"{result.outcome} {result.doi}  ({result.source})"]
    return lines + [f"  warning: {warning}" for warning in result.warnings]


def summary(report: ImportReport) -> str:
    total = len(report.results)
    counts = ", ".join(
        f"{report.count(o)} {o}" for o in ("created", "updated", "unchanged", "skipped")
    )
    warnings = report.warnings
    return (
        f"{total} {'record' if total == 1 else 'records'}: {counts}; "
        f"{warnings} {'warning' if warnings == 1 else 'warnings'}"
    )


class Command(BaseCommand):
    help = (
        "Import register records (Markdown with YAML front matter) from files or folders. "
        "Exits with status 1 only when a record could not be imported at all."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", metavar="PATH", help="a .md record or a folder of them"
        )
        parser.add_argument("--quiet", action="store_true", help="print only problems")

    def handle(self, *args, **options):
        paths = [Path(p) for p in options["paths"]]
        quiet = options["quiet"]
        progress = None
        if self.stdout.isatty() and not quiet:
            from rich.progress import Progress

            progress = Progress(transient=True)
        with progress or nullcontext():
            task = (
                progress.add_task("importing", total=len(record_files(paths))) if progress else None
            )

            def on_result(result: RecordResult) -> None:
                for line in result_lines(result, quiet=quiet):
                    if progress is not None:
                        progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
                    else:
                        self.stdout.write(line)
                if progress is not None:
                    progress.advance(task)

            report = import_paths(paths, on_result=on_result)
        if not quiet or report.skipped:
            self.stdout.write(summary(report))
        if report.skipped:
            raise CommandError(
                "some records could not be imported; see the lines starting with 'skipped'",
                returncode=1,
            )
