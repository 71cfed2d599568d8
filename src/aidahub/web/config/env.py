"""Read settings from ``AIDAHUB_*`` environment variables and an optional ``.env`` file.

Kept free of Django so that the CLI can call it before Django is set up.
"""

from __future__ import annotations

import os
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigurationError(ValueError):
    """A setting holds a value that cannot be understood."""


def read_dotenv(path: Path, environ: dict[str, str] | None = None) -> None:
    """Load ``KEY=VALUE`` lines from *path* into *environ* without overriding what is set.

    Blank lines and ``#`` comments are ignored; values may be quoted with ' or ".
    """
    target = os.environ if environ is None else environ
    if not path.is_file():
        return
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        target.setdefault(key.strip(), value)


def get_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def get_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {raw!r}")


def get_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
