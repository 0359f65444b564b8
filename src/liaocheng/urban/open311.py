"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): the public reporting API.

Plain Django views, mounted under ``open311/`` (discovery) with the endpoints under ``open311/v2/``;
every resource in XML (required by the spec) and JSON, chosen by the extension. Standard clients
(the ``georeport`` package on PyPI) read it unchanged.

- Services are the active minor classes: ``service_code`` is the kind-prefixed code (``E0102``),
  ``group`` the major class name. Attributes are Open311-only metadata (``ATTRIBUTES``) kept with the
  request; event classes ask for a severity, component classes for the component ID.
- POST /requests needs the ``api_key`` of a registered ``Open311Client``; the request enters the case
  cycle as a public-channel report (``services.report_public_case`` → ``report_case``). Locations are
  WGS 84 (lat/long) per the spec, or ``address_id`` = a 15-digit unit grid code; an address string
  alone cannot be located (no geocoder) and is refused.
- GET lists the public channels only (``services.PUBLIC_CHANNELS``: supervisors and the public);
  hotline and leaders' cases are internal and answer 404.
- ``service_request_id`` is the case number; the answer carries it directly (and a token that
  /tokens resolves). Public output holds no personal data: no reporter, no e-mail, phone or names.
- Positions are answered in WGS 84 (``geo.datum.gcj02_to_wgs84``); datetimes ISO 8601 with offset.
- Errors: 404 missing resource (and unknown format), 403 bad or missing ``api_key``, 400 anything
  else, as ``[{"code", "description"}]`` or ``<errors><error><code/><description/></error></errors>``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from xml.etree import ElementTree as ET

from django.core.exceptions import PermissionDenied
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import re_path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from liaocheng.core.errors import DomainError
from liaocheng.geo.datum import gcj02_to_wgs84

from . import services
from .models import Case, CaseState, ClassKind, MinorClass

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-27T00:00:00+08:00"
CONTACT = "聊城市数字化城市管理监督指挥中心 / Liaocheng digital urban management centre: 12345"
KEY_SERVICE = "向聊城市数字城管中心申请 API key / request an API key from the Liaocheng urban management centre"
FORMATS = {"json": "application/json", "xml": "application/xml"}
MAX_RESULTS = 1000
MAX_SPAN = dt.timedelta(days=90)
MAX_DESCRIPTION = services.MAX_DESCRIPTION

OPEN_STATES = frozenset(services.OPEN_STATES)
STATUS_NOTES = {
    CaseState.REPORTED: "已受理，待立案 / received",
    CaseState.FILED: "已立案，待派遣 / filed",
    CaseState.DISPATCHED: "已派遣至责任部门 / dispatched to the responsible department",
    CaseState.HANDLING: "责任部门处置中 / being handled",
    CaseState.HANDLED: "已处置，待核查 / handled, awaiting verification",
    CaseState.VERIFIED: "核查通过，待结案 / verified",
    CaseState.DEFERRED: "挂账（暂缓处置）/ deferred",
    CaseState.CLOSED: "已结案 / closed",
    CaseState.NOT_FILED: "不予立案 / not filed",
    CaseState.VOIDED: "已作废 / voided",
    CaseState.MERGED: "与已有案卷合并 / merged into an existing request",
}

# kind -> attribute definitions (Open311 "service definition"); order = position in the list
ATTRIBUTES: dict[str, list[dict[str, Any]]] = {
    ClassKind.EVENT: [
        {"code": "severity", "datatype": "singlevaluelist", "required": False,
         "datatype_description": "low / medium / high",
         "description": "严重程度 / severity",
         "values": [{"key": "low", "name": "一般 / low"}, {"key": "medium", "name": "较重 / medium"},
                    {"key": "high", "name": "严重，影响安全或通行 / high"}]},
        {"code": "ongoing", "datatype": "singlevaluelist", "required": False, "datatype_description": "yes / no",
         "description": "问题是否仍在持续 / is it still happening",
         "values": [{"key": "yes", "name": "是 / yes"}, {"key": "no", "name": "否 / no"}]},
    ],
    ClassKind.COMPONENT: [
        {"code": "component_id", "datatype": "string", "required": False,
         "datatype_description": "16 位部件编码，如 3715020101000001 / 16-digit component ID",
         "description": "部件编码（部件上的标牌）/ component ID (from its plate)", "values": []},
        {"code": "condition", "datatype": "singlevaluelist", "required": False,
         "datatype_description": "missing / damaged / other",
         "description": "部件状况 / condition",
         "values": [{"key": "missing", "name": "缺失 / missing"}, {"key": "damaged", "name": "破损 / damaged"},
                    {"key": "other", "name": "其他 / other"}]},
    ],
}


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# --- rendering ---------------------------------------------------------------------------------------

_LIST_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml_fill(parent: ET.Element, data: dict[str, Any]) -> None:
    for key, value in data.items():
        child = ET.SubElement(parent, key)
        if isinstance(value, list):
            for item in value:
                sub = ET.SubElement(child, _LIST_ITEMS.get(key, "item"))
                if isinstance(item, dict):
                    _xml_fill(sub, item)
                else:
                    sub.text = _text(item)
        elif isinstance(value, dict):
            _xml_fill(child, value)
        else:
            child.text = _text(value)


def _xml(root: str, item: str | None, data: Any) -> bytes:
    """``item`` None: ``data`` is one dict under ``root``; else a list of dicts, each an ``item``."""
    element = ET.Element(root)
    if item is None:
        _xml_fill(element, data)
    else:
        for row in data:
            _xml_fill(ET.SubElement(element, item), row)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="utf-8")


def _respond(fmt: str, data: Any, root: str, item: str | None, status: int = 200) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8") if fmt == "json" else _xml(root, item, data)
    return HttpResponse(body, status=status, content_type=f"{FORMATS[fmt]}; charset=utf-8")


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    return _respond(fmt, [{"code": status, "description": description}], "errors", "error", status=status)


View = Callable[..., HttpResponse]


def open311_view(view: View) -> View:
    """Format from the extension (unknown → 404 in XML); errors in the spec's format."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            return _error("xml", 404, f"unknown format '{fmt}': use .xml or .json")
        try:
            return view(request, fmt, *args, **kwargs)
        except Open311Error as exc:
            return _error(fmt, exc.status, exc.description)
        except PermissionDenied as exc:
            return _error(fmt, 403, str(exc) or "forbidden")
        except DomainError as exc:
            return _error(fmt, exc.status if exc.status in (403, 404) else 400, str(exc))

    return csrf_exempt(wrapper)


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# --- discovery and services --------------------------------------------------------------------------

def _only(request: HttpRequest, *methods: str) -> None:
    if request.method not in methods:
        raise Open311Error(400, f"method {request.method} not allowed here")


@open311_view
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    _only(request, "GET", "HEAD")
    base = request.build_absolute_uri(reverse("open311:root")).rstrip("/")
    data = {
        "changeset": CHANGESET, "contact": CONTACT, "key_service": KEY_SERVICE,
        "endpoints": [{"specification": SPECIFICATION, "url": base, "changeset": CHANGESET, "type": "production",
                       "formats": ["text/xml", "application/json"]}],
    }
    return _respond(fmt, data, "discovery", None)


def _services() -> QuerySet[MinorClass]:
    return MinorClass.objects.filter(active=True).select_related("major")


def _service(minor: MinorClass) -> dict[str, Any]:
    return {
        "service_code": minor.full_code, "service_name": minor.name,
        "description": minor.filing_condition or minor.name, "metadata": bool(ATTRIBUTES.get(minor.kind)),
        "type": "realtime", "keywords": ",".join([minor.get_kind_display(), minor.major.name, minor.name]),
        "group": minor.major.name,
    }


def _get_service(code: str) -> MinorClass:
    minor = _services().filter(full_code=code.strip().upper()).first()
    if minor is None:
        raise Open311Error(404, f"service_code '{code}' not found")
    return minor


@open311_view
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    _only(request, "GET", "HEAD")
    return _respond(fmt, [_service(m) for m in _services()], "services", "service")


def _attributes(minor: MinorClass) -> list[dict[str, Any]]:
    return [{"variable": True, "code": a["code"], "datatype": a["datatype"], "required": a["required"],
             "datatype_description": a["datatype_description"], "order": i, "description": a["description"],
             "values": a["values"]} for i, a in enumerate(ATTRIBUTES.get(minor.kind, []), 1)]


@open311_view
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    _only(request, "GET", "HEAD")
    minor = _get_service(service_code)
    data = {"service_code": minor.full_code, "attributes": _attributes(minor)}
    return _respond(fmt, data, "service_definition", None)


# --- requests ----------------------------------------------------------------------------------------

def _float(raw: str, name: str) -> float:
    try:
        return float(raw)
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be a number") from exc


def _posted_attributes(minor: MinorClass, post: Any) -> dict[str, Any]:
    defs = {a["code"]: a for a in ATTRIBUTES.get(minor.kind, [])}
    values: dict[str, Any] = {}
    for key in post:
        if not key.startswith("attribute["):
            continue
        code = key[len("attribute["):].split("]", 1)[0]
        if code not in defs:
            raise Open311Error(400, f"unknown attribute '{code}' for service {minor.full_code}")
        definition = defs[code]
        items = [v.strip() for v in post.getlist(key) if v.strip()]
        allowed = {v["key"] for v in definition["values"]}
        if allowed and any(v not in allowed for v in items):
            raise Open311Error(400, f"attribute '{code}' must be one of {', '.join(sorted(allowed))}")
        if any(len(v) > 200 for v in items):
            raise Open311Error(400, f"attribute '{code}' is too long")
        if items:
            values[code] = items if definition["datatype"] == "multivaluelist" else items[0]
    for code, definition in defs.items():
        if definition["required"] and code not in values:
            raise Open311Error(400, f"attribute '{code}' is required")
    return values


def _field(post: Any, name: str, limit: int) -> str:
    value = (post.get(name) or "").strip()
    if len(value) > limit:
        raise Open311Error(400, f"{name} may be at most {limit} characters")
    return value


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    post = request.POST
    client = services.open311_client_for_key(post.get("api_key") or "")
    if client is None:
        raise Open311Error(403, "api_key missing or invalid")
    code = (post.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    minor = _services().filter(full_code=code.upper()).first()
    if minor is None:
        raise Open311Error(400, f"service_code '{code}' not found")
    description = post.get("description") or ""
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description may be at most {MAX_DESCRIPTION} characters")
    attributes = _posted_attributes(minor, post)
    address = _field(post, "address_string", 200)
    address_id = _field(post, "address_id", 64)
    lat_raw, lon_raw = (post.get("lat") or "").strip(), (post.get("long") or "").strip()
    if lat_raw or lon_raw:
        if not (lat_raw and lon_raw):
            raise Open311Error(400, "lat and long must be given together")
        lon, lat, datum = _float(lon_raw, "long"), _float(lat_raw, "lat"), "wgs84"
    elif address_id:
        point = services.grid_point(address_id)
        if point is None:
            raise Open311Error(400, "address_id must be a unit grid code (15 digits) of Liaocheng")
        (lon, lat), datum = point, "gcj02"
    elif address:
        raise Open311Error(400, "address_string alone cannot be located: send lat/long or address_id")
    else:
        raise Open311Error(400, "a location is required: lat and long, or address_id")
    media_url = _field(post, "media_url", 500)
    if media_url and not media_url.lower().startswith(("http://", "https://")):
        raise Open311Error(400, "media_url must be an http(s) URL")
    account_id = _field(post, "account_id", 100)
    result, extra = services.report_public_case(
        client=client, class_code=minor.full_code, lon=lon, lat=lat, datum=datum,
        description=description.strip() or f"{minor.name}（公众上报）", address=address, address_id=address_id,
        attributes=attributes, media_url=media_url, account_id=account_id,
        device_id=_field(post, "device_id", 200), email=_field(post, "email", 254),
        first_name=_field(post, "first_name", 100), last_name=_field(post, "last_name", 100),
        phone=_field(post, "phone", 40),
    )
    notice = (f"已受理，案卷编号 {result.case.number}，处置时限自派遣起 {minor.deadline_value} "
              f"{minor.get_deadline_unit_display()} / received; handling deadline {minor.deadline_value} working "
              f"{minor.deadline_unit} from dispatch")
    data = [{"service_request_id": result.case.number, "token": extra.token, "service_notice": notice,
             "account_id": account_id or None}]
    return _respond(fmt, data, "service_requests", "request")


def _cases() -> QuerySet[Case]:
    return (services.public_cases().select_related("minor_class", "department", "open311")
            .annotate(updated=Max("events__at")).order_by("-reported_at", "-pk"))


def _public(case: Case) -> dict[str, Any]:
    lon, lat = gcj02_to_wgs84(case.lon, case.lat)
    extra = getattr(case, "open311", None)  # absent for cases from other channels
    state = CaseState(case.state)
    return {
        "service_request_id": case.number, "status": "open" if state in OPEN_STATES else "closed",
        "status_notes": STATUS_NOTES.get(state, ""), "service_name": case.minor_class.name,
        "service_code": case.minor_class.full_code, "description": case.description,
        "agency_responsible": case.department.name if case.department else None, "service_notice": None,
        "requested_datetime": _iso(case.reported_at),
        "updated_datetime": _iso(getattr(case, "updated", None) or case.reported_at),
        "expected_datetime": _iso(case.due_at), "address": case.address or None,
        "address_id": (extra.address_id if extra else "") or case.grid_code, "zipcode": None,
        "lat": round(lat, 6), "long": round(lon, 6), "media_url": (extra.media_url if extra else "") or None,
    }


def _instant(raw: str, name: str) -> dt.datetime:
    value = parse_datetime(raw.strip().replace(" ", "+"))
    if value is None:
        raise Open311Error(400, f"{name} must be a W3C datetime, e.g. 2026-11-01T00:00:00+08:00")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _list_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    params = request.GET
    qs = _cases()
    ids = [s.strip() for s in (params.get("service_request_id") or "").split(",") if s.strip()]
    if ids:
        qs = qs.filter(number__in=ids[:MAX_RESULTS])
    else:
        start_raw, end_raw = params.get("start_date") or "", params.get("end_date") or ""
        start = _instant(start_raw, "start_date") if start_raw else None
        end = _instant(end_raw, "end_date") if end_raw else None
        if start is None and end is None:
            end = timezone.now()
        if start is None:
            assert end is not None
            start = end - MAX_SPAN
        if end is None:
            end = start + MAX_SPAN
        if end < start:
            raise Open311Error(400, "end_date is before start_date")
        if end - start > MAX_SPAN:
            raise Open311Error(400, "start_date and end_date may be at most 90 days apart")
        qs = qs.filter(reported_at__gte=start, reported_at__lte=end)
        codes = [s.strip().upper() for s in (params.get("service_code") or "").split(",") if s.strip()]
        if codes:
            qs = qs.filter(minor_class__full_code__in=codes)
        statuses = {s.strip().lower() for s in (params.get("status") or "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status must be open or closed")
        if statuses == {"open"}:
            qs = qs.filter(state__in=OPEN_STATES)
        elif statuses == {"closed"}:
            qs = qs.exclude(state__in=OPEN_STATES)
    rows = [_public(c) for c in qs[:MAX_RESULTS]]
    return _respond(fmt, rows, "service_requests", "request")


@open311_view
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    _only(request, "GET", "HEAD")
    return _list_requests(request, fmt)


@open311_view
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    _only(request, "GET", "HEAD")
    case = _cases().filter(number=request_id).first()
    if case is None:
        raise Open311Error(404, f"service request '{request_id}' not found")
    return _respond(fmt, [_public(case)], "service_requests", "request")


@open311_view
def token_view(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    _only(request, "GET", "HEAD")
    case = Case.objects.filter(open311__token=token).only("number").first()
    if case is None:
        raise Open311Error(404, f"token '{token}' not found")
    return _respond(fmt, [{"service_request_id": case.number, "token": token}], "service_requests", "request")


def root(request: HttpRequest) -> HttpResponse:
    return discovery(request, fmt="json")


app_name = "open311"
_F = r"\.(?P<fmt>[A-Za-z0-9]+)$"
urlpatterns = [
    re_path(r"^v2/$", root, name="root"),
    re_path(r"^discovery" + _F, discovery, name="discovery"),
    re_path(r"^v2/services" + _F, service_list, name="services"),
    re_path(r"^v2/services/(?P<service_code>[A-Za-z0-9_-]+)" + _F, service_definition, name="service"),
    re_path(r"^v2/requests" + _F, requests_view, name="requests"),
    re_path(r"^v2/requests/(?P<request_id>[A-Za-z0-9_-]+)" + _F, request_detail, name="request"),
    re_path(r"^v2/tokens/(?P<token>[A-Za-z0-9_-]+)" + _F, token_view, name="token"),
]
