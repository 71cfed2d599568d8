"""Reusing a series' template writes exactly what the whole engine writes.

:mod:`aidahub.deid.series` lets a worker write the next slice of a series from the last
one's output. Every test here runs the same files through two workers, one that reuses
templates and one that never does, and requires the same outcome, the same reason and the
same output bytes for every file, and that the reusing worker did reuse (otherwise the
comparison would prove nothing). The files: series made from the planted corpus, the
files that ship with pydicom, and series whose later slices have their per-instance
values damaged by hypothesis.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pydicom
import pydicom.data
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset

from aidahub.deid import batch, series
from aidahub.deid.keys import key_from_secret
from aidahub.deid.profile import PROFILE_NAMES, load_profile
from tests.deid.leaks import find_leaks
from tests.deid.planted import make_corpus

KEY = key_from_secret(b"aidahub series test key, 32 byte")
SLICES = 6
PYDICOM_FILES = Path(pydicom.data.__file__).parent / "test_files"


class _Counting(batch._Worker):
    """A worker that counts the files it wrote from a template: matched on their bytes
    (:mod:`aidahub.deid.fastlane`, also counted apart) or read first."""

    reused = 0
    matched = 0

    def _reuse(self, *args):  # type: ignore[no-untyped-def]
        written = super()._reuse(*args)
        self.reused += written is not None
        return written

    def _write_match(self, *args):  # type: ignore[no-untyped-def]
        written = super()._write_match(*args)
        self.reused += written is not None
        self.matched += written is not None
        return written


@contextmanager
def _workers(source: Path, level: str) -> Iterator[tuple[_Counting, batch._Worker, Path]]:
    scratch = Path(tempfile.mkdtemp(prefix="aidahub-series-"))
    profile = load_profile(level)
    reusing = _Counting(batch._Setup(source, scratch / "a", scratch / "qa", profile, KEY))
    whole = batch._Worker(batch._Setup(source, scratch / "b", scratch / "qb", profile, KEY))
    whole._memo = series.SeriesMemo(size=0)
    try:
        yield reusing, whole, scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _compare(source: Path, files: list[str], level: str) -> tuple[int, int]:
    """Run *files* through both workers; assert they agree; return how many were reused,
    and how many of those were matched on their bytes."""
    with _workers(source, level) as (reusing, whole, scratch):
        for name in files:
            a, b = reusing.one(name, None), whole.one(name, None)
            assert (a.outcome, a.reason) == (b.outcome, b.reason), name
            assert a.warnings == b.warnings, name  # the report lists them
            assert (a.output is None) == (b.output is None), name
            if a.output is not None and b.output is not None:
                assert a.output.relative_to(scratch / "a") == b.output.relative_to(scratch / "b")
                assert a.output.read_bytes() == b.output.read_bytes(), name
        return reusing.reused, reusing.matched


def _slice(ds: Dataset, number: int) -> Dataset:
    """Another slice of the same series: new instance UID, number, position and pixels."""
    ds = ds.copy()
    series_number = int(hashlib.sha256(str(ds.SeriesInstanceUID).encode()).hexdigest()[:20], 16)
    ds.SOPInstanceUID = f"2.25.{series_number}{number:03d}"
    ds.file_meta = ds.file_meta.copy()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceNumber = number + 1
    ds.ImagePositionPatient = [-100.0, -100.0, 2.5 * number]
    ds.SliceLocation = 2.5 * number
    if "PixelData" in ds and not ds.file_meta.TransferSyntaxUID.is_compressed:
        pixels = bytearray(ds.PixelData)
        pixels[number % len(pixels)] ^= 0x01
        ds.PixelData = bytes(pixels)
    return ds


@pytest.fixture(scope="module")
def series_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Every planted file as a series of :data:`SLICES` slices."""
    root = tmp_path_factory.mktemp("series")
    planted = make_corpus(root / "planted", seed=5)
    source = root / "in"
    names = []
    for role, path in sorted(planted.files.items()):
        ds = pydicom.dcmread(path)
        if "SeriesInstanceUID" not in ds or "SOPInstanceUID" not in ds:
            continue
        for number in range(SLICES):
            name = f"{role}/{number:03d}.dcm"
            (source / role).mkdir(parents=True, exist_ok=True)
            _slice(ds, number).save_as(source / name, enforce_file_format=True)
            names.append(name)
    return source, names


@pytest.mark.parametrize("level", PROFILE_NAMES)
def test_series_of_the_planted_corpus_are_written_alike(
    series_folder: tuple[Path, list[str]], level: str
) -> None:
    source, names = series_folder
    reused, matched = _compare(source, names, level)
    print(level, reused, matched)
    assert reused >= len(names) // 3
    assert matched >= reused // 2


def test_the_files_of_pydicom_are_written_alike() -> None:
    names = batch._walk(PYDICOM_FILES)
    reused, matched = _compare(PYDICOM_FILES, names, "exam-type")
    print(reused, matched)
    assert reused > 20


def test_a_reused_series_leaks_nothing(series_folder: tuple[Path, list[str]]) -> None:
    source, names = series_folder
    planted = make_corpus(source.parent / "planted-again", seed=5)
    with _workers(source, "diagnosis") as (reusing, _, scratch):
        for name in names:
            reusing.one(name, None)
        assert reusing.reused > 0
        leaks = [leak for leak in find_leaks(scratch / "a", planted) if leak.category != "uid"]
        assert leaks == [], leaks[:5]


def test_another_patient_in_the_same_series_is_not_reused(tmp_path: Path) -> None:
    """A context differs by a byte outside the per-instance elements: the whole engine."""
    source = tmp_path / "in"
    source.mkdir()
    base = pydicom.dcmread(PYDICOM_FILES / "CT_small.dcm")
    for number, name in enumerate(("Berg^Åsa", "Berg^Åsa", "Lind^Åke")):
        ds = _slice(base, number)
        ds.PatientName = name
        ds.PatientID = "19121212-1212" if number < 2 else "19121212-1213"
        ds.save_as(source / f"{number}.dcm", enforce_file_format=True)
    with _workers(source, "images-only") as (reusing, _, scratch):
        outcomes = [reusing.one(f"{n}.dcm", None) for n in range(3)]
        assert reusing.reused == 1  # the second file only
        patients = {o.output.relative_to(scratch / "a").parts[0] for o in outcomes if o.output}
        assert len(patients) == 2


# -- damaged per-instance values ------------------------------------------------------------


def _value_spans(data: bytes) -> dict[int, tuple[int, int, int]]:
    """Each per-instance element's (length field offset, value offset, value length)."""
    ds = pydicom.dcmread(pydicom.filebase.DicomBytesIO(data))
    spans = {}
    for tag in series.PER_INSTANCE:
        raw = ds.get_item(tag)
        if raw is None or tag == 0x7FE00010:
            continue
        spans[tag] = (raw.value_tell - 2, raw.value_tell, raw.length)
    return spans


@pytest.fixture(scope="module")
def ct_series(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    root = tmp_path_factory.mktemp("ct-series")
    planted = make_corpus(root / "planted", seed=7)
    ds = pydicom.dcmread(planted.files["ct1_1"])
    source = root / "in"
    source.mkdir()
    _slice(ds, 0).save_as(source / "000.dcm", enforce_file_format=True)
    second = root / "second.dcm"
    _slice(ds, 1).save_as(second, enforce_file_format=True)
    return source, second.read_bytes()


# Fuzz tests that run the same examples every time, slow as the engine is on each.
REPRODUCIBLE = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@settings(REPRODUCIBLE, max_examples=120)
@given(
    picks=st.lists(
        st.tuples(st.integers(min_value=0, max_value=64), st.binary(min_size=0, max_size=12)),
        min_size=1,
        max_size=3,
    ),
    level=st.sampled_from(PROFILE_NAMES),
)
def test_damaged_per_instance_values_get_the_whole_engines_verdict(
    ct_series: tuple[Path, bytes], picks: list[tuple[int, bytes]], level: str
) -> None:
    source, second = ct_series
    data = second
    for which, value in picks:
        spans = _value_spans(data)
        tag = sorted(spans)[which % len(spans)]
        length_at, value_at, length = spans[tag]
        # Same length field and size: only the value changes (a new length would move
        # everything after it, which other tests damage).
        value = (value * (length // max(len(value), 1) + 1))[:length] if value else b"\x00" * length
        data = data[:value_at] + value + data[value_at + length :]
        assert struct.unpack_from("<H", data, length_at)[0] == length
    (source / "001.dcm").write_bytes(data)
    try:
        _compare(source, ["000.dcm", "001.dcm"], level)
    finally:
        (source / "001.dcm").unlink()
