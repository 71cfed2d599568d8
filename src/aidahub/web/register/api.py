"""The register's JSON API, in the shape of today's register API.

``/api/1.0/metadata.json`` lists one object per public dataset, and
``/api/1.0/datasets/<doi>.json`` returns one: ``datacite`` (the schema.org block of the
record), ``other`` (the register's other fields) and ``additional`` (the Markdown body).
Hidden and draft datasets are absent for everyone, staff included: the API is what the
public register publishes. ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and
``\\u0026``, so no text from a record can be read as HTML even by a careless consumer.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.views.decorators.http import require_safe

from aidahub.web.register import citation, selectors
from aidahub.web.register.doi import InvalidDOI
from aidahub.web.register.records import body_for, record_for
from aidahub.web.register.signals import register_generation

_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def dumps(data) -> str:
    """JSON with every character that HTML or JavaScript could act on escaped."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_ESCAPES)


def _response(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


def entry(version) -> dict:
    """One dataset as the API shows it."""
    record = record_for(version, raw=False)
    return {
        "datacite": record.get("datacite", {}),
        "other": record.get("other", {}),
        "additional": body_for(version, raw=False),
    }


def _cached(key: str, build) -> tuple[int, str]:
    key = f"register:api:{register_generation()}:{key}"
    hit = cache.get(key)
    if hit is None:
        hit = build()
        cache.set(key, hit, settings.REGISTER_CACHE_SECONDS)
    return hit


@require_safe
def metadata(request):
    status, body = _cached(
        "metadata", lambda: (200, dumps([entry(v) for v in selectors.api_versions()]))
    )
    return _response(body, status)


def _one(doi: str) -> tuple[int, str]:
    try:
        doi = selectors.clean_doi(doi)
    except InvalidDOI as exc:
        return 404, dumps({"error": "not found", "detail": str(exc)})
    version, withdrawn = selectors.api_version_for_doi(doi)
    if version is None:
        return 404, dumps(
            {
                "error": "not found",
                "detail": f"No public dataset in the register has the DOI {doi}.",
            }
        )
    if withdrawn:
        dataset = version.dataset
        return 410, dumps(
            {
                "error": "withdrawn",
                "doi": dataset.concept_doi,
                "title": version.title,
                "cite_as": citation.cite_as(version),
                "withdrawal_reason": dataset.withdrawal_reason,
            }
        )
    return 200, dumps(entry(version))


@require_safe
def dataset(request, doi: str):
    digest = hashlib.sha256(doi.encode("utf-8", "replace")).hexdigest()
    status, body = _cached(f"doi:{digest}", lambda: _one(doi))
    return _response(body, status)
