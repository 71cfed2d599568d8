"""Free-text scrubbing on realistic Swedish radiology text."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from aidahub.deid.text import PLACEHOLDERS, names_in, scrub, scrub_text

REPORT = """\
CT THORAX MED KONTRAST (LUNGEMBOLI)
Patient: Åsa Öberg, 19121212-1212. Remitterande: Dr Anna-Karin Eriksson, HSA SE2321000016-15CQ.
Tel 070-123 45 67 eller 013-12 34 56, e-post asa.oberg@example.se.
Adress: Storgatan 12, 582 25 Linköping.
Undersökt 2024-03-15 kl. 14.35, jämfört med us den 12/2.
Teknik: Spiral 64 x 0,625 mm, 100 kV, 250 mAs, CTDIvol 8,4 mGy, DLP 312 mGy*cm.
Fynd: Fyllnadsdefekter i segmentartärerna till höger underlob (serie 601, bild 123).
Bedömning: Bilateral lungemboli. /ÅÖ, AKE
"""
NAMES = ["Öberg^Åsa", "Eriksson^Anna-Karin"]


def test_report_is_scrubbed_in_every_category():
    result = scrub(REPORT, names=NAMES)
    for planted in [
        "Åsa", "Öberg", "Anna", "Karin", "Eriksson", "19121212", "1212", "SE2321000016",
        "070-123", "013-12", "asa.oberg", "Storgatan", "582 25", "2024-03-15", "14.35", "12/2",
        "ÅÖ", "AKE",
    ]:  # fmt: skip
        assert planted not in result.text, planted
    assert set(result.found) == set(PLACEHOLDERS)
    assert result.found[0] == "name"  # categories in order of first appearance
    for clinical in [
        "CT THORAX MED KONTRAST (LUNGEMBOLI)",
        "Spiral 64 x 0,625 mm, 100 kV, 250 mAs, CTDIvol 8,4 mGy, DLP 312 mGy*cm.",
        "(serie 601, bild 123)",
        "Bilateral lungemboli.",
        "Tel ",
        "Patient: ",
    ]:
        assert clinical in result.text, clinical


def test_upper_case_report():
    text = "PAT ÅSA ÖBERG 121212-1212, REMITTENT ANNA-KARIN ERIKSSON, US 15 MARS 2024."
    assert scrub_text(text, NAMES) == (
        "PAT [name removed] [name removed] [personal number removed], REMITTENT "
        "[name removed] [name removed], US [date removed]."
    )


def test_scrub_text_is_the_text_of_scrub():
    assert scrub_text(REPORT, NAMES) == scrub(REPORT, names=NAMES).text


# Personal identity and coordination numbers ----------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "19121212-1212",  # Skatteverket's example, Luhn-valid
        "121212-1212",
        "121212+1212",  # over 100 years old
        "191212121212",
        "1212121212",
        "811228-9874",
        "19850769-1238",  # coordination number: day 09 + 60
        "850769-1238",
        "19850709-1234",  # fails Luhn but is written like a personal number
        "850709-1234",
        "198507091234",
        "19850709-T123",  # reserve number
    ],
)
def test_personal_numbers(number):
    result = scrub(f"Pat {number}, remiss.")
    assert result.text == "Pat [personal number removed], remiss."
    assert result.found == ["personal number"]


def luhn_digit(nine: str) -> str:
    total = sum(sum(divmod(int(d) * (2 - i % 2), 10)) for i, d in enumerate(nine))
    return str(-total % 10)


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    st.integers(0, 999),
    st.booleans(),
)
def test_every_valid_personal_number_is_removed_in_every_form(born, serial, coordination):
    day = born.day + (60 if coordination else 0)
    full = f"{born.year:04d}{born.month:02d}{day:02d}"
    nine = full[2:] + f"{serial:03d}"
    ten = nine + luhn_digit(nine)
    forms = [
        f"{full}-{ten[6:]}",
        f"{full}{ten[6:]}",
        f"{ten[:6]}-{ten[6:]}",
        f"{ten[:6]}+{ten[6:]}",
        ten,
        f"{ten[:6]} {ten[6:]}",
    ]
    for form in forms:
        result = scrub(f"Pnr {form}, inkom.")
        assert result.text == "Pnr [personal number removed], inkom.", form


@given(st.sampled_from("02369"), st.text("0123456789", min_size=7, max_size=7))
def test_every_swedish_mobile_number_is_removed(operator, rest):
    number = f"07{operator}{rest}"
    for form in [
        number,
        f"{number[:3]}-{number[3:]}",
        f"{number[:3]}-{number[3:6]} {number[6:8]} {number[8:]}",
        f"+46 {number[1:3]} {number[3:6]} {number[6:8]} {number[8:]}",
    ]:
        text = scrub_text(f"Ring {form} idag")
        assert text in ("Ring [phone removed] idag", "Ring [personal number removed] idag"), form


@pytest.mark.parametrize("text", ["Mätt 121399-1234 här", "nr 19851332-1234 här"])
def test_numbers_without_a_real_date_part_are_not_personal_numbers(text):
    assert "personal number" not in scrub(text).found


# Identifiers, e-mail, phone ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Signerad SE2321000016-1234.", "Signerad [identifier removed]."),
        ("HSA-id: se2321000016-15CQ", "HSA-id: [identifier removed]"),
        (
            "Remissnr 123456, us-nr: RTG-2024-1234",
            "Remissnr [identifier removed], us-nr: [identifier removed]",
        ),
        ("Accession No. A12345", "Accession No. [identifier removed]"),
    ],
)
def test_identifiers(text, expected):
    assert scrub_text(text) == expected


@pytest.mark.parametrize(
    "address", ["anna.eriksson@regionostergotland.se", "åsa.öberg@sjukhus.se", "x+y@a.b.org"]
)
def test_email(address):
    assert scrub_text(f"Svar till {address}.") == "Svar till [e-mail removed]."


@pytest.mark.parametrize(
    "number",
    [
        "070-123 45 67",
        "070-1234567",
        "0701234567",
        "+46 70 123 45 67",
        "+46 (0)70-123 45 67",
        "0046 70 123 45 67",
        "08-123 456 78",
        "08-12345678",
        "013-12 34 56",
        "010-123 45 67",
        "+44 20 7946 0958",
        "+1 555 123 4567",
    ],
)
def test_phone_numbers(number):
    result = scrub(f"Ring {number} vid frågor.")
    assert result.text == "Ring [phone removed] vid frågor."
    assert result.found == ["phone"]


def test_short_numbers_after_a_phone_word():
    assert (
        scrub_text("Jour: tel. 1234, sökare 56789")
        == "Jour: tel. [phone removed], sökare [phone removed]"
    )


# Addresses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "Storgatan 12",
        "Drottninggatan 5B",
        "Vägen 3, 582 25 Linköping",
        "S:t Larsgatan 3",
        "Gamla Kungsvägen 4 lgh 1101",
        "STORGATAN 12",
        "582 25",
        "SE-582 25 Linköping",
        "Box 1234",
        "12 Baker Street",
    ],
)
def test_addresses(address):
    result = scrub(f"Bor på {address}.")
    assert result.text == "Bor på [address removed]."
    assert result.found == ["address"]


@pytest.mark.parametrize(
    "text",
    [
        "Luftvägen 3 mm vid.",
        "Gallgången 8 mm.",
        "Fotleden 3 projektioner.",
        "Fallen 3 och 4 visar samma sak.",
        "Matris 512 x 512, 120 80 mm.",
        "Gången 2 var bättre.",
    ],
)
def test_medical_words_are_not_addresses(text):
    assert scrub_text(text) == text


# Dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        "2024-03-15",
        "2024-03-15 14:35",
        "2024-03-15T14:35:00",
        "20240315",
        "20240315143500",
        "15/3/2024",
        "15.03.2024",
        "15-03-2024",
        "3/15/2024",
        "15/3-24",
        "15/3 2024",
        "15.3.24",
        "240315",
        "15 mars 2024",
        "15:e mars",
        "1 maj 2023",
        "15-MAR-2024",
        "March 15, 2024",
        "March 15th",
        "15th of March 2024",
        "mars 2024",
        "den 12/2",
    ],
)
def test_dates(day):
    result = scrub(f"Jmf {day}, oförändrat.")
    assert result.found == ["date"], result.text
    assert result.text in ("Jmf [date removed], oförändrat.", "Jmf den [date removed], oförändrat.")


@pytest.mark.parametrize(
    "text",
    [
        "Förändring 5 may be seen.",
        "Sedan 2019 känd.",
        "1/3 av lungan.",
        "Grad 2/4.",
        "Serie 240315.",
        "UID 1.2.40.0.13.1.1",
        "Version 2.1.3.",
    ],
)
def test_not_dates(text):
    assert scrub_text(text) == text


# Names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Åsa Öberg",
        "ÅSA ÖBERG",
        "åsa öberg",
        "Asa Oberg",
        "ASA OBERG",
        "Öbergs",
        "Åsa's",
    ],
)
def test_names_ignore_case_and_diacritics(text):
    result = scrub(f"Pat {text} inkom.", names=["Öberg^Åsa"])
    assert result.found == ["name"]
    assert result.text == "Pat " + " ".join(["[name removed]"] * len(text.split())) + " inkom."


def test_names_are_whole_words():
    assert scrub_text("Lindberg och Lind", names=["Lind^Per"]) == "Lindberg och [name removed]"


@pytest.mark.parametrize("initials", ["AE", "A.E.", "A. E.", "AKE", "ANER", "ÅÖ", "AO"])
def test_initials(initials):
    names = ["Eriksson^Anna^Karin", "Öberg^Åsa"]
    assert scrub_text(f"Diktat {initials}/rs", names) == "Diktat [name removed]/rs"


def test_initials_that_are_clinical_words_need_dots():
    names = ["Eriksson^Per"]  # PE: also pulmonary embolism
    assert (
        scrub_text("Misstänkt PE. Granskad P.E.", names) == "Misstänkt PE. Granskad [name removed]"
    )


def test_initials_match_only_capitals():
    assert scrub_text("ae och av", ["Vik^Anna", "Eriksson^Anna"]) == "ae och av"


def test_free_form_names():
    assert scrub_text("Dr Carl-Johan von Essen (CJE)", ["Carl-Johan von Essen"]) == (
        "Dr [name removed] von [name removed] ([name removed])"
    )


def test_one_letter_parts_are_not_names():
    assert scrub_text("Segment 6 B", ["Nilsson^B"]) == "Segment 6 B"


def test_names_in_finds_every_person_name_at_any_depth():
    ds = Dataset()
    ds.PatientName = "Öberg^Åsa^K^Dr"
    ds.ReferringPhysicianName = "Eriksson^Anna-Karin"
    ds.OperatorsName = ["Lind^Per", "Mats Karlsson"]
    ds.PerformingPhysicianName = ""
    observer = Dataset()
    observer.PersonName = "Nyström^Jöns"
    item = Dataset()
    item.ContentSequence = Sequence([observer])
    ds.ContentSequence = Sequence([item])
    ds.StudyDescription = "Not^A^Name"
    found = names_in(ds)
    for part in ["Öberg", "Åsa", "Eriksson", "Anna-Karin", "Anna", "Karin", "Lind", "Per"]:
        assert part in found
    for part in ["Mats", "Karlsson", "Nyström", "Jöns", "Öberg^Åsa^K^Dr", "Mats Karlsson"]:
        assert part in found
    assert "K" not in found and "Dr" not in found and "" not in found
    assert "Not" not in found
    assert len(found) == len(set(found))
    text = "Åsa Öberg (ÅKÖ) granskad av JÖNS NYSTRÖM och Per Lind; MK."
    assert scrub_text(text, found) == (
        "[name removed] [name removed] ([name removed]) granskad av [name removed] "
        "[name removed] och [name removed] [name removed]; [name removed]."
    )


# Clinical text stays as it is ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "CT thorax with contrast, 5 mm slices, 120 kV",
        "CTDIvol 1.25 mGy, DLP 345 mGycm",
        "MR hjärna: T2 FLAIR, DWI, SWI, 3T, b-värde 1000 s/mm2",
        "Series 3, 4 and 1001; serie 601 bild 123/450; image 23 of 120",
        "Nodulus 4 mm i segment 3. Aorta 32 mm. Tumör 3,5 x 2,1 cm.",
        "Spiral 64 x 0,625 mm, pitch 0.984, rotationstid 0.5 s, kernel B30f",
        "TR 500 ms, TE 15 ms, ADC 0,9 x 10-3 mm2/s, matris 512 x 512",
        "Stadium T2N1M0. C5-C6, L4/L5, Th12. BI-RADS 4. PI-RADS 3. Bosniak IIF.",
        "Hb 120 g/l, krea 85, 80 ml Omnipaque 350, 4 ml/s, saturation 89 %",
        "SOP 1.2.840.10008.5.1.4.1.1.2",
        "Kontroll om 3 mån. Jämfört med föregående us 2019 ingen förändring.",
        "Misstänkt PE, HE-färgning, CT och MR, US buk.",
    ],
)
def test_clinical_text_is_untouched(text):
    result = scrub(text, names=["Eriksson^Anna"])
    assert result.text == text
    assert result.found == []


def test_empty_text():
    assert scrub("").text == ""
    assert scrub("", names=["Öberg^Åsa"]).found == []
