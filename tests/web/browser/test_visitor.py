"""A visitor reads the register in a real browser: the home page, then a landing page."""

import pytest

from tests.factories import make_dataset

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_a_visitor_opens_the_home_page_and_a_landing_page(page, tmp_path, settings):
    dataset = make_dataset(title="Chest CT with annotated nodules")

    page.goto("/")
    assert page.locator("h1").first.is_visible()
    page.goto(f"/{dataset.concept_doi}")

    assert page.locator("h1").first.inner_text() == "Chest CT with annotated nodules"
    assert page.title().startswith("Chest CT with annotated nodules")
    export = page.locator("#export")
    assert export.inner_text() == "Export"
    links = page.locator("ul.exports a")
    assert links.count() >= 5
    assert links.first.get_attribute("href").startswith(f"/{dataset.concept_doi}/export/")
    shot = tmp_path / "landing.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 1000 and shot.read_bytes().startswith(PNG_SIGNATURE)
