"""Keyed remapping of DICOM UIDs.

PS3.15 Annex E lists most UIDs with action ``U`` ("replace with a non-zero length UID that
is internally consistent within a set of Instances"). A UID is replaced by
``2.25.<decimal>``, the root PS3.5 §B.2 gives to UIDs made from 128-bit numbers, where the
number is the first 128 bits of HMAC-SHA256 under the de-identification key (see
:func:`aidahub.deid.keys.derive`). Because the mapping is a keyed function of the original
UID alone:

* the same UID maps to the same new UID in every file, run and worker, so the
  study/series/instance hierarchy and every reference (SR, SEG, KO, presentation states)
  still resolve;
* different UIDs map to different ones (a collision needs two 128-bit HMAC outputs to
  agree);
* without the key the original cannot be recovered or confirmed.

UIDs under the DICOM root ``1.2.840.10008.`` (SOP classes, transfer syntaxes, coding
schemes, ...) name things in the standard, not the patient, and are never remapped.
"""

from __future__ import annotations

from aidahub.deid.keys import Key, derive

__all__ = ["STANDARD_ROOT", "is_standard_uid", "remap_uid", "remap_uid_value"]

STANDARD_ROOT = "1.2.840.10008."
"""Root of the UIDs the DICOM standard itself defines (PS3.6 Annex A)."""

_PADDING = " \x00"  # UI values are padded to even length with NUL; some writers use spaces


def is_standard_uid(uid: str) -> bool:
    """Return True if *uid* is defined by the DICOM standard (root ``1.2.840.10008.``).

    Parameters
    ----------
    uid : str
        A single UID, possibly NUL- or space-padded.
    """
    return uid.strip(_PADDING).startswith(STANDARD_ROOT)


def remap_uid(key: Key, uid: str) -> str:
    """Return the keyed replacement ``2.25.<decimal>`` for one UID.

    Padding is ignored (``"1.2.3\\x00"`` and ``"1.2.3"`` map alike), an empty value stays
    empty, and standard UIDs (:func:`is_standard_uid`) are returned unchanged. The result
    is at most 44 characters, within the 64 allowed for UI (PS3.5 §9.1).

    Parameters
    ----------
    key : Key
        The de-identification key.
    uid : str
        The original UID.

    Returns
    -------
    str
        ``"2.25." + str(int.from_bytes(derive(key, "uid", uid)[:16], "big"))``.
    """
    uid = uid.strip(_PADDING)
    if not uid or uid.startswith(STANDARD_ROOT):
        return uid
    return "2.25." + str(int.from_bytes(derive(key, "uid", uid)[:16], "big"))


def remap_uid_value(key: Key, value: str) -> str:
    """Remap every UID of a possibly multi-valued (backslash-separated) UI value.

    Parameters
    ----------
    key : Key
        The de-identification key.
    value : str
        ``"uid1\\\\uid2"``; empty components stay empty, standard UIDs are kept.

    Returns
    -------
    str
        The remapped values, joined with backslashes in the original order.
    """
    return "\\".join(remap_uid(key, part) for part in value.split("\\"))
