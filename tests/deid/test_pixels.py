"""Images that must not leave (policy Appendix 3): every exclusion reason, real images kept."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import deid_data
import numpy as np
import pydicom
import pydicom.data
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
    generate_uid,
)

from aidahub.deid import pixels as pixels_module
from aidahub.deid.pixels import (
    DEFAULT,
    REASONS,
    ExclusionSettings,
    exclusion_reason,
    is_excluded,
    pixel_statistics,
)
from tests.deid.planted import make_corpus

SIZE = 32


def phantom(low: int = -1000, high: int = 1000, dtype: str = "int16") -> np.ndarray:
    """A smooth body with noise: many grey levels, large variance, like a real slice."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    body = (((x - 0.5) / 0.4) ** 2 + ((y - 0.5) / 0.3) ** 2 <= 1) * 0.6 + 0.2 * y
    values = low + (high - low) * (body + rng.normal(0, 0.05, body.shape))
    return np.clip(values, low, high).astype(dtype)


def image(pixels: np.ndarray | None = None, *, bits_stored: int = 12, **elements) -> Dataset:
    """A CT image that nothing excludes, with `elements` set on top."""
    pixels = phantom() if pixels is None else pixels
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.Modality = "CT"
    ds.Manufacturer = "ACME Medical"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SeriesDescription = "Thorax 1.0 mm"
    colour = pixels.ndim >= 3 and pixels.shape[-1] == 3  # (frames,) rows, columns, samples
    frames = pixels.shape[0] if pixels.ndim == (4 if colour else 3) else 1
    ds.Rows, ds.Columns = pixels.shape[-3:-1] if colour else pixels.shape[-2:]
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = "RGB" if colour else "MONOCHROME2"
    if colour:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    ds.PixelData = pixels.tobytes()
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    return ds


def code(reason: str | None) -> str | None:
    return None if reason is None else reason.split(":", 1)[0]


def test_a_plain_ct_image_is_kept() -> None:
    assert exclusion_reason(image()) is None
    assert not is_excluded(image())


def test_every_reason_code_is_described() -> None:
    assert all(text.endswith(".") for text in REASONS.values())
    assert ExclusionSettings(min_std=2.0, min_grey_levels=16, check_pixels=True) == DEFAULT


# Metadata reasons.

SECONDARY_CAPTURES = [
    "1.2.840.10008.5.1.4.1.1.7",
    "1.2.840.10008.5.1.4.1.1.7.1",
    "1.2.840.10008.5.1.4.1.1.7.2",
    "1.2.840.10008.5.1.4.1.1.7.3",
    "1.2.840.10008.5.1.4.1.1.7.4",
]
ENCAPSULATED = [f"1.2.840.10008.5.1.4.1.1.104.{n}" for n in range(1, 6)]
DOSE_REPORTS = [f"1.2.840.10008.5.1.4.1.1.88.{n}" for n in (67, 68, 73, 76)]


@pytest.mark.parametrize("uid", SECONDARY_CAPTURES)
def test_secondary_captures_are_excluded(uid: str) -> None:
    reason = exclusion_reason(image(SOPClassUID=uid))
    assert code(reason) == "secondary-capture"
    assert "Secondary Capture" in str(reason)


def test_the_sc_reason_reads_as_documented() -> None:
    reason = exclusion_reason(image(SOPClassUID=SECONDARY_CAPTURES[0]))
    assert reason == "secondary-capture: Secondary Capture Image Storage"


@pytest.mark.parametrize(
    "uid",
    ["1.2.840.10008.5.1.4.1.1.77.1.4", "1.2.840.10008.5.1.4.1.1.77.1.1"],
    ids=["VL photographic", "VL endoscopic"],
)
def test_vl_images_are_not_mistaken_for_secondary_captures(uid: str) -> None:
    assert exclusion_reason(image(SOPClassUID=uid)) is None


def test_the_sop_class_is_taken_from_file_meta_when_missing() -> None:
    ds = image()
    del ds.SOPClassUID
    ds.file_meta.MediaStorageSOPClassUID = SECONDARY_CAPTURES[0]
    assert code(exclusion_reason(ds)) == "secondary-capture"


@pytest.mark.parametrize("term", ["DV", "DI", "DF", "WSD", "SD", "SI", "DRW", "SYN", "XYZ"])
def test_any_conversion_type_is_excluded(term: str) -> None:
    reason = exclusion_reason(image(ConversionType=term))
    assert code(reason) == "converted-image"


def test_document_modality_is_excluded() -> None:
    assert code(exclusion_reason(image(Modality="DOC"))) == "scanned-document"


@pytest.mark.parametrize("uid", ENCAPSULATED)
def test_encapsulated_documents_are_excluded(uid: str) -> None:
    ds = image(SOPClassUID=uid)
    del ds.PixelData
    assert code(exclusion_reason(ds)) == "encapsulated-document"


def test_an_encapsulated_document_element_excludes_any_class() -> None:
    ds = image()
    ds.EncapsulatedDocument = b"%PDF-1.4\n"
    assert code(exclusion_reason(ds)) == "encapsulated-document"


@pytest.mark.parametrize("uid", DOSE_REPORTS)
def test_dose_report_classes_are_excluded(uid: str) -> None:
    ds = Dataset()
    ds.SOPClassUID = uid
    ds.Modality = "SR"
    assert code(exclusion_reason(ds)) == "dose-report"


@pytest.mark.parametrize(
    ("value", "meaning"),
    [
        ("113701", "X-Ray Radiation Dose Report"),
        ("113500", "Radiopharmaceutical Radiation Dose Report"),
    ],
)
def test_dose_reports_in_general_sr_classes_are_excluded(value: str, meaning: str) -> None:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"
    ds.ValueType = "CONTAINER"
    title = Dataset()
    title.CodeValue = value
    title.CodingSchemeDesignator = "DCM"
    title.CodeMeaning = meaning
    ds.ConceptNameCodeSequence = [title]
    assert exclusion_reason(ds) == f"dose-report: document title {meaning}"


def test_other_sr_documents_are_left_to_the_element_rules() -> None:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"
    ds.ValueType = "CONTAINER"
    assert exclusion_reason(ds) is None


@pytest.mark.parametrize(
    ("image_type", "expected"),
    [
        (["DERIVED", "SECONDARY", "SCREEN SAVE"], "screen-save"),
        (["DERIVED", "SECONDARY", "SCREEN_SAVE"], "screen-save"),
        (["ORIGINAL", "PRIMARY", "DOSE INFO"], "dose-report"),
        (["DERIVED", "SECONDARY", "DOSE_REPORT"], "dose-report"),
        (["ORIGINAL", "PRIMARY", "OTHER", "CSA REPORT"], "screen-save"),
        (["DERIVED", "SECONDARY", "MPR"], None),
    ],
)
def test_pages_of_text_by_image_type(image_type: list[str], expected: str | None) -> None:
    assert code(exclusion_reason(image(ImageType=image_type))) == expected


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Dose Report", "dose-report"),
        ("DOSE_INFO", "dose-report"),
        ("Patient Protocol", "dose-report"),
        ("Radiation Dose Summary", "dose-report"),
        ("Screen-Save 1", "screen-save"),
        ("screenshot", "screen-save"),
        ("Thorax 1.0 mm", None),
        ("Low dose lung", None),
    ],
)
def test_pages_of_text_by_series_description(description: str, expected: str | None) -> None:
    assert code(exclusion_reason(image(SeriesDescription=description))) == expected


def test_the_reason_never_quotes_the_datasets_free_text() -> None:
    reason = exclusion_reason(image(SeriesDescription="Dose Report Åström^Märta 19121212-1212"))
    assert reason == 'dose-report: Series Description mentions "dose report"'


@pytest.mark.parametrize(("value", "expected"), [("YES", "burned-in-annotation"), ("NO", None)])
def test_burned_in_annotation(value: str, expected: str | None) -> None:
    assert code(exclusion_reason(image(BurnedInAnnotation=value))) == expected


WSI = "1.2.840.10008.5.1.4.1.1.77.1.6"


@pytest.mark.parametrize(
    ("flavour", "expected"),
    [("LABEL", "slide-label"), ("OVERVIEW", "slide-label"), ("VOLUME", None), ("THUMBNAIL", None)],
)
def test_whole_slide_label_and_overview_images(flavour: str, expected: str | None) -> None:
    rgb = np.stack([phantom(0, 255, "uint8")] * 3, axis=-1)
    ds = image(rgb, bits_stored=8, SOPClassUID=WSI, Modality="SM")
    ds.ImageType = ["ORIGINAL", "PRIMARY", flavour, "NONE"]
    assert code(exclusion_reason(ds)) == expected


def test_specimen_label_in_image() -> None:
    assert code(exclusion_reason(image(SpecimenLabelInImage="YES"))) == "slide-label"
    assert exclusion_reason(image(SpecimenLabelInImage="NO")) is None


@pytest.mark.parametrize("manufacturer", [None, "", "   "])
def test_images_of_unknown_source(manufacturer: str | None) -> None:
    ds = image()
    if manufacturer is None:
        del ds.Manufacturer
    else:
        ds.Manufacturer = manufacturer
    assert code(exclusion_reason(ds)) == "unknown-source"


def test_objects_without_pixels_need_no_manufacturer() -> None:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.59"
    assert exclusion_reason(ds) is None


# Overlays in the pixel data.


def overlay_group(ds: Dataset, *, with_data: bool, bit_position: int = 0) -> None:
    ds.add_new(0x60000010, "US", SIZE)
    ds.add_new(0x60000011, "US", SIZE)
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000100, "US", 1 if with_data else 16)
    ds.add_new(0x60000102, "US", bit_position)
    if with_data:
        ds.add_new(0x60003000, "OW", bytes(SIZE * SIZE // 8))


def test_an_overlay_group_without_overlay_data_lives_in_the_pixels() -> None:
    ds = image(phantom(0, 4000, "uint16"))
    overlay_group(ds, with_data=False, bit_position=12)
    assert code(exclusion_reason(ds)) == "overlay-in-pixel-data"


def test_an_overlay_with_its_own_data_is_left_to_the_element_rules() -> None:
    ds = image(phantom(0, 4000, "uint16"))
    overlay_group(ds, with_data=True)
    assert exclusion_reason(ds) is None


def test_set_bits_above_high_bit_are_an_overlay() -> None:
    pixels = phantom(0, 4000, "uint16")
    pixels[3:6, 3:20] |= 1 << 13
    reason = exclusion_reason(image(pixels, bits_stored=12))
    assert reason == "overlay-in-pixel-data: bits above High Bit 11 are set in frame 1"


def test_the_overlay_check_reads_every_frame() -> None:
    frames = np.stack([phantom(0, 4000, "uint16")] * 40)
    frames[37, 5, 5] |= 1 << 15
    reason = exclusion_reason(image(frames, bits_stored=12))
    assert reason == "overlay-in-pixel-data: bits above High Bit 11 are set in frame 38"


def test_the_overlay_check_runs_without_the_statistics() -> None:
    pixels = phantom(0, 4000, "uint16")
    pixels[0, 0] |= 1 << 12
    settings = ExclusionSettings(min_std=2.0, min_grey_levels=16, check_pixels=False)
    assert code(exclusion_reason(image(pixels), settings)) == "overlay-in-pixel-data"


def test_sign_extended_negative_values_are_not_an_overlay() -> None:
    assert (phantom() < 0).any()
    assert exclusion_reason(image(phantom(), bits_stored=12)) is None


def test_zero_filled_negative_values_are_not_an_overlay() -> None:
    zero_filled = (phantom().astype(np.int32) & 0x0FFF).astype(np.int16)
    assert exclusion_reason(image(zero_filled, bits_stored=12)) is None
    stats = pixel_statistics(image(zero_filled, bits_stored=12))
    assert stats == pixel_statistics(image(phantom(), bits_stored=12))


def test_a_stray_bit_in_signed_pixels_is_an_overlay() -> None:
    pixels = phantom()
    pixels[pixels >= 0] |= 1 << 13
    assert code(exclusion_reason(image(pixels, bits_stored=12))) == "overlay-in-pixel-data"


# Pixel statistics.


def test_a_blank_frame_has_low_variance() -> None:
    blank = np.full((SIZE, SIZE), -1000, dtype=np.int16)
    assert exclusion_reason(image(blank)) == "low-variance: standard deviation 0.00 is below 2"


def test_a_noisy_blank_frame_has_low_variance() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(100, 1.0, (SIZE * 4, SIZE * 4)).round().astype(np.int16)
    assert code(exclusion_reason(image(noise))) == "low-variance"


def test_a_picture_of_bitmap_text_has_few_grey_levels() -> None:
    text = np.zeros((SIZE, SIZE), dtype=np.uint8)
    text[4:8, 2:30:3] = 255
    text[12:16, 1:28:2] = 255
    reason = exclusion_reason(image(text, bits_stored=8))
    assert reason == "few-grey-levels: 2 distinct values, fewer than 16"


def test_colour_pictures_count_distinct_colours() -> None:
    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], dtype=np.uint8)
    picture = palette[np.arange(SIZE * SIZE).reshape(SIZE, SIZE) % 4]
    ds = image(picture, bits_stored=8)
    assert pixel_statistics(ds).grey_levels == 4
    assert code(exclusion_reason(ds)) == "few-grey-levels"


def test_the_thresholds_are_settings() -> None:
    ds = image()
    stats = pixel_statistics(ds)
    strict = ExclusionSettings(min_std=stats.std + 1, min_grey_levels=1)
    assert code(exclusion_reason(ds, strict)) == "low-variance"
    strict = ExclusionSettings(min_std=0, min_grey_levels=stats.grey_levels + 1)
    assert code(exclusion_reason(ds, strict)) == "few-grey-levels"


def test_check_pixels_off_keeps_a_blank_frame() -> None:
    blank = np.zeros((SIZE, SIZE), dtype=np.int16)
    settings = ExclusionSettings(min_std=2.0, min_grey_levels=16, check_pixels=False)
    assert exclusion_reason(image(blank), settings) is None


def test_segmentations_may_have_two_levels() -> None:
    mask = (phantom(0, 1, "uint8") > 0).astype(np.uint8)
    ds = image(mask, bits_stored=8, SOPClassUID="1.2.840.10008.5.1.4.1.1.66.4", Modality="SEG")
    assert exclusion_reason(ds) is None


def test_statistics_need_pixels() -> None:
    ds = image()
    del ds.PixelData
    with pytest.raises(ValueError, match="no pixel data"):
        pixel_statistics(ds)


def test_multi_frame_statistics_sample_frames() -> None:
    frames = np.stack([phantom()] * 100)
    stats = pixel_statistics(image(frames))
    assert stats.frames == 16
    assert stats.grey_levels > 100


# Compressed pixel data and failures.


def test_compressed_pixels_are_decoded_for_the_checks() -> None:
    blank = image(np.full((SIZE, SIZE), 40, dtype=np.uint16))
    blank.compress(RLELossless, np.full((SIZE, SIZE), 40, dtype=np.uint16))
    assert code(exclusion_reason(blank)) == "low-variance"

    marked = phantom(0, 4000, "uint16")
    marked[2, 2] |= 1 << 14
    overlay = image(marked, bits_stored=16)  # the encoder refuses values above Bits Stored
    overlay.compress(RLELossless, marked)
    overlay.BitsStored, overlay.HighBit = 12, 11
    assert code(exclusion_reason(overlay)) == "overlay-in-pixel-data"

    kept = image()
    kept.compress(JPEG2000Lossless, phantom(), encoding_plugin="pylibjpeg")
    assert kept.file_meta.TransferSyntaxUID == JPEG2000Lossless
    assert exclusion_reason(kept) is None
    assert pixel_statistics(kept) == pixel_statistics(image())


def test_undecodable_pixels_are_excluded_only_when_a_check_needs_them() -> None:
    ds = image(phantom(0, 255, "uint8"), bits_stored=8)
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.PixelData = encapsulate([b"\x00\x01 not a codestream \x02\x03"])
    reason = exclusion_reason(ds)
    assert reason is not None and reason.startswith("undecodable-pixels: ")
    settings = ExclusionSettings(min_std=2.0, min_grey_levels=16, check_pixels=False)
    assert exclusion_reason(ds, settings) is None


def test_an_image_read_without_its_pixels_cannot_pass() -> None:
    ds = image()
    del ds.PixelData
    assert code(exclusion_reason(ds)) == "undecodable-pixels"
    settings = ExclusionSettings(min_std=2.0, min_grey_levels=16, check_pixels=False)
    assert exclusion_reason(image(phantom(), bits_stored=16), settings) is None
    headers_only = image(phantom(), bits_stored=16)
    del headers_only.PixelData
    assert exclusion_reason(headers_only, settings) is None
    del headers_only.Manufacturer
    assert code(exclusion_reason(headers_only, settings)) == "unknown-source"


def test_pixels_without_a_transfer_syntax_are_read_as_native() -> None:
    ds = image()
    del ds.file_meta
    assert exclusion_reason(ds) is None
    ds.PixelData = np.zeros((SIZE, SIZE), dtype=np.int16).tobytes()
    assert code(exclusion_reason(ds)) == "low-variance"


# Real images from the packages' test data, never downloaded.

PYDICOM_IMAGES = [
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_RLE.dcm",
    "MR_small_jp2klossless.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_implicit.dcm",
    "MR_small_expb.dcm",
    "693_J2KI.dcm",
    "J2K_pixelrep_mismatch.dcm",
    "examples_overlay.dcm",
    "examples_palette.dcm",
    "examples_rgb_color.dcm",
    "examples_ybr_color.dcm",
    "examples_jpeg2k.dcm",
    "ExplVR_BigEnd.dcm",
    "JPEG2000.dcm",
    "JPGExtended.dcm",
    # dicomdirtests: 16 x 16 thumbnails of real CR, CT and MR (the dimmest images measured)
    "6154",
    "6247",
    "6278",
    "17106",
    "17166",
    "6293",
    "4467",
    "4588",
    "4618",
    "4648",
    "15820",
]
DEID_DATA = Path(deid_data.__file__).parent / "data"
DEID_DATA_IMAGES = [
    "animals/cat.dcm",
    "ultrasounds/GREYSCALE_IMAGE.dcm",
    "ultrasounds/RGB_IMAGE.dcm",
    "ultrasounds/ultrasound-multiframe.dcm",
    "humans/ctbrain1.dcm",
    "dicom-cookies/image1.dcm",
]


def read(path: str | Path) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # third-party files, some with quirks
        return pydicom.dcmread(path)


def pydicom_file(name: str) -> str:
    path = get_testdata_file(name, download=False)
    assert isinstance(path, str), f"{name} is not inside the installed pydicom"
    return path


REAL_IMAGES: list[tuple[str, Callable[[], str | Path]]] = [
    *((name, lambda name=name: pydicom_file(name)) for name in PYDICOM_IMAGES),
    *((name, lambda name=name: DEID_DATA / name) for name in DEID_DATA_IMAGES),
]


@pytest.mark.parametrize(("name", "locate"), REAL_IMAGES, ids=[n for n, _ in REAL_IMAGES])
def test_real_images_are_not_excluded_for_their_pixels(
    name: str, locate: Callable[[], str | Path]
) -> None:
    ds = read(locate())
    stats = pixel_statistics(ds)
    assert stats.std >= DEFAULT.min_std
    assert stats.grey_levels >= DEFAULT.min_grey_levels
    reason = exclusion_reason(ds)
    assert code(reason) not in {"low-variance", "few-grey-levels", "undecodable-pixels"}


def test_the_deid_data_ultrasound_with_burned_in_annotation_is_excluded_for_it() -> None:
    ds = read(DEID_DATA / "ultrasounds/GREYSCALE_IMAGE.dcm")
    assert code(exclusion_reason(ds)) == "burned-in-annotation"


@pytest.mark.parametrize(
    "name",
    ["CT_small.dcm", "MR_small_jp2klossless.dcm", "MR_small_RLE.dcm", "examples_ybr_color.dcm"],
)
def test_the_dataset_is_not_modified(name: str) -> None:
    ds = read(pydicom_file(name))
    before = read(pydicom_file(name))
    # forces a full decode (the burned-in rule for US would answer before the pixels)
    strict = ExclusionSettings(min_std=1e9, min_grey_levels=1, require_burned_in_no=frozenset())
    assert code(exclusion_reason(ds, strict)) == "low-variance"
    assert isinstance(ds.get_item(0x7FE00010), RawDataElement), "Pixel Data was converted"
    assert getattr(ds, "_pixel_array", None) is None, "a decoded array was cached"
    assert ds == before  # compares values, so it converts raw elements: checked last


# The planted corpus: every object that must go is excluded, everything else is kept.


def test_the_planted_corpus_exclusions(tmp_path: Path) -> None:
    planted = make_corpus(tmp_path)
    for path in sorted(set(planted.files.values())):
        reason = exclusion_reason(pydicom.dcmread(path))
        assert code(reason) == planted.exclusions.get(path), f"{path.name}: {reason}"


def test_ultrasound_with_burned_in_name_but_no_burned_in_element_is_excluded():
    """deid-data's RGB_IMAGE.dcm shows a patient name in its pixels and does not say so."""
    import deid_data

    path = next(Path(deid_data.__file__).parent.rglob("RGB_IMAGE.dcm"))
    ds = pydicom.dcmread(path)
    assert "BurnedInAnnotation" not in ds
    assert exclusion_reason(ds).startswith("burned-in-unknown: US images often carry")


@pytest.mark.parametrize(("modality", "burned_in", "excluded"), [
    ("US", None, True), ("US", "", True), ("US", "NO", False), ("XA", None, True),
    ("ES", "YES", True), ("CT", None, False), ("MR", None, False),
])  # fmt: skip
def test_burned_in_prone_modalities_must_say_no(modality, burned_in, excluded):
    ds = _image_for_burned_in_check(modality)
    if burned_in is not None:
        ds.BurnedInAnnotation = burned_in
    reason = exclusion_reason(
        ds, ExclusionSettings(min_std=2.0, min_grey_levels=16, check_pixels=False)
    )
    assert (reason is not None) == excluded, reason


def test_the_modality_list_is_a_setting():
    ds = _image_for_burned_in_check("US")
    relaxed = ExclusionSettings(
        min_std=2.0, min_grey_levels=16, check_pixels=False, require_burned_in_no=frozenset()
    )
    assert exclusion_reason(ds, relaxed) is None


def _image_for_burned_in_check(modality: str) -> pydicom.Dataset:
    ds = pydicom.Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"
    ds.Modality = modality
    ds.Manufacturer = "Example Medical"
    ds.Rows = 4
    ds.Columns = 4
    ds.SamplesPerPixel = 1
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = bytes(range(16))
    return ds


# -- the shortcuts give the exact statistics' verdicts --------------------------------------


def _exact_reason(ds: Dataset, settings: ExclusionSettings = DEFAULT) -> str | None:
    """What the statistics of every value say, as the reason code (the reference)."""
    stats = pixel_statistics(ds)
    if stats.std < settings.min_std:
        return "low-variance"
    if stats.grey_levels < settings.min_grey_levels:
        return "few-grey-levels"
    return None


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(
    base=st.integers(min_value=-2000, max_value=2000),
    noise=st.floats(min_value=0.0, max_value=4.0),
    outliers=st.integers(min_value=0, max_value=2000),
    levels=st.integers(min_value=1, max_value=40),
    colour=st.booleans(),
    seed=st.integers(min_value=0, max_value=1 << 16),
)
def test_the_quick_checks_agree_with_the_exact_statistics(
    base: int, noise: float, outliers: int, levels: int, colour: bool, seed: int
) -> None:
    """Near the thresholds (little noise, few levels, a few outliers) the verdict is exact."""
    rng = np.random.default_rng(seed)
    shape = (96, 96, 3) if colour else (96, 96)
    values = base + np.round(rng.normal(0, noise, shape)) + rng.integers(0, levels, shape)
    flat = values.reshape(-1)
    flat[rng.integers(0, flat.size, outliers)] += rng.integers(-500, 500, outliers)
    if colour:
        pixels = np.clip(values, 0, 255).astype(np.uint8)
        ds = image(pixels, bits_stored=8)
    else:
        pixels = np.clip(values, -2048, 2047).astype(np.int16)
        ds = image(pixels)
    assert code(exclusion_reason(ds)) == _exact_reason(ds)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(
    values=st.lists(st.integers(min_value=-32768, max_value=32767), min_size=2, max_size=400),
    limit=st.floats(min_value=0.0, max_value=50.0),
)
def test_the_sampled_bound_never_overstates_the_deviation(values: list[int], limit: float) -> None:
    array = np.array(values, dtype=np.int16)
    assert pixels_module._std_at_least(array, limit) == (float(array.astype(float).std()) >= limit)


def _native_cases() -> list[Path]:
    roots = (Path(pydicom.data.__file__).parent / "test_files", DEID_DATA)
    return sorted(p for root in roots for p in root.rglob("*.dcm"))


def test_native_frames_are_the_decoders_frames() -> None:
    """Reading native pixels directly gives the arrays pydicom's decoder gives."""
    compared = 0
    for path in _native_cases():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(path)
                layout = pixels_module._Layout.of(ds)
            except Exception:  # noqa: BLE001, S112 - no image pixel module
                continue
            wanted = range(min(layout.frames, 3))
            native = pixels_module._native_frames(ds, layout, wanted)
            if native is None:
                continue
            try:
                decoded = dict(pixels_module._frames(ds, wanted))
            except Exception:  # noqa: BLE001, S112 - undecodable: the checks say so either way
                continue
        for index, frame in native:
            assert frame.dtype == decoded[index].dtype, path
            assert np.array_equal(frame, decoded[index]), path
        compared += 1
    assert compared >= 10
