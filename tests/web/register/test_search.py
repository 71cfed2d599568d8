"""The search box: the parser on its own, then searches against real datasets."""

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from aidahub.web.register import search, selectors
from aidahub.web.register.search import Term, parse
from tests.factories import make_dataset

# -- the parser ------------------------------------------------------------------------------


def test_column_term_then_plain_words():
    assert parse("modality:ct lymph node").terms == [
        Term("modality", "ct"),
        Term(None, "lymph"),
        Term(None, "node"),
    ]


def test_quoted_values_keep_their_spaces():
    assert parse('title:"head ct" "lymph node"').terms == [
        Term("title", "head ct"),
        Term(None, "lymph node"),
    ]


def test_an_unclosed_quote_runs_to_the_end():
    assert parse('title:"head ct').terms == [Term("title", "head ct")]


def test_column_names_are_case_insensitive_and_have_aliases():
    assert parse("Organ:wrist field:Pathology licence:by").terms == [
        Term("organ", "wrist"),
        Term("subject", "Pathology"),
        Term("license", "by"),
    ]


def test_an_unknown_column_is_a_note_and_its_value_a_plain_word():
    query = parse("shape:round organ:wrist")
    assert query.terms == [Term(None, "round"), Term("organ", "wrist")]
    assert len(query.notes) == 1
    assert "shape" in query.notes[0] and "organ" in query.notes[0]


def test_a_column_without_a_value_is_left_out_with_a_note():
    query = parse("modality: ct")
    assert query.terms == [Term(None, "ct")]
    assert "modality" in query.notes[0]


def test_words_that_are_not_columns_keep_their_colons():
    assert parse("10:30 ct").terms == [Term(None, "10:30"), Term(None, "ct")]


def test_the_query_prints_back_as_text_that_parses_the_same():
    text = 'modality:CT title:"head ct" "a:b" lymph'
    query = parse(text)
    assert str(query) == 'modality:CT title:"head ct" "a:b" lymph'
    assert parse(str(query)).terms == query.terms


def test_add_and_remove_a_term():
    assert search.add_term("lymph", "organ", "lymph node") == 'lymph organ:"lymph node"'
    assert search.add_term("organ:wrist", "organ", "Wrist") == "organ:wrist"
    assert search.remove_term('lymph organ:"Lymph Node"', "organ", "lymph node") == "lymph"


@given(st.text(max_size=80))
def test_any_text_parses_and_its_printed_form_is_stable(text):
    once = str(parse(text))
    assert str(parse(once)) == once


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("date", "date"),
        ("-size", "-size"),
        ("short", "name"),
        ("-bogus", "name"),
        ("", "name"),
        (None, "name"),
    ],
)
def test_sort_keys_are_cleaned(value, expected):
    assert search.clean_sort(value) == expected


# -- searching the register ------------------------------------------------------------------


@pytest.fixture
def register(db):
    make_dataset(
        short_name="LYMPH",
        title="Axillary lymph node CT",
        modalities=["CT"],
        organs=[{"name": "Lymph node", "sctid": "59441001"}],
        description="Metastases in lymph nodes.",
        licenses=("aida-by",),
        countries_shared=["SE", "NO"],
    )
    make_dataset(
        short_name="WRIST",
        title="Wrist radiographs",
        modalities=["CR"],
        organs=[{"name": "Wrist", "sctid": "8205005"}],
        origin="Synthetic",
        licenses=("aida",),
        countries_shared=["SE"],
    )
    make_dataset(
        short_name="BREAST",
        title="Breast pathology slides",
        subject="Pathology",
        modalities=["SM"],
        organs=[{"name": "Breast"}],
        licenses=("aida-by-ca",),
        date_published=__import__("datetime").date(2022, 5, 1),
    )
    make_dataset(
        short_name="HEART",
        title="Resting ECG traces",
        subject="Cardiology",
        modalities=["ECG"],
        organs=[{"name": "Heart"}],
        licenses=("aida-ca",),
    )
    make_dataset(
        short_name="HEADCT",
        title="Head CT volumes",
        modalities=["CT"],
        organs=[{"name": "Head"}],
        licenses=("controlled-access",),
    )
    make_dataset(
        short_name="HIDDENCT",
        title="Hidden lymph node CT",
        modalities=["CT"],
        organs=[{"name": "Lymph node"}],
        hidden=True,
    )


def _found(text: str) -> list[str]:
    query = parse(text)
    versions = search.apply(selectors.listed_versions(), query)
    return sorted(versions.values_list("dataset__short_name", flat=True))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("modality:ct lymph node", ["LYMPH"]),
        ("modality:ct", ["HEADCT", "LYMPH"]),  # not ECG ("electrocardiography"), not hidden
        ("modality:tomography", ["HEADCT", "LYMPH"]),
        ("modality:sm", ["BREAST"]),
        ("organ:wrist", ["WRIST"]),
        ('organ:"lymph node"', ["LYMPH"]),
        ("subject:pathology", ["BREAST"]),
        ("field:pathology", ["BREAST"]),
        ("origin:synthetic", ["WRIST"]),
        ("license:by", ["BREAST", "LYMPH"]),
        ("license:aida", ["WRIST"]),
        ("license:controlled", ["HEADCT"]),
        ('title:"head ct"', ["HEADCT"]),
        ("title:head ct", ["HEADCT"]),
        ("country:norway", ["LYMPH"]),
        ("country:se", ["LYMPH", "WRIST"]),
        ("year:2022", ["BREAST"]),
        ("name:wri", ["WRIST"]),
        ("METASTASES", ["LYMPH"]),
        ("shape:metastases", ["LYMPH"]),
        ("nothing-matches-this", []),
        ("", ["BREAST", "HEADCT", "HEART", "LYMPH", "WRIST"]),
    ],
)
def test_search_results(register, text, expected):
    assert _found(text) == expected


def test_the_search_page_shows_results_and_a_note_for_unknown_columns(register):
    page = Client().get("/datasets/", {"q": "shape:round modality:ct"}).content.decode()
    assert "There is no column “shape”" in page
    assert "0 datasets" in page
    page = Client().get("/datasets/", {"q": "modality:ct lymph node"}).content.decode()
    assert "1 dataset" in page and "Axillary lymph node CT" in page
    assert "Head CT volumes" not in page
    assert 'value="modality:ct lymph node"' in page


def test_a_search_for_a_hidden_dataset_finds_nothing_even_for_staff(register, staff_client):
    page = staff_client.get("/datasets/", {"q": "hidden"}).content.decode()
    assert "Hidden lymph node CT" not in page
