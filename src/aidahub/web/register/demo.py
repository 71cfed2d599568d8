"""Demo data: a register that looks and reads like a real one, made up from a fixed seed.

``load_demo()`` imports the example records through the importer, then adds about thirty
invented datasets (every license type, withdrawn and hidden ones, several versions), the
clinical council's priority lists, synthetic example images drawn with Pillow, and a staff
user. Running it again changes nothing: each dataset is keyed by its concept DOI and skipped
when present. ``make_bulk()`` makes many datasets quickly for the benchmark.

Everything here is invented. People, papers, diary numbers and ORCID iDs are made up; the
ORCID iDs have a valid check digit but lie in the 0000-0000 block, which ORCID does not
issue, so none of them can point at a real researcher. E-mail addresses are under
example.org (RFC 2606). The images are drawn shapes and noise, not patient data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from PIL import Image, ImageDraw, ImageFilter

from aidahub.web.register import services
from aidahub.web.register.doi import version_doi
from aidahub.web.register.models import (
    Author,
    Contact,
    CopyrightHolder,
    Dataset,
    DatasetVersion,
    EthicsApproval,
    ExampleImage,
    License,
    LicenseKind,
    Priority,
    PriorityList,
    Publication,
    PublicationRelation,
)
from aidahub.web.register.vocab import modality_name

DEMO_LOGIN_FILE = "demo-login.txt"
DEMO_USERNAME = "director"
RECORDS_DIR = Path(__file__).resolve().parent / "fixtures" / "records"
DEMO_SEED = 20240315
THUMBNAIL_SIZE = 320

Write = Callable[[str], None]

# SNOMED CT concept ids of the body structures the demo datasets cover.
ORGANS: dict[str, str] = {
    "Lung": "39607008", "Breast": "76752008", "Brain": "12738006", "Liver": "10200004",
    "Prostate": "41216001", "Heart": "80891009", "Kidney": "64033007", "Wrist": "8205005",
    "Knee": "72696002", "Colon": "71854001", "Skin": "39937001", "Lymph node": "59441001",
    "Head": "69536005",
}  # fmt: skip

SCANNERS: dict[str, list[str]] = {
    "CT": [
        "Siemens SOMATOM Definition Flash",
        "Siemens SOMATOM Force",
        "GE Revolution CT",
        "Canon Aquilion ONE",
        "Philips IQon Spectral CT",
    ],
    "MR": [
        "Siemens MAGNETOM Skyra 3T",
        "Philips Ingenia 1.5T",
        "GE SIGNA Premier 3T",
        "Siemens MAGNETOM Aera 1.5T",
    ],
    "MG": ["Hologic Selenia Dimensions", "Siemens MAMMOMAT Inspiration", "GE Senographe Pristina"],
    "DX": ["Philips DigitalDiagnost", "Carestream DRX-Evolution", "Siemens Ysio Max"],
    "CR": ["Fujifilm FCR Profect", "Agfa CR 30-X"],
    "US": ["GE LOGIQ E10", "Philips EPIQ 7", "Canon Aplio i800", "GE Vivid E95"],
    "PT": ["Siemens Biograph Vision", "GE Discovery MI"],
    "SM": [
        "Hamamatsu NanoZoomer S360",
        "Hamamatsu NanoZoomer XR",
        "Leica Aperio GT 450",
        "Philips IntelliSite Ultra Fast Scanner",
        "3DHISTECH Pannoramic 250 Flash III",
    ],
    "XC": ["FotoFinder Medicam 1000", "Heine Delta 30"],
}

# (bytes per scan low, high), (scans low, high)
SCALES: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "CT": ((150_000_000, 600_000_000), (80, 2400)),
    "MR": ((40_000_000, 300_000_000), (60, 1200)),
    "MG": ((30_000_000, 90_000_000), (500, 12000)),
    "DX": ((4_000_000, 20_000_000), (300, 9000)),
    "CR": ((4_000_000, 20_000_000), (300, 6000)),
    "US": ((15_000_000, 200_000_000), (100, 2000)),
    "PT": ((300_000_000, 900_000_000), (50, 600)),
    "SM": ((700_000_000, 3_200_000_000), (80, 2500)),
    "XC": ((2_000_000, 8_000_000), (400, 8000)),
}


@dataclass(frozen=True)
class Blueprint:
    """What one invented dataset is about; numbers, people and dates come from the seed."""

    short: str
    title: str
    subject: str
    modalities: tuple[str, ...]
    organs: tuple[str, ...]
    image: str
    summary: str
    annotation: str = ""
    origin: str = "Clinical"
    stain: str = ""
    phase: str = ""
    resolution: str = ""
    age_span: str = "18-90"
    priority: int | None = None
    licenses: tuple[str, ...] = ()
    role: str = ""


CATALOGUE: list[Blueprint] = [
    Blueprint(
        "LNQ",
        "Lymph node quantification in contrast-enhanced thoracic CT",
        "Radiology",
        ("CT",),
        ("Lymph node", "Lung"),
        "ct",
        "Contrast-enhanced chest CT examinations of patients with lung cancer, with "
        "mediastinal lymph nodes measured by thoracic radiologists.",
        "Short-axis diameters and 3D segmentations of mediastinal lymph nodes.",
        phase="Venous",
        resolution="0.7 x 0.7 x 1.0 mm",
        priority=1,
        licenses=("aida-by",),
        role="versions",
    ),
    Blueprint(
        "PECT",
        "CT pulmonary angiography with annotated pulmonary emboli",
        "Radiology",
        ("CT",),
        ("Lung",),
        "ct",
        "CT pulmonary angiography examinations from emergency departments, half of "
        "them positive for pulmonary embolism.",
        "Pixel-level segmentations of emboli in the pulmonary arteries.",
        phase="Pulmonary arterial",
        resolution="0.6 x 0.6 x 1.0 mm",
        licenses=("controlled-access", "aida-by"),
    ),
    Blueprint(
        "BRCA-MG",
        "Screening mammograms with biopsy-verified cancers",
        "Radiology",
        ("MG",),
        ("Breast",),
        "mammo",
        "Four-view screening mammograms from a population screening programme, "
        "including interval and screen-detected cancers verified by biopsy.",
        "Bounding boxes around cancers; case-level outcome from the cancer register.",
        age_span="40-74",
        priority=2,
        licenses=("aida-by-ca",),
    ),
    Blueprint(
        "BRLN-MR",
        "Breast MRI with axillary lymph node annotations",
        "Radiology",
        ("MR",),
        ("Breast", "Lymph node"),
        "mr",
        "Dynamic contrast-enhanced breast MRI before neoadjuvant treatment.",
        "Axillary lymph nodes outlined and classified as benign or metastatic.",
        phase="Dynamic contrast-enhanced",
        resolution="0.8 x 0.8 x 1.5 mm",
        licenses=("aida-ca",),
        priority=2,
    ),
    Blueprint(
        "GLIO",
        "Brain MRI of glioma patients with tumour segmentations",
        "Radiology",
        ("MR",),
        ("Brain",),
        "mr",
        "Pre-operative brain MRI (T1, T1 with contrast, T2, FLAIR) of adult glioma patients.",
        "Enhancing tumour, necrosis and oedema segmented by neuroradiologists.",
        phase="T1 post-contrast",
        resolution="1.0 mm isotropic",
        licenses=("aida-by",),
    ),
    Blueprint(
        "STROKE",
        "Non-contrast head CT in suspected acute stroke",
        "Radiology",
        ("CT",),
        ("Brain", "Head"),
        "ct-head",
        "Non-contrast head CT examinations from stroke alerts, with follow-up imaging "
        "and final diagnosis.",
        "Early ischaemic changes scored with ASPECTS; haemorrhages segmented.",
        phase="Non-contrast",
        priority=3,
        licenses=("aida",),
    ),
    Blueprint(
        "LIVLES",
        "Multiphase liver CT with focal lesion annotations",
        "Radiology",
        ("CT",),
        ("Liver",),
        "ct",
        "Multiphase abdominal CT examinations of patients referred for characterisation "
        "of focal liver lesions.",
        "Lesions segmented and labelled as cyst, haemangioma, metastasis or HCC.",
        phase="Arterial, portal venous",
        licenses=("aida-by", "controlled-access"),
    ),
    Blueprint(
        "PROMR",
        "Biparametric prostate MRI with PI-RADS assessments",
        "Radiology",
        ("MR",),
        ("Prostate",),
        "mr",
        "Biparametric prostate MRI (T2, DWI, ADC) of men with raised PSA.",
        "Index lesions outlined with PI-RADS scores and biopsy outcome.",
        age_span="45-80",
        priority=4,
        licenses=("aida-ca",),
    ),
    Blueprint(
        "CCTA",
        "Coronary CT angiography with calcium scoring",
        "Radiology",
        ("CT",),
        ("Heart",),
        "ct",
        "ECG-gated coronary CT angiography with calcium scoring scans.",
        "Agatston scores and stenosis grades per coronary segment.",
        phase="Arterial",
        licenses=("aida-by",),
    ),
    Blueprint(
        "HYDRO",
        "Renal ultrasound with hydronephrosis grading",
        "Radiology",
        ("US",),
        ("Kidney",),
        "us",
        "Renal ultrasound examinations of children and adults with suspected urinary "
        "tract obstruction.",
        "Hydronephrosis graded 0-4 per kidney.",
        age_span="0-85",
        licenses=("aida",),
    ),
    Blueprint(
        "PEDWR",
        "Paediatric wrist radiographs with fracture annotations",
        "Radiology",
        ("DX",),
        ("Wrist",),
        "xray",
        "Wrist radiographs of children attending emergency departments after trauma.",
        "Fractures outlined with bounding boxes and described as in the report.",
        age_span="2-17",
        priority=5,
        licenses=("aida-by",),
    ),
    Blueprint(
        "KNEEOA",
        "Knee radiographs graded for osteoarthritis",
        "Radiology",
        ("CR", "DX"),
        ("Knee",),
        "xray",
        "Weight-bearing knee radiographs from primary care referrals.",
        "Kellgren-Lawrence grades per knee.",
        age_span="35-90",
        licenses=("aida",),
        role="withdrawn",
    ),
    Blueprint(
        "CXR-ED",
        "Chest radiographs from emergency departments",
        "Radiology",
        ("DX",),
        ("Lung", "Heart"),
        "xray",
        "Frontal and lateral chest radiographs with the radiologist's report.",
        "Findings extracted from the report: pneumothorax, effusion, consolidation.",
        licenses=("controlled-access", "aida"),
    ),
    Blueprint(
        "LUNGPET",
        "FDG PET/CT of non-small-cell lung cancer",
        "Radiology",
        ("PT", "CT"),
        ("Lung", "Lymph node"),
        "pet",
        "FDG PET/CT examinations for staging of non-small-cell lung cancer.",
        "Primary tumours and FDG-avid lymph nodes segmented.",
        priority=1,
        licenses=("aida-by-ca",),
    ),
    Blueprint(
        "CTC",
        "CT colonography with polyp annotations",
        "Radiology",
        ("CT",),
        ("Colon",),
        "ct",
        "CT colonography examinations in prone and supine positions.",
        "Polyps of 6 mm or more marked and matched with colonoscopy findings.",
        licenses=("aida-by",),
    ),
    Blueprint(
        "BRUS",
        "Breast ultrasound of palpable lumps",
        "Radiology",
        ("US",),
        ("Breast",),
        "us",
        "Targeted breast ultrasound of women with a palpable lump.",
        "Lesions outlined and classified with BI-RADS and pathology.",
        age_span="20-85",
        priority=2,
        licenses=("aida-ca",),
    ),
    Blueprint(
        "LIVFAT",
        "Abdominal MRI for liver fat quantification",
        "Radiology",
        ("MR",),
        ("Liver",),
        "mr",
        "Chemical-shift-encoded abdominal MRI of a population cohort.",
        "Proton density fat fraction maps with liver outlines.",
        role="draft",
        licenses=("aida-by",),
    ),
    Blueprint(
        "PEDCXR",
        "Paediatric chest radiographs with pneumonia labels",
        "Radiology",
        ("CR",),
        ("Lung",),
        "xray",
        "Chest radiographs of children with suspected pneumonia.",
        "Case-level labels: normal, bacterial or viral pneumonia.",
        age_span="0-15",
        licenses=("aida-by",),
        role="withdrawn",
    ),
    Blueprint(
        "SYNCT",
        "Synthetic chest CT generated by a diffusion model",
        "Radiology",
        ("CT",),
        ("Lung",),
        "ct",
        origin="Synthetic",
        age_span="-",
        summary="Synthetic chest CT volumes from a diffusion model trained on clinical "
        "examinations, with matching synthetic nodule masks.",
        annotation="Synthetic nodule masks generated with the volumes.",
        licenses=("aida",),
    ),
    Blueprint(
        "SYNMG",
        "Synthetic mammograms for detector pre-training",
        "Radiology",
        ("MG",),
        ("Breast",),
        "mammo",
        origin="Synthetic",
        age_span="-",
        summary="Synthetic four-view mammograms produced by a generative adversarial "
        "network, for pre-training of cancer detectors.",
        licenses=("aida-by",),
        role="hidden",
    ),
    Blueprint(
        "SLN",
        "Sentinel lymph node whole-slide images with metastasis annotations",
        "Pathology",
        ("SM",),
        ("Lymph node", "Breast"),
        "he",
        "Whole-slide images of sentinel lymph nodes from breast cancer surgery.",
        "Metastases outlined by pathologists; slide-level pN stage.",
        stain="H&E",
        resolution="0.25 µm/pixel",
        priority=2,
        licenses=("aida-by",),
        role="versions",
    ),
    Blueprint(
        "GLEASON",
        "Prostate core needle biopsies with Gleason grading",
        "Pathology",
        ("SM",),
        ("Prostate",),
        "he",
        "Whole-slide images of prostate core needle biopsies.",
        "Gleason patterns outlined; ISUP grade group per core.",
        stain="H&E",
        resolution="0.23 µm/pixel",
        priority=4,
        licenses=("controlled-access", "aida-by-ca"),
    ),
    Blueprint(
        "CRC",
        "Colorectal resections with tumour region annotations",
        "Pathology",
        ("SM",),
        ("Colon",),
        "he",
        "Whole-slide images of colorectal cancer resection specimens.",
        "Tumour, stroma, necrosis and normal mucosa regions outlined.",
        stain="H&E",
        resolution="0.25 µm/pixel",
        priority=6,
        licenses=("aida-by",),
    ),
    Blueprint(
        "MELSKIN",
        "Skin excisions with melanocytic lesion annotations",
        "Pathology",
        ("SM",),
        ("Skin",),
        "he",
        "Whole-slide images of excised melanocytic skin lesions.",
        "Lesions labelled as naevus, dysplastic naevus or melanoma.",
        stain="H&E",
        resolution="0.25 µm/pixel",
        licenses=("aida-ca",),
    ),
    Blueprint(
        "HER2",
        "Breast cancer slides stained for HER2 and Ki-67",
        "Pathology",
        ("SM",),
        ("Breast",),
        "ihc",
        "Whole-slide images of breast cancer resections stained with immunohistochemistry.",
        "HER2 scores (0 to 3+) and Ki-67 hot spots.",
        stain="Immunohistochemistry (HER2, Ki-67)",
        resolution="0.25 µm/pixel",
        priority=2,
        licenses=("aida",),
    ),
    Blueprint(
        "LIVFIB",
        "Liver biopsies with fibrosis staging",
        "Pathology",
        ("SM",),
        ("Liver",),
        "he",
        "Whole-slide images of liver biopsies from patients with chronic liver disease.",
        "Fibrosis stage (F0-F4) per biopsy.",
        stain="H&E, Sirius red",
        resolution="0.5 µm/pixel",
        licenses=("aida-by",),
    ),
    Blueprint(
        "GLOM",
        "Kidney biopsies with glomerulus segmentations",
        "Pathology",
        ("SM",),
        ("Kidney",),
        "he",
        "Whole-slide images of native kidney biopsies.",
        "Glomeruli segmented and labelled as normal or sclerotic.",
        stain="PAS",
        resolution="0.25 µm/pixel",
        licenses=("controlled-access", "aida-by"),
    ),
    Blueprint(
        "SYNHE",
        "Synthetic H&E tiles from a generative model",
        "Pathology",
        ("SM",),
        ("Colon",),
        "he",
        origin="Synthetic",
        age_span="-",
        summary="Synthetic H&E tiles of colon tissue from a generative model, with "
        "tissue class labels.",
        stain="H&E (synthetic)",
        resolution="0.5 µm/pixel",
        licenses=("aida",),
    ),
    Blueprint(
        "ECHO",
        "Echocardiography cine loops with ejection fraction",
        "Cardiology",
        ("US",),
        ("Heart",),
        "us",
        "Transthoracic echocardiography cine loops (apical four- and two-chamber views).",
        "Left ventricle outlined at end-diastole and end-systole; ejection fraction.",
        licenses=("aida-by",),
    ),
    Blueprint(
        "DERM",
        "Dermoscopic images of pigmented skin lesions",
        "Dermatology",
        ("XC",),
        ("Skin",),
        "derm",
        "Dermoscopic photographs of pigmented skin lesions from primary care.",
        "Diagnosis per lesion, histopathology-verified where excised.",
        licenses=("custom",),
    ),
]

PRIORITY_LISTS = [
    (
        dt.date(2021, 3, 15),
        "Priorities for the first funding period.",
        [
            ("Lung cancer: CT with nodule and lymph node annotations", ""),
            ("Breast cancer screening: mammography with outcomes", ""),
            ("Acute stroke: head CT and CT angiography", ""),
            ("Digital pathology of prostate biopsies", ""),
            ("Skeletal trauma: radiographs of fractures", ""),
        ],
    ),
    (
        dt.date(2023, 11, 20),
        "Revised after a review of the hub's composition and the "
        "clinical needs reported by the regions.",
        [
            (
                "Lung cancer: staging with CT and PET/CT",
                "Thoracic CT and PET/CT with annotated lymph nodes and follow-up.",
            ),
            (
                "Breast cancer: screening, staging and pathology",
                "Mammography, breast MRI and ultrasound linked to pathology outcomes.",
            ),
            (
                "Acute stroke: imaging for triage",
                "Non-contrast head CT and CT angiography with final diagnoses.",
            ),
            (
                "Prostate cancer: MRI and biopsy pathology",
                "Biparametric MRI paired with graded core needle biopsies.",
            ),
            (
                "Paediatric trauma radiographs",
                "Radiographs of children after trauma, with fracture annotations.",
            ),
            (
                "Colorectal cancer: whole-slide images of resections",
                "Digital pathology with tumour regions and outcome data.",
            ),
        ],
    ),
]

# (institution, homepage, mail domain, kind) — the research institutions that hold copyright.
INSTITUTIONS = [
    ("Linköping University", "https://liu.se/", "liu", "university"),
    ("Region Östergötland", "https://www.regionostergotland.se/", "regionostergotland", "region"),
    ("Karolinska Institutet", "https://ki.se/", "ki", "university"),
    ("Region Stockholm", "https://www.regionstockholm.se/", "regionstockholm", "region"),
    ("Uppsala University", "https://www.uu.se/", "uu", "university"),
    ("Region Uppsala", "https://regionuppsala.se/", "regionuppsala", "region"),
    ("Lund University", "https://www.lunduniversity.lu.se/", "lu", "university"),
    ("Region Skåne", "https://www.skane.se/", "skane", "region"),
    ("University of Gothenburg", "https://www.gu.se/", "gu", "university"),
    ("Västra Götaland Region", "https://www.vgregion.se/", "vgregion", "region"),
    ("Umeå University", "https://www.umu.se/", "umu", "university"),
    ("Örebro University", "https://www.oru.se/", "oru", "university"),
]

FIRST_NAMES = [
    "Anna",
    "Erik",
    "Maria",
    "Lars",
    "Karin",
    "Johan",
    "Sara",
    "Anders",
    "Elin",
    "Mikael",
    "Emma",
    "Per",
    "Sofia",
    "Magnus",
    "Ida",
    "Fredrik",
    "Linnea",
    "Nils",
    "Hanna",
    "Oskar",
    "Maja",
    "Gustav",
    "Ebba",
    "Jonas",
    "Klara",
    "Viktor",
    "Amira",
    "Reza",
    "Mei",
    "Tomasz",
]
LAST_NAMES = [
    "Lindqvist",
    "Bergström",
    "Holmberg",
    "Sandberg",
    "Ekström",
    "Nyberg",
    "Hedlund",
    "Forsberg",
    "Sjöberg",
    "Lundgren",
    "Wallin",
    "Engström",
    "Dahlberg",
    "Åberg",
    "Norén",
    "Blom",
    "Strand",
    "Falk",
    "Hagström",
    "Söderlund",
    "Nordin",
    "Karimi",
    "Chen",
    "Nowak",
    "Björk",
    "Ström",
]

COUNTRY_SETS = [
    ["SE"],
    ["SE"],
    ["SE", "NO", "DK", "FI"],
    ["SE", "NO"],
    ["SE", "DK", "FI", "DE", "NL"],
    ["SE", "FI"],
    ["SE", "DE"],
    [],
]

JOURNALS = [
    ("Nordic Journal of Medical Imaging", "njmi"),
    ("Scandinavian Journal of Digital Pathology", "sjdp"),
    ("Journal of Clinical Imaging Data", "jcid"),
    ("Proceedings of the Nordic Symposium on Medical AI", "nsmai"),
]

WITHDRAWAL_REASONS = {
    "KNEEOA": "Consent was withdrawn for part of the cohort; a corrected dataset is being "
    "prepared.",
    "PEDCXR": "Withdrawn at the copyright holder's request after a review found burned-in "
    "text in some images.",
}

CUSTOM_TERMS = (
    "Free for use in legal and ethical medical diagnostics research within the "
    "consortium, excluding training of commercial products, until the copyright "
    "holder has reviewed the first manuscript. Please contact the copyright "
    "holder before use."
)


# --- Invented people ------------------------------------------------------------------------


def orcid_checksum(base15: str) -> str:
    """ORCID check character, ISO 7064 MOD 11-2, over the first 15 digits."""
    total = 0
    for digit in base15:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def invented_orcid(rng: random.Random) -> str:
    """An iD with a valid check digit in the 0000-0000 block, which ORCID never issues."""
    base = "00000000" + "".join(str(rng.randint(0, 9)) for _ in range(7))
    digits = base + orcid_checksum(base)
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


def _ascii(text: str) -> str:
    table = str.maketrans("åäöÅÄÖéü", "aaoAAOeu")
    return text.translate(table).lower()


@dataclass
class Person:
    name: str
    orcid: str
    email: str


def _people(rng: random.Random, count: int, domain: str) -> list[Person]:
    first = rng.sample(FIRST_NAMES, count)
    last = rng.sample(LAST_NAMES, count)
    out = []
    for given, family in zip(first, last, strict=True):
        orcid = invented_orcid(rng) if rng.random() < 0.75 else ""
        email = f"{_ascii(given)}.{_ascii(family)}@{domain}.example.org"
        out.append(Person(f"{given} {family}", orcid, email))
    return out


# --- Example images -------------------------------------------------------------------------


def _noise(rng: random.Random, size: tuple[int, int], blur: float = 1.0) -> Image.Image:
    noise = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    return noise.filter(ImageFilter.GaussianBlur(blur)) if blur else noise


def _ct_slice(rng: random.Random, head: bool = False) -> Image.Image:
    """An axial CT-like slice: body, lungs or brain, spine, a few lesions, and noise."""
    size = 512
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    if head:
        draw.ellipse((96, 60, 416, 452), fill=235)  # skull
        draw.ellipse((112, 78, 400, 434), fill=105)  # brain
        draw.ellipse((226, 200, 246, 300), fill=30)  # ventricles
        draw.ellipse((266, 200, 286, 300), fill=30)
    else:
        draw.ellipse((40, 110, 472, 420), fill=95)  # body
        draw.ellipse((60, 128, 452, 404), fill=110)  # soft tissue
        draw.ellipse((90, 150, 240, 360), fill=25)  # right lung
        draw.ellipse((272, 150, 422, 360), fill=25)  # left lung
        draw.ellipse((200, 200, 300, 300), fill=140)  # heart and vessels
        draw.ellipse((236, 340, 276, 384), fill=230)  # vertebra
    for _ in range(rng.randint(1, 4)):
        x, y, r = rng.randint(150, 360), rng.randint(180, 330), rng.randint(5, 16)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(120, 190))
    img = img.filter(ImageFilter.GaussianBlur(1.5))
    return Image.blend(img, _noise(rng, img.size), 0.12)


def _mr_brain(rng: random.Random) -> Image.Image:
    """An axial T2-like brain MR slice: dark skull, grey and white matter, bright fluid."""
    size = 512
    img = Image.new("L", (size, size), 5)
    draw = ImageDraw.Draw(img)
    draw.ellipse((92, 56, 420, 456), fill=150)  # scalp fat
    draw.ellipse((104, 70, 408, 442), fill=25)  # skull
    draw.ellipse((116, 84, 396, 428), fill=215)  # cerebrospinal fluid
    draw.ellipse((124, 92, 388, 420), fill=120)  # grey matter
    folds = _noise(rng, (size // 16, size // 16), 0).resize((size, size), Image.BICUBIC)
    white = Image.new("L", (size, size), 0)
    ImageDraw.Draw(white).ellipse((160, 130, 352, 382), fill=255)
    white = Image.composite(
        white, Image.new("L", (size, size), 0), folds.point(lambda v: 255 if v > 110 else 0)
    )
    img.paste(85, (0, 0), white.filter(ImageFilter.GaussianBlur(3)))
    draw.ellipse((222, 190, 248, 300), fill=225)  # lateral ventricles
    draw.ellipse((264, 190, 290, 300), fill=225)
    if rng.random() < 0.7:  # a lesion with surrounding oedema
        x, y = rng.randint(170, 340), rng.randint(140, 360)
        draw.ellipse((x - 30, y - 26, x + 30, y + 26), fill=190)
        draw.ellipse((x - 14, y - 12, x + 14, y + 12), fill=150)
    img = img.filter(ImageFilter.GaussianBlur(1.3))
    return Image.blend(img, _noise(rng, img.size), 0.08)


def _pet(rng: random.Random) -> Image.Image:
    """A PET-like coronal view: blurred body, bright organs and a few hot spots."""
    img = Image.new("L", (384, 512), 255)
    draw = ImageDraw.Draw(img)
    draw.ellipse((142, 20, 242, 120), fill=120)  # brain
    draw.rounded_rectangle((92, 120, 292, 480), radius=60, fill=225)
    draw.ellipse((210, 170, 262, 232), fill=150)  # heart
    draw.ellipse((150, 400, 234, 450), fill=90)  # bladder
    for _ in range(rng.randint(2, 5)):
        x, y, r = rng.randint(120, 260), rng.randint(150, 340), rng.randint(6, 14)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(20, 70))
    img = img.filter(ImageFilter.GaussianBlur(4))
    return Image.blend(img, _noise(rng, img.size, 2), 0.08)


def _radiograph(rng: random.Random) -> Image.Image:
    """An X-ray-like wrist: forearm bones, carpal bones and metacarpals on dark background."""
    img = Image.new("L", (420, 560), 20)
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((110, 0, 310, 560), radius=90, fill=70)  # soft tissue
    draw.rounded_rectangle((135, 300, 195, 560), radius=25, fill=190)  # radius
    draw.rounded_rectangle((220, 320, 270, 560), radius=22, fill=180)  # ulna
    for i in range(8):  # carpal bones
        x, y = 140 + (i % 4) * 34, 230 + (i // 4) * 34
        draw.ellipse((x, y, x + 32, y + 30), fill=170 + rng.randint(-10, 10))
    for i in range(5):  # metacarpals
        x = 128 + i * 38
        draw.rounded_rectangle((x, 40 + abs(2 - i) * 15, x + 22, 225), radius=10, fill=185)
    if rng.random() < 0.6:  # a fracture line through the distal radius
        y = rng.randint(320, 360)
        draw.line((135, y, 195, y + rng.randint(-12, 12)), fill=60, width=3)
    img = img.filter(ImageFilter.GaussianBlur(2))
    return Image.blend(img, _noise(rng, img.size), 0.1)


def _mammogram(rng: random.Random) -> Image.Image:
    """A mammogram-like view: breast outline, streaky fibroglandular tissue, a dense spot."""
    size = (400, 520)
    breast = Image.new("L", size, 0)
    ImageDraw.Draw(breast).ellipse((-300, 10, 370, 510), fill=255)
    # Tissue is denser towards the nipple side and streaks towards it.
    texture = _noise(rng, (size[0] // 12, size[1] // 20), 0).resize(size, Image.BICUBIC)
    texture = texture.filter(ImageFilter.GaussianBlur(5)).point(lambda v: min(255, v * 3 // 2))
    ramp = Image.linear_gradient("L").rotate(90).resize(size).point(lambda v: 50 + v // 3)
    tissue = Image.blend(ramp, texture, 0.4)
    img = Image.new("L", size, 0)
    img.paste(tissue, (0, 0), breast.filter(ImageFilter.GaussianBlur(4)))
    if rng.random() < 0.7:
        x, y, r = rng.randint(120, 260), rng.randint(180, 340), rng.randint(8, 18)
        ImageDraw.Draw(img).ellipse((x - r, y - r, x + r, y + r), fill=225)
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    return Image.blend(img, _noise(rng, size), 0.05)


def _ultrasound(rng: random.Random) -> Image.Image:
    """An ultrasound-like sector with speckle and a dark oval structure."""
    img = Image.new("L", (512, 420), 0)
    speckle = _noise(rng, img.size, 0.8).point(lambda v: int(v * 0.55))
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).pieslice((-144, -300, 656, 420), 60, 120, fill=255)
    img.paste(speckle, (0, 0), mask)
    draw = ImageDraw.Draw(img)
    x, y = rng.randint(200, 300), rng.randint(180, 260)
    draw.ellipse((x - 60, y - 35, x + 60, y + 35), fill=15)
    return img.filter(ImageFilter.GaussianBlur(0.7))


def _stained_tissue(rng: random.Random, *, ihc: bool = False) -> Image.Image:
    """A pathology-like tile: pink stroma, glands lined with nuclei, scattered cells.

    Haematoxylin stains nuclei purple and eosin the stroma pink; an immunohistochemistry
    (IHC) stain turns positive nuclei brown.
    """
    w, h = 640, 480
    stroma = Image.new("RGB", (w, h), (236, 178, 205) if not ihc else (226, 214, 226))
    shade = _noise(rng, (w // 8, h // 8), 0).resize((w, h), Image.BICUBIC)
    stroma = Image.composite(stroma, Image.new("RGB", (w, h), (214, 140, 180)), shade)
    draw = ImageDraw.Draw(stroma)
    nucleus = [(88, 48, 140), (110, 60, 160), (70, 40, 120)]
    if ihc:
        nucleus = [(120, 72, 35), (92, 60, 130), (140, 90, 50), (100, 60, 30)]
    for _ in range(rng.randint(6, 11)):  # glands: a lumen lined by a ring of nuclei
        cx, cy = rng.randint(40, w - 40), rng.randint(40, h - 40)
        rx, ry = rng.randint(25, 60), rng.randint(20, 45)
        draw.ellipse((cx - rx - 9, cy - ry - 9, cx + rx + 9, cy + ry + 9), fill=(200, 120, 175))
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=(248, 236, 244))
        for k in range(36):
            angle = k / 36 * 6.283
            x = cx + (rx + 5) * math.cos(angle)
            y = cy + (ry + 5) * math.sin(angle)
            draw.ellipse((x - 4, y - 5, x + 4, y + 5), fill=rng.choice(nucleus))
    for _ in range(450):  # stromal and inflammatory cells
        x, y, r = rng.randint(0, w), rng.randint(0, h), rng.randint(2, 4)
        draw.ellipse((x - r, y - r, x + r, y + r + rng.randint(0, 3)), fill=rng.choice(nucleus))
    return stroma.filter(ImageFilter.GaussianBlur(0.9))


def _dermoscopy(rng: random.Random) -> Image.Image:
    """A dermoscopy-like photograph: skin tone, a brown lesion with a darker network."""
    img = Image.new("RGB", (512, 512), (222, 178, 150))
    draw = ImageDraw.Draw(img)
    draw.ellipse((-60, -60, 572, 572), outline=(30, 30, 30), width=60)  # lens vignette
    cx, cy = rng.randint(220, 290), rng.randint(220, 290)
    for radius, colour in ((120, (150, 95, 70)), (80, (110, 65, 45)), (35, (70, 40, 30))):
        r = radius + rng.randint(-15, 15)
        draw.ellipse((cx - r, cy - int(r * 0.8), cx + r, cy + int(r * 0.8)), fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(3))
    grain = _noise(rng, img.size, 1.2).convert("RGB")
    return Image.blend(img, grain, 0.07)


DRAWERS: dict[str, Callable[[random.Random], Image.Image]] = {
    "ct": _ct_slice,
    "ct-head": lambda rng: _ct_slice(rng, head=True),
    "mr": _mr_brain,
    "pet": _pet,
    "xray": _radiograph,
    "mammo": _mammogram,
    "us": _ultrasound,
    "he": _stained_tissue,
    "ihc": lambda rng: _stained_tissue(rng, ihc=True),
    "derm": _dermoscopy,
}

CAPTIONS = {
    "ct": "Axial slice",
    "ct-head": "Axial slice through the brain",
    "mr": "Axial slice",
    "pet": "Coronal maximum intensity projection",
    "xray": "Frontal view",
    "mammo": "Mediolateral oblique view",
    "us": "B-mode image",
    "he": "Tissue at 20x",
    "ihc": "Immunohistochemistry at 20x",
    "derm": "Dermoscopic view",
}


def _save_atomic(img: Image.Image, path: Path) -> None:
    """Write to a temporary name and rename, so a half-written image is never visible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fmt = "JPEG" if path.suffix == ".jpg" else "PNG"
    options = {"quality": 88} if fmt == "JPEG" else {}
    img.save(tmp, format=fmt, **options)
    os.replace(tmp, path)


def media_folder(doi: str) -> str:
    return doi.replace("/", "_")


def example_images(doi: str, kind: str, count: int, rng: random.Random) -> list[dict]:
    """Draw (once) *count* images and their thumbnails; return caption, url, thumbnail_url."""
    folder = media_folder(doi)
    root = Path(settings.MEDIA_ROOT) / "register" / folder
    ext = "jpg" if kind in {"he", "ihc", "derm"} else "png"
    base_url = f"{settings.MEDIA_URL}register/{folder}"
    out = []
    for n in range(1, count + 1):
        name, thumb = f"example-{n}.{ext}", f"example-{n}-thumbnail.{ext}"
        image_rng = random.Random(f"{doi}:{n}")
        if not (root / name).is_file() or not (root / thumb).is_file():
            img = DRAWERS[kind](image_rng)
            _save_atomic(img, root / name)
            small = img.copy()
            small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
            _save_atomic(small, root / thumb)
        caption = CAPTIONS[kind] if count == 1 else f"{CAPTIONS[kind]} ({n} of {count})"
        out.append(
            {
                "caption": caption,
                "url": f"{base_url}/{name}",
                "thumbnail_url": f"{base_url}/{thumb}",
            }
        )
    return out


# --- Invented datasets ----------------------------------------------------------------------


@dataclass
class Spec:
    """Everything needed to create one invented dataset."""

    blueprint: Blueprint
    doi: str
    short_name: str
    fields: dict
    authors: list[Person]
    holders: list[tuple[str, str, str, Person]]
    contacts: list[Person]
    licenses: list[dict]
    papers: list[dict] = field(default_factory=list)
    used_by: list[dict] = field(default_factory=list)
    ethics: dict | None = None
    images: list[dict] = field(default_factory=list)


def _lower_first(text: str) -> str:
    """'Chest radiographs' -> 'chest radiographs', but 'CT colonography' stays."""
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _paper(rng: random.Random, authors: list[Person], topic: str, year: int) -> dict:
    journal, abbreviation = rng.choice(JOURNALS)
    names = ", ".join(f"{p.name.split()[-1]} {p.name[0]}" for p in authors[:4])
    if len(authors) > 4:
        names += ", et al"
    title = f"{names}. {topic}. {journal}. {year};{rng.randint(3, 40)}:{rng.randint(1, 400)}."
    return {
        "title": title,
        "doi": f"10.5072/{abbreviation}.{year}.{rng.randint(100, 9999)}",
        "year": year,
    }


USE_TOPICS = [
    "Deep learning for {what}: a multicentre evaluation",
    "Self-supervised pre-training for {what}",
    "External validation of a commercial algorithm for {what}",
    "Uncertainty estimation in {what}",
]


def build_spec(
    bp: Blueprint, *, doi: str, short_name: str, seed: int, with_images: bool = True
) -> Spec:
    """Invent the numbers, people, dates and texts of one dataset; stable for a seed."""
    rng = random.Random(f"{seed}:{doi}")
    modality = bp.modalities[0]
    (size_lo, size_hi), (scans_lo, scans_hi) = SCALES[modality]
    scans = rng.randint(scans_lo, scans_hi)
    size = scans * rng.randint(size_lo, size_hi)
    annotations = int(scans * rng.uniform(0.4, 3.0)) if bp.annotation else None
    created = _random_date(rng, dt.date(2019, 9, 1), dt.date(2025, 6, 30))
    published = created + dt.timedelta(days=rng.randint(20, 140))
    universities = [i for i in INSTITUTIONS if i[3] == "university"]
    regions = [i for i in INSTITUTIONS if i[3] == "region"]
    university = rng.choice(universities)
    authors = _people(rng, rng.randint(2, 6), university[2])
    researcher = authors[-1]
    holders = [(university[0], university[1], university[2], researcher)]
    if rng.random() < 0.35:
        region = rng.choice(regions)
        holders.append((region[0], region[1], region[2], researcher))
    contacts = [authors[0]] + ([researcher] if researcher is not authors[0] else [])
    organs = [{"name": name, "sctid": ORGANS[name]} for name in bp.organs]
    keywords = [bp.subject, *(modality_name(m) for m in bp.modalities), *bp.organs]
    if bp.annotation:
        keywords.append("Annotated")
    if bp.origin == "Synthetic":
        keywords.append("Synthetic")
    if bp.origin == "Synthetic":
        provenance = (
            f"Generated at {holders[0][0]} in {created.year}. The images describe no real patient."
        )
    else:
        provenance = (
            f"Collected at {holders[-1][0]} between {created.year - rng.randint(2, 8)} "
            f"and {created.year}, de-identified and shared on the hub for research."
        )
    description = f"{scans:,} {_lower_first(bp.summary)}\n\n{provenance}"
    additional = ""
    if rng.random() < 0.5:
        scanners = ", ".join(SCANNERS[modality][:2])
        additional = (
            f"## Acquisition\n\nImages were acquired in clinical routine on "
            f"{scanners}. DICOM headers were de-identified with the hub's profile; "
            "dates are shifted per patient."
        )
    fields = {
        "title": bp.title,
        "description": description,
        "additional": additional,
        "subject": bp.subject,
        "origin": bp.origin,
        "status": "Ongoing" if bp.role == "draft" or rng.random() < 0.25 else "Complete",
        "url": f"{settings.BASE_URL}/{doi}",
        "copyright_year": published.year,
        "publisher": settings.HUB_NAME,
        "keywords": keywords,
        "organs": organs,
        "modalities": list(bp.modalities),
        "scanners": sorted(
            rng.sample(SCANNERS[modality], min(len(SCANNERS[modality]), rng.randint(1, 3)))
        ),
        "stain": bp.stain,
        "phase": bp.phase,
        "resolution": bp.resolution,
        "age_span": bp.age_span,
        "number_of_scans": scans,
        "number_of_annotations": annotations,
        "size_bytes": size,
        "annotation_description": bp.annotation,
        "countries_shared": rng.choice(COUNTRY_SETS),
        "date_created": created,
        "date_published": published,
        "date_modified": published,
        "synthetic": bp.origin == "Synthetic",
    }
    licenses = []
    for kind in bp.licenses or ("aida-by",):
        lic = {"kind": kind, "name": str(LicenseKind(kind).label)}
        if kind in {"aida-ca", "aida-by-ca"}:
            lic["review_date"] = published + dt.timedelta(days=365 * rng.choice([1, 2, 4]))
        if kind in {"aida-by", "aida-by-ca"} and rng.random() < 0.4:
            lic["acknowledgement"] = (
                f"Data was provided by {holders[0][0]} through the "
                f"{settings.CONSORTIUM_NAME} data hub."
            )
        if kind == "custom":
            lic["name"] = "Research use with review"
            lic["custom_text"] = CUSTOM_TERMS
        licenses.append(lic)
    what = f"{bp.organs[0].lower()} {modality_name(modality).lower()}"
    papers = [
        _paper(rng, authors, f"{bp.title}: a dataset for {what}", published.year)
        for _ in range(rng.choice([0, 1, 1, 2]))
    ]
    used_by = []
    if rng.random() < 0.3 or any(k == "aida-by-ca" for k in bp.licenses):
        for _ in range(rng.randint(1, 3)):
            year = min(published.year + rng.randint(1, 3), 2026)
            topic = rng.choice(USE_TOPICS).format(what=what)
            used_by.append(_paper(rng, _people(rng, rng.randint(3, 6), "uu"), topic, year))
    ethics = None
    if bp.origin == "Clinical" and rng.random() < 0.5:
        approved = created - dt.timedelta(days=rng.randint(200, 900))
        approved = max(approved, dt.date(2019, 1, 15))
        ethics = {
            "review_authority": "Swedish Ethical Review Authority",
            "diary_number": f"{approved.year}-{rng.randint(100, 99999):05d}",
            "approval_date": approved,
            "research_institution": university[0],
            "responsible_researcher": researcher.name,
            "sharing_sentences": (
                "Coded image data may be shared with researchers within the consortium for "
                "medical diagnostics research, provided that the data is de-identified and "
                "that an agreement including non-disclosure is in place."
            ),
        }
    images = []
    if with_images:
        images = example_images(doi, bp.image, rng.randint(1, 3), rng)
    return Spec(
        bp,
        doi,
        short_name,
        fields,
        authors,
        holders,
        contacts,
        licenses,
        papers,
        used_by,
        ethics,
        images,
    )


def _create_version(dataset: Dataset, spec: Spec, label: str) -> DatasetVersion:
    version = DatasetVersion.objects.create(
        dataset=dataset,
        version=label,
        doi=version_doi(dataset.concept_doi, label),
        image=spec.images[0]["thumbnail_url"] if spec.images else "",
        **spec.fields,
    )
    for n, person in enumerate(spec.authors):
        Author.objects.create(
            version=version,
            position=n,
            name=person.name,
            orcid=person.orcid,
            affiliation=spec.holders[0][0],
        )
    for n, (institution, url, _domain, person) in enumerate(spec.holders):
        CopyrightHolder.objects.create(
            version=version,
            position=n,
            institution=institution,
            institution_url=url,
            responsible_researcher=person.name,
            researcher_orcid=person.orcid,
        )
    for n, person in enumerate(spec.contacts):
        Contact.objects.create(
            version=version,
            position=n,
            name=person.name,
            email=person.email,
            identifier=person.orcid,
        )
    services.ensure_hub_contact(version)
    for n, image in enumerate(spec.images):
        ExampleImage.objects.create(version=version, position=n, **image)
    for n, lic in enumerate(spec.licenses):
        License.objects.create(
            version=version,
            position=n,
            identifier=f"{settings.BASE_URL}/{dataset.concept_doi}#"
            f"{lic['name'].lower().replace(' ', '-')}",
            **lic,
        )
    for n, paper in enumerate(spec.papers):
        Publication.objects.create(
            dataset=dataset,
            version=version,
            position=n,
            relation=PublicationRelation.DESCRIBES,
            **paper,
        )
    return version


def create_dataset(spec: Spec, *, priority: Priority | None = None) -> Dataset:
    """Create, publish and (as the blueprint says) version, withdraw or hide one dataset."""
    bp = spec.blueprint
    with transaction.atomic():
        dataset = Dataset.objects.create(
            concept_doi=spec.doi, short_name=spec.short_name, priority=priority
        )
        version = _create_version(dataset, spec, "1.0")
        if spec.ethics:
            EthicsApproval.objects.create(dataset=dataset, **spec.ethics)
        if bp.role == "draft":
            return dataset
        services.publish(dataset, version)
        if bp.role == "versions":
            _publish_second_version(dataset, spec)
        for paper in spec.used_by:
            services.record_use(dataset, paper["title"], doi=paper["doi"], year=paper["year"])
        if bp.role == "withdrawn":
            services.withdraw(
                dataset,
                WITHDRAWAL_REASONS.get(
                    bp.short, "Withdrawn at the request of the copyright holder."
                ),
            )
        if bp.role == "hidden":
            dataset.refresh_from_db()
            dataset.hidden = True
            dataset.save(update_fields=["hidden", "updated_at"])
    return dataset


def _publish_second_version(dataset: Dataset, spec: Spec) -> None:
    """Version 1.1 adds scans, as a dataset still being collected would."""
    dataset.refresh_from_db()
    draft = services.new_version(dataset, "1.1")
    first = dataset.latest_version
    extra_scans = max(10, (first.number_of_scans or 0) // 4)
    draft.number_of_scans = (first.number_of_scans or 0) + extra_scans
    draft.size_bytes = int(
        (first.size_bytes or 0) * draft.number_of_scans / max(1, first.number_of_scans or 1)
    )
    if first.number_of_annotations:
        draft.number_of_annotations = first.number_of_annotations + extra_scans
    modified = (first.date_published or dt.date(2024, 1, 1)) + dt.timedelta(days=200)
    draft.date_modified = draft.date_published = min(modified, dt.date(2026, 6, 1))
    draft.description += f"\n\nVersion 1.1 adds {extra_scans} scans collected since 1.0."
    draft.save()
    services.publish(dataset, draft)


# --- Priorities, staff login, records -------------------------------------------------------


def ensure_priority_lists() -> dict[tuple[int, int], Priority]:
    """The clinical council's lists, keyed (list index, number); created once."""
    out = {}
    for index, (approved_on, note, items) in enumerate(PRIORITY_LISTS):
        plist, created = PriorityList.objects.get_or_create(
            approved_on=approved_on, defaults={"note": note, "approved_by": "Clinical council"}
        )
        if created:
            for number, (title, description) in enumerate(items, start=1):
                Priority.objects.create(
                    priority_list=plist, number=number, title=title, description=description
                )
        for priority in plist.priorities.all():
            out[(index, priority.number)] = priority
    return out


def ensure_staff_login(write: Write) -> str:
    """Create the staff user once; the password is kept only in the login file."""
    login_file = Path(settings.DATA_DIR) / DEMO_LOGIN_FILE
    user_model = get_user_model()
    exists = user_model.objects.filter(username=DEMO_USERNAME).exists()
    if exists and login_file.is_file():
        line = login_file.read_text(encoding="utf-8").strip()
        write(line)
        return line
    if exists:
        line = (
            f"Staff user {DEMO_USERNAME} exists; its password is not in {DEMO_LOGIN_FILE}. "
            f"Set one with: aidahub manage changepassword {DEMO_USERNAME}"
        )
        write(line)
        return line
    password = secrets.token_urlsafe(12)
    user_model.objects.create_superuser(
        DEMO_USERNAME,
        settings.DATA_DIRECTOR_EMAIL,
        password,
        first_name=settings.DATA_DIRECTOR_NAME,
    )
    line = f"Staff login: {DEMO_USERNAME} / {password} at {settings.BASE_URL}/admin/"
    login_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = login_file.with_name(f".{login_file.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(line + "\n")
    os.replace(tmp, login_file)
    write(line)
    return line


def import_example_records(write: Write) -> list:
    """Import the example records through the register importer (one line per record)."""
    from aidahub.web.register.importer import import_paths

    def on_result(result) -> None:
        write(
            f"{result.outcome}: {result.doi or result.source}"
            + (f" ({result.error})" if result.error else "")
        )
        if result.outcome in {"created", "updated"}:
            for warning in result.warnings:
                write(f"  warning: {warning}")

    paths = sorted(RECORDS_DIR.glob("*.md"))
    results = import_paths(paths, on_result=on_result).results
    from aidahub.web.register.models import DatasetVersion

    for result in results:
        if result.doi and result.version:
            version = DatasetVersion.objects.filter(
                dataset__concept_doi=result.doi, version=result.version
            ).first()
            if version is not None:
                draw_legacy_assets(version)
    return results


LEGACY_ASSETS = "/assets/images/"


def draw_legacy_assets(version) -> None:
    """Draw stand-in pictures where an example record points into the legacy /assets/images/.

    On a real hub the data director copies the legacy site's images there instead.
    """
    kind = "xray" if set(version.modalities) & {"CR", "DX"} else "ct-head"
    urls = [version.image]
    for example in version.exampleimages.all():
        urls += [example.url, example.thumbnail_url]
    root = Path(settings.MEDIA_ROOT) / "register" / "assets" / "images"
    for url in urls:
        if not url or not url.startswith(LEGACY_ASSETS):
            continue
        target = (root / url[len(LEGACY_ASSETS) :]).resolve()
        if not target.is_relative_to(root.resolve()) or target.is_file():
            continue
        img = DRAWERS[kind](random.Random(url))
        if "thumbnail" in target.name:
            img.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        _save_atomic(img.convert("RGB"), target)


# --- Entry points ---------------------------------------------------------------------------


@dataclass
class DemoSummary:
    created: int
    existing: int
    login: str


def demo_doi(bp: Blueprint) -> str:
    slug = bp.short.lower()
    return f"{settings.DOI_PREFIX}/{settings.CONSORTIUM_NAME.lower()}/{slug}"


def load_demo(write: Write = print) -> DemoSummary:
    """Load the demo register; a second run finds everything present and changes nothing."""
    import_example_records(write)
    priorities = ensure_priority_lists()
    created = existing = 0
    for bp in CATALOGUE:
        doi = demo_doi(bp)
        if Dataset.objects.filter(concept_doi=doi).exists():
            existing += 1
            continue
        spec = build_spec(bp, doi=doi, short_name=bp.short, seed=DEMO_SEED)
        # Older datasets serve the first list's priorities, newer ones the current list's.
        list_index = 0 if spec.fields["date_published"] < PRIORITY_LISTS[1][0] else 1
        priority = None
        if bp.priority:
            priority = priorities.get((list_index, bp.priority)) or priorities.get((1, bp.priority))
        create_dataset(spec, priority=priority)
        created += 1
    write(f"Demo register: {created} datasets created, {existing} already present.")
    login = ensure_staff_login(write)
    return DemoSummary(created, existing, login)


def bulk_doi(n: int, seed: int = 1) -> str:
    """The concept DOI ``make_bulk`` gives its *n*-th dataset."""
    short = CATALOGUE[n % len(CATALOGUE)].short.lower()
    return f"{settings.DOI_PREFIX}/bulk/{short}-{seed}-{n}"


def make_bulk(count: int, seed: int = 1) -> int:
    """Create *count* published invented datasets quickly (for the benchmark).

    They share one set of example images and skip versions, withdrawals and ethics records,
    so the landing pages look like the demo's. Returns how many were created.
    """
    shared = {
        kind: example_images(
            f"{settings.DOI_PREFIX}/bulk-images/{kind}", kind, 1, random.Random(kind)
        )
        for kind in {bp.image for bp in CATALOGUE}
    }
    made = 0
    with transaction.atomic():
        for n in range(count):
            bp = CATALOGUE[n % len(CATALOGUE)]
            doi = bulk_doi(n, seed)
            if Dataset.objects.filter(concept_doi=doi).exists():
                continue
            spec = build_spec(
                bp, doi=doi, short_name=f"{bp.short}-{n}", seed=seed, with_images=False
            )
            spec.images = shared[bp.image]
            spec.ethics = None
            spec.blueprint = dataclasses.replace(bp, role="")
            create_dataset(spec)
            made += 1
    return made
