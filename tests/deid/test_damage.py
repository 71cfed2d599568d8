"""The damage check converts only what can fail, and finds what converting everything finds.

:func:`aidahub.deid.damage.damage` skips elements whose conversion cannot fail, judged by
VR and length. Both halves of that claim are tested here: converting random bytes of each
VR it skips never raises, and on damaged files its verdict is the verdict of converting
every element (:func:`aidahub.deid.damage.full_conversion_damage`).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pydicom
import pydicom.data
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.tag import BaseTag

from aidahub.deid import dicomfile
from aidahub.deid.damage import _SAFE_ENCODINGS, converts, full_conversion_damage
from aidahub.deid.damage import _corruption as structure_damage

PYDICOM_FILES = Path(pydicom.data.__file__).parent / "test_files"
# One standard tag of each VR the check lets through unconverted.
SKIPPED = {
    "AE": 0x00080054, "AS": 0x00101010, "CS": 0x00080060, "DA": 0x00080020,
    "DT": 0x0008002A, "DS": 0x00180050, "LO": 0x00081030, "LT": 0x00104000,
    "PN": 0x00100010, "SH": 0x00080050, "ST": 0x00081090, "TM": 0x00080030,
    "UC": 0x00080119, "UI": 0x00080018, "UR": 0x00080120, "UT": 0x00400280,
    "OB": 0x00420011, "OW": 0x7FE00010, "US": 0x00280010, "FD": 0x00189345,
}  # fmt: skip
CHARSETS = [[name] for name in sorted(_SAFE_ENCODINGS)]


@settings(max_examples=1500, derandomize=True, database=None, deadline=None)
@given(
    vr=st.sampled_from(sorted(SKIPPED)),
    value=st.binary(max_size=64),
    implicit=st.booleans(),
    charset=st.sampled_from(CHARSETS),
)
def test_what_the_check_skips_always_converts(
    vr: str, value: bytes, implicit: bool, charset: list[str]
) -> None:
    tag = SKIPPED[vr]
    raw = RawDataElement(
        BaseTag(tag), None if implicit else vr, len(value), value, 0, implicit, True
    )
    if not converts(raw):
        return  # converted by the check itself (a number of the wrong length)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        convert_raw_data_element(raw, encoding=charset)


def test_numbers_of_a_wrong_length_are_converted() -> None:
    raw = RawDataElement(BaseTag(0x00280010), "US", 3, b"\x01\x02\x03", 0, False, True)
    assert not converts(raw)
    assert converts(raw._replace(length=4, value=b"\x01\x02\x03\x04"))


_SOURCES = sorted(p for p in PYDICOM_FILES.rglob("*.dcm"))[:80]


def _verdicts(data: bytes) -> tuple[bool, bool] | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fast = dicomfile.read(data)
            full = pydicom.dcmread(io.BytesIO(data))
        except Exception:  # noqa: BLE001 - unreadable: quarantined before any check
            return None
        return structure_damage(fast) is not None, full_conversion_damage(full) is not None


@settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    which=st.integers(min_value=0, max_value=len(_SOURCES) - 1),
    where=st.integers(min_value=0, max_value=1 << 16),
    junk=st.binary(min_size=1, max_size=4),
)
def test_damaged_files_get_the_verdict_of_converting_everything(
    which: int, where: int, junk: bytes
) -> None:
    data = _SOURCES[which].read_bytes()
    at = 132 + where % max(1, min(len(data), 4096) - 132)  # in the header
    verdicts = _verdicts(data[:at] + junk + data[at + len(junk) :])
    if verdicts is not None:
        fast, full = verdicts
        assert fast == full


@pytest.mark.parametrize("path", _SOURCES[:40], ids=lambda p: p.name)
def test_sound_files_pass_both_ways(path: Path) -> None:
    verdicts = _verdicts(path.read_bytes())
    if verdicts is not None:
        assert verdicts[0] == verdicts[1]
