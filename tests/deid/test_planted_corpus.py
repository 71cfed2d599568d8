"""Self-test of the planted corpus and the leak finder the engine's end-to-end tests rely on.

If the finder missed a form, the engine's tests would pass while identifiers leak; if it
reported clean files, nobody would trust it. So: the raw corpus leaks every category, a copy
blanked by hand leaks nothing, and each form the issue names is caught on its own.
"""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import time
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import generate_uid

from tests.deid.leaks import Leak, find_leaks, find_leaks_in_bytes, forms
from tests.deid.planted import CATEGORY_KINDS, Planted, bad_files, make_corpus, values_for

SEEDS = [0, 1]


@pytest.fixture(params=SEEDS, ids=[f"seed{seed}" for seed in SEEDS])
def corpus(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Planted]:
    directory = tmp_path / "corpus"
    return directory, make_corpus(directory, seed=request.param)


def categories(leaks: list[Leak]) -> set[str]:
    return {leak.category for leak in leaks}


# The corpus itself.


def test_every_corpus_file_parses_and_decodes(corpus: tuple[Path, Planted]) -> None:
    directory, planted = corpus
    paths = sorted(p for p in directory.rglob("*") if p.is_file())
    assert paths == sorted(planted.files.values())
    for path in paths:
        ds = pydicom.dcmread(path)
        assert all(str(element) for element in ds.iterall())  # every value decodes
        if "PixelData" in ds:
            assert ds.pixel_array.size == ds.Rows * ds.Columns * ds.SamplesPerPixel


def test_the_corpus_covers_encodings_and_objects(corpus: tuple[Path, Planted]) -> None:
    _, planted = corpus
    files = planted.files

    def syntax(role: str) -> str:
        return pydicom.dcmread(files[role], stop_before_pixels=True).file_meta.TransferSyntaxUID

    assert syntax("ct2_2_deflated") == "1.2.840.10008.1.2.1.99"
    assert syntax("ct1_3_j2k") == "1.2.840.10008.1.2.4.90"
    assert syntax("blank_rle") == "1.2.840.10008.1.2.5"
    assert syntax("mr") == "1.2.840.10008.1.2"

    family = planted.values["patient_name"].split("^")[0]
    latin1 = files["ct2_1_latin1"].read_bytes()
    utf8 = files["ct1_3_j2k"].read_bytes()  # ct1_1 also has a Latin-1 CSA-like header
    assert family.encode("latin-1") in latin1 and family.encode("utf-8") not in latin1
    assert family.encode("utf-8") in utf8 and family.encode("latin-1") not in utf8
    assert family.encode("utf-8") not in files["ct2_2_deflated"].read_bytes()
    assert set(planted.exclusions.values()) == {
        "secondary-capture",
        "encapsulated-document",
        "dose-report",
        "screen-save",
        "slide-label",
        "burned-in-annotation",
        "unknown-source",
        "overlay-in-pixel-data",
        "low-variance",
    }


def test_identifiers_are_planted_in_nested_and_private_places(corpus: tuple[Path, Planted]) -> None:
    _, planted = corpus
    v = planted.values
    ct2 = pydicom.dcmread(planted.files["ct2_1_latin1"])
    modified = ct2.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert modified.PatientName == v["other_name"]
    assert ct2.ReferencedStudySequence[0].ReferencedSOPInstanceUID in planted.uids
    assert v["personnummer"] in ct2.RequestAttributesSequence[0].RequestedProcedureDescription

    mr = pydicom.dcmread(planted.files["mr"])
    assert mr.file_meta.SourceApplicationEntityTitle == v["ae_title"]
    assert mr.file_meta.MediaStorageSOPInstanceUID in planted.uids
    family = v["patient_name"].split("^")[0]
    assert 0x60003000 in mr and family in mr[0x60000022].value  # Overlay Data, Description
    assert 0x50003000 in mr and family in mr[0x50000022].value  # Curve Data, Description
    assert any(tag.is_private for tag in mr.keys())  # noqa: SIM118 - tags, not elements

    cr = pydicom.dcmread(planted.files["cr"])
    assert cr.IconImageSequence[0].PixelData.startswith(v["patient_name"][:3].encode("latin-1"))

    sr = pydicom.dcmread(planted.files["sr"])
    value_types = {item.ValueType for item in _content_items(sr)}
    assert {"TEXT", "PNAME", "DATE", "UIDREF", "DATETIME", "IMAGE", "CONTAINER"} <= value_types


def _content_items(ds: Dataset) -> Iterator[Dataset]:
    for item in ds.get("ContentSequence", []):
        yield item
        yield from _content_items(item)


def test_the_corpus_is_reproducible(tmp_path: Path) -> None:
    first = make_corpus(tmp_path / "a", seed=3)
    second = make_corpus(tmp_path / "b", seed=3)
    assert first.values == second.values and first.uids == second.uids
    assert make_corpus(tmp_path / "c", seed=4).uids != first.uids


# The leak finder on the corpus.


def test_the_raw_corpus_leaks_every_category(corpus: tuple[Path, Planted]) -> None:
    directory, planted = corpus
    leaks = find_leaks(directory, planted)
    assert categories(leaks) == set(planted.values) | {"uid"}
    assert {leak.file for leak in leaks} == set(planted.files.values())
    found_uids = {leak.form for leak in leaks if leak.category == "uid"}
    assert found_uids == set(planted.uids)
    inflated = [leak for leak in leaks if leak.stream == "deflated dataset"]
    assert {leak.file for leak in inflated} == {planted.files["ct2_2_deflated"]}
    assert "patient_name" in categories(inflated)


def test_a_copy_blanked_by_hand_leaks_nothing(corpus: tuple[Path, Planted], tmp_path: Path) -> None:
    directory, planted = corpus
    blank_dir = tmp_path / "blank"
    for path in planted.files.values():
        target = blank_dir / path.relative_to(directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        blank(pydicom.dcmread(path), planted).save_as(target, enforce_file_format=True)
    leaks = find_leaks(blank_dir, planted)
    assert leaks == [], "\n".join(map(str, leaks))
    assert find_leaks(directory, planted), "the originals still leak"


def blank(ds: Dataset, planted: Planted) -> Dataset:
    """Overwrite every value that can hold a planted string; keep pixels, overlays, curves."""
    uids = set(planted.uids)
    for icon in ds.get("IconImageSequence", []):
        icon.PixelData = bytes(len(icon.PixelData))  # its bytes spell the name
    for element in [*ds.file_meta, *ds.iterall()]:
        assert isinstance(element, DataElement)
        if element.VR in _BLANKS:
            element.value = _BLANKS[element.VR]
        elif element.VR == "UI" and str(element.value) in uids:
            element.value = generate_uid(entropy_srcs=[str(element.value), "blank"])
        elif element.VR in ("OB", "UN") and element.tag != 0x7FE00010:
            element.value = bytes(len(element.value or b""))  # private headers, the PDF
    return ds


_BLANKS = {
    "PN": "Anonym^Person",
    "AE": "BLANKAE",
    "DA": "20000101",
    "DT": "20000101120000",
    "TM": "120000",
    **dict.fromkeys(["LO", "SH", "ST", "LT", "UT", "UC"], "blank"),
}


def test_the_icon_bytes_spell_the_name(corpus: tuple[Path, Planted]) -> None:
    _, planted = corpus
    icon = pydicom.dcmread(planted.files["cr"]).IconImageSequence[0]
    assert "patient_name" in categories(find_leaks_in_bytes(icon.PixelData, planted))


def test_the_finder_is_fast_enough_for_a_few_hundred_files(
    corpus: tuple[Path, Planted], tmp_path: Path
) -> None:
    directory, planted = corpus
    for copy in range(12):
        shutil.copytree(directory, tmp_path / "many" / f"copy{copy}")
    files = sum(1 for p in (tmp_path / "many").rglob("*") if p.is_file())
    started = time.perf_counter()
    find_leaks(tmp_path / "many", planted)
    assert files >= 200
    assert time.perf_counter() - started < 30


# Each form the issue names, on its own.

PLANTED = Planted(values=values_for(0), uids=["1.2.752.24.99.4242"])


def leaks_in(tmp_path: Path, name: str, data: bytes) -> set[str]:
    path = tmp_path / name
    path.write_bytes(data)
    return categories(find_leaks(path, PLANTED))


SHORT_WORDS = {"Övé", "Björn", "signerat: Åsa."}  # name parts under 6 characters


@pytest.mark.parametrize(
    ("text", "encoding", "category"),
    [
        ("Märta Åström", "utf-8", "patient_name"),
        ("ÅSTRÖM^MÄRTA", "utf-8", "patient_name"),
        ("astrom, marta", "ascii", "patient_name"),
        ("AASTROEM", "ascii", "patient_name"),
        ("Maerta Aastroem", "ascii", "patient_name"),
        ("Åström", "latin-1", "patient_name"),
        ("ÅSTRÖM", "latin-1", "patient_name"),
        ("Märta Åström", "utf-16-le", "patient_name"),
        ("ÅSTRÖM", "utf-16-be", "patient_name"),
        ("Märta Åström", "utf-16", "patient_name"),
        ("Övé", "utf-8", "patient_name"),
        ("Bäckström", "latin-1", "other_name"),
        ("Lindqvist B", "ascii", "physician"),
        ("Björn", "cp1252", "physician"),
        ("signerat: Åsa.", "utf-8", "operator"),
        ("191212121212", "ascii", "personnummer"),
        ("19121212-1212", "utf-16-le", "personnummer"),
        ("121212-1212", "ascii", "personnummer"),
        ("1212121212", "ascii", "personnummer"),
        ("121212+1212", "ascii", "personnummer"),
        ("2023-03-14", "ascii", "study_date"),
        ("230314", "ascii", "study_date"),
        ("2023.03.14", "ascii", "study_date"),
        ("20230314093000.000", "ascii", "study_date"),
        ("14/03/2023", "ascii", "study_date"),
        ("20240917", "utf-16-le", "second_study_date"),
        ("1912-12-12", "ascii", "birth_date"),
        ("+46 70-123 45 67", "ascii", "phone"),
        ("0701234567", "ascii", "phone"),
        ("MARTA.ASTROM71@MAIL.EXAMPLE", "ascii", "email"),
        ("vb7734519", "ascii", "patient_id"),
        ("ID 7734519", "ascii", "patient_id"),
        ("RTG24117733", "utf-16-le", "accession"),
        ("Vättersborgs", "utf-8", "institution"),
        ("Kallvagen 7 B", "ascii", "address"),
        ("vättern-ct7", "utf-8", "station"),
        ("sn83xk2291", "ascii", "serial"),
        ("VBGCT7", "ascii", "ae_title"),
        ("1.2.752.24.99.4242", "ascii", "uid"),
    ],
)
def test_each_form_is_caught(tmp_path: Path, text: str, encoding: str, category: str) -> None:
    data = f"prefix {text} suffix\n".encode(encoding)
    assert category in leaks_in(tmp_path, "found.txt", data)
    if text not in SHORT_WORDS:  # short words count only in text, not in binary data
        binary = b"\x00\x07\xff" + text.encode(encoding) + b"\x00\x01"
        assert category in leaks_in(tmp_path, "found.bin", binary)


@pytest.mark.parametrize(
    "text",
    [
        "Märta Åström",
        "19121212-1212",
    ],
)
def test_escaped_and_decomposed_text_is_caught(tmp_path: Path, text: str) -> None:
    for variant in (
        json.dumps({"name": text}),  # \u00e5 escapes
        "".join(f"&#{ord(c)};" if ord(c) > 127 else c for c in text),
        unicodedata.normalize("NFD", text),
    ):
        assert leaks_in(tmp_path, "escaped.json", variant.encode("utf-8")), variant


@pytest.mark.parametrize(
    "text",
    [
        "[identifier removed] Läsare",  # neither "Övé" in removed nor "Åsa" in Läsare
        "Tasas lovely oversee",
        "2230314 120230314X 9191212121212",  # dates and numbers inside longer digit runs
        "1.2.752.24.99.42425 11.2.752.24.99.4242",  # longer UIDs that contain a planted one
    ],
)
def test_words_that_merely_contain_a_short_part_are_not_leaks(tmp_path: Path, text: str) -> None:
    assert leaks_in(tmp_path, "clean.txt", text.encode("utf-8")) == set()


def test_short_parts_are_not_searched_in_pixel_data(tmp_path: Path) -> None:
    ds = pydicom.dcmread(make_corpus(tmp_path / "c").files["us_rgb"])
    for keyword in list(ds.dir()):
        if keyword != "PixelData" and ds.data_element(keyword).VR not in ("US", "UI", "CS", "IS"):
            delattr(ds, keyword)
    noise = np.frombuffer(ds.PixelData, dtype=np.uint8).copy()
    noise[100:105] = np.frombuffer(b" \xc5sa ", dtype=np.uint8)
    ds.PixelData = noise.tobytes()
    ds.save_as(tmp_path / "pixels.dcm", enforce_file_format=True)
    assert "operator" not in categories(find_leaks(tmp_path / "pixels.dcm", PLANTED))
    ds.ImageComments = "Åsa"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.save_as(tmp_path / "comments.dcm", enforce_file_format=True)
    assert "operator" in categories(find_leaks(tmp_path / "comments.dcm", PLANTED))


def test_offsets_are_byte_offsets(tmp_path: Path) -> None:
    name = "Åström".encode()
    (leak,) = [
        leak
        for leak in find_leaks_in_bytes(b"0123456789" + name + b"!", PLANTED)
        if leak.category == "patient_name"
    ]
    assert (leak.offset, leak.form, leak.view) == (10, "Åström", "bytes")
    wide = "Åström".encode("utf-16-le")
    (leak,) = [
        leak
        for leak in find_leaks_in_bytes(b"\x00" * 7 + wide + b"\x00!", PLANTED)
        if leak.category == "patient_name"
    ]
    assert (leak.offset, leak.form, leak.view) == (7, "Åström", "utf-16-le")


def test_compressed_and_encoded_streams_are_searched(tmp_path: Path) -> None:
    secret = "Åström 19121212-1212".encode()
    assert "personnummer" in leaks_in(tmp_path, "a.gz", gzip.compress(secret))
    with zipfile.ZipFile(tmp_path / "b.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report/inner.txt", secret)
    zipped = categories(find_leaks(tmp_path / "b.zip", PLANTED))
    assert {"patient_name", "personnummer"} <= zipped
    dicom_json = json.dumps(
        {"00291010": {"vr": "OB", "InlineBinary": base64.b64encode(secret).decode()}}
    )
    assert "patient_name" in leaks_in(tmp_path, "c.json", dicom_json.encode())


def test_forms_cover_the_spellings_named_in_the_issue() -> None:
    name = forms("Åström^Märta Övé", "person")
    assert {"astrom", "aastroem", "marta", "maerta", "ove"} <= set(name)
    assert {"191212121212", "121212-1212", "1212121212"} <= set(
        forms("19121212-1212", "personnummer")
    )
    assert {"20230314", "2023-03-14", "230314", "2023.03.14"} <= set(forms("20230314", "date"))
    for seed in SEEDS:
        for category, value in values_for(seed).items():
            assert forms(value, CATEGORY_KINDS[category]), category


# Files the engine must quarantine.


def test_bad_files(tmp_path: Path) -> None:
    empty, truncated, notes, corrupt = bad_files(tmp_path)
    assert empty.stat().st_size == 0
    with pytest.raises(InvalidDicomError):
        pydicom.dcmread(empty)
    with pytest.raises(InvalidDicomError):
        pydicom.dcmread(notes)

    ds = pydicom.dcmread(truncated)
    assert len(ds.PixelData) < ds.Rows * ds.Columns * ds.BitsAllocated // 8

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            broken = pydicom.dcmread(corrupt)
            readable = all(str(element) for element in broken) and "PixelData" in broken
        except Exception:  # pydicom raises on the VR it finds where the next tag should be
            readable = False
    assert not readable

    assert "personnummer" in categories(find_leaks(notes, PLANTED))
    assert "patient_name" in categories(find_leaks(truncated, PLANTED))
