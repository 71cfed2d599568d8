"""What the demo register's invented datasets are about, as data.

Each ``Blueprint`` names one invented dataset: its subject, modalities, organs, the kind of
example image drawn for it, its licenses and its part in the tour (a second version, a
withdrawal, a preview). ``demo`` invents the rest (numbers, people, dates) from a seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


USE_TOPICS = [
    "Deep learning for {what}: a multicentre evaluation",
    "Self-supervised pre-training for {what}",
    "External validation of a commercial algorithm for {what}",
    "Uncertainty estimation in {what}",
]
