"""Comparing output folders of de-identification runs (a test helper)."""

from __future__ import annotations

from pathlib import Path


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under *folder* by relative path; the report's finishing time left out."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == "DEIDENTIFICATION.txt":
                data = b"".join(
                    line for line in data.splitlines(True) if not line.startswith(b"Finished:")
                )
            found[path.relative_to(folder).as_posix()] = data
    return found
