"""Shapes found in real legacy register records (invented values, real structure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aidahub.web.register.exporter import export_all
from aidahub.web.register.importer import import_paths, import_text, orcid_checksum_ok
from aidahub.web.register.models import DatasetVersion

RECORD = """---
hidden: no
portal: yes
datacite:
  "@context": "http://schema.org"
  "@type": "Dataset"
  "@id": "https://doi.org/10.5072/legacy/shapes"
  name: "Shapes of real records"
  about: "Radiology"
  url: "https://old-register.example.org/10.5072/legacy/shapes"
  author:
    - "@type": "Person"
      "@id": "https://orcid.org/0000-0002-1825-0097"
      givenName: "Astrid"
      familyName: "Example"
      name: "Astrid Example"
    - "@type": "Person"
      "@id": "https://orcid.org/" # FIXME: missing info
      name: "Bertil Placeholder"
    - name: "Cecilia Sample"
      "@id": "https://orcid.org/0000-0001-5109-3700\t"
      "@type": "Person"
    - name: "Dora Tester"
      #"@id": "https://orcid.org/0000-0002-1825-0097"
      "@type": "Person"
  publisher:
    "@type": "Organization"
    name: "EXH"
  copyrightYear: 2020
  copyrightHolder:
  - name: "Example University"
    url: "https://university.example.org/"
    "@type": "Organization"
  - name: "Astrid Example"
    "@id": "https://orcid.org/0000-0002-1825-0097"
    "@type": "Person"
  provider:
  - name: "Astrid Example"
    email: "astrid@university.example.org"
    "@type": "Person"
  - name: "Example Data Hub"
    email: "datahub@old-register.example.org"
    "@id": "https://old-register.example.org"
    "@type": "Organization"
  datePublished: "2020-04-30"
  version: "1.2.0"
  # 1.2.0: paper published.
  description: |
    Data with a [link](https://doi.org/10.5072/paper.9).
  license:
  - name: "AIDA BY license"
    "@type": "CreativeWork"
  citation:
  - "@type": "CreativeWork"
    "@id": "https://pubmed.example.org/12345/"
    name: "A paper indexed by a URL, not a DOI."
other:
  shortName: "SHAPES"
  status: "Completed"
  countries-shared: # fixme
  - "SE"
  - "UY"
  organ:
  - name: "Skeleton"
    "@id": "" # FIXME
  bytes: 160305002394 # ~160 GB
  numberOfImages: 36
---
## Kernels
See the repository for code.

## File formats
Folder structure:  
XXXXXXXXX = real patients  

## License
### AIDA BY license
Copyright
{{ page.datacite.copyrightYear }}
"""  # noqa: W291 (two trailing spaces: a Markdown line break, as legacy records write it)


@pytest.fixture
def imported(tmp_path):
    path = tmp_path / "shapes.md"
    path.write_text(RECORD, encoding="utf-8")
    result = import_text(RECORD, "shapes.md")
    assert result.outcome == "created", result.error
    return result, DatasetVersion.objects.get(doi="10.5072/legacy/shapes.v1.2.0")


def test_orcid_check_digit():
    assert orcid_checksum_ok("0000-0002-1825-0097")
    assert orcid_checksum_ok("0000-0001-5109-3700")
    assert not orcid_checksum_ok("0000-0002-1825-0098")


@pytest.mark.django_db
def test_orcid_placeholders_and_stray_white_space_are_cleaned(imported):
    result, version = imported
    orcids = [a.orcid for a in version.authors.all()]
    assert orcids == [
        "https://orcid.org/0000-0002-1825-0097",
        "",
        "https://orcid.org/0000-0001-5109-3700",
        "",
    ]
    assert any("'https://orcid.org/' holds no ORCID iD" in w for w in result.warnings)
    assert any("white space around the ORCID iD removed" in w for w in result.warnings)


@pytest.mark.django_db
def test_the_hub_is_recognized_at_the_address_the_record_was_published_at(imported):
    _, version = imported
    hub = {c.name: c.is_hub_contact for c in version.contacts.all()}
    assert hub == {"Astrid Example": False, "Example Data Hub": True}


@pytest.mark.django_db
def test_number_of_images_is_read_as_number_of_scans(imported):
    result, version = imported
    assert version.number_of_scans == 36
    assert any("key 'numberOfImages' read as 'numberOfScans'" in w for w in result.warnings)


@pytest.mark.django_db
def test_body_sections_other_than_the_license_are_kept_for_the_page(imported):
    _, version = imported
    assert version.additional.startswith("## Kernels")
    assert "## File formats" in version.additional
    assert "## License" not in version.additional


@pytest.mark.django_db
def test_a_citation_without_a_doi_keeps_its_url(imported):
    _, version = imported
    paper = version.describing_publications.get()
    assert (paper.doi, paper.url) == ("", "https://pubmed.example.org/12345/")


@pytest.mark.django_db
def test_round_trip_keeps_the_raw_values_and_unknown_keys(imported, tmp_path):
    first = tmp_path / "first"
    second = tmp_path / "second"
    export_all(first)
    text = (first / "10.5072_legacy_shapes.md").read_text(encoding="utf-8")
    assert "numberOfImages: 36" in text
    assert '"https://orcid.org/0000-0001-5109-3700\\t"' in text
    assert "portal: true" in text or "portal: yes" in text
    assert "givenName: Astrid" in text
    report = import_paths([first])
    assert [r.outcome for r in report.results] == ["unchanged"]
    export_all(second)
    assert (
        Path(second / "10.5072_legacy_shapes.md").read_bytes()
        == (first / "10.5072_legacy_shapes.md").read_bytes()
    )
