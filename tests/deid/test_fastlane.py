"""Matching a slice to its series' template on the bytes writes what the whole engine writes.

:mod:`aidahub.deid.fastlane` writes the next slice of a series without reading it as a
dataset. tests/deid/test_series.py holds it to the whole engine on every test corpus;
here are the files it must not match (so the engine decides them), what it does when the
input changes under it, and that the pixels it copies are the ones it checked.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from aidahub.deid import batch, fastlane
from aidahub.deid.keys import key_from_secret
from aidahub.deid.profile import load_profile
from tests.deid.planted import make_corpus
from tests.deid.test_series import REPRODUCIBLE, _Counting, _slice

KEY = key_from_secret(b"aidahub fastlane test key, 32 by")


def _encoded(ds: Dataset, syntax: str) -> Dataset:
    ds = ds.copy()
    ds.file_meta = ds.file_meta.copy()
    ds.file_meta.TransferSyntaxUID = syntax
    return ds


@pytest.fixture(scope="module")
def ct(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """A planted CT slice in Explicit VR Little Endian."""
    planted = make_corpus(tmp_path_factory.mktemp("planted"), seed=11)
    return _encoded(pydicom.dcmread(planted.files["ct1_1"]), ExplicitVRLittleEndian)


def _worker(source: Path, out: Path, level: str = "images-only") -> _Counting:
    profile = load_profile(level)
    return _Counting(batch._Setup(source, out / "a", out / "qa", profile, KEY))


def _whole(source: Path, out: Path, level: str = "images-only") -> batch._Worker:
    profile = load_profile(level)
    worker = batch._Worker(batch._Setup(source, out / "b", out / "qb", profile, KEY))
    worker._memo.__init__(size=0)  # type: ignore[misc]
    return worker


def _series(folder: Path, ds: Dataset, count: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for number in range(count):
        name = f"{number:03d}.dcm"
        _slice(ds, number).save_as(folder / name, enforce_file_format=True)
        names.append(name)
    return names


def _same(source: Path, out: Path, names: list[str], level: str = "images-only") -> _Counting:
    """Both workers on *names*: same outcomes, reasons and bytes; return the matching one."""
    lane, whole = _worker(source, out, level), _whole(source, out, level)
    for name in names:
        a, b = lane.one(name, None), whole.one(name, None)
        assert (a.outcome, a.reason, a.warnings) == (b.outcome, b.reason, b.warnings), name
        if a.output is not None and b.output is not None:
            assert a.output.read_bytes() == b.output.read_bytes(), name
    return lane


def test_a_series_is_matched_on_its_bytes(tmp_path: Path, ct: Dataset) -> None:
    names = _series(tmp_path / "in", ct, 5)
    assert not pydicom.dcmread(tmp_path / "in" / names[0]).is_implicit_VR
    lane = _same(tmp_path / "in", tmp_path, names)
    assert lane.matched == 4  # all but the first, which became the template


def test_an_implicit_vr_series_is_matched_too(tmp_path: Path, ct: Dataset) -> None:
    names = _series(tmp_path / "in", _encoded(ct, ImplicitVRLittleEndian), 4)
    assert pydicom.dcmread(tmp_path / "in" / names[0]).is_implicit_VR
    lane = _same(tmp_path / "in", tmp_path, names)
    assert lane.matched == 3


def test_a_wrong_meta_group_length_is_left_to_the_engine(tmp_path: Path, ct: Dataset) -> None:
    names = _series(tmp_path / "in", ct, 3)
    path = tmp_path / "in" / names[2]
    data = bytearray(path.read_bytes())
    (length,) = struct.unpack_from("<L", data, 140)  # (0002,0000) UL: its value after 8 bytes
    struct.pack_into("<L", data, 140, length + 2)
    path.write_bytes(bytes(data))
    lane = _same(tmp_path / "in", tmp_path, names)
    assert lane.matched == 1  # the second only


def test_a_slice_cut_short_in_its_pixels_is_quarantined_by_the_engine(
    tmp_path: Path, ct: Dataset
) -> None:
    names = _series(tmp_path / "in", ct, 3)
    path = tmp_path / "in" / names[2]
    path.write_bytes(path.read_bytes()[:-1000])
    lane = _same(tmp_path / "in", tmp_path, names)
    assert lane.matched == 1
    outcome = _worker(tmp_path / "in", tmp_path / "again").one(names[2], None)
    assert outcome.outcome == "quarantined"


def test_bytes_after_the_pixels_make_no_byte_template(tmp_path: Path, ct: Dataset) -> None:
    folder = tmp_path / "in"
    names = _series(folder, ct, 3)
    for name in names:
        ds = pydicom.dcmread(folder / name)
        ds.add_new(0xFFFCFFFC, "OB", b"\x00" * 8)  # Data Set Trailing Padding
        ds.save_as(folder / name, enforce_file_format=True)
    lane = _same(folder, tmp_path, names)
    assert lane.matched == 0
    assert lane.reused == 2  # the series reuse still works


def test_another_patient_is_not_matched(tmp_path: Path, ct: Dataset) -> None:
    folder = tmp_path / "in"
    names = _series(folder, ct, 3)
    ds = pydicom.dcmread(folder / names[2])
    ds.PatientID = str(ds.PatientID)[:-1] + ("1" if str(ds.PatientID)[-1] != "1" else "2")
    ds.save_as(folder / names[2], enforce_file_format=True)
    lane = _same(folder, tmp_path, names)
    assert lane.matched == 1


def test_an_anchor_of_another_plan_is_not_matched(tmp_path: Path, ct: Dataset) -> None:
    folder = tmp_path / "in"
    names = _series(folder, ct, 3)
    lane = _worker(folder, tmp_path)
    lane.one(names[0], None)
    lane.one(names[1], ("someone", None))
    assert lane.matched == 0
    lane.one(names[2], None)
    assert lane.matched == 1


def test_without_copy_file_range_the_same_bytes_are_written(
    tmp_path: Path, ct: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "_copy_in_kernel", False)
    names = _series(tmp_path / "in", ct, 4)
    lane = _same(tmp_path / "in", tmp_path, names)
    assert lane.matched == 3


def test_an_input_changed_while_it_was_copied_is_not_written(tmp_path: Path) -> None:
    """What is written must be what was checked: a change after reading leaves nothing."""
    source = tmp_path / "input.bin"
    source.write_bytes(b"a" * 4096)
    fd = os.open(source, os.O_RDONLY)
    try:
        before = os.fstat(fd)
        value = memoryview(os.pread(fd, 4096, 0))
        with open(source, "r+b") as fh:  # another program writes to the input meanwhile
            fh.write(b"b" * 10)
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
        target = tmp_path / "out" / "x.dcm"
        with pytest.raises(batch._InputFailed):
            batch._write_output(target, [b"head"], tail=batch._Tail(fd, 0, value, before))
    finally:
        os.close(fd)
    assert not target.exists()
    assert list((tmp_path / "out").iterdir()) == []  # no temporary file either


def test_the_pixels_written_are_the_inputs(tmp_path: Path, ct: Dataset) -> None:
    names = _series(tmp_path / "in", ct, 3)
    lane = _worker(tmp_path / "in", tmp_path)
    outcomes = [lane.one(name, None) for name in names]
    assert lane.matched == 2
    for name, outcome in zip(names, outcomes, strict=True):
        assert outcome.output is not None
        written = pydicom.dcmread(outcome.output)
        assert written.PixelData == pydicom.dcmread(tmp_path / "in" / name).PixelData
        assert written.SOPInstanceUID == written.file_meta.MediaStorageSOPInstanceUID


class _Bytes(bytes):
    """A file's bytes that hypothesis shows by their length, not all of them."""

    def __repr__(self) -> str:
        return f"<{len(self):,} bytes>"


@pytest.fixture(scope="module")
def fuzz_series(tmp_path_factory: pytest.TempPathFactory, ct: Dataset) -> tuple[Path, bytes]:
    root = tmp_path_factory.mktemp("fuzz")
    names = _series(root / "in", ct, 2)
    second = _Bytes((root / "in" / names[1]).read_bytes())
    (root / "in" / names[1]).unlink()
    return root / "in", second


@settings(REPRODUCIBLE, max_examples=150)
@given(
    edits=st.lists(
        st.tuples(
            st.sampled_from(["flip", "insert", "delete"]),
            st.floats(min_value=0, max_value=1, allow_nan=False),
            st.integers(min_value=0, max_value=255),
        ),
        min_size=1,
        max_size=3,
    ),
    in_header=st.booleans(),
    level=st.sampled_from(["images-only", "diagnosis"]),
)
def test_a_damaged_slice_gets_the_whole_engines_verdict(
    fuzz_series: tuple[Path, bytes],
    edits: list[tuple[str, float, int]],
    in_header: bool,
    level: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Bytes flipped, inserted or removed anywhere in the next slice (mostly in its header,
    where the structure is): matched or not, the output is the whole engine's."""
    source, second = fuzz_series
    data = bytearray(second)
    for kind, where, value in edits:
        end = min(len(data), 4096) if in_header else len(data)
        at = 128 + int(where * (end - 129))
        if kind == "flip":
            data[at] ^= value or 1
        elif kind == "insert":
            data[at:at] = bytes([value])
        else:
            del data[at]
    (source / "001.dcm").write_bytes(bytes(data))
    try:
        _same(source, tmp_path_factory.mktemp("out"), ["000.dcm", "001.dcm"], level)
    finally:
        (source / "001.dcm").unlink()


class _FromBytes:
    """Counts the matched files written from their bytes, without a dataset."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.written = self.declined = 0
        original = fastlane.ByteTemplate._from_bytes

        def counted(template, data, spans):  # type: ignore[no-untyped-def]
            made = original(template, data, spans)
            self.written += made is not None
            self.declined += made is None
            return made

        monkeypatch.setattr(fastlane.ByteTemplate, "_from_bytes", counted)


def test_a_slice_whose_changes_are_copies_and_uids_is_written_from_its_bytes(
    tmp_path: Path, ct: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Instance number, position and slice location are kept as they are and the instance
    UID is remapped: the engine's rules for them need no dataset, and the output is still
    the whole engine's, with the UID replaced in the data set and the file meta alike."""
    from_bytes = _FromBytes(monkeypatch)
    names = _series(tmp_path / "in", ct, 4)
    lane = _same(tmp_path / "in", tmp_path, names)
    assert lane.matched == 3
    assert (from_bytes.written, from_bytes.declined) == (3, 0)
    for name in names[1:]:
        source = pydicom.dcmread(tmp_path / "in" / name)
        written = pydicom.dcmread(next((tmp_path / "a").rglob(f"*{_uid_file(lane, name)}")))
        assert written.SOPInstanceUID != source.SOPInstanceUID
        assert written.file_meta.MediaStorageSOPInstanceUID == written.SOPInstanceUID
        assert written.InstanceNumber == source.InstanceNumber


def _uid_file(lane: _Counting, name: str) -> str:
    outcome = lane.one(name, None)  # again: the same output, written anew
    assert outcome.output is not None
    return outcome.output.name


# What a per-instance value can hold that the engine must see for itself: values pydicom
# warns about, several values, leading zeros, padding, control characters, Latin-1.
_VALUE_BYTES = st.sampled_from(list(b"0123456789.+- \x00\\aZ") + [0x01, 0x1B, 0x7F, 0xE5])


@settings(REPRODUCIBLE, max_examples=120)
@given(
    tag=st.sampled_from([0x00080018, 0x00200013, 0x00200032, 0x00201041]),
    edits=st.lists(
        st.tuples(st.floats(min_value=0, max_value=1, allow_nan=False), _VALUE_BYTES),
        min_size=1,
        max_size=4,
    ),
    level=st.sampled_from(["images-only", "diagnosis"]),
)
def test_an_odd_per_instance_value_gets_the_whole_engines_verdict(
    fuzz_series: tuple[Path, bytes],
    tag: int,
    edits: list[tuple[float, int]],
    level: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Bytes of the next slice's instance UID, number, position or slice location replaced
    (the file's structure intact): written from its bytes or not, the output, outcome and
    warnings are the whole engine's."""
    source, second = fuzz_series
    raw = pydicom.dcmread(pydicom.filebase.DicomBytesIO(second)).get_item(tag)
    group, element = tag >> 16, tag & 0xFFFF
    if raw.VR is None:  # implicit VR: tag and a 4-byte length
        header = struct.pack("<HHL", group, element, raw.length)
    else:
        header = struct.pack("<HH2sH", group, element, raw.VR.encode(), raw.length)
    value_at, length = second.index(header) + len(header), raw.length
    data = bytearray(second)
    for where, value in edits:
        data[value_at + int(where * (length - 1))] = value
    (source / "001.dcm").write_bytes(bytes(data))
    try:
        _same(source, tmp_path_factory.mktemp("out"), ["000.dcm", "001.dcm"], level)
    finally:
        (source / "001.dcm").unlink()
