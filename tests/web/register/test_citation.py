"""Names split for citations, and BibTeX escaping."""

import pytest

from aidahub.web.register.citation import NameParts, _bibtex_escape, name_parts
from aidahub.web.register.models import PartyKind


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Astrid Example", NameParts("Example", "Astrid")),
        ("Anna  Maria\tLind", NameParts("Lind", "Anna Maria")),
        ("Example, Astrid", NameParts("Example", "Astrid")),
        ("Jan van der Berg", NameParts("van der Berg", "Jan")),
        ("Martin Luther King Jr.", NameParts("King", "Martin Luther", "Jr.")),
        ("Σωκράτης Παπαδόπουλος", NameParts("Παπαδόπουλος", "Σωκράτης")),
        ("王小明", NameParts(literal="王小明")),
        ("Plato", NameParts(literal="Plato")),
        ("Example,", NameParts(literal="Example,")),
    ],
)
def test_name_parts(name, expected):
    assert name_parts(name) == expected


def test_an_organization_stays_whole():
    assert name_parts("Lung and Heart Group", kind=PartyKind.ORGANIZATION) == NameParts(
        literal="Lung and Heart Group"
    )


def test_bibtex_escape_does_not_escape_its_own_replacements():
    assert _bibtex_escape(r"a\b{c}") == r"a\textbackslash{}b\{c\}"
