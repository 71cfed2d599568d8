"""Who may see what in the register: pure functions of (user, object), deny by default.

The register is public, but not all of it: a hidden dataset is a staff preview, a draft has
not been published, and a withdrawn dataset keeps only a tombstone. Anyone who may not see
an object gets 404, as if it did not exist (ARCHITECTURE.md, "Rules").
"""

from __future__ import annotations

from aidahub.web.accounts.selectors import has_totp
from aidahub.web.register.models import Dataset, DatasetState, DatasetVersion


def is_staff(user) -> bool:
    """Active staff with two-factor authentication: previews and drafts are not public.

    A staff account without an authenticator app is treated as any other signed-in
    person here (the staff pages send it to set one up). The answer is kept on the user
    object for the request, as pages ask once per dataset.
    """
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return False
    cached = getattr(user, "_aidahub_staff_mfa", None)
    if cached is None:
        cached = has_totp(user)
        user._aidahub_staff_mfa = cached
    return cached


def can_view_dataset(user, dataset: Dataset) -> bool:
    """May *user* open the dataset's landing page (a tombstone, once withdrawn)?"""
    if dataset.hidden or dataset.state == DatasetState.DRAFT:
        return is_staff(user)
    if dataset.state == DatasetState.PUBLISHED:
        return dataset.latest_version_id is not None or is_staff(user)
    return dataset.state == DatasetState.WITHDRAWN


def can_view_version(user, version: DatasetVersion) -> bool:
    """Published versions of a visible dataset are public; drafts are staff previews."""
    if not can_view_dataset(user, version.dataset):
        return False
    return version.is_published or is_staff(user)


def can_view_staff_panel(user, dataset: Dataset) -> bool:
    """Ethics approval, warnings and import repairs are for staff only."""
    return is_staff(user)


def can_edit_dataset(user, dataset: Dataset) -> bool:
    return is_staff(user) and user.has_perm("register.change_dataset")


def can_edit_priorities(user) -> bool:
    """The clinical council sets the data priorities; staff may record its decisions."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if is_staff(user):
        return True
    profile = getattr(user, "hub_profile", None)
    return bool(profile and profile.is_clinical_council)
