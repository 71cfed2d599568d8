import pytest

from aidahub.web.core.text import human_bytes, render_markdown, strip_liquid


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=//evil.example></iframe>",
        '<svg onload="alert(1)">',
    ],
)
def test_markdown_never_yields_active_html(hostile):
    html = render_markdown(f"Intro\n\n{hostile}\n")
    assert "<script" not in html
    assert "<img" not in html and "<iframe" not in html and "<svg" not in html
    assert '<a href="javascript:' not in html


def test_markdown_keeps_ordinary_formatting_and_links():
    html = render_markdown("## Data\n\n**120** studies, see [paper](https://doi.org/10.1/x).")
    assert "<h2>Data</h2>" in html
    assert "<strong>120</strong>" in html
    assert 'href="https://doi.org/10.1/x"' in html


def test_liquid_tags_are_removed():
    text = 'A {% include access-request-blurb.md coauthorship="no" %} B {{ page.title }} C'
    assert strip_liquid(text) == "A  B  C"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ""),
        (512, "512 bytes"),
        (1_250_000_000, "1.2 GB"),
        (96_000_000_000, "96 GB"),
        (3_400_000_000_000, "3.4 TB"),
    ],
)
def test_sizes_read_like_people_write_them(value, shown):
    assert human_bytes(value) == shown
