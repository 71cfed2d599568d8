"""The synthetic corpus of benchmarks/deid.py: invented patients, with identifiers planted.

:func:`ensure_corpus` writes, once per set of parameters, a folder of DICOM files that look
like a clinical export: CT series (512 x 512, 12 bits stored in 16, a body with lungs, spine
and noise), MR, CR, ultrasound (RGB, Burned In Annotation NO), an X-Ray Radiation Dose SR, a
Comprehensive SR with a free-text finding, and CT slices compressed with RLE Lossless and
JPEG 2000 Lossless. Every file carries the identifying elements an archive fills in (names,
IDs, birth and study dates, institution, physicians, request numbers, UIDs) and private
blocks holding the patient's name and a reference code.

Each planted value is listed in ``manifest.json`` with its category, so a benchmark can
search a de-identifier's output bytes for them. Every value is at least six bytes long, so a
chance match in 16-bit pixel data is practically impossible.

The folder name holds a hash of the parameters and of this file's source, so changing either
builds a new corpus; an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
    generate_uid,
)

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
CR_IMAGE = "1.2.840.10008.5.1.4.1.1.1"
US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
XRAY_DOSE_SR = "1.2.840.10008.5.1.4.1.1.88.67"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
UID_ROOT = "1.2.826.0.1.3680043.8.498."  # pydicom's root: invented UIDs, as in its tests


@dataclass(frozen=True)
class CorpusSpec:
    """How many files of each kind; the whole spec (and this module's source) keys the cache."""

    ct_slices: int = 1000
    mr_slices: int = 96
    cr_images: int = 4
    us_images: int = 8
    dose_reports: int = 2
    structured_reports: int = 2
    rle_slices: int = 8
    j2k_slices: int = 8
    seed: int = 20240917

    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True) + generator_hash()
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def generator_hash() -> str:
    """A hash of this module's source: a changed generator builds a new corpus."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


@dataclass(frozen=True)
class Corpus:
    root: Path
    files: int
    bytes: int
    planted: dict[str, str]  # value -> category
    counts: dict[str, int]  # kind -> files

    @property
    def ct_dir(self) -> Path:
        return self.root / "ct"


# -- the invented people and places ---------------------------------------------------------


@dataclass(frozen=True)
class Patient:
    name: str
    patient_id: str
    other_id: str
    birth_date: str
    sex: str
    age: str
    charset: str
    address: str
    phone: str
    private_ref: str


PATIENTS = (
    Patient("Åkerström^Ingegerd^Maria", "19461231-4568", "OPI-5566778", "19461231", "F", "076Y",
            "ISO_IR 100", "Kvarnbacksvägen 12, 416 52 Göteborg", "+46-31-7654321", "KAROREF-88213"),
    Patient("Öhrnberg^Jöns-Erik", "19580307-9876", "OPI-6677889", "19580307", "M", "064Y",
            "ISO_IR 192", "Hjortronstigen 4, 437 34 Lindome", "+46-31-9988776", "KAROREF-90417"),
    Patient("Nakamura^Hiroshige", "MRN00482913", "OPI-7788990", "19720519", "M", "051Y",
            "ISO_IR 100", "Sjömansgatan 8, 414 63 Göteborg", "+46-70-1234598", "KAROREF-71125"),
    Patient("Fernández^Lucíana", "PID7730015X", "OPI-8899001", "19890822", "F", "034Y",
            "ISO_IR 100", "Lingonvägen 21, 433 31 Partille", "+46-73-5554433", "KAROREF-66390"),
)  # fmt: skip

STAFF = {
    "ReferringPhysicianName": "Holmqvist^Sigbritt^^Dr",
    "PerformingPhysicianName": "Wennerholm^Gunnar",
    "OperatorsName": "Lindgren-Sjö^Karin",
    "NameOfPhysiciansReadingStudy": "Bergqvist^Ulrika",
}
SITE = {
    "InstitutionName": "Östra Testsjukhuset",
    "InstitutionAddress": "Blåbärsgatan 17, 413 45 Göteborg",
    "InstitutionalDepartmentName": "Thoraxradiologi avd 5",
    "StationName": "CTLAB07-TESTSJ",
    "DeviceSerialNumber": "SN83721946",
}


@dataclass(frozen=True)
class Study:
    patient: Patient
    date: str
    time: str
    accession: str
    study_id: str
    request_id: str
    step_id: str
    performed_id: str
    uid: str


# patient, study date and time, accession, study ID, request, scheduled and performed step
_STUDY_PLAN = """
0 20230314 101512 A88120455 STX44719 RP55120987 SPS9912045 PPS7712034
0 20230921 084203 A88170233 STX47102 RP55170021 SPS9917002 PPS7717003
1 20221107 142215 A87650912 STX39921 RP54650911 SPS9865091 PPS7665090
2 20240102 073355 A89001277 STX52218 RP56001276 SPS9900127 PPS7800128
3 20240615 161040 A89260543 STX55607 RP56260542 SPS9926054 PPS7826055
"""


def _studies(rng: np.random.Generator) -> list[Study]:
    studies = []
    for line in _STUDY_PLAN.split("\n"):
        if line:
            patient, *numbers = line.split()
            uid = UID_ROOT + str(rng.integers(10**15, 10**16))
            studies.append(Study(PATIENTS[int(patient)], *numbers, uid))
    return studies


FREE_TEXT = (
    "Findings discussed with Ingegerd Åkerström (19461231-4568) and her husband on "
    "2023-03-15 at Östra Testsjukhuset; follow-up CT in 6 months. Phone +46-31-7654321."
)


def planted_values(studies: list[Study], series_uids: list[str]) -> dict[str, str]:
    """Every planted value worth searching for, with its category."""
    planted: dict[str, str] = {}
    for p in PATIENTS:
        family, given = p.name.split("^")[:2]
        for value in (family, given, p.name.split("^")[0] + "^" + given):
            planted[value] = "name"
        planted[p.patient_id] = "id"
        planted[p.other_id] = "id"
        planted[p.birth_date] = "date"
        planted[p.address.split(",")[0]] = "place"
        planted[p.phone] = "place"
        planted[p.private_ref] = "private"
    for value in STAFF.values():
        planted[value.split("^")[0]] = "name"
    planted["Testsjukhuset"] = "place"
    planted["Blåbärsgatan"] = "place"
    planted["Thoraxradiologi"] = "place"
    planted["CTLAB07"] = "place"
    planted[SITE["DeviceSerialNumber"]] = "place"
    for s in studies:
        planted[s.date] = "date"
        for value in (s.accession, s.study_id, s.request_id, s.step_id, s.performed_id):
            planted[value] = "id"
        planted[s.uid] = "uid"
    for uid in series_uids:
        planted[uid] = "uid"
    planted["2023-03-15"] = "date"
    short = [v for v in planted if len(v.encode("latin-1", "replace")) < 6]
    assert not short, f"planted values shorter than six bytes match by chance: {short}"
    return planted


# -- datasets ----------------------------------------------------------------------------


def _base(study: Study, sop_class: str, modality: str, series_uid: str, series_no: int) -> Dataset:
    p = study.patient
    ds = Dataset()
    ds.SpecificCharacterSet = p.charset
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.InstanceCreationDate = study.date
    ds.InstanceCreationTime = study.time
    ds.SOPClassUID = sop_class
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = study.date
    ds.StudyTime = ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = study.time
    ds.AcquisitionDateTime = study.date + study.time + ".000000"
    ds.AccessionNumber = study.accession
    ds.Modality = modality
    ds.Manufacturer = "GE MEDICAL SYSTEMS"
    for keyword, value in SITE.items():
        setattr(ds, keyword, value)
    for keyword, value in STAFF.items():
        setattr(ds, keyword, value)
    ds.StudyDescription = "CT THORAX MED KONTRAST"
    ds.SeriesDescription = "Thorax 1.25 mm"
    ds.PatientName = p.name
    ds.PatientID = p.patient_id
    ds.IssuerOfPatientID = "SE-PNR"
    ds.PatientBirthDate = p.birth_date
    ds.PatientSex = p.sex
    ds.PatientAge = p.age
    ds.PatientWeight = "68"
    ds.PatientAddress = p.address
    ds.PatientTelephoneNumbers = p.phone
    ds.OtherPatientIDs = p.other_id
    other = Dataset()
    other.PatientID = p.other_id
    other.IssuerOfPatientID = "SE-HSAID"
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = Sequence([other])
    ds.StudyInstanceUID = study.uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = study.study_id
    ds.SeriesNumber = series_no
    ds.PerformedProcedureStepID = study.performed_id
    ds.PerformedProcedureStepStartDate = study.date
    ds.PerformedProcedureStepStartTime = study.time
    request = Dataset()
    request.RequestedProcedureID = study.request_id
    request.ScheduledProcedureStepID = study.step_id
    request.RequestedProcedureDescription = "DT thorax"
    ds.RequestAttributesSequence = Sequence([request])
    ds.BurnedInAnnotation = "NO"
    # Private blocks: one as GE writes (an exam timestamp, a technical value), one as a RIS
    # integration might (the patient's name and a local reference code).
    ds.private_block(0x0009, "GEMS_IDEN_01", create=True).add_new(0x27, "SL", 1678788912)
    ds.private_block(0x0019, "GEMS_ACQU_01", create=True).add_new(0x23, "DS", "39.37")
    block = ds.private_block(0x0029, "KAROLINSKA RIS 01", create=True)
    block.add_new(0x01, "LO", p.name.replace("^", " "))
    block.add_new(0x02, "LO", p.private_ref)
    return ds


def _file_meta(ds: Dataset, syntax: str = ExplicitVRLittleEndian) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = syntax
    meta.SourceApplicationEntityTitle = "CTLAB07"
    ds.file_meta = meta


def _image_pixel(ds: Dataset, rows: int, cols: int, stored: int, samples: int = 1) -> None:
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "MONOCHROME2" if samples == 1 else "RGB"
    if samples > 1:
        ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = 16 if stored > 8 else 8
    ds.BitsStored = stored
    ds.HighBit = stored - 1
    ds.PixelRepresentation = 0


class _CtPhantom:
    """A chest slice in Hounsfield units: air, body, fat rim, lungs, heart, spine, noise."""

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        y, x = np.mgrid[0:size, 0:size].astype(np.float32)
        self.x, self.y = (x - size / 2) / (size / 2), (y - size / 2) / (size / 2)
        self.rng = rng

    def _ellipse(self, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
        return ((self.x - cx) / rx) ** 2 + ((self.y - cy) / ry) ** 2 <= 1.0

    def slice(self, z: float) -> np.ndarray:
        """*z* in 0..1 from the lung apex to the diaphragm."""
        hu = np.full(self.x.shape, -1000.0, dtype=np.float32)
        body_rx, body_ry = 0.78 + 0.06 * z, 0.52 + 0.04 * z
        hu[self._ellipse(0, 0.05, body_rx, body_ry)] = -100.0  # fat
        hu[self._ellipse(0, 0.05, body_rx - 0.05, body_ry - 0.05)] = 40.0  # soft tissue
        lung = 0.22 + 0.12 * np.sin(np.pi * min(max(z, 0.05), 0.95))
        hu[self._ellipse(-0.33, -0.02, lung, lung * 1.35)] = -850.0
        hu[self._ellipse(0.33, -0.02, lung, lung * 1.35)] = -850.0
        if z > 0.35:
            hu[self._ellipse(0.08, 0.02, 0.18 * z, 0.16 * z)] = 45.0  # heart
        hu[self._ellipse(0, 0.38, 0.09, 0.09)] = 700.0  # vertebra
        hu[self._ellipse(0, 0.38, 0.05, 0.05)] = 250.0  # cancellous bone
        hu[self._ellipse(0, 0.22, 0.05, 0.04)] = 160.0  # aorta with contrast
        hu[(self.y > 0.68) & (self.y < 0.71) & (np.abs(self.x) < 0.9)] = 300.0  # table
        hu += self.rng.standard_normal(hu.shape, dtype=np.float32) * 12.0
        return np.clip(hu + 1024.0, 0, 4095).astype(np.uint16)


def _ct_dataset(study: Study, series_uid: str, series_no: int, frame_uid: str) -> Dataset:
    ds = _base(study, CT_IMAGE, "CT", series_uid, series_no)
    ds.ManufacturerModelName = "Revolution CT"
    ds.SoftwareVersions = "revo_ct_22.11"
    ds.BodyPartExamined = "CHEST"
    ds.ProtocolName = "5.1 THORAX KONTRAST"
    ds.SliceThickness = "1.25"
    ds.KVP = "120"
    ds.DataCollectionDiameter = "500"
    ds.ReconstructionDiameter = "380"
    ds.ConvolutionKernel = "STANDARD"
    ds.PatientPosition = "HFS"
    ds.FrameOfReferenceUID = frame_uid
    ds.PositionReferenceIndicator = "SN"
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = ["0.742", "0.742"]
    _image_pixel(ds, 512, 512, 12)
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
    return ds


def _write(ds: Dataset, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return path.stat().st_size


class _Writer:
    def __init__(self, root: Path, rng: np.random.Generator) -> None:
        self.root, self.rng = root, rng
        self.number = 0
        self.bytes = 0
        self.counts: dict[str, int] = {}
        self.series_uids: list[str] = []

    def uid(self) -> str:
        return generate_uid(prefix=UID_ROOT, entropy_srcs=[str(self.rng.random())])

    def new_series(self) -> str:
        uid = self.uid()
        self.series_uids.append(uid)
        return uid

    def save(
        self, ds: Dataset, kind: str, folder: str, syntax: str = ExplicitVRLittleEndian
    ) -> None:
        # Unique base names: deid writes every output file into one folder by base name.
        self.number += 1
        ds.SOPInstanceUID = self.uid()
        _file_meta(ds, syntax)
        self.bytes += _write(ds, self.root / folder / f"IM{self.number:06d}.dcm")
        self.counts[kind] = self.counts.get(kind, 0) + 1


def _ct_series(w: _Writer, study: Study, n: int, folder: str, syntax: str = "") -> None:
    series, frame = w.new_series(), w.uid()
    phantom = _CtPhantom(512, w.rng)
    for i in range(n):
        ds = _ct_dataset(study, series, 2, frame)
        ds.InstanceNumber = i + 1
        z = -1.25 * i
        ds.ImagePositionPatient = ["-190.0", "-190.0", f"{z:.2f}"]
        ds.SliceLocation = f"{z:.2f}"
        arr = phantom.slice(i / max(n - 1, 1))
        if syntax:
            ds.PixelData = arr.tobytes()
            ds.compress(syntax, arr, generate_instance_uid=False)
            ds.SeriesDescription = f"Thorax 1.25 mm ({'RLE' if syntax == RLELossless else 'J2K'})"
            w.save(ds, "ct-rle" if syntax == RLELossless else "ct-j2k", folder, syntax)
        else:
            ds.PixelData = arr.tobytes()
            w.save(ds, "ct", folder)


def _mr_series(w: _Writer, study: Study, n: int, folder: str) -> None:
    series, frame = w.new_series(), w.uid()
    y, x = np.mgrid[0:256, 0:256].astype(np.float32)
    for i in range(n):
        ds = _base(study, MR_IMAGE, "MR", series, 3)
        ds.Manufacturer = "SIEMENS"
        ds.ManufacturerModelName = "MAGNETOM Vida"
        ds.StudyDescription = "MR HJÄRNA"
        ds.SeriesDescription = "t2_tse_tra"
        ds.ScanningSequence, ds.SequenceVariant = "SE", "SK"
        ds.MagneticFieldStrength = "3"
        ds.EchoTime, ds.RepetitionTime = "96", "5000"
        ds.SliceThickness = "4"
        ds.FrameOfReferenceUID = frame
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = ["-115", "-115", f"{4.0 * i:.1f}"]
        ds.PixelSpacing = ["0.898", "0.898"]
        ds.InstanceNumber = i + 1
        block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
        block.add_new(0x0A, "US", 1)
        block.add_new(0x0B, "DS", "2480")
        _image_pixel(ds, 256, 256, 16)
        r = 0.75 - 0.3 * abs(i / max(n - 1, 1) - 0.5)
        head = ((x - 128) / (110 * r)) ** 2 + ((y - 128) / (125 * r)) ** 2
        img = np.where(head <= 1, 900.0 - 300 * head, 20.0)
        img += w.rng.rayleigh(15.0, img.shape)
        ds.PixelData = np.clip(img, 0, 65535).astype(np.uint16).tobytes()
        w.save(ds, "mr", folder)


def _cr_image(w: _Writer, study: Study, folder: str) -> None:
    ds = _base(study, CR_IMAGE, "CR", w.new_series(), 1)
    ds.Manufacturer = "FUJIFILM Corporation"
    ds.ManufacturerModelName = "FCR PROFECT CS"
    ds.StudyDescription = "LUNGOR"
    ds.SeriesDescription = "Thorax PA"
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = "PA"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.ImagerPixelSpacing = ["0.15", "0.15"]
    ds.InstanceNumber = 1
    _image_pixel(ds, 2048, 2048, 12)
    ds.PhotometricInterpretation = "MONOCHROME1"
    y, x = np.mgrid[0:2048, 0:2048].astype(np.float32) / 2048
    img = 2600 - 1400 * np.exp(-(((x - 0.5) / 0.32) ** 2 + ((y - 0.55) / 0.38) ** 2))
    img += w.rng.normal(0, 25, img.shape).astype(np.float32)
    ds.PixelData = np.clip(img, 0, 4095).astype(np.uint16).tobytes()
    w.save(ds, "cr", folder)


def _us_image(w: _Writer, study: Study, series: str, number: int, folder: str) -> None:
    ds = _base(study, US_IMAGE, "US", series, 4)
    ds.Manufacturer = "Philips"
    ds.ManufacturerModelName = "EPIQ 7G"
    ds.StudyDescription = "UL BUK"
    ds.SeriesDescription = "Lever"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "ABDOMINAL"]
    ds.InstanceNumber = number
    _image_pixel(ds, 480, 640, 8, samples=3)
    y, x = np.mgrid[0:480, 0:640].astype(np.float32)
    angle = np.arctan2(x - 320, y + 40)
    radius = np.hypot(x - 320, y + 40)
    sector = (np.abs(angle) < 0.7) & (radius > 60) & (radius < 470)
    grey = np.where(sector, w.rng.gamma(2.0, 40.0, sector.shape), 0.0)
    grey = np.clip(grey, 0, 255).astype(np.uint8)
    ds.PixelData = np.repeat(grey[:, :, None], 3, axis=2).tobytes()
    w.save(ds, "us", folder)


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _content_item(relation: str, kind: str, concept: Dataset, **values: object) -> Dataset:
    item = Dataset()
    item.RelationshipType = relation
    item.ValueType = kind
    item.ConceptNameCodeSequence = Sequence([concept])
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def _sr(w: _Writer, study: Study, dose: bool, folder: str) -> None:
    ds = _base(study, XRAY_DOSE_SR if dose else COMPREHENSIVE_SR, "SR", w.new_series(), 900)
    for keyword in ("ImageType", "BurnedInAnnotation", "AcquisitionDate", "AcquisitionTime"):
        delattr(ds, keyword)
    ds.ManufacturerModelName = "Revolution CT" if dose else "Sectra PACS"
    ds.InstanceNumber = 1
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "VERIFIED"
    observer = Dataset()
    observer.VerifyingObserverName = STAFF["NameOfPhysiciansReadingStudy"]
    observer.VerifyingOrganization = SITE["InstitutionName"]
    observer.VerificationDateTime = study.date + "170000"
    observer.VerifyingObserverIdentificationCodeSequence = Sequence([])
    ds.VerifyingObserverSequence = Sequence([observer])
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    if dose:
        ds.ConceptNameCodeSequence = Sequence(
            [_code("113701", "DCM", "X-Ray Radiation Dose Report")]
        )
        ds.ContentSequence = Sequence(
            [
                _content_item(
                    "HAS OBS CONTEXT",
                    "PNAME",
                    _code("113870", "DCM", "Person Name"),
                    PersonName=STAFF["OperatorsName"],
                ),
                _content_item(
                    "CONTAINS",
                    "TEXT",
                    _code("121106", "DCM", "Comment"),
                    TextValue=f"Dose report for {study.patient.name.replace('^', ' ')}",
                ),
            ]
        )
    else:
        ds.ConceptNameCodeSequence = Sequence([_code("18748-4", "LN", "Diagnostic imaging report")])
        ds.ContentSequence = Sequence(
            [
                _content_item(
                    "HAS OBS CONTEXT",
                    "PNAME",
                    _code("121008", "DCM", "Person Observer Name"),
                    PersonName=STAFF["NameOfPhysiciansReadingStudy"],
                ),
                _content_item(
                    "CONTAINS", "TEXT", _code("121071", "DCM", "Finding"), TextValue=FREE_TEXT
                ),
            ]
        )
    w.save(ds, "dose-sr" if dose else "sr", folder)


def _spread(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def build(spec: CorpusSpec, root: Path) -> dict:
    """Write the corpus's files under *root*; return its manifest."""
    rng = np.random.default_rng(spec.seed)
    studies = _studies(rng)
    w = _Writer(root, rng)
    for n, (k, study) in zip(
        _spread(spec.ct_slices, len(studies)), enumerate(studies), strict=True
    ):
        _ct_series(w, study, n, f"ct/study{k + 1}")
    for n, study in zip(_spread(spec.mr_slices, 2), (studies[2], studies[4]), strict=True):
        _mr_series(w, study, n, f"mr/{study.study_id}")
    for i in range(spec.cr_images):
        _cr_image(w, studies[i % len(studies)], "cr")
    us_series = w.new_series()
    for i in range(spec.us_images):
        _us_image(w, studies[1], us_series, i + 1, "us")
    for i in range(spec.dose_reports):
        _sr(w, studies[i % len(studies)], True, "sr")
    for _ in range(spec.structured_reports):
        _sr(w, studies[0], False, "sr")
    if spec.rle_slices:
        _ct_series(w, studies[2], spec.rle_slices, "compressed/rle", RLELossless)
    if spec.j2k_slices:
        from pydicom.pixels.encoders import JPEG2000LosslessEncoder

        if JPEG2000LosslessEncoder.is_available:
            _ct_series(w, studies[3], spec.j2k_slices, "compressed/j2k", JPEG2000Lossless)
        else:  # pylibjpeg-openjpeg missing: the same number of RLE slices instead
            _ct_series(w, studies[3], spec.j2k_slices, "compressed/rle2", RLELossless)
    planted = planted_values(studies, w.series_uids)
    return {"spec": asdict(spec), "generator": generator_hash(), "files": w.number,
            "bytes": w.bytes, "counts": w.counts, "planted": planted}  # fmt: skip


def _load(root: Path) -> Corpus:
    m = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    return Corpus(root / "files", m["files"], m["bytes"], m["planted"], m["counts"])


def ensure_corpus(cache: Path, spec: CorpusSpec) -> tuple[Corpus, bool]:
    """The corpus for *spec* under *cache*, built first if missing; and whether it was built.

    The DICOM files are in ``<corpus>/files``; the manifest sits beside them, outside the
    folder the tools read.
    """
    target = cache / f"deid-corpus-{spec.key()}"
    if (target / "manifest.json").is_file():
        return _load(target), False
    partial = cache / f".{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "files").mkdir(parents=True)
    manifest = build(spec, partial / "files")
    bad = skipped_bytes_hold_planted(partial / "files", manifest["planted"])
    if bad:  # the leak check's shortcut would be unsound: never let it pass
        raise RuntimeError(f"planted values inside generated pixel data: {bad[:5]}")
    text = json.dumps(manifest, indent=1, ensure_ascii=False)
    (partial / "manifest.json").write_text(text, encoding="utf-8")
    partial.rename(target)
    _remove_stale(cache)
    return _load(target), True


def _remove_stale(cache: Path) -> None:
    """Remove the corpora an older version of this generator wrote."""
    for folder in cache.glob("*deid-corpus-*"):
        manifest = folder / "manifest.json"
        try:
            stale = json.loads(manifest.read_text(encoding="utf-8")).get("generator")
        except (OSError, ValueError):
            stale = None
        if stale != generator_hash() and not folder.name.endswith(".partial"):
            shutil.rmtree(folder, ignore_errors=True)


# -- the leak check ----------------------------------------------------------------------

_PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"


def needles(planted: dict[str, str]) -> dict[bytes, str]:
    """Each planted value as UTF-8 and as Latin-1 bytes, mapped back to the value."""
    found: dict[bytes, str] = {}
    for value in planted:
        for encoding in ("utf-8", "latin-1"):
            try:
                found[value.encode(encoding)] = value
            except UnicodeEncodeError:
                continue
    return found


def _searchable(data: bytes) -> bytes:
    """*data* less the value of a native Pixel Data element that runs to the end of the file.

    A byte search over 16-bit pixels costs nearly all of a scan's time and can only find
    what :func:`ensure_corpus` proved is not there (it scans the input pixels whole). Only a
    value that parses as Pixel Data (explicit OB/OW or implicit VR, defined length) and ends
    exactly at the end of the file is skipped; anything else is searched byte for byte.
    """
    at = data.find(_PIXEL_DATA_TAG)
    if at < 0:
        return data
    vr = data[at + 4 : at + 6]
    if vr in (b"OB", b"OW") and data[at + 6 : at + 8] == b"\0\0":
        start, length = at + 12, int.from_bytes(data[at + 8 : at + 12], "little")
    else:
        start, length = at + 8, int.from_bytes(data[at + 4 : at + 8], "little")
    if length != 0xFFFFFFFF and start + length == len(data):
        return data[:start]
    return data


def find_planted(tree: Path, planted: dict[str, str]) -> dict[str, int]:
    """How many files under *tree* hold each planted value (values found in none left out)."""
    table = needles(planted)
    files: dict[str, int] = {}
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        data = _searchable(path.read_bytes())
        for value in {value for needle, value in table.items() if needle in data}:
            files[value] = files.get(value, 0) + 1
    return files


def skipped_bytes_hold_planted(tree: Path, planted: dict[str, str]) -> list[str]:
    """The files under *tree* whose skipped Pixel Data holds a planted value (none, we hope)."""
    table = needles(planted)
    pattern = re.compile(b"|".join(re.escape(n) for n in sorted(table, key=len, reverse=True)))
    bad = []
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if pattern.search(data, len(_searchable(data))):
            bad.append(str(path.relative_to(tree)))
    return bad
