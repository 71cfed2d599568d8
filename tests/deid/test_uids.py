"""UIDs are remapped per key, consistently, keeping the standard's own UIDs."""

import re

from hypothesis import given
from hypothesis import strategies as st
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from aidahub.deid.keys import key_from_secret
from aidahub.deid.uids import is_standard_uid, remap_uid, remap_uid_value

KEY = key_from_secret(bytes(range(32)))
OTHER_KEY = key_from_secret(bytes(range(1, 33)))
VALID_UID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")

uids = st.lists(st.integers(0, 10**12), min_size=2, max_size=12).map(
    lambda parts: "1.3.6.1.4.1." + ".".join(map(str, parts))
)


def test_remapped_uid_is_a_valid_2_25_uid():
    new = remap_uid(KEY, "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322")
    assert new.startswith("2.25.")
    assert VALID_UID.fullmatch(new)
    assert len(new) <= 64


def test_same_key_same_uid_other_key_other_uid():
    uid = "1.2.826.0.1.3680043.8.498.1"
    assert remap_uid(KEY, uid) == remap_uid(key_from_secret(bytes(range(32))), uid)
    assert remap_uid(KEY, uid) != remap_uid(OTHER_KEY, uid)
    assert remap_uid(KEY, uid) != uid


def test_padding_does_not_change_the_mapping():
    assert remap_uid(KEY, "1.2.3.4\x00") == remap_uid(KEY, "1.2.3.4") == remap_uid(KEY, " 1.2.3.4")


def test_standard_uids_are_kept():
    assert is_standard_uid(CTImageStorage)
    assert is_standard_uid(ExplicitVRLittleEndian)
    assert not is_standard_uid("1.2.840.113619.2.55")
    assert remap_uid(KEY, CTImageStorage) == CTImageStorage
    assert remap_uid(KEY, "") == ""


def test_multi_valued_value_keeps_order_and_standard_uids():
    value = f"1.2.3.4\\{CTImageStorage}\\1.2.3.5"
    parts = remap_uid_value(KEY, value).split("\\")
    assert parts == [remap_uid(KEY, "1.2.3.4"), CTImageStorage, remap_uid(KEY, "1.2.3.5")]
    assert remap_uid_value(KEY, "") == ""


def test_references_still_resolve():
    """A series' study UID and an SR's reference to it map to the same new UID."""
    study = "1.2.826.0.1.3680043.2.1125.1.1"
    in_series = remap_uid(KEY, study)
    in_sr_reference = remap_uid_value(KEY, study)
    assert in_series == in_sr_reference


@given(st.lists(uids, min_size=2, max_size=30, unique=True))
def test_distinct_uids_stay_distinct(originals):
    remapped = [remap_uid(KEY, uid) for uid in originals]
    assert len(set(remapped)) == len(originals)
    assert not set(remapped) & set(originals)
    assert all(VALID_UID.fullmatch(uid) and len(uid) <= 64 for uid in remapped)


@given(uids)
def test_remapping_is_deterministic(uid):
    assert remap_uid(KEY, uid) == remap_uid(KEY, uid)
