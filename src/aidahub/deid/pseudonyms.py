"""Keyed pseudonyms for patients and for request and examination numbers.

The policy's anonymization examples remove or replace "name, personal identification number
and telephone number" and also "indirectly identifying information such as request- and
examination numbers" (Appendix 3, the DROID and breast lymph node datasets). Identifiers
a study needs to hold together (PatientID, AccessionNumber, StudyID, request and
examination numbers) are replaced by keyed pseudonyms: the same original gives the same
pseudonym in every file, run and worker under one key, and nothing without the key.

Pseudonyms are uppercase base32 (``A``-``Z``, ``2``-``7``), valid in every string VR; the
default 16 characters fit SH (AccessionNumber, StudyID).
"""

from __future__ import annotations

import base64

from pydicom.dataset import Dataset

from aidahub.deid.keys import Key, derive

__all__ = ["KINDS", "MAX_LENGTH", "patient_identity", "pseudonym"]

KINDS = ("patient", "accession", "request", "examination", "study-id")
"""The pseudonym kinds the engine uses; a kind keeps e.g. accession ``123`` and study ID
``123`` apart."""

MAX_LENGTH = 52
"""Characters of base32 in a 256-bit HMAC."""

_PADDING = " \x00"


def patient_identity(ds: Dataset) -> str:
    """Return a stable string naming the patient of *ds*, the input of per-patient keys.

    It is ``IssuerOfPatientID + "|" + PatientID``; when PatientID is empty, it is
    ``PatientName + "|" + PatientBirthDate``, with the name upper-cased and trailing empty
    components dropped so that ``"Berg^Åsa^^"`` and ``"BERG^ÅSA"`` are one patient. The
    result identifies the patient and must never be written to output; it only feeds
    :func:`pseudonym` and :func:`aidahub.deid.dates.plan_for`.

    Parameters
    ----------
    ds : Dataset
        Any dataset of the patient (only the four Patient module elements are read).

    Returns
    -------
    str
    """
    patient_id = _text(ds.get("PatientID"))
    if patient_id:
        return _text(ds.get("IssuerOfPatientID")) + "|" + patient_id
    return _name(_text(ds.get("PatientName"))) + "|" + _text(ds.get("PatientBirthDate"))


def pseudonym(key: Key, kind: str, value: str, *, length: int = 16) -> str:
    """Return the keyed pseudonym of *value*, an identifier of the given *kind*.

    Parameters
    ----------
    key : Key
        The de-identification key.
    kind : str
        One of :data:`KINDS` (any string works; it separates the namespaces).
    value : str
        The original identifier. Surrounding spaces and NUL padding are ignored; an empty
        value gives an empty pseudonym (PS3.15 Annex E action ``Z`` keeps it empty).
    length : int
        Characters to return, 1 to :data:`MAX_LENGTH`.

    Returns
    -------
    str
        Uppercase base32 of ``derive(key, "pseudonym", kind, value)``, unpadded and
        truncated to *length*.

    Raises
    ------
    ValueError
        If *length* is out of range.
    """
    if not 1 <= length <= MAX_LENGTH:
        raise ValueError(f"a pseudonym is 1 to {MAX_LENGTH} characters, not {length}")
    value = value.strip(_PADDING)
    if not value:
        return ""
    digest = derive(key, "pseudonym", kind, value)
    return base64.b32encode(digest).decode("ascii").rstrip("=")[:length]


def _text(value: object) -> str:
    if value is None:
        return ""
    return str(value).strip(_PADDING)


def _name(value: str) -> str:
    groups = ("^".join(p.strip() for p in g.split("^")).rstrip("^") for g in value.split("="))
    return "=".join(groups).rstrip("=").upper()
