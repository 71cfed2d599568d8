"""The register's pages.

Reads go through selectors; who sees what is in policies; presenters make what a page shows
of a dataset.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from aidahub.web.core.text import human_bytes
from aidahub.web.register import (
    charts,
    citation,
    negotiation,
    policies,
    presenters,
    representations,
    search,
    selectors,
    signposting,
)
from aidahub.web.register import priorities as priority_forms
from aidahub.web.register.doi import InvalidDOI, doi_url
from aidahub.web.register.metrics import home_counts, register_metrics
from aidahub.web.register.models import VersionState
from aidahub.web.register.signals import register_generation

PER_PAGE = 50


_KEPT_HEADERS = ("Link", "Vary", "Content-Disposition", "Access-Control-Allow-Origin")


def cache_public_page(view=None, *, vary=None):
    """Serve anonymous GETs from the cache; the register generation is in every key.

    Signed-in users are never served from or written to the cache, so a staff preview can
    never leak to the public, and any change to the register starts a new generation.
    *vary* (request → text) adds what else the response depends on to the key, such as
    the representation an Accept header negotiated; the headers a response carries
    (signposting links, Vary) are cached with it.
    """
    if view is None:
        return lambda inner: cache_public_page(inner, vary=vary)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or request.user.is_authenticated:
            return view(request, *args, **kwargs)
        path = request.get_full_path() + (f"|{vary(request)}" if vary is not None else "")
        digest = hashlib.sha256(path.encode("utf-8", "replace")).hexdigest()
        key = f"register:page:{register_generation()}:{get_language()}:{digest}"
        hit = cache.get(key)
        if hit is not None:
            status, content_type, content, headers = hit
            response = HttpResponse(content, status=status, content_type=content_type)
            for name, value in headers.items():
                response[name] = value
            return response
        response = view(request, *args, **kwargs)
        if (
            response.status_code in (200, 410)
            and not response.cookies
            and not getattr(response, "streaming", False)
        ):
            headers = {name: response[name] for name in _KEPT_HEADERS if response.has_header(name)}
            cache.set(
                key,
                (response.status_code, response["Content-Type"], response.content, headers),
                settings.REGISTER_CACHE_SECONDS,
            )
        return response

    return wrapper


@require_safe
@cache_public_page
def home(request):
    return render(
        request,
        "register/home.html",
        {
            "nav": "home",
            "totals": home_counts(),
            "recent": [presenters.list_row(v) for v in selectors.recent_versions()],
        },
    )


@dataclass
class Column:
    key: str
    label: str
    numeric: bool = False


COLUMNS = [
    Column("name", gettext_lazy("Short name")),
    Column("subject", gettext_lazy("Field")),
    Column("origin", gettext_lazy("Origin")),
    Column("modality", gettext_lazy("Modality")),
    Column("date", gettext_lazy("Date")),
    Column("size", gettext_lazy("Size"), numeric=True),
    Column("organ", gettext_lazy("Organ")),
    Column("title", gettext_lazy("Title")),
]


def _headers(sort: str) -> list[dict]:
    """Each column's link: sort by it ascending, or descending when it already is."""
    headers = []
    for column in COLUMNS:
        if sort == column.key:
            link, state = f"-{column.key}", "ascending"
        elif sort == f"-{column.key}":
            link, state = column.key, "descending"
        else:
            link, state = column.key, ""
        headers.append({"column": column, "sort": link, "state": state})
    return headers


def _facet_links(groups, text: str, query: search.Query) -> list[dict]:
    out = []
    for label, values in groups.items():
        links = []
        for value in values:
            active = query.has(value.column, value.value)
            new = (
                search.remove_term(text, value.column, value.value)
                if active
                else search.add_term(text, value.column, value.value)
            )
            links.append({"facet": value, "q": new, "active": active})
        if links:
            out.append({"label": label, "links": links})
    return out


@require_safe
@cache_public_page
def dataset_list(request):
    text = request.GET.get("q", "")[:500]
    query = search.parse(text)
    sort = search.clean_sort(request.GET.get("sort"))
    results = search.apply(selectors.listed_versions(), query)
    ordered = search.apply_sort(selectors.list_rows(results), sort)
    page = Paginator(ordered, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "register/list.html",
        {
            "nav": "datasets",
            "q": str(query) if query else text.strip(),
            "query": query,
            "sort": sort,
            "headers": _headers(sort),
            "page": page,
            "rows": [presenters.list_row(v) for v in page.object_list],
            "page_range": page.paginator.get_elided_page_range(
                page.number, on_each_side=2, on_ends=1
            ),
            "facets": _facet_links(search.facets(results), text, query),
            "columns": search.COLUMNS,
        },
    )


def _not_a_doi(request, exc: InvalidDOI):
    return render(
        request,
        "core/error.html",
        {
            "status": 404,
            "title": _("Not a DOI"),
            "message": _(
                "This address does not hold a DOI, so it cannot lead to a dataset: %(reason)s."
            )
            % {"reason": str(exc).rstrip(".")},
        },
        status=404,
    )


def _negotiated(request) -> str:
    fmt, params = negotiation.negotiate(request.META.get("HTTP_ACCEPT", ""))
    return "" if fmt is None else f"{fmt.name};{sorted(params.items())}"


def _resolve(request, doi: str):
    """The dataset a DOI path names for this user, a redirect, or a readable 404."""
    try:
        selectors.clean_doi(doi)
    except InvalidDOI as exc:
        stripped = doi.rstrip("/")
        if stripped != doi and selectors.dataset_for_doi(request.user, stripped):
            return redirect(f"/{stripped}", permanent=True)
        return _not_a_doi(request, exc)
    resolved = selectors.dataset_for_doi(request.user, doi)
    if resolved is None:
        raise Http404("no dataset with this DOI is visible")
    return resolved


def _license_urls(resolved) -> list[str]:
    doi = resolved.dataset.concept_doi if resolved.is_concept else resolved.version.doi
    return [
        f"{settings.BASE_URL}/{doi}#{quote(lic.anchor)}" for lic in resolved.version.licenses.all()
    ]


def _signposts(resolved) -> list[signposting.Link]:
    return signposting.links(
        resolved, base_url=settings.BASE_URL, license_urls=_license_urls(resolved)
    )


def _export_response(request, fmt, resolved, params, *, attachment: bool) -> HttpResponse:
    params = {**params, **{k: request.GET[k] for k in ("style", "locale") if k in request.GET}}
    try:
        body = representations.body_for(fmt, resolved, base_url=settings.BASE_URL, params=params)
    except representations.UnknownStyle as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(body.content, content_type=body.content_type)
    response["Access-Control-Allow-Origin"] = "*"  # metadata is public: any site may read it
    if attachment and fmt.download:
        response["Content-Disposition"] = f'attachment; filename="{body.filename}"'
    response["Link"] = signposting.header([signposting.Link(_cite_as(resolved), "cite-as")])
    return response


def _cite_as(resolved) -> str:
    return doi_url(resolved.dataset.concept_doi if resolved.is_concept else resolved.version.doi)


@require_safe
@cache_public_page(vary=_negotiated)
def landing(request, doi: str):
    resolved = _resolve(request, doi)
    if isinstance(resolved, HttpResponse):
        return resolved
    fmt, params = negotiation.negotiate(request.META.get("HTTP_ACCEPT", ""))
    if fmt is not None:
        response = _export_response(request, fmt, resolved, params, attachment=False)
        response["Vary"] = "Accept"
        return response
    signposts = _signposts(resolved)
    if resolved.withdrawn:
        response = render(
            request,
            "register/tombstone.html",
            {
                "nav": "datasets",
                "dataset": resolved.dataset,
                "version": resolved.version,
                "doi_url": doi_url(resolved.dataset.concept_doi),
                "cite_as": citation.cite_as(resolved.version),
                "signposts": signposts,
            },
            status=410,
        )
    else:
        response = render(
            request,
            "register/landing.html",
            {
                "nav": "datasets",
                "page": presenters.landing_page(request.user, resolved),
                "signposts": signposts,
                "exports": negotiation.FORMATS,
                "json_ld": _json_ld(resolved),
            },
        )
    response["Link"] = signposting.header(signposts)
    response["Vary"] = "Accept"
    return response


def _json_ld(resolved) -> str:
    """schema.org JSON-LD for a <script> element: "</" cannot end the element early."""
    from aidahub.web.register import exports

    record = exports.schema_org(resolved.version, base_url=settings.BASE_URL)
    text = json.dumps(record, ensure_ascii=False)
    return text.replace("<", "\\u003c")  # still the same JSON; nothing can close the tag


@require_safe
@cache_public_page
def export(request, doi: str, fmt: str):
    chosen = negotiation.by_name(fmt)
    if chosen is None:
        raise Http404("no such export format")
    resolved = _resolve(request, doi)
    if isinstance(resolved, HttpResponse):
        return resolved
    return _export_response(request, chosen, resolved, {}, attachment=True)


@require_safe
@cache_public_page
def robots(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /accounts/",
        "Allow: /",
        f"Sitemap: {settings.BASE_URL}/sitemap.xml",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_safe
@cache_public_page
def sitemap(request):
    """Every public page a search engine should index: the lists and every landing page."""
    from lxml import etree

    namespace = "http://www.sitemaps.org/schemas/sitemap/0.9"
    root = etree.Element(f"{{{namespace}}}urlset", nsmap={None: namespace})

    def add(location: str, modified=None) -> None:
        url = etree.SubElement(root, f"{{{namespace}}}url")
        etree.SubElement(url, f"{{{namespace}}}loc").text = location
        if modified is not None:
            etree.SubElement(url, f"{{{namespace}}}lastmod").text = modified.strftime("%Y-%m-%d")

    for page in ("/", "/datasets/", "/metrics/", "/priorities/"):
        add(settings.BASE_URL + page)
    for dataset in selectors.public_datasets().order_by("concept_doi"):
        add(f"{settings.BASE_URL}/{dataset.concept_doi}", dataset.updated_at)
        for version in dataset.versions.filter(state=VersionState.PUBLISHED).order_by("pk"):
            add(f"{settings.BASE_URL}/{version.doi}", version.updated_at)
    content = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return HttpResponse(content, content_type="application/xml; charset=utf-8")


@require_safe
@cache_public_page
def metrics(request):
    data = register_metrics()
    series = [
        (_("Datasets per modality"), data.modalities, str),
        (_("Datasets per organ"), data.organs, str),
        (_("Datasets per country shared with"), data.countries, str),
        (_("Size per field"), [(s, t.bytes) for s, t in data.per_subject], human_bytes),
    ]
    return render(
        request,
        "register/metrics.html",
        {
            "nav": "metrics",
            "metrics": data,
            "per_subject": [
                (subject, totals, search.format_term("subject", subject))
                for subject, totals in data.per_subject
            ],
            "charts": [
                (title, charts.bar_chart(title, rows, formatter=fmt, empty=_("No data")))
                for title, rows, fmt in series
            ],
        },
    )


@require_safe
@cache_public_page
def priorities(request):
    lists = selectors.priority_lists()
    return render(
        request,
        "register/priorities.html",
        {
            "nav": "priorities",
            "current": lists[0] if lists else None,
            "history": lists[1:],
            "can_edit": policies.can_edit_priorities(request.user),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def priorities_new(request):
    """The clinical council records a newly approved priority list (staff may too)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not policies.can_edit_priorities(request.user):
        raise Http404
    lists = selectors.priority_lists()
    current = lists[0] if lists else None
    form = priority_forms.PriorityListForm(request.POST or None)
    rows = priority_forms.PriorityFormSet(
        request.POST or None, initial=priority_forms.initial_rows(current), prefix="p"
    )
    if request.method == "POST" and form.is_valid() and rows.is_valid():
        items = priority_forms.items_from(rows)
        try:
            priority_forms.record_priority_list(
                **form.cleaned_data, items=items, actor=request.user, request=request
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The new priority list is published."))
            return redirect("register:priorities")
    return render(
        request,
        "register/priorities_new.html",
        {"nav": "priorities", "form": form, "rows": rows, "current": current},
    )


@require_safe
@cache_public_page
def api_docs(request):
    example = selectors.listed_versions().values_list("dataset__concept_doi", flat=True).first()
    return render(request, "register/api.html", {"nav": "api", "example_doi": example})
