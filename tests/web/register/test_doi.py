import pytest

from aidahub.web.register.doi import InvalidDOI, parse_doi, version_doi


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("10.23698/aida/ctpa", "10.23698/aida/ctpa"),
        ("https://doi.org/10.23698/aida/ctpa", "10.23698/aida/ctpa"),
        ("doi:10.5072/example/swfr", "10.5072/example/swfr"),
        ("  10.1038/s41597-020-00674-0 ", "10.1038/s41597-020-00674-0"),
    ],
)
def test_accepts_dois_in_the_forms_people_write_them(given, expected):
    assert parse_doi(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "",
        "ctpa",
        "11.23698/aida/ctpa",
        "10.23698",
        "10.23698/",
        "10.23698/aida/../../etc",
        "10.23698/aida//x",
        "10.23698/<script>",
        "10.23698/a b",
        "10.12/x",
    ],
)
def test_refuses_what_is_not_a_doi_with_a_message_that_says_so(given):
    with pytest.raises(InvalidDOI) as caught:
        parse_doi(given)
    assert "DOI" in str(caught.value)


def test_version_doi_extends_the_concept_doi():
    assert version_doi("10.23698/aida/ctpa", "1.1") == "10.23698/aida/ctpa.v1.1"
    with pytest.raises(InvalidDOI):
        version_doi("10.23698/aida/ctpa", "1/../2")
