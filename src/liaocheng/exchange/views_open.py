"""The public open-data portal (no sign-in): dataset list with search and facets, dataset pages, the
CSV distribution (streamed from the provider, open non-personal fields only) and the DCAT-AP catalogue.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from liaocheng.core import providers
from liaocheng.core.forms import in_active_language

from . import dcat, opendata

PAGE_SIZE = 20
PORTAL_FACETS = ("organization", "groups", "tags")


def _fq(selected: dict[str, list[str]]) -> list[str]:
    return [f'{name}:"{value}"' for name, values in selected.items() for value in values]


@require_GET
def portal(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    selected = {name: [v for v in request.GET.getlist(name) if v][:5] for name in PORTAL_FACETS}
    sort = request.GET.get("sort", "")
    if sort not in ("", "metadata_modified desc", "name asc", "title_string asc"):
        sort = ""
    try:
        page_number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page_number = 1
    try:
        result = opendata.search(q=q.replace(":", " "), fq=_fq(selected), rows=PAGE_SIZE,
                                 start=(page_number - 1) * PAGE_SIZE, sort=sort, facet_fields=PORTAL_FACETS,
                                 facet_limit=20)
    except opendata.SearchQueryError:
        result = opendata.SearchResult(0, [], {}, "")
    facets = []
    labels = {"organization": _("提供部门"), "groups": _("主题"), "tags": _("标签")}
    for name in PORTAL_FACETS:
        items = []
        for value, display, count in result.facets.get(name, []):
            chosen = value in selected[name]
            params = {k: list(v) for k, v in selected.items()}
            params[name] = [v for v in params[name] if v != value] if chosen else [*params[name], value]
            items.append({"value": value, "display": display, "count": count, "chosen": chosen,
                          "href": "?" + urlencode({"q": q, "sort": sort, **params}, doseq=True)})
        facets.append({"name": name, "label": labels[name], "items": items})
    pages = max(1, -(-result.count // PAGE_SIZE))
    base_query = urlencode({"q": q, "sort": sort, **selected}, doseq=True)
    return render(request, "exchange/open_list.html", {
        "q": q, "sort": sort, "result": result, "facets": facets, "selected": selected,
        "page_number": page_number, "pages": pages, "base_query": base_query,
    })


@require_GET
def dataset(request: HttpRequest, name: str) -> HttpResponse:
    resource = opendata.get_open(name)
    if resource is None:
        raise Http404(_("数据集不存在"))
    package = opendata.package_dict(resource, request.build_absolute_uri("/"))
    fields = [{"name": f.name, "label": in_active_language(f.label_zh, f.label_en), "description": f.description}
              for f in opendata.open_fields(resource)]
    return render(request, "exchange/open_dataset.html", {
        "resource": resource, "package": package, "fields": fields,
        "theme": opendata.theme_title(resource.theme) if resource.theme else "",
    })


@require_GET
def download_csv(request: HttpRequest, name: str) -> StreamingHttpResponse:
    resource = opendata.get_open(name)
    if resource is None or resource.slug != name:
        raise Http404(_("数据集不存在"))
    if providers.get(resource.provider_code) is None:
        raise Http404(_("数据提供方暂不可用"))

    def stream() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        pending = 0
        for row in opendata.csv_rows(resource):
            writer.writerow(row)
            pending += 1
            if pending >= 500:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                pending = 0
        if buffer.tell():
            yield buffer.getvalue()

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{resource.slug}.csv"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def catalog_jsonld(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(dcat.as_jsonld(request.build_absolute_uri("/")),
                            content_type="application/ld+json; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def catalog_ttl(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(dcat.as_turtle(request.build_absolute_uri("/")), content_type="text/turtle; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response
