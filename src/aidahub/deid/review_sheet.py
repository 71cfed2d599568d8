"""Review sheets: one examination in every N of de-identified output, read in full.

Appendix 3 of the policy: once a configuration is in use at scale, "one examination in
every 100" is reviewed again in full. :func:`sample` groups the DICOM files under *OUT*
into examinations by Study Instance UID (a file without one is an examination of its own),
picks one in *every* (at least one) and writes a review sheet folder
``sample-<UTC time>-seed<seed>/`` into the review folder (``OUT.review`` beside *OUT*,
never inside it):

* ``index.html``: the picked examinations, how to review them and how to record the
  verdict, with a page ``examination-<n>.html`` for each: every element of every file at
  every depth (bulk values summarised, possibly identifying values highlighted) and
  thumbnails of its images (first, middle and last frame);
* ``thumbs/``: the thumbnails, PNG, at most 256 pixels a side, named by running number only;
* ``verdicts.csv``: one line per examination, where the reviewer writes ``clean`` or
  ``found``, their name and notes; :func:`read_verdicts` reads it back for the sign-off;
* ``sample.json``: seed, interval, the picked examinations, date and source.

The pick is reproducible: ``random.Random(seed).sample(sorted(keys), k)`` with
``k = ceil(examinations / every)``; the seed is drawn with :func:`secrets.randbelow` when
not given and recorded, so the same seed over the same output picks the same examinations.
The sheet is written into a temporary folder and renamed into place when complete.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
import random
import secrets
import shutil
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_color_lut, apply_modality_lut, apply_voi_lut
from pydicom.pixels.utils import pixel_array

from aidahub.deid.review_files import (
    IDENTIFYING_FLAGS,
    Entry,
    ReviewError,
    UnreadableFile,
    badges,
    elements,
    legend,
    output_files,
    page,
    person_names,
    read_output_file,
    read_with_damage,
    relative_name,
    review_folder,
    utc_stamp,
    value_flags,
)

__all__ = [
    "THUMBNAIL_SIZE",
    "VERDICTS",
    "VERDICT_COLUMNS",
    "SampleResult",
    "Verdict",
    "VerdictError",
    "pick",
    "read_verdicts",
    "sample",
]

THUMBNAIL_SIZE = 256
"""The longest side of a thumbnail, in pixels."""

VERDICTS = ("clean", "found")
"""The words a reviewer writes in ``verdicts.csv`` (an empty verdict: not reviewed yet)."""

VERDICT_COLUMNS = ("examination", "study_instance_uid", "files", "verdict", "reviewer", "notes")
"""The columns of ``verdicts.csv``."""

_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


class VerdictError(ReviewError):
    """``verdicts.csv`` cannot be read; the message names the file, the line and the fault."""


@dataclass(frozen=True)
class Verdict:
    """A reviewer's verdict on one examination of a sample.

    Attributes
    ----------
    examination : int
        Its running number in the sheet.
    study_instance_uid : str
        Empty for a file without one (an examination of its own).
    files : int
    verdict : str
        ``"clean"``, ``"found"``, or ``""`` when not reviewed yet.
    reviewer, notes : str
    line : int
        The line of ``verdicts.csv`` it was read from.
    """

    examination: int
    study_instance_uid: str
    files: int
    verdict: str
    reviewer: str
    notes: str
    line: int


@dataclass(frozen=True)
class SampleResult:
    """What :func:`sample` picked and wrote.

    Attributes
    ----------
    folder : Path
        The review sheet folder.
    index, verdicts : Path
        Its ``index.html`` and ``verdicts.csv``.
    seed, every : int
        Give the same to pick the same examinations again.
    examinations, picked : int
        Examinations under *OUT*, and how many were picked.
    files, images, undecodable : int
        Files of the picked examinations, those with pixel data, and those whose pixels
        could not be decoded (shown with a placeholder).
    not_dicom, unreadable : int
        Files under *OUT* skipped as not DICOM, or unreadable.
    study_instance_uids : tuple of str
        Of the picked examinations, in sheet order (empty for a file without one).
    """

    folder: Path
    index: Path
    verdicts: Path
    seed: int
    every: int
    examinations: int
    picked: int
    files: int
    images: int
    undecodable: int
    not_dicom: int
    unreadable: int
    study_instance_uids: tuple[str, ...] = ()


@dataclass
class _Examination:
    number: int
    key: str
    files: list[Path]

    @property
    def study_instance_uid(self) -> str:
        return "" if self.key.startswith("file:") else self.key


@dataclass
class _Thumb:
    frame: int
    frames: int
    src: str = ""
    problem: str = ""


@dataclass
class _FileView:
    number: int
    name: str
    problem: str = ""
    entries: list[tuple[Entry, frozenset[str]]] = field(default_factory=list)
    thumbs: list[_Thumb] = field(default_factory=list)


@dataclass
class _Counts:
    files: int = 0
    images: int = 0
    undecodable: int = 0
    thumbnails: int = 0


# -- picking -----------------------------------------------------------------------------


def pick(keys: Sequence[str], every: int, seed: int) -> list[str]:
    """One examination key in *every*, at least one: ``Random(seed).sample(sorted(keys), k)``.

    Raises
    ------
    ValueError
        If *every* is less than 1.
    """
    if every < 1:
        raise ValueError(f"every must be 1 or more, not {every}")
    ordered = sorted(set(keys))
    k = math.ceil(len(ordered) / every)
    return random.Random(seed).sample(ordered, k)  # noqa: S311 - reproducible, not secret


def _examinations(out_dir: Path) -> tuple[dict[str, list[Path]], int, int]:
    """Files by examination key, and the counts of files not DICOM and unreadable."""
    found: dict[str, list[Path]] = defaultdict(list)
    not_dicom = unreadable = 0
    for path in output_files(out_dir):
        relative = relative_name(path, out_dir)
        try:
            ds = read_output_file(path, header_only=True)
        except UnreadableFile:
            unreadable += 1
            continue
        if ds is None:
            not_dicom += 1
            continue
        uid = str(ds.get("StudyInstanceUID", "") or "").strip()
        found[uid or f"file:{relative}"].append(path)
    return found, not_dicom, unreadable


def sample(
    out_dir: Path,
    *,
    every: int = 100,
    seed: int | None = None,
    folder: Path | None = None,
    source: str = "",
    on_file: Callable[[int, int], None] | None = None,
) -> SampleResult:
    """Pick one examination in *every* under *out_dir* and write its review sheet.

    Parameters
    ----------
    out_dir
        The output folder of ``aidahub deid run``.
    every
        One examination in this many is picked (at least one).
    seed
        Repeats an earlier pick; drawn and recorded when None.
    folder
        The review folder; by default ``OUT.review`` beside *out_dir*.
    source
        The caregiver the output came from, recorded in the sheet.
    on_file
        Called with (files done, files in all) as the picked files are written out.

    Raises
    ------
    ReviewError
        If *folder* is inside *out_dir*, or there is no DICOM file to sample.
    ValueError
        If *every* is less than 1.
    """
    if every < 1:
        raise ValueError(f"every must be 1 or more, not {every}")
    target = review_folder(out_dir, folder)
    found, not_dicom, unreadable = _examinations(out_dir)
    if not found:
        raise ReviewError(f"there is no readable DICOM file under {out_dir} to sample")
    if seed is None:
        seed = secrets.randbelow(2**32)
    picked = [
        _Examination(n, key, found[key]) for n, key in enumerate(pick(list(found), every, seed), 1)
    ]
    info = {
        "seed": seed,
        "every": every,
        "source": source,
        "output": Path(out_dir).name,
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "examinations_in_output": len(found),
        "examinations": len(picked),
        "study_instance_uids": [x.study_instance_uid for x in picked],
        "picked": [_record(x, out_dir) for x in picked],
    }
    sheet, counts = _write_sheet(target, out_dir, picked, info, on_file)
    return SampleResult(
        folder=sheet,
        index=sheet / "index.html",
        verdicts=sheet / "verdicts.csv",
        seed=seed,
        every=every,
        examinations=len(found),
        picked=len(picked),
        files=counts.files,
        images=counts.images,
        undecodable=counts.undecodable,
        not_dicom=not_dicom,
        unreadable=unreadable,
        study_instance_uids=tuple(x.study_instance_uid for x in picked),
    )


def _record(examination: _Examination, out_dir: Path) -> dict[str, Any]:
    return {
        "examination": examination.number,
        "study_instance_uid": examination.study_instance_uid,
        "files": [relative_name(p, out_dir) for p in examination.files],
    }


# -- writing the sheet -------------------------------------------------------------------


def _write_sheet(
    target: Path,
    out_dir: Path,
    picked: list[_Examination],
    info: dict[str, Any],
    on_file: Callable[[int, int], None] | None,
) -> tuple[Path, _Counts]:
    """Write the sheet into a temporary folder, then rename it into place."""
    target.mkdir(parents=True, exist_ok=True)
    name = _free_name(target, f"sample-{utc_stamp()}-seed{info['seed']}")
    tmp = target / f".{name}.{os.getpid()}.partial"
    counts = _Counts()
    total = sum(len(x.files) for x in picked)
    try:
        (tmp / "thumbs").mkdir(parents=True)
        for examination in picked:
            views = []
            for i, path in enumerate(examination.files, 1):
                views.append(_file_view(i, path, out_dir, tmp, counts))
                if on_file is not None:
                    on_file(counts.files, total)
            body = _examination_html(examination, views, len(picked))
            (tmp / _page_name(examination)).write_text(body, encoding="utf-8")
        (tmp / "index.html").write_text(_index_html(picked, info), encoding="utf-8")
        (tmp / "verdicts.csv").write_text(_verdicts_csv(picked), encoding="utf-8")
        (tmp / "sample.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        os.rename(tmp, target / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target / name, counts


def _free_name(folder: Path, base: str) -> str:
    name, number = base, 1
    while (folder / name).exists():
        number += 1
        name = f"{base}-{number}"
    return name


def _page_name(examination: _Examination) -> str:
    return f"examination-{examination.number:03d}.html"


def _file_view(number: int, path: Path, out_dir: Path, sheet: Path, counts: _Counts) -> _FileView:
    view = _FileView(number, relative_name(path, out_dir))
    counts.files += 1
    try:
        ds, damage = read_with_damage(path)
    except UnreadableFile as exc:
        view.problem = f"could not be read: {exc.reason}"
        return view
    if ds is None:
        view.problem = "not a DICOM file any more"
        return view
    if damage:
        view.problem = f"damaged ({damage}); what could be read is shown"
    try:
        names = person_names(ds)
        view.entries = [(entry, value_flags(entry, names)) for entry in elements(ds)]
    except Exception as exc:  # noqa: BLE001 - the sheet shows what could be read
        view.problem = f"an element could not be read: {type(exc).__name__}"
    if any(keyword in ds for keyword in _PIXEL_KEYWORDS):
        counts.images += 1
        view.thumbs = _thumbnails(ds, sheet, counts)
        counts.undecodable += any(t.problem for t in view.thumbs)
    return view


# -- thumbnails --------------------------------------------------------------------------


def _thumbnails(ds: Dataset, sheet: Path, counts: _Counts) -> list[_Thumb]:
    """Thumbnails of the first, middle and last frame; a placeholder when one fails."""
    try:
        frames = max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        frames = 1
    thumbs = []
    for index in sorted({0, frames // 2, frames - 1}):
        thumb = _Thumb(index + 1, frames)
        try:
            image = _thumbnail(ds, index, frames)
        except Exception as exc:  # noqa: BLE001 - an undecodable image gets a placeholder
            thumb.problem = f"could not be decoded: {type(exc).__name__}"
            thumbs.append(thumb)
            break  # the other frames of the image would fail the same way
        counts.thumbnails += 1
        thumb.src = f"thumbs/{counts.thumbnails:05d}.png"
        image.save(sheet / thumb.src, format="PNG")
        thumbs.append(thumb)
    return thumbs


def _thumbnail(ds: Dataset, index: int, frames: int) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        array = pixel_array(ds, index=index if frames > 1 else None)
        photometric = str(ds.get("PhotometricInterpretation", "")).strip()
        if photometric == "PALETTE COLOR":
            array = apply_color_lut(array, ds)
        if array.ndim == 3 and array.shape[-1] in (3, 4):
            image = Image.fromarray(_to_bytes(array[..., :3]), mode="RGB")
        elif array.ndim == 2:
            grey = _to_bytes(_displayed(array, ds, index))
            image = Image.fromarray(255 - grey if photometric == "MONOCHROME1" else grey, "L")
        else:
            raise ValueError(f"pixel array of shape {array.shape}")
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    return image


def _displayed(array: npt.NDArray[Any], ds: Dataset, index: int) -> npt.NDArray[Any]:
    """The grey values as displayed: Modality LUT, then the VOI window or LUT if any."""
    try:
        values: npt.NDArray[Any] = apply_modality_lut(array, ds)
        if "WindowCenter" in ds or "VOILUTSequence" in ds:
            values = apply_voi_lut(values, ds, index=0)
    except Exception:  # noqa: BLE001 - an unusable LUT falls back to min/max
        return array
    return values


def _to_bytes(array: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """Scale to 0..255 by the array's own minimum and maximum (8-bit data as it is)."""
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    values = array.astype(np.float64)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if high <= low:
        return np.zeros(array.shape, dtype=np.uint8)
    scaled = (np.nan_to_num(values, nan=low) - low) * (255.0 / (high - low))
    return np.ascontiguousarray(np.clip(scaled, 0, 255).astype(np.uint8))


# -- pages -------------------------------------------------------------------------------


def _index_html(picked: list[_Examination], info: dict[str, Any]) -> str:
    e = html.escape
    rows = "".join(
        f'<tr><td><a href="{_page_name(x)}">{x.number}</a></td>'
        f"<td>{e(x.study_instance_uid or '(none: a file of its own)')}</td>"
        f"<td>{len(x.files)}</td></tr>"
        for x in picked
    )
    body = (
        f"<h1>Review sheet: one examination in {info['every']}</h1>"
        f"<p>Output folder <code>{e(str(info['output']))}</code>, source "
        f"<strong>{e(str(info['source']) or '(not given)')}</strong>, made {e(info['date'])}. "
        f"{info['examinations']} of {info['examinations_in_output']} examinations were picked "
        f"with seed <code>{info['seed']}</code>; the same seed over the same output picks the "
        f"same examinations (<code>aidahub deid sample OUT --every {info['every']} --seed "
        f"{info['seed']}</code>).</p>"
        f"{_instructions(picked[0] if picked else None)}"
        "<h2>Examinations</h2><table><tr><th>Examination</th><th>Study Instance UID</th>"
        f"<th>Files</th></tr>{rows}</table>"
        f"<h2>Flags</h2>{legend()}"
    )
    return page("Review sheet", body)


def _instructions(first: _Examination | None) -> str:
    example = ""
    if first is not None:
        line = f"{first.number},{first.study_instance_uid},{len(first.files)}"
        example = (
            "<p>For example, the first line after the column names, once reviewed:</p>"
            f"<pre>{html.escape(line)},clean,Karin Berg,</pre>"
            f"<pre>{html.escape(line)},found,Karin Berg,&quot;Study Description: a "
            "surname; frame 1: name burned into the image&quot;</pre>"
        )
    return (
        "<h2>How to review</h2><ol>"
        "<li>Open each examination below. Read every element of every file and look at "
        "every image: no name, personal number, other number, date, address, face or text "
        "burned into the pixels may identify a patient, a member of staff or a place. "
        "Highlighted values were flagged by simple detectors; read the others too.</li>"
        "<li>Open <code>verdicts.csv</code> in this folder with a spreadsheet program or a "
        "text editor. On the line of each examination write, in the column "
        "<code>verdict</code>, <code>clean</code> when you found nothing identifying or "
        "<code>found</code> when you did; your name in <code>reviewer</code>; and in "
        "<code>notes</code> what you found and where (the element or the image). Do not "
        "change the other columns or remove lines, and save it as CSV (UTF-8).</li>"
        "<li>If anything was found: change the profile or the house rules, run the "
        "de-identification again and make a new sample. When every examination is "
        "<code>clean</code>, record the sign-off with <code>aidahub deid signoff</code>, "
        "giving this folder as <code>--sample</code>.</li></ol>" + example
    )


def _examination_html(examination: _Examination, views: list[_FileView], total: int) -> str:
    e = html.escape
    parts = [
        f"<h1>Examination {examination.number} of {total}</h1>",
        f"<p>Study Instance UID <code>{e(examination.study_instance_uid or '(none)')}</code>, "
        f"{len(views)} {'file' if len(views) == 1 else 'files'}. "
        '<a href="index.html">Back to the review sheet</a></p>',
    ]
    for view in views:
        parts.append(f"<h2>File {view.number}: <code>{e(view.name)}</code></h2>")
        if view.problem:
            parts.append(f'<p class="problem">{e(view.problem)}</p>')
        parts.append(_thumbs_html(view.thumbs))
        parts.append(_entries_html(view.entries))
    return page(f"Examination {examination.number}", "\n".join(parts))


def _thumbs_html(thumbs: list[_Thumb]) -> str:
    figures = []
    for t in thumbs:
        caption = f"frame {t.frame} of {t.frames}"
        if t.problem:
            shown = f'<div class="placeholder">{html.escape(t.problem)}</div>'
        else:
            shown = f'<img src="{t.src}" alt="{caption}">'
        figures.append(f"<figure>{shown}<figcaption>{caption}</figcaption></figure>")
    return f"<div>{''.join(figures)}</div>" if figures else ""


def _entries_html(entries: list[tuple[Entry, frozenset[str]]]) -> str:
    e = html.escape
    rows = []
    for entry, flags in entries:
        flagged = ' class="flagged"' if flags & IDENTIFYING_FLAGS else ""
        indent = f' style="padding-left:{0.4 + 1.2 * entry.depth:.1f}rem"' if entry.depth else ""
        rows.append(
            f"<tr{flagged}><td>{e(entry.tag)}</td><td{indent}>{e(entry.location)}</td>"
            f'<td>{e(entry.vr)}</td><td class="value">{e(entry.value)}</td>'
            f"<td>{badges(flags)}</td></tr>"
        )
    return (
        "<table><tr><th>Tag</th><th>Keyword</th><th>VR</th><th>Value</th><th>Flags</th></tr>"
        + "".join(rows)
        + "</table>"
    )


# -- verdicts ----------------------------------------------------------------------------


def _verdicts_csv(picked: list[_Examination]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(VERDICT_COLUMNS)
    for x in picked:
        writer.writerow([x.number, x.study_instance_uid, len(x.files), "", "", ""])
    return buffer.getvalue()


def read_verdicts(sheet_folder: Path) -> list[Verdict]:
    """Read the reviewer's verdicts from ``verdicts.csv`` in a review sheet folder.

    Each line needs the columns of :data:`VERDICT_COLUMNS`; the verdict is ``clean``,
    ``found`` (any letter case) or empty (not reviewed yet), and a verdict needs the
    reviewer's name. When the sheet's ``sample.json`` is there, every examination it picked
    must have exactly one line. A sheet saved by a spreadsheet with ``;`` between columns
    is read too.

    Raises
    ------
    OSError
        If the file cannot be read.
    VerdictError
        If it is not as above; the message names the file, the line and what is wrong.
    """
    path = Path(sheet_folder) / "verdicts.csv"
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise VerdictError(f"{path}: not UTF-8 text; save it as CSV (UTF-8)") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [cell.strip().lower() for cell in next(reader, [])]
    missing = [column for column in VERDICT_COLUMNS if column not in header]
    if missing:
        raise VerdictError(
            f"{path}, line 1: missing column {', '.join(missing)}; the first line must be "
            + ",".join(VERDICT_COLUMNS)
        )
    verdicts: list[Verdict] = []
    line = reader.line_num + 1
    for row in reader:
        if any(cell.strip() for cell in row):
            verdicts.append(_verdict(dict(zip(header, row, strict=False)), path, line))
        line = reader.line_num + 1
    _check_complete(verdicts, path)
    return verdicts


def _verdict(cells: dict[str, str], path: Path, line: int) -> Verdict:
    def cell(column: str) -> str:
        return (cells.get(column) or "").strip()

    where = f"{path}, line {line}"
    numbers = {}
    for column in ("examination", "files"):
        try:
            numbers[column] = int(cell(column) or "0")
        except ValueError:
            raise VerdictError(f"{where}: {column} {cell(column)!r} is not a number") from None
    verdict = cell("verdict").lower()
    if verdict not in ("", *VERDICTS):
        raise VerdictError(
            f"{where}: unknown verdict {cell('verdict')!r}; write clean or found, or leave it "
            "empty until the examination is reviewed"
        )
    if verdict and not cell("reviewer"):
        raise VerdictError(f"{where}: the verdict {verdict!r} needs the reviewer's name")
    return Verdict(
        examination=numbers["examination"],
        study_instance_uid=cell("study_instance_uid"),
        files=numbers["files"],
        verdict=verdict,
        reviewer=cell("reviewer"),
        notes=cell("notes"),
        line=line,
    )


def _check_complete(verdicts: list[Verdict], path: Path) -> None:
    """Each examination once; with ``sample.json``, exactly the examinations it picked."""
    seen: dict[int, Verdict] = {}
    for v in verdicts:
        if v.examination in seen:
            raise VerdictError(
                f"{path}, line {v.line}: examination {v.examination} is listed twice "
                f"(also on line {seen[v.examination].line})"
            )
        seen[v.examination] = v
    info_path = path.with_name("sample.json")
    if not info_path.is_file():
        return
    try:
        picked = json.loads(info_path.read_text(encoding="utf-8"))["picked"]
        expected = {int(p["examination"]): str(p["study_instance_uid"]) for p in picked}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VerdictError(f"{info_path}: not the sample's record ({exc})") from None
    for v in verdicts:
        if v.examination not in expected:
            raise VerdictError(
                f"{path}, line {v.line}: examination {v.examination} is not in this sample"
            )
        if v.study_instance_uid != expected[v.examination]:
            raise VerdictError(
                f"{path}, line {v.line}: the study_instance_uid of examination "
                f"{v.examination} is not the one sampled; do not change that column"
            )
    absent = sorted(set(expected) - set(seen))
    if absent:
        raise VerdictError(
            f"{path}: examination {', '.join(map(str, absent))} of the sample has no line; "
            "every sampled examination needs a verdict"
        )
