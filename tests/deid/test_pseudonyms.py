"""Keyed pseudonyms and the patient identity they are made from."""

import re

import pytest
from pydicom.dataset import Dataset

from aidahub.deid.keys import key_from_secret
from aidahub.deid.pseudonyms import MAX_LENGTH, patient_identity, pseudonym

KEY = key_from_secret(bytes(range(32)))
OTHER_KEY = key_from_secret(bytes(range(1, 33)))


def dataset(**elements):
    ds = Dataset()
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    return ds


def test_identity_is_issuer_and_patient_id():
    ds = dataset(PatientID="19121212-1212", IssuerOfPatientID="SE:PNR", PatientName="A^B")
    assert patient_identity(ds) == "SE:PNR|19121212-1212"


def test_identity_without_patient_id_uses_name_and_birth_date():
    one = dataset(PatientID="", PatientName="Öberg^Åsa^^", PatientBirthDate="19850709")
    other = dataset(PatientName="ÖBERG^ÅSA", PatientBirthDate="19850709")
    assert patient_identity(one) == patient_identity(other) == "ÖBERG^ÅSA|19850709"


def test_identity_is_stable_across_files_of_one_patient():
    first = dataset(PatientID="123 ", StudyDate="20240101")
    second = dataset(PatientID="123", StudyDate="20240301", Modality="CT")
    assert patient_identity(first) == patient_identity(second)


def test_identity_of_an_empty_dataset():
    assert patient_identity(Dataset()) == "|"


def test_same_key_same_pseudonym_other_key_other_pseudonym():
    assert pseudonym(KEY, "patient", "123") == pseudonym(
        key_from_secret(bytes(range(32))), "patient", "123"
    )
    assert pseudonym(KEY, "patient", "123") != pseudonym(OTHER_KEY, "patient", "123")
    assert pseudonym(KEY, "patient", "123") != pseudonym(KEY, "patient", "124")


def test_kinds_are_separate_namespaces():
    kinds = ["patient", "accession", "request", "examination", "study-id"]
    assert len({pseudonym(KEY, kind, "1001") for kind in kinds}) == len(kinds)


def test_pseudonym_fits_short_string_and_hides_the_value():
    value = "RTG20240315001"
    made = pseudonym(KEY, "accession", value)
    assert re.fullmatch(r"[A-Z2-7]{16}", made)
    assert value not in made


def test_padding_is_ignored_and_empty_stays_empty():
    assert pseudonym(KEY, "accession", "A1 ") == pseudonym(KEY, "accession", "A1")
    assert pseudonym(KEY, "accession", "A1\x00") == pseudonym(KEY, "accession", "A1")
    assert pseudonym(KEY, "accession", "") == ""
    assert pseudonym(KEY, "accession", "  ") == ""


def test_length():
    assert len(pseudonym(KEY, "patient", "1", length=8)) == 8
    assert len(pseudonym(KEY, "patient", "1", length=MAX_LENGTH)) == MAX_LENGTH
    assert pseudonym(KEY, "patient", "1", length=8) == pseudonym(KEY, "patient", "1")[:8]
    for bad in (0, MAX_LENGTH + 1):
        with pytest.raises(ValueError, match="1 to"):
            pseudonym(KEY, "patient", "1", length=bad)
