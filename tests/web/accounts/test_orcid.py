import pytest
from django.core.exceptions import ValidationError

from aidahub.web.accounts.orcid import check_character, normalize_orcid


def test_check_character_matches_orcids_examples():
    assert check_character("000000021825009") == "7"
    assert check_character("000000021694233") == "X"


@pytest.mark.parametrize(
    "typed",
    [
        "0000-0002-1825-0097",
        "0000000218250097",
        "https://orcid.org/0000-0002-1825-0097",
        "http://www.orcid.org/0000-0002-1825-0097/",
        "orcid.org/0000-0002-1825-0097",
        " 0000 0002 1825 0097 ",
    ],
)
def test_the_ways_people_type_an_id_are_kept_as_the_bare_id(typed):
    assert normalize_orcid(typed) == "0000-0002-1825-0097"


def test_x_check_character_in_either_case():
    assert normalize_orcid("0000-0002-1694-233x") == "0000-0002-1694-233X"


def test_empty_stays_empty():
    assert normalize_orcid("  ") == ""


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("0000-0002-1825-0098", "checksum"),
        ("0000-0002-1825-009", "shape"),
        ("0000-0002-1825-00977", "shape"),
        ("https://example.org/0000-0002-1825-0097", "shape"),
        ("0000-0002-1825-00X7", "shape"),
    ],
)
def test_wrong_ids_are_refused(typed, code):
    with pytest.raises(ValidationError) as raised:
        normalize_orcid(typed)
    assert raised.value.code == code
