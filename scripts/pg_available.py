"""Exit 0 when a PostgreSQL server answers at the URL given as the only argument."""

import sys

import psycopg


def main() -> int:
    url = sys.argv[1]
    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3):
            return 0
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL unreachable: {exc}".strip(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
