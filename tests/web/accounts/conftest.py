import pytest


@pytest.fixture(autouse=True)
def _totp_tolerance(settings):
    # A code computed by a test can be checked by the hub a moment later, in the next
    # 30-second step; accept the neighbouring step so that such a test never fails by luck.
    settings.MFA_TOTP_TOLERANCE = 1
