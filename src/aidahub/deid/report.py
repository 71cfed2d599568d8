"""Inventory of de-identified output, and (re-exported) its review sheets.

Appendix 3 of the policy makes anonymization trustworthy by review: people look at the
de-identified output and tweak the configuration "until no identifying information was
found", per caregiver and scanner ("as each care giver and instrument manufacturer will
have their own 'house rules'"). The inventory is what they look at first: every distinct
value of every element left in the output, at every depth, with its count, grouped by
combination (source, manufacturer, model: :class:`aidahub.deid.signoff.Combination`),
each value flagged by cheap detectors (:func:`aidahub.deid.review_files.value_flags`).

:func:`inventory` writes ``inventory-<UTC time>.csv`` and ``.html`` into the review folder
(``OUT.review`` beside *OUT* by default, never inside it) and compares with the previous
inventory there: a value is *new* when its (combination, element, value) was not in it, so
after a configuration change or a new export the reviewer reads only what changed. The
HTML page lists the new values first, then the whole inventory.

The CSV is meant for spreadsheets too. It is UTF-8 with a byte order mark, so that a
spreadsheet reads å, ä and ö, and a text cell that a spreadsheet would run as a
formula (starting with ``=``, ``+``, ``-``, ``@`` or a tab) is written with a leading
``'``, which :func:`load_inventory` removes again (as it does from a cell that starts with
``'`` itself).

The other half of the review, one examination in every 100 read in full, is
:func:`aidahub.deid.review_sheet.sample`, re-exported here with :func:`read_verdicts`.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from aidahub.deid.review_files import (
    IDENTIFYING_FLAGS,
    ReviewError,
    UnreadableFile,
    badges,
    default_review_folder,
    elements,
    legend,
    output_files,
    page,
    person_names,
    read_output_file,
    relative_name,
    review_folder,
    utc_stamp,
    value_flags,
    write_atomically,
)
from aidahub.deid.review_sheet import SampleResult, Verdict, VerdictError, read_verdicts, sample
from aidahub.deid.signoff import Combination

__all__ = [
    "COLUMNS",
    "SHOWN_PER_ELEMENT",
    "Inventory",
    "InventoryResult",
    "InventoryValue",
    "ReviewError",
    "SampleResult",
    "Verdict",
    "VerdictError",
    "build_inventory",
    "default_review_folder",
    "inventory",
    "latest_inventory",
    "load_inventory",
    "read_verdicts",
    "sample",
    "write_inventory",
]

COLUMNS = (
    "source",
    "manufacturer",
    "model",
    "element",
    "tag",
    "vr",
    "value",
    "count",
    "flags",
    "new",
)
"""The columns of the inventory CSV, in order."""

SHOWN_PER_ELEMENT = 50
"""Distinct values of one element shown per combination on the HTML page, flagged first;
the CSV has them all. Without a limit every instance UID would be a row of the page."""

_NAME = re.compile(r"^inventory-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?\.csv$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
_TEXT_COLUMNS = ("source", "manufacturer", "model", "element", "value")

Key = tuple[Combination, str, str]
"""(combination, element path, value): what makes a value the same in two inventories."""


@dataclass
class InventoryValue:
    """One distinct value of one element in one combination.

    Attributes
    ----------
    combination : Combination
    element : str
        The element's path (:attr:`aidahub.deid.review_files.Entry.path`).
    tag, vr : str
        Of the first file the value was seen in.
    value : str
        As shown (cut at 200 characters, bulk data as ``<N bytes>``).
    count : int
        How many times it occurs (an element in every item of a sequence counts each time).
    flags : frozenset of str
        Keys of :data:`aidahub.deid.review_files.FLAGS`.
    new : bool
        Not in the previous inventory (set by :func:`write_inventory`).
    """

    combination: Combination
    element: str
    tag: str
    vr: str
    value: str
    count: int = 0
    flags: frozenset[str] = frozenset()
    new: bool = True

    @property
    def key(self) -> Key:
        """What identifies the value across inventories."""
        return (self.combination, self.element, self.value)

    @property
    def flagged(self) -> bool:
        """Whether a detector marked the value as possibly identifying."""
        return bool(self.flags & IDENTIFYING_FLAGS)


@dataclass
class Inventory:
    """Every distinct value under an output folder (or as read back from a CSV).

    Attributes
    ----------
    source : str
        The caregiver the output came from, as the caller named it.
    created : str
        UTC time, ``YYYYmmddTHHMMSSZ``.
    output : str
        The output folder's name (not its path).
    values : dict
        :data:`Key` to :class:`InventoryValue`.
    files : Counter
        DICOM files read per combination (not known for an inventory read from a CSV).
    not_dicom : int
        Files skipped as not DICOM (such as the run's own description).
    unreadable : list of (str, str)
        Relative path and reason of each file that could not be read.
    path : Path or None
        The CSV it was read from.
    """

    source: str = ""
    created: str = ""
    output: str = ""
    values: dict[Key, InventoryValue] = field(default_factory=dict)
    files: Counter[Combination] = field(default_factory=Counter)
    not_dicom: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    path: Path | None = None

    def add(self, value: InventoryValue) -> None:
        """Count *value* once more (with ``value.count`` occurrences)."""
        known = self.values.get(value.key)
        if known is None:
            self.values[value.key] = value
        else:
            known.count += value.count
            known.flags |= value.flags

    def rows(self) -> list[InventoryValue]:
        """Every value, by combination, element and value."""
        return sorted(self.values.values(), key=lambda v: (v.combination, v.element, v.value))


@dataclass(frozen=True)
class InventoryResult:
    """What :func:`inventory` wrote and found.

    Attributes
    ----------
    csv, html : Path
        The files written.
    previous : Path or None
        The earlier inventory compared with, if any.
    files, not_dicom, unreadable : int
        DICOM files read, files skipped as not DICOM, files that could not be read.
    combinations : int
        Distinct (source, manufacturer, model).
    values, new_values : int
        Distinct values, and how many of them are new.
    flagged, new_flagged : int
        Values flagged as possibly identifying, and how many of them are new.
    """

    csv: Path
    html: Path
    previous: Path | None
    files: int
    not_dicom: int
    unreadable: int
    combinations: int
    values: int
    new_values: int
    flagged: int
    new_flagged: int


# -- building ----------------------------------------------------------------------------


def build_inventory(
    out_dir: Path, *, source: str = "", on_file: Callable[[int, int], None] | None = None
) -> Inventory:
    """Read every DICOM file under *out_dir* and collect every distinct value.

    Parameters
    ----------
    out_dir
        The output folder of ``aidahub deid run``.
    source
        The caregiver the output came from (the first part of every combination).
    on_file
        Called with (files done, files in all) after each file.

    Returns
    -------
    Inventory
        Files that are not DICOM are counted; damaged ones are listed with the reason.
    """
    result = Inventory(source=source, created=utc_stamp(), output=Path(out_dir).name)
    paths = output_files(out_dir)
    for done, path in enumerate(paths, 1):
        _add_file(result, path, relative_name(path, out_dir))
        if on_file is not None:
            on_file(done, len(paths))
    return result


def _add_file(result: Inventory, path: Path, relative: str) -> None:
    try:
        ds = read_output_file(path)
        if ds is None:
            result.not_dicom += 1
            return
        combination = Combination(
            result.source, _text(ds, "Manufacturer"), _text(ds, "ManufacturerModelName")
        )
        values = list(_values(ds, combination))
    except UnreadableFile as exc:
        result.unreadable.append((relative, exc.reason))
        return
    except Exception as exc:  # noqa: BLE001 - one damaged value must not stop the inventory
        result.unreadable.append((relative, f"{type(exc).__name__}: {exc}"[:200]))
        return
    result.files[combination] += 1
    for value in values:
        result.add(value)


def _values(ds: Dataset, combination: Combination) -> Iterable[InventoryValue]:
    names = person_names(ds)
    for entry in elements(ds):
        if entry.sequence:
            continue  # its items' elements are listed; the sequence itself has no value
        yield InventoryValue(
            combination,
            entry.path,
            entry.tag,
            entry.vr,
            entry.value,
            count=1,
            flags=value_flags(entry, names),
        )


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    return str(value[0] if isinstance(value, MultiValue) and value else value).strip()


# -- comparing, writing and reading ------------------------------------------------------


def inventory(
    out_dir: Path,
    *,
    folder: Path | None = None,
    source: str = "",
    on_file: Callable[[int, int], None] | None = None,
) -> InventoryResult:
    """Build the inventory of *out_dir*, compare it with the previous one and write it.

    Parameters
    ----------
    out_dir
        The output folder of ``aidahub deid run``.
    folder
        The review folder; by default ``OUT.review`` beside *out_dir*
        (:func:`default_review_folder`).
    source
        The caregiver the output came from.
    on_file
        Progress, as for :func:`build_inventory`.

    Raises
    ------
    ReviewError
        If *folder* is inside *out_dir*, or the previous inventory cannot be read.
    """
    target = review_folder(out_dir, folder)
    previous_path = latest_inventory(target)
    previous = load_inventory(previous_path) if previous_path is not None else None
    built = build_inventory(out_dir, source=source, on_file=on_file)
    csv_path, html_path = write_inventory(built, target, previous=previous)
    rows = built.rows()
    return InventoryResult(
        csv=csv_path,
        html=html_path,
        previous=previous_path,
        files=sum(built.files.values()),
        not_dicom=built.not_dicom,
        unreadable=len(built.unreadable),
        combinations=len(built.files),
        values=len(rows),
        new_values=sum(1 for v in rows if v.new),
        flagged=sum(1 for v in rows if v.flagged),
        new_flagged=sum(1 for v in rows if v.new and v.flagged),
    )


def write_inventory(
    inventory: Inventory, folder: Path, *, previous: Inventory | None
) -> tuple[Path, Path]:
    """Mark what is new since *previous* and write ``inventory-<time>.csv`` and ``.html``.

    Each file is written to a temporary name and renamed into place. Two inventories made
    in the same second are told apart by a counter (``inventory-<time>-2.csv``).

    Returns
    -------
    tuple of Path
        The CSV and the HTML page.
    """
    known = set(previous.values) if previous is not None else set()
    for value in inventory.values.values():
        value.new = previous is None or value.key not in known
    base = _free_name(folder, inventory.created or utc_stamp())
    csv_path, html_path = folder / f"{base}.csv", folder / f"{base}.html"
    write_atomically(csv_path, _csv_text(inventory).encode("utf-8-sig"))
    write_atomically(html_path, _html(inventory, previous).encode("utf-8"))
    return csv_path, html_path


def latest_inventory(folder: Path) -> Path | None:
    """The most recent ``inventory-<time>.csv`` in *folder*, or None."""
    if not folder.is_dir():
        return None
    found: list[tuple[str, int, Path]] = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match and path.is_file():
            found.append((match["stamp"], int(match["n"] or 1), path))
    return max(found)[2] if found else None


def _free_name(folder: Path, stamp: str) -> str:
    number = 1
    latest = latest_inventory(folder)
    if latest is not None:
        last_stamp, last_number = _order(latest.name)
        if last_stamp >= stamp:
            # Same second, or a clock set back: the new inventory must still sort last.
            stamp, number = last_stamp, last_number + 1
    while True:
        base = f"inventory-{stamp}" + (f"-{number}" if number > 1 else "")
        if not (folder / f"{base}.csv").exists() and not (folder / f"{base}.html").exists():
            return base
        number += 1


def _order(name: str) -> tuple[str, int]:
    match = _NAME.match(name)
    return (match["stamp"], int(match["n"] or 1)) if match else ("", 0)


def load_inventory(csv_path: Path) -> Inventory:
    """Read an inventory CSV written by :func:`write_inventory`.

    Raises
    ------
    ReviewError
        If the file is not such a CSV; the message names the file, the line and the fault.
    """
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewError(f"the inventory {csv_path.name} cannot be read: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise ReviewError(
            f"{csv_path.name}, line 1: not an inventory; missing column {', '.join(missing)}"
        )
    match = _NAME.match(csv_path.name)
    result = Inventory(created=match["stamp"] if match else "", path=csv_path)
    for row in reader:
        result.add(_row_value(row, csv_path.name, reader.line_num))
    sources = {v.combination.source for v in result.values.values()}
    result.source = sources.pop() if len(sources) == 1 else ""
    return result


def _row_value(row: dict[str, str], name: str, line: int) -> InventoryValue:
    cells = {c: row.get(c) or "" for c in COLUMNS}
    cells.update({c: _uncell(cells[c]) for c in _TEXT_COLUMNS})
    try:
        count = int(cells["count"])
    except ValueError:
        raise ReviewError(
            f"{name}, line {line}: count {cells['count']!r} is not a number"
        ) from None
    return InventoryValue(
        Combination(cells["source"], cells["manufacturer"], cells["model"]),
        cells["element"],
        cells["tag"],
        cells["vr"],
        cells["value"],
        count=count,
        flags=frozenset(cells["flags"].split()),
        new=cells["new"] == "yes",
    )


def _csv_text(inventory: Inventory) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for v in inventory.rows():
        c = v.combination
        writer.writerow(
            [_cell(c.source), _cell(c.manufacturer), _cell(c.model), _cell(v.element), v.tag]
            + [v.vr, _cell(v.value), v.count, " ".join(sorted(v.flags))]
            + ["yes" if v.new else "no"]
        )
    return buffer.getvalue()


def _cell(text: str) -> str:
    """*text*, made safe from spreadsheets that run cells as formulas (see the module)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") else text


# -- the HTML page -----------------------------------------------------------------------


def _html(inventory: Inventory, previous: Inventory | None) -> str:
    e = html.escape
    rows = inventory.rows()
    new = [v for v in rows if v.new]
    compared = (
        f"compared with {e(previous.path.name if previous.path else 'an earlier inventory')}"
        if previous is not None
        else "no earlier inventory in this folder: every value is new"
    )
    parts = [
        "<h1>Inventory of de-identified output</h1>",
        f"<p>Output folder <code>{e(inventory.output)}</code>, source "
        f"<strong>{e(inventory.source or '(not given)')}</strong>, made {e(inventory.created)}"
        f" (UTC), {compared}.</p>",
        f"<p>{sum(inventory.files.values())} DICOM files in {len(inventory.files)} "
        f"combinations; {len(rows)} distinct values, {len(new)} new, "
        f"{sum(1 for v in rows if v.flagged)} flagged. {inventory.not_dicom} files are not "
        f"DICOM; {len(inventory.unreadable)} could not be read.</p>",
        _how_to_read(),
        legend(),
        _unreadable(inventory.unreadable),
        _combinations(inventory),
    ]
    if previous is not None:
        parts.append(f'<h2 id="new">New since the previous inventory ({len(new)} values)</h2>')
        parts.append(_tables(new, inventory.files) if new else "<p>Nothing is new.</p>")
    parts.append(f'<h2 id="all">The whole inventory ({len(rows)} values)</h2>')
    parts.append(_tables(rows, inventory.files))
    return page(f"Inventory {inventory.created}", "\n".join(parts))


def _how_to_read() -> str:
    return (
        "<p>Read every value: none may identify a patient, a member of staff or a place. "
        "Flagged values are highlighted; the flags are hints from simple detectors, so read "
        "the values that are not flagged too. When you find identifying information, change "
        "the profile or the house rules, run again and make a new inventory: the new "
        f"values are then listed first. Each element shows at most {SHOWN_PER_ELEMENT} "
        "values per combination here, flagged values first; the CSV file beside this page "
        "has them all.</p>"
        '<p><a href="#new">New values</a> · <a href="#all">Whole inventory</a></p>'
    )


def _unreadable(files: list[tuple[str, str]]) -> str:
    if not files:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(reason)}</td></tr>"
        for name, reason in files
    )
    return (
        "<h2>Files that could not be read</h2>"
        f"<table><tr><th>File</th><th>Why</th></tr>{rows}</table>"
    )


def _combinations(inventory: Inventory) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(str(c))}</td><td>{n}</td></tr>"
        for c, n in sorted(inventory.files.items())
    )
    return (
        "<h2>Combinations (source / manufacturer / model)</h2>"
        f"<table><tr><th>Combination</th><th>DICOM files</th></tr>{rows}</table>"
    )


def _tables(values: list[InventoryValue], files: Counter[Combination]) -> str:
    by_combination: dict[Combination, dict[str, list[InventoryValue]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for v in values:
        by_combination[v.combination][v.element].append(v)
    parts = []
    for combination in sorted(by_combination):
        count = f", {_files(files[combination])}" if combination in files else ""
        parts.append(f"<h3>{html.escape(str(combination))}{count}</h3>")
        parts.append(
            "<table><tr><th>Element</th><th>Tag</th><th>VR</th><th>Value</th>"
            "<th>Count</th><th>Flags</th><th>New</th></tr>"
        )
        for element, group in sorted(by_combination[combination].items()):
            parts.extend(_element_rows(element, group))
        parts.append("</table>")
    return "\n".join(parts)


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def _element_rows(element: str, values: list[InventoryValue]) -> list[str]:
    e = html.escape
    ordered = sorted(values, key=lambda v: (not v.flagged, -v.count, v.value))
    rows = []
    for v in ordered[:SHOWN_PER_ELEMENT]:
        flagged = ' class="flagged"' if v.flagged else ""
        rows.append(
            f"<tr{flagged}><td>{e(element)}</td><td>{e(v.tag)}</td><td>{e(v.vr)}</td>"
            f'<td class="value">{e(v.value)}</td><td>{v.count}</td><td>{badges(v.flags)}</td>'
            f"<td>{'new' if v.new else ''}</td></tr>"
        )
    hidden = ordered[SHOWN_PER_ELEMENT:]
    if hidden:
        hidden_flagged = sum(1 for v in hidden if v.flagged)
        rows.append(
            f'<tr><td>{e(element)}</td><td colspan="6" class="note">and {len(hidden)} more '
            f"distinct values ({hidden_flagged} flagged, {sum(v.count for v in hidden)} "
            "occurrences): see the CSV file</td></tr>"
        )
    return rows
