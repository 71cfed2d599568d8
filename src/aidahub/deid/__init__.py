"""Framework-free de-identification of DICOM data, following the AIDA data sharing policy.

Appendix 3 of the policy ("Anonymization guidelines") sets what is kept at each level of
associated information; DICOM PS3.15 Annex E supplies the element-level rules. This package
imports only the standard library, pydicom, numpy, Pillow and PyYAML (for profiles): no
Django and no network, so a researcher can use it without the hub.
"""
