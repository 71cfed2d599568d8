"""DICOM files with identifiers planted in every location the de-identification must clean.

A test helper, not a test module. Issue 3 asks the engine's tests to "plant identifiers in
every location ... run the engine, and search every output byte for them". :func:`make_corpus`
writes a small mixed folder of one patient and returns the planted strings as a
:class:`Planted`; ``tests/deid/leaks.py`` searches output for them in every form they could
take. :func:`bad_files` writes files that are not valid DICOM, for the quarantine.

What is planted where:

* Patient, study, series, equipment and request elements in every file: names (with å, ä,
  ö), the personal identity number, patient ID, accession number, institution, address,
  station, AE titles, serial number, phone, e-mail, birth and study dates, and UIDs.
* Free text: Study Description, Image Comments, Additional Patient History, Patient
  Comments, Requested Procedure Description.
* Nested sequences: Referenced Study, Request Attributes, Other Patient IDs, Original
  Attributes > Modified Attributes (the patient's former name).
* Private blocks (a CSA-like OB header, LO elements, a private sequence), overlay group 6000
  with Overlay Data and a description, curve group 5000, and an icon image whose bytes spell
  the name.
* File meta information: Media Storage SOP Instance UID and Source AE Title.
* Character sets ISO_IR 192 (UTF-8) and ISO_IR 100 (Latin-1); Explicit and Implicit VR
  Little Endian, Deflated Explicit VR Little Endian, JPEG 2000 Lossless, RLE Lossless.
* Objects that must be excluded (see ``aidahub.deid.pixels``): a secondary capture, an
  encapsulated PDF, an X-ray dose SR, a CT dose page, a whole-slide label, an image with
  Burned In Annotation YES, an image without a manufacturer, overlay bits above High Bit and
  a blank frame. :attr:`Planted.exclusions` names the reason code expected for each.

JPEG Lossless (Process 14) and JPEG-LS cannot be written here: pylibjpeg's libjpeg plugin
only decodes. JPEG 2000 (pylibjpeg-openjpeg) and RLE (pydicom) are written instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import pack_bits
from pydicom.sequence import Sequence
from pydicom.uid import (
    UID,
    ComprehensiveSRStorage,
    ComputedRadiographyImageStorage,
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    DigitalXRayImageStorageForPresentation,
    EncapsulatedPDFStorage,
    ExplicitVRLittleEndian,
    GrayscaleSoftcopyPresentationStateStorage,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    KeyObjectSelectionDocumentStorage,
    MRImageStorage,
    RLELossless,
    SecondaryCaptureImageStorage,
    UltrasoundImageStorage,
    VLWholeSlideMicroscopyImageStorage,
    XRayRadiationDoseSRStorage,
    generate_uid,
)

__all__ = ["CATEGORY_KINDS", "Planted", "bad_files", "make_corpus", "values_for"]

UTF8 = "ISO_IR 192"
LATIN1 = "ISO_IR 100"

CATEGORY_KINDS: dict[str, str] = {
    "patient_name": "person",
    "other_name": "person",
    "physician": "person",
    "operator": "person",
    "personnummer": "personnummer",
    "patient_id": "identifier",
    "accession": "identifier",
    "institution": "phrase",
    "address": "phrase",
    "station": "text",
    "ae_title": "text",
    "serial": "text",
    "phone": "phone",
    "email": "email",
    "birth_date": "date",
    "study_date": "date",
    "second_study_date": "date",
    "uid": "uid",
}
"""How ``tests/deid/leaks.py`` derives search forms for each category."""


@dataclass
class Planted:
    """The identifiers planted in a corpus and where the corpus put its files.

    Parameters
    ----------
    values : dict of str to str
        Category (a key of :data:`CATEGORY_KINDS`) to the exact planted string.
    uids : list of str
        Every UID planted (study, series, instance, frame of reference, specimen, ...).
    files : dict of str to Path
        Role (``"ct1_1"``, ``"sr"``, ``"pdf"``, ...) to the written file.
    exclusions : dict of Path to str
        Files that ``aidahub.deid.pixels.exclusion_reason`` must exclude, with the expected
        reason code.
    """

    values: dict[str, str]
    uids: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    exclusions: dict[Path, str] = field(default_factory=dict)

    def kind(self, category: str) -> str:
        """Return how to search for `category` (see :data:`CATEGORY_KINDS`)."""
        return CATEGORY_KINDS.get(category, "text")

    def items(self) -> list[tuple[str, str]]:
        """Return every (category, planted string) pair, UIDs included."""
        return [*self.values.items(), *(("uid", uid) for uid in self.uids)]


_PEOPLE: tuple[dict[str, str], ...] = (
    {
        "patient_name": "Åström^Märta Övé",
        "other_name": "Bäckström^Märta",
        "personnummer": "19121212-1212",
        "patient_id": "VB7734519",
        "accession": "RTG24117733",
        "institution": "Vättersborgs lasarett",
        "address": "Källvägen 7B, 553 21 Vättersborg",
        "station": "VÄTTERN-CT7",
        "ae_title": "VBGCT7",
        "serial": "SN83XK2291",
        "physician": "Lindqvist^Björn",
        "operator": "Sjöholm^Åsa",
        "phone": "070-123 45 67",
        "email": "marta.astrom71@mail.example",
        "birth_date": "19121212",
        "study_date": "20230314",
        "second_study_date": "20240917",
    },
    {
        "patient_name": "Öhman^Åke Sölve",
        "other_name": "Fältskog^Åke",
        "personnummer": "19480315-2380",
        "patient_id": "OS5520913",
        "accession": "XR23554481",
        "institution": "Östersunds sjukstuga",
        "address": "Björkstigen 14, 831 42 Östersund",
        "station": "STORSJÖN-MR2",
        "ae_title": "OSDMR2",
        "serial": "SN52TQ7710",
        "physician": "Ekström^Ingegärd",
        "operator": "Nyqvist^Göran",
        "phone": "063-142 57 90",
        "email": "ake.ohman48@mail.example",
        "birth_date": "19480315",
        "study_date": "20220602",
        "second_study_date": "20231121",
    },
)


def values_for(seed: int = 0) -> dict[str, str]:
    """Return the values :func:`make_corpus` plants for `seed` (a fresh copy).

    Parameters
    ----------
    seed : int, optional
        As for :func:`make_corpus`.

    Returns
    -------
    dict of str to str
        Category to planted string.
    """
    return dict(_PEOPLE[seed % len(_PEOPLE)])


_UID_ROOT = "1.2.752.24.99."
_SIZE = 64


@dataclass
class _Study:
    uid: str
    date: str
    time: str
    description: str


class _Corpus:
    """Builds the files of one corpus in `directory` and records them in `planted`."""

    def __init__(self, directory: Path, seed: int, values: dict[str, str] | None = None) -> None:
        self.directory = directory
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.planted = Planted(values=dict(values or values_for(seed)))
        self.ct_references: list[tuple[str, str]] = []
        v = self.planted.values
        self.family, _, self.given = v["patient_name"].partition("^")
        self.display_name = f"{self.given} {self.family}"
        self.physician_display = " ".join(reversed(v["physician"].split("^")))
        self.studies = (
            _Study(self.uid("study-1"), v["study_date"], "081502", "DT thorax lungartärer"),
            _Study(self.uid("study-2"), v["second_study_date"], "143307", "DT thorax kontroll"),
        )

    # Identifiers.

    def uid(self, label: str) -> str:
        value = str(generate_uid(_UID_ROOT, entropy_srcs=[str(self.seed), label]))
        if value not in self.planted.uids:
            self.planted.uids.append(value)
        return value

    @property
    def v(self) -> dict[str, str]:
        return self.planted.values

    @property
    def pnr_compact(self) -> str:
        return self.v["personnummer"].replace("-", "")

    # Building blocks.

    def dataset(
        self,
        sop_class: UID,
        modality: str,
        study: _Study,
        series: str,
        *,
        charset: str = UTF8,
        number: int = 1,
    ) -> Dataset:
        v = self.v
        ds = Dataset()
        instance = self.uid(f"{series}-instance-{number}")
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = sop_class
        ds.file_meta.MediaStorageSOPInstanceUID = instance
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.SourceApplicationEntityTitle = v["ae_title"]
        ds.SpecificCharacterSet = charset
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.InstanceCreationDate = study.date
        ds.InstanceCreationTime = study.time
        ds.InstanceCreatorUID = self.uid("instance-creator")
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = instance
        ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = study.date
        ds.StudyTime = ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = study.time
        ds.AcquisitionDateTime = f"{study.date}{study.time}.250000"
        ds.AccessionNumber = v["accession"]
        ds.Modality = modality
        ds.Manufacturer = "ACME Medical"
        ds.ManufacturerModelName = "Scanmaster 64"
        ds.InstitutionName = v["institution"]
        ds.InstitutionAddress = f"{v['institution']}, {v['address']}"
        ds.InstitutionalDepartmentName = "Röntgen"
        ds.StationName = v["station"]
        ds.ReferringPhysicianName = v["physician"]
        ds.PhysiciansOfRecord = v["physician"]
        ds.NameOfPhysiciansReadingStudy = v["physician"]
        ds.PerformingPhysicianName = v["physician"]
        ds.OperatorsName = v["operator"]
        ds.StudyDescription = f"{study.description} {self.display_name} {v['personnummer']}"
        ds.SeriesDescription = f"{modality} {self.family}"
        ds.RetrieveAETitle = v["ae_title"]
        ds.PatientName = v["patient_name"]
        ds.PatientID = v["patient_id"]
        ds.IssuerOfPatientID = "VBLAS"
        other_ids = []
        for other_id in (self.pnr_compact, v["personnummer"]):
            item = Dataset()
            item.PatientID = other_id
            item.TypeOfPatientID = "TEXT"
            other_ids.append(item)
        ds.OtherPatientIDsSequence = Sequence(other_ids)
        ds.OtherPatientNames = v["other_name"]
        ds.PatientBirthDate = v["birth_date"]
        ds.PatientSex = "F"
        ds.PatientAge = "075Y"
        ds.PatientAddress = v["address"]
        ds.PatientTelephoneNumbers = v["phone"]
        ds.PatientComments = f"Kontakt {v['email']}, tel {v['phone']}"
        ds.AdditionalPatientHistory = (
            f"{self.display_name} ({v['personnummer']}), remiss från dr"
            f" {self.physician_display}, nås på {v['phone']} eller {v['email']}."
        )
        ds.DeviceSerialNumber = v["serial"]
        ds.SoftwareVersions = "VA40"
        ds.StudyInstanceUID = study.uid
        ds.SeriesInstanceUID = self.uid(f"{series}-series")
        ds.StudyID = "4471"
        ds.SeriesNumber = 1
        ds.InstanceNumber = number
        ds.PerformedStationAETitle = v["ae_title"]
        ds.PerformedProcedureStepStartDate = study.date
        ds.PerformedProcedureStepID = v["accession"]
        ds.RequestAttributesSequence = Sequence([self.request(study)])
        ds.ImageComments = (
            f"Pat {self.family}, {self.given}; {v['personnummer']}; tel {v['phone']}; {v['email']}"
        )
        return ds

    def request(self, study: _Study) -> Dataset:
        v = self.v
        item = Dataset()
        item.AccessionNumber = v["accession"]
        item.RequestedProcedureID = v["accession"]
        item.ScheduledProcedureStepID = v["accession"]
        item.RequestedProcedureDescription = f"Lungartärer {v['personnummer']} {v['email']}"
        item.ReasonForTheRequestedProcedure = f"Dyspné, {self.display_name}, tel {v['phone']}"
        item.StudyInstanceUID = study.uid
        item.RequestingPhysician = v["physician"]
        return item

    def image(self, ds: Dataset, pixels: np.ndarray[Any, Any], *, bits_stored: int) -> None:
        ds.Rows, ds.Columns = pixels.shape[:2]
        ds.SamplesPerPixel = 1 if pixels.ndim == 2 else pixels.shape[2]
        if ds.SamplesPerPixel == 1:
            ds.PhotometricInterpretation = ds.get("PhotometricInterpretation", "MONOCHROME2")
        else:
            ds.PhotometricInterpretation = "RGB"
            ds.PlanarConfiguration = 0
        ds.BitsAllocated = pixels.dtype.itemsize * 8
        ds.BitsStored = bits_stored
        ds.HighBit = bits_stored - 1
        ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
        ds.PixelData = pixels.tobytes()

    def private_blocks(self, ds: Dataset) -> None:
        v = self.v
        csa = ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True)
        header = (
            b"SV10\x04\x03\x02\x01PatientName\x00"
            + v["patient_name"].encode("latin-1")
            + b"\x00PatientID\x00"
            + v["patient_id"].encode()
            + b"\x00"
        )
        csa.add_new(0x10, "OB", header + b"\x00" * (len(header) % 2))
        ris = ds.private_block(0x0033, "ACME RIS 1.0", create=True)
        ris.add_new(0x10, "LO", v["patient_name"].replace("^", " "))
        ris.add_new(0x11, "LO", v["personnummer"])
        ris.add_new(0x12, "LO", v["phone"])
        nested = Dataset()
        nested.PatientName = v["other_name"]
        nested.PatientID = self.pnr_compact
        nested.StudyDate = self.studies[0].date
        ris.add_new(0x13, "SQ", Sequence([nested]))

    def write(self, ds: Dataset, name: str, role: str, exclusion: str | None = None) -> Path:
        path = self.directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        self.planted.files[role] = path
        if exclusion is not None:
            self.planted.exclusions[path] = exclusion
        return path

    # Pixels.

    def phantom(self, low: int, high: int, dtype: str, size: int = _SIZE) -> np.ndarray[Any, Any]:
        y, x = np.mgrid[0:size, 0:size] / size
        body = ((x - 0.5) / 0.42) ** 2 + ((y - 0.5) / 0.33) ** 2 <= 1
        lungs = (((x - 0.32) / 0.12) ** 2 + ((y - 0.5) / 0.2) ** 2 <= 1) | (
            ((x - 0.68) / 0.12) ** 2 + ((y - 0.5) / 0.2) ** 2 <= 1
        )
        tissue = np.where(body, 0.55, 0.0) - np.where(lungs, 0.35, 0.0) + 0.1 * y
        noisy = tissue + self.rng.normal(0.0, 0.04, tissue.shape)
        return np.clip(low + (high - low) * noisy, low, high).astype(dtype)

    def text_picture(self, lines: list[str], size: int = 128) -> np.ndarray[Any, Any]:
        picture = Image.new("L", (size * 2, size), 0)
        draw = ImageDraw.Draw(picture)
        font = ImageFont.load_default(size=11)
        for row, line in enumerate(lines):
            draw.text((4, 4 + row * 14), line, fill=255, font=font)
        return np.asarray(picture, dtype=np.uint8)

    @property
    def text_lines(self) -> list[str]:
        v = self.v
        return [self.display_name, v["personnummer"], v["institution"], v["study_date"]]

    # The files.

    def ct(self, study_index: int, number: int, charset: str) -> Dataset:
        study = self.studies[study_index]
        ds = self.dataset(
            CTImageStorage, "CT", study, f"ct{study_index}", charset=charset, number=number
        )
        ds.FrameOfReferenceUID = self.uid(f"ct{study_index}-frame")
        ds.RescaleIntercept = 0
        ds.RescaleSlope = 1
        ds.SliceLocation = -10.0 * number
        ds.ImagePositionPatient = [0.0, 0.0, -10.0 * number]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [0.7, 0.7]
        ds.SliceThickness = 1.0
        ds.BurnedInAnnotation = "NO"
        self.image(ds, self.phantom(-1000, 1000, "int16"), bits_stored=12)
        return ds

    def ct_study_1(self) -> None:
        for number in (1, 2):
            ds = self.ct(0, number, UTF8)
            self.private_blocks(ds)
            self.ct_references.append((ds.SeriesInstanceUID, ds.SOPInstanceUID))
            self.write(ds, f"study1/ct_{number:03d}.dcm", f"ct1_{number}")
        ds = self.ct(0, 3, UTF8)
        pixels = np.frombuffer(ds.PixelData, dtype=np.int16).reshape(ds.Rows, ds.Columns)
        ds.compress(
            JPEG2000Lossless, pixels, encoding_plugin="pylibjpeg", generate_instance_uid=False
        )
        self.write(ds, "study1/ct_003_j2k.dcm", "ct1_3_j2k")

    def ct_study_2(self) -> None:
        v = self.v
        ds = self.ct(1, 1, LATIN1)
        referenced = Dataset()
        referenced.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
        referenced.ReferencedSOPInstanceUID = self.studies[0].uid
        ds.ReferencedStudySequence = Sequence([referenced])
        modified = Dataset()
        modified.PatientName = v["other_name"]
        modified.PatientID = self.pnr_compact
        modified.PatientBirthDate = v["birth_date"]
        original = Dataset()
        original.ModifiedAttributesSequence = Sequence([modified])
        original.AttributeModificationDateTime = f"{self.studies[1].date}150000"
        original.ModifyingSystem = v["station"]
        original.SourceOfPreviousValues = v["institution"]
        original.ReasonForTheAttributeModification = "CORRECT"
        ds.OriginalAttributesSequence = Sequence([original])
        self.write(ds, "study2/ct_001_latin1.dcm", "ct2_1_latin1")
        ds = self.ct(1, 2, LATIN1)
        ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
        self.private_blocks(ds)
        self.write(ds, "study2/ct_002_deflated.dcm", "ct2_2_deflated")

    def mr(self) -> None:
        v = self.v
        ds = self.dataset(MRImageStorage, "MR", self.studies[0], "mr", charset=LATIN1)
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        ds.FrameOfReferenceUID = self.uid("mr-frame")
        ds.ScanningSequence = "SE"
        ds.ProtocolName = f"Hjärna {self.family}"
        pixels = self.phantom(0, 3000, "uint16")
        self.image(ds, pixels, bits_stored=16)
        mask = self.text_picture([self.display_name])[:_SIZE, :_SIZE] > 0
        ds.add_new(0x60000010, "US", _SIZE)
        ds.add_new(0x60000011, "US", _SIZE)
        ds.add_new(0x60000022, "LO", f"Markering {self.display_name}")
        ds.add_new(0x60000040, "CS", "G")
        ds.add_new(0x60000050, "SS", [1, 1])
        ds.add_new(0x60000100, "US", 1)
        ds.add_new(0x60000102, "US", 0)
        ds.add_new(0x60001500, "LO", v["personnummer"])
        ds.add_new(0x60003000, "OW", pack_bits(mask))
        ds.add_new(0x50000005, "US", 1)
        ds.add_new(0x50000010, "US", 4)
        ds.add_new(0x50000020, "CS", "ECG")
        ds.add_new(0x50000022, "LO", f"EKG {self.display_name}")
        ds.add_new(0x50000103, "US", 0)
        ds.add_new(0x50002500, "LO", v["phone"])
        ds.add_new(0x50003000, "OW", np.array([1, 5, 3, 2], dtype="<u2").tobytes())
        self.private_blocks(ds)
        self.write(ds, "mr/mr_implicit_latin1.dcm", "mr")

    def cr(self) -> None:
        ds = self.dataset(ComputedRadiographyImageStorage, "CR", self.studies[1], "cr")
        ds.PhotometricInterpretation = "MONOCHROME1"
        ds.BodyPartExamined = "CHEST"
        self.image(ds, self.phantom(200, 3800, "uint16"), bits_stored=12)
        name = self.v["patient_name"].encode("latin-1")
        icon = Dataset()
        icon.SamplesPerPixel = 1
        icon.PhotometricInterpretation = "MONOCHROME2"
        icon.Rows = 1
        icon.Columns = len(name) + len(name) % 2
        icon.BitsAllocated = icon.BitsStored = 8
        icon.HighBit = 7
        icon.PixelRepresentation = 0
        icon.PixelData = name + b"\x00" * (len(name) % 2)
        ds.IconImageSequence = Sequence([icon])
        self.private_blocks(ds)
        self.write(ds, "nested/deeper/IM0001", "cr")

    def us(self) -> None:
        ds = self.dataset(UltrasoundImageStorage, "US", self.studies[1], "us", charset=LATIN1)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "ABDOMINAL"]
        ds.BurnedInAnnotation = "NO"
        grey = self.phantom(0, 255, "uint8")
        rgb = np.stack([grey, grey, (grey // 2 + 40).astype(np.uint8)], axis=-1)
        self.image(ds, rgb, bits_stored=8)
        self.write(ds, "us/us_rgb.dcm", "us_rgb")

    def sr(self) -> None:
        v = self.v
        study = self.studies[0]
        ds = self.dataset(ComprehensiveSRStorage, "SR", study, "sr")
        del ds.ImageType
        ds.ValueType = "CONTAINER"
        ds.ConceptNameCodeSequence = _codes("18748-4", "LN", "Diagnostic Imaging Report")
        ds.ContinuityOfContent = "SEPARATE"
        ds.CompletionFlag = "COMPLETE"
        ds.VerificationFlag = "VERIFIED"
        observer = Dataset()
        observer.VerifyingObserverName = v["physician"]
        observer.VerifyingOrganization = v["institution"]
        observer.VerificationDateTime = f"{study.date}170000"
        observer.VerifyingObserverIdentificationCodeSequence = Sequence()
        ds.VerifyingObserverSequence = Sequence([observer])
        ds.CurrentRequestedProcedureEvidenceSequence = self.evidence()
        findings = _item("CONTAINS", "CONTAINER", ("121070", "DCM", "Findings"))
        findings.ContinuityOfContent = "SEPARATE"
        findings.ContentSequence = Sequence(
            [
                _item(
                    "CONTAINS",
                    "TEXT",
                    ("121071", "DCM", "Finding"),
                    TextValue=(
                        f"{self.display_name} ({v['personnummer']}), tel {v['phone']}:"
                        " inga embolier. Jämfört med undersökning"
                        f" {study.date[:4]}-{study.date[4:6]}-{study.date[6:]}."
                    ),
                ),
                _item("CONTAINS", "DATE", ("111060", "DCM", "Study Date"), Date=study.date),
                _item(
                    "CONTAINS",
                    "UIDREF",
                    ("121018", "DCM", "Procedure Study Instance UID"),
                    UID=study.uid,
                ),
                self.image_reference(self.ct_references[0]),
            ]
        )
        ds.ContentSequence = Sequence(
            [
                _item(
                    "HAS OBS CONTEXT",
                    "PNAME",
                    ("121008", "DCM", "Person Observer Name"),
                    PersonName=v["physician"],
                ),
                _item(
                    "HAS OBS CONTEXT",
                    "TEXT",
                    ("121009", "DCM", "Person Observer's Organization Name"),
                    TextValue=v["institution"],
                ),
                _item(
                    "HAS OBS CONTEXT",
                    "UIDREF",
                    ("121012", "DCM", "Device Observer UID"),
                    UID=self.uid("device-observer"),
                ),
                _item(
                    "HAS OBS CONTEXT",
                    "PNAME",
                    ("121029", "DCM", "Subject Name"),
                    PersonName=v["patient_name"],
                ),
                _item(
                    "HAS OBS CONTEXT",
                    "TEXT",
                    ("121030", "DCM", "Subject ID"),
                    TextValue=v["personnummer"],
                ),
                _item(
                    "HAS OBS CONTEXT",
                    "DATE",
                    ("121031", "DCM", "Subject Birth Date"),
                    Date=v["birth_date"],
                ),
                _item(
                    "HAS OBS CONTEXT",
                    "DATETIME",
                    ("111526", "DCM", "DateTime Started"),
                    DateTime=f"{study.date}{study.time}",
                ),
                findings,
            ]
        )
        self.write(ds, "reports/sr.dcm", "sr")

    def evidence(self) -> Sequence:
        refs = self.ct_references
        series = Dataset()
        series.SeriesInstanceUID = refs[0][0]
        series.ReferencedSOPSequence = Sequence()
        for _, instance in refs:
            sop = Dataset()
            sop.ReferencedSOPClassUID = CTImageStorage
            sop.ReferencedSOPInstanceUID = instance
            series.ReferencedSOPSequence.append(sop)
        study = Dataset()
        study.StudyInstanceUID = self.studies[0].uid
        study.ReferencedSeriesSequence = Sequence([series])
        return Sequence([study])

    def image_reference(self, ref: tuple[str, str]) -> Dataset:
        item = _item("CONTAINS", "IMAGE", ("121191", "DCM", "Referenced Segment"))
        sop = Dataset()
        sop.ReferencedSOPClassUID = CTImageStorage
        sop.ReferencedSOPInstanceUID = ref[1]
        item.ReferencedSOPSequence = Sequence([sop])
        return item

    def ko(self) -> None:
        v = self.v
        ds = self.dataset(
            KeyObjectSelectionDocumentStorage, "KO", self.studies[0], "ko", charset=LATIN1
        )
        del ds.ImageType
        ds.ValueType = "CONTAINER"
        ds.ConceptNameCodeSequence = _codes("113000", "DCM", "Of Interest")
        ds.ContinuityOfContent = "SEPARATE"
        ds.CurrentRequestedProcedureEvidenceSequence = self.evidence()
        items = [
            _item(
                "CONTAINS",
                "TEXT",
                ("113012", "DCM", "Key Object Description"),
                TextValue=f"Nyckelbilder för {self.display_name}, {v['personnummer']}",
            )
        ]
        items += [self.image_reference(ref) for ref in self.ct_references]
        ds.ContentSequence = Sequence(items)
        self.write(ds, "reports/ko.dcm", "ko")

    def pr(self) -> None:
        v = self.v
        ds = self.dataset(GrayscaleSoftcopyPresentationStateStorage, "PR", self.studies[0], "pr")
        del ds.ImageType
        ds.ContentLabel = "ANNOTATION"
        ds.ContentDescription = f"Mätning {self.family}"
        ds.ContentCreatorName = v["operator"]
        ds.PresentationCreationDate = self.studies[0].date
        ds.PresentationCreationTime = "091500"
        image = Dataset()
        image.ReferencedSOPClassUID = CTImageStorage
        image.ReferencedSOPInstanceUID = self.ct_references[0][1]
        series = Dataset()
        series.SeriesInstanceUID = self.ct_references[0][0]
        series.ReferencedImageSequence = Sequence([image])
        ds.ReferencedSeriesSequence = Sequence([series])
        layer = Dataset()
        layer.GraphicLayer = "ANNOTATION"
        layer.GraphicLayerOrder = 1
        ds.GraphicLayerSequence = Sequence([layer])
        text = Dataset()
        text.UnformattedTextValue = f"{self.display_name} {v['personnummer']}"
        text.AnchorPointAnnotationUnits = "PIXEL"
        text.AnchorPoint = [10.0, 10.0]
        text.AnchorPointVisibility = "N"
        annotation = Dataset()
        annotation.GraphicLayer = "ANNOTATION"
        annotation.TextObjectSequence = Sequence([text])
        ds.GraphicAnnotationSequence = Sequence([annotation])
        self.write(ds, "reports/pr.dcm", "pr")

    # Objects that must be excluded.

    def secondary_capture(self) -> None:
        ds = self.dataset(SecondaryCaptureImageStorage, "OT", self.studies[0], "sc")
        ds.ConversionType = "WSD"
        self.image(ds, self.text_picture(self.text_lines), bits_stored=8)
        self.write(ds, "excluded/sc.dcm", "sc", "secondary-capture")

    def pdf(self) -> None:
        v = self.v
        ds = self.dataset(EncapsulatedPDFStorage, "DOC", self.studies[0], "pdf")
        del ds.ImageType
        ds.ConversionType = "SD"
        ds.BurnedInAnnotation = "YES"
        ds.DocumentTitle = f"Remiss {self.display_name}"
        ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
        ds.EncapsulatedDocument = _pdf(
            f"Remiss: {self.family}, {self.given} {v['personnummer']} tel {v['phone']}",
            author=self.physician_display,
        )
        self.write(ds, "excluded/pdf.dcm", "pdf", "encapsulated-document")

    def dose_sr(self) -> None:
        v = self.v
        ds = self.dataset(XRayRadiationDoseSRStorage, "SR", self.studies[0], "dose")
        del ds.ImageType
        ds.ValueType = "CONTAINER"
        ds.ConceptNameCodeSequence = _codes("113701", "DCM", "X-Ray Radiation Dose Report")
        ds.ContinuityOfContent = "SEPARATE"
        ds.ContentSequence = Sequence(
            [
                _item(
                    "CONTAINS",
                    "PNAME",
                    ("113870", "DCM", "Person Name"),
                    PersonName=v["operator"],
                ),
                _item(
                    "CONTAINS",
                    "TEXT",
                    ("121106", "DCM", "Comment"),
                    TextValue=f"{self.display_name} {v['personnummer']} DLP 412 mGy.cm",
                ),
            ]
        )
        self.write(ds, "excluded/dose_sr.dcm", "dose_sr", "dose-report")

    def ct_dose_page(self) -> None:
        ds = self.ct(0, 90, UTF8)
        ds.ImageType = ["DERIVED", "SECONDARY", "SCREEN SAVE"]
        ds.SeriesDescription = "Dose Report"
        page = self.text_picture([*self.text_lines, "CTDIvol 7.1 mGy DLP 412 mGy.cm"])
        self.image(ds, page.astype(np.int16) * 4 - 1000, bits_stored=12)
        self.write(ds, "excluded/ct_dose_page.dcm", "ct_dose_page", "screen-save")

    def wsi_label(self) -> None:
        v = self.v
        ds = self.dataset(VLWholeSlideMicroscopyImageStorage, "SM", self.studies[1], "wsi")
        ds.ImageType = ["ORIGINAL", "PRIMARY", "LABEL", "NONE"]
        # Specimen Label in Image names the reason; Burned In Annotation YES would come first.
        ds.SpecimenLabelInImage = "YES"
        ds.ContainerIdentifier = v["accession"]
        specimen = Dataset()
        specimen.SpecimenIdentifier = f"{v['accession']}-A1"
        specimen.SpecimenUID = self.uid("specimen")
        ds.SpecimenDescriptionSequence = Sequence([specimen])
        label = self.text_picture(self.text_lines)
        rgb = np.stack([255 - label] * 3, axis=-1)
        self.image(ds, rgb, bits_stored=8)
        self.write(ds, "excluded/wsi_label.dcm", "wsi_label", "slide-label")

    def burned_in(self) -> None:
        ds = self.dataset(DigitalXRayImageStorageForPresentation, "DX", self.studies[1], "dx")
        ds.BurnedInAnnotation = "YES"
        ds.PresentationIntentType = "FOR PRESENTATION"
        pixels = self.phantom(0, 4000, "uint16")
        pixels[2:12, 2:40] = 4095
        self.image(ds, pixels, bits_stored=12)
        self.write(ds, "excluded/burned_in.dcm", "burned_in", "burned-in-annotation")

    def no_manufacturer(self) -> None:
        ds = self.ct(1, 91, LATIN1)
        del ds.Manufacturer
        self.write(ds, "excluded/no_manufacturer.dcm", "no_manufacturer", "unknown-source")

    def overlay_in_high_bits(self) -> None:
        ds = self.dataset(MRImageStorage, "MR", self.studies[0], "mr-overlay", number=2)
        pixels = self.phantom(0, 4000, "uint16")
        text = self.text_picture([self.display_name, self.v["personnummer"]])[:_SIZE, :_SIZE]
        pixels[text > 0] |= 1 << 12
        self.image(ds, pixels, bits_stored=12)
        ds.add_new(0x60000010, "US", _SIZE)
        ds.add_new(0x60000011, "US", _SIZE)
        ds.add_new(0x60000022, "LO", f"Namn {self.display_name}")
        ds.add_new(0x60000040, "CS", "G")
        ds.add_new(0x60000050, "SS", [1, 1])
        ds.add_new(0x60000100, "US", 16)
        ds.add_new(0x60000102, "US", 12)
        self.write(
            ds, "excluded/overlay_high_bits.dcm", "overlay_high_bits", "overlay-in-pixel-data"
        )

    def blank(self) -> None:
        ds = self.ct(1, 92, UTF8)
        blank = np.full((_SIZE, _SIZE), -1000, dtype=np.int16)
        self.image(ds, blank, bits_stored=12)
        ds.compress(RLELossless, blank, generate_instance_uid=False)
        self.write(ds, "excluded/blank_rle.dcm", "blank_rle", "low-variance")


def make_corpus(directory: Path, *, seed: int = 0) -> Planted:
    """Write a small mixed folder of one patient's DICOM files with planted identifiers.

    Parameters
    ----------
    directory : Path
        Where to write; created if missing. Files are spread over subfolders, and one has no
        ``.dcm`` suffix.
    seed : int, optional
        Chooses the person (two are built in) and varies UIDs and pixel noise.

    Returns
    -------
    Planted
        The planted strings, the UIDs, the files by role and the expected exclusions.
    """
    corpus = _Corpus(Path(directory), seed)
    corpus.ct_study_1()
    corpus.ct_study_2()
    corpus.mr()
    corpus.cr()
    corpus.us()
    corpus.sr()
    corpus.ko()
    corpus.pr()
    corpus.secondary_capture()
    corpus.pdf()
    corpus.dose_sr()
    corpus.ct_dose_page()
    corpus.wsi_label()
    corpus.burned_in()
    corpus.no_manufacturer()
    corpus.overlay_in_high_bits()
    corpus.blank()
    return corpus.planted


def bad_files(directory: Path, planted: Planted | None = None) -> list[Path]:
    """Write files the engine must quarantine, each carrying the planted identifiers.

    pydicom is lenient, so "not valid" shows differently for each file:

    * ``empty.dcm`` -- zero bytes; ``dcmread`` raises.
    * ``truncated.dcm`` -- a CT cut inside its Pixel Data; ``dcmread`` succeeds but the
      Pixel Data is shorter than Rows x Columns x Bits Allocated requires.
    * ``notes.txt`` -- plain text, not DICOM; ``dcmread`` without ``force`` raises.
    * ``corrupt_length.dcm`` -- a CT whose Image Comments length is one byte too long, so
      the parser loses step; reading it raises or loses the elements after it.

    Parameters
    ----------
    directory : Path
        Where to write; created if missing.
    planted : Planted, optional
        Identifiers to write into the files; those of ``make_corpus(seed=0)`` by default.

    Returns
    -------
    list of Path
        The four files, in the order above.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    corpus = _Corpus(directory, 0, planted.values if planted is not None else None)
    ds = corpus.ct(0, 1, UTF8)
    scratch = directory / ".scratch.dcm"
    ds.save_as(scratch, enforce_file_format=True)
    data = scratch.read_bytes()
    scratch.unlink()

    empty = directory / "empty.dcm"
    empty.write_bytes(b"")
    truncated = directory / "truncated.dcm"
    truncated.write_bytes(data[: len(data) - (_SIZE * _SIZE)])
    notes = directory / "notes.txt"
    v = corpus.v
    notes.write_text(
        f"Remiss för {corpus.display_name} ({v['personnummer']}), tel {v['phone']}.\n",
        encoding="utf-8",
    )
    corrupt = directory / "corrupt_length.dcm"
    broken = bytearray(data)
    # (0020,4000) Image Comments, explicit VR LT: tag, "LT", 2-byte length.
    at = broken.index(b"\x20\x00\x00\x40LT") + 6
    length = int.from_bytes(broken[at : at + 2], "little")
    broken[at : at + 2] = (length + 1).to_bytes(2, "little")
    corrupt.write_bytes(bytes(broken))
    return [empty, truncated, notes, corrupt]


def _codes(value: str, scheme: str, meaning: str) -> Sequence:
    code = Dataset()
    code.CodeValue = value
    code.CodingSchemeDesignator = scheme
    code.CodeMeaning = meaning
    return Sequence([code])


def _item(
    relationship: str, value_type: str, concept: tuple[str, str, str], **values: Any
) -> Dataset:
    item = Dataset()
    item.RelationshipType = relationship
    item.ValueType = value_type
    item.ConceptNameCodeSequence = _codes(*concept)
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def _pdf(text: str, *, author: str) -> bytes:
    """A one-page PDF whose page and document information carry `text` and `author`."""

    def literal(value: str) -> bytes:
        escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return b"(" + escaped.encode("latin-1") + b")"

    content = b"BT /F1 12 Tf 72 770 Td " + literal(text) + b" Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Author " + literal(author) + b" /Title " + literal(text) + b" >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out) + b"\n" * (len(out) % 2)
