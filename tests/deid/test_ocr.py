"""Burned-in text found by OCR: names, numbers and dates in frames and overlays, not in clean
images; a missing, slow or failing Tesseract is reported, never taken for a clean image."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import pack_bits
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    UltrasoundImageStorage,
    generate_uid,
)

from aidahub.deid import ocr
from aidahub.deid.ocr import (
    FAILED_CODE,
    MISSING_MESSAGE,
    REASON_CODE,
    BurnedInText,
    HeaderValues,
    find_tesseract,
    tesseract_languages,
)

NAME = "Lindqvist^Karin"
PERSONAL_NUMBER = "19560314-2386"
HEADER = HeaderValues(
    patient_name=(NAME,),
    patient_id=(PERSONAL_NUMBER,),
    birth_date=("19560314",),
    accession_number=("RX20240315001",),
    institution=("Karolinska Universitetssjukhuset",),
)
SIZE = 512
# Pillow's built-in font needs no font files; 12 px is the height of a CT's corner text.
FONT = ImageFont.load_default(size=12)

TESSERACT = find_tesseract()
needs_tesseract = pytest.mark.skipif(
    TESSERACT is None,
    reason="Tesseract is not installed (Debian: tesseract-ocr tesseract-ocr-eng "
    "tesseract-ocr-swe; `make test` installs them)",
)


@pytest.fixture(scope="module")
def reader() -> BurnedInText:
    checker = BurnedInText()
    if not checker.available:
        pytest.skip(checker.message or MISSING_MESSAGE)
    return checker


# Images.


def body(seed: int = 0) -> np.ndarray:
    """A noisy CT slice in stored values (HU + 1024): air, a body, two lungs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    inside = ((x - 0.5) / 0.42) ** 2 + ((y - 0.5) / 0.33) ** 2 <= 1
    lungs = (((x - 0.32) / 0.12) ** 2 + ((y - 0.5) / 0.2) ** 2 <= 1) | (
        ((x - 0.68) / 0.12) ** 2 + ((y - 0.5) / 0.2) ** 2 <= 1
    )
    hu = np.where(inside, 40.0, -1000.0) - np.where(lungs, 850.0, 0.0)
    hu += rng.normal(0.0, 25.0, hu.shape)
    return np.clip(hu + 1024, 0, 4095).astype(np.uint16)


def draw(pixels: np.ndarray, texts: list[tuple[tuple[int, int], str]], fill: int) -> np.ndarray:
    """`pixels` with `texts` written at their (x, y) positions in value `fill`."""
    picture = Image.fromarray(pixels.astype(np.int32))
    pen = ImageDraw.Draw(picture)
    for position, text in texts:
        pen.text(position, text, fill=fill, font=FONT)
    return np.asarray(picture).astype(pixels.dtype)


IDENTIFYING = [((12, 10), NAME), ((12, 28), PERSONAL_NUMBER), ((390, 488), "Karolinska")]
HARMLESS = [((20, 250), "R"), ((484, 250), "L"), ((240, 488), "5 mm"), ((12, 10), "120 kV")]


def ct(frames: list[np.ndarray], **elements: object) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.Modality = "CT"
    ds.Manufacturer = "ACME Medical"
    ds.Rows = ds.Columns = SIZE
    if len(frames) > 1:
        ds.NumberOfFrames = len(frames)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = np.stack(frames).tobytes()
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    return ds


def ultrasound(texts: list[tuple[tuple[int, int], str]]) -> Dataset:
    """An RGB ultrasound frame: a speckled sector on black, pale yellow text at the top."""
    rng = np.random.default_rng(3)
    rows, columns = 480, 640
    y, x = np.mgrid[0:rows, 0:columns]
    angle = np.arctan2(x - columns / 2, y + 40)
    sector = (np.abs(angle) < 0.6) & (y > 60) & (y < 440)
    speckle = np.where(sector, rng.gamma(2.0, 40.0, (rows, columns)), 0).clip(0, 255)
    picture = Image.fromarray(np.repeat(speckle[..., None], 3, axis=2).astype(np.uint8))
    pen = ImageDraw.Draw(picture)
    for position, text in texts:
        pen.text(position, text, fill=(255, 255, 170), font=FONT)
    ds = ct([np.zeros((1, 1), np.uint16)])
    ds.SOPClassUID = UltrasoundImageStorage
    ds.Modality = "US"
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel, ds.PlanarConfiguration = 3, 0
    ds.PhotometricInterpretation = "RGB"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    for keyword in ("RescaleIntercept", "RescaleSlope", "WindowCenter", "WindowWidth"):
        delattr(ds, keyword)
    ds.PixelData = np.asarray(picture).tobytes()
    return ds


def with_overlay(ds: Dataset, texts: list[tuple[tuple[int, int], str]]) -> Dataset:
    """`ds` with an Overlay Plane (6000) holding `texts` as graphics (PS3.3 C.9.2)."""
    plane = draw(np.zeros((SIZE, SIZE), np.uint8), texts, fill=1) > 0
    ds.add_new(0x60000010, "US", SIZE)  # Overlay Rows
    ds.add_new(0x60000011, "US", SIZE)  # Overlay Columns
    ds.add_new(0x60000040, "CS", "G")  # Overlay Type: graphics
    ds.add_new(0x60000050, "SS", [1, 1])  # Overlay Origin
    ds.add_new(0x60000100, "US", 1)  # Overlay Bits Allocated
    ds.add_new(0x60000102, "US", 0)  # Overlay Bit Position
    ds.add_new(0x60003000, "OW", pack_bits(plane.astype(np.uint8)))
    return ds


# OCR of images.


def test_a_name_and_personal_number_are_found_and_not_quoted(reader: BurnedInText) -> None:
    reason = reader.reason(ct([draw(body(), IDENTIFYING, 4095)]), HEADER)

    assert reason is not None
    assert reason.startswith(f"{REASON_CODE}: OCR found ")
    assert "the patient's name" in reason
    assert reason.endswith(" in frame 1")
    for secret in ("Lindqvist", "Karin", "2386", "560314", "Karolinska"):
        assert secret.casefold() not in reason.casefold()


def test_plain_values_are_found_too(reader: BurnedInText) -> None:
    reason = reader.reason(ct([draw(body(), IDENTIFYING, 4095)]), [NAME, PERSONAL_NUMBER])

    assert reason is not None
    assert "a value from the file's header" in reason


def test_a_personal_number_is_found_without_header_values(reader: BurnedInText) -> None:
    pixels = draw(body(), [((12, 28), "Pnr " + PERSONAL_NUMBER)], 4095)

    reason = reader.reason(ct([pixels]))

    assert reason == f"{REASON_CODE}: OCR found a personal identity number in frame 1"


def test_a_clean_image_passes(reader: BurnedInText) -> None:
    assert reader.reason(ct([body()]), HEADER) is None


def test_harmless_labels_pass(reader: BurnedInText) -> None:
    ds = ct([draw(body(), HARMLESS, 4095)])

    assert reader.reason(ds, HEADER) is None
    assert "120 kv" in " ".join(text for _, text in reader.read_text(ds)).casefold()  # read


def test_text_on_the_third_frame_is_found(reader: BurnedInText) -> None:
    frames = [body(1), body(2), draw(body(3), IDENTIFYING, 4095)]

    reason = reader.reason(ct(frames), HEADER)

    assert reason is not None and reason.startswith(REASON_CODE)
    assert reason.endswith(" in frame 3")


def test_text_in_an_overlay_plane_is_found(reader: BurnedInText) -> None:
    ds = with_overlay(ct([body()]), IDENTIFYING)

    reason = reader.reason(ds, HEADER)

    assert reason is not None and reason.startswith(REASON_CODE)
    assert reason.endswith(" in overlay 6000")


def test_text_on_a_colour_ultrasound_is_found(reader: BurnedInText) -> None:
    ds = ultrasound([((12, 10), "LINDQVIST, KARIN"), ((12, 28), "ID " + PERSONAL_NUMBER)])

    reason = reader.reason(ds, HEADER)

    assert reason is not None and reason.startswith(REASON_CODE)
    assert "the patient's name" in reason and reason.endswith(" in frame 1")


def test_dark_text_on_a_light_label_is_found(reader: BurnedInText) -> None:
    pixels = body()
    pixels[4:48, 4:200] = 4095  # a white label box, text in black
    ds = ct([draw(pixels, IDENTIFYING[:2], 0)])

    reason = reader.reason(ds, HEADER)

    assert reason is not None and reason.startswith(REASON_CODE)


def test_an_overlay_in_the_unused_high_bits_is_found(reader: BurnedInText) -> None:
    bits = draw(np.zeros((SIZE, SIZE), np.uint16), IDENTIFYING, fill=1) > 0
    ds = ct([body() | (bits.astype(np.uint16) << 15)])
    ds.add_new(0x60000010, "US", SIZE)
    ds.add_new(0x60000011, "US", SIZE)
    ds.add_new(0x60000100, "US", 16)
    ds.add_new(0x60000102, "US", 15)  # Overlay Bit Position: above High Bit 11

    reason = reader.reason(ds, HEADER)

    assert reason is not None and reason.startswith(REASON_CODE)
    assert reason.endswith(" in overlay 6000 of frame 1")


def test_the_dataset_is_not_modified(reader: BurnedInText) -> None:
    ds = ct([draw(body(), IDENTIFYING, 4095)])
    before = ds.PixelData

    reader.reason(ds, HEADER)

    assert ds.PixelData is before
    assert getattr(ds, "_pixel_array", None) is None


def test_an_image_without_its_pixels_is_not_passed(reader: BurnedInText) -> None:
    ds = ct([body()])
    del ds.PixelData

    reason = reader.reason(ds, HEADER)

    assert reason is not None and reason.startswith(f"{FAILED_CODE}: ")


# Finding Tesseract, and when it is missing or fails.


@needs_tesseract
def test_tesseract_is_found_with_its_languages() -> None:
    assert TESSERACT is not None
    assert {"eng", "swe"} <= tesseract_languages(TESSERACT)
    assert BurnedInText().languages == "eng+swe"


def test_the_environment_names_the_program(tmp_path: Path) -> None:
    program = fake_tesseract(tmp_path, "")

    assert find_tesseract(environ={"AIDAHUB_TESSERACT": str(program)}) == str(program)
    assert find_tesseract(str(program), environ={"AIDAHUB_TESSERACT": "nowhere"}) == str(program)


def test_a_missing_tesseract_is_reported_once_without_raising(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-tesseract")

    checker = BurnedInText(missing)

    assert checker.available is False
    assert checker.message == MISSING_MESSAGE
    assert "tesseract-ocr-swe" in MISSING_MESSAGE
    assert BurnedInText.create(missing) is None
    assert checker.reason(ct([body()])) == f"{FAILED_CODE}: Tesseract OCR is not available"


def test_tesseract_without_the_languages_is_unavailable(tmp_path: Path) -> None:
    checker = BurnedInText(str(fake_tesseract(tmp_path, "", languages="osd")))

    assert checker.available is False
    assert checker.message is not None and "tesseract-ocr-eng" in checker.message


def test_a_tesseract_that_times_out_gives_ocr_failed(tmp_path: Path) -> None:
    program = fake_tesseract(tmp_path, "import time\ntime.sleep(10)\n")
    checker = BurnedInText(str(program), timeout=0.5)

    assert checker.available
    assert checker.reason(ct([body()])) == f"{FAILED_CODE}: Tesseract took longer than 0.5 s"


def test_a_tesseract_that_fails_gives_ocr_failed(tmp_path: Path) -> None:
    program = fake_tesseract(tmp_path, "sys.stderr.write('Lindqvist')\nsys.exit(3)\n")

    reason = BurnedInText(str(program)).reason(ct([body()]))

    assert reason == f"{FAILED_CODE}: Tesseract failed with exit status 3"


def test_many_frames_take_few_runs_within_tesseracts_size_limit(tmp_path: Path) -> None:
    log = tmp_path / "heights"
    program = fake_tesseract(
        tmp_path,
        "from PIL import Image\n"
        "image = Image.open(sys.stdin.buffer)\n"
        f"open({str(log)!r}, 'a').write(f'{{image.height}}\\n')\n"
        "print('level\\tpage_num')\n",
    )
    mark = draw(np.full((64, 64), 1000, np.uint16), [((4, 20), "5 mm")], 4095)
    frames = [mark] * 200

    assert BurnedInText(str(program)).reason(ct(frames, Rows=64, Columns=64)) is None

    heights = [int(line) for line in log.read_text().split()]
    assert 1 < len(heights) < 10
    assert max(heights) <= 30000
    assert sum(heights) == 200 * (64 * 3 + 48)  # every frame; none has dark marks


def test_header_values_are_read_from_the_original(reader: BurnedInText) -> None:
    original = ct([draw(body(), IDENTIFYING, 4095)])
    original.PatientName = NAME
    original.PatientID = PERSONAL_NUMBER
    original.PatientBirthDate = "19560314"
    original.InstitutionName = "Karolinska Universitetssjukhuset"

    values = HeaderValues.from_dataset(original)

    assert values.patient_name == (NAME,) and values.patient_id == (PERSONAL_NUMBER,)
    assert values.birth_date == ("19560314",) and values.accession_number == ()
    reason = reader.reason(original, values)
    assert reason is not None and "the institution name" in reason


def fake_tesseract(directory: Path, body: str, languages: str = "eng\nswe") -> Path:
    """A program that lists `languages` like Tesseract and otherwise runs `body`."""
    program = directory / "tesseract"
    program.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "if '--list-langs' in sys.argv:\n"
        f"    print('List of available languages (2):\\n' + {languages!r})\n"
        "    sys.exit(0)\n" + body
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program


# Matching OCR text (no Tesseract needed).


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lindqvist4Karin", "the patient's name"),  # "^" read as a letter
        ("LINDQVIST KARIN", "the patient's name"),
        ("I indqvistaKarin", "the patient's name"),  # L read as "I ", one letter lost
        ("Pat: 5603142386", "the patient ID"),  # without the century
        ("l9560314 - 2386", "the patient ID"),  # 1 read as l, spaces around the hyphen
        ("195803142386", "the patient ID"),  # one digit misread
        ("Born 14.03.1956", "the birth date"),
        ("DOB 1956-03-14", "the birth date"),
        ("Acc RX 2024 0315 001", "the accession number"),
        ("KAROLINSKA", "the institution name"),
        ("2024-03-15 14:35", "a date"),
        ("tel 070-123 45 67", "a phone number"),
        ("karin.l@example.se", "an e-mail address"),
    ],
)
def test_matching_finds(text: str, expected: str) -> None:
    matchers = ocr._matchers(HEADER, 3, 5)

    assert expected in ocr._match(text, matchers)


@pytest.mark.parametrize(
    "text",
    [
        *("R", "L", "5 mm", "120 kV 250 mAs", "W 400 C 40", "Se 3 Im 45", "Hospital"),
        *("Karina", "Lindberg", "Karlsson", "Ser 2 Img 1956", ""),
    ],
)
def test_matching_passes_harmless_text(text: str) -> None:
    assert ocr._match(text, ocr._matchers(HEADER, 3, 5)) == []
