"""Inventory and review sheets of de-identified output (aidahub.deid.report, review_sheet).

The files are small DICOM objects made here, laid out as ``aidahub deid run`` writes them
(``OUT/<patient>/<study>/<series>/<instance>.dcm``), with what a reviewer must notice:
hostile text in a person name, a date and an address in a description, two manufacturers,
a nested sequence, a private element, RGB, multi-frame and RLE images, an image that cannot
be decoded, a truncated file and files that are not DICOM.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
    SecondaryCaptureImageStorage,
    generate_uid,
)

from aidahub.deid import report
from aidahub.deid.batch import REPORT_INSIDE
from aidahub.deid.review_files import VALUE_LIMIT
from aidahub.deid.review_sheet import VerdictError, pick
from tests.deid.planted import make_corpus

SCRIPT_NAME = "<script>alert('x')</script>^Eve"
DESCRIPTION = "Undersökt 2023-03-14, Storgatan 12, 582 25 Linköping"
PRIVATE_CREATOR = "ACME PRIVATE"
PRIVATE_TEXT = "Anna Karlsson 4711"
REFERENCED = "1.2.826.0.1.3680043.8.498.99887766"
SOURCE = "Region Test"


# -- building the output -------------------------------------------------------------------


def _dataset(study: str, manufacturer: str, model: str, **elements: object) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "CT"
    ds.StudyDate = "20230314"
    ds.Manufacturer = manufacturer
    ds.ManufacturerModelName = model
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    return ds


def _grey(ds: Dataset, rows: int = 16, columns: int = 16, frames: int = 1) -> Dataset:
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.WindowCenter, ds.WindowWidth = 40, 400
    values = np.arange(rows * columns * frames, dtype=np.uint16) % 4096
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = values.tobytes()
    return ds


def _rgb(ds: Dataset, rows: int, columns: int) -> Dataset:
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 3
    ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = "RGB"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelRepresentation = 0
    pixels = np.zeros((rows, columns, 3), dtype=np.uint8)
    pixels[..., 0] = 200  # red: a thumbnail that stayed RGB keeps it
    ds.PixelData = pixels.tobytes()
    return ds


def _save(out: Path, ds: Dataset, patient: str, name: str) -> Path:
    path = out / patient / "study" / "series" / f"{name}.dcm"
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _first_file(study: str) -> Dataset:
    ds = _grey(
        _dataset(study, "ACME", "Scan 1", PatientName=SCRIPT_NAME, StudyDescription=DESCRIPTION)
    )
    item = Dataset()
    item.ReferencedSOPClassUID = CTImageStorage
    item.ReferencedSOPInstanceUID = REFERENCED
    ds.ReferencedStudySequence = Sequence([item])
    block = ds.private_block(0x0029, PRIVATE_CREATOR, create=True)
    block.add_new(0x10, "LO", PRIVATE_TEXT)
    return ds


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An output folder with every kind of file a reviewer meets (see the module docstring)."""
    out = tmp_path / "OUT"
    study_a, study_b, study_c, study_d, study_e = (generate_uid() for _ in range(5))
    _save(out, _first_file(study_a), "P1", "a1")
    second = _grey(_dataset(study_a, "ACME", "Scan 1", StudyDescription=DESCRIPTION))
    _save(out, second, "P1", "a2")
    _save(out, _rgb(_dataset(study_b, "Other Corp", "Model X"), 300, 512), "P2", "rgb")
    _save(out, _grey(_dataset(study_c, "Other Corp", "Model X"), frames=5), "P3", "multi")
    rle = _grey(_dataset(study_d, "ACME", "Scan 1"), rows=32, columns=32)
    rle.compress(RLELossless, np.full((32, 32), 700, dtype=np.uint16))
    _save(out, rle, "P4", "rle")
    broken = _grey(_dataset(study_e, "ACME", "Scan 1"))
    broken.file_meta.TransferSyntaxUID = JPEG2000Lossless
    broken.PixelData = encapsulate([b"this is not a JPEG 2000 codestream" * 4])
    _save(out, broken, "P5", "broken")
    cut = _save(out, _grey(_dataset(generate_uid(), "ACME", "Scan 1")), "P6", "cut")
    cut.write_bytes(cut.read_bytes()[:-100])
    (out / REPORT_INSIDE).write_text("De-identified with profile test.\n", encoding="utf-8")
    (out / "P1" / "stray.bin").write_bytes(b"\x00\x01not dicom")
    return out


def _rows(csv_path: Path) -> list[dict[str, str]]:
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _row(rows: list[dict[str, str]], element: str, value: str | None = None) -> dict[str, str]:
    found = [r for r in rows if r["element"] == element and value in (None, r["value"])]
    assert len(found) == 1, (element, value, found)
    return found[0]


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# -- inventory -----------------------------------------------------------------------------


def test_inventory_groups_counts_and_flags(out: Path) -> None:
    result = report.inventory(out, source=SOURCE)
    rows = _rows(result.csv)
    assert list(rows[0]) == list(report.COLUMNS)
    groups = {(r["source"], r["manufacturer"], r["model"]) for r in rows}
    assert groups == {(SOURCE, "ACME", "Scan 1"), (SOURCE, "Other Corp", "Model X")}
    assert (result.files, result.not_dicom, result.unreadable) == (6, 2, 1)
    assert result.combinations == 2

    description = _row(rows, "StudyDescription", DESCRIPTION)
    assert description["count"] == "2" and description["manufacturer"] == "ACME"
    assert {"date", "address"} <= set(description["flags"].split())
    assert "name" in _row(rows, "PatientName")["flags"].split()
    assert all(r["flags"] == "date" for r in rows if r["element"] == "StudyDate")
    nested = _row(rows, "ReferencedStudySequence > ReferencedSOPInstanceUID")
    assert nested["value"] == REFERENCED and nested["vr"] == "UI"
    assert nested["flags"] == ""  # the digits of a UID are not a number
    private = _row(rows, f"(0029,xx10) [{PRIVATE_CREATOR}]")
    assert private["value"] == PRIVATE_TEXT and private["tag"] == "(0029,1010)"
    assert {"name", "number"} <= set(private["flags"].split())
    assert _row(rows, "(0029,0010) Private Creator")["value"] == PRIVATE_CREATOR
    pixels = [r["value"] for r in rows if r["element"] == "PixelData"]
    assert "<512 bytes>" in pixels and "<460800 bytes>" in pixels
    assert all(r["flags"] == "" for r in rows if r["element"] == "Modality")
    assert all(r["new"] == "yes" for r in rows)  # the first inventory: everything is new


def test_inventory_lists_unreadable_files_and_goes_on(out: Path) -> None:
    built = report.build_inventory(out, source=SOURCE)
    assert [name for name, _ in built.unreadable] == ["P6/study/series/cut.dcm"]
    assert "truncated" in built.unreadable[0][1]
    assert built.not_dicom == 2
    assert sum(built.files.values()) == 6


def test_inventory_reports_progress(out: Path) -> None:
    calls: list[tuple[int, int]] = []
    report.build_inventory(out, on_file=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (9, 9) and len(calls) == 9


def test_inventory_page_escapes_hostile_values(out: Path) -> None:
    huge = _dataset(generate_uid(), "ACME", "Scan 1", ImageComments="<b>x</b>" * 1000)
    _save(out, _grey(huge), "P7", "huge")
    result = report.inventory(out, source="<img src=x onerror=alert(1)>")
    page = result.html.read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;^Eve" in page
    assert 'class="flagged"' in page and 'class="legend"' in page
    comment = _row(_rows(result.csv), "ImageComments")
    assert len(comment["value"]) == VALUE_LIMIT + 1
    assert comment["value"].endswith("…") and "truncated" in comment["flags"].split()


def test_second_inventory_shows_only_new_values_as_new(out: Path) -> None:
    first = report.inventory(out, source=SOURCE)
    study = dcmread(next(out.glob("P1/**/a1.dcm"))).StudyInstanceUID
    added = _grey(_dataset(study, "ACME", "Scan 1", StudyDescription="Kontroll efter operation"))
    _save(out, added, "P1", "a3")
    second = report.inventory(out, source=SOURCE)

    assert second.previous == first.csv and second.csv != first.csv
    before = {(r["manufacturer"], r["element"], r["value"]) for r in _rows(first.csv)}
    rows = _rows(second.csv)
    new = {(r["manufacturer"], r["element"], r["value"]) for r in rows if r["new"] == "yes"}
    assert new == {(r["manufacturer"], r["element"], r["value"]) for r in rows} - before
    assert ("ACME", "StudyDescription", "Kontroll efter operation") in new
    assert ("ACME", "SOPInstanceUID", str(added.SOPInstanceUID)) in new
    assert ("ACME", "Modality", "CT") not in new
    assert ("ACME", "StudyDescription", DESCRIPTION) not in new
    assert second.new_values == len(new) and second.values == len(rows)

    page = second.html.read_text(encoding="utf-8")
    new_section = page[page.index('id="new"') : page.index('id="all"')]
    assert "Kontroll efter operation" in new_section
    assert "Storgatan" not in new_section  # unchanged values are not in the new section
    assert "Storgatan" in page[page.index('id="all"') :]


def test_load_inventory_reads_back_what_was_written(out: Path, tmp_path: Path) -> None:
    built = report.build_inventory(out, source=SOURCE)
    formula = _dataset(generate_uid(), "=cmd|' /C calc'!A0", "+Model", StudyDescription="@SUM(1)")
    _save(out, _grey(formula), "P8", "formula")
    built = report.build_inventory(out, source=SOURCE)
    csv_path, _ = report.write_inventory(built, tmp_path / "review", previous=None)
    text = csv_path.read_text(encoding="utf-8-sig")
    assert "'=cmd" in text and "'+Model" in text and "'@SUM" in text  # not run as formulas
    loaded = report.load_inventory(csv_path)
    assert set(loaded.values) == set(built.values)
    for key, value in built.values.items():
        assert (loaded.values[key].count, loaded.values[key].flags) == (value.count, value.flags)
    assert loaded.source == SOURCE


def test_load_inventory_names_the_line_of_a_fault(tmp_path: Path) -> None:
    bad = tmp_path / "inventory-20240101T000000Z.csv"
    bad.write_text("source,element\nx,y\n", encoding="utf-8")
    with pytest.raises(report.ReviewError, match="line 1: .*missing column manufacturer"):
        report.load_inventory(bad)
    bad.write_text(",".join(report.COLUMNS) + "\n" + "a,b,c,d,e,f,g,many,,no\n", encoding="utf-8")
    with pytest.raises(report.ReviewError, match="line 2: count 'many' is not a number"):
        report.load_inventory(bad)


def test_inventories_made_in_one_second_keep_their_order(out: Path, tmp_path: Path) -> None:
    built = report.build_inventory(out)
    folder = tmp_path / "review"
    first, _ = report.write_inventory(built, folder, previous=None)
    second, _ = report.write_inventory(built, folder, previous=report.load_inventory(first))
    assert first != second and report.latest_inventory(folder) == second
    assert all(r["new"] == "no" for r in _rows(second))
    assert report.latest_inventory(tmp_path / "nowhere") is None
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary files


def test_review_folder_is_beside_out_and_never_inside(out: Path) -> None:
    assert report.default_review_folder(out) == out.parent / "OUT.review"
    assert report.default_review_folder(out / "P1" / "..") == out.parent / "OUT.review"
    with pytest.raises(report.ReviewError, match="inside the output folder"):
        report.inventory(out, folder=out / "review")
    with pytest.raises(report.ReviewError, match="inside the output folder"):
        report.sample(out, folder=out)


def test_nothing_is_written_inside_out(out: Path) -> None:
    before = _snapshot(out)
    report.inventory(out, source=SOURCE)
    report.sample(out, every=1, seed=3, source=SOURCE)
    assert _snapshot(out) == before
    assert (out.parent / "OUT.review").is_dir()


def test_inventory_flags_planted_identifiers(tmp_path: Path) -> None:
    planted = make_corpus(tmp_path / "IN")
    rows = _rows(report.inventory(tmp_path / "IN", folder=tmp_path / "review").csv)
    expected = {
        "patient_name": "name",
        "personnummer": "personal-number",
        "address": "address",
        "phone": "phone",
        "email": "email",
        "birth_date": "date",
    }
    for category, flag in expected.items():
        value = planted.values[category]
        holding = [r for r in rows if value in r["value"]]
        assert holding, category
        assert any(flag in r["flags"].split() for r in holding), (category, holding)


# -- sampling ------------------------------------------------------------------------------


def _many_studies(out: Path, count: int) -> list[str]:
    studies = [generate_uid() for _ in range(count)]
    for i, study in enumerate(studies):
        _save(out, _dataset(study, "ACME", "Scan 1"), f"P{i}", "only")
    return studies


def test_same_seed_picks_the_same_examinations(tmp_path: Path) -> None:
    out = tmp_path / "OUT"
    studies = _many_studies(out, 40)
    first = report.sample(out, every=5, seed=11)
    again = report.sample(out, every=5, seed=11)
    other = report.sample(out, every=5, seed=12)
    assert first.picked == 8 and first.examinations == 40
    assert first.study_instance_uids == again.study_instance_uids
    assert set(first.study_instance_uids) != set(other.study_instance_uids)
    assert list(first.study_instance_uids) == random.Random(11).sample(sorted(studies), 8)
    assert first.folder != again.folder and first.folder.name.endswith("-seed11")
    assert first.folder.parent == tmp_path / "OUT.review"


def test_a_drawn_seed_is_recorded_and_repeats_the_pick(tmp_path: Path) -> None:
    out = tmp_path / "OUT"
    _many_studies(out, 7)
    drawn = report.sample(out, every=3, source=SOURCE)
    info = json.loads((drawn.folder / "sample.json").read_text(encoding="utf-8"))
    assert info["seed"] == drawn.seed and info["every"] == 3 and info["source"] == SOURCE
    assert info["examinations"] == 3 and info["examinations_in_output"] == 7
    assert info["study_instance_uids"] == list(drawn.study_instance_uids)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info["date"])
    repeated = report.sample(out, every=3, seed=info["seed"])
    assert repeated.study_instance_uids == drawn.study_instance_uids


def test_pick_takes_at_least_one_and_refuses_a_bad_interval() -> None:
    assert len(pick(["a", "b"], 100, 1)) == 1
    assert pick([], 100, 1) == []
    assert sorted(pick(["b", "a", "c"], 1, 5)) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="every must be 1 or more"):
        pick(["a"], 0, 1)


def test_files_without_a_study_are_examinations_of_their_own(tmp_path: Path) -> None:
    out = tmp_path / "OUT"
    for name in ("x", "y"):
        ds = _dataset("", "ACME", "Scan 1")
        del ds.StudyInstanceUID
        _save(out, ds, "P", name)
    result = report.sample(out, every=1, seed=0)
    assert result.examinations == 2 and result.study_instance_uids == ("", "")


def test_sample_of_nothing_says_so(tmp_path: Path) -> None:
    (tmp_path / "OUT").mkdir()
    with pytest.raises(report.ReviewError, match="no readable DICOM file"):
        report.sample(tmp_path / "OUT")


def _sheet_pages(sheet: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(sheet.glob("*.html")))


def test_sheet_shows_every_element_of_the_picked_files(out: Path) -> None:
    result = report.sample(out, every=1, seed=1, source=SOURCE)
    pages = _sheet_pages(result.folder)
    # the truncated file's header reads: it is sampled, and shown as far as it reads
    assert result.picked == 6 and result.files == 7 and result.unreadable == 0
    assert result.not_dicom == 2
    for path in out.rglob("*.dcm"):
        ds = dcmread(path)
        for element in [*ds.file_meta.iterall(), *ds.iterall()]:
            assert str(element.tag) in pages, (path.name, element)
    assert "ReferencedStudySequence[1] &gt; ReferencedSOPInstanceUID" in pages
    assert REFERENCED in pages and PRIVATE_TEXT in pages
    assert "&lt;script&gt;" in pages and "<script" not in pages
    assert "&lt;2560 bytes&gt;" in pages  # the multi-frame pixel data, summarised
    index = (result.folder / "index.html").read_text(encoding="utf-8")
    assert index.count('href="examination-') == 6
    assert "verdicts.csv" in index and "<code>clean</code>" in index
    assert not [p for p in result.folder.parent.iterdir() if p.name.startswith(".")]


def test_thumbnails_are_small_pngs_named_by_number(out: Path) -> None:
    calls: list[tuple[int, int]] = []
    result = report.sample(out, every=1, seed=1, on_file=lambda *call: calls.append(call))
    assert calls[-1] == (7, 7)
    thumbs = sorted((result.folder / "thumbs").iterdir())
    # 1 + 1 grey, 1 RGB, first, middle and last of 5 frames, 1 RLE; none of the broken
    # JPEG 2000 and the truncated file
    assert len(thumbs) == 7
    for path in thumbs:
        assert re.fullmatch(r"\d{5}\.png", path.name)
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.format == "PNG" and max(image.size) <= 256
    sizes = {}
    for path in thumbs:
        with Image.open(path) as image:
            sizes[path.name] = (image.mode, image.size)
    assert ("RGB", (256, 150)) in sizes.values()
    pages = _sheet_pages(result.folder)
    assert all(f"frame {n} of 5" in pages for n in (1, 3, 5))
    assert "frame 2 of 5" not in pages
    assert result.images == 7


def test_an_undecodable_image_gets_a_placeholder(out: Path) -> None:
    result = report.sample(out, every=1, seed=1)
    pages = _sheet_pages(result.folder)
    assert result.undecodable == 2  # the broken JPEG 2000 and the truncated file
    assert re.search(r'class="placeholder">could not be decoded: \w+', pages)


def test_a_damaged_picked_file_is_shown_as_far_as_it_reads(tmp_path: Path) -> None:
    out = tmp_path / "OUT"
    path = _save(out, _grey(_dataset(generate_uid(), "ACME", "Scan 1")), "P", "cut")
    path.write_bytes(path.read_bytes()[:-100])
    result = report.sample(out, every=1, seed=0)
    assert result.unreadable == 0 and result.picked == 1  # the header reads
    page = _sheet_pages(result.folder)
    assert "damaged (truncated" in page and "ManufacturerModelName" in page
    assert "could not be decoded" in page


# -- verdicts ------------------------------------------------------------------------------


def _sheet(tmp_path: Path, studies: int = 3) -> Path:
    out = tmp_path / "OUT"
    _many_studies(out, studies)
    return report.sample(out, every=1, seed=4).folder


def _fill(sheet: Path, verdicts: list[str], *, delimiter: str = ",") -> None:
    path = sheet / "verdicts.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    for row, verdict in zip(rows[1:], verdicts, strict=True):
        row[3], row[4] = verdict, "Karin Reviewer" if verdict else ""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def test_verdicts_csv_starts_empty_and_reads_back(tmp_path: Path) -> None:
    sheet = _sheet(tmp_path)
    info = json.loads((sheet / "sample.json").read_text(encoding="utf-8"))
    empty = report.read_verdicts(sheet)
    assert [v.verdict for v in empty] == ["", "", ""]
    assert [v.study_instance_uid for v in empty] == info["study_instance_uids"]
    assert [(v.examination, v.files, v.line) for v in empty] == [(1, 1, 2), (2, 1, 3), (3, 1, 4)]
    _fill(sheet, ["clean", "Found", ""])
    verdicts = report.read_verdicts(sheet)
    assert [v.verdict for v in verdicts] == ["clean", "found", ""]
    assert verdicts[0].reviewer == "Karin Reviewer"


def test_verdicts_saved_with_semicolons_are_read(tmp_path: Path) -> None:
    sheet = _sheet(tmp_path)
    _fill(sheet, ["clean", "clean", "clean"], delimiter=";")
    assert [v.verdict for v in report.read_verdicts(sheet)] == ["clean"] * 3


def test_an_unknown_verdict_names_its_line(tmp_path: Path) -> None:
    sheet = _sheet(tmp_path)
    _fill(sheet, ["clean", "cleen", "clean"])
    with pytest.raises(VerdictError, match=r"verdicts\.csv, line 3: unknown verdict 'cleen'"):
        report.read_verdicts(sheet)


def test_a_missing_column_names_line_one(tmp_path: Path) -> None:
    sheet = _sheet(tmp_path)
    path = sheet / "verdicts.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_text("\n".join(line.rsplit(",", 3)[0] for line in lines), encoding="utf-8")
    with pytest.raises(VerdictError, match=r"line 1: missing column verdict, reviewer, notes"):
        report.read_verdicts(sheet)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rows: rows[:-1], r"examination 3 of the sample has no line"),
        (
            lambda rows: [*rows, rows[1]],
            r"line 5: .* listed twice \(also on line 2\)",
        ),
        (lambda rows: [*rows, ["9", "", "1", "", "", ""]], r"line 5: examination 9 is not in"),
        (lambda rows: [rows[0], ["x", *rows[1][1:]], *rows[2:]], r"line 2: examination 'x'"),
        (lambda rows: [rows[0], [*rows[1][:3], "clean", "", ""], *rows[2:]], r"line 2: .*name"),
        (lambda rows: [rows[0], [rows[1][0], "1.2.3", *rows[1][2:]], *rows[2:]], r"line 2: .*uid"),
    ],
)
def test_verdicts_that_do_not_match_the_sample_are_refused(
    tmp_path: Path, change: object, message: str
) -> None:
    sheet = _sheet(tmp_path)
    path = sheet / "verdicts.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(change(rows))  # type: ignore[operator]
    path.write_text(buffer.getvalue(), encoding="utf-8")
    with pytest.raises(VerdictError, match=message):
        report.read_verdicts(sheet)


def test_a_missing_verdicts_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        report.read_verdicts(tmp_path)
