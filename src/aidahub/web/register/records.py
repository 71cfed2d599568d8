"""A dataset version as a record in the legacy register format, and the format's shape.

A record is YAML front matter (``hidden`` and ``synthetic`` flags, a schema.org ``datacite``
block and an ``other`` block with the register's other fields) followed by a Markdown body.
``record_for`` and ``body_for`` build both from what is stored. With ``raw=True`` the values
the importer had to repair are put back as they were found (see ``DatasetVersion.repairs``),
so that export → import → export is byte-identical; with ``raw=False`` the clean, repaired
values are given (ISO dates, numbers as numbers, the correct key names) for the JSON API.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from aidahub.web.core.text import strip_liquid
from aidahub.web.register.doi import doi_url

__all__ = [
    "AUTHOR_KEYS",
    "CITATION_KEYS",
    "DATACITE_KEYS",
    "HOLDER_KEYS",
    "IMAGE_KEYS",
    "LICENSE_KEYS",
    "ORGAN_KEYS",
    "OTHER_KEYS",
    "PROVIDER_KEYS",
    "PUBLISHER_KEYS",
    "TOP_KEYS",
    "body_for",
    "dump_front_matter",
    "parse_path",
    "record_for",
    "render_record",
]

# Today's key order, block by block. Keys a record has beyond these are kept in
# ``DatasetVersion.extra["unknown"]`` and written back after them.
TOP_KEYS = ("hidden", "synthetic", "datacite", "other")
DATACITE_KEYS = (
    "@context", "@type", "@id", "name", "about", "url", "author", "publisher", "copyrightYear",
    "copyrightHolder", "provider", "dateCreated", "datePublished", "dateModified", "keywords",
    "version", "description", "license", "citation",
)  # fmt: skip
OTHER_KEYS = (
    "shortName", "origin", "status", "annotation", "countries-shared", "organ", "age-span",
    "bytes", "numberOfScans", "numberOfAnnotations", "resolution", "modality", "scanner",
    "stain", "phase", "image", "exampleImage", "caseLevelAnnotations",
)  # fmt: skip
AUTHOR_KEYS = ("name", "@id", "@type", "affiliation")
HOLDER_KEYS = ("name", "url", "@id", "@type")
PROVIDER_KEYS = ("name", "email", "@id", "@type")
PUBLISHER_KEYS = ("@type", "name")
LICENSE_KEYS = ("name", "id", "@type", "abstract")
CITATION_KEYS = ("@type", "@id", "name")
ORGAN_KEYS = ("name", "sctid")
IMAGE_KEYS = ("title", "url", "thumbnail-url")

SCHEMA_CONTEXT = "http://schema.org"

# A value left out of the written record; kept in place until the end so that a repaired
# value can be restored at its own position.
_EMPTY: Any = type("_Empty", (), {"__repr__": lambda self: "<empty>"})()

_PATH_TOKEN = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def parse_path(path: str) -> list[str | int]:
    """``"datacite.copyrightHolder[0].url"`` → ``["datacite", "copyrightHolder", 0, "url"]``."""
    tokens: list[str | int] = []
    for index, key in _PATH_TOKEN.findall(path or ""):
        tokens.append(int(index) if index else key)
    return tokens


def _or_empty(value: Any) -> Any:
    if value is None or value == "" or value == [] or value == {}:
        return _EMPTY
    return value


# -- building the record ---------------------------------------------------------------------


def _authors(version) -> list[dict]:
    return [
        {"name": a.name, "@id": _or_empty(a.orcid), "@type": a.kind,
         "affiliation": _or_empty(a.affiliation)}
        for a in version.authors.all()
    ]  # fmt: skip


def _holders(version) -> list[dict]:
    """Each holder is an institution entry followed by its responsible researcher's entry.

    This is how the legacy register lists them, and how the importer reads them back.
    """
    entries: list[dict] = []
    for holder in version.copyrightholders.all():
        if holder.institution or holder.institution_url:
            entries.append(
                {
                    "name": holder.institution,
                    "url": _or_empty(holder.institution_url),
                    "@type": "Organization",
                }
            )
        if holder.responsible_researcher:
            entries.append(
                {
                    "name": holder.responsible_researcher,
                    "@id": _or_empty(holder.researcher_orcid),
                    "@type": "Person",
                }
            )
    return entries


def _providers(version) -> list[dict]:
    return [
        {"name": c.name, "email": _or_empty(c.email), "@id": _or_empty(c.identifier),
         "@type": c.kind}
        for c in version.contacts.all()
    ]  # fmt: skip


def _licenses(version) -> list[dict]:
    return [
        {"name": lic.name, "id": _or_empty(lic.identifier), "@type": "CreativeWork",
         "abstract": _or_empty(lic.abstract or lic.custom_text)}
        for lic in version.licenses.all()
    ]  # fmt: skip


def _citations(version) -> list[dict]:
    return [
        {"@type": "CreativeWork", "@id": _or_empty(pub.link), "name": pub.title}
        for pub in version.describing_publications.all()
    ]


def _sctid(value: Any) -> Any:
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() and len(text) < 19 else _or_empty(value)


def _organs(version) -> list[dict]:
    organs = []
    for organ in version.organs or []:
        if isinstance(organ, dict):
            organs.append(
                {"name": _or_empty(organ.get("name")), "sctid": _sctid(organ.get("sctid"))}
            )
        else:
            organs.append({"name": str(organ), "sctid": _EMPTY})
    return organs


def _images(version) -> list[dict]:
    return [
        {"title": _or_empty(img.caption), "url": _or_empty(img.url),
         "thumbnail-url": _or_empty(img.thumbnail_url)}
        for img in version.exampleimages.all()
    ]  # fmt: skip


def _iso(day) -> Any:
    return day.isoformat() if day else _EMPTY


def _datacite(version) -> dict:
    dataset = version.dataset
    return {
        "@context": SCHEMA_CONTEXT,
        "@type": "Dataset",
        "@id": doi_url(dataset.concept_doi),
        "name": version.title,
        "about": _or_empty(version.subject),
        "url": _or_empty(version.url),
        "author": _or_empty(_authors(version)),
        "publisher": (
            {"@type": "Organization", "name": version.publisher} if version.publisher else _EMPTY
        ),
        "copyrightYear": _or_empty(version.copyright_year),
        "copyrightHolder": _or_empty(_holders(version)),
        "provider": _or_empty(_providers(version)),
        "dateCreated": _iso(version.date_created),
        "datePublished": _iso(version.date_published),
        "dateModified": _iso(version.date_modified),
        "keywords": _or_empty(", ".join(str(k) for k in version.keywords or [])),
        "version": version.version,
        "description": _or_empty(version.description),
        "license": _or_empty(_licenses(version)),
        "citation": _or_empty(_citations(version)),
    }


def _other(version) -> dict:
    return {
        "shortName": version.dataset.short_name,
        "origin": _or_empty(version.origin),
        "status": _or_empty(version.status),
        "annotation": _or_empty(version.annotation_description),
        "countries-shared": _or_empty(list(version.countries_shared or [])),
        "organ": _or_empty(_organs(version)),
        "age-span": _or_empty(version.age_span),
        "bytes": _or_empty(version.size_bytes),
        "numberOfScans": _or_empty(version.number_of_scans),
        "numberOfAnnotations": _or_empty(version.number_of_annotations),
        "resolution": _or_empty(version.resolution),
        "modality": _or_empty(list(version.modalities or [])),
        "scanner": _or_empty(list(version.scanners or [])),
        "stain": _or_empty(version.stain),
        "phase": _or_empty(version.phase),
        "image": _or_empty(version.image),
        "exampleImage": _or_empty(_images(version)),
        "caseLevelAnnotations": _or_empty(version.case_level_annotations),
    }


def _has(node: Any, token: str | int) -> bool:
    if isinstance(token, int):
        return isinstance(node, list) and 0 <= token < len(node)
    return isinstance(node, dict) and token in node


def _walk(tree: Any, tokens: list[str | int]) -> Any:
    """The value at *tokens* in *tree*, or None when the path does not exist."""
    node = tree
    for token in tokens:
        if not _has(node, token):
            return None
        node = node[token]
    return node


def _add_unknown(tree: dict, unknown: dict) -> None:
    for parent_path, keys in (unknown or {}).items():
        parent = _walk(tree, parse_path(parent_path))
        if isinstance(parent, dict) and isinstance(keys, dict):
            for key, value in keys.items():
                parent.setdefault(key, value)


def _restore(tree: dict, repairs: list) -> None:
    """Put back the raw values (and raw key names) that the importer kept."""
    restoring = [r for r in repairs or [] if isinstance(r, dict) and r.get("restore")]
    for repair in restoring:
        if repair.get("kind") == "key":
            continue
        tokens = parse_path(repair.get("field", ""))
        parent = _walk(tree, tokens[:-1]) if tokens else None
        if tokens and _has(parent, tokens[-1]):
            parent[tokens[-1]] = repair.get("raw")
    for repair in restoring:
        if repair.get("kind") != "key":
            continue
        tokens = parse_path(repair.get("field", ""))
        parent = _walk(tree, tokens[:-1]) if tokens else None
        new, old = repair.get("repaired"), repair.get("raw")
        if (
            isinstance(parent, dict)
            and new in parent
            and isinstance(old, str)
            and (old not in parent)
        ):
            items = [(old if key == new else key, value) for key, value in parent.items()]
            parent.clear()
            parent.update(items)


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not _EMPTY}
    if isinstance(value, list):
        return [_prune(v) for v in value if v is not _EMPTY]
    return value


def record_for(version, *, raw: bool) -> dict:
    """The front matter of *version* as a dict in today's key order.

    ``hidden`` and ``synthetic`` appear only when true. With ``raw=True`` the raw values kept
    beside repaired ones are restored (for export); with ``raw=False`` the values are the clean
    ones the hub uses (for the JSON API).
    """
    tree: dict = {}
    if version.dataset.hidden:
        tree["hidden"] = True
    if version.synthetic:
        tree["synthetic"] = True
    tree["datacite"] = _datacite(version)
    tree["other"] = _other(version)
    extra = version.extra if isinstance(version.extra, dict) else {}
    _add_unknown(tree, extra.get("unknown", {}))
    if raw:
        _restore(tree, version.repairs)
    return _prune(tree)


def _insert_at_line(text: str, at: int, section: str) -> str:
    at = max(0, min(at, len(text)))
    while at > 0 and text[at - 1] != "\n":  # only ever between lines
        at -= 1
    return text[:at] + section + text[at:]


def body_for(version, *, raw: bool) -> str:
    """The Markdown body of *version*.

    ``raw=True`` gives it as the record had it: the legacy ``## License`` section put back in
    its place and template tags kept. ``raw=False`` gives the text the hub shows: without the
    legacy license section (the hub renders licenses from the policy's templates) and without
    template tags.
    """
    text = version.additional or ""
    if not raw:
        return strip_liquid(text)
    extra = version.extra if isinstance(version.extra, dict) else {}
    section = extra.get("legacy_license_section")
    if isinstance(section, str) and section:
        at = extra.get("legacy_license_at")
        text = _insert_at_line(text, at if isinstance(at, int) else len(text), section)
    return text


# -- writing ---------------------------------------------------------------------------------


class _RecordDumper(yaml.SafeDumper):
    """Deterministic YAML: today's key order, multi-line text as literal blocks, empty as empty."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_none(dumper: yaml.SafeDumper, value: None) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:null", "")


_RecordDumper.add_representer(str, _represent_str)
_RecordDumper.add_representer(type(None), _represent_none)


def dump_front_matter(record: dict) -> str:
    return yaml.dump(
        record,
        Dumper=_RecordDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
    )


def render_record(version) -> str:
    """The whole record file of *version*, raw values restored: front matter, then body."""
    front = dump_front_matter(record_for(version, raw=True))
    return f"---\n{front}---\n{body_for(version, raw=True)}"
