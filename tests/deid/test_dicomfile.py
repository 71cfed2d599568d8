"""The fast reader and writer give what pydicom gives, element for element and byte for byte.

:mod:`aidahub.deid.dicomfile` parses the common files itself and hands the rest to pydicom;
whichever path a file takes, the dataset must be the one ``pydicom.dcmread`` builds (same
tags, VRs, lengths, values and offsets) and the bytes written the ones ``save_as`` writes.
The files are every file that ships with pydicom and deid-data, the planted corpus, and
damaged copies of them made by hypothesis.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import deid_data
import pydicom
import pydicom.data
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from aidahub.deid import dicomfile
from aidahub.deid.damage import damage
from aidahub.deid.engine import deidentify
from aidahub.deid.keys import key_from_secret
from aidahub.deid.profile import PROFILE_NAMES, load_profile
from tests.deid.planted import make_corpus

KEY = key_from_secret(b"aidahub dicomfile test key, 32 b")
PYDICOM_FILES = Path(pydicom.data.__file__).parent / "test_files"
DEID_FILES = Path(deid_data.__file__).parent / "data"


def _files() -> list[Path]:
    found = [p for root in (PYDICOM_FILES, DEID_FILES) for p in root.rglob("*") if p.is_file()]
    return sorted(found)


FILES = _files()


@pytest.fixture(scope="module")
def planted_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    planted = make_corpus(tmp_path_factory.mktemp("dicomfile") / "in", seed=3)
    return sorted(planted.files.values())


def _reference(data: bytes) -> Dataset | type[BaseException]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - the kind of failure is compared
        return type(exc)


def _ours(data: bytes) -> Dataset | type[BaseException]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return dicomfile.read(data)
    except Exception as exc:  # noqa: BLE001
        return type(exc)


def _differences(ours: Dataset, reference: Dataset) -> list[str]:
    """Where two datasets differ: tags, raw elements, converted values, encoding."""
    found = []
    if set(ours.keys()) != set(reference.keys()):
        found.append(f"tags {sorted(set(ours.keys()) ^ set(reference.keys()))[:5]}")
        return found
    for tag in reference.keys():  # noqa: SIM118 - tags only
        a, b = ours.get_item(tag), reference.get_item(tag)
        if isinstance(a, RawDataElement) and isinstance(b, RawDataElement):
            if tuple(a) != tuple(b):
                found.append(f"{tag}: {tuple(a)[:3]} != {tuple(b)[:3]}")
        elif ours[tag].VR != reference[tag].VR or ours[tag].value != reference[tag].value:
            found.append(f"{tag}: converted values differ")
    if ours.original_encoding != reference.original_encoding:
        found.append("encoding")
    if ours.original_character_set != reference.original_character_set:
        found.append("character set")
    return found


def _assert_same_reading(data: bytes) -> None:
    ours, reference = _ours(data), _reference(data)
    if isinstance(reference, type) or isinstance(ours, type):
        assert ours == reference
        return
    assert isinstance(ours, Dataset) and isinstance(reference, Dataset)
    assert _differences(ours, reference) == []
    assert _differences(ours.file_meta, reference.file_meta) == []
    assert getattr(ours, "preamble", None) == getattr(reference, "preamble", None)


def test_every_bundled_file_reads_as_pydicom_reads_it() -> None:
    assert len(FILES) > 150
    fast = 0
    for path in FILES:
        data = path.read_bytes()
        _assert_same_reading(data)
        try:
            dicomfile._read(data, None)
            fast += 1
        except dicomfile._Decline:
            pass
        except Exception:  # noqa: BLE001, S110 - not DICOM: pydicom's verdict was compared
            pass
    # Most files take the fast path: a reader that always declined would pass the above.
    assert fast > len(FILES) // 3


def test_reading_from_a_path_matches_reading_the_bytes(planted_files: list[Path]) -> None:
    for path in [*FILES[::7], *planted_files]:
        data = path.read_bytes()
        by_path: Dataset | type[BaseException]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                by_path = dicomfile.read_file(path)
        except Exception as exc:  # noqa: BLE001
            by_path = type(exc)
        by_bytes = _ours(data)
        if isinstance(by_bytes, type) or isinstance(by_path, type):
            assert by_path == by_bytes, path
            continue
        assert isinstance(by_path, Dataset) and isinstance(by_bytes, Dataset)
        assert _differences(by_path, by_bytes) == [], path


def test_a_large_file_is_read_in_two_parts(tmp_path: Path) -> None:
    """A header beyond the first read, or pixel data read on its own, change nothing."""
    ds = pydicom.dcmread(PYDICOM_FILES / "CT_small.dcm")
    ds.add_new(0x00090010, "LO", "AIDAHUB TEST")
    ds.add_new(0x00091010, "OB", b"x" * 70_000)  # pushes Pixel Data past the first read
    ds.PatientName = "Lång^Åsa"
    path = tmp_path / "big.dcm"
    ds.save_as(path, enforce_file_format=True)
    _assert_same_reading(path.read_bytes())
    assert _differences(dicomfile.read_file(path), dicomfile.read(path.read_bytes())) == []
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(path.read_bytes()[:-1000])  # Pixel Data ends after the end of the file
    assert _differences(dicomfile.read_file(cut), pydicom.dcmread(cut)) == []


_SOURCES = [p for p in FILES if p.suffix == ".dcm"][:60]


@settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    which=st.integers(min_value=0, max_value=len(_SOURCES) - 1),
    where=st.integers(min_value=0, max_value=1 << 20),
    junk=st.binary(min_size=1, max_size=6),
    cut=st.booleans(),
)
def test_damaged_files_read_as_pydicom_reads_them(
    which: int, where: int, junk: bytes, cut: bool
) -> None:
    data = _SOURCES[which].read_bytes()
    at = where % len(data)
    damaged = data[:at] if cut else data[:at] + junk + data[at + len(junk) :]
    _assert_same_reading(damaged)


@pytest.mark.parametrize("level", PROFILE_NAMES)
def test_every_output_encodes_as_pydicom_writes_it(level: str, planted_files: list[Path]) -> None:
    profile = load_profile(level)
    written = 0
    for path in [*FILES, *planted_files]:
        ds = _ours(path.read_bytes())
        if isinstance(ds, type) or damage(ds):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = deidentify(ds, profile, KEY)
        except Exception:  # noqa: BLE001, S112 - the engine's own tests cover its failures
            continue
        if result.dataset is None:
            continue
        reference = io.BytesIO()
        result.dataset.save_as(reference, enforce_file_format=True)
        assert b"".join(dicomfile.encode(result.dataset)) == reference.getvalue(), path
        written += 1
    assert written > 100


def test_ui_element_is_written_as_pydicom_writes_it() -> None:
    for value in ("1.2.3", "1.2.34", "2.25.1234567890123456789"):
        for implicit in (False, True):
            ds = Dataset()
            ds.MediaStorageSOPInstanceUID = value
            buffer = pydicom.filebase.DicomBytesIO()
            buffer.is_implicit_VR, buffer.is_little_endian = implicit, True
            pydicom.filewriter.write_data_element(buffer, ds["MediaStorageSOPInstanceUID"])
            assert dicomfile.ui_element(0x00020003, value, implicit) == buffer.getvalue()
