"""The demo register: idempotent, complete enough to look real, with real image files."""

import datetime as dt
import io
import random
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from PIL import Image

from aidahub.web.audit.models import AuditEvent
from aidahub.web.register import demo
from aidahub.web.register.models import (
    Author,
    Dataset,
    DatasetState,
    DatasetVersion,
    EthicsApproval,
    ExampleImage,
    License,
    Priority,
    PriorityList,
    Publication,
)

pytestmark = pytest.mark.django_db

COUNTED = [
    Dataset,
    DatasetVersion,
    Author,
    License,
    ExampleImage,
    Publication,
    EthicsApproval,
    PriorityList,
    Priority,
]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def _load() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def loaded():
    first = _load()
    return first


def test_load_demo_twice_changes_nothing(loaded):
    counts = _counts()
    events = AuditEvent.objects.count()
    modified = {v.pk: v.updated_at for v in DatasetVersion.objects.all()}
    second = _load()
    assert _counts() == counts
    assert AuditEvent.objects.count() == events
    assert {v.pk: v.updated_at for v in DatasetVersion.objects.all()} == modified
    assert "0 datasets created" in second
    assert counts["Dataset"] == len(demo.CATALOGUE) + 2  # plus the two example records
    assert get_user_model().objects.filter(username=demo.DEMO_USERNAME).count() == 1


def test_example_records_come_through_the_importer(loaded):
    assert "created: 10.5072/example/swfr" in loaded
    assert Dataset.objects.filter(concept_doi="10.5072/example/synbrain", hidden=True).exists()
    assert "unchanged: 10.5072/example/swfr" in _load()


def test_login_file_is_written_once_and_printed(loaded):
    path = Path(settings.DATA_DIR) / demo.DEMO_LOGIN_FILE
    line = path.read_text(encoding="utf-8").strip()
    assert line.startswith(f"Staff login: {demo.DEMO_USERNAME} / ")
    assert line.endswith(f"at {settings.BASE_URL}/admin/")
    assert line in loaded
    password = line.split(" / ")[1].split(" at ")[0]
    user = get_user_model().objects.get(username=demo.DEMO_USERNAME)
    assert user.is_staff and user.is_superuser
    assert user.check_password(password)
    assert line in _load()
    assert path.read_text(encoding="utf-8").strip() == line


def test_all_license_types_and_lifecycle_states(loaded):
    kinds = set(License.objects.values_list("kind", flat=True))
    assert {"aida-by", "aida", "aida-ca", "aida-by-ca", "controlled-access"} <= kinds
    ca = License.objects.filter(kind__in=["aida-ca", "aida-by-ca"])
    assert all(lic.review_date for lic in ca)
    assert ca.filter(review_date__lt=dt.date.today()).exists()
    states = set(Dataset.objects.values_list("state", flat=True))
    assert states == {DatasetState.DRAFT, DatasetState.PUBLISHED, DatasetState.WITHDRAWN}
    withdrawn = Dataset.objects.filter(state=DatasetState.WITHDRAWN)
    assert withdrawn.count() == 2
    assert all(d.withdrawal_reason for d in withdrawn)
    assert Dataset.objects.filter(hidden=True, concept_doi__contains="/aida/").count() == 1
    versions = DatasetVersion.objects.filter(dataset__concept_doi__contains="/aida/")
    assert versions.filter(version="1.1", state="published").count() == 2
    for version in DatasetVersion.objects.filter(state="published"):
        assert all(lic.rendered_text for lic in version.licenses.all()), version


def test_register_contents_look_real(loaded):
    subjects = set(DatasetVersion.objects.values_list("subject", flat=True))
    assert {"Radiology", "Pathology"} <= subjects
    origins = set(DatasetVersion.objects.values_list("origin", flat=True))
    assert {"Clinical", "Synthetic"} <= origins
    modalities = {m for v in DatasetVersion.objects.all() for m in v.modalities}
    assert {"CT", "MR", "CR", "DX", "MG", "US", "PT", "SM"} <= modalities
    organs = {o["name"]: o["sctid"] for v in DatasetVersion.objects.all() for o in v.organs}
    assert organs["Lung"] == "39607008" and organs["Wrist"] == "8205005"
    assert EthicsApproval.objects.exists()
    assert Publication.objects.filter(relation="uses").exists()
    assert Publication.objects.filter(relation="describes").exists()
    current = PriorityList.objects.first()
    assert current.priorities.count() == 6
    assert PriorityList.objects.count() == 2
    assert Dataset.objects.filter(priority__isnull=False).exists()
    hub = DatasetVersion.objects.filter(contacts__is_hub_contact=True).distinct().count()
    assert hub >= len(demo.CATALOGUE)


def test_orcid_ids_have_valid_check_digits(loaded):
    orcids = [a.orcid for a in Author.objects.exclude(orcid="") if "0000-0000-" in a.orcid]
    assert orcids
    for orcid in orcids:
        digits = orcid.replace("-", "")
        assert len(digits) == 16
        assert demo.orcid_checksum(digits[:15]) == digits[15]


def test_orcid_checksum_matches_a_published_example():
    # ORCID's documentation example: 0000-0002-1694-233X.
    assert demo.orcid_checksum("000000021694233") == "X"
    assert demo.orcid_checksum("000000021825009") == "7"


def test_images_exist_on_disk_and_are_valid(loaded):
    images = ExampleImage.objects.filter(url__startswith="/media/register/")
    assert images.count() >= len(demo.CATALOGUE)
    root = Path(settings.MEDIA_ROOT)
    for image in images:
        for url, limit in ((image.url, None), (image.thumbnail_url, demo.THUMBNAIL_SIZE)):
            path = root / url.removeprefix(settings.MEDIA_URL)
            assert path.is_file(), url
            with Image.open(path) as img:
                img.verify()
            with Image.open(path) as img:
                assert img.format in {"PNG", "JPEG"}
                if limit:
                    assert max(img.size) <= limit
    version = DatasetVersion.objects.get(doi__endswith="/aida/pect.v1.0")
    assert version.image.startswith("/media/register/")
    assert not list(root.rglob("*.tmp"))


def test_images_are_the_same_for_the_same_seed():
    first = demo.DRAWERS["he"](random.Random(1)).tobytes()
    assert demo.DRAWERS["he"](random.Random(1)).tobytes() == first
    assert demo.DRAWERS["he"](random.Random(2)).tobytes() != first


def test_make_bulk_creates_published_datasets():
    assert demo.make_bulk(12, seed=3) == 12
    assert demo.make_bulk(12, seed=3) == 0
    bulk = Dataset.objects.filter(concept_doi__contains="/bulk/")
    assert bulk.count() == 12
    assert set(bulk.values_list("state", flat=True)) == {DatasetState.PUBLISHED}
    assert not bulk.filter(hidden=True).exists()
