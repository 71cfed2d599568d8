"""The commands as an operator runs them: settings checked at start-up, exit statuses."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest


def _manage(tmp_path, *args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIDAHUB_")}
    base.update(
        AIDAHUB_DATA_DIR=str(tmp_path),
        AIDAHUB_DATABASE_URL=f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "aidahub.cli", "manage", *args],
        capture_output=True,
        text=True,
        env=base,
        cwd=tmp_path,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("AIDAHUB_AUDIT_ODD_HOURS", "night", "not an hour or a range of hours: 'night'"),
        ("AIDAHUB_AUDIT_ODD_HOURS", "0-24", "hours run from 0 to 23"),
        ("AIDAHUB_AUDIT_REFUSAL_BURST", "ten", "AIDAHUB_AUDIT_* settings"),
        ("AIDAHUB_AUDIT_REFUSAL_WINDOW_MINUTES", "0", "must be whole numbers above 0"),
    ],
)
def test_audit_settings_that_make_no_sense_stop_the_hub(tmp_path, variable, value, says):
    result = _manage(tmp_path, "check", **{variable: value})
    assert result.returncode != 0
    assert says in result.stderr


def test_verify_audit_exits_non_zero_on_a_tampered_trail(tmp_path):
    assert _manage(tmp_path, "migrate", "--noinput").returncode == 0
    script = "from aidahub.web.audit.services import record\nfor n in range(3): record('test.x')"
    assert _manage(tmp_path, "shell", "-c", script).returncode == 0

    ok = _manage(tmp_path, "verify_audit")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("audit trail intact: 3 events, head ")
    anchor = _manage(tmp_path, "audit_anchor").stdout.strip()

    with sqlite3.connect(tmp_path / "hub.sqlite3") as db:
        db.execute("DELETE FROM audit_auditevent WHERE id = 3")
        head = db.execute("SELECT hash FROM audit_auditevent WHERE id = 2").fetchone()[0]
        db.execute("UPDATE audit_chainhead SET last_hash = ?, count = 2", [head])

    assert _manage(tmp_path, "verify_audit").returncode == 0
    broken = _manage(tmp_path, "verify_audit", "--anchor", anchor)
    assert broken.returncode == 1
    assert "is no longer in the chain" in broken.stdout
    assert "audit trail BROKEN: 1 problem(s) in 2 events" in broken.stderr
