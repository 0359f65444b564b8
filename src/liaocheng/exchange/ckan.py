"""A read-only subset of the CKAN Action API (v3) over the open datasets, at ``/api/3/action/<name>``
(and ``/api/action/<name>``, which standard clients such as ckanapi call).

Responses and errors have CKAN's exact shapes: ``{"help": <url>, "success": true, "result": ...}``;
``{"help": ..., "success": false, "error": {"__type": "Not Found Error", "message": "Not found"}}``
with 404, ``"Validation Error"`` with 409 (field -> list of messages), ``"Search Query Error"`` with
400; an unknown action is CKAN's 400 ``"Bad request - Action name not known: <name>"``. Parameters
come from the query string (GET) or a JSON object body (POST), as in CKAN.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import opendata

CKAN_VERSION = "2.10.0"  # the API level this subset follows


class NotFound(Exception):
    pass


class ValidationError(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


Action = Callable[[HttpRequest, dict[str, Any]], Any]
ACTIONS: dict[str, Action] = {}


def action(fn: Action) -> Action:
    ACTIONS[fn.__name__] = fn
    return fn


# --- parameters -----------------------------------------------------------------------------------

def _int(data: dict[str, Any], name: str, default: int, minimum: int | None = 0) -> int:
    value = data.get(name, default)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({name: ["Invalid integer"]}) from exc
    if minimum is not None and number < minimum:
        raise ValidationError({name: ["Must be a natural number"]})
    return number


def _bool(data: dict[str, Any], name: str, default: bool = False) -> bool:
    value = data.get(name, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    return str(value).strip().lower() in ("true", "1", "yes", "on", "t")


def _list(value: Any, name: str) -> list[str]:
    """A list parameter: a JSON list, a JSON-encoded string of one, or repeated/ comma-free values."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise ValidationError({name: ["Invalid JSON list"]}) from exc
        else:
            return [text]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValidationError({name: ["Not a list of strings"]})


def _require(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None or value == "":
        raise ValidationError({name: ["Missing value"]})
    return str(value)


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


# --- actions -------------------------------------------------------------------------------------

@action
def package_list(request: HttpRequest, data: dict[str, Any]) -> list[str]:
    """Return a list of the names of the site's datasets.

    :param limit: if given, the list of datasets will be broken into pages of at most ``limit``
    :param offset: when ``limit`` is given, the offset to start returning packages from
    """
    names = [r.slug for r in opendata.open_resources()]
    offset = _int(data, "offset", 0)
    if "limit" in data and data["limit"] not in (None, ""):
        return names[offset:offset + _int(data, "limit", 0)]
    return names[offset:]


@action
def package_show(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    """Return the metadata of a dataset and its resources.

    :param id: the id or name of the dataset
    """
    resource = opendata.get_open(_require(data, "id"))
    if resource is None:
        raise NotFound()
    return opendata.package_dict(resource, _base(request))


@action
def package_search(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    """Search for datasets: q, fq, rows (default 10, at most 1000), start, sort (default
    "score desc, metadata_modified desc"), facet.field (JSON list), facet.limit (default 50),
    facet.mincount (default 1), include_private.
    """
    rows = min(_int(data, "rows", opendata.DEFAULT_ROWS), opendata.MAX_ROWS)
    start = _int(data, "start", 0)
    facet_fields = _list(data.get("facet.field", data.get("facet_field")), "facet.field")
    facet_limit = _int(data, "facet.limit", _int(data, "facet_limit", opendata.DEFAULT_FACET_LIMIT, None), None)
    facet_mincount = _int(data, "facet.mincount", _int(data, "facet_mincount", 1))
    fq = data.get("fq", "")
    fq_terms = fq if isinstance(fq, list) else [str(fq or "")]
    fq_list = data.get("fq_list")
    if fq_list:
        fq_terms = [*fq_terms, *_list(fq_list, "fq_list")]
    result = opendata.search(
        q=str(data.get("q", "") or ""), fq=fq_terms, rows=rows, start=start, sort=str(data.get("sort", "") or ""),
        facet_fields=facet_fields, facet_limit=facet_limit, facet_mincount=facet_mincount,
    )
    base = _base(request)
    return {
        "count": result.count,
        "sort": result.sort,
        "results": [opendata.package_dict(r, base) for r in result.resources],
        "facets": {name: {value: n for value, _, n in items} for name, items in result.facets.items()},
        "search_facets": {
            name: {"title": name, "items": [{"name": value, "display_name": display, "count": n}
                                            for value, display, n in items]}
            for name, items in result.facets.items()
        },
    }


def _sorted(items: list[dict[str, Any]], sort: str, default: str) -> list[dict[str, Any]]:
    key, _, direction = (sort or default).strip().partition(" ")
    if key not in ("name", "title", "package_count"):
        raise ValidationError({"sort": [f"Cannot sort by field `{key}`"]})
    return sorted(items, key=lambda d: (d.get(key) or 0) if key == "package_count" else str(d.get(key, "")),
                  reverse=direction.strip().lower() == "desc")


@action
def organization_list(request: HttpRequest, data: dict[str, Any]) -> list[Any]:
    """Return the organizations (departments) publishing open data.

    :param all_fields: return dictionaries instead of names (default false)
    :param sort: "title asc" (default), "name", "package_count", with asc or desc
    :param limit, offset: paging
    :param organizations: only these names
    """
    wanted = set(_list(data.get("organizations"), "organizations"))
    items = [opendata.organization_dict(d, created, package_count=n) for d, n, created in opendata.organizations()
             if not wanted or d.code in wanted]
    items = _sorted(items, str(data.get("sort", "") or ""), "title asc")
    offset = _int(data, "offset", 0)
    items = items[offset:offset + _int(data, "limit", 1000)]
    return items if _bool(data, "all_fields") else [d["name"] for d in items]


@action
def organization_show(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    """Return the details of an organization.

    :param id: the id or name of the organization
    :param include_datasets: include up to 1000 of its datasets (default false)
    """
    ident = _require(data, "id")
    for dept, count, created in opendata.organizations():
        if ident in (dept.code, opendata.org_id(dept.code)):
            org = opendata.organization_dict(dept, created, package_count=count)
            org.update({"users": [], "extras": [], "tags": [], "groups": []})
            if _bool(data, "include_datasets"):
                base = _base(request)
                org["packages"] = [opendata.package_dict(r, base) for r in opendata.open_resources()
                                   if r.department_id == dept.pk][:1000]
            return org
    raise NotFound()


@action
def group_list(request: HttpRequest, data: dict[str, Any]) -> list[Any]:
    """Return the groups (open-data themes) that hold datasets.

    :param all_fields: return dictionaries instead of names (default false)
    :param sort: "title asc" (default), "name", "package_count"
    """
    items = [opendata.group_dict(name, package_count=n) for name, n in opendata.groups()]
    items = _sorted(items, str(data.get("sort", "") or ""), "title asc")
    offset = _int(data, "offset", 0)
    items = items[offset:offset + _int(data, "limit", 1000)]
    return items if _bool(data, "all_fields") else [d["name"] for d in items]


@action
def group_show(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    """Return the details of a group (an open-data theme).

    :param id: the id or name of the group
    """
    ident = _require(data, "id")
    for name, count in opendata.groups():
        if ident in (name, opendata.group_id(name)):
            return opendata.group_dict(name, package_count=count)
    raise NotFound()


@action
def tag_list(request: HttpRequest, data: dict[str, Any]) -> list[str]:
    """Return the names of the tags of open datasets."""
    return sorted({t for r in opendata.open_resources() for t in r.tags})


@action
def status_show(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    """Return the site's version and settings."""
    return {"ckan_version": CKAN_VERSION, "site_title": "数字聊城 公共数据开放", "site_url": _base(request).rstrip("/"),
            "site_description": "聊城市公共数据开放目录 / Liaocheng open data", "locale_default": "zh_Hans_CN",
            "error_emails_to": None, "extensions": []}


@action
def help_show(request: HttpRequest, data: dict[str, Any]) -> str:
    """Return the help string of an action.

    :param name: the action's name
    """
    fn = ACTIONS.get(_require(data, "name"))
    if fn is None:
        raise NotFound("Action function not found")
    return fn.__doc__ or ""


# --- transport -------------------------------------------------------------------------------------

def _finish(status: int, body: Any) -> HttpResponse:
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                            content_type="application/json;charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _request_data(request: HttpRequest) -> dict[str, Any]:
    if request.method == "POST":
        if request.POST:
            values = list(request.POST.values())
            if len(request.POST) == 1 and values[0] in ("1", ""):
                data = json.loads(next(iter(request.POST.keys())))  # CKAN: a JSON object posted as a form key
            else:
                data = {k: (v[0] if len(v) == 1 else v) for k, v in request.POST.lists()}
        elif request.body:
            data = json.loads(request.body)
        else:
            data = {}
    else:
        data = {k: (v[0] if len(v) == 1 else v) for k, v in request.GET.lists()}
    if not isinstance(data, dict):
        raise ValueError(f"Request data JSON decoded to {data!r} but it needs to be a dictionary.")
    data.pop("callback", None)
    return data


@csrf_exempt
def dispatch(request: HttpRequest, name: str, ver: int = 3) -> HttpResponse:
    fn = ACTIONS.get(name)
    if fn is None:
        return _finish(400, f"Bad request - Action name not known: {name}")
    if request.method not in ("GET", "POST"):
        return _finish(400, "Bad request - Invalid request. Please use the POST method for your request")
    body: dict[str, Any] = {"help": request.build_absolute_uri(f"/api/3/action/help_show?name={name}")}
    try:
        data = _request_data(request)
    except ValueError as exc:
        return _finish(400, f"Bad request - JSON Error: {exc}")
    try:
        result = fn(request, data)
    except NotFound as exc:
        message = "Not found" + (f": {exc}" if str(exc) else "")
        return _finish(404, {**body, "success": False, "error": {"__type": "Not Found Error", "message": message}})
    except ValidationError as exc:
        return _finish(409, {**body, "success": False, "error": {"__type": "Validation Error", **exc.errors}})
    except opendata.SearchQueryError as exc:
        return _finish(400, {**body, "success": False, "error": {
            "__type": "Search Query Error", "message": f"Search Query is invalid: {exc.args!r}"}})
    return _finish(200, {**body, "success": True, "result": result})
