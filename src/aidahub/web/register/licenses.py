"""The policy's license texts, filled in for one dataset version.

Section "AIDA data sharing licenses" of the data sharing policy gives four license types in
decreasing preference (AIDA BY, AIDA, AIDA CA / AIDA BY CA), each an adaptation of the ISC
license. The purpose of use changed with the policy: version 1.2.1 limited it to "medical
imaging research", version 1.2.3 harmonised it to "medical diagnostics research". A version's
texts are rendered with the policy version in force when it was published and then kept, so
a later change here never rewrites terms already granted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings

# Policy version history (front page of the policy): version -> date it took effect.
POLICY_VERSIONS: dict[str, dt.date] = {
    "1.0": dt.date(2019, 12, 13),
    "1.0.1": dt.date(2020, 1, 8),
    "1.1.0": dt.date(2020, 4, 24),
    "1.1.1": dt.date(2020, 6, 5),
    "1.1.2": dt.date(2020, 10, 7),
    "1.2.0": dt.date(2021, 1, 29),
    "1.2.1": dt.date(2021, 5, 5),
    "1.2.2": dt.date(2021, 5, 6),
    "1.2.3": dt.date(2021, 6, 18),
    "1.2.4": dt.date(2021, 7, 5),
}

DISCLAIMER = (
    'THE DATA IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS '
    "DATA INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL "
    "THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY "
    "DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF "
    "CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE "
    "USE OR CHARACTERISTICS OF THIS DATA."
)

CONTROLLED_ACCESS_TEXT = (
    "Free for use in legal and ethical {purpose}.\n\n"
    "Please contact the dataset provider for terms of access."
)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def purpose_for(policy_version: str) -> str:
    """The purpose of use the policy's licenses name, as of *policy_version*."""
    if _key(policy_version or settings.POLICY_VERSION) >= (1, 2, 3):
        return "medical diagnostics research"
    return "medical imaging research"


def policy_version_on(day: dt.date | None) -> str:
    """The policy version in force on *day* (the current setting when unknown)."""
    if day is None:
        return settings.POLICY_VERSION
    in_force = [v for v, since in POLICY_VERSIONS.items() if since <= day]
    return max(in_force, key=_key) if in_force else min(POLICY_VERSIONS, key=_key)


def join_names(names: list[str]) -> str:
    """'A', 'A and B', 'A, B, and C' — the policy's 'NN, NN, and NN'."""
    names = [n for n in names if n]
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


@dataclass
class LicenseContext:
    """Everything a license text needs; built from a version by ``context_for``."""

    copyright_year: int | None
    holders: list[str]
    dataset_citation: str
    paper_citations: list[str] = field(default_factory=list)
    author_names: list[str] = field(default_factory=list)
    consortium: str = ""
    policy_version: str = ""


def _permission(ctx: LicenseContext) -> str:
    consortium = ctx.consortium or settings.CONSORTIUM_LONG_NAME
    return (
        "Permission to use, copy, modify, and/or distribute this data within "
        f"{consortium} for the purpose of {purpose_for(ctx.policy_version)} with or without "
        "fee is hereby granted, provided that the above copyright notice and this permission "
        "notice appear in all copies"
    )


def _copyright(ctx: LicenseContext) -> str:
    year = f"{ctx.copyright_year} " if ctx.copyright_year else ""
    return f"Copyright {year}{', '.join(ctx.holders)}".rstrip()


def _coauthorship(ctx: LicenseContext, coauthors: str) -> str:
    named = coauthors.strip() or join_names(ctx.author_names)
    named = f" {named}" if named else ""
    return f"include the authors of this dataset{named} in the author list"


def _attribution(ctx: LicenseContext, acknowledgement: str) -> str:
    ack = ""
    if acknowledgement.strip():
        text = acknowledgement.strip()
        ack = f"include the following acknowledgement text \u201c{text}\u201d and "
    citations = "\n\n".join([ctx.dataset_citation, *ctx.paper_citations])
    return f"{ack}cite the following publications:\n\n{citations}"


def render(
    kind: str,
    ctx: LicenseContext,
    *,
    acknowledgement: str = "",
    coauthors: str = "",
    custom_text: str = "",
) -> str:
    """The full text of a license of *kind* (a ``LicenseKind`` value) for *ctx*."""
    if kind == "controlled-access":
        return CONTROLLED_ACCESS_TEXT.format(purpose=purpose_for(ctx.policy_version))
    if kind == "custom":
        return custom_text.strip()
    head = _copyright(ctx)
    permission = _permission(ctx)
    if kind == "aida":
        body = f"{permission}."
    elif kind == "aida-by":
        body = (
            f"{permission}, and that publications resulting from the use of this data "
            f"{_attribution(ctx, acknowledgement)}"
        )
    elif kind == "aida-ca":
        body = (
            f"{permission}, and that publications resulting from the use of this data "
            f"{_coauthorship(ctx, coauthors)}."
        )
    elif kind == "aida-by-ca":
        body = (
            f"{permission}, and that publications resulting from the use of this data "
            f"{_coauthorship(ctx, coauthors)} and {_attribution(ctx, acknowledgement)}"
        )
    else:
        raise ValueError(f"unknown license type {kind!r}")
    return f"{head}\n\n{body}\n\n{DISCLAIMER}"


# Names found in legacy records -> license type.
_NAME_TO_KIND = {
    "aida by license": "aida-by",
    "aida by": "aida-by",
    "aida license": "aida",
    "aida": "aida",
    "aida ca license": "aida-ca",
    "aida ca": "aida-ca",
    "aida by ca license": "aida-by-ca",
    "aida by ca": "aida-by-ca",
    "aida ca by license": "aida-by-ca",
    "controlled access": "controlled-access",
}


def kind_for_name(name: str) -> str:
    """License type for a license name in a record; unknown names are custom terms."""
    return _NAME_TO_KIND.get(" ".join((name or "").lower().split()), "custom")


def is_co_authorship(kind: str) -> bool:
    return kind in {"aida-ca", "aida-by-ca"}
