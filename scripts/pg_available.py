"""Exit 0 when a PostgreSQL server answers at the URL given as the only argument.

A server that answers but lacks the URL's database gets it created (a fresh machine's
server has only its default databases), so the PostgreSQL test run is skipped only when
no server can be reached at all.
"""

import sys

import psycopg
from psycopg import sql


def main() -> int:
    url = sys.argv[1].replace("postgres://", "postgresql://", 1)
    try:
        with psycopg.connect(url, connect_timeout=3):
            return 0
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            print(f"PostgreSQL unreachable: {exc}".strip(), file=sys.stderr)
            return 1
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.get("dbname") or ""
    try:
        with psycopg.connect(
            psycopg.conninfo.make_conninfo(url, dbname="postgres"),
            connect_timeout=3,
            autocommit=True,
        ) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"created the PostgreSQL database {name!r}", file=sys.stderr)
        return 0
    except psycopg.Error as exc:
        print(f"PostgreSQL unreachable: cannot create {name!r}: {exc}".strip(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
