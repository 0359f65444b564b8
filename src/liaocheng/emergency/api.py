"""Emergency linkage JSON API (mounted at ``/api/emergency/``): call intake, incidents, the recommendation,
dispatch, unit status and the units board.

A thin adapter over the app's services: every write goes through ``intake.take_call``,
``dispatch.dispatch_units`` or ``dispatch.set_unit_status`` (which check the permission for the incident's
or unit's division, write the timeline and the audit record); reads are scoped like the pages
(``emergency.view`` by division prefix). Session authentication as the platform's other staff routers
(``django_auth``: the signed-in staff session; unsafe methods need Django's CSRF token, header
``X-CSRFToken`` matching the ``csrftoken`` cookie).

Errors, as everywhere in the API: a ``DomainError`` becomes its status with ``error``, ``message``
(``message_zh`` / ``message_en``) and the ``field`` at fault — 400 bad input, 404 unknown incident or unit,
409 conflicts (a unit already taken by another dispatcher: ``error=unit_unavailable``, the message names
the unit; a status step that is not allowed: ``error=invalid_status_change``; a closed or merged
incident); 403 ``permission_denied`` outside the user's scope; 401 without a session. Coordinates and
times that cannot be parsed are reported as 400 naming the field too (they are accepted as strings and
parsed here); only a body that does not match the schema at all (e.g. a list where an object belongs)
gets django-ninja's 422.

Coordinates are GCJ-02 unless ``datum=wgs84`` (a GPS fix). Caller numbers and names are shown in full
only to holders of ``core.view_personal_data`` for the incident's division, masked otherwise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.security import django_auth

from liaocheng.core import access
from liaocheng.core.crypto import mask_name
from liaocheng.core.errors import Conflict, InvalidInput, NotFound

from . import dispatch, intake, recommend
from .models import (
    Assignment,
    Call,
    Incident,
    IncidentEvent,
    IncidentState,
    Severity,
    Unit,
    UnitStatus,
    UnitType,
)

router = Router(tags=["emergency"], auth=django_auth)

Datum = Literal["gcj02", "wgs84"]
MAX_INCIDENTS = 500
MAX_UNITS = 1000
STATE_LABELS = dict(IncidentState.choices)
SEVERITY_LABELS = dict(Severity.choices)
STATUS_LABELS = dict(UnitStatus.choices)
TYPE_LABELS = dict(UnitType.choices)


# --- schemas ----------------------------------------------------------------------------------------------

class CallIn(Schema):
    line: str = Field(description="110, 119, 120, 122, 12345, flood, epidemic, safety, water, power, gas, urban")
    narrative: str = Field(description="what the caller says (kept intact, at most 4,000 characters)")
    caller_number: str = ""
    caller_name: str = ""
    lon: float | str | None = Field(None, description="longitude of the map click or device fix")
    lat: float | str | None = Field(None, description="latitude of the map click or device fix")
    datum: Datum = Field("gcj02", description="gcj02 (map click, default) or wgs84 (GPS fix)")
    location_source: str = Field("", description="address, map or device (default: map, or device for wgs84)")
    address: str = ""
    received_at: str | None = Field(None, description="ISO 8601 time the call rang (default: answered_at)")
    answered_at: str | None = Field(None, description="ISO 8601 time the call was answered (default: now)")
    incident_type: str = Field("", description="GB/T 35561 code, required for a new incident (e.g. 12G04)")
    severity: int | str = Field(4, description="1-4 (Ⅰ-Ⅳ)")
    summary: str = ""
    attach_to: str = Field("", description="number of an open incident to attach the call to (empty: new)")


class IncidentOut(Schema):
    number: str
    incident_type: str
    incident_type_name: str
    severity: int
    severity_label: str
    priority: int
    state: str
    state_label: str
    summary: str
    address: str
    lon: float
    lat: float
    grid_code: str
    community_code: str
    township_code: str
    county_code: str
    centre_code: str
    owning_department: str | None
    owning_department_name: str | None
    merged_into: str | None
    disposition: str
    created_at: dt.datetime
    first_answered_at: dt.datetime | None
    first_dispatched_at: dt.datetime | None
    first_on_scene_at: dt.datetime | None
    controlled_at: dt.datetime | None
    closed_at: dt.datetime | None


class NearbyOut(Schema):
    number: str
    incident_type: str
    incident_type_name: str
    severity: int
    state: str
    summary: str
    address: str
    distance_m: int
    created_at: dt.datetime


class CallOut(Schema):
    call_id: int
    created: bool = Field(description="a new incident (false: attached to an existing one)")
    repeat_calls: int = Field(description="earlier calls from the same number in the last 24 hours")
    incident: IncidentOut
    nearby: list[NearbyOut] = Field(description="other open incidents within 500 m opened or called about in the "
                                                "last 2 hours, nearest first (candidates to attach to or merge)")


class IncidentPageOut(Schema):
    total: int
    incidents: list[IncidentOut]


class CallRowOut(Schema):
    id: int
    line: str
    caller_number: str = Field(description="masked unless core.view_personal_data")
    caller_name: str = Field(description="masked unless core.view_personal_data")
    location_source: str
    address: str
    lon: float
    lat: float
    narrative: str
    received_at: dt.datetime
    answered_at: dt.datetime
    ended_at: dt.datetime | None
    taker: str | None
    centre_code: str


class EventOut(Schema):
    at: dt.datetime
    action: str
    actor: str
    note: str
    data: dict[str, Any]


class AssignmentOut(Schema):
    id: int
    unit_id: int
    call_sign: str
    unit_type: str
    department: str
    unit_status: str
    recommended: bool
    eta_seconds: int | None
    dispatched_at: dt.datetime
    en_route_at: dt.datetime | None
    on_scene_at: dt.datetime | None
    transporting_at: dt.datetime | None
    at_hospital_at: dt.datetime | None
    cleared_at: dt.datetime | None
    dispatcher: str | None


class LinkOut(Schema):
    number: str
    kind: str = Field(description="what the other incident is to this one: parent, child or related")


class TransferOut(Schema):
    id: int
    from_line: str
    to_line: str
    from_centre: str
    to_centre: str
    status: str
    reason: str
    result: str
    sent_at: dt.datetime
    answered_at: dt.datetime | None


class IncidentDetailOut(IncidentOut):
    assisting_departments: list[str]
    calls: list[CallRowOut]
    timeline: list[EventOut]
    assignments: list[AssignmentOut] = Field(description="every assignment, open ones with cleared_at null")
    links: list[LinkOut]
    transfers: list[TransferOut]


class CandidateOut(Schema):
    unit_id: int
    call_sign: str
    unit_type: str
    department: str
    station: str
    county_code: str
    lon: float
    lat: float
    distance_m: int
    eta_seconds: int


class NeedOut(Schema):
    unit_type: str
    label: str
    needed: int
    assigned: int
    missing: int
    shortfall: int
    chosen: list[CandidateOut]
    alternatives: list[CandidateOut]


class RecommendationOut(Schema):
    incident: str
    plan_code: str = Field(description="the code whose response plan applied (empty: no plan)")
    plan_severity: int | None
    area: str = Field(description="urban or rural (travel speeds)")
    recommended_ids: list[int]
    shortfall: dict[str, int]
    needs: list[NeedOut]


class DispatchIn(Schema):
    unit_ids: list[int | str] = Field(description="ids of the units to send (all or nothing)")
    recommended_ids: list[int | str] = Field([], description="the units the recommendation proposed")
    note: str = ""


class DispatchOut(Schema):
    incident: str
    state: str
    assignments: list[AssignmentOut]


class UnitStatusIn(Schema):
    status: str = Field(description="en_route, on_scene, transporting, at_hospital, cleared, available, "
                                    "out_of_service (dispatched only through the dispatch call)")
    note: str = ""


class UnitOut(Schema):
    id: int
    call_sign: str
    unit_type: str
    unit_type_label: str
    department: str
    department_name: str
    station: str | None
    capabilities: list[str]
    status: str
    status_label: str
    status_at: dt.datetime
    lon: float
    lat: float
    position_at: dt.datetime
    county_code: str
    incident: str | None = Field(description="number of the incident the unit is working")
    allowed_next: list[str]


class UnitPageOut(Schema):
    total: int
    counts: dict[str, int] = Field(description="units of the filter by status (all pages)")
    units: list[UnitOut]


# --- helpers ----------------------------------------------------------------------------------------------

def _parse_time(value: str | None, field: str) -> dt.datetime | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput("时间格式不正确（ISO 8601）", "malformed time (ISO 8601 expected)", field=field) from exc
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _incident_row(i: Incident) -> dict[str, Any]:
    dept = i.owning_department
    return {
        "number": i.number, "incident_type": i.incident_type.code, "incident_type_name": i.incident_type.name,
        "severity": i.severity, "severity_label": str(SEVERITY_LABELS.get(i.severity, i.severity)),
        "priority": i.priority, "state": i.state, "state_label": str(STATE_LABELS.get(i.state, i.state)),
        "summary": i.summary, "address": i.address, "lon": i.lon, "lat": i.lat, "grid_code": i.grid_code,
        "community_code": i.community_code, "township_code": i.township_code, "county_code": i.county_code,
        "centre_code": i.centre_code, "owning_department": dept.code if dept else None,
        "owning_department_name": dept.name if dept else None,
        "merged_into": i.merged_into.number if i.merged_into_id and i.merged_into else None,
        "disposition": i.disposition, "created_at": i.created_at, "first_answered_at": i.first_answered_at,
        "first_dispatched_at": i.first_dispatched_at, "first_on_scene_at": i.first_on_scene_at,
        "controlled_at": i.controlled_at, "closed_at": i.closed_at,
    }


def _incidents() -> QuerySet[Incident]:
    return Incident.objects.select_related("incident_type", "owning_department", "merged_into")


def _incident(number: str) -> Incident:
    """The incident by number (404), without a permission check (the caller's service checks)."""
    incident = _incidents().filter(number=(number or "").strip()).first()
    if incident is None:
        raise NotFound("事件不存在", "no such incident", field="number")
    return incident


def _user_label(user: Any) -> str | None:
    if user is None:
        return None
    return str(getattr(user, "real_name", "") or user.username)


def _assignment_row(a: Assignment) -> dict[str, Any]:
    unit = a.unit
    return {
        "id": a.pk, "unit_id": unit.pk, "call_sign": unit.call_sign, "unit_type": unit.unit_type,
        "department": unit.department.name, "unit_status": unit.status, "recommended": a.recommended,
        "eta_seconds": a.eta_seconds, "dispatched_at": a.dispatched_at, "en_route_at": a.en_route_at,
        "on_scene_at": a.on_scene_at, "transporting_at": a.transporting_at, "at_hospital_at": a.at_hospital_at,
        "cleared_at": a.cleared_at, "dispatcher": _user_label(a.dispatcher),
    }


def _unit_row(u: Unit) -> dict[str, Any]:
    return {
        "id": u.pk, "call_sign": u.call_sign, "unit_type": u.unit_type,
        "unit_type_label": str(TYPE_LABELS.get(u.unit_type, u.unit_type)), "department": u.department.code,
        "department_name": u.department.name, "station": u.station.name if u.station_id and u.station else None,
        "capabilities": list(u.capabilities or []), "status": u.status,
        "status_label": str(STATUS_LABELS.get(u.status, u.status)), "status_at": u.status_at, "lon": u.lon,
        "lat": u.lat, "position_at": u.position_at, "county_code": u.county_code,
        "incident": u.incident.number if u.incident_id and u.incident else None,
        "allowed_next": dispatch.allowed_next(u),
    }


def _candidate(c: recommend.Candidate) -> dict[str, Any]:
    return {"unit_id": c.unit_id, "call_sign": c.call_sign, "unit_type": c.unit_type, "department": c.department,
            "station": c.station, "county_code": c.county_code, "lon": c.lon, "lat": c.lat,
            "distance_m": c.distance_m, "eta_seconds": c.eta_seconds}


def _nearby_rows(rows: list[intake.Nearby], exclude: int | None = None) -> list[dict[str, Any]]:
    return [{"number": n.incident.number, "incident_type": n.incident.incident_type.code,
             "incident_type_name": n.incident.incident_type.name, "severity": n.incident.severity,
             "state": n.incident.state, "summary": n.incident.summary, "address": n.incident.address,
             "distance_m": round(n.distance_m), "created_at": n.incident.created_at}
            for n in rows if n.incident.pk != exclude]


def _require_any(user: Any, perm: str) -> None:
    if not access.has_perm(user, perm):
        access.require(user, perm)


# --- calls ------------------------------------------------------------------------------------------------

@router.post("/calls", response={201: CallOut},
             summary="接警：记录来电 / take a call (new incident or attached to an open one)",
             description="A new incident at the call's point (``incident_type`` required), or attached to the open "
                         "incident ``attach_to``. Needs ``emergency.take_calls`` for the point's grid (or the "
                         "incident's). A call without a point (an address alone), outside Liaocheng, with an unknown "
                         "line or type, times in the future: 400 naming the field, nothing written. A closed or "
                         "merged ``attach_to``: 409.")
def take_call(request: HttpRequest, payload: CallIn) -> Status[dict[str, Any]]:
    user = request.user
    attach_to = None
    if payload.attach_to.strip():
        try:
            attach_to = intake.get_incident(acting_user=user, number=payload.attach_to)
        except NotFound as exc:
            raise InvalidInput("要并入的事件不存在", "the incident to attach to does not exist",
                               field="attach_to") from exc
    result = intake.take_call(
        acting_user=user, line=payload.line, narrative=payload.narrative, caller_number=payload.caller_number,
        caller_name=payload.caller_name, address=payload.address, lon=payload.lon, lat=payload.lat,
        datum=payload.datum, location_source=payload.location_source,
        received_at=_parse_time(payload.received_at, "received_at"),
        answered_at=_parse_time(payload.answered_at, "answered_at"), incident_type_code=payload.incident_type,
        severity=payload.severity, attach_to=attach_to, summary=payload.summary,
    )
    incident = _incidents().get(pk=result.incident.pk)
    near = intake.nearby_open_incidents(result.call.lon, result.call.lat, acting_user=user)
    return Status(201, {"call_id": result.call.pk, "created": result.created, "repeat_calls": result.repeat_calls,
                        "incident": _incident_row(incident), "nearby": _nearby_rows(near, exclude=incident.pk)})


@router.get("/nearby", response=list[NearbyOut],
            summary="附近的未结事件 / open incidents near a point (before taking a call)",
            description="Open incidents within 500 m opened or called about in the last 2 hours, nearest first, "
                        "among those the user may view.")
def nearby(request: HttpRequest, lon: str, lat: str, datum: Datum = "gcj02") -> list[dict[str, Any]]:
    _require_any(request.user, "emergency.take_calls")
    return _nearby_rows(intake.nearby_open_incidents(lon, lat, datum=datum, acting_user=request.user))


# --- incidents --------------------------------------------------------------------------------------------

def _type_filter(qs: QuerySet[Incident], code: str) -> QuerySet[Incident]:
    """Exact detail code; a sub-class (…00) or class (…000) code matches everything under it."""
    value = intake.validate_type_code(code, field="type")
    if value == intake.ROOT_CODE:
        return qs
    if value.endswith("000"):
        return qs.filter(incident_type__code__startswith=value[:2])
    if value.endswith("00"):
        return qs.filter(incident_type__code__startswith=value[:3])
    return qs.filter(incident_type__code=value)


@router.get("/incidents", response=IncidentPageOut,
            summary="事件列表 / incidents in the user's scope, newest first",
            description="``state``: a state or ``open`` (new, dispatched, on scene, under control); ``county``: a "
                        "county code; ``type``: a GB/T 35561 code (a sub-class or class code matches its subtree); "
                        "``since``: ISO 8601, incidents created at or after it. Needs ``emergency.view``.")
def incidents(request: HttpRequest, state: str = "", county: str = "", type: str = "",
              since: str = "", limit: int = 50, offset: int = 0) -> dict[str, Any]:
    user = request.user
    _require_any(user, "emergency.view")
    qs = intake.visible_incidents(acting_user=user).select_related("merged_into")
    state = state.strip()
    if state == "open":
        qs = qs.filter(state__in=intake.OPEN_STATES)
    elif state:
        if state not in IncidentState.values:
            raise InvalidInput("状态不存在", "unknown state", field="state")
        qs = qs.filter(state=state)
    county = county.strip()
    if county:
        if len(county) != 6 or not county.isdigit():
            raise InvalidInput("县级区划代码应为 6 位数字", "the county code has 6 digits", field="county")
        qs = qs.filter(county_code=county)
    if type.strip():
        qs = _type_filter(qs, type)
    after = _parse_time(since, "since")
    if after is not None:
        qs = qs.filter(created_at__gte=after)
    if not 1 <= limit <= MAX_INCIDENTS:
        raise InvalidInput(f"limit 应为 1 到 {MAX_INCIDENTS}", f"limit must be 1 to {MAX_INCIDENTS}", field="limit")
    if offset < 0:
        raise InvalidInput("offset 不能为负", "offset cannot be negative", field="offset")
    total = qs.count()
    rows = list(qs.order_by("-created_at", "-pk")[offset:offset + limit])
    return {"total": total, "incidents": [_incident_row(i) for i in rows]}


@router.get("/incidents/{number}", response=IncidentDetailOut,
            summary="事件详情 / one incident with its calls, timeline and assignments",
            description="Caller numbers and names are masked unless the user holds ``core.view_personal_data`` for "
                        "the incident's division. 404 unknown, 403 outside the user's scope.")
def incident_detail(request: HttpRequest, number: str) -> dict[str, Any]:
    user = request.user
    incident = intake.get_incident(acting_user=user, number=number)
    calls = list(Call.objects.filter(incident=incident).select_related("taker").order_by("answered_at", "pk"))
    full = access.can_see_personal_data(user, incident.grid_code)
    call_rows = []
    for c in calls:
        c.incident = incident
        call_rows.append({
            "id": c.pk, "line": c.line, "caller_number": intake.caller_display(c, user),
            "caller_name": c.caller_name if full or not c.caller_name else mask_name(c.caller_name),
            "location_source": c.location_source, "address": c.address, "lon": c.lon, "lat": c.lat,
            "narrative": c.narrative, "received_at": c.received_at, "answered_at": c.answered_at,
            "ended_at": c.ended_at, "taker": _user_label(c.taker), "centre_code": c.centre_code,
        })
    events: QuerySet[IncidentEvent] = incident.events.order_by("at", "pk")
    assignments = (Assignment.objects.filter(incident=incident)
                   .select_related("unit", "unit__department", "dispatcher").order_by("dispatched_at", "pk"))
    return {
        **_incident_row(incident),
        "assisting_departments": sorted(incident.assisting_departments.values_list("code", flat=True)),
        "calls": call_rows,
        "timeline": [{"at": e.at, "action": e.action, "actor": e.actor_label, "note": e.note, "data": e.data or {}}
                     for e in events],
        "assignments": [_assignment_row(a) for a in assignments],
        "links": [{"number": v.other.number, "kind": v.kind} for v in intake.links_of(incident)],
        "transfers": [{"id": t.pk, "from_line": t.from_line, "to_line": t.to_line, "from_centre": t.from_centre,
                       "to_centre": t.to_centre, "status": t.status, "reason": t.reason, "result": t.result,
                       "sent_at": t.sent_at, "answered_at": t.answered_at} for t in incident.transfers.all()],
    }


@router.get("/incidents/{number}/recommendation", response=RecommendationOut,
            summary="推荐出动力量 / recommended units for an incident",
            description="The nearest available units of the types the incident's response plan needs, by travel-"
                        "time estimate (``chosen``: recommended; ``alternatives``: further candidates). Needs "
                        "``emergency.dispatch`` for the incident's area or centre; 409 for a closed or merged "
                        "incident.")
def recommendation(request: HttpRequest, number: str) -> dict[str, Any]:
    incident = _incident(number)
    if incident.state not in intake.OPEN_STATES:
        if not dispatch.can_dispatch(request.user, incident):
            access.require(request.user, "emergency.dispatch", incident.grid_code)
        raise Conflict("事件已结束或已合并", "the incident is closed or merged", field="number")
    rec = dispatch.recommend_for(acting_user=request.user, incident=incident)
    return {
        "incident": incident.number, "plan_code": rec.plan_code, "plan_severity": rec.plan_severity,
        "area": rec.area, "recommended_ids": rec.recommended_ids, "shortfall": rec.shortfall,
        "needs": [{"unit_type": n.unit_type, "label": str(n.label), "needed": n.needed, "assigned": n.assigned,
                   "missing": n.missing, "shortfall": n.shortfall, "chosen": [_candidate(c) for c in n.chosen],
                   "alternatives": [_candidate(c) for c in n.alternatives]} for n in rec.needs],
    }


@router.post("/incidents/{number}/dispatch", response=DispatchOut,
             summary="派警 / dispatch units to an incident (all or nothing)",
             description="Sends the units (of any agencies); each becomes ``dispatched`` and the incident follows. "
                         "A unit that is not available — e.g. taken by another dispatcher a moment ago — refuses "
                         "the whole request with 409 ``unit_unavailable`` naming the unit; nothing is written. "
                         "Needs ``emergency.dispatch`` for the incident's area or centre.")
def dispatch_incident(request: HttpRequest, number: str, payload: DispatchIn) -> dict[str, Any]:
    incident = _incident(number)
    made = dispatch.dispatch_units(acting_user=request.user, incident=incident, unit_ids=payload.unit_ids,
                                   recommended_ids=payload.recommended_ids, note=payload.note)
    state = Incident.objects.filter(pk=incident.pk).values_list("state", flat=True).first() or incident.state
    rows = (Assignment.objects.filter(pk__in=[a.pk for a in made])
            .select_related("unit", "unit__department", "dispatcher").order_by("dispatched_at", "pk"))
    return {"incident": incident.number, "state": state, "assignments": [_assignment_row(a) for a in rows]}


# --- units ------------------------------------------------------------------------------------------------

def _units() -> QuerySet[Unit]:
    return Unit.objects.select_related("department", "station", "incident")


@router.post("/units/{unit_id}/status", response=UnitOut,
             summary="更新力量状态 / step a unit's status",
             description="available → dispatched → en_route → on_scene → (transporting → at_hospital →) cleared → "
                         "available; available ⇄ out_of_service. A step that is not allowed: 409 "
                         "``invalid_status_change``. Needs ``emergency.update_units`` for the unit's county or the "
                         "area of the incident it works.")
def unit_status(request: HttpRequest, unit_id: int, payload: UnitStatusIn) -> dict[str, Any]:
    unit = _units().filter(pk=unit_id).first()
    if unit is None:
        raise NotFound("救援力量不存在", "no such unit", field="unit_id")
    dispatch.set_unit_status(acting_user=request.user, unit=unit, status=payload.status, note=payload.note)
    return _unit_row(_units().get(pk=unit_id))


@router.get("/units", response=UnitPageOut,
            summary="力量状态板 / units of the user's scope with live status (the board data)",
            description="Filters: ``status`` (a unit status), ``type`` (a unit type), ``county`` (county code), "
                        "``department`` (department code). Units of the counties the user may view "
                        "(``emergency.view``), ordered by department and call sign.")
def units(request: HttpRequest, status: str = "", type: str = "", county: str = "",
          department: str = "", limit: int = 300, offset: int = 0) -> dict[str, Any]:
    user = request.user
    _require_any(user, "emergency.view")
    qs = access.filter_by_scope(Unit.objects.all(), user, "emergency.view", "county_code")
    status, type, county, department = status.strip(), type.strip(), county.strip(), department.strip()
    if type:
        if type not in UnitType.values:
            raise InvalidInput("力量类型不存在", "unknown unit type", field="type")
        qs = qs.filter(unit_type=type)
    if county:
        if len(county) != 6 or not county.isdigit():
            raise InvalidInput("县级区划代码应为 6 位数字", "the county code has 6 digits", field="county")
        qs = qs.filter(county_code=county)
    if department:
        qs = qs.filter(department__code=department)
    counts = dict.fromkeys(UnitStatus.values, 0)
    for row in qs.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    if status:
        if status not in UnitStatus.values:
            raise InvalidInput("状态不存在", "unknown status", field="status")
        qs = qs.filter(status=status)
    if not 1 <= limit <= MAX_UNITS:
        raise InvalidInput(f"limit 应为 1 到 {MAX_UNITS}", f"limit must be 1 to {MAX_UNITS}", field="limit")
    if offset < 0:
        raise InvalidInput("offset 不能为负", "offset cannot be negative", field="offset")
    total = counts[status] if status else sum(counts.values())
    rows = list(qs.select_related("department", "station", "incident")
                .order_by("department__code", "call_sign")[offset:offset + limit])
    return {"total": total, "counts": counts, "units": [_unit_row(u) for u in rows]}

