"""Images that must not leave: objects whose pixels may show who the patient is.

Appendix 3 of the AIDA data sharing policy ("Anonymization measures for clinical imaging
data", *Elements to remove*) says:

    Images: remove scanned images, images with unknown source, or images with low intensity
    variance (usually these are pictures of text, which may contain identifiable
    information).

and its CTPA example adds that "some images (such as the radiation dose report) contained
burned-in patient information and thus could not be included in the export". Element rules
(DICOM PS3.15 Annex E) cannot clean pixels, and the engine writes the pixel data of kept
images byte for byte, so an object that may carry identifiers in its pixels is excluded as a
whole. :func:`exclusion_reason` returns ``"<code>: <text>"`` where the code is one of
:data:`REASONS`:

``secondary-capture``
    Secondary Capture SOP classes (PS3.4 B.5: ``1.2.840.10008.5.1.4.1.1.7`` and its
    multi-frame ``.7.1``-``.7.4``; not ``.77.*``, which are VL images): screen grabs, scans and
    synthetic pictures.
``converted-image``
    Any (0008,0064) Conversion Type (PS3.3 C.8.6.1, SC Equipment module). Every defined term
    describes a picture made for a human reader, which typically carries demographics: DV
    (digitized video, e.g. a frame grabber on an ultrasound monitor), DI (digital interface),
    DF (digitized film, with its printed label), WSD (workstation screen), SD (scanned
    document), SI (scanned image), DRW (drawing), SYN (synthetic image). Unknown terms are
    excluded too.
``scanned-document``
    Modality DOC (PS3.3 C.7.3.1.1.1) outside the encapsulated-document classes.
``encapsulated-document``
    Encapsulated PDF, CDA, STL, OBJ and MTL (``1.2.840.10008.5.1.4.1.1.104.*``) or any object
    with (0042,0011) Encapsulated Document: their content cannot be cleaned element by element.
``dose-report``
    X-Ray, Enhanced X-Ray, Radiopharmaceutical and Patient Radiation Dose SR (PS3.4 B.5), SR
    documents titled (DCM 113701) X-Ray Radiation Dose Report or (DCM 113500)
    Radiopharmaceutical Radiation Dose Report, and vendor dose pages stored as images:
    (0008,0008) Image Type ``DOSE INFO`` / ``DOSE REPORT`` / ``DOSE SUMMARY``, or a Series
    Description naming a dose report, dose information or the patient protocol page.
``screen-save``
    Image Type ``SCREEN SAVE``, ``SCREEN CAPTURE``, ``REPORT`` or ``CSA REPORT``, or a Series
    Description naming a screen save, screen capture or screenshot.
``burned-in-annotation``
    (0028,0301) Burned In Annotation ``YES`` (General Image module, PS3.3 C.7.6.1).
``burned-in-unknown``
    An image of a modality whose devices commonly burn demographics into the pixels (US,
    IVUS, XA, RF, ES, XC, OP; :attr:`ExclusionSettings.require_burned_in_no`) that does not
    explicitly say Burned In Annotation ``NO``.
``slide-label``
    VL Whole Slide Microscopy (and other VL ``.77.1.*``) images whose Image Type contains
    ``LABEL`` or ``OVERVIEW`` (value 3; WSI Image module, PS3.3 C.8.12.4; the overview shows the
    label too), and any object with (0048,0010) Specimen Label in Image ``YES``.
``unknown-source``
    An image (pixel data, or Rows and Columns) without (0008,0070) Manufacturer, or with an
    empty one ("images with unknown source"). Objects that are not images (SR, KO,
    presentation states) are left to the element rules.
``overlay-in-pixel-data``
    Overlays stored in the pixel data's unused high bits (the retired arrangement of PS3.5
    8.1.2 and the Overlay Plane module, PS3.3 C.9.2): an overlay group (60xx) with rows,
    columns, bits allocated or bit position but no (60xx,3000) Overlay Data, or any set bit
    above (0028,0102) High Bit when Bits Allocated exceeds Bits Stored (for signed pixels a
    copy of the sign bit is allowed, as PS3.5 8.1.1 lets writers fill those bits that way).
    The check reads every frame.
``low-variance`` / ``few-grey-levels``
    When :attr:`ExclusionSettings.check_pixels` is set: the standard deviation of the stored
    values is below :attr:`ExclusionSettings.min_std`, or the number of distinct stored values
    (distinct colours for multi-sample images) is below
    :attr:`ExclusionSettings.min_grey_levels`. Segmentations are exempt: a few labels is what
    they are.
``undecodable-pixels``
    A check above needed the pixels and they could not be decoded, or are missing from an
    image (a dataset read with ``stop_before_pixels``, or truncated). An undecodable image is
    not excluded when no check needs its pixels.

Pixel statistics
----------------
The statistics use the stored values before any rescale, LUT or colour conversion, with the
bits above High Bit removed. Multi-frame objects are sampled: up to :data:`MAX_SAMPLED_FRAMES`
frames evenly spaced from the first to the last, pooled. Decoding goes through pydicom's
decoders (pylibjpeg with its openjpeg and libjpeg plugins for JPEG, JPEG-LS and JPEG 2000) on
a private view of the image pixel elements, so the caller's dataset is never modified, not
even by caching a decoded array.

Thresholds (:data:`DEFAULT`), chosen by measuring with :func:`pixel_statistics`. Real images
from the test files of pydicom 3.0 and of the deid-data package:

=============================================================  ===========  ============
image                                                           std          grey levels
=============================================================  ===========  ============
CT 512 x 512 (693_J2KI, J2K_pixelrep_mismatch; JPEG 2000)       876 - 1159   2731 - 4742
CT_small, MR_small (native, RLE, JPEG 2000, JPEG-LS, ...; 8)    380 - 409    1128 - 1453
MR 484 x 300 (examples_overlay)                                 175          896
DX 3072 x 2614 (deid-data cat)                                  1259         4096
NM (JPEG2000, JPGExtended)                                      21.1 - 21.6  252 - 274
US (examples_*, ExplVR_BigEnd, deid-data ultrasounds; 8)        21 - 97      120 - 52479
CT 16 x 16 thumbnails (dicomdirtests; 11)                       12.4 - 362   55 - 229
CR 16 x 16 thumbnails (dicomdirtests; 3)                        99 - 177     101 - 141
MR 16 x 16 thumbnails (dicomdirtests; 17)                       5.3 - 98     31 - 150
=============================================================  ===========  ============

Pictures that must go: synthetic 512 x 512 frames made with Pillow (20 lines of text with a
name, a personal identity number and dose figures) and pydicom's secondary-capture files:

=============================================================  ===========  ============
picture                                                         std          grey levels
=============================================================  ===========  ============
blank frame, 8 or 16 bit, also after JPEG                       0            1
blank frame with Gaussian noise, sigma 1 / sigma 2              1.04 / 2.02  10 / 19
near-uniform SC test images (SC_rgb_jpeg*; JPEG noise only)     0.9 - 1.9    284 - 811
bitmap (not anti-aliased) text / the same after JPEG q75        68 / 67      2 / 77
SC colour test patterns (SC_rgb_rle*, SC_rgb_small_odd, ...)    55 - 103     3 - 10
anti-aliased text, 14 and 28 pt, also after JPEG q75            62 - 77      246 - 256
anti-aliased coloured text, JPEG 2000 (GDCMJ2K_TextGBR)         36           49
=============================================================  ===========  ============

``min_std = 2.0`` lies below the dimmest real image (5.3, a 16 x 16 MR thumbnail; 12.4 for
CT; 21 for any full-size image) and above blank frames, including lossy-compressed ones whose
noise inflates their grey-level count to hundreds. ``min_grey_levels = 16`` lies below the
fewest levels of any real image (31, the same thumbnail; 120 for any full-size image) and above
rendered bitmap text (2), colour test patterns (3 - 10) and noisy blank frames (10 at sigma
1). Both are in stored-value units, so they are as strict for 16-bit as for 8-bit data. With
them no measured real image is excluded for its pixels. Statistics of a 3072 x 2614 radiograph
take about 0.03 s; a frame is decoded once for both checks.

Limits, stated plainly: anti-aliased or lossy-compressed text has as many grey levels and as
much variance as a real image, and so does a real image with text burned into its corners (the
deid-data ``RGB_IMAGE.dcm`` ultrasound shows a name and has no Burned In Annotation element).
Such pictures are caught only by the metadata checks above; the statistics are a net under
them, not a text detector. Review samples of the output, as Appendix 3 advises.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels.utils import iter_pixels
from pydicom.tag import BaseTag, Tag
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

__all__ = [
    "DEFAULT",
    "MAX_SAMPLED_FRAMES",
    "REASONS",
    "ExclusionSettings",
    "PixelStatistics",
    "exclusion_reason",
    "is_excluded",
    "PixelChecker",
    "pixel_statistics",
]


@dataclass(frozen=True)
class ExclusionSettings:
    """How strictly pixel statistics exclude images (policy Appendix 3, low intensity variance).

    Parameters
    ----------
    min_std : float
        Images whose stored values have a smaller standard deviation are excluded as
        ``low-variance``.
    min_grey_levels : int
        Images with fewer distinct stored values (distinct colours for colour images) are
        excluded as ``few-grey-levels``.
    check_pixels : bool
        Compute the statistics at all. The overlay-in-high-bits check is structural, not
        statistical, and runs regardless.
    require_burned_in_no : frozenset of str
        Modalities whose devices commonly burn demographics into the image (ultrasound,
        angiography and fluoroscopy, endoscopy, external and ophthalmic photography). Their
        images are kept only when (0028,0301) Burned In Annotation explicitly says ``NO``:
        the pixel statistics cannot tell anti-aliased burned-in text from anatomy (deid-data's
        ``RGB_IMAGE.dcm``, an ultrasound showing a name without the element, is the example).
    """

    min_std: float
    min_grey_levels: int
    check_pixels: bool = True
    require_burned_in_no: frozenset[str] = frozenset({"US", "IVUS", "XA", "RF", "ES", "XC", "OP"})


DEFAULT: Final = ExclusionSettings(min_std=2.0, min_grey_levels=16)
"""The thresholds measured in the module documentation: ``min_std=2.0``,
``min_grey_levels=16``."""

MAX_SAMPLED_FRAMES: Final = 16
"""At most this many frames of a multi-frame object are decoded for the statistics."""

REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "secondary-capture": "Secondary capture: a screen grab, scan or synthetic picture.",
        "converted-image": "Converted from another medium (scanned, digitized or captured).",
        "scanned-document": "A scanned document.",
        "encapsulated-document": "An encapsulated document (PDF, CDA or a 3D model).",
        "dose-report": "A radiation dose report.",
        "screen-save": "A screen save or report page.",
        "burned-in-annotation": "The image says it has identifying text burned in.",
        "burned-in-unknown": "A modality that often burns in text, without Burned In "
        "Annotation NO.",
        "slide-label": "A slide label or overview image that shows the specimen label.",
        "unknown-source": "An image of unknown source: no manufacturer.",
        "overlay-in-pixel-data": "Overlay graphics stored in the unused bits of the pixels.",
        "low-variance": "Low intensity variance: likely a picture of text or a blank frame.",
        "few-grey-levels": "Few grey levels: likely a picture of text or graphics.",
        "undecodable-pixels": "The pixels could not be decoded to check them.",
    }
)
"""Stable reason codes and a plain-English description of each."""


@dataclass(frozen=True)
class PixelStatistics:
    """Statistics of the stored pixel values that decide low variance.

    Parameters
    ----------
    std : float
        Standard deviation of the stored values; for multi-sample images the largest of the
        per-sample deviations.
    grey_levels : int
        Number of distinct stored values; for multi-sample images, distinct colours.
    frames : int
        Number of frames the statistics were computed on.
    """

    std: float
    grey_levels: int
    frames: int


# PS3.4 Annex B.5 Standard SOP Classes.
_SECONDARY_CAPTURE: Final = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.7",
        "1.2.840.10008.5.1.4.1.1.7.1",
        "1.2.840.10008.5.1.4.1.1.7.2",
        "1.2.840.10008.5.1.4.1.1.7.3",
        "1.2.840.10008.5.1.4.1.1.7.4",
    }
)
_ENCAPSULATED_PREFIX: Final = "1.2.840.10008.5.1.4.1.1.104."
_DOSE_REPORTS: Final = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.88.67",  # X-Ray Radiation Dose SR
        "1.2.840.10008.5.1.4.1.1.88.68",  # Radiopharmaceutical Radiation Dose SR
        "1.2.840.10008.5.1.4.1.1.88.73",  # Patient Radiation Dose SR
        "1.2.840.10008.5.1.4.1.1.88.76",  # Enhanced X-Ray Radiation Dose SR
    }
)
_VL_PREFIX: Final = "1.2.840.10008.5.1.4.1.1.77.1."
# A segmentation holds a handful of labels by design; few grey levels say nothing about text.
_SEGMENTATIONS: Final = frozenset({"1.2.840.10008.5.1.4.1.1.66.4"})

# Document titles of PS3.16 TID 10001 and TID 10021: (code value, coding scheme).
_DOSE_REPORT_TITLES: Final = {
    ("113701", "DCM"): "X-Ray Radiation Dose Report",
    ("113500", "DCM"): "Radiopharmaceutical Radiation Dose Report",
}

_CONVERSION_TYPES: Final = {
    "DV": "digitized video",
    "DI": "digital interface",
    "DF": "digitized film",
    "WSD": "workstation",
    "SD": "scanned document",
    "SI": "scanned image",
    "DRW": "drawing",
    "SYN": "synthetic image",
}

# Image Type values (normalized: upper case, "_" as space) that vendors use for pages of text.
_DOSE_IMAGE_TYPES: Final = frozenset({"DOSE INFO", "DOSE REPORT", "DOSE SUMMARY"})
_SCREEN_IMAGE_TYPES: Final = frozenset(
    {"SCREEN SAVE", "SCREENSAVE", "SCREEN CAPTURE", "REPORT", "CSA REPORT"}
)
# Series Description phrases (normalized: lower case, "_" and "-" as space, single spaces).
_DOSE_DESCRIPTIONS: Final = (
    "dose report",
    "dose info",
    "dose summary",
    "dose record",
    "radiation dose",
    "patient protocol",
)
_SCREEN_DESCRIPTIONS: Final = ("screen save", "screensave", "screen capture", "screenshot")

_ROWS: Final = Tag(0x0028, 0x0010)
_COLUMNS: Final = Tag(0x0028, 0x0011)
_PIXEL_DATA: Final = Tag(0x7FE0, 0x0010)
_PIXEL_TAGS: Final = (_PIXEL_DATA, Tag(0x7FE0, 0x0008), Tag(0x7FE0, 0x0009))
_OVERLAY_LAYOUT_ELEMENTS: Final = (0x0010, 0x0011, 0x0100, 0x0102)  # rows ... bit position
_ITEM_TAG_LE: Final = b"\xfe\xff\x00\xe0"
_COUNTING_SPAN: Final = 1 << 20
_SPACES: Final = re.compile(r"[\s_\-]+")

_Check = Callable[[Dataset], "str | None"]


def exclusion_reason(ds: Dataset, settings: ExclusionSettings = DEFAULT) -> str | None:
    """Return why `ds` must not leave, or ``None`` if nothing in it says so.

    Implements the image removals of policy Appendix 3 ("scanned images, images with unknown
    source, or images with low intensity variance") and the burned-in dose reports of its
    CTPA example; the reason codes are described in the module documentation and
    :data:`REASONS`. Metadata checks run first; pixels are decoded only when a check needs
    them. `ds` is not modified.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A top-level dataset, as read from a file with its pixel data (file meta information
        gives the transfer syntax; without it native little-endian pixel data is assumed).
        Pixel Data may stay a raw or deferred element; it is read, never converted in `ds`.
    settings : ExclusionSettings, optional
        Thresholds for the pixel statistics; :data:`DEFAULT` unless given.

    Returns
    -------
    str or None
        ``"<code>: <text>"``, for example
        ``"secondary-capture: Secondary Capture Image Storage"``. The text never quotes the
        dataset's free text, so a reason may be written where identifiers may not.
    """
    for check in _METADATA_CHECKS:
        reason = check(ds)
        if reason is not None:
            return reason
    reason = _check_burned_in_unknown(ds, settings)
    if reason is not None:
        return reason
    return _check_pixels(ds, settings)


def is_excluded(ds: Dataset, settings: ExclusionSettings = DEFAULT) -> bool:
    """Return whether `ds` must be excluded; see :func:`exclusion_reason`.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The dataset to judge; it is not modified.
    settings : ExclusionSettings, optional
        Thresholds for the pixel statistics.

    Returns
    -------
    bool
        ``True`` when :func:`exclusion_reason` gives a reason.
    """
    return exclusion_reason(ds, settings) is not None


def pixel_statistics(ds: Dataset, max_frames: int = MAX_SAMPLED_FRAMES) -> PixelStatistics:
    """Compute the low-variance statistics of the pixels of `ds` without modifying it.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset with (7FE0,0010) Pixel Data, Float Pixel Data or Double Float Pixel Data.
    max_frames : int, optional
        Frames to sample from a multi-frame object, evenly spaced.

    Returns
    -------
    PixelStatistics
        The pooled statistics of the sampled frames.

    Raises
    ------
    ValueError
        If `ds` has no pixel data.
    Exception
        Whatever the pixel decoder raises for data it cannot decode.
    """
    if not _has_pixels(ds):
        raise ValueError("the dataset has no pixel data")
    layout = _Layout.of(ds)
    sampled = _sample(layout.frames, max_frames)
    pool = _Pool()
    for _, frame in _frames(ds, sampled):
        pool.add(layout.stored_values(frame), layout.samples)
    return pool.result()


# Metadata checks, in the order they run.


def _check_sop_class(ds: Dataset) -> str | None:
    uid = _sop_class(ds)
    if uid in _SECONDARY_CAPTURE:
        return f"secondary-capture: {UID(uid).name}"
    if uid.startswith(_ENCAPSULATED_PREFIX):
        return f"encapsulated-document: {UID(uid).name}"
    if uid in _DOSE_REPORTS:
        return f"dose-report: {UID(uid).name}"
    return None


def _check_encapsulated_document(ds: Dataset) -> str | None:
    if Tag(0x0042, 0x0011) in ds:
        return "encapsulated-document: has (0042,0011) Encapsulated Document"
    return None


def _check_document_title(ds: Dataset) -> str | None:
    for item in _sequence(ds, "ConceptNameCodeSequence")[:1]:
        key = (_first_text(item, "CodeValue"), _first_text(item, "CodingSchemeDesignator"))
        if key in _DOSE_REPORT_TITLES:
            return f"dose-report: document title {_DOSE_REPORT_TITLES[key]}"
    return None


def _check_conversion_type(ds: Dataset) -> str | None:
    if Tag(0x0008, 0x0064) not in ds:
        return None
    term = _first_text(ds, "ConversionType").upper()
    if term in _CONVERSION_TYPES:
        return f"converted-image: Conversion Type {term} ({_CONVERSION_TYPES[term]})"
    return "converted-image: Conversion Type present with an unrecognized value"


def _check_modality(ds: Dataset) -> str | None:
    if _first_text(ds, "Modality").upper() == "DOC":
        return "scanned-document: Modality DOC (document)"
    return None


def _check_image_type(ds: Dataset) -> str | None:
    for value in _texts(ds, "ImageType"):
        term = value.upper().replace("_", " ").strip()
        if term in _DOSE_IMAGE_TYPES:
            return f"dose-report: Image Type {term}"
        if term in _SCREEN_IMAGE_TYPES:
            return f"screen-save: Image Type {term}"
    return None


def _check_series_description(ds: Dataset) -> str | None:
    description = _SPACES.sub(" ", _first_text(ds, "SeriesDescription").lower())
    for phrase in _DOSE_DESCRIPTIONS:
        if phrase in description:
            return f'dose-report: Series Description mentions "{phrase}"'
    for phrase in _SCREEN_DESCRIPTIONS:
        if phrase in description:
            return f'screen-save: Series Description mentions "{phrase}"'
    return None


def _check_burned_in(ds: Dataset) -> str | None:
    if _first_text(ds, "BurnedInAnnotation").upper() == "YES":
        return "burned-in-annotation: Burned In Annotation is YES"
    return None


def _check_burned_in_unknown(ds: Dataset, settings: ExclusionSettings) -> str | None:
    modality = _first_text(ds, "Modality").upper().strip()
    if not _is_image(ds) or modality not in settings.require_burned_in_no:
        return None
    if _first_text(ds, "BurnedInAnnotation").upper().strip() == "NO":
        return None
    return (
        f"burned-in-unknown: {modality} images often carry burned-in text and this one does "
        "not say Burned In Annotation NO"
    )


def _check_slide_label(ds: Dataset) -> str | None:
    if _first_text(ds, "SpecimenLabelInImage").upper() == "YES":
        return "slide-label: Specimen Label in Image is YES"
    if not _sop_class(ds).startswith(_VL_PREFIX):
        return None
    for value in _texts(ds, "ImageType"):
        term = value.upper().strip()
        if term in {"LABEL", "OVERVIEW"}:
            return f"slide-label: {term} image ({UID(_sop_class(ds)).name})"
    return None


def _check_unknown_source(ds: Dataset) -> str | None:
    if _is_image(ds) and not _first_text(ds, "Manufacturer", missing="").strip():
        return "unknown-source: no (0008,0070) Manufacturer"
    return None


def _check_overlay_groups(ds: Dataset) -> str | None:
    groups = sorted({tag.group for tag in _tags(ds) if _is_overlay_group(tag.group)})
    for group in groups:
        if (group << 16 | 0x3000) in ds:
            continue
        if any((group << 16 | element) in ds for element in _OVERLAY_LAYOUT_ELEMENTS):
            return (
                f"overlay-in-pixel-data: overlay group {group:04X} has no Overlay Data,"
                " so it is stored in the pixel data"
            )
    return None


_METADATA_CHECKS: Final[tuple[_Check, ...]] = (
    _check_sop_class,
    _check_encapsulated_document,
    _check_document_title,
    _check_conversion_type,
    _check_modality,
    _check_image_type,
    _check_series_description,
    _check_burned_in,
    _check_slide_label,
    _check_unknown_source,
    _check_overlay_groups,
)


# Pixel checks.


def _check_pixels(ds: Dataset, settings: ExclusionSettings) -> str | None:
    if not _has_pixels(ds):
        return _check_missing_pixels(ds, settings)
    try:
        checker = PixelChecker(ds, settings)
    except Exception as exc:  # a malformed pixel module means "cannot check"
        return _undecodable(exc)
    return checker.reason(ds)


class PixelChecker:
    """The pixel checks of :func:`exclusion_reason` for objects of one image pixel module.

    The layout (frames, samples, bits, sign, rows and columns) is read once, from the
    dataset given here; :meth:`reason` then checks the pixels of any dataset that has the
    same image pixel module, SOP class and transfer syntax, such as the next slice of a
    series (:mod:`aidahub.deid.series`).

    Raises
    ------
    Exception
        If the image pixel module cannot be read (:func:`exclusion_reason` then excludes
        the object as ``undecodable-pixels``).
    """

    def __init__(self, ds: Dataset, settings: ExclusionSettings = DEFAULT) -> None:
        self.layout = _Layout.of(ds)
        self.settings = settings
        self.check_bits = self.layout.has_unused_high_bits
        self.check_stats = settings.check_pixels and _sop_class(ds) not in _SEGMENTATIONS

    def reads_natively(self, ds: Dataset) -> bool:
        """Whether :meth:`reason` reads the pixels of *ds* straight from its Pixel Data's
        bytes (any buffer, a :class:`memoryview` too), without a decoder."""
        return _native_frames(ds, self.layout, ()) is not None

    def reason(self, ds: Dataset) -> str | None:
        """Why the pixels of *ds* exclude it (as :func:`exclusion_reason` words it), or None."""
        layout, settings = self.layout, self.settings
        check_bits, check_stats = self.check_bits, self.check_stats
        if not (check_bits or check_stats):
            return None
        sampled = _sample(layout.frames, MAX_SAMPLED_FRAMES) if check_stats else ()
        wanted = range(layout.frames) if check_bits else sampled
        pool = _Pool()
        try:
            native = _native_frames(ds, layout, wanted)
            for index, frame in native if native is not None else _frames(ds, wanted):
                # One min/max pass says whether any value has bits above High Bit.
                within = not layout.has_unused_high_bits or layout.within_range(frame)
                if check_bits and not within and layout.has_bits_above_high_bit(frame):
                    return (
                        "overlay-in-pixel-data: bits above High Bit"
                        f" {layout.high_bit} are set in frame {index + 1}"
                    )
                if index in sampled:
                    values = frame if within else layout.stored_values(frame)
                    if layout.frames == 1 and _clearly_varied(values, layout.samples, settings):
                        return None
                    pool.add(values, layout.samples)
        except Exception as exc:  # decoder errors vary by plugin
            return _undecodable(exc)
        if not check_stats:
            return None
        stats = pool.result()
        if stats.std < settings.min_std:
            return f"low-variance: standard deviation {stats.std:.2f} is below {settings.min_std:g}"
        if stats.grey_levels < settings.min_grey_levels:
            return (
                f"few-grey-levels: {stats.grey_levels} distinct values,"
                f" fewer than {settings.min_grey_levels}"
            )
        return None


def _check_missing_pixels(ds: Dataset, settings: ExclusionSettings) -> str | None:
    # Rows and Columns without pixel data: read with stop_before_pixels, or truncated. The
    # checks cannot run, which must not pass for "nothing found".
    if not _is_image(ds):
        return None
    try:
        needs_bits = int(ds.HighBit) < int(ds.BitsAllocated) - 1
    except Exception:  # unreadable or missing: assume the overlay check is needed
        needs_bits = True
    if settings.check_pixels or needs_bits:
        return "undecodable-pixels: an image without pixel data (read without its pixels?)"
    return None


def _undecodable(exc: Exception) -> str:
    # The exception's message is not quoted: a reason must never carry dataset content.
    return f"undecodable-pixels: the pixel data could not be decoded ({type(exc).__name__})"


@dataclass(frozen=True)
class _Layout:
    """The image pixel module values the checks need (PS3.3 C.7.6.3)."""

    frames: int
    samples: int
    bits_allocated: int
    high_bit: int
    signed: bool
    integer: bool
    rows: int = 0
    columns: int = 0

    @classmethod
    def of(cls, ds: Dataset) -> _Layout:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's value warnings; a bad value raises
            return cls._read(ds)

    @classmethod
    def _read(cls, ds: Dataset) -> _Layout:
        integer = _PIXEL_DATA in ds
        bits_allocated = int(ds.BitsAllocated)
        bits_stored = int(ds.get("BitsStored", bits_allocated) if integer else bits_allocated)
        return cls(
            frames=max(1, int(ds.get("NumberOfFrames") or 1)),
            samples=int(ds.get("SamplesPerPixel", 1) or 1),
            bits_allocated=bits_allocated,
            high_bit=int(ds.get("HighBit", bits_stored - 1) if integer else bits_stored - 1),
            signed=integer and int(ds.get("PixelRepresentation", 0) or 0) == 1,
            integer=integer,
            rows=_size(ds, _ROWS),
            columns=_size(ds, _COLUMNS),
        )

    @property
    def has_unused_high_bits(self) -> bool:
        return self.integer and self.bits_allocated > 1 and self.high_bit < self.bits_allocated - 1

    def _bit_pattern(self, frame: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        # int64 holds every integer pixel type; masking gives the stored bit pattern even when
        # the decoder returned a sign-extended signed array.
        return frame.astype(np.int64) & ((1 << self.bits_allocated) - 1)

    def within_range(self, frame: npt.NDArray[Any]) -> bool:
        # One min/max pass, no temporaries: values already within what High Bit allows (as
        # the decoder returned them) have no stray high bits and need no correction.
        if frame.size == 0:
            return True
        if not self.signed and frame.dtype.kind == "u":
            return int(frame.max()) < 1 << (self.high_bit + 1)  # never below 0: one pass
        if self.signed:
            low, high = -(1 << self.high_bit), 1 << self.high_bit
        else:
            low, high = 0, 1 << (self.high_bit + 1)
        return int(frame.min()) >= low and int(frame.max()) < high

    def has_bits_above_high_bit(self, frame: npt.NDArray[Any]) -> bool:
        value_bits = self.high_bit + 1
        if self.within_range(frame):
            return False
        pattern = self._bit_pattern(frame)
        above = pattern >> value_bits
        if not self.signed:
            return bool(above.any())
        sign_copies = ((pattern >> self.high_bit) & 1) * (
            (1 << (self.bits_allocated - value_bits)) - 1
        )
        return bool(((above != 0) & (above != sign_copies)).any())

    def stored_values(self, frame: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if not self.has_unused_high_bits or self.within_range(frame):
            return frame
        value_bits = self.high_bit + 1
        values = self._bit_pattern(frame) & ((1 << value_bits) - 1)
        if self.signed:
            values = np.where(values >> self.high_bit, values - (1 << value_bits), values)
        return values


class _Pool:
    """Pooled standard deviation (Chan et al.'s parallel update) and distinct values."""

    def __init__(self) -> None:
        self.count: npt.NDArray[np.float64] | None = None
        self.mean: npt.NDArray[np.float64] | None = None
        self.m2: npt.NDArray[np.float64] | None = None
        self.distinct: list[npt.NDArray[Any]] = []
        self.frames = 0

    def add(self, values: npt.NDArray[Any], samples: int) -> None:
        columns = values.reshape(-1, samples)
        n = columns.shape[0]
        if n == 0:
            return
        histogram = _histogram(columns)
        if histogram is not None:
            # Moments from the histogram: a pass over at most 2**20 levels instead of over
            # every pixel again (a 3000 x 3000 radiograph takes a third of the time).
            levels, counts = histogram
            level_mean = float(np.dot(levels, counts)) / n
            mean = np.array([level_mean])
            m2 = np.array([float(np.dot((levels - level_mean) ** 2, counts))])
            distinct = levels
        else:
            mean = columns.mean(axis=0, dtype=np.float64)
            m2 = columns.var(axis=0, dtype=np.float64) * n
            distinct = _distinct(columns)
        count = np.full(columns.shape[1], float(n))
        if self.count is None or self.mean is None or self.m2 is None:
            self.count, self.mean, self.m2 = count, mean, m2
        else:
            total = self.count + count
            delta = mean - self.mean
            self.m2 = self.m2 + m2 + delta**2 * self.count * count / total
            self.mean = self.mean + delta * count / total
            self.count = total
        self.distinct.append(distinct)
        self.frames += 1

    def result(self) -> PixelStatistics:
        if self.count is None or self.m2 is None:
            return PixelStatistics(std=0.0, grey_levels=0, frames=0)
        std = float(np.sqrt(self.m2 / self.count).max())
        if len(self.distinct) == 1:
            levels = len(self.distinct[0])
        else:
            levels = len(np.unique(np.concatenate(self.distinct), axis=0))
        return PixelStatistics(
            std=0.0 if math.isnan(std) else std, grey_levels=levels, frames=self.frames
        )


def _histogram(
    columns: npt.NDArray[Any],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    """Levels present and their counts, for single-sample integers spanning at most 2**20."""
    if columns.shape[1] != 1 or columns.dtype.kind not in "iu":
        return None
    flat = columns[:, 0]
    low, high = int(flat.min()), int(flat.max())
    if high - low > _COUNTING_SPAN:
        return None
    # Counting beats sorting for stored integers: O(n) with a small table.
    counts = np.bincount(flat if low == 0 else flat.astype(np.int64) - low)
    present = np.flatnonzero(counts)
    return (present + low).astype(np.float64), counts[present].astype(np.float64)


def _distinct(columns: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Distinct rows of a (pixels, samples) array, as a 1-D array where possible."""
    if columns.shape[1] == 1:
        return np.unique(columns[:, 0])
    if columns.dtype.kind in "iu" and columns.dtype.itemsize <= 2 and columns.shape[1] <= 3:
        packed = np.zeros(columns.shape[0], dtype=np.int64)
        for sample in range(columns.shape[1]):
            packed = packed << 20 | (columns[:, sample].astype(np.int64) & 0xFFFFF)
        return np.unique(packed)
    return np.unique(columns, axis=0)


def _frames(ds: Dataset, indices: Iterable[int]) -> Iterator[tuple[int, npt.NDArray[Any]]]:
    """Decode the frames at `indices` from a private view of `ds`, in ascending order."""
    wanted = sorted(set(indices))
    if not wanted:
        return
    frames = iter_pixels(_pixel_view(ds), indices=wanted, raw=True, correct_unused_bits=False)
    for index in wanted:
        # Decoders warn about benign quirks (odd lengths, JPEG precision); what counts is
        # whether they decode. The filter is set per frame so the caller never runs under it.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = next(frames)
        yield index, frame


def _native_frames(
    ds: Dataset, layout: _Layout, indices: Iterable[int]
) -> Iterator[tuple[int, npt.NDArray[Any]]] | None:
    """The frames at `indices` read straight from native little-endian Pixel Data, or None.

    For integer images of one sample, or three interleaved (Planar Configuration 0), in
    Implicit or Explicit VR Little Endian this gives
    the arrays pydicom's native decoder returns (``raw=True``, no unused-bit correction),
    without building a view and a decoder for each file; anything else returns None and
    goes through :func:`_frames` (tests/deid/test_pixels.py compares the two).
    """
    if not layout.integer or layout.bits_allocated not in (8, 16, 32):
        return None
    if layout.samples != 1 and (layout.samples != 3 or _planar(ds) != 0):
        return None
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax not in (ImplicitVRLittleEndian, ExplicitVRLittleEndian):
        return None
    element = ds.get_item(_PIXEL_DATA)
    value = element.value if element is not None else None
    if not isinstance(value, bytes | memoryview):
        return None
    rows, columns = layout.rows, layout.columns
    size = layout.bits_allocated // 8
    samples = layout.samples
    per_frame = rows * columns * samples
    if rows <= 0 or columns <= 0 or len(value) < per_frame * size * layout.frames:
        return None
    dtype = np.dtype(f"<{'i' if layout.signed else 'u'}{size}")
    pixels = np.frombuffer(value, dtype=dtype, count=per_frame * layout.frames)
    shape = (rows, columns) if samples == 1 else (rows, columns, samples)
    wanted = sorted(set(indices))
    return ((i, pixels[i * per_frame : (i + 1) * per_frame].reshape(shape)) for i in wanted)


def _planar(ds: Dataset) -> int | None:
    """Planar Configuration (0 when absent), or None when unreadable."""
    try:
        return int(ds.get("PlanarConfiguration", 0) or 0)
    except (TypeError, ValueError):
        return None


def _clearly_varied(values: npt.NDArray[Any], samples: int, settings: ExclusionSettings) -> bool:
    """Whether a single frame certainly passes both statistics, found cheaply.

    Exact statistics (:class:`_Pool`) count every distinct value, which takes a pass of
    ``bincount`` or a sort; deciding the thresholds needs less. The distinct values of a
    block of 4,096 pixels are at most those of the image, so reaching ``min_grey_levels``
    there is enough; the standard deviation comes from exact integer sums (stored values of
    up to 16 bits, shifted by the first one, square into int64 without overflow), with a
    margin of 1 % over ``min_std``. No BLAS call is made: its threads would compete with the
    batch's worker processes. When either is not clear, the exact statistics decide (and
    give the reason's figures).
    """
    if values.dtype.kind not in "iu" or values.dtype.itemsize > 2 or samples > 4:
        return False
    columns = values.reshape(-1, samples)
    n = columns.shape[0]
    if n < 2:
        return False
    middle = n // 2
    block = columns[max(0, middle - 2048) : middle + 2048].astype(np.int64)
    block -= block.min(axis=0)
    if samples > 1:
        # Distinct colours: each sample in its own 16 bits of one integer.
        block = np.bitwise_or.reduce(block << (16 * np.arange(samples)), axis=1)
        if np.unique(block).size < settings.min_grey_levels:
            return False
    elif np.count_nonzero(np.bincount(block[:, 0])) < settings.min_grey_levels:
        return False
    # The exact statistic is the largest per-sample deviation: one sample is enough.
    return any(
        _std_at_least(columns[:, sample], settings.min_std * 1.01) for sample in range(samples)
    )


_SUM_CHUNK: Final = 1 << 18
_SUBSAMPLE: Final = 16


def _std_at_least(values: npt.NDArray[Any], limit: float) -> bool:
    """Whether the standard deviation of 8- or 16-bit integers is at least *limit*.

    First from every :data:`_SUBSAMPLE`-th value: for any *m* of the *n* values,
    ``n * Var(all) >= sum over them of (x - mean(all))**2 >= m * Var(them)``, so
    ``Var(all) >= Var(them) * m / n``, a lower bound that settles a real image at a
    sixteenth of the cost. Only when that bound falls short are all values summed.
    """
    sample = np.ascontiguousarray(values[::_SUBSAMPLE])
    bound = _variance(sample) * sample.size / values.size
    return math.sqrt(bound) >= limit or math.sqrt(_variance(values)) >= limit


def _variance(values: npt.NDArray[Any]) -> float:
    """The exact variance of 8- or 16-bit integers.

    Exact integer sums, shifted by the first value so the squares fit int64, in chunks of
    :data:`_SUM_CHUNK` values so a large radiograph needs no array of int64 its size.
    """
    flat = values.reshape(-1)
    if flat.size < 2:
        return 0.0
    first = int(flat[0])
    buffer = np.empty(min(flat.size, _SUM_CHUNK), dtype=np.int64)
    total = squares = 0
    for start in range(0, flat.size, _SUM_CHUNK):
        part = flat[start : start + _SUM_CHUNK]
        shifted = buffer[: part.size]
        np.subtract(part, first, out=shifted, dtype=np.int64)  # not in the input type
        total += int(shifted.sum())
        np.square(shifted, out=shifted)
        squares += int(shifted.sum())
    n = flat.size
    return max((squares - total * total / n) / n, 0.0)


def _pixel_view(ds: Dataset) -> Dataset:
    """A new dataset sharing the image pixel elements of `ds`, so decoding leaves `ds` as is.

    Elements are shared as read (raw elements stay raw in `ds`); the view converts its own
    copies. File meta information supplies the transfer syntax, or it is inferred from how
    the dataset was read.
    """
    view = Dataset()
    implicit, little = ds.original_encoding
    view.set_original_encoding(implicit, little)
    for tag in _tags(ds):
        if tag.group in (0x0028, 0x7FE0):
            element: DataElement | RawDataElement = ds.get_item(tag)
            view[tag] = element
    view.file_meta = FileMetaDataset()
    view.file_meta.TransferSyntaxUID = _transfer_syntax(ds, implicit, little)
    return view


def _transfer_syntax(ds: Dataset, implicit: bool | None, little: bool | None) -> UID:
    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID"):
        return UID(str(meta.TransferSyntaxUID))
    element = ds.get_item(_PIXEL_DATA) if _PIXEL_DATA in ds else None
    value = element.value if element is not None else None
    if isinstance(value, bytes) and value[:4] == _ITEM_TAG_LE:
        raise ValueError("encapsulated pixel data without a transfer syntax")
    if little is False:
        return ExplicitVRBigEndian
    return ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian


def _size(ds: Dataset, tag: BaseTag) -> int:
    """Rows or Columns as a number, or 0 when missing or unreadable (the decoders decide)."""
    try:
        return int(ds[tag].value) if tag in ds else 0
    except (TypeError, ValueError):
        return 0


def _sample(frames: int, limit: int) -> tuple[int, ...]:
    if frames <= limit:
        return tuple(range(frames))
    return tuple(sorted({round(i * (frames - 1) / (limit - 1)) for i in range(limit)}))


# Reading values without trusting them.


def _tags(ds: Dataset) -> list[BaseTag]:
    return list(ds.keys())


def _sop_class(ds: Dataset) -> str:
    uid = _first_text(ds, "SOPClassUID")
    if not uid:
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            uid = _first_text(meta, "MediaStorageSOPClassUID")
    return uid.strip().rstrip("\x00")


def _has_pixels(ds: Dataset) -> bool:
    return any(tag in ds for tag in _PIXEL_TAGS)


def _is_image(ds: Dataset) -> bool:
    """Pixel data, or the Rows and Columns of an image read without its pixels."""
    return _has_pixels(ds) or (_ROWS in ds and _COLUMNS in ds)


def _is_overlay_group(group: int) -> bool:
    return 0x6000 <= group <= 0x601E and group % 2 == 0


def _texts(ds: Dataset, keyword: str) -> list[str]:
    """The values of `keyword` as strings; an unreadable element reads as absent."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ds.get(keyword)
    except Exception:  # a malformed value must not stop the other checks
        return []
    if value is None:
        return []
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        values: list[object] = [value]
    else:
        values = list(value)
    return [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values]


def _first_text(ds: Dataset, keyword: str, missing: str = "") -> str:
    values = _texts(ds, keyword)
    return values[0] if values else missing


def _sequence(ds: Dataset, keyword: str) -> list[Dataset]:
    try:
        value = ds.get(keyword)
    except Exception:  # see _texts
        return []
    if value is None or isinstance(value, str | bytes):
        return []
    return [item for item in value if isinstance(item, Dataset)]
