"""Call intake and incidents (应急联动 接警与事件): the one write path for incident types and response plans,
calls, incidents (merge, split, link, state, notes, assisting agencies) and transfers between lines and centres.

Every service takes the acting user as ``acting_user=``, checks the permission for the incident's grid code
(``core.access``: ``emergency.take_calls`` for calls and grouping, ``emergency.dispatch`` for state and
agencies, ``emergency.transfer`` for transfers), writes the timeline (``timeline.record_event``) and one
audit record in the same transaction. Bad input raises a ``core.errors.DomainError`` before anything is
written. Units and assignments belong to ``dispatch.py`` (which moves incidents to dispatched / on scene).

Decisions (ADR 0008):
- The centre of a new incident is the county of its location: every county runs a centre and holds
  ``emergency.take_calls`` for its grids, a city call-taker (city-wide scope) taking a call in a county
  hands it to that county's centre. ``transfer_incident`` moves it to the city centre (and back).
- A call needs a point (a click on the map or a device fix, GCJ-02 or WGS84). There is no geocoder: an
  address alone is refused, the call-taker picks the point on the map while the caller describes it.
- Duty leaders are notified (a ``notify`` timeline event and an audit record listing them) when an incident
  is opened at, or raised to, severity Ⅰ/Ⅱ/Ⅲ: the users holding ``emergency_duty_leader`` whose scope
  covers the incident's centre (the county's and the city's leaders). Once the change is committed the
  worker e-mails those who have an address (``tasks.send_duty_leader_notice``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from liaocheng.core import access, audit
from liaocheng.core.crypto import blind_index, mask_phone
from liaocheng.core.departments import KINDS
from liaocheng.core.errors import Conflict, InvalidInput, NotFound
from liaocheng.core.models import Department, Level, RoleGrant
from liaocheng.core.permissions import CITY_CODE, in_scope
from liaocheng.geo import services as geo_services
from liaocheng.geo.datum import distance_m
from liaocheng.geo.locator import Location

from . import recommend, timeline, types_data
from .models import (
    Call,
    Incident,
    IncidentLink,
    IncidentState,
    IncidentType,
    Line,
    LinkKind,
    LocationSource,
    ResponsePlan,
    Severity,
    Transfer,
    TransferStatus,
    Unit,
    UnitType,
)

SYSTEM = timeline.SYSTEM
MAX_NARRATIVE = 4000
MAX_NOTE = 4000
MAX_ADDRESS = 200
NEARBY_RADIUS_M = 500.0
NEARBY_MINUTES = 120
CLOCK_SKEW = dt.timedelta(minutes=5)
CALLER_RE = re.compile(r"^\+?\d{3,20}$")
CODE_RE = re.compile(r"^1[1-4][A-HJ-NP-Y0]\d\d$")
ROOT_CODE = "10000"
DEFAULT_KIND = "emergency_management"
DUTY_LEADER_ROLE = "emergency_duty_leader"
NOTIFY_SEVERITIES = (Severity.I, Severity.II, Severity.III)
S = IncidentState
OPEN_STATES = (S.NEW, S.DISPATCHED, S.ON_SCENE, S.UNDER_CONTROL)
# the department kind that works each telephone line (accepting a line transfer, see ``accept_transfer``)
LINE_KINDS: dict[str, str] = {
    Line.POLICE: "public_security", Line.FIRE: "fire_rescue", Line.AMBULANCE: "emergency_medical",
    Line.TRAFFIC: "traffic_police", Line.HOTLINE: "hotline_12345",
}
# set_incident_state: target -> states it may be reached from (dispatch.py owns dispatched / on scene)
STATE_RULES: dict[str, tuple[str, ...]] = {
    S.UNDER_CONTROL: (S.NEW, S.DISPATCHED, S.ON_SCENE),
    S.CLOSED: (S.NEW, S.DISPATCHED, S.ON_SCENE, S.UNDER_CONTROL),
}
_INCIDENT_FIELDS = ["state", "severity", "priority", "incident_type_id", "centre_code", "owning_department_id",
                    "merged_into_id", "disposition"]
_TYPE_FIELDS = ["name", "owning_kind", "default_priority", "active"]


def _snapshot(incident: Incident) -> dict[str, Any]:
    return {"number": incident.number, **audit.snapshot(incident, _INCIDENT_FIELDS)}


def _is_user(user: Any) -> bool:
    return getattr(user, "pk", None) is not None


def _user_or_none(user: Any) -> Any:
    return user if _is_user(user) else None


def _text(value: Any, field: str, zh: str, en: str, *, required: bool = True, limit: int = MAX_NOTE) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput(f"{zh}不能为空", f"{en} is required", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{zh}不能超过 {limit} 字", f"{en} may be at most {limit} characters", field=field)
    return text


# --- incident types and response plans -----------------------------------------------------------------

def validate_type_code(code: Any, field: str = "code") -> str:
    """The normalised code (upper case) of a well-formed GB/T 35561 code, else ``InvalidInput``."""
    value = str(code or "").strip().upper()
    if value == ROOT_CODE:
        return value
    if not CODE_RE.match(value) or (value[2] == "0" and value[3:] != "00"):
        raise InvalidInput("事件分类编码应为 GB/T 35561 五位编码（如 12G04）",
                           "an incident type code has five characters after GB/T 35561 (e.g. 12G04)", field=field)
    return value


def parent_code(code: str) -> str | None:
    """11A01 → 11A00 → 11000 → 10000 → None."""
    if code == ROOT_CODE:
        return None
    if code[2:] == "000":
        return ROOT_CODE
    if code[3:] == "00":
        return code[:2] + "000"
    return code[:3] + "00"


def _check_kind(kind: str, field: str = "owning_kind") -> str:
    if kind and kind not in KINDS:
        raise InvalidInput("牵头部门类别不存在", "unknown department kind", field=field)
    return kind


def _check_priority(value: Any, field: str = "default_priority") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInput("优先级应为 1（最高）到 5 的整数", "priority must be a whole number from 1 (highest) to 5",
                           field=field)
    return value


def _check_needs(needs: Any) -> dict[str, int]:
    if not isinstance(needs, dict):
        raise InvalidInput("所需力量格式不正确", "needs must map unit types to counts", field="needs")
    clean: dict[str, int] = {}
    for unit_type, count in needs.items():
        if unit_type not in UnitType.values:
            raise InvalidInput(f"未知的力量类型：{unit_type}", f"unknown unit type: {unit_type}", field="needs")
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 50:
            raise InvalidInput("力量数量应为 0 到 50 的整数", "a unit count must be a whole number from 0 to 50",
                               field="needs")
        if count:
            clean[unit_type] = count
    return clean


def load_incident_types() -> int:
    """Create the shipped types and default plans that do not exist yet (idempotent; never overwrites an
    edited type or plan). Returns the number of types created."""
    created = plans = 0
    with transaction.atomic():
        by_code = {t.code: t for t in IncidentType.objects.all()}
        kinds: dict[str, str] = {}
        priorities: dict[str, int] = {}
        for code, name, kind, priority in sorted(types_data.TYPES):
            code = validate_type_code(code)
            parent = parent_code(code)
            kinds[code] = kind or (kinds.get(parent, DEFAULT_KIND) if parent else DEFAULT_KIND)
            priorities[code] = priority or (priorities.get(parent, 3) if parent else 3)
            if code in by_code:
                continue
            if parent is not None and parent not in by_code:
                raise ValueError(f"incident type {code}: parent {parent} is not in the table")
            by_code[code] = IncidentType.objects.create(
                code=code, name=name, incident_class="" if code == ROOT_CODE else code[1],
                parent=by_code[parent] if parent else None, owning_kind=_check_kind(kinds[code]),
                default_priority=priorities[code],
            )
            created += 1
        existing = set(ResponsePlan.objects.values_list("incident_type__code", "severity"))
        for (code, severity), needs in types_data.PLANS.items():
            if (code, severity) in existing:
                continue
            ResponsePlan.objects.create(incident_type=by_code[code], severity=severity, needs=_check_needs(needs))
            plans += 1
        if created or plans:
            audit.record(actor=SYSTEM, action="emergency.load_types", object_type="emergency.IncidentType",
                         object_id="*", after={"types": created, "plans": plans}, division_code=CITY_CODE)
    return created


def get_type(code: Any, field: str = "incident_type") -> IncidentType:
    """An active incident type by code (``InvalidInput`` naming ``field`` for a malformed or unknown code)."""
    value = str(code or "").strip().upper()
    itype = IncidentType.objects.filter(code=value).first() if value else None
    if itype is None or not itype.active:
        raise InvalidInput("事件分类不存在或已停用", "unknown or inactive incident type", field=field)
    return itype


def type_chain(itype: IncidentType) -> list[IncidentType]:
    """The type and its ancestors, most specific first (11A01, 11A00, 11000, 10000)."""
    chain, seen = [], set()
    node: IncidentType | None = itype
    while node is not None and node.pk not in seen:
        chain.append(node)
        seen.add(node.pk)
        node = node.parent
    return chain


def owning_kind_of(itype: IncidentType) -> str:
    for node in type_chain(itype):
        if node.owning_kind:
            return node.owning_kind
    return DEFAULT_KIND


def response_plan_for(incident_type: IncidentType, severity: int | None) -> ResponsePlan | None:
    """The most specific plan: own code at this level, own code any level, then the parents' the same way
    (one resolver for intake and dispatch: ``recommend.response_plan_for``)."""
    return recommend.response_plan_for(incident_type, severity)


def response_needs(incident_type: IncidentType, severity: int | None) -> dict[str, int]:
    """``{unit type: count}`` of ``response_plan_for`` (empty when no plan applies)."""
    plan = response_plan_for(incident_type, severity)
    return dict(plan.needs) if plan is not None else {}


def create_incident_type(*, acting_user: Any, code: str, name: str, owning_kind: str = "",
                         default_priority: int | None = None) -> IncidentType:
    """Add a local detail or sub-class (its parent must exist), e.g. 12P14 for a locally needed type."""
    access.require(acting_user, "emergency.manage_types", CITY_CODE)
    code = validate_type_code(code)
    name = _text(name, "name", "名称", "name", limit=60)
    if IncidentType.objects.filter(code=code).exists():
        raise Conflict("该事件分类编码已存在", "an incident type with this code exists", field="code")
    parent_value = parent_code(code)
    parent = IncidentType.objects.filter(code=parent_value).first() if parent_value else None
    if parent_value and parent is None:
        raise InvalidInput(f"上级分类 {parent_value} 不存在", f"the parent type {parent_value} does not exist",
                           field="code")
    priority = _check_priority(default_priority if default_priority is not None else
                               (parent.default_priority if parent else 3))
    with transaction.atomic():
        itype = IncidentType.objects.create(code=code, name=name, incident_class=code[1], parent=parent,
                                            owning_kind=_check_kind(owning_kind), default_priority=priority)
        audit.record(actor=acting_user, action="emergency.create_type", object_type="emergency.IncidentType",
                     object_id=code, after=audit.snapshot(itype, _TYPE_FIELDS), division_code=CITY_CODE)
    return itype


def update_incident_type(*, acting_user: Any, code: str, name: str | None = None, owning_kind: str | None = None,
                         default_priority: int | None = None, active: bool | None = None) -> IncidentType:
    """Edit a type's name, leading department kind, default priority or active flag (audited)."""
    access.require(acting_user, "emergency.manage_types", CITY_CODE)
    code = validate_type_code(code)
    itype = IncidentType.objects.filter(code=code).first()
    if itype is None:
        raise NotFound("事件分类不存在", "no such incident type", field="code")
    new_name = itype.name if name is None else _text(name, "name", "名称", "name", limit=60)
    kind = itype.owning_kind if owning_kind is None else _check_kind(owning_kind.strip())
    priority = itype.default_priority if default_priority is None else _check_priority(default_priority)
    with transaction.atomic():
        before = audit.snapshot(itype, _TYPE_FIELDS)
        itype.name, itype.owning_kind, itype.default_priority = new_name, kind, priority
        if active is not None:
            itype.active = bool(active)
        itype.save(update_fields=_TYPE_FIELDS)
        audit.record(actor=acting_user, action="emergency.update_type", object_type="emergency.IncidentType",
                     object_id=code, before=before, after=audit.snapshot(itype, _TYPE_FIELDS),
                     division_code=CITY_CODE)
    return itype


def set_response_plan(*, acting_user: Any, code: str, severity: int | None,
                      needs: dict[str, int]) -> ResponsePlan | None:
    """Set the units a type needs at ``severity`` (None: any level). Empty ``needs`` removes the plan, so
    that the parent's applies again. Returns the plan (None when removed)."""
    access.require(acting_user, "emergency.manage_types", CITY_CODE)
    itype = IncidentType.objects.filter(code=validate_type_code(code)).first()
    if itype is None:
        raise NotFound("事件分类不存在", "no such incident type", field="code")
    if severity is not None and severity not in Severity.values:
        raise InvalidInput("事件级别应为 1–4（Ⅰ–Ⅳ）", "severity must be 1-4 (I-IV)", field="severity")
    clean = _check_needs(needs)
    with transaction.atomic():
        plan = ResponsePlan.objects.select_for_update().filter(incident_type=itype, severity=severity).first()
        before = dict(plan.needs) if plan is not None else None
        if not clean:
            if plan is not None:
                plan.delete()
            plan = None
        elif plan is None:
            plan = ResponsePlan.objects.create(incident_type=itype, severity=severity, needs=clean)
        else:
            plan.needs = clean
            plan.save(update_fields=["needs"])
        audit.record(actor=acting_user, action="emergency.set_plan", object_type="emergency.ResponsePlan",
                     object_id=f"{itype.code}/{severity or '*'}", before={"needs": before},
                     after={"needs": clean or None}, division_code=CITY_CODE)
    return plan


# --- departments and duty leaders ------------------------------------------------------------------------

def owning_department(kind: str, county_code: str) -> Department | None:
    """The county department of ``kind`` in that county, else the city-level one, else the city's emergency
    management bureau (the default lead)."""
    for k in (kind, DEFAULT_KIND):
        dept = (Department.objects.filter(kind=k, level=Level.COUNTY, division_code=county_code, active=True).first()
                or Department.objects.filter(kind=k, level=Level.CITY, active=True).first())
        if dept is not None:
            return dept
    return None


@dataclass(frozen=True)
class DutyLeader:
    username: str
    name: str
    department: str
    scope: str


def duty_leaders(centre_code: str) -> list[DutyLeader]:
    """Active users holding the duty-leader role with a scope covering ``centre_code`` (county and city)."""
    grants = (RoleGrant.objects.filter(role__code=DUTY_LEADER_ROLE, user__is_active=True)
              .select_related("user", "user__department").order_by("scope_division", "user__username"))
    seen: set[int] = set()
    leaders = []
    for g in grants:
        if g.user_id in seen or not in_scope(g.scope_division, centre_code):
            continue
        seen.add(g.user_id)
        dept = g.user.department
        leaders.append(DutyLeader(g.user.username, g.user.real_name or g.user.username,
                                  dept.name if dept else "", g.scope_division))
    return leaders


def _notify_leaders(incident: Incident, actor: Any, now: dt.datetime, reason: str) -> None:
    """Record who was notified of a Ⅰ/Ⅱ/Ⅲ incident (a timeline event and an audit record)."""
    leaders = duty_leaders(incident.centre_code)
    names = "、".join(f"{x.name}（{x.department}）" if x.department else x.name for x in leaders)
    level = Severity(incident.severity).label
    note = (f"{level}事件，已通知值班领导：{names}" if leaders
            else f"{level}事件，未找到本中心的值班领导 / no duty leader found for centre {incident.centre_code}")
    data = {"severity": incident.severity, "reason": reason, "centre": incident.centre_code,
            "leaders": [x.__dict__ for x in leaders]}
    timeline.record_event(incident, "notify", actor=actor, note=note, data=data, at=now)
    audit.record(actor=actor, action="emergency.notify_leaders", object_type="emergency.Incident",
                 object_id=incident.number, after=data, division_code=incident.grid_code)
    if leaders:  # delivered by the worker once the incident is committed (e-mail to those with an address)
        from .tasks import send_duty_leader_notice

        subject = f"[应急联动] {level} {incident.incident_type.name} {incident.number}"
        body = (f"{incident.summary}\n{incident.address or ''}\n{note}\n"
                f"{now.astimezone(timezone.get_default_timezone()):%Y-%m-%d %H:%M}")
        usernames, number = [x.username for x in leaders], incident.number
        transaction.on_commit(lambda: send_duty_leader_notice(number, usernames, subject, body))


def _should_notify(old: int | None, new: int) -> bool:
    return new in NOTIFY_SEVERITIES and (old is None or new < old)


# --- calls and incidents -----------------------------------------------------------------------------------

def normalise_caller_number(value: Any) -> str:
    number = re.sub(r"[\s\-()]", "", str(value or ""))
    if number and not CALLER_RE.match(number):
        raise InvalidInput("来电号码应为 3–20 位数字", "the caller number must be 3-20 digits", field="caller_number")
    return number


def caller_index(number: str) -> str:
    return blind_index("phone", number) if number else ""


def caller_display(call: Call, user: Any) -> str:
    """The caller number in full for holders of ``core.view_personal_data`` in the incident's division,
    masked (138****5678) for everyone else."""
    number = call.caller_number or ""
    if not number:
        return ""
    if access.can_see_personal_data(user, call.incident.grid_code):
        return number
    return mask_phone(number)


def repeat_calls(caller_number: str, *, within_hours: int = 24, now: dt.datetime | None = None) -> QuerySet[Call]:
    """Earlier calls from the same number (blind-index lookup), newest first."""
    number = normalise_caller_number(caller_number)
    if not number:
        return Call.objects.none()
    since = (now or timezone.now()) - dt.timedelta(hours=within_hours)
    return (Call.objects.filter(caller_index=caller_index(number), answered_at__gte=since)
            .select_related("incident").order_by("-answered_at"))


def _float(value: Any, field: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("经纬度应为数字", "longitude/latitude must be numbers", field=field) from exc
    if not math.isfinite(number):
        raise InvalidInput("经纬度应为有限数字", "longitude/latitude must be finite numbers", field=field)
    return number


def _severity(value: Any) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("事件级别应为 1–4（Ⅰ–Ⅳ）", "severity must be 1-4 (I-IV)", field="severity") from exc
    if level not in Severity.values:
        raise InvalidInput("事件级别应为 1–4（Ⅰ–Ⅳ）", "severity must be 1-4 (I-IV)", field="severity")
    return level


def _priority(itype: IncidentType, severity: int) -> int:
    return max(1, min(itype.default_priority, severity))


def _number(county_code: str, at: dt.datetime, pk: int) -> str:
    return f"YJ{county_code}{timezone.localtime(at):%Y%m%d}{pk:06d}"


def _create_incident(*, itype: IncidentType, severity: int, lon: float, lat: float, loc: Location, address: str,
                     summary: str, now: dt.datetime, first_answered_at: dt.datetime | None,
                     centre_code: str | None = None, urban_case_number: str = "", referral_id: str = "") -> Incident:
    """Insert an incident and give it its number (YJ + county + date + serial). Inside a transaction."""
    incident = Incident.objects.create(
        number=f"TMP-{secrets.token_hex(14)}", incident_type=itype, severity=severity,
        priority=_priority(itype, severity), state=S.NEW, summary=summary[:200], address=address[:MAX_ADDRESS],
        lon=lon, lat=lat, grid_code=loc.grid_code, community_code=loc.community_code,
        township_code=loc.township_code, county_code=loc.county_code, centre_code=centre_code or loc.county_code,
        owning_department=owning_department(owning_kind_of(itype), loc.county_code), created_at=now,
        first_answered_at=first_answered_at, urban_case_number=urban_case_number, referral_id=referral_id,
    )
    incident.number = _number(loc.county_code, now, incident.pk)
    incident.save(update_fields=["number"])
    return incident


def _lock(incident: Incident | int) -> Incident:
    pk = incident if isinstance(incident, int) else incident.pk
    return Incident.objects.select_for_update().get(pk=pk)


def _require_open(incident: Incident, field: str = "incident") -> None:
    if incident.state == S.MERGED:
        into = incident.merged_into.number if incident.merged_into_id and incident.merged_into else ""
        raise Conflict(f"事件 {incident.number} 已合并到 {into}", f"incident {incident.number} was merged into {into}",
                       field=field)
    if incident.state not in OPEN_STATES:
        raise Conflict(f"事件 {incident.number} 已结束", f"incident {incident.number} is closed", field=field)


@dataclass(frozen=True)
class IntakeResult:
    call: Call
    incident: Incident
    created: bool  # a new incident (False: attached to an existing one)
    repeat_calls: int  # earlier calls from the same number in the last 24 hours


def take_call(
    *, acting_user: Any, line: str, narrative: str, caller_number: str = "", caller_name: str = "",
    address: str = "", lon: Any = None, lat: Any = None, datum: str = "gcj02", location_source: str = "",
    received_at: dt.datetime | None = None, answered_at: dt.datetime | None = None, incident_type_code: str = "",
    severity: Any = Severity.IV, attach_to: Incident | None = None, summary: str = "",
) -> IntakeResult:
    """Record a call: a new incident at the call's point, or attached to the open incident ``attach_to``.

    The location is a point (map click: GCJ-02; device fix: ``datum="wgs84"``) with an optional address; an
    address alone is refused (no geocoder). Refused, with nothing written: an unknown line, an empty or
    too long narrative, a malformed caller number, times in the future or answered before received, no
    point or a point outside Liaocheng, an unknown incident type (required for a new incident), a closed or
    merged ``attach_to``, no ``emergency.take_calls`` for the grid."""
    if line not in Line.values:
        raise InvalidInput("来电线路不存在", "unknown line", field="line")
    narrative = _text(narrative, "narrative", "报警内容", "narrative", limit=MAX_NARRATIVE)
    number = normalise_caller_number(caller_number)
    caller_name = _text(caller_name, "caller_name", "报警人", "caller name", required=False, limit=50)
    address = _text(address, "address", "地址", "address", required=False, limit=MAX_ADDRESS)
    summary = _text(summary, "summary", "事件摘要", "summary", required=False, limit=200)
    now = timezone.now()
    answered_at = answered_at or now
    received_at = received_at or answered_at
    if answered_at > now + CLOCK_SKEW:
        raise InvalidInput("接听时间不能晚于当前时间", "the answer time cannot be in the future", field="answered_at")
    if received_at > answered_at:
        raise InvalidInput("振铃时间不能晚于接听时间", "the call cannot be answered before it rang",
                           field="received_at")
    level = _severity(severity)
    x, y = _float(lon, "lon"), _float(lat, "lat")
    if x is None or y is None:
        if address:
            raise InvalidInput("仅有地址无法定位：请在地图上点选位置或使用设备定位",
                               "an address alone cannot be located: pick the point on the map or use the device fix",
                               field="lon")
        raise InvalidInput("没有可用的位置：请在地图上点选或使用设备定位",
                           "no usable location: pick the point on the map or use the device fix", field="lon")
    source = location_source or (LocationSource.DEVICE if datum == "wgs84" else LocationSource.MAP)
    if source not in LocationSource.values:
        raise InvalidInput("定位方式应为口述地址、地图选点或设备定位", "location source must be address, map or device",
                           field="location_source")
    point = geo_services.locate(x, y, input_datum=datum)
    itype: IncidentType | None = None
    if incident_type_code or attach_to is None:
        itype = get_type(incident_type_code)
    if attach_to is None:
        access.require(acting_user, "emergency.take_calls", point.location.grid_code)
    else:
        access.require(acting_user, "emergency.take_calls", attach_to.grid_code)
    with transaction.atomic():
        if attach_to is None:
            assert itype is not None
            first_line = narrative.splitlines()[0] if narrative else ""
            incident = _create_incident(itype=itype, severity=level, lon=point.lon, lat=point.lat,
                                        loc=point.location, address=address, summary=summary or first_line[:100],
                                        now=now, first_answered_at=answered_at)
            created = True
            timeline.record_event(incident, "create", actor=acting_user, at=now, data={
                "type": itype.code, "severity": level, "priority": incident.priority, "centre": incident.centre_code,
                "owning_department": incident.owning_department.code if incident.owning_department else ""})
        else:
            incident = _lock(attach_to)
            _require_open(incident, "attach_to")
            created = False
            if incident.first_answered_at is None or answered_at < incident.first_answered_at:
                incident.first_answered_at = answered_at
                incident.save(update_fields=["first_answered_at"])
        call = Call.objects.create(
            incident=incident, line=line, caller_number=number, caller_index=caller_index(number),
            caller_name=caller_name, location_source=source, address=address, lon=point.lon, lat=point.lat,
            narrative=narrative, received_at=received_at, answered_at=answered_at, taker=_user_or_none(acting_user),
            centre_code=incident.centre_code,
        )
        masked = mask_phone(number)
        timeline.record_event(incident, "call", actor=acting_user, note=narrative, at=now, data={
            "call": call.pk, "line": line, "caller": masked, "location_source": source, "lon": point.lon,
            "lat": point.lat, "address": address, "attached": not created,
            "reported_type": itype.code if itype else "", "reported_severity": level})
        audit.record(actor=acting_user, action="emergency.take_call", object_type="emergency.Call", object_id=call.pk,
                     after={"incident": incident.number, "created": created, "line": line, "caller": masked,
                            "grid_code": point.location.grid_code, "type": itype.code if itype else "",
                            "severity": level}, division_code=incident.grid_code)
        if created and _should_notify(None, incident.severity):
            _notify_leaders(incident, acting_user, now, "new")
    repeats = repeat_calls(number, now=now).exclude(pk=call.pk).count() if number else 0
    return IntakeResult(call, incident, created, repeats)


@dataclass(frozen=True)
class Nearby:
    incident: Incident
    distance_m: float


def nearby_open_incidents(lon: Any, lat: Any, *, radius_m: float = NEARBY_RADIUS_M,
                          within_minutes: int = NEARBY_MINUTES, datum: str = "gcj02", acting_user: Any = None,
                          now: dt.datetime | None = None) -> list[Nearby]:
    """Open incidents within ``radius_m`` of the point that were opened or called about in the last
    ``within_minutes`` (candidates to attach a call to), nearest first. With ``acting_user``, only those
    the user may view."""
    x, y = _float(lon, "lon"), _float(lat, "lat")
    if x is None or y is None:
        raise InvalidInput("没有可用的位置", "no usable location", field="lon")
    point = geo_services.locate(x, y, input_datum=datum)
    since = (now or timezone.now()) - dt.timedelta(minutes=within_minutes)
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(math.cos(math.radians(point.lat)), 0.01))
    qs = (Incident.objects.filter(state__in=OPEN_STATES, lat__range=(point.lat - dlat, point.lat + dlat),
                                  lon__range=(point.lon - dlon, point.lon + dlon))
          .annotate(last_call=Max("calls__answered_at"))
          .filter(Q(created_at__gte=since) | Q(last_call__gte=since))
          .select_related("incident_type"))
    if acting_user is not None:
        qs = access.filter_by_scope(qs, acting_user, "emergency.view", "grid_code")
    near = [Nearby(i, distance_m(point.lon, point.lat, i.lon, i.lat)) for i in qs]
    return sorted((n for n in near if n.distance_m <= radius_m), key=lambda n: n.distance_m)


def visible_incidents(*, acting_user: Any) -> QuerySet[Incident]:
    """Incidents in the user's scope (``emergency.view``, by grid code)."""
    return access.filter_by_scope(Incident.objects.select_related("incident_type", "owning_department"),
                                  acting_user, "emergency.view", "grid_code")


def get_incident(*, acting_user: Any, number: str) -> Incident:
    incident = (Incident.objects.select_related("incident_type", "owning_department", "merged_into")
                .filter(number=(number or "").strip()).first())
    if incident is None:
        raise NotFound("事件不存在", "no such incident", field="number")
    access.require(acting_user, "emergency.view", incident.grid_code)
    return incident


def classify_incident(*, acting_user: Any, incident: Incident, incident_type_code: str | None = None,
                      severity: Any = None, note: str = "") -> Incident:
    """Correct an incident's type and/or severity (the priority follows; the owning department follows the
    type when its leading department kind changes). Raising the severity to Ⅰ/Ⅱ/Ⅲ notifies the duty
    leaders."""
    itype = get_type(incident_type_code) if incident_type_code else None
    level = _severity(severity) if severity not in (None, "") else None
    note = _text(note, "note", "说明", "note", required=False)
    if itype is None and level is None:
        raise InvalidInput("请指定新的事件分类或级别", "give a new incident type or severity", field="incident_type")
    with transaction.atomic():
        locked = _lock(incident)
        access.require(acting_user, "emergency.take_calls", locked.grid_code)
        _require_open(locked)
        before = _snapshot(locked)
        old_level, old_type = locked.severity, locked.incident_type.code
        now = timezone.now()
        if itype is not None and itype.pk != locked.incident_type_id:
            old_kind = owning_kind_of(locked.incident_type)
            locked.incident_type = itype
            if owning_kind_of(itype) != old_kind:
                locked.owning_department = owning_department(owning_kind_of(itype), locked.county_code)
        if level is not None:
            locked.severity = level
        locked.priority = _priority(locked.incident_type, locked.severity)
        locked.save()
        after = _snapshot(locked)
        timeline.record_event(locked, "classify", actor=acting_user, note=note, at=now, data={
            "type": locked.incident_type.code, "severity": locked.severity, "priority": locked.priority,
            "from_type": old_type, "from_severity": old_level})
        audit.record(actor=acting_user, action="emergency.classify", object_type="emergency.Incident",
                     object_id=locked.number, before=before, after=after, division_code=locked.grid_code)
        if _should_notify(old_level, locked.severity):
            _notify_leaders(locked, acting_user, now, "raised")
    return locked


def merge_incidents(*, acting_user: Any, incident: Incident, into: Incident, note: str = "") -> Incident:
    """Merge ``incident`` into ``into`` (the survivor): its calls move over with their narratives intact,
    it ends as ``merged``, both timelines record it. The survivor keeps the higher severity and priority.
    Refused while units are still assigned to ``incident`` (release or reassign them first)."""
    note = _text(note, "note", "说明", "note", required=False)
    if incident.pk == into.pk:
        raise InvalidInput("不能合并到事件本身", "an incident cannot be merged into itself", field="into")
    with transaction.atomic():
        first, second = sorted((incident.pk, into.pk))
        locked = {pk: _lock(pk) for pk in (first, second)}
        merged, survivor = locked[incident.pk], locked[into.pk]
        access.require(acting_user, "emergency.take_calls", merged.grid_code)
        access.require(acting_user, "emergency.take_calls", survivor.grid_code)
        _require_open(merged, "incident")
        _require_open(survivor, "into")
        busy = list(Unit.objects.filter(incident=merged).values_list("call_sign", flat=True))
        if busy:
            raise Conflict(f"事件仍有在派力量（{'、'.join(busy)}），请先调回或改派",
                           f"units are still assigned ({', '.join(busy)}): release or reassign them first",
                           field="incident")
        before = {"merged": _snapshot(merged), "survivor": _snapshot(survivor)}
        now = timezone.now()
        call_ids = list(Call.objects.filter(incident=merged).values_list("pk", flat=True))
        Call.objects.filter(pk__in=call_ids).update(incident=survivor)
        Incident.objects.filter(merged_into=merged).update(merged_into=survivor)
        old_level = survivor.severity
        survivor.severity = min(survivor.severity, merged.severity)
        survivor.priority = min(survivor.priority, merged.priority)
        answered = [t for t in (survivor.first_answered_at, merged.first_answered_at) if t is not None]
        survivor.first_answered_at = min(answered) if answered else None
        survivor.save()
        merged.state, merged.merged_into = S.MERGED, survivor
        merged.save()
        timeline.record_event(merged, "merged", actor=acting_user, note=note, at=now,
                              data={"into": survivor.number, "calls": call_ids})
        timeline.record_event(survivor, "merge_in", actor=acting_user, note=note, at=now,
                              data={"from": merged.number, "calls": call_ids})
        audit.record(actor=acting_user, action="emergency.merge", object_type="emergency.Incident",
                     object_id=merged.number, before=before,
                     after={"merged": _snapshot(merged), "survivor": _snapshot(survivor), "calls": call_ids},
                     division_code=merged.grid_code)
        if _should_notify(old_level, survivor.severity):
            _notify_leaders(survivor, acting_user, now, "merge")
    return survivor


def split_incident(*, acting_user: Any, incident: Incident, call_ids: Iterable[int], incident_type_code: str = "",
                   severity: Any = None, summary: str = "", note: str = "") -> Incident:
    """Move the chosen calls to a new incident (at the first moved call's point; type and severity default to
    the original's), linked as a child of the original. At least one call stays behind."""
    ids = sorted({int(i) for i in call_ids})
    note = _text(note, "note", "说明", "note", required=False)
    summary = _text(summary, "summary", "事件摘要", "summary", required=False, limit=200)
    itype = get_type(incident_type_code) if incident_type_code else None
    level = _severity(severity) if severity not in (None, "") else None
    if not ids:
        raise InvalidInput("请选择要拆分出去的来电", "choose the calls to split off", field="calls")
    with transaction.atomic():
        original = _lock(incident)
        access.require(acting_user, "emergency.take_calls", original.grid_code)
        _require_open(original)
        calls = list(Call.objects.filter(incident=original).order_by("answered_at", "pk"))
        chosen = [c for c in calls if c.pk in ids]
        if len(chosen) != len(ids):
            raise InvalidInput("所选来电不属于该事件", "a chosen call does not belong to this incident", field="calls")
        if len(chosen) == len(calls):
            raise InvalidInput("至少保留一个来电在原事件", "at least one call must stay with the incident",
                               field="calls")
        first = chosen[0]
        point = geo_services.locate(first.lon, first.lat)
        access.require(acting_user, "emergency.take_calls", point.location.grid_code)
        now = timezone.now()
        child = _create_incident(
            itype=itype or original.incident_type, severity=level or original.severity, lon=point.lon,
            lat=point.lat, loc=point.location, address=first.address,
            summary=summary or first.narrative.splitlines()[0][:100], now=now,
            first_answered_at=min(c.answered_at for c in chosen), centre_code=original.centre_code,
        )
        Call.objects.filter(pk__in=ids).update(incident=child)
        remaining = [c.answered_at for c in calls if c.pk not in ids]
        original.first_answered_at = min(remaining)
        original.save(update_fields=["first_answered_at"])
        IncidentLink.objects.create(source=original, target=child, kind=LinkKind.PARENT, created_at=now)
        timeline.record_event(original, "split", actor=acting_user, note=note, at=now,
                              data={"to": child.number, "calls": ids})
        timeline.record_event(child, "split_from", actor=acting_user, note=note, at=now,
                              data={"from": original.number, "calls": ids, "type": child.incident_type.code,
                                    "severity": child.severity})
        audit.record(actor=acting_user, action="emergency.split", object_type="emergency.Incident",
                     object_id=original.number, after={"child": _snapshot(child), "calls": ids},
                     division_code=original.grid_code)
        if _should_notify(None, child.severity):
            _notify_leaders(child, acting_user, now, "split")
    return child


_INVERSE = {LinkKind.PARENT: LinkKind.CHILD, LinkKind.CHILD: LinkKind.PARENT, LinkKind.RELATED: LinkKind.RELATED}


def link_incidents(*, acting_user: Any, incident: Incident, other: Incident, kind: str, note: str = "") -> IncidentLink:
    """Record that ``incident`` is ``kind`` (parent/child/related) of ``other``; readable from both sides
    (``links_of``). One link per pair."""
    if kind not in LinkKind.values:
        raise InvalidInput("关系应为父事件、子事件或相关事件", "kind must be parent, child or related", field="kind")
    if incident.pk == other.pk:
        raise InvalidInput("不能关联事件本身", "an incident cannot be linked to itself", field="other")
    note = _text(note, "note", "说明", "note", required=False)
    access.require(acting_user, "emergency.take_calls", incident.grid_code)
    access.require(acting_user, "emergency.take_calls", other.grid_code)
    with transaction.atomic():
        a, b = _lock(min(incident.pk, other.pk)), _lock(max(incident.pk, other.pk))
        source, target = (a, b) if a.pk == incident.pk else (b, a)
        if IncidentLink.objects.filter(Q(source=source, target=target) | Q(source=target, target=source)).exists():
            raise Conflict("两个事件已关联", "the incidents are already linked", field="other")
        now = timezone.now()
        link = IncidentLink.objects.create(source=source, target=target, kind=kind, created_at=now)
        timeline.record_event(source, "link", actor=acting_user, note=note, at=now,
                              data={"other": target.number, "kind": kind})
        timeline.record_event(target, "link", actor=acting_user, note=note, at=now,
                              data={"other": source.number, "kind": _INVERSE[LinkKind(kind)].value})
        audit.record(actor=acting_user, action="emergency.link", object_type="emergency.Incident",
                     object_id=source.number, after={"other": target.number, "kind": kind},
                     division_code=source.grid_code)
    return link


def unlink_incidents(*, acting_user: Any, incident: Incident, other: Incident, note: str = "") -> None:
    access.require(acting_user, "emergency.take_calls", incident.grid_code)
    access.require(acting_user, "emergency.take_calls", other.grid_code)
    note = _text(note, "note", "说明", "note", required=False)
    with transaction.atomic():
        link = (IncidentLink.objects.select_for_update()
                .filter(Q(source=incident, target=other) | Q(source=other, target=incident)).first())
        if link is None:
            raise NotFound("两个事件之间没有关联", "the incidents are not linked", field="other")
        kind = link.kind
        link.delete()
        now = timezone.now()
        for mine, theirs in ((incident, other), (other, incident)):
            timeline.record_event(mine, "unlink", actor=acting_user, note=note, at=now, data={"other": theirs.number})
        audit.record(actor=acting_user, action="emergency.unlink", object_type="emergency.Incident",
                     object_id=incident.number, before={"other": other.number, "kind": kind},
                     division_code=incident.grid_code)


@dataclass(frozen=True)
class LinkView:
    other: Incident
    kind: str  # what ``other`` is to the incident asked about: parent / child / related


def links_of(incident: Incident) -> list[LinkView]:
    """The incident's links read from its side: ``other`` is ``kind`` of this incident."""
    result = []
    for link in incident.links_out.select_related("target", "target__incident_type"):
        # source is kind of target ⇒ target is the inverse of kind of source
        result.append(LinkView(link.target, _INVERSE[LinkKind(link.kind)].value))
    for link in incident.links_in.select_related("source", "source__incident_type"):
        result.append(LinkView(link.source, link.kind))
    return sorted(result, key=lambda v: v.other.created_at)


def set_incident_state(*, acting_user: Any, incident: Incident, state: str, disposition: str = "",
                       note: str = "") -> Incident:
    """Move an incident to under control or closed (closing needs a disposition and no unit still assigned).
    Dispatched and on scene are set by ``dispatch.py`` when units are assigned and arrive."""
    note = _text(note, "note", "说明", "note", required=False)
    disposition = _text(disposition, "disposition", "处置结果", "disposition", required=state == S.CLOSED, limit=200)
    with transaction.atomic():
        locked = _lock(incident)
        access.require(acting_user, "emergency.dispatch", locked.grid_code)
        allowed = STATE_RULES.get(state)
        if allowed is None or locked.state not in allowed:
            raise Conflict(f"事件当前状态（{locked.get_state_display()}）不能改为该状态（{state}）",
                           f"an incident in state '{locked.state}' cannot move to '{state}'", field="state")
        if state == S.CLOSED:
            busy = list(Unit.objects.filter(incident=locked).values_list("call_sign", flat=True))
            if busy:
                raise Conflict(f"仍有力量在派（{'、'.join(busy)}），不能结束事件",
                               f"units are still assigned ({', '.join(busy)}): the incident cannot be closed",
                               field="state")
        before = _snapshot(locked)
        from_state = locked.state
        now = timezone.now()
        locked.state = state
        if state == S.UNDER_CONTROL:
            locked.controlled_at = now
        else:
            locked.closed_at = now
            locked.disposition = disposition
            if locked.controlled_at is None:
                locked.controlled_at = now
        locked.save()
        timeline.record_event(locked, "state", actor=acting_user, note=note, at=now,
                              data={"from": from_state, "to": state, "disposition": disposition})
        audit.record(actor=acting_user, action=f"emergency.{state}", object_type="emergency.Incident",
                     object_id=locked.number, before=before, after={**_snapshot(locked), "note": note},
                     division_code=locked.grid_code)
    return locked


_NOTE_PERMS = ("emergency.take_calls", "emergency.dispatch", "emergency.update_units", "emergency.transfer")


def add_note(*, acting_user: Any, incident: Incident, text: str, message: bool = False) -> Any:
    """A note (or a message passed to/from the field, ``message=True``) on the timeline."""
    text = _text(text, "text", "内容", "text")
    if not any(access.has_perm(acting_user, p, incident.grid_code) for p in _NOTE_PERMS):
        raise PermissionDenied(f"无权在该事件记录说明（区划 {incident.grid_code}） / not allowed to add notes to this"
                               f" incident in {incident.grid_code}")
    action = "message" if message else "note"
    with transaction.atomic():
        event = timeline.record_event(incident, action, actor=acting_user, note=text)
        audit.record(actor=acting_user, action=f"emergency.{action}", object_type="emergency.Incident",
                     object_id=incident.number, after={"event": event.pk, "length": len(text)},
                     division_code=incident.grid_code)
    return event


def set_assisting_departments(*, acting_user: Any, incident: Incident,
                              departments: Iterable[Department | str]) -> Incident:
    """Replace the assisting agencies (departments by instance or code; active, not the owning one)."""
    wanted: list[Department] = []
    for item in departments:
        dept = item if isinstance(item, Department) else Department.objects.filter(code=str(item).strip()).first()
        if dept is None or not dept.active:
            raise InvalidInput(f"部门不存在或已停用：{item}", f"unknown or inactive department: {item}",
                               field="departments")
        if dept not in wanted:
            wanted.append(dept)
    if len(wanted) > 30:
        raise InvalidInput("协办部门不能超过 30 个", "at most 30 assisting departments", field="departments")
    with transaction.atomic():
        locked = _lock(incident)
        access.require(acting_user, "emergency.dispatch", locked.grid_code)
        _require_open(locked)
        if any(d.pk == locked.owning_department_id for d in wanted):
            raise InvalidInput("牵头部门不能同时作为协办部门", "the owning department cannot also assist",
                               field="departments")
        before = sorted(locked.assisting_departments.values_list("code", flat=True))
        locked.assisting_departments.set(wanted)
        after = sorted(d.code for d in wanted)
        timeline.record_event(locked, "assist", actor=acting_user,
                              note="、".join(d.name for d in wanted), data={"before": before, "after": after})
        audit.record(actor=acting_user, action="emergency.assist", object_type="emergency.Incident",
                     object_id=locked.number, before={"assisting": before}, after={"assisting": after},
                     division_code=locked.grid_code)
    return locked


# --- transfers: 12345 ↔ 110 work orders, county ↔ city centres ------------------------------------------------

def _centre_label(code: str) -> str:
    return "市级中心" if code == CITY_CODE else f"{code} 中心"


def transfer_incident(*, acting_user: Any, incident: Incident, reason: str, to_line: str = "", from_line: str = "",
                      to_centre: str = "") -> Transfer:
    """Send a work order to another line (``to_line``, e.g. 12345 → 110, one key) or the incident to another
    centre (``to_centre``: the city 371500 from a county, or the incident's county from the city). The
    receiver accepts (a centre transfer then moves the incident) or refuses (the sender keeps it), and
    returns the result, which flows back onto the incident's timeline."""
    reason = _text(reason, "reason", "转办说明", "reason")
    to_line, from_line, to_centre = (to_line or "").strip(), (from_line or "").strip(), (to_centre or "").strip()
    if bool(to_line) == bool(to_centre):
        raise InvalidInput("请指定转入线路或转入中心（二选一）", "give either the line or the centre to transfer to",
                           field="to_line")
    with transaction.atomic():
        locked = _lock(incident)
        access.require(acting_user, "emergency.transfer", locked.grid_code)
        _require_open(locked)
        if to_line:
            if to_line not in LINE_KINDS:
                raise InvalidInput("转入线路应为 110、119、120、122 或 12345", "the line must be 110, 119, 120, 122 or"
                                   " 12345", field="to_line")
            if not from_line:
                first = locked.calls.order_by("answered_at", "pk").first()
                from_line = first.line if first is not None else ""
            if from_line == to_line:
                raise InvalidInput("转入线路与转出线路相同", "the line transferred to is the line transferring",
                                   field="to_line")
            if from_line and from_line not in Line.values:
                raise InvalidInput("转出线路不存在", "unknown line", field="from_line")
            to_centre = locked.centre_code
        else:
            if to_centre == locked.centre_code:
                raise InvalidInput("事件已在该中心", "the incident is already with this centre", field="to_centre")
            if to_centre not in (CITY_CODE, locked.county_code):
                raise InvalidInput("只能在事件所在县（市、区）中心与市级中心之间移交",
                                   "transfers go between the incident's county centre and the city centre",
                                   field="to_centre")
        if locked.transfers.filter(status__in=(TransferStatus.SENT, TransferStatus.ACCEPTED)).exists():
            raise Conflict("该事件已有未办结的转办工单", "the incident already has an open transfer", field="to_line")
        now = timezone.now()
        transfer = Transfer.objects.create(incident=locked, from_line=from_line, to_line=to_line,
                                           from_centre=locked.centre_code, to_centre=to_centre, reason=reason,
                                           status=TransferStatus.SENT, sent_at=now, sent_by=_user_or_none(acting_user))
        data = {"transfer": transfer.pk, "from_line": from_line, "to_line": to_line,
                "from_centre": transfer.from_centre, "to_centre": to_centre}
        timeline.record_event(locked, "transfer", actor=acting_user, note=reason, at=now, data=data)
        audit.record(actor=acting_user, action="emergency.transfer", object_type="emergency.Transfer",
                     object_id=transfer.pk, after={**data, "incident": locked.number}, division_code=locked.grid_code)
    return transfer


def can_receive_transfer(user: Any, transfer: Transfer) -> bool:
    """Whether ``user`` is on the receiving end: ``emergency.transfer`` for the receiving centre (centre
    transfers) or for the incident's grid and a department working the receiving line (line transfers)."""
    incident = transfer.incident
    if transfer.to_line:
        if not access.has_perm(user, "emergency.transfer", incident.grid_code):
            return False
        if getattr(user, "is_superuser", False):
            return True
        dept = getattr(user, "department", None)
        return dept is not None and dept.kind == LINE_KINDS.get(transfer.to_line)
    return (access.has_perm(user, "emergency.transfer", transfer.to_centre)
            and access.has_perm(user, "emergency.transfer", incident.grid_code))


def _receiving(user: Any, transfer_pk: int, status: str) -> tuple[Transfer, Incident]:
    transfer = Transfer.objects.select_for_update().filter(pk=transfer_pk).first()
    if transfer is None:
        raise NotFound("转办工单不存在", "no such transfer", field="transfer")
    incident = _lock(transfer.incident_id)
    transfer.incident = incident
    if not can_receive_transfer(user, transfer):
        where = f"线路 {transfer.to_line}" if transfer.to_line else _centre_label(transfer.to_centre)
        raise PermissionDenied(f"只有接收方（{where}）可以办理该转办工单 / only the receiving side may act on this"
                               " transfer")
    if transfer.status != status:
        raise Conflict(f"转办工单当前状态（{transfer.get_status_display()}）不允许该操作",
                       f"the transfer is '{transfer.status}': not allowed", field="transfer")
    return transfer, incident


def accept_transfer(*, acting_user: Any, transfer: Transfer, note: str = "") -> Transfer:
    """The receiving line or centre takes the work order: a centre transfer moves the incident to the new
    centre; a line transfer makes the accepting user's department the owning agency."""
    note = _text(note, "note", "说明", "note", required=False)
    with transaction.atomic():
        locked, incident = _receiving(acting_user, transfer.pk, TransferStatus.SENT)
        before = _snapshot(incident)
        now = timezone.now()
        locked.status = TransferStatus.ACCEPTED
        locked.save(update_fields=["status"])
        if locked.to_line:
            dept = getattr(acting_user, "department", None)
            if dept is not None and dept.pk != incident.owning_department_id:
                incident.owning_department = dept
                incident.assisting_departments.remove(dept)
                incident.save(update_fields=["owning_department"])
        else:
            incident.centre_code = locked.to_centre
            incident.save(update_fields=["centre_code"])
        timeline.record_event(incident, "transfer_accept", actor=acting_user, note=note, at=now,
                              data={"transfer": locked.pk, "to_line": locked.to_line, "to_centre": locked.to_centre})
        audit.record(actor=acting_user, action="emergency.transfer_accept", object_type="emergency.Transfer",
                     object_id=locked.pk, before=before, after=_snapshot(incident), division_code=incident.grid_code)
    return locked


def refuse_transfer(*, acting_user: Any, transfer: Transfer, reason: str) -> Transfer:
    """The receiving side declines (responsibility unclear and not resolved): the line or centre that had
    the incident first keeps it (12345 ↔ 110 rule)."""
    reason = _text(reason, "reason", "退回理由", "reason")
    with transaction.atomic():
        locked, incident = _receiving(acting_user, transfer.pk, TransferStatus.SENT)
        now = timezone.now()
        locked.status, locked.result, locked.answered_at = TransferStatus.REFUSED, reason, now
        locked.save(update_fields=["status", "result", "answered_at"])
        timeline.record_event(incident, "transfer_refuse", actor=acting_user, note=reason, at=now,
                              data={"transfer": locked.pk, "kept_by": locked.from_line or locked.from_centre})
        audit.record(actor=acting_user, action="emergency.transfer_refuse", object_type="emergency.Transfer",
                     object_id=locked.pk, after={"incident": incident.number, "reason": reason},
                     division_code=incident.grid_code)
    return locked


def return_transfer_result(*, acting_user: Any, transfer: Transfer, result: str) -> Transfer:
    """The receiving side reports the result; it flows back to the originating line or centre (the
    transfer row and the incident's timeline)."""
    result = _text(result, "result", "办理结果", "result")
    with transaction.atomic():
        locked, incident = _receiving(acting_user, transfer.pk, TransferStatus.ACCEPTED)
        now = timezone.now()
        locked.status, locked.result, locked.answered_at = TransferStatus.RETURNED, result, now
        locked.save(update_fields=["status", "result", "answered_at"])
        timeline.record_event(incident, "transfer_result", actor=acting_user, note=result, at=now,
                              data={"transfer": locked.pk, "to": locked.from_line or locked.from_centre})
        audit.record(actor=acting_user, action="emergency.transfer_result", object_type="emergency.Transfer",
                     object_id=locked.pk, after={"incident": incident.number, "result": result},
                     division_code=incident.grid_code)
    return locked
