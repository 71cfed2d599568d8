"""Controlled vocabularies shown in the register: modalities, subjects, countries.

Modality codes are the DICOM Defined Terms for Modality (0008,0060), PS3.3 C.7.3.1.1.1, and
CID 33. A code the hub does not know is shown as given, never refused.
"""

from __future__ import annotations

MODALITIES: dict[str, str] = {
    "AR": "Autorefraction",
    "ASMT": "Content assessment results",
    "AU": "Audio",
    "BDUS": "Bone densitometry (ultrasound)",
    "BI": "Biomagnetic imaging",
    "BMD": "Bone densitometry (X-ray)",
    "CR": "Computed radiography",
    "CT": "Computed tomography",
    "CTPROTOCOL": "CT protocol",
    "DG": "Diaphanography",
    "DOC": "Document",
    "DX": "Digital radiography",
    "ECG": "Electrocardiography",
    "EPS": "Cardiac electrophysiology",
    "ES": "Endoscopy",
    "FID": "Fiducials",
    "GM": "General microscopy",
    "HC": "Hard copy",
    "HD": "Hemodynamic waveform",
    "IO": "Intra-oral radiography",
    "IOL": "Intraocular lens data",
    "IVOCT": "Intravascular optical coherence tomography",
    "IVUS": "Intravascular ultrasound",
    "KER": "Keratometry",
    "KO": "Key object selection",
    "LEN": "Lensometry",
    "LS": "Laser surface scan",
    "MG": "Mammography",
    "MR": "Magnetic resonance",
    "M3D": "Model for 3D manufacturing",
    "NM": "Nuclear medicine",
    "OAM": "Ophthalmic axial measurements",
    "OCT": "Optical coherence tomography",
    "OP": "Ophthalmic photography",
    "OPM": "Ophthalmic mapping",
    "OPT": "Ophthalmic tomography",
    "OPTBSV": "Ophthalmic tomography B-scan volume analysis",
    "OPTENF": "Ophthalmic tomography en face",
    "OPV": "Ophthalmic visual field",
    "OSS": "Optical surface scan",
    "OT": "Other",
    "PLAN": "Plan",
    "PR": "Presentation state",
    "PT": "Positron emission tomography",
    "PX": "Panoramic X-ray",
    "REG": "Registration",
    "RESP": "Respiratory waveform",
    "RF": "Radio fluoroscopy",
    "RG": "Radiographic imaging",
    "RTDOSE": "Radiotherapy dose",
    "RTIMAGE": "Radiotherapy image",
    "RTPLAN": "Radiotherapy plan",
    "RTRECORD": "Radiotherapy treatment record",
    "RTSTRUCT": "Radiotherapy structure set",
    "RWV": "Real world value map",
    "SEG": "Segmentation",
    "SM": "Slide microscopy",
    "SMR": "Stereometric relationship",
    "SR": "Structured report",
    "SRF": "Subjective refraction",
    "STAIN": "Automated slide stainer",
    "TG": "Thermography",
    "US": "Ultrasound",
    "VA": "Visual acuity",
    "XA": "X-ray angiography",
    "XC": "External-camera photography",
    # Retired terms still found in older records.
    "DS": "Digital subtraction angiography (retired)",
    "MA": "Magnetic resonance angiography (retired)",
    "PET": "Positron emission tomography",
    "WSI": "Whole-slide imaging",
}

SUBJECTS = ["Radiology", "Pathology", "Cardiology", "Dermatology", "Ophthalmology", "Other"]
ORIGINS = ["Clinical", "Synthetic"]
STATUSES = ["Ongoing", "Complete"]

COUNTRIES: dict[str, str] = {
    "SE": "Sweden", "NO": "Norway", "DK": "Denmark", "FI": "Finland", "IS": "Iceland",
    "DE": "Germany", "NL": "Netherlands", "BE": "Belgium", "FR": "France", "ES": "Spain",
    "IT": "Italy", "PT": "Portugal", "AT": "Austria", "CH": "Switzerland", "PL": "Poland",
    "CZ": "Czechia", "EE": "Estonia", "LV": "Latvia", "LT": "Lithuania", "IE": "Ireland",
    "GB": "United Kingdom", "US": "United States", "CA": "Canada", "AU": "Australia",
    "NZ": "New Zealand", "JP": "Japan", "KR": "South Korea", "CN": "China", "IN": "India",
    "IL": "Israel", "BR": "Brazil", "ZA": "South Africa", "SG": "Singapore", "HU": "Hungary",
    "GR": "Greece", "RO": "Romania", "SI": "Slovenia", "SK": "Slovakia", "HR": "Croatia",
    "LU": "Luxembourg", "BG": "Bulgaria", "CY": "Cyprus", "MT": "Malta",
}  # fmt: skip


def modality_name(code: str) -> str:
    """Readable name for a modality code; unknown codes are returned unchanged."""
    code = "" if code is None else str(code)
    return MODALITIES.get(code.strip().upper(), code)


def country_name(code: str) -> str:
    code = "" if code is None else str(code)
    return COUNTRIES.get(code.strip().upper(), code)


def snomed_url(sctid: str | int | None) -> str:
    if not sctid:
        return ""
    return f"https://browser.ihtsdotools.org/?perspective=full&conceptId1={sctid}"
