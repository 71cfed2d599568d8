"""``aidahub register export DIR``: write every dataset back in the legacy register format."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aidahub.web.register.exporter import export_all


class Command(BaseCommand):
    help = (
        "Write every dataset in the register format (Markdown with YAML front matter), one "
        "file per dataset named after its DOI; repaired values are written as found."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR")

    def handle(self, *args, **options):
        directory = Path(options["directory"])
        if directory.exists() and not directory.is_dir():
            raise CommandError(f"{directory} is not a folder")
        try:
            written = export_all(directory)
        except OSError as exc:
            raise CommandError(f"could not write to {directory}: {exc.strerror}") from exc
        noun = "record" if len(written) == 1 else "records"
        self.stdout.write(f"exported {len(written)} {noun} to {directory}")
