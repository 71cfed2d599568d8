"""Burned-in text found by reading the pixels: optional OCR of kept images with Tesseract.

Appendix 3 of the AIDA data sharing policy excludes images that show identifying text, and
its CTPA example found "burned-in patient information" in images that said nothing about it
in their header. :mod:`aidahub.deid.pixels` excludes what the header gives away; this module
reads the pixels themselves. :meth:`BurnedInText.reason` runs the Tesseract OCR program
(Debian packages ``tesseract-ocr``, ``tesseract-ocr-eng`` and ``tesseract-ocr-swe``; no Python
binding, so :mod:`aidahub.deid` keeps its dependencies) on every frame of an image and on
every overlay plane, and returns ``"<code>: <text>"`` in the form of
:func:`aidahub.deid.pixels.exclusion_reason`:

``burned-in-text``
    The text read from a frame or an overlay contains one of the file's own header values
    (the patient's name, patient ID or personal number, birth date, accession number,
    institution name), or something the free-text detectors of :mod:`aidahub.deid.text` find
    (personal numbers, dates, phone numbers, e-mail and street addresses, identifiers named as
    such). The reason names what was found and where, never the value:
    ``"burned-in-text: OCR found the patient's name in frame 1"``.
``ocr-failed``
    Tesseract could not read the image: it timed out, failed, is not installed, or the
    pixels could not be decoded. An image OCR could not read has not been shown to be free
    of text, so this is a reason too; the caller decides whether it excludes the object or
    sends it for review. ``None`` means the text read matched nothing.

What is read
------------
Frames are decoded with the helpers of :mod:`aidahub.deid.pixels` (the stored values, never
modifying the caller's dataset). Each is turned into an 8-bit picture as a viewer would show
it: the Modality LUT (Rescale Slope and Intercept), then the first Window Center and Width,
or when there is none the 1st to 99th percentile, stretched to 0 - 255 (MONOCHROME1
inverted; colour reduced to luminance, YBR to its Y). Tesseract is then given the marks that
look like text, as black ink on white, twice: once the light marks (a morphological top-hat:
narrower than 7 pixels and at least :attr:`BurnedInText.min_contrast` grey levels brighter
than both their opening and the mean of the 21 x 21 pixels around them), once the dark ones
(the black-hat, for dark text on a light label). On the whole picture Tesseract's page
analysis drops text inside a label box as a picture region, reads image noise as letters,
and was trained on dark text on a light page; on the ink alone it does none of that, and no
inverted pass is needed. Small images are enlarged (x3 up to 400 pixels, x2 up to 1,024),
because text on a 512 x 512 CT is about 8 - 10 pixels high and Tesseract reads best at 20
or more. Overlay planes, in (60xx,3000) Overlay Data or in the unused high bits of the pixel
data at (60xx,0102) Overlay Bit Position, are read on their own, as black on white.

Pictures are stacked into one tall image up to :attr:`BurnedInText.pixels_per_call`
pixels, with a blank band between them, so a 100-frame object takes a handful of Tesseract
runs rather than a hundred; Tesseract's word boxes say which picture each word came from.
Reading stops at the first picture that matches.

Matching
--------
OCR text and header values are compared after case folding, removing diacritics and
collapsing whitespace; in runs of digits the usual misreadings ``O``/``o`` for ``0`` and
``l``/``I``/``|`` for ``1`` are undone. Name and institution words (at least
:attr:`BurnedInText.min_token_length` letters; particles such as *von* and generic words
such as *hospital* are skipped) match between non-letters, and words of six letters or more
anywhere, because OCR often reads the ``^`` of a DICOM name as a letter or drops it; words
of seven letters or more also with one letter misread or lost. Numbers
(at least :attr:`BurnedInText.min_digits` digits) match with or without separators; a
personal number with or without its century, a birth date as ``YYYYMMDD``, ``YYMMDD``,
``DDMMYYYY``, ``DDMMYY`` or ``MMDDYYYY`` with any separators; a value of ten digits or more
also with one digit misread (``6`` read as ``8``). The detectors of :func:`aidahub.deid.text.scrub`
run on the text as read and with the digit misreadings undone.

Limits: OCR misses small, faint (less contrast than ``min_contrast``), rotated or
stylised text, and strokes wider than 6 pixels (very large fonts). It reads strong image
texture, such as ultrasound speckle inside the sector, as short nonsense words now and then
(a match is then a false exclusion, never a leak). Handwriting and text in photographs are
beyond it. Images larger than 2,048 pixels are read scaled down to that, so text under
about 20 pixels high on a 3,000-pixel radiograph may be missed. Measured on one core with
the images of ``tests/deid/test_ocr.py``: about 0.08 s per 512 x 512 CT frame of a
multi-frame object, 0.25 - 0.3 s for a single CT image, 0.8 - 1.2 s for a 640 x 480
ultrasound frame with speckle, 1 s for a 3,000 x 2,500 radiograph. Review samples of the
output, as Appendix 3 advises.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import subprocess
import unicodedata
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from aidahub.deid.pixels import _frames, _Layout, _native_frames
from aidahub.deid.text import scrub

__all__ = [
    "DEFAULT_LANGUAGES",
    "ENV_VARIABLE",
    "FAILED_CODE",
    "MISSING_MESSAGE",
    "REASON_CODE",
    "REASONS",
    "BurnedInText",
    "HeaderValues",
    "OcrFailed",
    "find_tesseract",
    "tesseract_languages",
]

REASON_CODE: Final = "burned-in-text"
"""The reason code of an image whose OCR text matched."""

FAILED_CODE: Final = "ocr-failed"
"""The reason code of an image OCR could not read (see the module documentation)."""

REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        REASON_CODE: "OCR read identifying text in the pixels or an overlay.",
        FAILED_CODE: "OCR could not read the image, so it is not known to be free of text.",
    }
)
"""The reason codes of this module and a plain-English description of each, as
:data:`aidahub.deid.pixels.REASONS`."""

ENV_VARIABLE: Final = "AIDAHUB_TESSERACT"
"""The environment variable that names the Tesseract program to use."""

DEFAULT_LANGUAGES: Final = "eng+swe"
"""Tesseract languages to read with, as far as they are installed."""

MISSING_MESSAGE: Final = (
    "Tesseract OCR is not installed, so images are not checked for burned-in text. "
    "Install the Debian packages tesseract-ocr, tesseract-ocr-eng and tesseract-ocr-swe, "
    "or set AIDAHUB_TESSERACT to the tesseract program."
)
"""What to tell the user, once, when :attr:`BurnedInText.available` is false."""


class OcrFailed(Exception):
    """Tesseract could not read an image; the message is plain English and carries no data."""


def find_tesseract(
    binary: str | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """Return the path of the Tesseract program, or None if there is none.

    Parameters
    ----------
    binary : str, optional
        A program name or path to use instead of the default search.
    environ : Mapping[str, str], optional
        The environment to read :data:`ENV_VARIABLE` from; :data:`os.environ` unless given.

    Returns
    -------
    str or None
        `binary`, else the program named by :data:`ENV_VARIABLE`, else ``tesseract`` on the
        ``PATH``, resolved to an executable path; None when that is not an executable.
    """
    environ = os.environ if environ is None else environ
    name = binary or environ.get(ENV_VARIABLE) or "tesseract"
    return shutil.which(name)


def tesseract_languages(binary: str, timeout: float = 10.0) -> frozenset[str]:
    """Return the languages Tesseract has data for (``tesseract --list-langs``).

    Parameters
    ----------
    binary : str
        The Tesseract program.
    timeout : float, optional
        Seconds to wait for it.

    Returns
    -------
    frozenset of str
        Language codes such as ``eng`` and ``swe``; empty when the program cannot be run.
    """
    try:
        completed = subprocess.run(
            [binary, "--list-langs"], capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    if completed.returncode != 0:
        return frozenset()
    # The first line is a heading ("List of available languages in ..."); older versions
    # print it on stderr, so only lines that look like language codes are taken.
    lines = completed.stdout.decode("utf-8", "replace").splitlines()
    return frozenset(line.strip() for line in lines if _LANGUAGE_CODE.fullmatch(line.strip()))


_LANGUAGE_CODE: Final = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True)
class HeaderValues:
    """The file's own identifying values to look for in its pixels, read before de-identification.

    Each field holds the values as written in the header; the field says what they are, so
    a reason can name it without quoting it.

    Parameters
    ----------
    patient_name : tuple of str
        Person names (DICOM PN, ``Family^Given^Middle``, or free form).
    patient_id : tuple of str
        Patient IDs, personal identity numbers among them.
    birth_date : tuple of str
        Birth dates as DICOM DA (``YYYYMMDD``).
    accession_number : tuple of str
        Accession, request and examination numbers.
    institution : tuple of str
        Institution names.
    other : tuple of str
        Any other value; a plain sequence given to :meth:`BurnedInText.reason` lands here.
    """

    patient_name: tuple[str, ...] = ()
    patient_id: tuple[str, ...] = ()
    birth_date: tuple[str, ...] = ()
    accession_number: tuple[str, ...] = ()
    institution: tuple[str, ...] = ()
    other: tuple[str, ...] = ()

    @classmethod
    def from_dataset(cls, ds: Dataset) -> HeaderValues:
        """Read the values from an original (not yet de-identified) dataset.

        Parameters
        ----------
        ds : pydicom.dataset.Dataset
            The input as read; it is not modified.

        Returns
        -------
        HeaderValues
            Patient's Name and Other Patient Names; Patient ID and the IDs of Other Patient
            IDs Sequence; Patient's Birth Date; Accession Number; Institution Name.
        """
        other_ids = [
            value
            for item in _items(ds, "OtherPatientIDsSequence")
            for value in _values(item, "PatientID")
        ]
        return cls(
            patient_name=(*_values(ds, "PatientName"), *_values(ds, "OtherPatientNames")),
            patient_id=(*_values(ds, "PatientID"), *other_ids),
            birth_date=_values(ds, "PatientBirthDate"),
            accession_number=_values(ds, "AccessionNumber"),
            institution=_values(ds, "InstitutionName"),
        )


# What a reason says was found, by HeaderValues field and by text.py category.
_FIELD_LABELS: Final = {
    "patient_name": "the patient's name",
    "patient_id": "the patient ID",
    "birth_date": "the birth date",
    "accession_number": "the accession number",
    "institution": "the institution name",
    "other": "a value from the file's header",
}
_CATEGORY_LABELS: Final = {
    "personal number": "a personal identity number",
    "identifier": "an identifier",
    "e-mail": "an e-mail address",
    "phone": "a phone number",
    "date": "a date",
    "address": "an address",
    "name": "a name",
}


class BurnedInText:
    """OCR of kept images for burned-in identifying text, with settings fixed once.

    Make one per worker process: the constructor looks for Tesseract and its languages
    once, and :meth:`reason` then only runs it. When Tesseract is missing the object is
    still made, with :attr:`available` false and :attr:`message` saying what to install, so
    the caller can say so once and go on; :meth:`create` returns None instead.

    Parameters
    ----------
    binary : str, optional
        The Tesseract program; see :func:`find_tesseract`.
    languages : str, optional
        Tesseract languages joined by ``+``; those not installed are left out.
    min_token_length : int, optional
        Name and institution words shorter than this many letters are not looked for.
    min_digits : int, optional
        Numbers (IDs, accession numbers) with fewer digits are not looked for: a short
        number is as likely a slice or series number.
    timeout : float, optional
        Seconds one Tesseract run may take.
    pixels_per_call : int, optional
        Pictures are stacked into one image up to this many pixels per Tesseract run.
    min_contrast : int, optional
        Grey levels (of 255, after windowing) by which text must stand out from what
        surrounds it; fainter marks, such as image noise, are left out before OCR.
    environ : Mapping[str, str], optional
        The environment to find Tesseract in and to run it with; :data:`os.environ`
        unless given.
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        languages: str = DEFAULT_LANGUAGES,
        min_token_length: int = 3,
        min_digits: int = 5,
        timeout: float = 30.0,
        pixels_per_call: int = 8_000_000,
        min_contrast: int = 80,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = os.environ if environ is None else environ
        self.min_token_length = min_token_length
        self.min_digits = min_digits
        self.timeout = timeout
        self.pixels_per_call = pixels_per_call
        self.min_contrast = min_contrast
        # One thread per Tesseract run: the batch already runs a worker per core, and
        # OpenMP threads in each would only compete (Tesseract's own advice).
        self._environ = {**environ, "OMP_THREAD_LIMIT": "1"}
        self.binary = find_tesseract(binary, environ)
        installed = tesseract_languages(self.binary) if self.binary else frozenset()
        self.languages = "+".join(code for code in languages.split("+") if code in installed)
        self.available = bool(self.binary and self.languages)
        self.message: str | None = None
        if not self.binary:
            self.message = MISSING_MESSAGE
        elif not self.languages:
            self.message = (
                f"Tesseract OCR has no data for the languages {languages}, so images are "
                "not checked for burned-in text. Install the Debian packages "
                "tesseract-ocr-eng and tesseract-ocr-swe."
            )

    @classmethod
    def create(cls, binary: str | None = None, **settings: Any) -> BurnedInText | None:
        """Return a ready :class:`BurnedInText`, or None when Tesseract is not available.

        Parameters
        ----------
        binary : str, optional
            The Tesseract program; see :func:`find_tesseract`.
        **settings
            The keyword arguments of the constructor.

        Returns
        -------
        BurnedInText or None
        """
        checker = cls(binary, **settings)
        return checker if checker.available else None

    def reason(self, ds: Dataset, header_values: HeaderValues | Sequence[str] = ()) -> str | None:
        """Return why the pixels of `ds` show identifying text, or None if OCR found none.

        Parameters
        ----------
        ds : pydicom.dataset.Dataset
            The image, as read (its pixels are decoded from a private view; `ds` is not
            modified). The de-identified copy will do, as its pixels are the same bytes.
        header_values : HeaderValues or Sequence of str, optional
            The ORIGINAL identifying values of the file, read before de-identification
            (:meth:`HeaderValues.from_dataset`); plain strings are looked for as "a value
            from the file's header".

        Returns
        -------
        str or None
            ``"burned-in-text: OCR found <what> in <where>"``, ``"ocr-failed: <why>"``, or
            None. The text never quotes what was read.
        """
        if not self.available:
            return f"{FAILED_CODE}: Tesseract OCR is not available"
        matchers = _matchers(
            _as_header_values(header_values), self.min_token_length, self.min_digits
        )
        try:
            for label, text in self._read(ds):
                found = _match(text, matchers)
                if found:
                    return f"{REASON_CODE}: OCR found {_and(found)} in {label}"
        except OcrFailed as exc:
            return f"{FAILED_CODE}: {exc}"
        return None

    def read_text(self, ds: Dataset) -> list[tuple[str, str]]:
        """Return the text OCR reads in each frame and overlay of `ds`, for review.

        The text may hold identifiers: show it only where they may be seen.

        Parameters
        ----------
        ds : pydicom.dataset.Dataset
            The image; it is not modified.

        Returns
        -------
        list of (str, str)
            (where, text) pairs such as ``("frame 3", "...")``, in order: for each frame
            its light marks, then its dark marks, then each overlay plane; pictures
            without marks are left out.

        Raises
        ------
        OcrFailed
            When Tesseract is not available, fails or times out, or the pixels cannot be
            decoded.
        """
        if not self.available:
            raise OcrFailed("Tesseract OCR is not available")
        return list(self._read(ds))

    # Reading.

    def _read(self, ds: Dataset) -> Iterator[tuple[str, str]]:
        batch: list[_Picture] = []
        height = width = 0
        for picture in self._pictures(ds):
            rows, columns = picture.image.shape
            taller, wider = height + rows + _GAP, max(width, columns)
            if batch and (taller * wider > self.pixels_per_call or taller > _MAX_HEIGHT):
                yield from self._ocr(batch)
                batch, height, width = [], 0, 0
                taller, wider = rows + _GAP, columns
            batch.append(picture)
            height, width = taller, wider
        if batch:
            yield from self._ocr(batch)

    def _pictures(self, ds: Dataset) -> Iterator[_Picture]:
        """The pictures to read; blank ones (most dark-text pictures) are not sent."""
        for label, grey, is_ink in _greys(ds):
            if is_ink:  # an overlay plane: already black marks on white
                inks: tuple[npt.NDArray[np.uint8], ...] = (_resize(grey, _factor(grey)),)
            else:
                inks = _text_ink(grey, self.min_contrast)
            for ink in inks:
                if ink.size and int(ink.min()) < 128:
                    yield _Picture(label, ink)

    def _ocr(self, batch: list[_Picture]) -> Iterator[tuple[str, str]]:
        """Run Tesseract once on the pictures of `batch` stacked, and yield each one's text."""
        width = max(p.image.shape[1] for p in batch)
        bands: list[npt.NDArray[np.uint8]] = []
        tops: list[int] = []
        top = 0
        for picture in batch:
            tops.append(top)
            image = picture.image
            padded = np.full((image.shape[0] + _GAP, width), 255, dtype=np.uint8)
            padded[: image.shape[0], : image.shape[1]] = image
            bands.append(padded)
            top += padded.shape[0]
        buffer = io.BytesIO()
        Image.fromarray(np.concatenate(bands)).save(buffer, format="PNG", compress_level=1)
        words = self._tesseract(buffer.getvalue())
        lines: list[dict[tuple[int, int, int], list[str]]] = [{} for _ in batch]
        for word in words:
            index = int(np.searchsorted(tops, word.middle, side="right")) - 1
            lines[max(index, 0)].setdefault(word.line, []).append(word.text)
        for picture, picture_lines in zip(batch, lines, strict=True):
            yield picture.label, "\n".join(" ".join(w) for w in picture_lines.values())

    def _tesseract(self, png: bytes) -> list[_Word]:
        assert self.binary is not None  # checked by the callers through self.available
        command = [
            self.binary, "stdin", "stdout",
            "-l", self.languages,
            "--psm", "11",  # sparse text: labels scattered over an image, not a page
            "--dpi", "300",  # the enlarged pictures are about that; silences the estimate
            "tsv",
        ]  # fmt: skip
        try:
            completed = subprocess.run(
                command,
                input=png,
                capture_output=True,
                timeout=self.timeout,
                env=self._environ,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise OcrFailed(f"Tesseract took longer than {self.timeout:g} s") from None
        except OSError as exc:
            raise OcrFailed(f"Tesseract could not be started ({type(exc).__name__})") from None
        if completed.returncode != 0:
            # stderr is not quoted: a reason must carry nothing read from the image.
            raise OcrFailed(f"Tesseract failed with exit status {completed.returncode}")
        return _parse_tsv(completed.stdout.decode("utf-8", "replace"))


_GAP: Final = 48  # blank rows between stacked pictures, so no text line joins two of them
_MAX_SIDE: Final = 2048  # larger images are scaled down: their text is larger too
_MAX_HEIGHT: Final = 30000  # Tesseract refuses images over 32767 pixels high


@dataclass(frozen=True)
class _Picture:
    label: str
    image: npt.NDArray[np.uint8]  # black ink on white


@dataclass(frozen=True)
class _Word:
    line: tuple[int, int, int]  # block, paragraph, line
    middle: float
    text: str


def _parse_tsv(output: str) -> list[_Word]:
    """The words of Tesseract's TSV output (level 5 rows), with their line and height."""
    words: list[_Word] = []
    for row in output.splitlines()[1:]:
        fields = row.split("\t")
        if len(fields) < 12 or fields[0] != "5" or not fields[11].strip():
            continue
        try:
            block, paragraph, line = int(fields[2]), int(fields[3]), int(fields[4])
            middle = int(fields[7]) + int(fields[9]) / 2
        except ValueError:
            continue
        words.append(_Word((block, paragraph, line), middle, fields[11].strip()))
    return words


# Pictures for OCR.


def _greys(ds: Dataset) -> Iterator[tuple[str, npt.NDArray[np.uint8], bool]]:
    """8-bit grey pictures of every frame and overlay plane of `ds`: where, picture, and
    whether it is an overlay plane (black marks on white) rather than an image."""
    tags = list(ds.keys())
    overlay_groups = sorted({tag.group for tag in tags if _is_overlay_group(tag.group)})
    if _PIXEL_DATA_TAGS.intersection(tags):
        yield from _frame_greys(ds, overlay_groups)
    elif _ROWS in ds and _COLUMNS in ds:
        raise OcrFailed("the image has no pixel data to read (read without its pixels?)")
    for group in overlay_groups:
        yield from _overlay_greys(ds, group)


def _frame_greys(
    ds: Dataset, overlay_groups: list[int]
) -> Iterator[tuple[str, npt.NDArray[np.uint8], bool]]:
    try:
        layout = _Layout.of(ds)
        render = _Renderer(ds, layout)
        # Overlays kept in unused high bits (PS3.5 8.1.2): groups without Overlay Data.
        in_bits = [
            (group, _int(ds, Tag(group, 0x0102)))
            for group in overlay_groups
            if Tag(group, 0x3000) not in ds and Tag(group, 0x0102) in ds
        ]
        wanted = range(layout.frames)
        native = _native_frames(ds, layout, wanted)
        frames = native if native is not None else _frames(ds, wanted)
        for index, frame in frames:
            yield f"frame {index + 1}", render(layout.stored_values(frame)), False
            if layout.integer:
                pattern = frame.astype(np.int64) & ((1 << layout.bits_allocated) - 1)
                for group, bit in in_bits:
                    if bit is not None and layout.high_bit < bit < layout.bits_allocated:
                        plane = ((pattern >> bit) & 1).astype(bool)
                        if plane.ndim == 2:
                            where = f"overlay {group:04X} of frame {index + 1}"
                            yield where, _ink(plane), True
    except OcrFailed:
        raise
    except Exception as exc:  # decoder errors vary by plugin
        raise OcrFailed(
            f"the pixel data could not be decoded for OCR ({type(exc).__name__})"
        ) from None


def _overlay_greys(ds: Dataset, group: int) -> Iterator[tuple[str, npt.NDArray[np.uint8], bool]]:
    """The planes of (group,3000) Overlay Data (PS3.3 C.9.2), read on their own."""
    element = ds.get_item(Tag(group, 0x3000))
    if element is None:
        return
    rows, columns = _int(ds, Tag(group, 0x0010)), _int(ds, Tag(group, 0x0011))
    count = _int(ds, Tag(group, 0x0015)) or 1
    value = element.value
    if not rows or not columns or not isinstance(value, bytes):
        raise OcrFailed(f"overlay {group:04X} could not be read for OCR")
    data = np.frombuffer(value, dtype=np.uint8)
    if ds.original_encoding[1] is False and element.VR == "OW" and data.size % 2 == 0:
        data = data.view(">u2").astype("<u2").view(np.uint8)  # words as little-endian bytes
    # Overlay Data is a bit stream, least significant bit first, frames not padded apart.
    bits = np.unpackbits(data, bitorder="little")
    count = min(count, bits.size // (rows * columns))
    planes = bits[: count * rows * columns].reshape(count, rows, columns).astype(bool)
    for index, plane in enumerate(planes):
        where = f"overlay {group:04X}" + (f", frame {index + 1}" if count > 1 else "")
        yield where, _ink(plane), True


class _Renderer:
    """Stored values of one image pixel module to 8-bit grey, as a viewer would show them."""

    def __init__(self, ds: Dataset, layout: _Layout) -> None:
        self.samples = layout.samples
        self.photometric = str(ds.get("PhotometricInterpretation", "") or "").upper().strip()
        self.slope = _float(ds, "RescaleSlope", 1.0)
        self.intercept = _float(ds, "RescaleIntercept", 0.0)
        center, width = _float(ds, "WindowCenter"), _float(ds, "WindowWidth")
        self.window = (center - width / 2, center + width / 2) if width > 0 else None
        self.bits = layout.high_bit + 1 if layout.integer else 0

    def __call__(self, values: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
        if self.samples > 1 or values.ndim == 3:
            return self._colour(values)
        real = values.astype(np.float32) * self.slope + self.intercept
        real = np.nan_to_num(real)
        if self.window is not None:
            low, high = self.window
        else:
            low, high = (float(v) for v in np.percentile(real[::2, ::2], (1, 99)))
        if high <= low:
            low, high = float(real.min()), float(real.max())
        grey = _stretch(real, low, high)
        return 255 - grey if self.photometric == "MONOCHROME1" else grey

    def _colour(self, values: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
        real = values.astype(np.float32)
        if self.photometric.startswith("YBR"):
            luma = real[..., 0]  # decoded raw: Y is the luminance already
        else:
            luma = real[..., 0] * 0.299 + real[..., 1] * 0.587 + real[..., 2] * 0.114
        top = float((1 << self.bits) - 1) if self.bits else float(luma.max())
        return _stretch(luma, 0.0, top if top > 0 else 1.0)


def _stretch(values: npt.NDArray[np.float32], low: float, high: float) -> npt.NDArray[np.uint8]:
    span = high - low if high > low else 1.0
    grey: npt.NDArray[np.uint8] = np.clip((values - low) * (255.0 / span), 0, 255).astype(np.uint8)
    return grey


def _ink(plane: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint8]:
    """A bit plane as black ink on white paper."""
    return np.where(plane, 0, 255).astype(np.uint8)


def _factor(grey: npt.NDArray[np.uint8]) -> float:
    """The scale at which text a few pixels high reaches the 20 or so Tesseract reads best."""
    side = int(max(grey.shape))
    if side <= 400:
        return 3.0
    if side <= 1024:
        return 2.0
    return min(1.0, _MAX_SIDE / side)


def _resize(grey: npt.NDArray[np.uint8], factor: float) -> npt.NDArray[np.uint8]:
    if factor == 1.0 or grey.size == 0:
        return grey
    height, width = grey.shape
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    resized = Image.fromarray(grey).resize(size, Image.Resampling.BICUBIC)
    return np.asarray(resized, dtype=np.uint8)


def _text_ink(grey: npt.NDArray[np.uint8], min_contrast: int) -> tuple[npt.NDArray[np.uint8], ...]:
    """Light marks and dark marks of `grey`, each as black ink on white paper.

    A morphological top-hat (the picture less its opening) keeps what is brighter than its
    surroundings and narrower than the structuring element: the strokes of text, not the
    body, a label box or its edges. The black-hat (the closing less the picture) does the
    same for dark text on a light label. Tesseract's page analysis drops text inside a box
    as a picture region, and reads noise as letters, slowly; on the ink alone it does
    neither, and no inverted pass is needed. Marks weaker than `min_contrast` are noise.
    """
    factor = _factor(grey)
    # The top-hats at the smaller of the two sizes: a quarter of the work when enlarging,
    # and the structuring element keeps its size relative to the text.
    picture = _resize(grey, factor) if factor < 1.0 else grey
    values = picture.astype(np.int16)
    opened = _rank(_rank(values, _SIZE, np.minimum), _SIZE, np.maximum)
    closed = _rank(_rank(values, _SIZE, np.maximum), _SIZE, np.minimum)
    # The top-hat of light text also holds the gaps between dark letters, and the black-hat
    # of light text the holes in its letters, which OCR reads as nonsense words (or a short
    # name). Text is a minority of its neighbourhood, its gaps are not: a mark counts only
    # where it also stands out from the mean around it.
    around = _box_mean(values, _AROUND)
    light = _ink((values - opened >= min_contrast) & (values - around >= min_contrast))
    dark = _ink((closed - values >= min_contrast) & (around - values >= min_contrast))
    if factor > 1.0:
        light, dark = _resize(light, factor), _resize(dark, factor)
    return light, dark


_SIZE: Final = 7  # the structuring element: strokes up to 6 pixels wide are text
_AROUND: Final = 21  # the neighbourhood of a mark: a line of text at 512 x 512 and more


def _box_mean(values: npt.NDArray[np.int16], size: int) -> npt.NDArray[np.float32]:
    """The mean of each `size` x `size` neighbourhood (edges repeated), by summed areas."""
    half = size // 2
    padded = np.pad(values.astype(np.float32), half + 1, mode="edge")
    sums = padded.cumsum(axis=0).cumsum(axis=1)
    rows, columns = values.shape
    total = (
        sums[size : size + rows, size : size + columns]
        - sums[:rows, size : size + columns]
        - sums[size : size + rows, :columns]
        + sums[:rows, :columns]
    )
    mean: npt.NDArray[np.float32] = total / np.float32(size * size)
    return mean


def _rank(values: npt.NDArray[np.int16], size: int, pick: np.ufunc) -> npt.NDArray[np.int16]:
    """Erosion (`pick` = minimum) or dilation (maximum) by a `size` x `size` square.

    A square is separable: a pass along rows, then along columns, each ``size`` whole-array
    operations, instead of ``size**2`` per pixel in a rank filter.
    """
    half = size // 2
    result = values
    for _ in range(2):  # along columns, transpose, along rows, transpose back
        rows = result.shape[0]
        padded = np.pad(result, ((half, half), (0, 0)), mode="edge")
        out = padded[:rows].copy()
        for shift in range(1, size):
            pick(out, padded[shift : shift + rows], out=out)
        result = out.T
    return result


# Matching.


@dataclass(frozen=True)
class _Matchers:
    # (what it is, pattern on the folded text)
    patterns: tuple[tuple[str, re.Pattern[str]], ...]


def _as_header_values(values: HeaderValues | Sequence[str]) -> HeaderValues:
    if isinstance(values, HeaderValues):
        return values
    if isinstance(values, str):
        return HeaderValues(other=(values,))
    return HeaderValues(other=tuple(str(value) for value in values))


@functools.lru_cache(maxsize=256)
def _matchers(values: HeaderValues, min_letters: int, min_digits: int) -> _Matchers:
    """The patterns for one file's header values; cached, as a series shares them."""
    patterns: list[tuple[str, re.Pattern[str]]] = []
    for field_name, label in _FIELD_LABELS.items():
        sources: tuple[str, ...] = getattr(values, field_name)
        for source in sources:
            for pattern in _value_patterns(source, min_letters, min_digits):
                patterns.append((label, pattern))
    unique = {(label, pattern.pattern): (label, pattern) for label, pattern in patterns}
    return _Matchers(tuple(unique.values()))


def _value_patterns(value: str, min_letters: int, min_digits: int) -> Iterator[re.Pattern[str]]:
    folded = _fold(value)
    for number in _numbers(folded, min_digits):
        yield _number_pattern(number)
    for word in re.split(r"[^a-z0-9]+", folded):
        letters = sum(char.isalpha() for char in word)
        if not word.isalpha() or letters < min_letters or word in _SKIPPED_WORDS:
            continue
        if len(word) >= _FUZZY_LETTERS:
            # One letter misread or lost ("I indqvist") still names the patient.
            forms = [
                re.escape(word[:i]) + ".?" + re.escape(word[i + 1 :]) for i in range(len(word))
            ]
            yield re.compile("|".join(forms))
        elif len(word) >= _ANYWHERE_LETTERS:
            yield re.compile(re.escape(word))
        else:
            yield re.compile(rf"(?<![a-z]){re.escape(word)}(?![a-z])")


_ANYWHERE_LETTERS: Final = 6
_FUZZY_LETTERS: Final = 7
_SKIPPED_WORDS: Final = frozenset(
    {
        # name particles
        "af", "av", "da", "de", "del", "della", "den", "der", "di", "du", "el", "la", "le",
        "van", "von", "zu", "ten", "ter", "bin", "ibn", "al",
        # generic words of institution names, which alone name no one
        "the", "and", "och", "for", "of", "hospital", "sjukhus", "sjukhuset", "university",
        "universitet", "universitetssjukhus", "universitetssjukhuset", "lasarett",
        "lasarettet", "klinik", "kliniken", "clinic", "medical", "center", "centre",
        "centrum", "region", "radiology", "radiologi", "rontgen", "imaging", "vard",
    }
)  # fmt: skip


def _numbers(folded: str, min_digits: int) -> list[str]:
    """The alphanumeric strings to look for in a value: itself, and its personal-number
    and date variants."""
    compact = re.sub(r"[^a-z0-9]", "", folded)
    if sum(char.isdigit() for char in compact) < min_digits:
        return []
    found = [compact]
    personal = re.fullmatch(r"(18|19|20)?(\d{6})[-+]?(\d{4})", folded.strip())
    if personal:
        century = personal.group(1)
        short = personal.group(2) + personal.group(3)
        found.append(short)
        if century is None:
            found.extend(f"{c}{short}" for c in ("19", "20"))
    if re.fullmatch(r"\d{8}", compact):
        year, month, day = compact[:4], compact[4:6], compact[6:]
        if _is_date(int(year), int(month), int(day)):
            found += [year[2:] + month + day, day + month + year, day + month + year[2:]]
            found.append(month + day + year)
    return list(dict.fromkeys(n for n in found if sum(c.isdigit() for c in n) >= min_digits))


def _number_pattern(number: str) -> re.Pattern[str]:
    """Match `number` with any separators between its characters, and a long number with
    one digit misread too."""
    separator = r"[\s\-./:,+]{0,3}"
    alternatives = [separator.join(re.escape(c) for c in number)]
    if len(number) >= _FUZZY_DIGITS and number.isdigit():
        for position in range(len(number)):
            chars = [re.escape(c) for c in number]
            chars[position] = r"\d"
            alternatives.append(separator.join(chars))
    body = "|".join(alternatives)
    if len(number) >= 8:
        return re.compile(f"(?:{body})")  # long: inside a longer number still gives it away
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


_FUZZY_DIGITS: Final = 10


def _match(text: str, matchers: _Matchers) -> list[str]:
    """What the OCR `text` gives away: labels of header values, then of text.py finds."""
    if not text.strip():
        return []
    folded = _undo_digit_misreadings(_fold(text))
    found = [label for label, pattern in matchers.patterns if pattern.search(folded)]
    # The detectors want the text as written (case, separators); with misreadings undone
    # in a copy, so "l9560314-2386" counts too.
    fixed = _DIGITISH.sub(_digits, text)
    for category in (*scrub(text).found, *scrub(fixed).found):
        found.append(_CATEGORY_LABELS.get(category, "an identifier"))
    return list(dict.fromkeys(found))


_DIGITISH: Final = re.compile(r"[0-9OoIl|]+")
_MISREAD_DIGITS: Final = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "i": "1"})


def _digits(match: re.Match[str]) -> str:
    run = match.group()
    # Only a run that is mostly digits is a misread number: "Oil" stays a word.
    if sum(char.isdigit() for char in run) * 2 > len(run):
        return run.translate(_MISREAD_DIGITS)
    return run


def _undo_digit_misreadings(folded: str) -> str:
    return _DIGITISH_FOLDED.sub(_digits, folded)


_DIGITISH_FOLDED: Final = re.compile(r"[0-9oil|]+")

_FOLDS: Final = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ß": "ss"})


def _fold(text: str) -> str:
    """Case-folded, without diacritics, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLDS))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.split())


def _and(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


# Reading header values without trusting them.

_ROWS: Final = Tag(0x0028, 0x0010)
_COLUMNS: Final = Tag(0x0028, 0x0011)
_PIXEL_DATA_TAGS: Final = frozenset({Tag(0x7FE0, 0x0010), Tag(0x7FE0, 0x0008), Tag(0x7FE0, 0x0009)})


def _is_overlay_group(group: int) -> bool:
    return 0x6000 <= group <= 0x601E and group % 2 == 0


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _values(ds: Dataset, keyword: str) -> tuple[str, ...]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ds.get(keyword)
    except Exception:  # a malformed value reads as absent
        return ()
    if value is None or value == "":
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        items: list[object] = [value]
    else:
        items = list(value)
    texts = (v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in items)
    return tuple(text for text in texts if text.strip())


def _items(ds: Dataset, keyword: str) -> list[Dataset]:
    try:
        value = ds.get(keyword)
    except Exception:  # see _values
        return []
    if value is None or isinstance(value, str | bytes):
        return []
    return [item for item in value if isinstance(item, Dataset)]


def _int(ds: Dataset, tag: Any) -> int | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ds[tag].value if tag in ds else None
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            value = value[0] if value else None
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError, IndexError, KeyError):
        return None


def _float(ds: Dataset, keyword: str, missing: float = 0.0) -> float:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ds.get(keyword)
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            value = value[0] if value else None
        return missing if value is None or value == "" else float(value)
    except (TypeError, ValueError, IndexError):
        return missing
