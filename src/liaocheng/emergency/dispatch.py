"""The one write path for resources and dispatch: stations, units, fixed resources, unit positions and
status, and the assignment of units to incidents.

Every change takes the acting user as ``acting_user=``, checks the permission through ``core.access``
(scoped by division: a unit's or station's county, the incident's centre), and writes the change, the
incident timeline (``timeline.record_event``) and one audit record in one transaction. Position pings
are the exception: validated and applied with one conditional update, without an audit record.

Unit status machine (``NEXT_STATUS``)::

    available → dispatched → en_route → on_scene → (transporting → at_hospital →) cleared → available
    available ⇄ out_of_service;  dispatched / en_route → cleared (recalled before arrival)

``dispatched`` is entered only through ``dispatch_units``; transporting and at_hospital are for
ambulances. Each step is time-stamped on the unit's open ``Assignment`` and on the incident timeline,
and the incident follows: its first assignment makes it ``dispatched`` (``first_dispatched_at``), its
first unit on scene makes it ``on_scene`` (``first_on_scene_at``).

Two dispatchers racing for one unit: the unit is taken by a conditional update
(``status=available → dispatched``) whose row count is checked inside the transaction, and the partial
unique constraint on ``Assignment`` (one open assignment per unit) refuses a second open assignment even
across processes. The loser gets ``UnitUnavailable`` naming the unit; nothing of its request is written.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from liaocheng.core import access, audit
from liaocheng.core.errors import Conflict, InvalidInput, NotFound
from liaocheng.core.models import Department
from liaocheng.core.permissions import CITY_CODE
from liaocheng.geo import datum as geo_datum
from liaocheng.geo import services as geo_services

from . import recommend, timeline
from .models import (
    Assignment,
    FixedResource,
    FixedResourceKind,
    Incident,
    IncidentState,
    Station,
    Unit,
    UnitStatus,
    UnitType,
)

US = UnitStatus
SYSTEM = "system"
MAX_UNITS_PER_DISPATCH = 30
MAX_NOTE = 500
# positions: the city's extent padded by about 150 km (units may support neighbouring cities)
POSITION_BOUNDS = (113.7, 34.3, 118.2, 38.6)  # min lon, min lat, max lon, max lat (GCJ-02)
FUTURE_SLACK = dt.timedelta(minutes=2)

# status -> statuses a unit may step to (``dispatched`` only through ``dispatch_units``)
NEXT_STATUS: dict[str, tuple[str, ...]] = {
    US.AVAILABLE: (US.OUT_OF_SERVICE,),
    US.DISPATCHED: (US.EN_ROUTE, US.CLEARED),
    US.EN_ROUTE: (US.ON_SCENE, US.CLEARED),
    US.ON_SCENE: (US.TRANSPORTING, US.CLEARED),
    US.TRANSPORTING: (US.AT_HOSPITAL,),
    US.AT_HOSPITAL: (US.CLEARED,),
    US.CLEARED: (US.AVAILABLE,),
    US.OUT_OF_SERVICE: (US.AVAILABLE,),
}
TRANSPORT_TYPES = (UnitType.AMBULANCE,)
# status -> the Assignment field time-stamping it
STEP_FIELD: dict[str, str] = {
    US.DISPATCHED: "dispatched_at", US.EN_ROUTE: "en_route_at", US.ON_SCENE: "on_scene_at",
    US.TRANSPORTING: "transporting_at", US.AT_HOSPITAL: "at_hospital_at", US.CLEARED: "cleared_at",
}
ASSIGNED_STATUSES = (US.DISPATCHED, US.EN_ROUTE, US.ON_SCENE, US.TRANSPORTING, US.AT_HOSPITAL)
CLOSED_INCIDENT_STATES = (IncidentState.CLOSED, IncidentState.MERGED)


class UnitUnavailable(Conflict):
    code = "unit_unavailable"


class InvalidStatusChange(Conflict):
    code = "invalid_status_change"


def status_label(status: str) -> str:
    return str(UnitStatus(status).label) if status in UnitStatus.values else status


def allowed_next(unit: Unit) -> list[str]:
    """The statuses ``unit`` may step to now (``set_unit_status``)."""
    return [s for s in NEXT_STATUS.get(unit.status, ())
            if s not in (US.TRANSPORTING, US.AT_HOSPITAL) or unit.unit_type in TRANSPORT_TYPES]


# --- validation helpers ------------------------------------------------------------------------------

def _text(value: Any, field_name: str, zh: str, en: str, max_length: int, *, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput(f"{zh}不能为空", f"{en} is required", field=field_name)
    if len(text) > max_length:
        raise InvalidInput(f"{zh}不能超过 {max_length} 字", f"{en} may be at most {max_length} characters",
                           field=field_name)
    return text


def _coordinate(value: Any, field_name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("经纬度应为数字", "longitude/latitude must be numbers", field=field_name) from exc
    if not math.isfinite(number):
        raise InvalidInput("经纬度应为有限数值", "longitude/latitude must be finite", field=field_name)
    return number


def _located(lon: Any, lat: Any, datum: str) -> geo_services.PointLocation:
    """A point inside Liaocheng (GCJ-02 after conversion) with its grid and divisions."""
    return geo_services.locate(_coordinate(lon, "lon"), _coordinate(lat, "lat"), input_datum=datum)


def _department(value: Department | int | str | None, field_name: str = "department") -> Department:
    if isinstance(value, Department):
        dept: Department | None = value
    elif isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        dept = Department.objects.filter(pk=int(value)).first()
    elif isinstance(value, str) and value:
        dept = Department.objects.filter(code=value).first()
    else:
        dept = None
    if dept is None or not dept.active:
        raise InvalidInput("所属部门不存在", "unknown department", field=field_name)
    return dept


def _unit_type(value: str) -> str:
    if value not in UnitType.values:
        raise InvalidInput("力量类型不存在", "unknown unit type", field="unit_type")
    return value


def _capabilities(value: Iterable[str] | None) -> list[str]:
    items = [str(v).strip() for v in (value or []) if str(v).strip()]
    if len(items) > 20 or any(len(v) > 40 for v in items):
        raise InvalidInput("能力标签最多 20 个、每个不超过 40 字", "at most 20 capabilities of 40 characters each",
                           field="capabilities")
    return list(dict.fromkeys(items))


def _count(value: Any, field_name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1_000_000:
        raise InvalidInput("数量应为不小于 0 的整数", "counts must be whole numbers of at least 0", field=field_name)
    return value


_STATION_FIELDS = ["code", "name", "department_id", "lon", "lat", "county_code"]
_UNIT_FIELDS = ["call_sign", "unit_type", "department_id", "station_id", "capabilities", "county_code"]
_RESOURCE_FIELDS = ["kind", "name", "lon", "lat", "county_code", "capacity", "available", "details"]


# --- stations ------------------------------------------------------------------------------------------

def create_station(*, acting_user: Any, code: str, name: str, department: Department | int | str, lon: float,
                   lat: float, datum: str = "gcj02") -> Station:
    code = _text(code, "code", "站点编码", "station code", 32)
    name = _text(name, "name", "站点名称", "station name", 100)
    dept = _department(department)
    point = _located(lon, lat, datum)
    county = point.location.county_code
    access.require(acting_user, "emergency.manage_resources", county)
    if Station.objects.filter(code=code).exists():
        raise Conflict("站点编码已存在", "a station with this code exists", field="code")
    with transaction.atomic():
        station = Station.objects.create(code=code, name=name, department=dept, lon=point.lon, lat=point.lat,
                                         county_code=county)
        audit.record(actor=acting_user, action="emergency.create_station", object_type="emergency.Station",
                     object_id=station.pk, after=audit.snapshot(station, _STATION_FIELDS), division_code=county)
    return station


def update_station(*, acting_user: Any, station: Station, name: str | None = None,
                   department: Department | int | str | None = None, lon: float | None = None,
                   lat: float | None = None, datum: str = "gcj02") -> Station:
    access.require(acting_user, "emergency.manage_resources", station.county_code)
    new_name = station.name if name is None else _text(name, "name", "站点名称", "station name", 100)
    dept = station.department if department is None else _department(department)
    county, plon, plat = station.county_code, station.lon, station.lat
    if lon is not None or lat is not None:
        point = _located(station.lon if lon is None else lon, station.lat if lat is None else lat, datum)
        county, plon, plat = point.location.county_code, point.lon, point.lat
        access.require(acting_user, "emergency.manage_resources", county)
    with transaction.atomic():
        row = Station.objects.select_for_update().get(pk=station.pk)
        before = audit.snapshot(row, _STATION_FIELDS)
        row.name, row.department, row.county_code, row.lon, row.lat = new_name, dept, county, plon, plat
        row.save(update_fields=["name", "department", "county_code", "lon", "lat"])
        audit.record(actor=acting_user, action="emergency.update_station", object_type="emergency.Station",
                     object_id=row.pk, before=before, after=audit.snapshot(row, _STATION_FIELDS),
                     division_code=county)
    return row


# --- units ---------------------------------------------------------------------------------------------

def _station(value: Station | int | None) -> Station | None:
    if value is None or isinstance(value, Station):
        return value
    station = Station.objects.filter(pk=value).first()
    if station is None:
        raise InvalidInput("驻地站点不存在", "unknown station", field="station")
    return station


def create_unit(*, acting_user: Any, call_sign: str, unit_type: str, department: Department | int | str,
                station: Station | int | None = None, lon: float | None = None, lat: float | None = None,
                capabilities: Iterable[str] | None = None, datum: str = "gcj02") -> Unit:
    """A new unit, available at its station (or at ``lon``/``lat``); its county is its station's, else the
    county of its position."""
    call_sign = _text(call_sign, "call_sign", "呼号", "call sign", 32)
    unit_type = _unit_type(unit_type)
    dept = _department(department)
    home = _station(station)
    caps = _capabilities(capabilities)
    if lon is None or lat is None:
        if home is None:
            raise InvalidInput("请指定驻地或位置", "a station or a position is required", field="lon")
        plon, plat, county = home.lon, home.lat, home.county_code
    else:
        point = _located(lon, lat, datum)
        plon, plat = point.lon, point.lat
        county = home.county_code if home is not None else point.location.county_code
    access.require(acting_user, "emergency.manage_resources", county)
    if Unit.objects.filter(call_sign=call_sign).exists():
        raise Conflict("呼号已存在", "a unit with this call sign exists", field="call_sign")
    now = timezone.now()
    with transaction.atomic():
        unit = Unit.objects.create(call_sign=call_sign, unit_type=unit_type, department=dept, station=home,
                                   capabilities=caps, status=US.AVAILABLE, status_at=now, lon=plon, lat=plat,
                                   position_at=now, county_code=county)
        audit.record(actor=acting_user, action="emergency.create_unit", object_type="emergency.Unit",
                     object_id=unit.pk, after=audit.snapshot(unit, _UNIT_FIELDS), division_code=county)
    recommend.invalidate_index()
    return unit


_KEEP: Any = object()


def update_unit(*, acting_user: Any, unit: Unit, call_sign: str | None = None, unit_type: str | None = None,
                department: Department | int | str | None = None, station: Any = _KEEP,
                capabilities: Iterable[str] | None = None) -> Unit:
    """Edit a unit's call sign, type, department, home station or capabilities (not its status: see
    ``set_unit_status``). A unit's type changes only while it is available or out of service."""
    access.require(acting_user, "emergency.manage_resources", unit.county_code)
    new_sign = None if call_sign is None else _text(call_sign, "call_sign", "呼号", "call sign", 32)
    new_type = None if unit_type is None else _unit_type(unit_type)
    dept = None if department is None else _department(department)
    home = _KEEP if station is _KEEP else _station(station)
    caps = None if capabilities is None else _capabilities(capabilities)
    if new_sign and Unit.objects.filter(call_sign=new_sign).exclude(pk=unit.pk).exists():
        raise Conflict("呼号已存在", "a unit with this call sign exists", field="call_sign")
    with transaction.atomic():
        row = Unit.objects.select_for_update().get(pk=unit.pk)
        before = audit.snapshot(row, _UNIT_FIELDS)
        if new_type and new_type != row.unit_type and row.status not in (US.AVAILABLE, US.OUT_OF_SERVICE):
            raise Conflict("执行任务中的力量不能更改类型", "a unit on a task cannot change its type", field="unit_type")
        if new_sign:
            row.call_sign = new_sign
        if new_type:
            row.unit_type = new_type
        if dept is not None:
            row.department = dept
        if home is not _KEEP:
            row.station = home
            if home is not None:
                access.require(acting_user, "emergency.manage_resources", home.county_code)
                row.county_code = home.county_code
        if caps is not None:
            row.capabilities = caps
        row.save(update_fields=["call_sign", "unit_type", "department", "station", "capabilities", "county_code"])
        audit.record(actor=acting_user, action="emergency.update_unit", object_type="emergency.Unit",
                     object_id=row.pk, before=before, after=audit.snapshot(row, _UNIT_FIELDS),
                     division_code=row.county_code)
    recommend.invalidate_index()
    return row


def _unit_perm_scopes(unit: Unit) -> list[str]:
    """Where a status change of ``unit`` may be authorised: its home county, and the area and centre of the
    incident it is working (that incident's dispatchers)."""
    scopes = [unit.county_code]
    if unit.incident_id is not None:
        codes = Incident.objects.filter(pk=unit.incident_id).values_list("grid_code", "centre_code").first()
        scopes += [c for c in codes or () if c]
    return scopes


def can_update_unit(user: Any, unit: Unit) -> bool:
    return any(access.has_perm(user, "emergency.update_units", s) for s in _unit_perm_scopes(unit))


def update_position(*, acting_user: Any, unit: Unit, lon: float | str, lat: float | str, datum: str = "gcj02",
                    at: dt.datetime | None = None) -> bool:
    """A position ping (GCJ-02, or ``datum="wgs84"`` from a GPS): validated, applied with one conditional
    update, no audit record. A ping older than the stored position is ignored (returns False)."""
    x, y = _coordinate(lon, "lon"), _coordinate(lat, "lat")
    if datum == "wgs84":
        x, y = geo_datum.wgs84_to_gcj02(x, y)
    elif datum != "gcj02":
        raise InvalidInput("坐标系应为 gcj02 或 wgs84", "datum must be gcj02 or wgs84", field="datum")
    minx, miny, maxx, maxy = POSITION_BOUNDS
    if not (minx <= x <= maxx and miny <= y <= maxy):
        raise InvalidInput("位置超出聊城及周边范围", "the position is outside Liaocheng and its surroundings",
                           field="lon")
    now = timezone.now()
    when = at or now
    if timezone.is_naive(when):
        raise InvalidInput("定位时间应带时区", "the fix time needs a time zone", field="at")
    if when > now + FUTURE_SLACK:
        raise InvalidInput("定位时间不能晚于当前时间", "the fix time is in the future", field="at")
    if not can_update_unit(acting_user, unit):
        access.require(acting_user, "emergency.update_units", unit.county_code)
    return bool(Unit.objects.filter(pk=unit.pk, position_at__lt=when).update(lon=x, lat=y, position_at=when))


# --- fixed resources -----------------------------------------------------------------------------------

def create_fixed_resource(*, acting_user: Any, kind: str, name: str, lon: float, lat: float, capacity: int = 0,
                          available: int = 0, details: dict[str, Any] | None = None,
                          datum: str = "gcj02") -> FixedResource:
    if kind not in FixedResourceKind.values:
        raise InvalidInput("资源类型应为避难场所、医院或物资储备库", "kind must be shelter, hospital or depot",
                           field="kind")
    name = _text(name, "name", "资源名称", "resource name", 100)
    capacity, available = _count(capacity, "capacity"), _count(available, "available")
    if available > capacity:
        raise InvalidInput("可用数不能超过容量", "available may not exceed capacity", field="available")
    point = _located(lon, lat, datum)
    county = point.location.county_code
    access.require(acting_user, "emergency.manage_resources", county)
    with transaction.atomic():
        res = FixedResource.objects.create(kind=kind, name=name, lon=point.lon, lat=point.lat, county_code=county,
                                           capacity=capacity, available=available, details=details or {})
        audit.record(actor=acting_user, action="emergency.create_resource", object_type="emergency.FixedResource",
                     object_id=res.pk, after=audit.snapshot(res, _RESOURCE_FIELDS), division_code=county)
    return res


def update_fixed_resource(*, acting_user: Any, resource: FixedResource, name: str | None = None,
                          capacity: int | None = None, available: int | None = None,
                          details: dict[str, Any] | None = None) -> FixedResource:
    """Edit a fixed resource, e.g. a hospital's free beds or a shelter's free places."""
    access.require(acting_user, "emergency.manage_resources", resource.county_code)
    with transaction.atomic():
        row = FixedResource.objects.select_for_update().get(pk=resource.pk)
        before = audit.snapshot(row, _RESOURCE_FIELDS)
        if name is not None:
            row.name = _text(name, "name", "资源名称", "resource name", 100)
        if capacity is not None:
            row.capacity = _count(capacity, "capacity")
        if available is not None:
            row.available = _count(available, "available")
        if row.available > row.capacity:
            raise InvalidInput("可用数不能超过容量", "available may not exceed capacity", field="available")
        if details is not None:
            row.details = details
        row.save()
        audit.record(actor=acting_user, action="emergency.update_resource", object_type="emergency.FixedResource",
                     object_id=row.pk, before=before, after=audit.snapshot(row, _RESOURCE_FIELDS),
                     division_code=row.county_code)
    return row


@dataclass
class ResourceBatch:
    """Rows for ``load_resources`` (demo and bulk loads): stations first, units refer to them by code."""

    stations: list[Station] = field(default_factory=list)
    units: list[tuple[Unit, str]] = field(default_factory=list)  # (unit, station code or "")
    resources: list[FixedResource] = field(default_factory=list)


def load_resources(*, acting_user: Any, batch: ResourceBatch) -> dict[str, int]:
    """Create stations, units and fixed resources whose codes / call signs / names do not exist yet (bulk;
    one transaction; one audit record per kind). A signed-in user needs ``emergency.manage_resources`` for
    the whole city; background loads pass a label such as ``"demo"``."""
    if getattr(acting_user, "pk", None) is not None:
        access.require(acting_user, "emergency.manage_resources", CITY_CODE)
    created = {"stations": 0, "units": 0, "resources": 0}
    with transaction.atomic():
        have = set(Station.objects.values_list("code", flat=True))
        stations = []
        for station in batch.stations:
            if station.code not in have:
                have.add(station.code)
                stations.append(station)
        Station.objects.bulk_create(stations, batch_size=500)
        by_code = {s.code: s for s in Station.objects.filter(code__in=[c for _u, c in batch.units if c])}
        signs = set(Unit.objects.values_list("call_sign", flat=True))
        units = []
        for unit, code in batch.units:
            if unit.call_sign in signs:
                continue
            signs.add(unit.call_sign)
            if code:
                unit.station = by_code[code]
            units.append(unit)
        Unit.objects.bulk_create(units, batch_size=500)
        names = set(FixedResource.objects.values_list("kind", "name"))
        resources = []
        for res in batch.resources:
            if (res.kind, res.name) not in names:
                names.add((res.kind, res.name))
                resources.append(res)
        FixedResource.objects.bulk_create(resources, batch_size=500)
        created = {"stations": len(stations), "units": len(units), "resources": len(resources)}
        if any(created.values()):
            audit.record(actor=acting_user, action="emergency.load_resources", object_type="emergency.Unit",
                         object_id="*", after=created, division_code=CITY_CODE)
    recommend.invalidate_index()
    return created


# --- dispatch ------------------------------------------------------------------------------------------

def _user_or_none(user: Any) -> Any:
    return user if getattr(user, "pk", None) is not None else None


def _incident_follows(incident: Incident, to_state: str, when_field: str, now: dt.datetime, actor: Any) -> None:
    """Advance the incident to ``dispatched`` / ``on_scene`` when it is behind (never backwards), keeping
    the first time in ``when_field``; the change is written to the timeline."""
    Incident.objects.filter(pk=incident.pk, **{f"{when_field}__isnull": True}).update(**{when_field: now})
    behind = [IncidentState.NEW] if to_state == IncidentState.DISPATCHED else [IncidentState.NEW,
                                                                               IncidentState.DISPATCHED]
    before = Incident.objects.filter(pk=incident.pk).values_list("state", flat=True).first()
    if Incident.objects.filter(pk=incident.pk, state__in=behind).update(state=to_state):
        timeline.record_event(incident, "state", actor=actor, at=now,
                              data={"from": before, "to": to_state, "automatic": True})


def can_dispatch(user: Any, incident: Incident) -> bool:
    """Dispatchers of the incident's area (grid, as for the incident's other actions) or of the centre
    working it (after a transfer)."""
    return any(access.has_perm(user, "emergency.dispatch", code) for code in (incident.grid_code, incident.centre_code)
               if code)


def can_view(user: Any, incident: Incident) -> bool:
    return any(access.has_perm(user, "emergency.view", code) for code in (incident.grid_code, incident.centre_code)
               if code)


def _require_dispatch(user: Any, incident: Incident) -> None:
    if not can_dispatch(user, incident):
        access.require(user, "emergency.dispatch", incident.grid_code or incident.centre_code)


def _check_ids(unit_ids: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for value in unit_ids or ():
        text = str(value).strip()
        if not text.isdigit():
            raise InvalidInput("救援力量编号无效", "invalid unit id", field="unit_ids")
        if int(text) not in ids:
            ids.append(int(text))
    if not ids:
        raise InvalidInput("请至少选择一个救援力量", "choose at least one unit", field="unit_ids")
    if len(ids) > MAX_UNITS_PER_DISPATCH:
        raise InvalidInput(f"一次最多派出 {MAX_UNITS_PER_DISPATCH} 个救援力量",
                           f"at most {MAX_UNITS_PER_DISPATCH} units at a time", field="unit_ids")
    return ids


def _unavailable(unit: Unit, status: str | None) -> UnitUnavailable:
    label = status_label(status or "")
    return UnitUnavailable(f"{unit.call_sign} 当前状态为“{label}”，不能派出（可能已被其他调度员派出）",
                           f"unit {unit.call_sign} is {status or 'gone'}, not available (perhaps just dispatched by "
                           "another dispatcher)", field="unit_ids")


def dispatch_units(*, acting_user: Any, incident: Incident, unit_ids: Sequence[Any],
                   recommended_ids: Iterable[Any] = (), note: str = "") -> list[Assignment]:
    """Send units (of any agencies) to ``incident``: all or nothing. A unit that is not available, or that
    another dispatcher takes at the same moment, refuses the whole request with ``UnitUnavailable`` naming
    it. ``recommended_ids``: the units the recommendation proposed (marked on the assignments)."""
    ids = _check_ids(unit_ids)
    recommended = {int(v) for v in recommended_ids or () if str(v).strip().isdigit()}
    note = _text(note, "note", "派警说明", "dispatch note", MAX_NOTE, required=False)
    _require_dispatch(acting_user, incident)
    now = timezone.now()
    try:
        with transaction.atomic():
            inc = Incident.objects.select_for_update().get(pk=incident.pk)
            _require_dispatch(acting_user, inc)
            if inc.state in CLOSED_INCIDENT_STATES:
                raise Conflict("事件已结束或已合并，不能再派出力量",
                               "the incident is closed or merged; no units can be sent", field="incident")
            units = {u.pk: u for u in Unit.objects.filter(pk__in=ids).select_related("department")}
            for uid in ids:
                if uid not in units:
                    raise NotFound(f"救援力量 {uid} 不存在", f"unit {uid} does not exist", field="unit_ids")
            assignments: list[Assignment] = []
            for uid in sorted(ids):  # one lock order for every dispatcher
                unit = units[uid]
                taken = Unit.objects.filter(pk=uid, status=US.AVAILABLE).update(
                    status=US.DISPATCHED, status_at=now, incident=inc)
                if taken != 1:
                    raise _unavailable(unit, Unit.objects.filter(pk=uid).values_list("status", flat=True).first())
                eta = recommend.eta_seconds(unit.unit_type, unit.lon, unit.lat, inc)
                try:
                    with transaction.atomic():
                        assignments.append(Assignment.objects.create(
                            incident=inc, unit=unit, recommended=uid in recommended, eta_seconds=eta,
                            dispatched_at=now, dispatcher=_user_or_none(acting_user)))
                except IntegrityError as exc:  # an open assignment exists: the constraint refuses
                    raise _unavailable(unit, US.DISPATCHED) from exc
            for a in sorted(assignments, key=lambda a: ids.index(a.unit_id)):
                unit = units[a.unit_id]
                timeline.record_event(inc, "dispatch", actor=acting_user, at=now, note=note, data={
                    "unit_id": unit.pk, "call_sign": unit.call_sign, "unit_type": unit.unit_type,
                    "department": unit.department.name, "eta_seconds": a.eta_seconds, "recommended": a.recommended})
            _incident_follows(inc, IncidentState.DISPATCHED, "first_dispatched_at", now, acting_user)
            audit.record(actor=acting_user, action="emergency.dispatch", object_type="emergency.Incident",
                         object_id=inc.number or inc.pk, division_code=inc.grid_code or inc.county_code,
                         after={"units": [units[i].call_sign for i in ids],
                                "recommended": sorted(i for i in ids if i in recommended), "note": note})
    except IntegrityError as exc:  # pragma: no cover - the savepoint above names the unit first
        raise UnitUnavailable("救援力量已被派出", "a unit was dispatched meanwhile", field="unit_ids") from exc
    for unit in units.values():
        unit.status, unit.status_at, unit.incident = US.DISPATCHED, now, inc
    return assignments


def set_unit_status(*, acting_user: Any, unit: Unit, status: str, note: str = "") -> Unit:
    """Step a unit's status (``NEXT_STATUS``); time-stamps its assignment and the incident timeline; the
    incident follows (first unit on scene). A step that is not allowed raises ``InvalidStatusChange``."""
    if status not in UnitStatus.values:
        raise InvalidInput("状态不存在", "unknown status", field="status")
    if status == US.DISPATCHED:
        raise InvalidStatusChange("请通过派警操作派出救援力量", "units are dispatched through the dispatch action",
                                  field="status")
    note = _text(note, "note", "说明", "note", MAX_NOTE, required=False)
    now = timezone.now()
    with transaction.atomic():
        row = Unit.objects.select_for_update().get(pk=unit.pk)
        if not can_update_unit(acting_user, row):
            access.require(acting_user, "emergency.update_units", row.county_code)
        old = row.status
        if status not in allowed_next(row):
            allowed = "、".join(status_label(s) for s in allowed_next(row)) or "—"
            raise InvalidStatusChange(
                f"{row.call_sign} 不能从“{status_label(old)}”改为“{status_label(status)}”（可改为：{allowed}）",
                f"unit {row.call_sign} cannot go from {old} to {status} (allowed: "
                f"{', '.join(allowed_next(row)) or 'none'})", field="status")
        incident_id = row.incident_id
        releases = status in (US.CLEARED, US.AVAILABLE, US.OUT_OF_SERVICE)
        changed = Unit.objects.filter(pk=row.pk, status=old).update(
            status=status, status_at=now, **({"incident": None} if releases else {}))
        if changed != 1:  # pragma: no cover - the row is locked (PostgreSQL) or the write serialised (SQLite)
            raise InvalidStatusChange("救援力量状态已被他人更改，请刷新", "the unit's status changed meanwhile; reload",
                                      field="status")
        inc = None
        if status in STEP_FIELD and incident_id is not None:
            assignment = Assignment.objects.filter(unit=row, cleared_at__isnull=True).select_related("incident").first()
            if assignment is not None:
                setattr(assignment, STEP_FIELD[status], now)
                assignment.save(update_fields=[STEP_FIELD[status]])
                inc = assignment.incident
                timeline.record_event(inc, "unit_status", actor=acting_user, at=now, note=note, data={
                    "unit_id": row.pk, "call_sign": row.call_sign, "unit_type": row.unit_type, "from": old,
                    "to": status})
                if status == US.ON_SCENE:
                    _incident_follows(inc, IncidentState.ON_SCENE, "first_on_scene_at", now, acting_user)
        audit.record(actor=acting_user, action="emergency.unit_status", object_type="emergency.Unit",
                     object_id=row.pk, before={"status": old, "incident": incident_id},
                     after={"status": status, "incident": None if releases else incident_id, "note": note,
                            "call_sign": row.call_sign},
                     division_code=inc.grid_code if inc is not None else row.county_code)
    row.refresh_from_db()
    return row


def recommend_for(*, acting_user: Any, incident: Incident) -> recommend.Recommendation:
    """The recommendation for an incident, for a dispatcher of its area or centre."""
    _require_dispatch(acting_user, incident)
    return recommend.recommend(incident)


def open_assignments(incident: Incident) -> list[Assignment]:
    return list(Assignment.objects.filter(incident=incident, cleared_at__isnull=True)
                .select_related("unit", "unit__department").order_by("dispatched_at", "pk"))
