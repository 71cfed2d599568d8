"""The ``aidahub`` command.

``aidahub run`` serves the hub, ``aidahub manage ...`` reaches Django's management commands,
``aidahub register import|export`` moves records in the legacy register format.
"""

from __future__ import annotations

import argparse
import os
import sys

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
    return parser


def main(argv: list[str] | None = None) -> int:
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
