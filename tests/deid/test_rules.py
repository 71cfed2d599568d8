"""PS3.15 Annex E actions, combined-code resolution and element lookup."""

from __future__ import annotations

import pytest
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset

from aidahub.deid._annex_e import RULES
from aidahub.deid.rules import (
    COMBINED,
    Action,
    IodContext,
    basic_action,
    iod_context,
    is_private,
    is_private_creator,
    lookup,
    private_creator_tag,
    private_offset,
    resolve,
)


def tag(keyword: str) -> int:
    value = tag_for_keyword(keyword)
    assert value is not None, keyword
    return value


ENHANCED = IodContext(enhanced=True, original=True)
SR = IodContext(structured_report=True)


@pytest.mark.parametrize(
    ("code", "action"),
    [
        ("D", Action.DUMMY),
        ("Z", Action.EMPTY),
        ("X", Action.REMOVE),
        ("K", Action.KEEP),
        ("C", Action.CLEAN),
        ("U", Action.REMAP),
        ("X/Z", Action.EMPTY),
        ("X/D", Action.REMOVE),
        ("X/Z/D", Action.EMPTY),
        ("Z/D", Action.EMPTY),
        ("X/Z/U*", Action.REMAP),
    ],
)
def test_resolve(code: str, action: Action) -> None:
    assert resolve(code) is action


@pytest.mark.parametrize(("code", "action"), [("X/D", "D"), ("X/Z/D", "D"), ("Z/D", "D")])
def test_type1_upgrades_codes_offering_d(code: str, action: str) -> None:
    assert resolve(code, type1=True) is Action(action)


def test_type1_does_not_invent_a_d() -> None:
    assert resolve("X/Z", type1=True) is Action.EMPTY
    assert resolve("X", type1=True) is Action.REMOVE


def test_every_code_in_the_table_resolves() -> None:
    codes = {rule.basic for rule in RULES.values()}
    assert codes - set(COMBINED) <= {"D", "Z", "X", "K", "C", "U"}
    for code in codes:
        resolve(code)
        resolve(code, type1=True)


@pytest.mark.parametrize("code", ["Q", "X/Q", ""])
def test_unknown_codes_raise(code: str) -> None:
    with pytest.raises(ValueError, match="action code"):
        resolve(code)


def test_lookup_exact_and_wildcards() -> None:
    assert lookup(tag("PatientName")) is RULES["00100010"]
    assert lookup(0x50001234) is RULES["50xxxxxx"]
    assert lookup(0x501E3000) is RULES["50xxxxxx"]
    assert lookup(0x60003000) is RULES["60xx3000"]
    assert lookup(0x601E4000) is RULES["60xx4000"]
    assert lookup(0x60000010) is None  # overlay rows: not listed, removed by default
    assert lookup(0x00091001) is RULES["ggggeeee"]
    assert lookup(tag("Rows")) is None


@pytest.mark.parametrize(
    ("keyword_or_tag", "action"),
    [
        ("PatientName", Action.EMPTY),
        ("PatientBirthDate", Action.EMPTY),
        ("PatientAddress", Action.REMOVE),
        ("StudyInstanceUID", Action.REMAP),
        ("ReferencedImageSequence", Action.REMAP),
        ("SourceImageSequence", Action.REMAP),
        ("InstitutionName", Action.EMPTY),
        ("StationName", Action.EMPTY),
        ("OperatorsName", Action.EMPTY),
        ("SeriesDate", Action.REMOVE),
        ("ProtocolName", Action.REMOVE),
        ("ContentDate", Action.EMPTY),
        ("DeviceSerialNumber", Action.EMPTY),
        ("ContentSequence", Action.DUMMY),
        ("OriginalAttributesSequence", Action.REMOVE),
        ("IconImageSequence", Action.REMOVE),
        ("Manufacturer", Action.EMPTY),  # Type 2, not in Table E.1-1
        ("SoftwareVersions", Action.REMOVE),  # not listed, not kept: removed
        ("Rows", Action.REMOVE),  # kept only by naming it in a profile
        (0x00091001, Action.REMOVE),  # private
        (0x00090010, Action.REMOVE),  # private creator
        (0x00080000, Action.REMOVE),  # group length
        (0x00181234, Action.REMOVE),  # not in the data dictionary
        (0x00000900, Action.REMOVE),  # command element
        (0x60003000, Action.REMOVE),  # overlay data
        (0x60000022, Action.REMOVE),  # overlay description
        (0x50002500, Action.REMOVE),  # curve label
        (0xFFFAFFFA, Action.REMOVE),  # digital signatures
    ],
)
def test_basic_action(keyword_or_tag: str | int, action: Action) -> None:
    number = tag(keyword_or_tag) if isinstance(keyword_or_tag, str) else keyword_or_tag
    assert basic_action(number) is action


@pytest.mark.parametrize(
    ("keyword", "context", "action"),
    [
        ("ContentDate", ENHANCED, Action.DUMMY),
        ("ContentTime", SR, Action.DUMMY),
        ("ContentDate", IodContext(), Action.EMPTY),
        ("AcquisitionDateTime", ENHANCED, Action.DUMMY),
        ("AcquisitionDateTime", IodContext(enhanced=True), Action.EMPTY),
        ("DeviceSerialNumber", ENHANCED, Action.DUMMY),
        ("DeviceSerialNumber", SR, Action.EMPTY),
        ("PatientName", ENHANCED, Action.EMPTY),
    ],
)
def test_type1_context(keyword: str, context: IodContext, action: Action) -> None:
    assert basic_action(tag(keyword), context) is action


def test_iod_context() -> None:
    ds = Dataset()
    assert iod_context(ds) == IodContext()
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SharedFunctionalGroupsSequence = []
    assert iod_context(ds) == IodContext(enhanced=True, original=True)
    ko = Dataset()
    ko.Modality = "KO"
    assert iod_context(ko).structured_report
    sr = Dataset()
    sr.ValueType = "CONTAINER"
    sr.ContentSequence = []
    assert iod_context(sr).structured_report
    derived = Dataset()
    derived.ImageType = "DERIVED\\SECONDARY"
    assert not iod_context(derived).original


def test_private_helpers() -> None:
    assert is_private(0x00191023) and not is_private(0x00180050)
    assert is_private_creator(0x00190010) and is_private_creator(0x001900FF)
    assert not is_private_creator(0x00191023) and not is_private_creator(0x00190005)
    assert private_creator_tag(0x00191023) == 0x00190010
    assert private_creator_tag(0x0029FF01) == 0x002900FF
    assert private_offset(0x00191023) == 0x23
