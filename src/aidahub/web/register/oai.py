"""OAI-PMH 2.0 at /oai: the register for harvesters such as OpenAIRE, BASE or a national catalogue.

Implements http://www.openarchives.org/OAI/openarchivesprotocol.html (version 2.0), GET and
POST, all six verbs.

Items
    One item per dataset, named by its concept DOI and described by its newest published
    version. Its identifier is ``oai:<repository identifier>:<concept DOI>`` (the
    oai-identifier scheme, http://www.openarchives.org/OAI/2.0/guidelines-oai-identifier.htm),
    where the repository identifier is the host name of ``settings.BASE_URL``, so identifiers
    stay the same whichever address a harvester uses, for example
    ``oai:datahub.example.org:10.23698/aida/ctpa``.
Datestamps
    The last change of the dataset, of its newest version or of its publications, in UTC to
    the second (granularity ``YYYY-MM-DDThh:mm:ssZ``).
Deleted records
    A withdrawn dataset stays as a header with ``status="deleted"`` and no metadata
    (``deletedRecord`` is ``persistent``). Hidden and never-published datasets never appear.
    ``ListMetadataFormats`` for a deleted item answers ``noMetadataFormats``.
Sets
    ``field`` and ``field:<slug>`` for the field (subject) of the newest version, such as
    ``field:radiology``; ``license`` and ``license:<type>`` for the license types it is
    shared under, such as ``license:aida-by`` (``LicenseKind`` values).
Formats
    ``oai_dc`` (module ``oai_dc``) and ``oai_datacite``: the DataCite kernel-4 ``<resource>``
    of the dataset as a whole (namespace http://datacite.org/schema/kernel-4), built by
    ``datacite.concept_resource_element``.
Flow control
    At most ``PAGE_SIZE`` headers or records per answer. A resumption token is the list
    request's arguments, the offset of the next page and the register generation
    (``signals.register_generation``), signed with ``django.core.signing``. A token whose
    signature fails, or that was issued before any change to the register, answers
    ``badResumptionToken``: offsets are only meaningful for the list as it was.

Hostile input never reaches a 500: over-long values, characters XML cannot carry and
identifiers that are not ours answer protocol errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousOperation
from django.db.models import DateTimeField, Exists, Max, Min, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from lxml import etree

from aidahub.web.register import oai_dc
from aidahub.web.register.doi import InvalidDOI, parse_doi
from aidahub.web.register.models import (
    Dataset,
    DatasetState,
    License,
    LicenseKind,
    Publication,
)
from aidahub.web.register.selectors import harvestable_datasets
from aidahub.web.register.signals import register_generation

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_IDENTIFIER_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_IDENTIFIER_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
DATACITE_NS = "http://datacite.org/schema/kernel-4"
DATACITE_SCHEMA = "https://schema.datacite.org/meta/kernel-4/metadata.xsd"
XSI_NS = oai_dc.XSI_NS

# Headers or records per answer; tests lower it.
PAGE_SIZE = 50
# No argument of ours is longer (a resumption token is about 200 characters).
MAX_ARGUMENT_LENGTH = 1000
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
_SIGNING_NAMESPACE = "aidahub.register.oai.resumptionToken"

# verb -> (required arguments, optional arguments); resumptionToken is handled apart.
_ARGUMENTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
}
_RESUMABLE = {"ListSets", "ListIdentifiers", "ListRecords"}

# OAI-PMH section 3.3.1: a day, or a second in UTC.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_SECOND = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
# oai-identifier guidelines: repositoryIdentifier syntax.
_REPOSITORY_IDENTIFIER = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+\Z")


class OAIError(Exception):
    """An OAI-PMH error condition (section 3.6), answered with HTTP 200 and an <error>."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# -- formats and sets ------------------------------------------------------------------------


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    build: Callable[[Dataset, str], etree._Element]


def _datacite_resource(dataset: Dataset, base_url: str) -> etree._Element:
    from aidahub.web.register.datacite import concept_resource_element

    return concept_resource_element(dataset, base_url=base_url)


def _dc(dataset: Dataset, base_url: str) -> etree._Element:
    return oai_dc.dc_element(dataset, base_url=base_url)


_OAI_DC = MetadataFormat("oai_dc", oai_dc.OAI_DC_SCHEMA, oai_dc.OAI_DC_NS, _dc)
_OAI_DATACITE = MetadataFormat("oai_datacite", DATACITE_SCHEMA, DATACITE_NS, _datacite_resource)


def metadata_formats() -> dict[str, MetadataFormat]:
    """The formats offered: DataCite only once its module is installed."""
    formats = {"oai_dc": _OAI_DC}
    if importlib.util.find_spec("aidahub.web.register.datacite") is not None:
        formats["oai_datacite"] = _OAI_DATACITE
    return formats


def _format(prefix: str) -> MetadataFormat:
    try:
        return metadata_formats()[prefix]
    except KeyError:
        raise OAIError(
            "cannotDisseminateFormat", f"metadataPrefix {prefix!r} is not one this hub offers"
        ) from None


def field_spec(subject: str) -> str:
    """``field:<slug>``; a field with no Latin letters gets a stable hash instead."""
    slug = slugify(subject)
    if not slug:
        slug = "f" + hashlib.sha256(subject.encode()).hexdigest()[:10]
    return f"field:{slug}"


def _subjects() -> list[str]:
    rows = harvestable_datasets().values_list("latest_version__subject", flat=True)
    return sorted({s for s in rows if s})


def list_sets() -> list[tuple[str, str]]:
    """(setSpec, setName) of every set, the two parent sets first."""
    fields: dict[str, str] = {}
    for subject in _subjects():
        fields.setdefault(field_spec(subject), subject)
    sets = [("field", "Datasets by field")]
    sets += [(spec, f"Field: {name}") for spec, name in sorted(fields.items())]
    sets.append(("license", "Datasets by license type"))
    sets += [(f"license:{kind.value}", f"License: {kind.label}") for kind in LicenseKind]
    return sets


def _set_specs(dataset: Dataset) -> list[str]:
    version = dataset.latest_version
    specs = [field_spec(version.subject)] if version.subject else []
    kinds = {lic.kind for lic in version.licenses.all()}
    return specs + [f"license:{kind}" for kind in LicenseKind.values if kind in kinds]


def _in_set(items: QuerySet[Dataset], spec: str) -> QuerySet[Dataset]:
    licensed = License.objects.filter(version=OuterRef("latest_version"))
    if spec == "field":
        return items.exclude(latest_version__subject="")
    if spec.startswith("field:"):
        subjects = [s for s in _subjects() if field_spec(s) == spec]
        return items.filter(latest_version__subject__in=subjects)
    if spec == "license":
        return items.filter(Exists(licensed))
    if spec.startswith("license:") and spec[8:] in LicenseKind.values:
        return items.filter(Exists(licensed.filter(kind=spec[8:])))
    return items.none()


# -- items -----------------------------------------------------------------------------------


def _items() -> QuerySet[Dataset]:
    """Harvestable datasets with their datestamp, in a stable order for paging."""
    papers = (
        Publication.objects.filter(dataset=OuterRef("pk"))
        .values("dataset")
        .annotate(last=Max("recorded_at"))
        .values("last")
    )
    changed = Greatest(
        "updated_at",
        "latest_version__updated_at",
        Coalesce(Subquery(papers, output_field=DateTimeField()), "updated_at"),
    )
    return harvestable_datasets().annotate(datestamp=changed).order_by("pk")


def _with_parts(items: QuerySet[Dataset]) -> QuerySet[Dataset]:
    # DataCite also names contacts and copyright holders, and reads version.dataset.
    return items.select_related("latest_version__dataset").prefetch_related(
        "latest_version__licenses",
        "latest_version__authors",
        "latest_version__describing_publications",
        "latest_version__contacts",
        "latest_version__copyrightholders",
        "publications",
        "versions",
    )


def repository_identifier() -> str:
    return urlsplit(settings.BASE_URL).hostname or "localhost"


def oai_identifier(dataset: Dataset) -> str:
    return f"oai:{repository_identifier()}:{dataset.concept_doi}"


def _dataset_for(identifier: str) -> Dataset:
    unknown = OAIError("idDoesNotExist", f"{identifier!r} is not an item of this repository")
    prefix = f"oai:{repository_identifier()}:"
    if not identifier.startswith(prefix):
        raise unknown
    doi = identifier[len(prefix) :]
    try:
        if parse_doi(doi) != doi:
            raise unknown
    except InvalidDOI:
        raise unknown from None
    dataset = _with_parts(_items().filter(concept_doi=doi)).first()
    if dataset is None:
        raise unknown
    return dataset


def _is_deleted(dataset: Dataset) -> bool:
    return dataset.state == DatasetState.WITHDRAWN


def datestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- arguments -------------------------------------------------------------------------------


@dataclass
class Harvest:
    """The arguments of a list request, from the request itself or its resumption token."""

    prefix: str
    since: str = ""
    until: str = ""
    set_spec: str = ""
    offset: int = 0

    def as_token(self, verb: str, offset: int) -> str:
        data = {
            "verb": verb,
            "args": [self.prefix, self.since, self.until, self.set_spec],
            "offset": offset,
            "generation": register_generation(),
        }
        return signing.dumps(data, salt=_SIGNING_NAMESPACE, compress=True)

    @classmethod
    def from_token(cls, verb: str, token: str) -> Harvest:
        bad = OAIError("badResumptionToken", "this resumptionToken was not issued here")
        try:
            data = signing.loads(token, salt=_SIGNING_NAMESPACE)
        except (signing.BadSignature, ValueError):
            raise bad from None
        if not isinstance(data, dict) or data.get("verb") != verb:
            raise bad
        if data.get("generation") != register_generation():
            raise OAIError(
                "badResumptionToken",
                "the register has changed since this list began; start the harvest again",
            )
        args, offset = data.get("args"), data.get("offset")
        if not (isinstance(args, list) and len(args) == 4 and isinstance(offset, int)):
            raise bad
        prefix, since, until, set_spec = map(str, args)
        return cls(prefix, since, until, set_spec, offset=max(offset, 0))


def _parse_stamp(value: str, name: str, *, end: bool) -> tuple[dt.datetime, str]:
    """The instant *value* names (its last microsecond if *end*) and its granularity."""
    try:
        if _DAY.match(value):
            day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC)
            stamp = day.replace(hour=23, minute=59, second=59, microsecond=999999) if end else day
            return stamp, "day"
        if _SECOND.match(value):
            stamp = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
            return (stamp.replace(microsecond=999999) if end else stamp), "second"
    except ValueError:
        pass
    raise OAIError("badArgument", f"{name} must be a UTC date (YYYY-MM-DD) or time ({GRANULARITY})")


def _filtered(harvest: Harvest) -> QuerySet[Dataset]:
    items = _items()
    since = until = None
    if harvest.since:
        since, since_kind = _parse_stamp(harvest.since, "from", end=False)
        items = items.filter(datestamp__gte=since)
    if harvest.until:
        until, until_kind = _parse_stamp(harvest.until, "until", end=True)
        items = items.filter(datestamp__lte=until)
    if since and until:
        if since_kind != until_kind:
            raise OAIError("badArgument", "from and until must have the same granularity")
        if since > until:
            raise OAIError("badArgument", "from is later than until")
    if harvest.set_spec:
        items = _in_set(items, harvest.set_spec)
    return items


def _request_arguments(request: HttpRequest) -> dict[str, list[str]]:
    try:
        data = request.POST if request.method == "POST" else request.GET
        return {key: data.getlist(key) for key in data}
    except (SuspiciousOperation, MultiPartParserError):
        raise OAIError("badArgument", "the request has too many or too large arguments") from None


def _check_arguments(arguments: dict[str, list[str]]) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, or badVerb/badArgument (section 3.6)."""
    verbs = arguments.pop("verb", [])
    if len(verbs) != 1:
        raise OAIError("badVerb", "give exactly one verb")
    verb = verbs[0]
    if verb not in _ARGUMENTS:
        raise OAIError("badVerb", f"{oai_dc.xml_text(verb[:100])!r} is not an OAI-PMH verb")
    for key, values in arguments.items():
        if oai_dc.has_non_xml(key) or len(key) > 100:
            raise OAIError("badArgument", "an argument name is not legal")
        if len(values) > 1:
            raise OAIError("badArgument", f"argument {key!r} is repeated")
        if len(values[0]) > MAX_ARGUMENT_LENGTH or oai_dc.has_non_xml(values[0]):
            raise OAIError("badArgument", f"argument {key!r} is too long or has control characters")
    args = {key: values[0] for key, values in arguments.items()}
    required, optional = _ARGUMENTS[verb]
    if "resumptionToken" in args:
        if verb not in _RESUMABLE:
            raise OAIError("badArgument", f"{verb} takes no resumptionToken")
        if len(args) > 1:
            raise OAIError("badArgument", "resumptionToken must be the only argument")
        return verb, args
    illegal = sorted(set(args) - required - optional)
    if illegal:
        raise OAIError("badArgument", f"{verb} does not take {', '.join(illegal)}")
    missing = sorted(required - set(args))
    if missing:
        raise OAIError("badArgument", f"{verb} needs {', '.join(missing)}")
    return verb, args


# -- answers ---------------------------------------------------------------------------------


def _el(parent: etree._Element, name: str, text: str | None = None, **attrs) -> etree._Element:
    element = etree.SubElement(parent, f"{{{OAI_NS}}}{name}", attrs)
    if text is not None:
        element.text = oai_dc.xml_text(text)
    return element


@dataclass
class Context:
    """What every answer needs from the request."""

    base_url: str  # the site root, for absolute links
    endpoint: str  # this endpoint's absolute URL (baseURL)


def _header(parent: etree._Element, dataset: Dataset) -> None:
    header = _el(parent, "header")
    if _is_deleted(dataset):
        header.set("status", "deleted")
    _el(header, "identifier", oai_identifier(dataset))
    _el(header, "datestamp", datestamp(dataset.datestamp))
    for spec in _set_specs(dataset):
        _el(header, "setSpec", spec)


def _record(parent: etree._Element, dataset: Dataset, fmt: MetadataFormat, ctx: Context) -> None:
    record = _el(parent, "record")
    _header(record, dataset)
    if not _is_deleted(dataset):
        _el(record, "metadata").append(fmt.build(dataset, ctx.base_url))


def identify(verb_el: etree._Element, args: dict[str, str], ctx: Context) -> None:
    earliest = _items().aggregate(first=Min("datestamp"))["first"] or timezone.now()
    _el(verb_el, "repositoryName", settings.HUB_NAME)
    _el(verb_el, "baseURL", ctx.endpoint)
    _el(verb_el, "protocolVersion", "2.0")
    admin = getattr(settings, "DATA_DIRECTOR_EMAIL", "") or settings.DEFAULT_FROM_EMAIL
    _el(verb_el, "adminEmail", admin)
    _el(verb_el, "earliestDatestamp", datestamp(earliest))
    _el(verb_el, "deletedRecord", "persistent")
    _el(verb_el, "granularity", GRANULARITY)
    repository = repository_identifier()
    if _REPOSITORY_IDENTIFIER.match(repository):
        _identifier_description(_el(verb_el, "description"), repository)


def _identifier_description(parent: etree._Element, repository: str) -> None:
    root = etree.SubElement(
        parent,
        f"{{{OAI_IDENTIFIER_NS}}}oai-identifier",
        nsmap={None: OAI_IDENTIFIER_NS, "xsi": XSI_NS},
    )
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_IDENTIFIER_NS} {OAI_IDENTIFIER_SCHEMA}")
    sample = _items().values_list("concept_doi", flat=True).first()
    sample = sample or f"{settings.DOI_PREFIX}/example"
    for name, text in (
        ("scheme", "oai"),
        ("repositoryIdentifier", repository),
        ("delimiter", ":"),
        ("sampleIdentifier", f"oai:{repository}:{sample}"),
    ):
        etree.SubElement(root, f"{{{OAI_IDENTIFIER_NS}}}{name}").text = text


def list_metadata_formats(verb_el: etree._Element, args: dict[str, str], ctx: Context) -> None:
    if "identifier" in args and _is_deleted(_dataset_for(args["identifier"])):
        raise OAIError("noMetadataFormats", "the item is withdrawn and has no metadata")
    for fmt in metadata_formats().values():
        element = _el(verb_el, "metadataFormat")
        _el(element, "metadataPrefix", fmt.prefix)
        _el(element, "schema", fmt.schema)
        _el(element, "metadataNamespace", fmt.namespace)


def list_sets_verb(verb_el: etree._Element, args: dict[str, str], ctx: Context) -> None:
    if "resumptionToken" in args:
        raise OAIError("badResumptionToken", "ListSets is never split, so takes no token")
    for spec, name in list_sets():
        element = _el(verb_el, "set")
        _el(element, "setSpec", spec)
        _el(element, "setName", name)


def get_record(verb_el: etree._Element, args: dict[str, str], ctx: Context) -> None:
    fmt = _format(args["metadataPrefix"])
    _record(verb_el, _dataset_for(args["identifier"]), fmt, ctx)


def _list(verb: str, verb_el: etree._Element, args: dict[str, str], ctx: Context) -> None:
    if "resumptionToken" in args:
        harvest = Harvest.from_token(verb, args["resumptionToken"])
    else:
        harvest = Harvest(
            args["metadataPrefix"], args.get("from", ""), args.get("until", ""), args.get("set", "")
        )
    items = _filtered(harvest)
    fmt = _format(harvest.prefix)
    total = items.count()
    if total == 0:
        raise OAIError("noRecordsMatch", "no items match these arguments")
    offset, size = harvest.offset, PAGE_SIZE
    if offset >= total:
        raise OAIError("badResumptionToken", "the resumptionToken is past the end of the list")
    for dataset in _with_parts(items)[offset : offset + size]:
        if verb == "ListIdentifiers":
            _header(verb_el, dataset)
        else:
            _record(verb_el, dataset, fmt, ctx)
    if total > size:
        more = offset + size < total
        token = harvest.as_token(verb, offset + size) if more else ""
        _el(verb_el, "resumptionToken", token, completeListSize=str(total), cursor=str(offset))


def list_identifiers(verb_el: etree._Element, args: dict[str, str], ctx: Context) -> None:
    _list("ListIdentifiers", verb_el, args, ctx)


def list_records(verb_el: etree._Element, args: dict[str, str], ctx: Context) -> None:
    _list("ListRecords", verb_el, args, ctx)


_VERBS = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets_verb,
    "GetRecord": get_record,
    "ListIdentifiers": list_identifiers,
    "ListRecords": list_records,
}


def _envelope(ctx: Context, verb: str | None, args: dict[str, str]) -> etree._Element:
    root = etree.Element(f"{{{OAI_NS}}}OAI-PMH", nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
    _el(root, "responseDate", datestamp(timezone.now()))
    request_el = _el(root, "request", ctx.endpoint)
    if verb is not None:
        request_el.set("verb", verb)
        for key, value in args.items():
            request_el.set(key, value)
    return root


def _answer(root: etree._Element) -> HttpResponse:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint(request: HttpRequest) -> HttpResponse:
    """Answer one OAI-PMH request (section 3.1: GET or form-encoded POST)."""
    ctx = Context(
        base_url=request.build_absolute_uri("/").rstrip("/"),
        endpoint=request.build_absolute_uri(request.path),
    )
    try:
        verb, args = _check_arguments(_request_arguments(request))
    except OAIError as error:
        # Section 3.2: after badVerb or badArgument the request element holds the URL only.
        return _answer(_error(_envelope(ctx, None, {}), error))
    root = _envelope(ctx, verb, args)
    verb_el = etree.Element(f"{{{OAI_NS}}}{verb}")
    try:
        _VERBS[verb](verb_el, args, ctx)
    except OAIError as error:
        if error.code == "badArgument":
            return _answer(_error(_envelope(ctx, None, {}), error))
        return _answer(_error(root, error))
    root.append(verb_el)
    return _answer(root)


def _error(root: etree._Element, error: OAIError) -> etree._Element:
    _el(root, "error", error.message, code=error.code)
    return root
