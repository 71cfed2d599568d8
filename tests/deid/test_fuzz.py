"""Fuzzing: damaged files are written without a planted value, excluded or quarantined.

Issue 4, "Robustness": "A fuzz test mutates valid files and asserts the engine either
produces output that leaks none of the planted values or quarantines the file." Each
example takes one file of the planted corpus (:func:`tests.deid.planted.make_corpus`),
applies a few mutations to its bytes, and runs it through :func:`aidahub.deid.batch.run`
the way ``aidahub deid run`` does, alone in its input folder. The run must return, the file
must end up written, excluded or quarantined, and a written file must hold none of the
planted values in any form (:func:`tests.deid.leaks.find_leaks`).

The mutations know the file's layout (element headers, value lengths, VRs and where the
Pixel Data starts), so most of them hit the structure rather than the pixels: bytes
flipped or overwritten, the file cut short, byte ranges duplicated or deleted, length
fields and VRs changed, garbage elements inserted, whole elements copied elsewhere.
Deflated files are mutated inflated and deflated again, so the damage reaches the
dataset. Bytes are only ever copied from the same file or made up, never planted into
pixel values: kept pixel data is written byte for byte by design (``docs/deid.md``).

The examples are derandomized, so every run (and CI) tries the same files.
"""

from __future__ import annotations

import inspect
import re
import shutil
import struct
import tempfile
import unicodedata
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.datadict import dictionary_has_tag, dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian

from aidahub.deid import batch
from aidahub.deid.engine import DamagedElementError, deidentify
from aidahub.deid.keys import key_from_secret
from aidahub.deid.profile import PROFILE_NAMES, load_profile
from tests.deid.leaks import Leak, find_leaks
from tests.deid.planted import CATEGORY_KINDS, Planted, make_corpus

KEY = key_from_secret(b"aidahub fuzz test key, 32 bytes!")
OUTCOMES = {"written", "excluded", "quarantined"}
EXAMPLES = 400
"""About 40 ms each: the whole test takes well under a minute."""

_LONG_VRS = (b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UR", b"UT", b"UN")
_SHORT_VRS = (
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT",
    b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
)  # fmt: skip
_BAD_VRS = (b"\x00\x00", b"  ", b"ZZ", b"ob", b"\xff\xff")
_PIXEL_DATA = 0x7FE00010


# -- the layout of a file -----------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """Where one element's parts are in the mutated bytes."""

    start: int  # first byte of the tag
    value: int  # first byte of the value
    end: int  # one past the value (the value's start for undefined lengths)
    length_at: int  # the length field
    length_size: int  # 2 or 4 bytes
    vr_at: int | None  # the VR bytes, None in implicit VR


@dataclass(frozen=True)
class Layout:
    """A corpus file as the mutations see it.

    For a deflated file ``data`` holds the file meta and the inflated dataset, which is
    deflated again from ``deflate_from`` on once mutated.
    """

    name: str
    data: bytes
    elements: tuple[Element, ...]
    header_end: int  # where Pixel Data's value starts, or the end
    deflate_from: int | None = None

    def encode(self, data: bytes) -> bytes:
        if self.deflate_from is None or len(data) <= self.deflate_from:
            return data
        packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        body = packer.compress(data[self.deflate_from :]) + packer.flush()
        return data[: self.deflate_from] + body


def _meta_elements(data: bytes) -> tuple[list[Element], int]:
    """The file meta elements (explicit VR little endian from byte 132) and their end."""
    found, at = [], 132
    while data[at : at + 2] == b"\x02\x00":
        vr = data[at + 4 : at + 6]
        if vr in _LONG_VRS:
            length = struct.unpack_from("<I", data, at + 8)[0]
            element = Element(at, at + 12, at + 12 + length, at + 8, 4, at + 4)
        else:
            length = struct.unpack_from("<H", data, at + 6)[0]
            element = Element(at, at + 8, at + 8 + length, at + 6, 2, at + 4)
        found.append(element)
        at = element.end
    return found, at


def _dataset_elements(ds: Dataset, base: int, implicit: bool) -> list[Element]:
    """Every element's position, at any depth, from pydicom's raw elements."""
    found: list[Element] = []
    for tag in list(ds.keys()):
        raw = ds.get_item(tag)
        if not isinstance(raw, RawDataElement) or raw.value_tell is None:
            continue
        vr = raw.VR
        undefined = raw.length == 0xFFFFFFFF
        if implicit:
            header, length_at, size, vr_at = 8, 4, 4, None
        elif vr is not None and vr.encode() in _LONG_VRS:
            header, length_at, size, vr_at = 12, 8, 4, 4
        else:
            header, length_at, size, vr_at = 8, 6, 2, 4
        start = base + raw.value_tell - header
        value = base + raw.value_tell
        end = value if undefined else value + raw.length
        found.append(
            Element(start, value, end, start + length_at, size, None if implicit else start + vr_at)
        )
        if ds[tag].VR == "SQ":
            # pydicom reads items from the sequence's value alone: positions in them
            # count from the start of that value.
            for item in ds[tag].value or []:
                found += _dataset_elements(item, value, implicit)
    return found


def layout(name: str, path: Path) -> Layout:
    """Read a corpus file's layout (a valid file: pydicom reads it without complaint)."""
    raw = path.read_bytes()
    meta, meta_end = _meta_elements(raw)
    ds = pydicom.dcmread(BytesIO(raw), defer_size=None)
    deflated = ds.file_meta.TransferSyntaxUID == DeflatedExplicitVRLittleEndian
    data = raw
    if deflated:
        data = raw[:meta_end] + zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw[meta_end:])
    implicit = bool(ds.original_encoding[0])
    # pydicom gives value positions in the dataset stream, which starts after the meta
    # only for a deflated file (it reads the inflated bytes from their own buffer).
    base = meta_end if deflated else 0
    pixel = ds.get_item(_PIXEL_DATA)
    header_end = len(data)
    if isinstance(pixel, RawDataElement) and pixel.value_tell is not None:
        header_end = base + pixel.value_tell
    elements = meta + _dataset_elements(ds, base, implicit)
    elements.sort(key=lambda e: e.start)
    return Layout(name, data, tuple(elements), header_end, meta_end if deflated else None)


# -- mutations ----------------------------------------------------------------------------


def _at(offset: int, size: int) -> int:
    return offset % max(size, 1)


@dataclass(frozen=True)
class Flip:
    """Flip one bit, in the header (elements) or anywhere."""

    offset: int
    bit: int
    header: bool

    def apply(self, data: bytes, file: Layout) -> bytes:
        at = _at(self.offset, file.header_end if self.header else len(data))
        if at >= len(data):
            return data
        return data[:at] + bytes([data[at] ^ (1 << self.bit)]) + data[at + 1 :]


@dataclass(frozen=True)
class Overwrite:
    """Overwrite a few bytes with made-up ones."""

    offset: int
    junk: bytes
    header: bool

    def apply(self, data: bytes, file: Layout) -> bytes:
        at = _at(self.offset, file.header_end if self.header else len(data))
        return data[:at] + self.junk + data[at + len(self.junk) :]


@dataclass(frozen=True)
class Truncate:
    """Cut the file short."""

    offset: int

    def apply(self, data: bytes, file: Layout) -> bytes:
        return data[: _at(self.offset, len(data))]


@dataclass(frozen=True)
class Duplicate:
    """Copy a byte range of the file to an element boundary (or anywhere in the header)."""

    start: int
    size: int
    element: int
    boundary: bool

    def apply(self, data: bytes, file: Layout) -> bytes:
        start = _at(self.start, file.header_end)
        chunk = data[start : start + self.size]
        at = _boundary(file, self.element) if self.boundary else _at(self.element, file.header_end)
        return data[:at] + chunk + data[at:]


@dataclass(frozen=True)
class Delete:
    """Delete a byte range, in the header or anywhere."""

    start: int
    size: int
    header: bool

    def apply(self, data: bytes, file: Layout) -> bytes:
        at = _at(self.start, file.header_end if self.header else len(data))
        return data[:at] + data[at + self.size :]


@dataclass(frozen=True)
class Length:
    """Change an element's length field: off by a few, odd, zero, undefined, huge, or
    swallowing the elements after it."""

    element: int
    how: str
    amount: int

    def apply(self, data: bytes, file: Layout) -> bytes:
        element = file.elements[_at(self.element, len(file.elements))]
        current = element.end - element.value
        if self.how == "delta":
            new = current + self.amount
        elif self.how == "swallow":
            following = [e for e in file.elements if e.start >= element.end]
            reach = following[min(abs(self.amount), len(following) - 1)] if following else None
            new = (reach.end if reach is not None else len(data)) - element.value
        elif self.how == "undefined":
            new = 0xFFFFFFFF
        else:
            new = self.amount
        new %= 1 << (8 * element.length_size)
        field = new.to_bytes(element.length_size, "little")
        at = element.length_at
        return data[:at] + field + data[at + element.length_size :]


@dataclass(frozen=True)
class ChangeVR:
    """Give an element another VR (explicit VR files only)."""

    element: int
    vr: bytes

    def apply(self, data: bytes, file: Layout) -> bytes:
        element = file.elements[_at(self.element, len(file.elements))]
        if element.vr_at is None:
            return data
        return data[: element.vr_at] + self.vr + data[element.vr_at + 2 :]


@dataclass(frozen=True)
class Insert:
    """Insert a made-up element at an element boundary."""

    element: int
    tag: int
    vr: bytes
    value: bytes

    def apply(self, data: bytes, file: Layout) -> bytes:
        header = struct.pack("<HH", self.tag >> 16, self.tag & 0xFFFF)
        implicit = file.elements and file.elements[-1].vr_at is None
        if implicit:
            header += struct.pack("<I", len(self.value))
        elif self.vr in _LONG_VRS:
            header += self.vr + b"\x00\x00" + struct.pack("<I", len(self.value))
        else:
            header += self.vr + struct.pack("<H", len(self.value) & 0xFFFF)
        at = _boundary(file, self.element)
        return data[:at] + header + self.value + data[at:]


@dataclass(frozen=True)
class Transplant:
    """Copy a whole element (header and value) to another element boundary: identifiers
    then turn up in sequence items, out of order, twice, or in another group's place."""

    source: int
    target: int

    def apply(self, data: bytes, file: Layout) -> bytes:
        element = file.elements[_at(self.source, len(file.elements))]
        if element.end > file.header_end:
            return data  # Pixel Data's value is bulk; copying it says nothing new
        chunk = data[element.start : element.end]
        at = _boundary(file, self.target)
        return data[:at] + chunk + data[at:]


def _boundary(file: Layout, index: int) -> int:
    """The start of an element, or the end of the file (never inside Pixel Data)."""
    starts = [e.start for e in file.elements if e.start <= file.header_end] + [len(file.data)]
    return starts[_at(index, len(starts))]


Mutation = (
    Flip | Overwrite | Truncate | Duplicate | Delete | Length | ChangeVR | Insert | Transplant
)

_index = st.integers(min_value=0, max_value=1 << 20)
_interesting_tags = st.sampled_from(
    [
        0x00100010,  # Patient's Name
        0x00100020,  # Patient ID
        0x00080018,  # SOP Instance UID
        0x00081140,  # Referenced Image Sequence
        0x0040A730,  # Content Sequence
        0x00280010,  # Rows
        0x7FE00010,  # Pixel Data
        0x00020010,  # Transfer Syntax UID
        0x00090010,  # a private creator
        0x00091001,  # a private element without a creator
        0xFFFEE000,  # Item
        0xFFFEE00D,  # Item Delimitation
        0xFFFEE0DD,  # Sequence Delimitation
    ]
)
_vr = st.sampled_from(_SHORT_VRS + _LONG_VRS + _BAD_VRS)

mutations = st.one_of(
    st.builds(Flip, _index, st.integers(0, 7), st.booleans()),
    st.builds(Overwrite, _index, st.binary(min_size=1, max_size=8), st.booleans()),
    st.builds(Truncate, _index),
    st.builds(Duplicate, _index, st.integers(1, 96), _index, st.booleans()),
    st.builds(Delete, _index, st.integers(1, 64), st.booleans()),
    st.builds(
        Length,
        _index,
        st.sampled_from(["delta", "swallow", "undefined", "set"]),
        st.one_of(
            st.integers(-4, 4),
            st.integers(0, 6),
            st.sampled_from([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFE]),
        ),
    ),
    st.builds(ChangeVR, _index, _vr),
    st.builds(
        Insert,
        _index,
        st.one_of(_interesting_tags, st.integers(0, 0xFFFFFFFF)),
        _vr,
        st.binary(max_size=24),
    ),
    st.builds(Transplant, _index, _index),
)


# -- the test -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    planted: Planted
    files: tuple[Layout, ...]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """The planted corpus, made once, and the layout of every file of it."""
    planted = make_corpus(tmp_path_factory.mktemp("fuzz-corpus") / "in", seed=0)
    files = tuple(layout(role, path) for role, path in sorted(planted.files.items()))
    return Corpus(planted, files)


def run_one(data: bytes, level: str) -> tuple[batch.FileOutcome, Path, Path]:
    """Run ``aidahub deid run``'s batch on a folder holding only *data*; return the outcome,
    the output folder and the scratch folder (to delete)."""
    scratch = Path(tempfile.mkdtemp(prefix="aidahub-fuzz-"))
    source = scratch / "in"
    source.mkdir()
    (source / "file.dcm").write_bytes(data)
    options = {"workers": 1} if "workers" in inspect.signature(batch.run).parameters else {}
    try:
        summary = batch.run(
            source, scratch / "out", profile=load_profile(level), key=KEY, **options
        )
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    assert len(summary.files) == 1
    return summary.files[0], scratch / "out", scratch


def check(corpus: Corpus, data: bytes, level: str) -> str:
    """Assert the fuzz property for one mutated file; return its outcome and reason."""
    outcome, out, scratch = run_one(data, level)
    try:
        assert outcome.outcome in OUTCOMES, outcome
        assert outcome.outcome != "quarantined" or outcome.reason, outcome
        written = sorted(out.rglob("*.dcm"))
        if outcome.outcome == "written":
            assert outcome.output is not None and outcome.output.exists()
            assert written == [outcome.output]
            leaks = [leak for leak in find_leaks(out, corpus.planted) if not renamed(leak, data)]
            assert leaks == [], "\n".join(str(leak) for leak in leaks[:10])
        else:
            assert written == [], outcome
        return f"{outcome.outcome} {outcome.reason.split(':', 1)[0]}".strip()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


_PERSON = frozenset(c for c, kind in CATEGORY_KINDS.items() if kind == "person")
_WORD = re.compile(r"[^\W\d_]{3,}")


def _folded_words(text: str) -> set[str]:
    plain = unicodedata.normalize("NFKD", text.casefold())
    return set(_WORD.findall("".join(c for c in plain if not unicodedata.combining(c))))


def renamed(leak: Leak, data: bytes) -> bool:
    """Whether a leaked name is one the mutated file no longer gives in any person name.

    Free text loses "the names and initials found in the same file's person-name
    elements" (docs/deid.md): when a mutation rewrites the bytes of Patient's Name, the
    file names someone else, and a description that still holds the old name holds a name
    no de-identifier of this design can know. Names the file still gives must go, and a
    file without Patient's Name must keep no free text at all.
    """
    if leak.category not in _PERSON:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(BytesIO(data), force=True)  # the batch read it: so can we
        if "PatientName" not in ds:
            return False
        given = _names_in(ds)
    return not _folded_words(leak.form) <= given


def _names_in(ds: Dataset) -> set[str]:
    words: set[str] = set()
    for tag in list(ds.keys()):
        try:
            element = ds[tag]
            if element.VR == "PN" or (dictionary_has_tag(tag) and dictionary_VR(tag) == "PN"):
                words |= _folded_words(str(element.value))
            elif element.VR == "SQ":
                for item in element.value or []:
                    words |= _names_in(item)
        except Exception:  # noqa: BLE001, S112 - what cannot be read names no one
            continue
    return words


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    which=st.integers(min_value=0, max_value=1 << 16),
    level=st.sampled_from(PROFILE_NAMES),
    changes=st.lists(mutations, min_size=1, max_size=4),
)
def test_a_damaged_file_is_written_clean_excluded_or_quarantined(
    corpus: Corpus, which: int, level: str, changes: list[Mutation]
) -> None:
    file = corpus.files[which % len(corpus.files)]
    data = file.data
    for change in changes:
        data = change.apply(data, file)
    check(corpus, file.encode(data), level)


@pytest.mark.parametrize("level", PROFILE_NAMES)
def test_every_unmutated_corpus_file_is_written_clean_or_excluded(
    corpus: Corpus, level: str
) -> None:
    """The baseline: the mutations start from files the batch handles cleanly."""
    for file in corpus.files:
        result = check(corpus, file.encode(file.data), level)
        assert result.split()[0] in {"written", "excluded"}, (file.name, result)


# -- what the fuzzing found -----------------------------------------------------------------


def _file(corpus: Corpus, role: str) -> Layout:
    return next(file for file in corpus.files if file.name == role)


def _element(file: Layout, tag: int, nth: int = 0) -> int:
    """The index in ``file.elements`` of the *nth* element with *tag*."""
    found = [
        i
        for i, e in enumerate(file.elements)
        if struct.unpack_from("<HH", file.data, e.start) == (tag >> 16, tag & 0xFFFF)
    ]
    return found[nth]


def _mutated(corpus: Corpus, role: str, *changes: Mutation) -> bytes:
    file = _file(corpus, role)
    data = file.data
    for change in changes:
        data = change.apply(data, file)
    return file.encode(data)


_SOP_INSTANCE_UID = 0x00080018
_SERIES_INSTANCE_UID = 0x0020000E
_STUDY_DESCRIPTION = 0x00081030
_IMAGE_TYPE = 0x00080008
_PATIENT_NAME = 0x00100010
_REFERENCED_IMAGE_SEQUENCE = 0x00081140
_TRANSFER_SYNTAX_UID = 0x00020010


@pytest.mark.parametrize(
    ("role", "level", "changes", "expected"),
    [
        pytest.param(
            "ct1_1", "images-only", lambda f: [ChangeVR(_element(f, _SOP_INSTANCE_UID), b"CS")],
            "written", id="a UID the file calls CS is still remapped",
        ),
        pytest.param(
            "ct1_1", "exam-type", lambda f: [ChangeVR(_element(f, _STUDY_DESCRIPTION), b"CS")],
            "written", id="a description the file calls CS is still scrubbed",
        ),
        pytest.param(
            "ct1_1", "images-only", lambda f: [Length(_element(f, _IMAGE_TYPE), "swallow", 3)],
            "quarantined damaged",
            id="a kept value that swallowed the next elements",
        ),
        pytest.param(
            "no_manufacturer", "scanner",
            lambda f: [ChangeVR(_element(f, _SERIES_INSTANCE_UID), b"UC")],
            "quarantined damaged",
            id="a UID whose long VR swallowed the patient module",
        ),
        pytest.param(
            "ct1_2", "time-period", lambda f: [ChangeVR(_element(f, _SERIES_INSTANCE_UID), b"FL")],
            "quarantined damaged",
            id="a single UID read as many numbers",
        ),
        pytest.param(
            "ct1_2", "diagnosis",
            lambda f: [Insert(_element(f, _PATIENT_NAME), 0xFFFEE00D, b"SQ", b"")],
            "written", id="a dataset cut short before Patient's Name keeps no free text",
        ),
        pytest.param(
            "pr", "scanner",
            lambda f: [Insert(_element(f, _SOP_INSTANCE_UID), _REFERENCED_IMAGE_SEQUENCE, b"OW",
                              b"\x1cd&\xafR^;\x86")],
            "quarantined damaged",
            id="a sequence attribute the file gives another VR",
        ),
        pytest.param(
            "ct_dose_page", "images-only", lambda f: [Duplicate(22052, 32, 273, False)],
            "quarantined damaged",
            id="text where the transfer syntax belongs",
        ),
    ],
)  # fmt: skip
def test_what_the_fuzzing_found(
    corpus: Corpus, role: str, level: str, changes: Any, expected: str
) -> None:
    data = _mutated(corpus, role, *changes(_file(corpus, role)))
    if expected == "quarantined damaged":
        # Found by the engine (DamagedElementError) or, earlier, by the batch's own
        # structural checks: either way the file is quarantined as corrupt or incomplete.
        outcome, _, scratch = run_one(data, level)
        shutil.rmtree(scratch, ignore_errors=True)
        assert outcome.outcome == "quarantined"
        assert outcome.reason.split(":", 1)[0] in {"corrupt", "incomplete"}, outcome.reason
        return
    assert check(corpus, data, level).startswith(expected.split(":")[0])


def test_a_file_cut_short_before_the_patient_loses_its_descriptions(corpus: Corpus) -> None:
    cut = Insert(_element(_file(corpus, "ct1_2"), _PATIENT_NAME), 0xFFFEE00D, b"SQ", b"")
    data = _mutated(corpus, "ct1_2", cut)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = deidentify(pydicom.dcmread(BytesIO(data)), load_profile("diagnosis"), KEY)
    assert result.dataset is not None
    assert "PatientName" not in pydicom.dcmread(BytesIO(data))
    assert "StudyDescription" not in result.dataset
    assert "SeriesDescription" not in result.dataset


def test_a_damaged_kept_value_raises_damaged_element_error(corpus: Corpus) -> None:
    file = _file(corpus, "ct1_1")
    data = _mutated(corpus, "ct1_1", Length(_element(file, _IMAGE_TYPE), "swallow", 3))
    with pytest.raises(DamagedElementError, match=r"\(0008,0008\)"):
        deidentify(pydicom.dcmread(BytesIO(data)), load_profile("images-only"), KEY)


def _transfer_syntax(value: bytes) -> Callable[[bytes], bytes]:
    return lambda data: data.replace(b"1.2.840.10008.1.2.1\x00", value, 1)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(_transfer_syntax(b"1.2.840.10008.1.2.9\x00"), id="not a transfer syntax"),
        pytest.param(
            lambda data: data.replace(b"\x02\x00\x10\x00UI", b"\x02\x00\x10\x00AE", 1),
            id="transfer syntax as AE",
        ),
        pytest.param(
            lambda data: data.replace(b"\x28\x00\x00\x01US", b"\x28\x00\x00\x01ZZ", 1),
            id="Bits Allocated with VR ZZ",
        ),
        pytest.param(
            lambda data: data[: data.index(b"\xe0\x7f\x10\x00OW") + 8] + bytes(4),
            id="empty Pixel Data",
        ),
    ],
)
def test_damaged_image_elements_are_quarantined(
    corpus: Corpus, damage: Callable[[bytes], bytes]
) -> None:
    """A damaged Transfer Syntax UID, image size element or Pixel Data quarantines the file;
    it never stops the run (these once escaped the batch's structural checks)."""
    data = damage(_file(corpus, "ct1_1").data)
    outcome, _, scratch = run_one(data, "images-only")
    shutil.rmtree(scratch, ignore_errors=True)
    assert outcome.outcome == "quarantined"
