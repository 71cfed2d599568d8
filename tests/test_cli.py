import subprocess
import sys

import pytest

from aidahub import __version__
from aidahub.cli import main


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "manage", "register"):
        assert command in out


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert __version__ in capsys.readouterr().out


def test_manage_reaches_django_commands(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "aidahub.cli", "manage", "help", "migrate"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={"PATH": "", "AIDAHUB_DATA_DIR": str(tmp_path), "PYTHONPATH": ":".join(sys.path)},
    )
    assert result.returncode == 0, result.stderr
    assert "Updates database schema" in result.stdout


def test_register_without_an_action_explains_usage(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["register"])
    assert exited.value.code == 2
    assert "import" in capsys.readouterr().err
