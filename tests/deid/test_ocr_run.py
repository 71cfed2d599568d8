"""`aidahub deid run --ocr`: a slice with the patient's name burned in is excluded, its
neighbours of the same series (written from a template) come through, and a missing
Tesseract is said once without stopping the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from aidahub.cli import main
from aidahub.deid.ocr import BurnedInText
from tests.deid.leaks import find_leaks
from tests.deid.planted import Planted
from tests.deid.test_ocr import IDENTIFYING, NAME, PERSONAL_NUMBER, body, ct, draw

pytestmark = pytest.mark.skipif(
    BurnedInText.create() is None,
    reason="Tesseract is not installed (Debian: tesseract-ocr tesseract-ocr-eng "
    "tesseract-ocr-swe; `make test` installs them)",
)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("ocr-run")
    source = root / "in"
    source.mkdir()
    study, series = generate_uid(), generate_uid()
    for number in range(1, 6):
        pixels = body(seed=number)
        if number == 3:
            pixels = draw(pixels, IDENTIFYING, fill=4095)
        ds = ct(
            [pixels],
            PatientName=NAME,
            PatientID=PERSONAL_NUMBER,
            PatientBirthDate="19560314",
            StudyInstanceUID=study,
            SeriesInstanceUID=series,
            InstanceNumber=number,
            BurnedInAnnotation="NO",
        )
        ds.save_as(source / f"IM{number:04d}.dcm", enforce_file_format=True)
    key = root / "secret.key"
    assert main(["deid", "keygen", str(key)]) == 0
    return root, source, key


def _run(export, name: str, *extra: str) -> tuple[int, Path, dict]:
    root, source, key = export
    out = root / name
    argv = ["deid", "run", str(source), str(out), "--profile", "images-only", "--key", str(key)]
    code = main([*argv, "--quiet", "--workers", "1", *extra])
    report = json.loads((root / f"{name}.report.json").read_text(encoding="utf-8"))
    return code, out, report


def test_the_burned_in_slice_is_excluded_and_the_rest_written(export):
    code, out, report = _run(export, "with-ocr", "--ocr")
    assert code == 0
    assert report["written"] == 4
    (reason,) = report["excluded"]
    assert reason == "burned-in-text"
    (excluded,) = [f for f in report["files"] if f["outcome"] == "excluded"]
    assert excluded["source"] == "IM0003.dcm"
    assert "Lindqvist" not in excluded["reason"] and "2386" not in excluded["reason"]
    planted = Planted(values={"patient_name": NAME, "personnummer": PERSONAL_NUMBER}, uids=[])
    assert find_leaks(out, planted) == []


def test_without_ocr_the_slice_would_have_been_written(export):
    code, _, report = _run(export, "without-ocr")
    assert code == 0 and report["written"] == 5


def test_a_missing_tesseract_is_said_once_and_the_run_goes_on(export, monkeypatch, capsys):
    monkeypatch.setenv("AIDAHUB_TESSERACT", str(export[0] / "no-such-tesseract"))
    capsys.readouterr()
    code, _, report = _run(export, "no-tesseract", "--ocr")
    assert code == 0 and report["written"] == 5
    err = capsys.readouterr().err
    assert err.count("Going on without OCR") == 1 and "tesseract-ocr-swe" in err
