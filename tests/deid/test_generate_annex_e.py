"""The PS3.15 Table E.1-1 module is generated from the shared standards folder, unedited."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from aidahub.deid import _annex_e

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "generate_annex_e.py"
MODULE = REPO_ROOT / "src" / "aidahub" / "deid" / "_annex_e.py"
LICENSE = MODULE.parent / "LICENSE-innolitics-dicom-standard.txt"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_annex_e", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_annex_e", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return _script()


@pytest.fixture(scope="module")
def table(script: ModuleType) -> Path:
    path = script.DEFAULT_TABLE
    if not path.is_file():
        pytest.skip(
            "the shared standards folder (../shared/standards beside the repository) is "
            "not here, so the generated Annex E module cannot be compared with its source"
        )
    return path


def test_regenerating_gives_the_committed_module(script: ModuleType, table: Path) -> None:
    assert script.render(table) == MODULE.read_text(encoding="utf-8"), (
        "src/aidahub/deid/_annex_e.py differs from what scripts/generate_annex_e.py makes; "
        "run the script, never edit the module by hand"
    )


def test_the_license_travels_with_the_module(table: Path) -> None:
    assert LICENSE.read_bytes() == (table.parent / LICENSE.name).read_bytes()


def test_the_module_records_its_source(table: Path) -> None:
    assert table.name == _annex_e.SOURCE_FILE
    assert hashlib.sha256(table.read_bytes()).hexdigest() == _annex_e.SOURCE_SHA256
    readme = (table.parent / "README.md").read_text(encoding="utf-8")
    assert _annex_e.SOURCE_COMMIT in readme
    assert _annex_e.SOURCE_EDITION.split()[0] in readme


def test_generate_writes_module_and_license(
    script: ModuleType, table: Path, tmp_path: Path
) -> None:
    output = tmp_path / "_annex_e.py"
    assert script.main([str(table), "--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == MODULE.read_text(encoding="utf-8")
    assert (tmp_path / LICENSE.name).is_file()
    assert script.main([str(table), "--output", str(output), "--check"]) == 0
    output.write_text(output.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    assert script.main([str(table), "--output", str(output), "--check"]) == 1


def test_missing_table_is_reported(script: ModuleType, tmp_path: Path) -> None:
    assert script.main([str(tmp_path / "absent.json"), "--output", str(tmp_path / "m.py")]) == 2


def test_the_module_header_says_generated() -> None:
    head = MODULE.read_text(encoding="utf-8")[:1500]
    assert "GENERATED: never edit this file by hand" in head
    assert "SHA-256" in head and "MIT" in head and LICENSE.name in head


def test_table_content() -> None:
    rules = _annex_e.RULES
    assert len(rules) == 621
    assert rules["00100010"].basic == "Z"  # Patient's Name
    assert rules["00100020"].basic == "Z/D"  # Patient ID
    assert rules["0020000d"].basic == "U"  # Study Instance UID
    assert rules["00081140"].basic == "X/Z/U*"  # Referenced Image Sequence
    assert rules["00080020"].options == {"rtnLongFullDatesOpt": "K", "rtnLongModifDatesOpt": "C"}
    assert rules["50xxxxxx"].basic == "X"
    assert rules["60xx3000"].basic == "X"
    assert rules["ggggeeee"].options == {"rtnSafePrivOpt": "C"}
    for key, rule in rules.items():
        assert len(key) == 8
        assert set(rule.options) <= set(_annex_e.OPTION_COLUMNS)
