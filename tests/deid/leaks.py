"""Search every byte under a folder for planted identifiers, in every form they could take.

A test helper, not a test module. Issue 3: "search every output byte for them, in every
encoding and format they could take (name parts split at ^ and reordered, case and
diacritics folded, personal numbers with and without century and hyphen, dates as YYYYMMDD /
YYYY-MM-DD / YYMMDD, original UIDs)".

The search itself is :mod:`aidahub.deid.search`, which ``aidahub deid verify`` uses too, so
the product's verification and these tests apply the same rules; its module docstring lists
the forms. Here the needles are the planted values of a corpus, each searched as
``tests.deid.planted.CATEGORY_KINDS`` says, and every planted value must have a searchable
form (a value too short to search would make a test pass without looking).
"""

from __future__ import annotations

from pathlib import Path

from aidahub.deid.search import COMMON_WORDS, Finding, Needle, Searcher, forms
from tests.deid.planted import Planted

__all__ = ["COMMON_WORDS", "Leak", "find_leaks", "find_leaks_in_bytes", "forms"]

Leak = Finding
"""One planted value found in output (the search's :class:`~aidahub.deid.search.Finding`)."""


def _searcher(planted: Planted) -> Searcher:
    searcher = Searcher(Needle(c, v, planted.kind(c)) for c, v in planted.items())
    if searcher.skipped:
        raise ValueError(f"no searchable form for {searcher.skipped[0]}")
    return searcher


def find_leaks(root: Path, planted: Planted) -> list[Leak]:
    """Return every planted value found in any file under `root` (or in the file `root`).

    Parameters
    ----------
    root : Path
        A folder, searched recursively including hidden files, or a single file.
    planted : Planted
        What was planted (``tests.deid.planted.make_corpus``).

    Returns
    -------
    list of Leak
        One per finding, in file order; empty when nothing leaked.
    """
    root = Path(root)
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    searcher = _searcher(planted)
    leaks: list[Leak] = []
    for path in paths:
        leaks.extend(searcher.scan_file(path))
    return leaks


def find_leaks_in_bytes(data: bytes, planted: Planted, name: str = "<bytes>") -> list[Leak]:
    """Search `data` as :func:`find_leaks` searches the contents of a file."""
    return _searcher(planted).scan_bytes(data, name)
