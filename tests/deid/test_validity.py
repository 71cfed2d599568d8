"""Output validity: dciodvfy finds no error in de-identified output that the input lacked.

Issue 4, "Output validity": David Clunie's IOD verifier (``dciodvfy``, from the
``dicom3tools`` test dependency) must report no new errors on the output compared with
the input, for every modality in the tests. Every written object of the planted corpus
(CT in four encodings, MR, CR, US, SR, KO and PR) goes through the engine at every
built-in level; its errors are compared, as a set of normalized messages, with those of
its input. An error the input already has may remain.

Where no valid output keeps the level's privacy, the error stays and is listed in
:data:`ALLOWED` with the reason. The engine never keeps information to please the
verifier.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

from aidahub.deid.engine import deidentify
from aidahub.deid.keys import key_from_secret
from aidahub.deid.profile import PROFILE_NAMES, load_profile
from tests.deid.planted import Planted, make_corpus

KEY = key_from_secret(b"aidahub validity test key, 32 b!")

MODALITIES = {
    "ct1_1": "CT",
    "ct1_3_j2k": "CT",
    "ct2_1_latin1": "CT",
    "ct2_2_deflated": "CT",
    "mr": "MR",
    "cr": "CR",
    "us_rgb": "US",
    "sr": "SR",
    "ko": "KO",
    "pr": "PR",
}
"""The corpus's written objects (``make_corpus`` roles) and their modality."""

ALLOWED: dict[tuple[str, str], tuple[str, ...]] = {
    # PS3.3 C.8.3.1 MR Image module: Scanning Sequence (0018,0020) is Type 1, and its only
    # valid values (SE, IR, GR, EP, RM) name the pulse sequence. That is acquisition
    # technique, which the policy first allows at exam-type; below it the element is
    # removed. A dummy from the enumerated list would state a false technique.
    **{
        ("MR", level): (
            "Error - Missing attribute Type 1 Required Element=<ScanningSequence> Module=<MRImage>",
        )
        for level in ("images-only", "scanner", "time-period")
    },
    # NOT a privacy trade-off, and to be fixed: below diagnosis the engine removes Text
    # Value from SR and KO TEXT content items (Table E.1-1 has no row for it, so X), which
    # PS3.3 Table C.18.1-1 (Text Object Macro) makes Type 1 in a TEXT item. A dummy text
    # ("REMOVED") or dropping the TEXT items would both fix it without keeping anything,
    # but each contradicts tests/deid/test_engine.py (test_sr_findings_only_at_the_
    # diagnosis_level wants the item without Text Value, test_no_identifier_survives_in_
    # sr_content wants the item kept), which this change may not edit: the lead decides.
    **{
        (modality, level): (
            "Error - Missing attribute Type 1C Conditional Element=<TextValue> "
            "Module=<DocumentContentMacro>",
        )
        for modality in ("SR", "KO")
        for level in ("images-only", "scanner", "time-period", "exam-type")
    },
}
"""Errors the output may add, by (modality, level), each with the reason it must stay."""


@cache
def _dciodvfy() -> str | None:
    found = shutil.which("dciodvfy")
    beside = Path(sys.executable).with_name("dciodvfy")
    return found or (str(beside) if beside.exists() else None)


@pytest.fixture(scope="module")
def dciodvfy() -> str:
    found = _dciodvfy()
    if found is None:
        pytest.skip("dciodvfy is not installed: run `make install` (dicom3tools test extra)")
    return found


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    return make_corpus(tmp_path_factory.mktemp("validity") / "in", seed=0)


# Values an error message may quote (element values, lengths, private tags of garbage):
# they change legitimately with de-identification (UIDs, pseudonyms, shifted dates).
_QUOTED = re.compile(r"\s*(?:\[\d+\])?\s*= <[^<>]*>")
_LENGTH = re.compile(r"0x[0-9a-fA-F]{5,8}")
_PRIVATE_TAG = re.compile(r"\(0x[0-9a-f]{3}[13579bdf],0x[0-9a-f]{4}\)")


def normalize(message: str) -> str:
    """Strip what legitimately changes from one dciodvfy message: values and lengths."""
    message = _QUOTED.sub(" = <>", message)
    message = _LENGTH.sub("0x#", message)
    return _PRIVATE_TAG.sub("(private)", message).strip()


def errors(dciodvfy: str, data: bytes, where: Path) -> set[str]:
    """The normalized error messages dciodvfy reports for a file's bytes.

    This build of dciodvfy cannot inflate Deflated Explicit VR Little Endian (it reads the
    compressed bytes as elements), so deflated files are verified as the same dataset in
    Explicit VR Little Endian; the output's encoding is checked by pydicom reading it back.
    """
    ds = pydicom.dcmread(BytesIO(data))
    if ds.file_meta.TransferSyntaxUID == DeflatedExplicitVRLittleEndian:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        buffer = BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        data = buffer.getvalue()
    where.write_bytes(data)
    done = subprocess.run(
        [dciodvfy, str(where)], capture_output=True, text=True, errors="replace", check=False
    )
    lines = (done.stdout + done.stderr).splitlines()
    return {normalize(line) for line in lines if "Error -" in line}


def _encode(ds: pydicom.Dataset) -> bytes:
    # As aidahub.deid.batch writes it.
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.mark.parametrize("level", PROFILE_NAMES)
@pytest.mark.parametrize("role", sorted(MODALITIES))
def test_output_has_no_error_the_input_lacked(
    dciodvfy: str, corpus: Planted, role: str, level: str, tmp_path: Path
) -> None:
    source = corpus.files[role].read_bytes()
    before = errors(dciodvfy, source, tmp_path / "in.dcm")
    result = deidentify(pydicom.dcmread(BytesIO(source)), load_profile(level), KEY)
    assert result.dataset is not None, result.excluded
    after = errors(dciodvfy, _encode(result.dataset), tmp_path / "out.dcm")
    allowed = set(ALLOWED.get((MODALITIES[role], level), ()))
    new = sorted(after - before - allowed)
    assert new == [], f"{role} at {level}: dciodvfy reports new errors:\n" + "\n".join(new)


def test_every_allowed_error_still_occurs(dciodvfy: str, corpus: Planted, tmp_path: Path) -> None:
    """An allow-list entry the engine no longer needs is removed, not left to hide errors."""
    for (modality, level), messages in ALLOWED.items():
        roles = [role for role, kind in MODALITIES.items() if kind == modality]
        seen: set[str] = set()
        for role in roles:
            source = corpus.files[role].read_bytes()
            result = deidentify(pydicom.dcmread(BytesIO(source)), load_profile(level), KEY)
            assert result.dataset is not None
            seen |= errors(dciodvfy, _encode(result.dataset), tmp_path / "out.dcm")
        assert set(messages) <= seen, (modality, level, set(messages) - seen)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Error - Value invalid for this VR - (0x0008,0x0018) UI SOP Instance UID "
            " UI [0] = <1.2.3.4> - Character invalid for this VR",
            "Error - Value invalid for this VR - (0x0008,0x0018) UI SOP Instance UID "
            " UI = <> - Character invalid for this VR",
        ),
        (
            "(0x996d,0x7c0b)  ?  - Error - Bad Value Length - not a multiple of 2 - VL is"
            " 0xc7fb65cf should be 0xc7fb65d0",
            "(private)  ?  - Error - Bad Value Length - not a multiple of 2 - VL is 0x# should"
            " be 0x#",
        ),
        (
            "Error - Missing attribute Type 2 Required Element=<KVP> Module=<CTImage>",
            "Error - Missing attribute Type 2 Required Element=<KVP> Module=<CTImage>",
        ),
    ],
)
def test_normalize_strips_values_but_keeps_element_and_module_names(
    message: str, expected: str
) -> None:
    assert normalize(message) == expected


# The engine's fixes for what dciodvfy found, checked without dciodvfy as well.


def _run(corpus: Planted, role: str, level: str) -> pydicom.Dataset:
    source = pydicom.dcmread(corpus.files[role])
    result = deidentify(source, load_profile(level), KEY)
    assert result.dataset is not None
    return pydicom.dcmread(BytesIO(_encode(result.dataset)))


def test_cr_keeps_body_part_and_laterality_empty_below_exam_type(corpus: Planted) -> None:
    # CR Series module (PS3.3 C.8.1.1): Body Part Examined Type 2; General Series
    # (C.7.3.1): Laterality Type 2C once the body part is unknown.
    out = _run(corpus, "cr", "images-only")
    assert out.BodyPartExamined == "" and out.Laterality == ""
    assert _run(corpus, "cr", "exam-type").BodyPartExamined == "CHEST"
    assert "BodyPartExamined" not in _run(corpus, "ct1_1", "images-only")


def test_presentation_state_gets_dummy_creation_date_and_no_empty_annotation(
    corpus: Planted,
) -> None:
    # Presentation State Identification (PS3.3 C.11.10): creation date and time Type 1.
    out = _run(corpus, "pr", "images-only")
    assert (out.PresentationCreationDate, out.PresentationCreationTime) == ("19000101", "000000")
    # Graphic Annotation items lose layer, text and graphics at every level: no items, no
    # sequence (the module is conditional).
    for level in PROFILE_NAMES:
        assert "GraphicAnnotationSequence" not in _run(corpus, "pr", level), level
    shifted = _run(corpus, "pr", "time-period").PresentationCreationDate
    assert shifted not in ("19000101", corpus.values["study_date"])


def test_ultrasound_loses_acquisition_datetime_instead_of_emptying_it(corpus: Planted) -> None:
    # US Image module (PS3.3 C.8.5.6): Acquisition DateTime Type 1C, only for IVUS.
    assert "AcquisitionDateTime" not in _run(corpus, "us_rgb", "images-only")
    assert _run(corpus, "ct1_1", "images-only").AcquisitionDateTime == ""


def test_referenced_study_sequence_is_removed_not_emptied(corpus: Planted) -> None:
    # General Study module (PS3.3 C.7.2.1): Type 3, a present sequence needs an item.
    assert "ReferencedStudySequence" not in _run(corpus, "ct2_1_latin1", "images-only")
