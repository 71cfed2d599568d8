"""The engine: identifiers planted everywhere the rules reach must not survive any level.

Datasets are built here with identifiers in every place the engine must clean: top-level
elements, sequences three deep, SR content items, Original Attributes, icon images,
overlay and curve groups, private blocks (safe and unsafe) and the file meta information,
in Latin-1 and UTF-8, in explicit, implicit, big-endian and deflated encodings. The written
bytes are searched for every planted value in the forms it could take.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zlib
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    UID,
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    EnhancedCTImageStorage,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    GrayscaleSoftcopyPresentationStateStorage,
    ImplicitVRLittleEndian,
    KeyObjectSelectionDocumentStorage,
    SecondaryCaptureImageStorage,
)

from aidahub.deid.dates import plan_for
from aidahub.deid.engine import (
    AGE_TOP_CODE,
    IDENTIFIERS,
    EngineResult,
    age_band,
    deidentify,
    method_codes,
)
from aidahub.deid.keys import Key, key_from_secret
from aidahub.deid.profile import PROFILE_NAMES, Profile, load_profile
from aidahub.deid.pseudonyms import patient_identity, pseudonym
from aidahub.deid.rules import Action, basic_action
from aidahub.deid.uids import remap_uid

KEY = key_from_secret(b"aidahub engine test key, 32 bytes!")
OTHER_KEY = key_from_secret(b"another engine test key, 32 bytes")

PATIENT = "Åkerström^Märtha^Öhlund"
FORMER_NAME = "Bergqvist^Märtha"
REFERRING = "Lindqvist^Göransson"
OPERATOR = "Nyström^Ingegärd"
PERSONAL_NUMBER = "19121212-1212"
PHONE = "070-1234567"
EMAIL = "martha.akerstrom@example.se"
ADDRESS = "Storgatan 12"
HSA_ID = "SE2321000131-E000000000001"
INSTITUTION = "Sahlgrenska Universitetssjukhuset"
STATION = "CTSTATION42"
SERIAL = "SN88231X"
ACCESSION = "ACC99812345"
STUDY_ID = "STUDY7788"
REQUEST_ID = "REQ5551234"
PPS_ID = "PPS4455667"
ADMISSION = "ADM7788123"
AE_TITLE = "SAHLGR_CT01"
PRIVATE_SECRET = "HEMLIGPRIVAT"
BIRTH_DATE = "19121212"
STUDY_DATE = "20190314"
ROOT = "1.2.752.24.99."
STUDY_UID = ROOT + "1.1"
SERIES_UID = ROOT + "1.2"
SOP_UID = ROOT + "1.3"
FRAME_UID = ROOT + "1.4"
REFERENCED_UID = ROOT + "1.5"
MODEL = "LightSpeed VCT"

SECRET_TEXT = [
    PATIENT,
    FORMER_NAME,
    REFERRING,
    OPERATOR,
    PERSONAL_NUMBER,
    PHONE,
    EMAIL,
    ADDRESS,
    HSA_ID,
    INSTITUTION,
    STATION,
    SERIAL,
    ACCESSION,
    STUDY_ID,
    REQUEST_ID,
    PPS_ID,
    ADMISSION,
    AE_TITLE,
    PRIVATE_SECRET,
]
SECRET_UIDS = [STUDY_UID, SERIES_UID, SOP_UID, FRAME_UID, REFERENCED_UID, ROOT + "9"]
SECRET_DATES = [BIRTH_DATE, STUDY_DATE, "20190315"]

RNG = np.random.default_rng(7)
PIXELS = RNG.integers(0, 2000, (64, 64), dtype=np.uint16).tobytes()


# ---------------------------------------------------------------------------------------
# Leak search


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _text_forms(secret: str) -> Iterator[str]:
    """The secret as written, its name parts, digits-only forms, in every case and fold."""
    pieces = {secret}
    if "^" in secret:
        parts = [p for p in secret.split("^") if p]
        pieces.update(p for p in parts if len(p) >= 4)
        pieces.add(" ".join(reversed(parts)))
    digits = re.sub(r"\D", "", secret)
    if secret[:1].isdigit() and len(digits) >= 10:
        pieces.update({digits, digits[2:], secret[2:]})
    if "-" in secret and secret[:1].isdigit():
        pieces.add(secret.replace("-", ""))
    for piece in pieces:
        for form in (piece, _fold(piece)):
            yield form
            yield form.upper()
            yield form.lower()


def _date_forms(value: str) -> Iterator[str]:
    yield value
    yield f"{value[:4]}-{value[4:6]}-{value[6:]}"
    yield value[2:]


def _found(data: bytes, needle: str) -> bool:
    lowered = data.lower()
    for encoding in ("utf-8", "latin-1"):
        try:
            raw = needle.encode(encoding)
        except UnicodeEncodeError:
            continue
        if needle.replace(".", "").isdigit():
            # Digit runs must stand alone: a remapped 2.25 UID is a long run of digits.
            if re.search(rb"(?<![\d.])" + re.escape(raw) + rb"(?![\d])", data):
                return True
        elif raw.lower() in lowered:
            return True
    return False


def inflate(data: bytes) -> bytes:
    """Return the data set of a Deflated Explicit VR file inflated, or b"" for others."""
    start = data.find(b"DICM") + 4
    meta_length = int.from_bytes(data[start + 8 : start + 12], "little")
    try:
        return zlib.decompress(data[start + 12 + meta_length :], -15)
    except zlib.error:
        return b""


def find_leaks(data: bytes, texts: Iterable[str] = SECRET_TEXT) -> list[str]:
    """Return every planted value found in *data* (also inside deflated data)."""
    leaks = []
    for blob in (data, inflate(data)):
        if not blob:
            continue
        leaks += [s for s in texts for form in _text_forms(s) if _found(blob, form)]
        leaks += [u for u in SECRET_UIDS if _found(blob, u)]
        leaks += [d for d in SECRET_DATES for form in _date_forms(d) if _found(blob, form)]
    return sorted(set(leaks))


def written(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def reread(data: bytes) -> Dataset:
    return pydicom.dcmread(io.BytesIO(data))


# ---------------------------------------------------------------------------------------
# Planted datasets


def tag(keyword: str) -> int:
    value = tag_for_keyword(keyword)
    assert value is not None, keyword
    return value


def code_item(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def plant_people(ds: Dataset) -> None:
    """Names, identifiers and dates that may appear in any item."""
    ds.PatientName = PATIENT
    ds.PatientID = PERSONAL_NUMBER
    ds.OperatorsName = OPERATOR
    ds.add_new(0x0040A123, "PN", REFERRING)  # Person Name (SR)
    ds.add_new(0x0040A120, "DT", STUDY_DATE + "101502")  # DateTime (SR)


def private_block(ds: Dataset, group: int, creator: str) -> None:
    ds.private_block(group, creator, create=True)
    block = ds.private_block(group, creator)
    block.add_new(0x01, "LO", f"{PATIENT} {PERSONAL_NUMBER}")
    block.add_new(0x02, "OB", f"{PRIVATE_SECRET} {PATIENT}".encode("latin-1") + b"\0")
    block.add_new(0x03, "DA", BIRTH_DATE)
    inner = Dataset()
    plant_people(inner)
    block.add_new(0x04, "SQ", Sequence([inner]))


def overlay_and_curve(ds: Dataset) -> None:
    ds.add_new(0x60000010, "US", 64)
    ds.add_new(0x60000011, "US", 64)
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [1, 1])
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60000022, "LO", PATIENT)
    ds.add_new(0x60001500, "LO", ACCESSION)
    overlay = (PATIENT + PERSONAL_NUMBER).encode("latin-1").ljust(512, b"\0")
    ds.add_new(0x60003000, "OW", overlay)
    ds.add_new(0x60004000, "LT", f"{PATIENT} {PHONE}")
    ds.add_new(0x50000005, "US", 1)
    ds.add_new(0x50000010, "US", 2)
    ds.add_new(0x50000022, "LO", PATIENT)
    ds.add_new(0x50002500, "LO", OPERATOR)
    ds.add_new(0x50003000, "OB", PRIVATE_SECRET.encode() + b"\0\0")


def referenced_image_item() -> Dataset:
    """A kept reference three sequences deep, with identifiers planted at each level."""
    deepest = code_item("121311", "DCM", f"Localizer for {PATIENT} {PERSONAL_NUMBER}")
    plant_people(deepest)
    deepest.InstitutionName = INSTITUTION
    purpose = Dataset()
    purpose.PurposeOfReferenceCodeSequence = Sequence([deepest])
    purpose.ReferencedSOPClassUID = CTImageStorage
    purpose.ReferencedSOPInstanceUID = REFERENCED_UID
    purpose.StationName = STATION
    purpose.AccessionNumber = ACCESSION
    private_block(purpose, 0x0011, "ACME NESTED")
    return purpose


def planted_ct(
    *,
    charset: str = "ISO_IR 100",
    manufacturer: str = "GE MEDICAL SYSTEMS",
    transfer_syntax: str = ExplicitVRLittleEndian,
    study_date: str = STUDY_DATE,
    patient_id: str = PERSONAL_NUMBER,
    sop_uid: str = SOP_UID,
    age: str | None = "052Y",
) -> Dataset:
    """A CT image with identifiers planted everywhere, read back from its bytes."""
    ds = Dataset()
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = SERIES_UID
    ds.FrameOfReferenceUID = FRAME_UID
    ds.InstanceCreatorUID = ROOT + "9"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.Modality = "CT"
    ds.Manufacturer = manufacturer
    ds.ManufacturerModelName = MODEL
    ds.DeviceSerialNumber = SERIAL
    ds.StationName = STATION
    ds.SoftwareVersions = "sw 1.2"
    ds.InstitutionName = INSTITUTION
    ds.InstitutionAddress = f"{ADDRESS}, 41345 Göteborg"
    ds.InstitutionalDepartmentName = "Thoraxradiologi"
    # Patient and study
    ds.PatientName = PATIENT
    ds.PatientID = patient_id
    ds.IssuerOfPatientID = "SE-PNR"
    ds.OtherPatientIDs = PERSONAL_NUMBER.replace("-", "")
    ds.OtherPatientNames = FORMER_NAME
    ds.PatientBirthDate = BIRTH_DATE
    ds.PatientSex = "F"
    if age is not None:
        ds.PatientAge = age
    ds.PatientWeight = "61.5"
    ds.PatientAddress = f"{ADDRESS}, 11122 Stockholm"
    ds.PatientTelephoneNumbers = PHONE
    ds.PatientComments = f"Kontakt {EMAIL}"
    ds.AdditionalPatientHistory = f"Tidigare op, {REFERRING}"
    ds.AdmissionID = ADMISSION
    ds.ReferringPhysicianName = REFERRING
    ds.PerformingPhysicianName = REFERRING
    ds.OperatorsName = OPERATOR
    ds.PhysiciansOfRecord = REFERRING
    ds.RequestingPhysician = REFERRING
    ds.AccessionNumber = ACCESSION
    ds.StudyID = STUDY_ID
    ds.RequestedProcedureID = REQUEST_ID
    ds.PerformedProcedureStepID = PPS_ID
    ds.StudyDate = study_date
    ds.SeriesDate = study_date
    ds.AcquisitionDate = study_date
    ds.ContentDate = study_date
    ds.StudyTime = "101502"
    ds.SeriesTime = "101530"
    ds.AcquisitionTime = "101545.123"
    ds.ContentTime = "101546"
    ds.AcquisitionDateTime = study_date + "101545.123456"
    ds.InstanceCreationDate = "20190315"
    ds.PerformedProcedureStepStartDate = study_date
    ds.StudyDescription = f"CT thorax {PATIENT.replace('^', ' ')} {PERSONAL_NUMBER}"
    ds.SeriesDescription = f"Lungemboli, ring {PHONE}"
    ds.ProtocolName = f"Lungemboli {OPERATOR.split('^')[0]}"
    ds.PerformedProcedureStepDescription = "CT LUNGARTÄRER"
    ds.BodyPartExamined = "CHEST"
    ds.ImageComments = f"{PATIENT} {HSA_ID} {EMAIL}"
    ds.StudyComments = f"Remiss {HSA_ID}"
    ds.ReasonForTheRequestedProcedure = "Misstänkt lungemboli"
    ds.AdmittingDiagnosesDescription = f"Lungemboli hos {PATIENT.split('^')[1]} {PERSONAL_NUMBER}"
    ds.KVP = "120"
    ds.ConvolutionKernel = "STANDARD"
    ds.ProcedureCodeSequence = Sequence([code_item("ZCT1", "99SAHLG", "CT THORAX")])
    ds.ProcedureCodeSequence[0].PatientName = PATIENT
    private_block(ds.ProcedureCodeSequence[0], 0x0013, "ACME PROC")
    # Image pixel and geometry
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 64
    ds.Columns = 64
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelSpacing = [0.7, 0.7]
    ds.SliceThickness = "1.0"
    ds.ImagePositionPatient = [-160, -180, -75.5]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    ds.BurnedInAnnotation = "NO"
    ds.SeriesNumber = "3"
    ds.InstanceNumber = "17"
    ds.AcquisitionNumber = "2"
    ds.PositionReferenceIndicator = "SN"
    big_endian = transfer_syntax == ExplicitVRBigEndian
    ds.PixelData = np.frombuffer(PIXELS, "<u2").astype(">u2").tobytes() if big_endian else PIXELS
    ds["PixelData"].VR = "OW"
    # Kept sequences three deep, removed sequences, SR-like items
    ds.ReferencedImageSequence = Sequence([referenced_image_item()])
    request = Dataset()
    request.RequestedProcedureID = REQUEST_ID
    request.ReasonForTheRequestedProcedure = f"{PATIENT} {PHONE}"
    request.ScheduledProcedureStepID = PPS_ID
    ds.RequestAttributesSequence = Sequence([request])
    modified = Dataset()
    modified.PatientName = FORMER_NAME
    modified.PatientID = PERSONAL_NUMBER
    modified.AccessionNumber = ACCESSION
    original = Dataset()
    original.ModifiedAttributesSequence = Sequence([modified])
    original.ModifyingSystem = AE_TITLE
    original.SourceOfPreviousValues = INSTITUTION
    original.ReasonForTheAttributeModification = "COERCE"
    original.AttributeModificationDateTime = STUDY_DATE + "120000"
    ds.OriginalAttributesSequence = Sequence([original])
    icon = Dataset()
    icon.Rows = 8
    icon.Columns = 8
    icon.SamplesPerPixel = 1
    icon.PhotometricInterpretation = "MONOCHROME2"
    icon.BitsAllocated = 8
    icon.BitsStored = 8
    icon.HighBit = 7
    icon.PixelRepresentation = 0
    icon.PixelData = PATIENT.encode("latin-1").ljust(64, b"\0")
    icon.PatientName = PATIENT
    ds.IconImageSequence = Sequence([icon])
    # Private blocks: an unsafe one, and a GE one with a safe and an unsafe element.
    private_block(ds, 0x0009, "ACME_PRIVATE")
    ge = ds.private_block(0x0019, "GEMS_ACQU_01", create=True)
    ge.add_new(0x23, "DS", "5.0")  # table speed: safe
    ge.add_new(0x24, "DS", "12.5")  # mid scan time: not listed as safe
    ge.add_new(0xAA, "LO", PATIENT)  # unknown element of a known creator
    overlay_and_curve(ds)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = UID(transfer_syntax)
    ds.file_meta.ImplementationClassUID = ROOT + "9"
    ds.file_meta.ImplementationVersionName = "SAHLG_PACS"
    ds.file_meta.SourceApplicationEntityTitle = AE_TITLE
    return reread(written(ds))


def planted_sr(charset: str = "ISO_IR 192") -> Dataset:
    """A comprehensive SR with identifiers in content items three levels deep."""
    ds = Dataset()
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"
    ds.SOPInstanceUID = ROOT + "2.1"
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = ROOT + "2.2"
    ds.Modality = "SR"
    ds.Manufacturer = "GE MEDICAL SYSTEMS"
    ds.PatientName = PATIENT
    ds.PatientID = PERSONAL_NUMBER
    ds.PatientBirthDate = BIRTH_DATE
    ds.AccessionNumber = ACCESSION
    ds.StudyDate = STUDY_DATE
    ds.ContentDate = STUDY_DATE
    ds.ContentTime = "120000"
    ds.InstanceNumber = "1"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "VERIFIED"
    ds.ConceptNameCodeSequence = Sequence([code_item("18748-4", "LN", "Diagnostic imaging report")])
    observer = Dataset()
    observer.VerifyingObserverName = REFERRING
    observer.VerifyingOrganization = INSTITUTION
    observer.VerificationDateTime = STUDY_DATE + "160000"
    ds.VerifyingObserverSequence = Sequence([observer])
    text = Dataset()
    text.RelationshipType = "CONTAINS"
    text.ValueType = "TEXT"
    text.ConceptNameCodeSequence = Sequence([code_item("121071", "DCM", "Finding")])
    text.TextValue = (
        f"Lungemboli höger. Pat {PATIENT.replace('^', ' ')} {PERSONAL_NUMBER}, "
        f"ring {PHONE}. /{OPERATOR.split('^')[0]} {HSA_ID}"
    )
    person = Dataset()
    person.RelationshipType = "HAS OBS CONTEXT"
    person.ValueType = "PNAME"
    person.ConceptNameCodeSequence = Sequence([code_item("121008", "DCM", "Person Observer")])
    person.PersonName = OPERATOR
    when = Dataset()
    when.RelationshipType = "HAS OBS CONTEXT"
    when.ValueType = "DATE"
    when.ConceptNameCodeSequence = Sequence([code_item("111060", "DCM", "Study Date")])
    when.Date = STUDY_DATE
    uid = Dataset()
    uid.RelationshipType = "HAS OBS CONTEXT"
    uid.ValueType = "UIDREF"
    uid.ConceptNameCodeSequence = Sequence([code_item("110180", "DCM", "Study UID")])
    uid.UID = STUDY_UID
    deepest = Dataset()
    deepest.RelationshipType = "CONTAINS"
    deepest.ValueType = "TEXT"
    deepest.ConceptNameCodeSequence = Sequence([code_item("121106", "DCM", "Comment")])
    deepest.TextValue = f"Ring {EMAIL}, {ADDRESS}"
    private_block(deepest, 0x0015, "ACME SR")
    middle = Dataset()
    middle.RelationshipType = "CONTAINS"
    middle.ValueType = "CONTAINER"
    middle.ContinuityOfContent = "SEPARATE"
    middle.ConceptNameCodeSequence = Sequence([code_item("121070", "DCM", "Findings")])
    middle.ContentSequence = Sequence([deepest, person])
    ds.ContentSequence = Sequence([text, when, uid, middle])
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return reread(written(ds))


def reference(sop_uid: str, series_uid: str = SERIES_UID) -> Dataset:
    image = Dataset()
    image.ReferencedSOPClassUID = CTImageStorage
    image.ReferencedSOPInstanceUID = sop_uid
    series = Dataset()
    series.SeriesInstanceUID = series_uid
    series.ReferencedSOPSequence = Sequence([image])
    return series


def planted_ko() -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = KeyObjectSelectionDocumentStorage
    ds.SOPInstanceUID = ROOT + "3.1"
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = ROOT + "3.2"
    ds.Modality = "KO"
    ds.PatientName = PATIENT
    ds.PatientID = PERSONAL_NUMBER
    ds.ContentDate = STUDY_DATE
    ds.ContentTime = "120000"
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([code_item("113000", "DCM", "Of Interest")])
    evidence = Dataset()
    evidence.StudyInstanceUID = STUDY_UID
    evidence.ReferencedSeriesSequence = Sequence([reference(SOP_UID)])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([evidence])
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = "IMAGE"
    image = Dataset()
    image.ReferencedSOPClassUID = CTImageStorage
    image.ReferencedSOPInstanceUID = SOP_UID
    item.ReferencedSOPSequence = Sequence([image])
    ds.ContentSequence = Sequence([item])
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return reread(written(ds))


def planted_pr() -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = GrayscaleSoftcopyPresentationStateStorage
    ds.SOPInstanceUID = ROOT + "4.1"
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = ROOT + "4.2"
    ds.Modality = "PR"
    ds.PatientName = PATIENT
    ds.ContentLabel = "MARKUP"
    ds.ContentCreatorName = OPERATOR
    series = Dataset()
    series.SeriesInstanceUID = SERIES_UID
    image = Dataset()
    image.ReferencedSOPClassUID = CTImageStorage
    image.ReferencedSOPInstanceUID = SOP_UID
    series.ReferencedImageSequence = Sequence([image])
    ds.ReferencedSeriesSequence = Sequence([series])
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return reread(written(ds))


def motivated(tmp_path: Path, extra: str = "") -> Profile:
    path = tmp_path / "characteristics.yaml"
    path.write_text(
        "name: characteristics\nextends: diagnosis\nkeep: [PatientAge, PatientSex]\n"
        f"options: {{recode_age: true}}\nmotivation: Age and sex adjust the model.\n{extra}",
        encoding="utf-8",
    )
    return load_profile(path)


def run(ds: Dataset, profile: str | Profile, key: Key = KEY, **kwargs: object) -> Dataset:
    chosen = load_profile(profile) if isinstance(profile, str) else profile
    result = deidentify(ds, chosen, key, **kwargs)  # type: ignore[arg-type]
    assert result.excluded is None, result.excluded
    assert result.dataset is not None
    return result.dataset


# ---------------------------------------------------------------------------------------
# No planted identifier survives


@pytest.mark.parametrize("name", PROFILE_NAMES)
@pytest.mark.parametrize(
    ("transfer_syntax", "charset"),
    [
        (ExplicitVRLittleEndian, "ISO_IR 100"),
        (ImplicitVRLittleEndian, "ISO_IR 192"),
        (ExplicitVRBigEndian, "ISO_IR 100"),
        (DeflatedExplicitVRLittleEndian, "ISO_IR 192"),
    ],
)
def test_no_planted_identifier_survives(name: str, transfer_syntax: str, charset: str) -> None:
    source = planted_ct(transfer_syntax=transfer_syntax, charset=charset)
    planted = written(source)
    if transfer_syntax == DeflatedExplicitVRLittleEndian:
        assert PATIENT.split("^")[0].encode("utf-8") in inflate(planted)
    assert find_leaks(planted)  # the search finds what was planted
    out = written(run(source, name))
    assert find_leaks(out) == []
    assert reread(out).file_meta.TransferSyntaxUID == transfer_syntax


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_no_identifier_survives_in_sr_content(name: str) -> None:
    source = planted_sr()
    assert find_leaks(written(source))
    out = run(source, name)
    assert find_leaks(written(out)) == []
    # The tree's structure is kept: the content items are still there.
    assert out.ContentSequence[3].ContentSequence[0].ValueType == "TEXT"


def test_no_identifier_survives_a_motivated_profile(tmp_path: Path) -> None:
    out = written(run(planted_ct(), motivated(tmp_path)))
    assert find_leaks(out) == []


def test_manufacturer_and_model_only_from_scanner_on() -> None:
    source = planted_ct()
    images = run(source, "images-only")
    assert images.Manufacturer == ""  # Type 2: emptied, not removed
    assert "ManufacturerModelName" not in images
    assert not _found(written(images), MODEL) and not _found(written(images), "GE MEDICAL")
    scanner = run(source, "scanner")
    assert scanner.Manufacturer == "GE MEDICAL SYSTEMS"
    assert scanner.ManufacturerModelName == MODEL
    assert "SoftwareVersions" not in scanner
    # X/Z/D resolves to Z: emptied, never the serial number, station or institution.
    assert scanner.DeviceSerialNumber == scanner.StationName == scanner.InstitutionName == ""


def test_removed_places_are_gone() -> None:
    for name in PROFILE_NAMES:
        out = run(planted_ct(), name)
        for group in (0x5000, 0x6000, 0x0009, 0x0013):
            assert not [t for t in out.keys() if t.group == group], (name, hex(group))  # noqa: SIM118
        for keyword in (
            "OriginalAttributesSequence",
            "IconImageSequence",
            "RequestAttributesSequence",
            "OtherPatientIDs",
            "OtherPatientNames",
            "PatientBirthDate",
            "ImageComments",
            "AdditionalPatientHistory",
        ):
            assert not out.get(keyword), (name, keyword)


# ---------------------------------------------------------------------------------------
# Each level keeps exactly its element list


def _top_level(ds: Dataset) -> dict[int, object]:
    return {int(t): ds[t].value for t in ds.keys() if not t.is_private}  # noqa: SIM118


ADDED_BY_ENGINE = {
    tag("PatientIdentityRemoved"),
    tag("DeidentificationMethod"),
    tag("DeidentificationMethodCodeSequence"),
    tag("LongitudinalTemporalInformationModified"),
}


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_each_level_keeps_exactly_its_list(name: str) -> None:
    profile = load_profile(name)
    source = planted_ct()
    before = _top_level(source)
    after = _top_level(run(source, name))
    for element, value in after.items():
        if element in ADDED_BY_ENGINE:
            continue
        vr = dictionary_VR(element)
        if element in profile.keep:
            assert element in before
            if element not in profile.scrub and vr not in {"DA", "DT", "UI", "SQ"}:
                assert value == before[element], hex(element)
            continue
        # Not kept: only a pseudonym, a remapped UID, an empty or a dummy value.
        action = basic_action(element)
        assert element in IDENTIFIERS or action in {Action.EMPTY, Action.DUMMY, Action.REMAP}
        if element not in IDENTIFIERS and action is Action.EMPTY:
            assert value in ("", None) or (vr == "SQ" and len(value) == 0), hex(element)  # type: ignore[arg-type]
    for element in profile.keep & set(before):
        assert element in after, f"{name} lost {hex(element)}"


def test_descriptions_are_kept_scrubbed_from_exam_type() -> None:
    source = planted_ct()
    assert "StudyDescription" not in run(source, "time-period")
    exam = run(source, "exam-type")
    # Repeated placeholders are merged when the text would not fit the VR (LO: 64).
    assert exam.StudyDescription == "CT thorax [name removed] [personal number removed]"
    assert exam.SeriesDescription == "Lungemboli, ring [phone removed]"
    assert exam.ProtocolName == "Lungemboli [name removed]"
    assert exam.BodyPartExamined == "CHEST"
    assert exam.ProcedureCodeSequence[0].CodeMeaning == "CT THORAX"
    assert "AdmittingDiagnosesDescription" not in exam
    assert "ReasonForTheRequestedProcedure" not in exam
    diagnosis = run(source, "diagnosis")
    assert diagnosis.AdmittingDiagnosesDescription.startswith("Lungemboli hos [name removed]")


def test_kept_text_loses_this_files_places_and_identifiers() -> None:
    source = planted_ct()
    source.SeriesDescription = f"Sahlgrenskas {STATION} {ACCESSION} {AE_TITLE} 41345"
    source.ProtocolName = f"Lungemboli ref {ACCESSION[3:]} Göteborg"
    out = run(source, "exam-type")
    # Too long for LO with every placeholder: repeated placeholders are merged.
    assert out.SeriesDescription == "[address removed] [identifier removed] [address removed]"
    assert out.ProtocolName == "Lungemboli ref [identifier removed] [address removed]"


def test_the_leak_search_finds_every_form() -> None:
    for text in ("AKERSTROM", "märtha åkerström", "121212-1212", "1212121212", "2019-03-14"):
        assert find_leaks(f"xx {text} yy".encode()), text
    assert find_leaks(ROOT.encode() + b"1.1")
    assert not find_leaks(b"2.25.1912121212121212 [name removed] 19000101")


def test_sr_findings_only_at_the_diagnosis_level() -> None:
    source = planted_sr()
    exam = run(source, "exam-type")
    assert "TextValue" not in exam.ContentSequence[0]
    diagnosis = run(source, "diagnosis")
    finding = diagnosis.ContentSequence[0].TextValue
    assert finding.startswith("Lungemboli höger. Pat [name removed]")
    assert "[personal number removed]" in finding and "[phone removed]" in finding
    assert diagnosis.ContentSequence[0].ConceptNameCodeSequence[0].CodeMeaning == "Finding"


# ---------------------------------------------------------------------------------------
# Identifiers, UIDs, dates


def test_identifiers_become_keyed_pseudonyms() -> None:
    source = planted_ct()
    out = run(source, "images-only")
    patient = pseudonym(KEY, "patient", patient_identity(source))
    assert out.PatientName == patient and out.PatientID == patient
    assert out.AccessionNumber == pseudonym(KEY, "accession", ACCESSION)
    assert out.StudyID == pseudonym(KEY, "study-id", STUDY_ID)
    assert out.RequestedProcedureID == pseudonym(KEY, "request", REQUEST_ID)
    assert out.PerformedProcedureStepID == pseudonym(KEY, "examination", PPS_ID)
    nested = out.ReferencedImageSequence[0]
    assert nested.AccessionNumber == out.AccessionNumber
    deepest = nested.PurposeOfReferenceCodeSequence[0]
    assert deepest.PatientName == patient
    assert deepest.PersonName == "ANONYMOUS"  # Table E.1-1: D


def test_uids_are_remapped_everywhere() -> None:
    source = planted_ct()
    out = run(source, "images-only")
    assert out.SOPInstanceUID == remap_uid(KEY, SOP_UID)
    assert out.StudyInstanceUID == remap_uid(KEY, STUDY_UID)
    assert out.SeriesInstanceUID == remap_uid(KEY, SERIES_UID)
    assert out.FrameOfReferenceUID == remap_uid(KEY, FRAME_UID)
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert out.file_meta.MediaStorageSOPClassUID == CTImageStorage
    assert out.SOPClassUID == CTImageStorage
    nested = out.ReferencedImageSequence[0]
    assert nested.ReferencedSOPInstanceUID == remap_uid(KEY, REFERENCED_UID)
    assert nested.ReferencedSOPClassUID == CTImageStorage
    assert "SourceApplicationEntityTitle" not in out.file_meta
    assert out.file_meta.ImplementationClassUID != ROOT + "9"


def test_references_in_key_objects_and_presentation_states_resolve() -> None:
    ct = run(planted_ct(), "images-only")
    ko = run(planted_ko(), "images-only")
    pr = run(planted_pr(), "images-only")
    evidence = ko.CurrentRequestedProcedureEvidenceSequence[0]
    assert evidence.StudyInstanceUID == ct.StudyInstanceUID
    series = evidence.ReferencedSeriesSequence[0]
    assert series.SeriesInstanceUID == ct.SeriesInstanceUID
    assert series.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == ct.SOPInstanceUID
    item = ko.ContentSequence[0].ReferencedSOPSequence[0]
    assert item.ReferencedSOPInstanceUID == ct.SOPInstanceUID
    assert item.ReferencedSOPClassUID == ct.SOPClassUID
    assert ko.ContentDate == "19000101"  # Type 1 in SR documents: a dummy, not the date
    pr_series = pr.ReferencedSeriesSequence[0]
    assert pr_series.SeriesInstanceUID == ct.SeriesInstanceUID
    assert pr_series.ReferencedImageSequence[0].ReferencedSOPInstanceUID == ct.SOPInstanceUID
    assert pr.ContentCreatorName == ""
    for out in (ko, pr):
        assert find_leaks(written(out)) == []


def test_dates_removed_below_time_period() -> None:
    out = run(planted_ct(), "scanner")
    assert out.StudyDate == "" and out.StudyTime == ""  # Type 2: emptied
    assert out.AcquisitionDate == out.ContentDate == out.AcquisitionDateTime == ""
    for keyword in ("SeriesDate", "InstanceCreationDate", "PerformedProcedureStepStartDate"):
        assert keyword not in out  # X/D and X resolve to removal
    assert out.LongitudinalTemporalInformationModified == "REMOVED"


def test_dates_shifted_rigidly_from_time_period() -> None:
    source = planted_ct()
    out = run(source, "time-period")
    delta = plan_for(KEY, patient_identity(source), anchor=None).study_delta(date(2019, 3, 14))
    shifted = (date(2019, 3, 14) + delta).strftime("%Y%m%d")
    assert out.StudyDate == out.SeriesDate == out.AcquisitionDate == out.ContentDate == shifted
    assert out.InstanceCreationDate == (date(2019, 3, 15) + delta).strftime("%Y%m%d")
    assert out.AcquisitionDateTime == shifted + "101545.123456"
    assert out.StudyTime == "101502"  # whole days: the time of day stays
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    assert out.PatientBirthDate == ""
    deepest = out.ReferencedImageSequence[0].PurposeOfReferenceCodeSequence[0]
    assert deepest.DateTime == shifted + "101502"


def test_the_batch_date_plan_is_used() -> None:
    source = planted_ct()
    plan = plan_for(KEY, patient_identity(source), anchor=date(2018, 1, 1), scale_intervals=True)
    out = run(source, "time-period", date_plan=plan)
    assert out.StudyDate == (date(2019, 3, 14) + plan.study_delta(date(2019, 3, 14))).strftime(
        "%Y%m%d"
    )


def test_remove_times_blanks_times_and_hides_the_order(tmp_path: Path) -> None:
    path = tmp_path / "no-times.yaml"
    path.write_text("extends: time-period\noptions: {remove_times: true}\n", encoding="utf-8")
    profile = load_profile(path)
    first = planted_ct(study_date="20190314", sop_uid=ROOT + "5.1")
    second = planted_ct(study_date="20200611", sop_uid=ROOT + "5.2")
    plan = plan_for(KEY, patient_identity(first), anchor=date(2019, 3, 14), remove_times=True)
    outs = [run(ds, profile, date_plan=plan) for ds in (first, second)]
    assert outs[0].StudyDate == outs[1].StudyDate != ""
    for out in outs:
        assert out.StudyTime == "" and out.AcquisitionTime == "" and out.ContentTime == ""
        assert len(out.AcquisitionDateTime) == 8
        assert out.InstanceNumber in ("", None) and out.SeriesNumber in ("", None)
        assert "AcquisitionNumber" not in out
    assert "times removed" in " ".join(outs[0].DeidentificationMethod)


# ---------------------------------------------------------------------------------------
# Patient characteristics: only by a motivated profile, age in bands


@pytest.mark.parametrize(
    ("value", "band"),
    [
        ("052Y", "050Y"),
        ("050Y", "050Y"),
        ("054Y", "050Y"),
        ("089Y", "085Y"),
        ("090Y", "090Y"),
        ("093Y", "090Y"),
        ("104Y", "090Y"),
        ("004Y", "000Y"),
        ("011M", "000Y"),
        ("030M", "000Y"),
        ("072M", "005Y"),
        ("003W", "000Y"),
        ("010D", "000Y"),
        ("", ""),
        ("fifty", ""),
    ],
)
def test_age_band(value: str, band: str) -> None:
    assert age_band(value) == band


def test_age_bands_are_top_coded() -> None:
    assert age_band(f"{AGE_TOP_CODE + 9:03d}Y") == f"{AGE_TOP_CODE:03d}Y"


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_no_level_keeps_age_or_sex(name: str) -> None:
    out = run(planted_ct(), name)
    assert "PatientAge" not in out
    assert out.PatientSex == ""  # Type 2: emptied
    assert "PatientWeight" not in out


def test_a_motivated_profile_keeps_sex_and_age_in_bands(tmp_path: Path) -> None:
    profile = motivated(tmp_path)
    out = run(planted_ct(age="052Y"), profile)
    assert out.PatientAge == "050Y" and out.PatientSex == "F"
    assert out.PatientBirthDate == ""
    assert "PatientWeight" not in out
    assert "age in 5-year bands, 90+ top-coded" in out.DeidentificationMethod
    codes = [item.CodeValue for item in out.DeidentificationMethodCodeSequence]
    assert "113108" in codes  # Retain Patient Characteristics
    # No age given: computed from the birth date, then banded; the birth date never kept.
    derived = run(planted_ct(age=None), profile)
    assert derived.PatientAge == f"{AGE_TOP_CODE:03d}Y"  # born 1912, seen 2019: top band


# ---------------------------------------------------------------------------------------
# What the output says about itself


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("images-only", ["113100", "113111"]),
        ("scanner", ["113100", "113111"]),
        ("time-period", ["113100", "113107", "113111"]),
        ("exam-type", ["113100", "113105", "113107", "113111"]),
        ("diagnosis", ["113100", "113104", "113105", "113107", "113111"]),
    ],
)
def test_deidentification_attributes(name: str, codes: list[str]) -> None:
    out = run(planted_ct(), name)
    assert out.PatientIdentityRemoved == "YES"
    method = list(out.DeidentificationMethod)
    assert f"profile {name} (level {PROFILE_NAMES.index(name) + 1})" in method
    assert f"key {KEY.key_id}" in method
    assert all(len(value) <= 64 for value in method)
    sequence = out.DeidentificationMethodCodeSequence
    assert [item.CodeValue for item in sequence] == codes
    assert {item.CodingSchemeDesignator for item in sequence} == {"DCM"}
    data = written(out)
    assert KEY.secret not in data and KEY.secret.hex().encode() not in data


def test_method_codes_follow_annex_e_option_columns(tmp_path: Path) -> None:
    assert method_codes(load_profile("images-only")) == [
        ("113100", "Basic Application Confidentiality Profile")
    ]
    path = tmp_path / "device.yaml"
    path.write_text(
        "extends: scanner\nkeep: [StationName, InstitutionName]\nmotivation: Site study.\n",
        encoding="utf-8",
    )
    values = [code for code, _ in method_codes(load_profile(path))]
    assert "113109" in values and "113112" in values


# ---------------------------------------------------------------------------------------
# House rules and private elements


def test_safe_private_elements_follow_the_manufacturer() -> None:
    out = run(planted_ct(), "images-only")
    block = out.private_block(0x0019, "GEMS_ACQU_01")
    assert block[0x23].value == "5.0"
    assert 0x00191024 not in out and 0x001910AA not in out
    other = run(planted_ct(manufacturer="SIEMENS"), "images-only")
    assert not [t for t in other.keys() if t.is_private]  # noqa: SIM118
    codes = [item.CodeValue for item in other.DeidentificationMethodCodeSequence]
    assert "113111" not in codes


def test_safe_private_elements_survive_implicit_vr() -> None:
    out = run(planted_ct(transfer_syntax=ImplicitVRLittleEndian), "scanner")
    data = written(out)
    back = reread(data)
    assert back.private_block(0x0019, "GEMS_ACQU_01")[0x23].value == "5.0"


def test_house_rule_without_safe_elements(tmp_path: Path) -> None:
    path = tmp_path / "bare.yaml"
    path.write_text("extends: exam-type\nhouse_rules: []\n", encoding="utf-8")
    out = run(planted_ct(), load_profile(path))
    assert not [t for t in out.keys() if t.is_private]  # noqa: SIM118


def test_house_rule_removes_what_a_manufacturer_misuses(tmp_path: Path) -> None:
    rule = tmp_path / "ge-site.yaml"
    rule.write_text("manufacturer: GE MEDICAL\nremove: [ProtocolName]\n", encoding="utf-8")
    path = tmp_path / "site.yaml"
    path.write_text("extends: exam-type\nhouse_rules: [ge-site.yaml]\n", encoding="utf-8")
    out = run(planted_ct(), load_profile(path))
    assert "ProtocolName" not in out
    assert out.StudyDescription.startswith("CT thorax")


# ---------------------------------------------------------------------------------------
# Bytes, encodings, determinism


def test_pixel_bytes_are_identical_and_not_decoded() -> None:
    source = planted_ct()
    result = deidentify(source, load_profile("diagnosis"), KEY)
    assert result.dataset is not None
    assert result.dataset.PixelData == PIXELS
    raw = result.dataset.get_item(tag("PixelData"))
    assert raw.value == PIXELS


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(
    "name",
    ["MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "693_J2KI.dcm"],
)
def test_compressed_pixel_data_is_copied_byte_for_byte(name: str) -> None:
    path = Path(pydicom.data.__file__).parent / "test_files" / name
    if not path.is_file():
        pytest.skip(f"{name} is not among pydicom's bundled test files")
    source = pydicom.dcmread(path)
    source.Manufacturer = source.get("Manufacturer") or "ACME"
    original = source.PixelData
    out = run(source, "images-only")
    back = reread(written(out))
    assert back.PixelData == original
    assert back.file_meta.TransferSyntaxUID == source.file_meta.TransferSyntaxUID


def test_the_input_is_not_changed() -> None:
    source = planted_ct()
    before = written(source)
    for name in PROFILE_NAMES:
        run(source, name)
    assert written(source) == before


def test_same_key_same_output_other_key_other_output() -> None:
    first = written(run(planted_ct(), "time-period"))
    again = written(run(planted_ct(), "time-period"))
    other = written(run(planted_ct(), "time-period", key=OTHER_KEY))
    assert first == again
    assert first != other
    assert reread(first).StudyInstanceUID != reread(other).StudyInstanceUID


@pytest.mark.parametrize("charset", ["ISO_IR 100", "ISO_IR 192"])
def test_character_set_stays_consistent_with_the_text(charset: str) -> None:
    source = planted_ct(charset=charset)
    out = reread(written(run(source, "exam-type")))
    assert out.SpecificCharacterSet == charset
    assert out.PerformedProcedureStepDescription == "CT LUNGARTÄRER"


def test_actions_are_counted() -> None:
    result = deidentify(planted_ct(), load_profile("images-only"), KEY)
    assert isinstance(result, EngineResult)
    assert set(result.actions) <= {"K", "X", "Z", "D", "U", "C"}
    assert result.actions["X"] > 50 and result.actions["U"] >= 5 and result.actions["K"] > 20


def test_excluded_objects_are_not_deidentified() -> None:
    source = planted_ct()
    source.SOPClassUID = SecondaryCaptureImageStorage
    result = deidentify(source, load_profile("diagnosis"), KEY)
    assert result.dataset is None
    assert result.excluded is not None and result.excluded.startswith("secondary-capture")


def test_enhanced_images_get_dummies_where_type_1() -> None:
    source = planted_ct()
    source.SOPClassUID = EnhancedCTImageStorage
    frame = Dataset()
    frame.PixelMeasuresSequence = Sequence([Dataset()])
    frame.PixelMeasuresSequence[0].PixelSpacing = [0.7, 0.7]
    frame.PixelMeasuresSequence[0].PatientName = PATIENT
    source.SharedFunctionalGroupsSequence = Sequence([frame])
    out = run(source, "images-only")
    assert out.ContentDate == "19000101" and out.DeviceSerialNumber == "REMOVED"
    assert out.AcquisitionDateTime == "19000101000000"
    shared = out.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    assert shared.PixelSpacing == [0.7, 0.7]
    assert find_leaks(written(out)) == []


def test_unknown_and_group_length_elements_are_removed() -> None:
    source = planted_ct()
    source.add_new(0x00181234, "LO", PATIENT)  # not in the data dictionary
    source.add_new(0x00080000, "UL", 100)  # group length
    out = run(source, "diagnosis")
    assert 0x00181234 not in out and 0x00080000 not in out


# ---------------------------------------------------------------------------------------
# The files that ship with pydicom and deid-data


def _bundled_files() -> list[Path]:
    import deid_data

    pydicom_files = Path(pydicom.data.__file__).parent / "test_files"
    deid_files = Path(deid_data.__file__).parent / "data"
    files = [p for p in sorted(pydicom_files.rglob("*")) if p.is_file()]
    files += sorted(deid_files.rglob("*.dcm"))
    return files


def _readable(path: Path) -> Dataset | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path)
            ds.get("PixelData")
        except Exception:  # noqa: BLE001 - not every bundled file is DICOM
            return None
    return ds


def _originals(ds: Dataset) -> tuple[list[str], list[str]]:
    names, uids = set(), set()
    for element in ds.iterall():
        if element.VR == "PN" and element.value:
            for part in re.split(r"[\^= ,]+", str(element.value)):
                if len(part) >= 5 and part.isalpha():
                    names.add(part)
        elif element.VR == "UI" and element.value and element.tag != 0x00080016:
            values = element.value if element.VM > 1 else [element.value]
            uids.update(str(v) for v in values if not str(v).startswith("1.2.840.10008."))
    return sorted(names), sorted(u for u in uids if len(u) > 12)


@pytest.mark.filterwarnings("ignore")
def test_bundled_files_go_through_every_profile() -> None:
    files = _bundled_files()
    assert files, "pydicom's test files and deid-data should be installed"
    profiles = [load_profile(name) for name in PROFILE_NAMES]
    done = 0
    for path in files:
        source = _readable(path)
        if source is None:
            continue
        names, uids = _originals(source)
        for profile in profiles:
            result = deidentify(source, profile, KEY)
            if result.dataset is None:
                assert result.excluded
                continue
            done += 1
            if "SOPClassUID" not in result.dataset:
                continue  # a fragment, not a storable object
            data = written(result.dataset)
            leaked = [n for n in names if _found(data, n)] + [u for u in uids if _found(data, u)]
            assert leaked == [], (path.name, profile.name, leaked)
    assert done > 100


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_sr_subject_context_items_never_survive(name: str) -> None:
    """A Subject Birth Date item, shifted like other dates, would still give the exact age."""
    from pydicom.sequence import Sequence as Seq

    def item(value_type: str, code: tuple[str, str, str], **values: object) -> Dataset:
        it = Dataset()
        it.RelationshipType = "HAS OBS CONTEXT"
        it.ValueType = value_type
        concept = Dataset()
        concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning = code
        it.ConceptNameCodeSequence = Seq([concept])
        for keyword, value in values.items():
            setattr(it, keyword, value)
        return it

    source = planted_ct()
    source.ContentSequence = Seq([
        item("DATE", ("121031", "DCM", "Subject Birth Date"), Date="19121212"),
        item("DATE", ("21112-8", "LN", "Birth date"), Date="19121212"),
        item("CODE", ("121032", "DCM", "Subject Sex"), ConceptCodeSequence=Seq()),
        item("DATE", ("111060", "DCM", "Study Date"), Date="20230314"),
    ])  # fmt: skip
    out = run(source, name)
    concepts = [
        i.ConceptNameCodeSequence[0].CodeValue for i in out.get("ContentSequence", None) or []
    ]
    assert not {"121031", "21112-8", "121032"} & set(concepts)
