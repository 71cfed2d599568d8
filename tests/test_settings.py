"""Settings come from AIDAHUB_* variables and .env; production settings pass --deploy."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from aidahub.web.config.env import ConfigurationError, get_bool, read_dotenv

ROOT = Path(__file__).resolve().parent.parent


def test_dotenv_sets_missing_values_and_never_overrides(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\n\nAIDAHUB_DEBUG=true\nexport AIDAHUB_BASE_URL='https://hub.example.org'\n"
        'AIDAHUB_CONSORTIUM_NAME="Example"\n',
        encoding="utf-8",
    )
    environ = {"AIDAHUB_DEBUG": "false"}
    read_dotenv(env_file, environ)
    assert environ == {
        "AIDAHUB_DEBUG": "false",
        "AIDAHUB_BASE_URL": "https://hub.example.org",
        "AIDAHUB_CONSORTIUM_NAME": "Example",
    }


def test_malformed_dotenv_line_names_file_and_line(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("AIDAHUB_DEBUG=1\nthis is not a setting\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"\.env:2: expected KEY=VALUE"):
        read_dotenv(env_file, {})


def test_boolean_settings_refuse_nonsense(monkeypatch):
    monkeypatch.setenv("AIDAHUB_DEBUG", "maybe")
    with pytest.raises(ConfigurationError, match="AIDAHUB_DEBUG must be true or false"):
        get_bool("AIDAHUB_DEBUG", False)


def _manage(args, **env):
    # A fresh process as an operator starts it: none of the hub's settings, and not the
    # browser tests' DJANGO_ALLOW_ASYNC_UNSAFE (set for their worker's whole session).
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AIDAHUB_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "aidahub.cli", "manage", *args],
        capture_output=True,
        text=True,
        env=base,
        cwd=env.get("AIDAHUB_DATA_DIR"),
        timeout=120,
    )


def test_production_settings_pass_the_deployment_check(tmp_path):
    result = _manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        AIDAHUB_DATA_DIR=str(tmp_path),
        AIDAHUB_BASE_URL="https://hub.example.org",
        AIDAHUB_SECRET_KEY=secrets.token_urlsafe(50),
        AIDAHUB_DEBUG="false",
        AIDAHUB_DOI_PREFIX="10.23698",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_https_without_a_secret_key_refuses_to_start(tmp_path):
    result = _manage(
        ["check"], AIDAHUB_DATA_DIR=str(tmp_path), AIDAHUB_BASE_URL="https://hub.example.org"
    )
    assert result.returncode != 0
    assert "AIDAHUB_SECRET_KEY must be set" in result.stderr


def test_a_doi_prefix_that_is_not_one_is_refused(tmp_path):
    result = _manage(["check"], AIDAHUB_DATA_DIR=str(tmp_path), AIDAHUB_DOI_PREFIX="23698")
    assert result.returncode != 0
    assert "AIDAHUB_DOI_PREFIX must look like 10.NNNN" in result.stderr


def test_database_url_selects_the_database(tmp_path):
    db = tmp_path / "chosen.sqlite3"
    result = _manage(
        ["migrate", "--noinput"],
        AIDAHUB_DATA_DIR=str(tmp_path),
        AIDAHUB_DATABASE_URL=f"sqlite:///{db}",
    )
    assert result.returncode == 0, result.stderr
    assert db.stat().st_size > 0
