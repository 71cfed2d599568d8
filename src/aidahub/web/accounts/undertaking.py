"""The confidentiality undertaking in force: its version, its text and the text's hash.

The version is the setting ``AIDAHUB_UNDERTAKING_VERSION``; the text is read from
``AIDAHUB_UNDERTAKING_FILE`` (the bundled text by default). A new version means everyone
accepts again before reaching non-public data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class Undertaking:
    version: str
    text: str
    sha256: str


@lru_cache(maxsize=8)
def _read(path: str, version: str) -> Undertaking:
    text = Path(path).read_text(encoding="utf-8")
    return Undertaking(version, text, hashlib.sha256(text.encode()).hexdigest())


def current() -> Undertaking:
    return _read(str(settings.UNDERTAKING_FILE), settings.UNDERTAKING_VERSION)


def has_accepted_current(user) -> bool:
    return user.undertakings.filter(version=current().version).exists()
