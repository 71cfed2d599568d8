"""The secret key behind every keyed pseudonym, remapped UID and date offset.

The policy (Appendix 1, *Informational protective measures*) defines pseudonymization as
processing data "so that it no longer can be attributed to a natural person, without the
use of additional information (eg: a key) which is to be kept secret and separate", and
anonymization as "deleting that key". This module holds that key:

* :func:`generate_key` writes a new key file readable by its owner only;
* :func:`load_key` reads it back (or takes it from the ``AIDAHUB_DEID_KEY`` environment
  variable), refusing files that others can read;
* :func:`destroy_key` overwrites and deletes the file and returns a
  :class:`DestructionRecord`: destroying the key is what turns pseudonymous output into
  anonymous output;
* :func:`derive` is the one keyed function (HMAC-SHA256) every other module builds on.

A key is identified by its :attr:`Key.key_id`, the first 16 hex digits of the SHA-256 of
the secret. The ID is safe to print and to record in de-identified output
(DeidentificationMethod); the secret never is.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "ENV_VAR",
    "MIN_SECRET_BYTES",
    "DestructionRecord",
    "Key",
    "KeyExistsError",
    "KeyFileError",
    "KeyNotFoundError",
    "derive",
    "destroy_key",
    "generate_key",
    "key_from_secret",
    "load_key",
]

ENV_VAR = "AIDAHUB_DEID_KEY"
"""Environment variable holding the base64 secret when no key file is given."""

MIN_SECRET_BYTES = 32
"""Shortest accepted secret: RFC 2104 asks for at least the hash output length (SHA-256)."""

_SECRET_BYTES = 32
_HEADER = "aidahub-deid-key v1"
_KEY_ID_HEX = 16


class KeyFileError(ValueError):
    """The key file or variable exists but cannot be used; the message says what to fix."""


class KeyNotFoundError(KeyFileError, KeyError):
    """There is no key where one was asked for (missing file, unset variable)."""

    def __str__(self) -> str:
        # KeyError would quote the message; show it as written.
        return str(self.args[0]) if self.args else ""


class KeyExistsError(KeyFileError, FileExistsError):
    """A key file is already where a new one was to be written; it is never overwritten."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Key:
    """A de-identification key: a public ID and the secret behind it.

    Attributes
    ----------
    key_id : str
        First 16 hex digits of SHA-256 of the secret; safe to print and record.
    secret : bytes
        The secret itself. Never shown by ``repr`` and never written to output.
    """

    key_id: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True)
class DestructionRecord:
    """Evidence that a key was destroyed (policy: anonymization entails deleting the key).

    Attributes
    ----------
    key_id : str
        ID of the destroyed key.
    destroyed_at : str
        UTC time of destruction, ISO 8601 with offset (``2025-01-31T12:00:00+00:00``).
    who : str
        Who destroyed it (by default the operating-system user).
    path : str
        The key file's path as given.
    """

    key_id: str
    destroyed_at: str
    who: str
    path: str

    def as_text(self) -> str:
        """Return the record as ``field: value`` lines, for printing and filing."""
        return (
            f"key destroyed: {self.key_id}\n"
            f"destroyed at: {self.destroyed_at}\n"
            f"destroyed by: {self.who}\n"
            f"key file: {self.path}\n"
        )


def key_from_secret(secret: bytes) -> Key:
    """Return the :class:`Key` for *secret*, with its ID computed from it.

    Parameters
    ----------
    secret : bytes
        At least :data:`MIN_SECRET_BYTES` bytes.

    Raises
    ------
    KeyFileError
        If the secret is too short to be a safe HMAC key.
    """
    if len(secret) < MIN_SECRET_BYTES:
        raise KeyFileError(
            f"the key secret is {len(secret)} bytes; at least {MIN_SECRET_BYTES} are needed. "
            "Create a new key with `aidahub deid keygen KEYFILE`."
        )
    return Key(key_id=hashlib.sha256(secret).hexdigest()[:_KEY_ID_HEX], secret=secret)


def generate_key(path: Path) -> Key:
    """Create a new random key and write it to *path*, readable by its owner only.

    The file is created with mode 0600 (never briefly wider), written under a temporary
    name, synced and then linked into place, so a reader never sees half a key and an
    existing file is never overwritten.

    Parameters
    ----------
    path : Path
        Where to write the key file; keep it apart from the data (policy: the key is "kept
        secret and separate").

    Returns
    -------
    Key
        The new key.

    Raises
    ------
    KeyExistsError
        If *path* already exists (also a ``FileExistsError``).
    KeyFileError
        If the folder of *path* does not exist.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise KeyExistsError(f"{path} already exists; a key file is never overwritten.")
    if not path.parent.is_dir():
        raise KeyFileError(f"the folder {path.parent} does not exist.")
    key = key_from_secret(secrets.token_bytes(_SECRET_BYTES))
    text = f"{_HEADER}\nid: {key.key_id}\nsecret: {base64.b64encode(key.secret).decode()}\n"
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    _write_private(tmp, text.encode("ascii"))
    try:
        os.link(tmp, path)  # atomic, and fails if path exists (unlike rename)
    except FileExistsError:
        raise KeyExistsError(f"{path} already exists; a key file is never overwritten.") from None
    except OSError:
        # Filesystems without hard links: exclusive create is the next best thing.
        _write_private(path, text.encode("ascii"))
    finally:
        tmp.unlink(missing_ok=True)
    _sync_dir(path.parent)
    return key


def load_key(path: Path | None = None, *, environ: Mapping[str, str] | None = None) -> Key:
    """Load the key from *path*, or from the ``AIDAHUB_DEID_KEY`` variable when it is None.

    Parameters
    ----------
    path : Path or None
        A key file made by :func:`generate_key`.
    environ : Mapping[str, str] or None
        Where to look for ``AIDAHUB_DEID_KEY`` (the base64 secret); ``os.environ`` when
        None.

    Returns
    -------
    Key

    Raises
    ------
    KeyNotFoundError
        If the file does not exist, or *path* is None and the variable is unset.
    KeyFileError
        If the file is not a key file, the secret is too short, or the file can be read
        by group or others (the key must be "kept secret and separate").
    """
    if path is None:
        env = os.environ if environ is None else environ
        encoded = env.get(ENV_VAR, "").strip()
        if not encoded:
            raise KeyNotFoundError(
                f"no key given: pass a key file or set {ENV_VAR} to the base64 secret."
            )
        return key_from_secret(_decode_secret(encoded, f"the variable {ENV_VAR}"))
    path = Path(path)
    _check_private(path)
    return _read_key_file(path)


def destroy_key(path: Path, *, who: str | None = None) -> DestructionRecord:
    """Overwrite the key file with random bytes, sync it, delete it, and say so.

    Deleting the key is what makes pseudonymous output anonymous (policy, Appendix 1:
    "Anonymization entails deleting that key"). Overwriting first keeps the old secret out
    of the freed disk blocks on ordinary filesystems; copy-on-write filesystems, SSD
    wear levelling and backups may still hold copies, which the operator must handle.

    Parameters
    ----------
    path : Path
        A key file made by :func:`generate_key` (anything else is refused, so a mistyped
        path never shreds another file).
    who : str or None
        Who destroys the key; the operating-system user when None.

    Returns
    -------
    DestructionRecord
        The key ID, UTC time, who, and the path.

    Raises
    ------
    KeyNotFoundError
        If the file does not exist.
    KeyFileError
        If the file is not a key file.
    """
    path = Path(path)
    key = _read_key_file(path)
    size = path.stat().st_size
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    try:
        os.write(fd, secrets.token_bytes(size))
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink()
    _sync_dir(path.parent)
    return DestructionRecord(
        key_id=key.key_id,
        destroyed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        who=who if who is not None else _current_user(),
        path=str(path),
    )


def derive(key: Key, purpose: str, *parts: str) -> bytes:
    """Return HMAC-SHA256 under *key* of *purpose* and *parts*, unambiguously framed.

    Every string is UTF-8 encoded and prefixed with its length (8 bytes, big-endian), so
    ``("ab", "c")`` and ``("a", "bc")`` never collide, and a different *purpose* gives an
    unrelated value (domain separation between UIDs, pseudonyms and date offsets).

    Parameters
    ----------
    key : Key
    purpose : str
        What the value is for: ``"uid"``, ``"pseudonym"``, ``"date-offset"``, ...
    *parts : str
        The inputs, in order.

    Returns
    -------
    bytes
        32 bytes.
    """
    mac = hmac.new(key.secret, digestmod=hashlib.sha256)
    for text in (purpose, *parts):
        data = text.encode("utf-8")
        mac.update(len(data).to_bytes(8, "big"))
        mac.update(data)
    return mac.digest()


def _write_private(path: Path, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise KeyExistsError(f"{path} already exists; a key file is never overwritten.") from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # exact, whatever the umask
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dir(folder: Path) -> None:
    # Makes the new or removed directory entry durable; not possible on every platform.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_private(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyNotFoundError(f"the key file {path} does not exist.") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"the key file {path} can be read or changed by others "
            f"(mode {stat.filemode(mode)}); run `chmod 600 {path}` and try again."
        )


def _read_key_file(path: Path) -> Key:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise KeyNotFoundError(f"the key file {path} does not exist.") from None
    except IsADirectoryError:
        raise KeyFileError(f"{path} is a folder, not a key file.") from None
    try:
        lines = raw.decode("ascii").splitlines()
    except UnicodeDecodeError:
        lines = []
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    if not lines or lines[0] != _HEADER or "secret" not in fields or "id" not in fields:
        raise KeyFileError(
            f"{path} is not an aidahub key file (expected a first line {_HEADER!r} and "
            "'id:' and 'secret:' lines)."
        )
    key = key_from_secret(_decode_secret(fields["secret"].strip(), str(path)))
    if not hmac.compare_digest(key.key_id, fields["id"].strip()):
        raise KeyFileError(f"{path} is damaged: its secret does not match its key ID.")
    return key


def _decode_secret(encoded: str, where: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"the secret in {where} is not valid base64.") from None


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
