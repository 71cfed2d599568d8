"""The policy's levels as explicit element lists, custom profiles and house rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pydicom.datadict import dictionary_has_tag, dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset

from aidahub.deid.profile import (
    PROFILE_NAMES,
    HouseRule,
    Profile,
    ProfileError,
    builtin_house_rules,
    load_house_rule,
    load_profile,
)

PROFILE_DIR = Path(__file__).resolve().parents[2] / "src" / "aidahub" / "deid" / "profiles"


def tags(*keywords: str) -> frozenset[int]:
    result = set()
    for keyword in keywords:
        value = tag_for_keyword(keyword)
        assert value is not None, keyword
        result.add(value)
    return frozenset(result)


def added(name: str) -> frozenset[int]:
    index = PROFILE_NAMES.index(name)
    profile = load_profile(name)
    if index == 0:
        return profile.keep
    return profile.keep - load_profile(PROFILE_NAMES[index - 1]).keep


NEVER_IN_A_LEVEL = tags(
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientAge",
    "PatientSex",
    "PatientWeight",
    "PatientSize",
    "PatientAddress",
    "OtherPatientIDsSequence",
    "DeviceSerialNumber",
    "StationName",
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "SoftwareVersions",
    "ReferringPhysicianName",
    "OperatorsName",
    "PerformingPhysicianName",
    "ImageComments",
    "StudyComments",
    "AdditionalPatientHistory",
    "ReasonForTheRequestedProcedure",
    "RequestAttributesSequence",
    "OriginalAttributesSequence",
    "IconImageSequence",
)


def test_the_five_levels_load_in_order() -> None:
    levels = [load_profile(name) for name in PROFILE_NAMES]
    assert [p.name for p in levels] == list(PROFILE_NAMES)
    assert [p.level for p in levels] == [1, 2, 3, 4, 5]
    for lower, higher in zip(levels, levels[1:], strict=False):
        assert lower.keep < higher.keep, f"{higher.name} must add to {lower.name}"
        assert lower.scrub <= higher.scrub
    assert all(not p.motivation and not p.beyond_diagnosis for p in levels)


def test_images_only_keeps_pixels_geometry_and_nothing_describing() -> None:
    keep = load_profile("images-only").keep
    assert (
        tags(
            "PixelData",
            "Rows",
            "Columns",
            "BitsAllocated",
            "PhotometricInterpretation",
            "ImagePositionPatient",
            "ImageOrientationPatient",
            "PixelSpacing",
            "SliceThickness",
            "SpacingBetweenSlices",
            "FrameOfReferenceUID",
            "RescaleIntercept",
            "RescaleSlope",
            "WindowCenter",
            "WindowWidth",
            "SOPClassUID",
            "Modality",
        )
        <= keep
    )
    forbidden = tags(
        "Manufacturer",
        "ManufacturerModelName",
        "StudyDate",
        "SeriesDate",
        "StudyTime",
        "StudyDescription",
        "SeriesDescription",
        "ProtocolName",
        "BodyPartExamined",
    )
    assert not keep & (forbidden | NEVER_IN_A_LEVEL)
    assert not any(dictionary_VR(t) in {"DA", "DT", "TM"} for t in keep)


def test_scanner_adds_manufacturer_and_model_only() -> None:
    assert added("scanner") == tags("Manufacturer", "ManufacturerModelName")


def test_time_period_adds_only_dates_and_times() -> None:
    new = added("time-period")
    assert tags("StudyDate", "StudyTime", "SeriesDate", "AcquisitionDateTime") <= new
    assert all(dictionary_VR(t) in {"DA", "DT", "TM"} for t in new)
    assert load_profile("scanner").date_mode == "remove"
    assert load_profile("time-period").date_mode == "shift"


def test_exam_type_adds_the_examination_not_the_request_or_history() -> None:
    new = added("exam-type")
    assert (
        tags(
            "BodyPartExamined",
            "StudyDescription",
            "SeriesDescription",
            "ProtocolName",
            "ProcedureCodeSequence",
        )
        <= new
    )
    profile = load_profile("exam-type")
    assert tags("StudyDescription", "SeriesDescription", "ProtocolName") <= profile.scrub
    assert not new & tags("AdmittingDiagnosesDescription", "AdmittingDiagnosesCodeSequence")
    assert not any(dictionary_VR(t) in {"DA", "DT", "TM"} for t in new)


def test_diagnosis_adds_named_diagnosis_elements() -> None:
    new = added("diagnosis")
    assert tags("AdmittingDiagnosesDescription", "AdmittingDiagnosesCodeSequence") <= new
    assert tags("AdmittingDiagnosesDescription", "TextValue") <= load_profile("diagnosis").scrub


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_no_level_keeps_identifying_data(name: str) -> None:
    profile = load_profile(name)
    assert not profile.keep & NEVER_IN_A_LEVEL
    assert profile.scrub <= profile.keep
    assert all(dictionary_has_tag(t) for t in profile.keep)
    assert not profile.option("recode_age")


def test_profile_is_frozen() -> None:
    profile = load_profile("images-only")
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        profile.options["remove_times"] = True  # type: ignore[index]


def test_unknown_name_is_refused() -> None:
    with pytest.raises(ProfileError, match="unknown profile 'everything'"):
        load_profile("everything")


def write(tmp_path: Path, text: str, name: str = "custom.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_keeping_more_than_diagnosis_needs_a_motivation(tmp_path: Path) -> None:
    path = write(tmp_path, "name: more\nextends: diagnosis\nkeep: [PatientAge, PatientSex]\n")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert "PatientAge" in str(info.value) and "PatientSex" in str(info.value)
    assert "motivation" in str(info.value)


def test_a_motivated_profile_is_level_six(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: more\nextends: diagnosis\nkeep: [PatientAge, '(0010,0040)']\n"
        "options: {recode_age: true}\n"
        "motivation: Age and sex are confounders of the emphysema score.\n",
    )
    profile = load_profile(path)
    assert profile.level == 6
    assert profile.beyond_diagnosis == tags("PatientAge", "PatientSex")
    assert profile.motivation.startswith("Age and sex")
    assert profile.option("recode_age")
    assert profile.date_mode == "shift"


def test_unscrubbing_is_keeping_more(tmp_path: Path) -> None:
    path = write(
        tmp_path, "extends: diagnosis\nremove: [StudyDescription]\nkeep: [StudyDescription]\n"
    )
    with pytest.raises(ProfileError, match="StudyDescription"):
        load_profile(path)


def test_the_characteristics_template_asks_for_a_motivation() -> None:
    with pytest.raises(ProfileError, match="PatientAge"):
        load_profile(PROFILE_DIR / "examples" / "patient-characteristics.yaml")


def test_custom_profile_within_the_levels_needs_no_motivation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "extends: time-period\nremove: [SeriesDate, SeriesTime]\n"
        "options: {remove_times: true, scale_intervals: true}\n",
    )
    profile = load_profile(path)
    assert profile.name == "custom"
    assert profile.level == 3
    assert not profile.keep & tags("SeriesDate", "SeriesTime")
    assert profile.option("remove_times") and profile.option("scale_intervals")


def test_extends_a_relative_path(tmp_path: Path) -> None:
    write(tmp_path, "name: base\nextends: scanner\nkeep: [BodyPartExamined]\n", "base.yaml")
    profile = load_profile(write(tmp_path, "name: child\nextends: base.yaml\n"))
    assert tags("BodyPartExamined", "Manufacturer") <= profile.keep


def test_cyclic_extends_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "extends: custom.yaml\n")
    with pytest.raises(ProfileError, match="extends itself"):
        load_profile(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("keep: [NotAKeyword]\n", "neither a DICOM keyword nor a tag"),
        ("keep: ['(0019,1023)']\n", "private element"),
        ("keep: ['(0018,1234)']\n", "not in the DICOM data dictionary"),
        ("keep: PatientAge\n", "must be a list"),
        ("dates: keep\n", "dates must be one of"),
        ("options: {everything: true}\n", "unknown option"),
        ("options: {recode_age: 'yes'}\n", "true or false"),
        ("scrub: [Rows]\n", "free-text elements only"),
        ("colour: blue\n", "unknown keys colour"),
        ("- a list\n", "must be a mapping"),
        ("keep: [\n", "cannot be read"),
    ],
)
def test_malformed_profiles_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        load_profile(
            write(tmp_path, "extends: images-only\n" + text if "- a" not in text else text)
        )


def test_builtin_house_rules() -> None:
    rules = {rule.name: rule for rule in builtin_house_rules()}
    assert {"ge", "philips", "siemens"} <= set(rules)
    ge = rules["ge"]
    assert ge.applies_to("GE MEDICAL SYSTEMS", "LightSpeed VCT")
    assert not ge.applies_to("Philips", "Brilliance 64")
    assert any(s.creator == "GEMS_ACQU_01" and s.offset == 0x23 for s in ge.safe_private)
    assert ge.holds
    assert load_profile("images-only").house_rules == builtin_house_rules()


def test_house_rules_for_a_dataset() -> None:
    ds = Dataset()
    ds.Manufacturer = "Philips Medical Systems"
    ds.ManufacturerModelName = "Ingenia"
    assert [r.name for r in load_profile("scanner").house_rules_for(ds)] == ["philips"]
    assert load_profile("scanner").house_rules_for(Dataset()) == ()


def test_custom_house_rule(tmp_path: Path) -> None:
    rule_path = write(
        tmp_path,
        "manufacturer: ACME\nmodels: [Scan 9]\nremove: [StudyDescription]\n"
        "safe_private:\n  - {tag: '(0041,xx10)', creator: ACME 1, vr: DS, name: dose}\n",
        "acme.yaml",
    )
    rule = load_house_rule(rule_path)
    assert rule == HouseRule(
        name="acme",
        manufacturers=("ACME",),
        models=("SCAN 9",),
        safe_private=rule.safe_private,
        holds=(),
        remove=tags("StudyDescription"),
    )
    assert rule.safe_private[0].group == 0x0041 and rule.safe_private[0].offset == 0x10
    assert rule.applies_to("Acme Imaging", "scan 9 pro") and not rule.applies_to("Acme", "X")
    profile = load_profile(write(tmp_path, "extends: exam-type\nhouse_rules: [acme.yaml, ge]\n"))
    assert [r.name for r in profile.house_rules] == ["acme", "ge"]
    assert isinstance(profile, Profile)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("models: [x]\n", "manufacturer is required"),
        ("manufacturer: A\nsafe_private: [{tag: '(0018,xx10)', creator: A, vr: DS}]\n", "odd"),
        ("manufacturer: A\nsafe_private: [{tag: '(0019,xx10)', vr: DS}]\n", "creator"),
        ("manufacturer: A\nsafe_private: x\n", "must be lists"),
        ("manufacturer: A\nsafe_private: [{tag: '(0019,xx10)', creator: A, vr: SQ}]\n", "sequence"),
        ("manufacturer: A\nwhat: x\n", "unknown keys"),
        ("manufacturer: [1]\n", "text or a list of texts"),
    ],
)
def test_malformed_house_rules(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        load_house_rule(write(tmp_path, text, "rule.yaml"))
