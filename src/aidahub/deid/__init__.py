"""Framework-free de-identification of DICOM data, following the AIDA data sharing policy.

Appendix 3 of the policy ("Anonymization guidelines") sets what is kept at each level of
associated information; DICOM PS3.15 Annex E supplies the element-level rules. This package
imports only the standard library, pydicom, numpy, Pillow and PyYAML (for profiles): no
Django and no network, so a researcher can use it without the hub.
"""

import importlib.util
import sys


def _import_pydicom_without_its_downloader_extras() -> None:
    """Import pydicom with ``requests`` and ``tqdm`` out of its sight.

    pydicom imports both, when installed, for downloading its own test files, which
    nothing here does; that is a fifth of the start-up of ``aidahub deid run``. Hidden
    only while pydicom loads (its downloads then use urllib), importable as ever after.
    """
    if "pydicom" in sys.modules:
        return
    hidden = [
        name
        for name in ("requests", "tqdm")
        if name not in sys.modules and importlib.util.find_spec(name) is not None
    ]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import pydicom  # noqa: F401, PLC0415
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


_import_pydicom_without_its_downloader_extras()
