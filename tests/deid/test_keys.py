"""The de-identification key: created private, loaded safely, destroyed for good."""

import base64
import getpass
import os
import stat
from datetime import UTC, datetime

import pytest

from aidahub.deid.keys import (
    ENV_VAR,
    Key,
    KeyExistsError,
    KeyFileError,
    KeyNotFoundError,
    derive,
    destroy_key,
    generate_key,
    key_from_secret,
    load_key,
)


@pytest.fixture
def open_umask():
    """Run with umask 0, so a test sees the mode the code sets, not the umask's."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_generated_key_file_is_readable_by_its_owner_only(tmp_path, open_umask):
    path = tmp_path / "site.key"
    generate_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_generated_key_loads_back_and_has_a_printable_id(tmp_path):
    folder = tmp_path / "keys"
    folder.mkdir()
    path = folder / "site.key"
    key = generate_key(path)
    assert load_key(path) == key
    assert len(key.secret) == 32
    assert len(key.key_id) == 16 and int(key.key_id, 16) >= 0
    assert path.read_text().startswith("aidahub-deid-key v1\n")
    assert f"id: {key.key_id}\n" in path.read_text()
    assert [p.name for p in folder.iterdir()] == ["site.key"]  # no temporary left behind


def test_each_generated_key_is_new(tmp_path):
    assert generate_key(tmp_path / "a.key") != generate_key(tmp_path / "b.key")


def test_generate_never_overwrites(tmp_path):
    path = tmp_path / "site.key"
    path.write_text("precious")
    with pytest.raises(KeyExistsError, match="already exists") as caught:
        generate_key(path)
    assert isinstance(caught.value, FileExistsError)
    assert isinstance(caught.value, KeyFileError)
    assert path.read_text() == "precious"


def test_generate_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(KeyFileError, match="does not exist"):
        generate_key(tmp_path / "nowhere" / "site.key")


def test_repr_never_shows_the_secret():
    key = key_from_secret(b"\x01" * 32)
    shown = repr(key) + str(key)
    assert key.key_id in shown
    assert base64.b64encode(key.secret).decode() not in shown
    assert repr(key.secret) not in shown
    assert "secret" not in shown


def test_load_from_the_environment():
    key = key_from_secret(bytes(range(32)))
    environ = {ENV_VAR: base64.b64encode(key.secret).decode()}
    assert load_key(environ=environ) == key


def test_unset_environment_variable_names_the_variable():
    with pytest.raises(KeyNotFoundError, match=ENV_VAR) as caught:
        load_key(environ={})
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith("no key given")  # not quoted like a KeyError


def test_missing_key_file(tmp_path):
    with pytest.raises(KeyNotFoundError, match="does not exist"):
        load_key(tmp_path / "gone.key")


def test_key_file_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "site.key"
    generate_key(path)
    path.chmod(0o640)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_key(path)
    path.chmod(0o600)
    load_key(path)


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not a key\n",
        "aidahub-deid-key v1\nid: 0000\n",
        "aidahub-deid-key v1\nid: 0000\nsecret: ***\n",
        "aidahub-deid-key v2\nid: 0000\nsecret: AAAA\n",
    ],
)
def test_wrong_format_is_refused(tmp_path, content):
    path = tmp_path / "site.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError):
        load_key(path)


def test_damaged_key_file_is_refused(tmp_path):
    path = tmp_path / "site.key"
    generate_key(path)
    text = path.read_text()
    secret = text.split("secret: ")[1].strip()
    other = base64.b64encode(bytes(32)).decode()
    path.write_text(text.replace(secret, other))
    with pytest.raises(KeyFileError, match="does not match"):
        load_key(path)


def test_too_short_secret_is_refused():
    environ = {ENV_VAR: base64.b64encode(b"short secret").decode()}
    with pytest.raises(KeyFileError, match="at least 32"):
        load_key(environ=environ)


def test_destroy_leaves_no_file_and_records_the_key(tmp_path):
    folder = tmp_path / "keys"
    folder.mkdir()
    path = folder / "site.key"
    key = generate_key(path)
    record = destroy_key(path)
    assert not path.exists()
    assert list(folder.iterdir()) == []
    assert record.key_id == key.key_id
    assert record.who == getpass.getuser()
    assert record.path == str(path)
    when = datetime.fromisoformat(record.destroyed_at)
    assert when.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - when).total_seconds()) < 60
    assert key.key_id in record.as_text()
    with pytest.raises(KeyNotFoundError):
        load_key(path)


def test_destroy_overwrites_the_bytes_before_deleting(tmp_path):
    path = tmp_path / "site.key"
    generate_key(path)
    original = path.read_bytes()
    witness = tmp_path / "witness"
    os.link(path, witness)  # a second name for the same bytes on disk
    destroy_key(path)
    left = witness.read_bytes()
    assert len(left) == len(original)
    assert left != original
    assert b"secret" not in left


def test_destroy_names_who(tmp_path):
    path = tmp_path / "site.key"
    generate_key(path)
    assert destroy_key(path, who="data director").who == "data director"


def test_destroy_refuses_a_file_that_is_not_a_key(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text("not a key")
    with pytest.raises(KeyFileError):
        destroy_key(path)
    assert path.read_text() == "not a key"


def test_derive_separates_parts_unambiguously():
    key = key_from_secret(bytes(32))
    assert derive(key, "uid", "ab", "c") != derive(key, "uid", "a", "bc")
    assert derive(key, "uid", "a", "") != derive(key, "uid", "a")
    assert derive(key, "uid", "x") != derive(key, "pseudonym", "x")
    assert derive(key, "uid", "x") == derive(key, "uid", "x")
    assert len(derive(key, "uid", "x")) == 32


def test_derive_depends_on_the_key():
    one, other = key_from_secret(bytes(32)), key_from_secret(b"\x01" * 32)
    assert derive(one, "uid", "1.2.3") != derive(other, "uid", "1.2.3")


def test_key_built_directly_works_with_derive():
    key = Key(key_id="test", secret=b"k" * 32)
    assert derive(key, "p") == derive(key_from_secret(b"k" * 32), "p")
