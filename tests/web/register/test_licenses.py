"""The four policy license types, their purpose by policy version, and their snapshot."""

import datetime as dt

import pytest

from aidahub.web.register import licenses
from aidahub.web.register.models import ImmutableVersionError, License, Publication
from aidahub.web.register.services import new_version, publish
from tests.factories import make_dataset

CTX = licenses.LicenseContext(
    copyright_year=2024,
    holders=["Example University"],
    dataset_citation="Astrid Example and Bertil Placeholder (2024) Wrist radiographs. "
    "doi:10.5072/example/swfr",
    paper_citations=["A made-up paper on wrist fractures. doi:10.5072/example-paper-1"],
    author_names=["Astrid Example", "Bertil Placeholder", "Cecilia Sample"],
    consortium="AIDA (Analytic Imaging Diagnostics Arena https://medtech4health.se/aida)",
    policy_version="1.2.4",
)


def test_aida_license_is_the_isc_text_limited_to_the_consortium():
    text = licenses.render("aida", CTX)
    assert text.startswith("Copyright 2024 Example University\n\n")
    assert (
        "distribute this data within AIDA (Analytic Imaging Diagnostics Arena "
        "https://medtech4health.se/aida) for the purpose of medical diagnostics research" in text
    )
    assert "appear in all copies.\n\n" in text
    assert "cite" not in text and "author list" not in text
    assert text.endswith(licenses.DISCLAIMER)


def test_aida_by_license_cites_the_dataset_first_then_the_papers():
    text = licenses.render("aida-by", CTX, acknowledgement="Data from the Example study.")
    assert (
        "publications resulting from the use of this data include the following "
        "acknowledgement text \u201cData from the Example study.\u201d and cite the "
        "following publications:"
    ) in text
    dataset_at = text.index("Wrist radiographs")
    paper_at = text.index("A made-up paper")
    assert dataset_at < paper_at


def test_aida_by_license_without_acknowledgement_only_asks_for_citations():
    text = licenses.render("aida-by", CTX)
    assert "acknowledgement" not in text
    assert "use of this data cite the following publications:" in text


def test_aida_ca_license_requires_named_coauthors():
    text = licenses.render("aida-ca", CTX, coauthors="Astrid Example and Cecilia Sample")
    assert (
        "include the authors of this dataset Astrid Example and Cecilia Sample in the author list."
    ) in text
    everyone = licenses.render("aida-ca", CTX)
    assert "Astrid Example, Bertil Placeholder, and Cecilia Sample in the author list" in everyone
    assert "cite the following" not in everyone


def test_aida_by_ca_license_combines_coauthorship_and_citation():
    text = licenses.render("aida-by-ca", CTX, acknowledgement="Thanks.")
    assert "in the author list and include the following acknowledgement text" in text
    assert "cite the following publications:" in text
    assert text.endswith(licenses.DISCLAIMER)


def test_purpose_follows_the_policy_version():
    old = licenses.render("aida", licenses.LicenseContext(2021, ["U"], "", policy_version="1.2.1"))
    assert "for the purpose of medical imaging research" in old
    assert licenses.purpose_for("1.2.3") == "medical diagnostics research"
    assert licenses.policy_version_on(dt.date(2021, 6, 1)) == "1.2.2"
    assert licenses.policy_version_on(dt.date(2024, 3, 15)) == "1.2.4"


def test_license_names_from_records_map_to_types():
    assert licenses.kind_for_name("AIDA BY license") == "aida-by"
    assert licenses.kind_for_name("AIDA  BY CA license") == "aida-by-ca"
    assert licenses.kind_for_name("Controlled access") == "controlled-access"
    assert licenses.kind_for_name("CC BY 4.0") == "custom"


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown license type"):
        licenses.render("gpl", CTX)


@pytest.mark.django_db
def test_published_text_is_kept_when_the_template_changes(monkeypatch):
    dataset = make_dataset(licenses=("aida-by", "aida", "aida-ca", "aida-by-ca"))
    version = dataset.latest_version
    granted = {lic.kind: lic.rendered_text for lic in version.licenses.all()}
    assert all("Copyright 2024 Example University" in t for t in granted.values())
    assert "doi:" + dataset.concept_doi in granted["aida-by"]

    monkeypatch.setattr(licenses, "DISCLAIMER", "A LATER, DIFFERENT DISCLAIMER.")
    draft = new_version(dataset, "2.0")
    publish(dataset, draft)
    for lic in version.licenses.all():
        assert lic.rendered_text == granted[lic.kind]
    for lic in License.objects.filter(version=draft):
        assert lic.rendered_text.endswith("A LATER, DIFFERENT DISCLAIMER.")


@pytest.mark.django_db
def test_granted_license_text_cannot_be_edited():
    lic = make_dataset().latest_version.licenses.first()
    lic.rendered_text = "Anything goes."
    with pytest.raises(ImmutableVersionError):
        lic.save()


@pytest.mark.django_db
def test_describing_papers_are_cited_in_the_license():
    dataset = make_dataset(published=False)
    version = dataset.versions.get()
    Publication.objects.create(
        dataset=dataset,
        version=version,
        relation="describes",
        title="Example et al. Nodules in CT. J Imaging 2024.",
        doi="10.5072/paper.7",
    )
    publish(dataset, version)
    text = version.licenses.get().rendered_text
    assert "Example et al. Nodules in CT. J Imaging 2024. doi:10.5072/paper.7" in text
