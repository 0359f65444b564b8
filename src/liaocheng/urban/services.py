"""The one write path for urban-management cases: classes, intake, the case cycle, escalation.

Every state change of a case goes through ``transition(case, action, acting_user=..., **data)``, which
looks the (state, action) pair up in ``TRANSITIONS``, checks the permission for the case's grid
(division-scoped, ``core.access``), applies the change, writes one ``CaseEvent`` and one audit record,
all in one transaction. Deadlines are working time (``core.calendar``); the clock starts at dispatch.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from django.core.exceptions import PermissionDenied
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from liaocheng.core import access, audit
from liaocheng.core.calendar import WorkingCalendar, get_calendar
from liaocheng.core.crypto import sm3_hex
from liaocheng.core.departments import KINDS
from liaocheng.core.errors import Conflict, InvalidInput, NotFound
from liaocheng.core.models import Department, Level
from liaocheng.core.permissions import CITY_CODE
from liaocheng.geo import services as geo_services
from liaocheng.geo.datum import distance_m
from liaocheng.geo.models import Grid

from . import classes_data, handoff
from .models import (
    KIND_PREFIX,
    Case,
    CaseEvent,
    CasePhoto,
    CaseRequest,
    CaseState,
    Channel,
    ClassKind,
    DeadlineUnit,
    EmergencyHandoff,
    MajorClass,
    MinorClass,
    Open311Client,
    Open311Request,
    PhotoKind,
    RequestKind,
    RequestStatus,
    Supervision,
)

SYSTEM = "system"
MAX_DESCRIPTION = 4000
DUPLICATE_RADIUS_M = 50.0
WARN_FRACTION = 0.8  # warn when 80 % of the working time allowed has passed
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
OPEN_STATES = (CaseState.REPORTED, CaseState.FILED, CaseState.DISPATCHED, CaseState.HANDLING, CaseState.HANDLED,
               CaseState.VERIFIED, CaseState.DEFERRED)
CLOCK_STATES = (CaseState.DISPATCHED, CaseState.HANDLING)  # the handling clock runs
# Cases shown to the public (Open311 GET, public pages, feeds): reports from grid supervisors and from the
# public. Hotline (12345) and leaders' cases stay internal: their text is typed from a call or an
# instruction and may name the caller or hold internal matters (ADR 0007).
PUBLIC_CHANNELS = (Channel.SUPERVISOR, Channel.PUBLIC)


class InvalidTransition(Conflict):
    code = "invalid_transition"


# --- classes ---------------------------------------------------------------------------------------

def load_classes() -> int:
    """Create the shipped major and minor classes that do not exist yet (idempotent; never overwrites
    edited deadlines or departments). Returns the number of minor classes created."""
    created = 0
    with transaction.atomic():
        for kind, majors in classes_data.MAJORS.items():
            for code, name in majors:
                MajorClass.objects.get_or_create(kind=kind, code=code, defaults={"name": name})
        for kind, minors in classes_data.MINORS.items():
            majors_by_code = {m.code: m for m in MajorClass.objects.filter(kind=kind)}
            for code, name, dept, value, unit, filing, closing in minors:
                _, was_created = MinorClass.objects.get_or_create(
                    full_code=KIND_PREFIX[ClassKind(kind)] + code,
                    defaults={"major": majors_by_code[code[:2]], "kind": kind, "code": code, "name": name,
                              "department_kind": dept, "deadline_value": value, "deadline_unit": unit,
                              "filing_condition": filing, "closing_condition": closing},
                )
                created += was_created
        if created:
            audit.record(actor=SYSTEM, action="urban.load_classes", object_type="urban.MinorClass",
                         object_id="*", after={"created": created}, division_code=CITY_CODE)
    return created


def _get_class(full_code: str, field: str = "class_code") -> MinorClass:
    minor = MinorClass.objects.filter(full_code=(full_code or "").strip().upper()).first()
    if minor is None or not minor.active:
        error = InvalidInput if field == "class_code" else NotFound  # bad input at intake, a missing row otherwise
        raise error("部件事件小类不存在", "unknown component/event class", field=field)
    return minor


def _check_deadline(value: int, unit: str, field: str = "deadline_value") -> None:
    if unit not in DeadlineUnit.values:
        raise InvalidInput("时限单位应为工作小时或工作日", "unit must be hours or days", field=field.replace(
            "value", "unit"))
    limit = 2000 if unit == DeadlineUnit.HOURS else 250
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= limit:
        raise InvalidInput("时限应为正整数且不超过合理范围", "the time limit must be a positive whole number in range",
                           field=field)


_CLASS_FIELDS = ["department_kind", "deadline_value", "deadline_unit"]


def update_minor_class(
    *, acting_user: Any, full_code: str, deadline_value: int | None = None, deadline_unit: str | None = None,
    department_kind: str | None = None,
) -> MinorClass:
    """Edit a minor class's handling deadline or responsible department kind (audited)."""
    access.require(acting_user, "urban.manage_classes", CITY_CODE)
    minor = _get_class(full_code, "full_code")
    value = minor.deadline_value if deadline_value is None else deadline_value
    unit = minor.deadline_unit if deadline_unit is None else deadline_unit
    _check_deadline(value, unit)
    kind = minor.department_kind if department_kind is None else department_kind
    if kind not in KINDS:
        raise InvalidInput("责任部门类别不存在", "unknown department kind", field="department_kind")
    with transaction.atomic():
        before = audit.snapshot(minor, _CLASS_FIELDS)
        minor.deadline_value, minor.deadline_unit, minor.department_kind = value, unit, kind
        minor.save(update_fields=_CLASS_FIELDS)
        audit.record(actor=acting_user, action="urban.update_class", object_type="urban.MinorClass",
                     object_id=minor.full_code, before=before, after=audit.snapshot(minor, _CLASS_FIELDS),
                     division_code=CITY_CODE)
    return minor


def responsible_department(minor: MinorClass, county_code: str) -> Department:
    """The county department of the class's kind in that county, else the city-level one."""
    dept = (Department.objects.filter(kind=minor.department_kind, level=Level.COUNTY, division_code=county_code,
                                      active=True).first()
            or Department.objects.filter(kind=minor.department_kind, level=Level.CITY, active=True).first())
    if dept is None:
        raise NotFound("未找到责任部门", "no responsible department for this class", field="class_code")
    return dept


# --- working time ----------------------------------------------------------------------------------

def _add(cal: WorkingCalendar, start: dt.datetime, value: int, unit: str) -> dt.datetime:
    if unit == DeadlineUnit.HOURS:
        return cal.add_working_hours(start, value)
    return cal.deadline_after_days(start, value)


def _start_clock(case: Case, start: dt.datetime, cal: WorkingCalendar) -> None:
    minor = case.minor_class
    case.due_at = _add(cal, start, minor.deadline_value, minor.deadline_unit)
    case.warn_at = cal.add_working_hours(start, WARN_FRACTION * cal.working_hours_between(start, case.due_at))
    case.warned_at = None


# --- photos ----------------------------------------------------------------------------------------

def _check_photo(photo: Any, field: str = "photos") -> str:
    """The MIME type of an accepted photo: at most 10 MB, JPEG/PNG/WebP by content (magic bytes)."""
    size = getattr(photo, "size", None)
    if size is None or size > MAX_PHOTO_BYTES:
        raise InvalidInput("照片不能超过 10 MB", "a photo may be at most 10 MB", field=field)
    try:
        photo.seek(0)
        with Image.open(photo) as img:
            fmt = img.format or ""
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput("照片应为 JPEG、PNG 或 WebP 图像", "a photo must be a JPEG, PNG or WebP image",
                           field=field) from exc
    finally:
        photo.seek(0)
    if fmt not in PHOTO_FORMATS:
        raise InvalidInput("照片应为 JPEG、PNG 或 WebP 图像", "a photo must be a JPEG, PNG or WebP image", field=field)
    return PHOTO_FORMATS[fmt]


def _checked_photos(photos: Iterable[Any] | None) -> list[tuple[Any, str]]:
    items = list(photos or [])
    if len(items) > 9:
        raise InvalidInput("每次最多上传 9 张照片", "at most 9 photos at a time", field="photos")
    return [(p, _check_photo(p)) for p in items]


def _save_photos(case: Case, event: CaseEvent, kind: str, photos: list[tuple[Any, str]], user: Any,
                 now: dt.datetime) -> None:
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
    for i, (photo, content_type) in enumerate(photos, 1):
        row = CasePhoto(case=case, event=event, kind=kind, content_type=content_type, size=photo.size,
                        uploaded_by=_user_or_none(user), uploaded_at=now)
        row.image.save(f"case{case.pk}-{event.pk}-{i}.{ext[content_type]}", File(photo), save=False)
        row.save()


# --- intake ----------------------------------------------------------------------------------------

def _user_or_none(user: Any) -> Any:
    return user if getattr(user, "pk", None) is not None else None


def _actor_label(user: Any) -> str:
    return user.get_username() if getattr(user, "pk", None) is not None else str(user or SYSTEM)


_CASE_FIELDS = ["state", "department_id", "due_at", "warn_at", "overdue", "rework_count", "merged_into_id"]


def _case_snapshot(case: Case) -> dict[str, Any]:
    return audit.snapshot(case, _CASE_FIELDS)


def find_duplicates(case: Case, radius_m: float = DUPLICATE_RADIUS_M) -> list[Case]:
    """Open cases of the same minor class within ``radius_m`` of ``case`` (nearest first)."""
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(math.cos(math.radians(case.lat)), 0.01))
    candidates = (Case.objects.filter(minor_class_id=case.minor_class_id, state__in=OPEN_STATES,
                                      lat__range=(case.lat - dlat, case.lat + dlat),
                                      lon__range=(case.lon - dlon, case.lon + dlon))
                  .exclude(pk=case.pk).select_related("minor_class"))
    near = [(distance_m(case.lon, case.lat, c.lon, c.lat), c) for c in candidates]
    return [c for d, c in sorted(near, key=lambda x: x[0]) if d <= radius_m]


@dataclass(frozen=True)
class ReportResult:
    case: Case
    duplicates: list[Case]  # open cases of the same class within 50 m: offer ``merge_duplicate``


def report_case(
    *, acting_user: Any, channel: str, class_code: str, lon: float | None = None, lat: float | None = None,
    datum: str = "gcj02", description: str, address: str = "", photos: Iterable[Any] | None = None,
    reporter: Any = None, component_code: str = "",
) -> ReportResult:
    """Take in a report: locate its grid, find the responsible department, offer duplicates.

    ``reporter`` (optional): the account the report is made for when ``acting_user`` is a gateway principal
    (``PublicReporter`` of the citizens' web form, ``urban.public``); it becomes ``reported_by``
    (default: ``acting_user``). Permission is still checked for ``acting_user``.

    ``component_code`` (optional): the census component (部件) reported on; its class becomes the case's class
    (a class given must agree) and its point the case's point unless lon/lat are given."""
    if channel not in Channel.values:
        raise InvalidInput("来源应为监督员、公众、热线或领导批示",
                           "channel must be supervisor, public, hotline or leader", field="channel")
    description = (description or "").strip()
    if not description:
        raise InvalidInput("问题描述不能为空", "description is required", field="description")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"问题描述不能超过 {MAX_DESCRIPTION} 字", f"description may be at most {MAX_DESCRIPTION}"
                           " characters", field="description")
    address = (address or "").strip()
    if len(address) > 200:
        raise InvalidInput("地址不能超过 200 字", "address may be at most 200 characters", field="address")
    component = None
    if (component_code or "").strip():
        from .components import for_report  # components imports this module

        component, class_code, lon, lat, datum = for_report(component_code, class_code, lon, lat, datum)
    if lon is None or lat is None:
        raise InvalidInput("请先确定位置（定位或在地图上点选）", "the location is required", field="lon")
    minor = _get_class(class_code)
    point = geo_services.locate(lon, lat, input_datum=datum)
    loc = point.location
    access.require(acting_user, "urban.report", loc.grid_code)
    department = responsible_department(minor, loc.county_code)
    checked = _checked_photos(photos)
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.create(
            minor_class=minor, channel=channel, description=description, address=address, lon=point.lon,
            lat=point.lat, grid_code=loc.grid_code, community_code=loc.community_code,
            township_code=loc.township_code, county_code=loc.county_code, department=department,
            reported_by=_user_or_none(acting_user if reporter is None else reporter), reported_at=now,
            component=component,
        )
        case.number = f"CG{loc.county_code}{now.astimezone(timezone.get_default_timezone()):%Y%m%d}{case.pk:06d}"
        case.save(update_fields=["number"])
        event = CaseEvent.objects.create(case=case, at=now, actor=_user_or_none(acting_user),
                                         actor_label=_actor_label(acting_user), action="report", from_state="",
                                         to_state=case.state, data={"channel": channel})
        _save_photos(case, event, PhotoKind.BEFORE, checked, acting_user, now)
        audit.record(actor=acting_user, action="urban.report", object_type="urban.Case", object_id=case.pk,
                     after={**_case_snapshot(case), "number": case.number, "class": minor.full_code,
                            "channel": channel, "grid_code": case.grid_code,
                            **({"component": component.code} if component else {})},
                     division_code=case.grid_code)
    return ReportResult(case, find_duplicates(case))


def merge_duplicate(*, acting_user: Any, case: Case, into: Case, note: str = "") -> Case:
    """Attach a new report to the existing open case it duplicates (the report ends as ``merged``)."""
    return transition(case, "merge", acting_user=acting_user, into=into, note=note)


# --- the case cycle --------------------------------------------------------------------------------

S = CaseState
SAME = ""  # the action leaves the state unchanged (requests, extension approval)
_EXCEPTION_STATES = (S.DISPATCHED, S.HANDLING)
_VOIDABLE_STATES = (S.REPORTED, S.FILED, S.DISPATCHED, S.HANDLING)

# (state, action) -> (new state, permission). Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    (S.REPORTED, "file"): (S.FILED, "urban.file"),
    (S.REPORTED, "not_file"): (S.NOT_FILED, "urban.file"),
    (S.REPORTED, "merge"): (S.MERGED, "urban.file"),
    (S.FILED, "dispatch"): (S.DISPATCHED, "urban.dispatch"),
    (S.DISPATCHED, "accept"): (S.HANDLING, "urban.handle"),
    (S.HANDLING, "handle"): (S.HANDLED, "urban.handle"),
    (S.HANDLED, "verify"): (S.VERIFIED, "urban.verify"),
    (S.HANDLED, "rework"): (S.HANDLING, "urban.verify"),
    (S.VERIFIED, "close"): (S.CLOSED, "urban.close"),
    (S.DEFERRED, "resume"): (S.HANDLING, "urban.approve"),
    **{(s, f"request_{k}"): (SAME, "urban.handle") for s in _EXCEPTION_STATES
       for k in ("return", "extension", "deferral")},
    **{(s, "approve_return"): (S.FILED, "urban.approve") for s in _EXCEPTION_STATES},
    **{(s, "approve_extension"): (SAME, "urban.approve") for s in _EXCEPTION_STATES},
    **{(s, "approve_deferral"): (S.DEFERRED, "urban.approve") for s in _EXCEPTION_STATES},
    **{(s, "request_void"): (SAME, "urban.file") for s in _VOIDABLE_STATES},
    **{(s, "approve_void"): (S.VOIDED, "urban.approve") for s in _VOIDABLE_STATES},
    **{(s, "reject_request"): (SAME, "urban.approve") for s in _VOIDABLE_STATES},
    # an emergency (road collapse with injuries, gas smell) goes to the emergency module; the case
    # itself stays in the cycle (the road still needs repair), see ``handoff``
    **{(s, "hand_to_emergency"): (SAME, "urban.file") for s in _VOIDABLE_STATES},
}

_REQUEST_ACTIONS = {"request_return": RequestKind.RETURN, "request_extension": RequestKind.EXTENSION,
                    "request_deferral": RequestKind.DEFERRAL, "request_void": RequestKind.VOID}
_APPROVE_ACTIONS = {"approve_return": RequestKind.RETURN, "approve_extension": RequestKind.EXTENSION,
                    "approve_deferral": RequestKind.DEFERRAL, "approve_void": RequestKind.VOID}


@dataclass
class _Step:
    case: Case
    user: Any
    now: dt.datetime
    data: dict[str, Any]
    note: str
    event_data: dict[str, Any]
    photos: list[tuple[Any, str]]

    def take(self, key: str, default: Any = None) -> Any:
        return self.data.pop(key, default)

    def required_text(self, key: str, zh: str, en: str) -> str:
        value = str(self.take(key) or self.note or "").strip()
        if not value:
            raise InvalidInput(f"{zh}不能为空", f"{en} is required", field=key)
        if len(value) > MAX_DESCRIPTION:
            raise InvalidInput(f"{zh}不能超过 {MAX_DESCRIPTION} 字", f"{en} is too long", field=key)
        return value


def _do_file(step: _Step) -> None:
    step.case.filed_at = step.now


def _do_not_file(step: _Step) -> None:
    step.case.not_filed_reason = step.required_text("reason", "不予立案理由", "reason")


def _do_merge(step: _Step) -> None:
    into = step.take("into")
    if not isinstance(into, Case):
        raise InvalidInput("请指定要合并到的案卷", "the case to merge into is required", field="into")
    target = Case.objects.select_for_update().get(pk=into.pk)
    if target.pk == step.case.pk or target.state not in OPEN_STATES:
        raise InvalidInput("只能合并到其他未结案卷", "can merge only into another open case", field="into")
    if target.minor_class_id != step.case.minor_class_id:
        raise InvalidInput("只能合并到同一小类的案卷", "can merge only into a case of the same class", field="into")
    access.require(step.user, "urban.file", target.grid_code)
    step.case.merged_into = target
    step.event_data["into"] = target.pk
    CaseEvent.objects.create(case=target, at=step.now, actor=_user_or_none(step.user),
                             actor_label=_actor_label(step.user), action="merge_in", from_state=target.state,
                             to_state=target.state, note=step.note, data={"report": step.case.pk})


def _do_dispatch(step: _Step) -> None:
    dept = step.take("department") or step.case.department
    if not isinstance(dept, Department) or not dept.active:
        raise InvalidInput("请指定有效的处置部门", "an active handling department is required", field="department")
    step.case.department = dept
    step.case.dispatched_at = step.now
    _start_clock(step.case, step.now, get_calendar())
    step.event_data.update(department=dept.code, due_at=step.case.due_at)


def _do_handle(step: _Step) -> None:
    step.case.handling_notes = step.required_text("notes", "处置说明", "handling notes")
    step.case.handled_at = step.now
    step.photos = _checked_photos(step.take("photos"))


def _do_rework(step: _Step) -> None:
    step.required_text("note", "返工意见", "rework note")
    step.case.rework_count += 1
    step.case.handled_at = None


def _do_close(step: _Step) -> None:
    step.case.closed_at = step.now


def _do_resume(step: _Step) -> None:
    _start_clock(step.case, step.now, get_calendar())
    step.event_data["due_at"] = step.case.due_at


def _do_request(kind: str) -> Callable[[_Step], None]:
    def run(step: _Step) -> None:
        reason = step.required_text("reason", "申请理由", "reason")
        if CaseRequest.objects.filter(case=step.case, status=RequestStatus.PENDING).exists():
            raise Conflict("该案卷已有待审批的申请", "the case already has a pending request", field="reason")
        value, unit = None, ""
        if kind == RequestKind.EXTENSION:
            value = step.take("value")
            unit = step.take("unit") or step.case.minor_class.deadline_unit
            _check_deadline(value, unit, "value")
        req = CaseRequest.objects.create(case=step.case, kind=kind, reason=reason, extension_value=value,
                                         extension_unit=unit, requested_by=step.user, requested_at=step.now)
        step.event_data.update(request=req.pk, kind=kind, value=value, unit=unit)
    return run


def _pending(step: _Step, kind: str | None) -> CaseRequest:
    qs = CaseRequest.objects.select_for_update().filter(case=step.case, status=RequestStatus.PENDING)
    req = qs.filter(kind=kind).first() if kind else qs.first()
    if req is None:
        raise InvalidTransition("没有待审批的相应申请", "no matching pending request", field="action")
    if req.requested_by_id == getattr(step.user, "pk", None):
        raise PermissionDenied("申请人不能审批本人的申请 / a request must be approved by someone else")
    return req


def _decide(step: _Step, req: CaseRequest, status: str) -> None:
    req.status, req.decided_by, req.decided_at, req.decision_note = status, step.user, step.now, step.note
    req.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    step.event_data.update(request=req.pk, kind=req.kind, status=status)


def _do_approve(kind: str) -> Callable[[_Step], None]:
    def run(step: _Step) -> None:
        req = _pending(step, kind)
        case = step.case
        if kind == RequestKind.EXTENSION:
            cal = get_calendar()
            start = case.dispatched_at or step.now
            assert case.due_at is not None and req.extension_value is not None
            case.due_at = _add(cal, case.due_at, req.extension_value, req.extension_unit)
            case.warn_at = cal.add_working_hours(start, WARN_FRACTION * cal.working_hours_between(start, case.due_at))
            if case.warn_at > step.now:
                case.warned_at = None
            step.event_data["due_at"] = case.due_at
        elif kind == RequestKind.RETURN:
            # back to the centre for dispatch to the right department; the clock stops
            case.department = None
            case.dispatched_at = case.due_at = case.warn_at = case.warned_at = None
        _decide(step, req, RequestStatus.APPROVED)
    return run


def _do_reject(step: _Step) -> None:
    _decide(step, _pending(step, None), RequestStatus.REJECTED)


def _do_hand_to_emergency(step: _Step) -> None:
    reason = step.required_text("reason", "移交理由", "reason")
    case = step.case
    sequence = case.emergency_handoffs.count() + 1
    referral = handoff.EmergencyReferral(
        referral_id=f"{case.number}/{sequence}", case_number=case.number or str(case.pk),
        class_code=case.minor_class.full_code, class_name=case.minor_class.name, description=case.description,
        reason=reason, lon=case.lon, lat=case.lat, address=case.address, grid_code=case.grid_code,
        community_code=case.community_code, township_code=case.township_code, county_code=case.county_code,
        reported_at=case.reported_at, handed_at=step.now, handed_by=_actor_label(step.user),
        photo_count=case.photos.count(),
    )
    receiver, reference = handoff.deliver(referral)
    EmergencyHandoff.objects.create(case=case, at=step.now, receiver=receiver, reference=reference, reason=reason,
                                    payload=referral.as_dict(), handed_by=_user_or_none(step.user))
    step.event_data.update(receiver=receiver, reference=reference, referral_id=referral.referral_id,
                           reason=reason)


_HANDLERS: dict[str, Callable[[_Step], None]] = {
    "file": _do_file, "not_file": _do_not_file, "merge": _do_merge, "dispatch": _do_dispatch,
    "accept": lambda step: None, "handle": _do_handle, "verify": lambda step: None, "rework": _do_rework,
    "close": _do_close, "resume": _do_resume, "reject_request": _do_reject,
    "hand_to_emergency": _do_hand_to_emergency,
    **{action: _do_request(kind) for action, kind in _REQUEST_ACTIONS.items()},
    **{action: _do_approve(kind) for action, kind in _APPROVE_ACTIONS.items()},
}
assert {action for _, action in TRANSITIONS} == set(_HANDLERS)


def _require_department(user: Any, case: Case) -> None:
    """Handling staff act only on cases dispatched to their own department."""
    if getattr(user, "is_superuser", False):
        return
    if case.department_id is None or getattr(user, "department_id", None) != case.department_id:
        raise PermissionDenied("只有责任部门可以处置该案卷 / only the responsible department may act on this case")


def allowed_actions(case: Case) -> list[str]:
    return [action for state, action in TRANSITIONS if state == case.state]


def transition(case: Case, action: str, *, acting_user: Any, note: str = "", **data: Any) -> Case:
    """Move ``case`` by ``action``. Refused (nothing written) when the pair (state, action) is not in
    ``TRANSITIONS``, the user lacks the permission for the case's grid, or the data is invalid."""
    note = (note or "").strip()
    with transaction.atomic():
        # of=("self",): PostgreSQL cannot lock the nullable side of the outer join to the department
        locked = (Case.objects.select_for_update(of=("self",)).select_related("minor_class", "department")
                  .get(pk=case.pk))
        rule = TRANSITIONS.get((locked.state, action))
        if rule is None:
            raise InvalidTransition(
                f"案卷当前状态（{locked.get_state_display()}）不允许该操作（{action}）",
                f"action '{action}' is not allowed in state '{locked.state}'", field="action",
            )
        new_state, perm = rule
        access.require(acting_user, perm, locked.grid_code)
        if perm == "urban.handle":
            _require_department(acting_user, locked)
        before = _case_snapshot(locked)
        from_state = locked.state
        step = _Step(locked, acting_user, timezone.now(), dict(data), note, {}, [])
        _HANDLERS[action](step)
        if step.data:
            raise InvalidInput(f"不支持的参数：{', '.join(sorted(step.data))}",
                               f"unexpected data: {', '.join(sorted(step.data))}", field=sorted(step.data)[0])
        locked.state = new_state or locked.state
        locked.save()
        event = CaseEvent.objects.create(case=locked, at=step.now, actor=_user_or_none(acting_user),
                                         actor_label=_actor_label(acting_user), action=action,
                                         from_state=from_state, to_state=locked.state, note=note,
                                         data=audit._jsonable(step.event_data) or {})
        if step.photos:
            _save_photos(locked, event, PhotoKind.AFTER, step.photos, acting_user, step.now)
        audit.record(actor=acting_user, action=f"urban.{action}", object_type="urban.Case", object_id=locked.pk,
                     before=before, after={**_case_snapshot(locked), **step.event_data, "note": note},
                     division_code=locked.grid_code)
    return locked


def visible_cases(*, acting_user: Any) -> Any:
    """Cases in the user's scope (``urban.view_cases``, by grid code)."""
    return access.filter_by_scope(Case.objects.select_related("minor_class", "department"), acting_user,
                                  "urban.view_cases", "grid_code")


def public_cases() -> Any:
    """Cases anyone may see (no login): the public channels, every state (personal data is never part of
    what public views show)."""
    return Case.objects.filter(channel__in=PUBLIC_CHANNELS)


def get_case(*, acting_user: Any, pk: int) -> Case:
    case = Case.objects.select_related("minor_class", "department").filter(pk=pk).first()
    if case is None:
        raise NotFound("案卷不存在", "no such case", field="pk")
    access.require(acting_user, "urban.view_cases", case.grid_code)
    return case


# --- escalation (background) -----------------------------------------------------------------------

@dataclass(frozen=True)
class EscalationResult:
    warned: int
    escalated: int


def _system_step(case: Case, action: str, now: dt.datetime, data: dict[str, Any]) -> None:
    CaseEvent.objects.create(case=case, at=now, actor=None, actor_label=SYSTEM, action=action,
                             from_state=case.state, to_state=case.state, data=audit._jsonable(data) or {})
    audit.record(actor=SYSTEM, action=f"urban.{action}", object_type="urban.Case", object_id=case.pk,
                 after={**_case_snapshot(case), **data}, division_code=case.grid_code)


def escalate_overdue(now: dt.datetime | None = None) -> EscalationResult:
    """Warn cases past ``warn_at`` and escalate (督办) cases past ``due_at``, each once (idempotent)."""
    now = now or timezone.now()
    escalated = warned = 0
    overdue_ids = list(Case.objects.filter(state__in=CLOCK_STATES, overdue=False, due_at__lt=now)
                       .values_list("pk", flat=True))
    for pk in overdue_ids:
        with transaction.atomic():
            case = Case.objects.select_for_update().filter(pk=pk, state__in=CLOCK_STATES, overdue=False,
                                                           due_at__lt=now).first()
            if case is None:
                continue
            case.overdue = True
            case.save(update_fields=["overdue"])
            assert case.due_at is not None
            sup, _created = Supervision.objects.get_or_create(
                case=case, kind="overdue",
                defaults={"created_at": now, "due_at": case.due_at, "department_id": case.department_id,
                          "note": "超期未处置，系统自动督办"},
            )
            _system_step(case, "escalate", now, {"supervision": sup.pk, "due_at": case.due_at})
            escalated += 1
    warn_ids = list(Case.objects.filter(state__in=CLOCK_STATES, overdue=False, warned_at__isnull=True,
                                        warn_at__lt=now, due_at__gte=now).values_list("pk", flat=True))
    for pk in warn_ids:
        with transaction.atomic():
            case = Case.objects.select_for_update().filter(pk=pk, warned_at__isnull=True).first()
            if case is None:
                continue
            case.warned_at = now
            case.save(update_fields=["warned_at"])
            _system_step(case, "warn", now, {"warn_at": case.warn_at, "due_at": case.due_at})
            warned += 1
    return EscalationResult(warned, escalated)


# --- public reporting through Open311 GeoReport v2 ---------------------------------------------------

class PublicReporter:
    """The acting principal of a report received through a public gateway (an Open311 client).

    Not a user: it holds ``urban.report`` city-wide and nothing else (pre-set grants, see
    ``core.access``), and its label (``open311:<client>``) is what the case event and audit record show.
    """

    pk = None
    is_active = True
    is_authenticated = True
    is_superuser = False

    def __init__(self, label: str) -> None:
        self.label = label
        self._liaocheng_grants = [(CITY_CODE, ["urban.report"])]

    def __str__(self) -> str:
        return self.label


def open311_key_hash(key: str) -> str:
    return sm3_hex(key.encode("utf-8"))


def create_open311_client(*, name: str, contact: str = "") -> tuple[Open311Client, str]:
    """Register an Open311 client; returns it with its API key (shown once, only the SM3 hash is kept)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("客户端名称应为 1–100 字", "client name must be 1-100 characters", field="name")
    if Open311Client.objects.filter(name=name).exists():
        raise Conflict("客户端名称已存在", "a client with this name exists", field="name")
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = Open311Client.objects.create(name=name, contact=(contact or "").strip()[:200],
                                              key_hash=open311_key_hash(key))
        audit.record(actor=SYSTEM, action="urban.open311_client", object_type="urban.Open311Client",
                     object_id=client.pk, after={"name": name}, division_code=CITY_CODE)
    return client, key


def open311_client_for_key(key: str) -> Open311Client | None:
    """The active client holding ``key`` (None for a missing, unknown or revoked key)."""
    if not key:
        return None
    return Open311Client.objects.filter(key_hash=open311_key_hash(key), active=True).first()


def grid_point(grid_code: str) -> tuple[float, float] | None:
    """A GCJ-02 point inside a unit grid (for requests located by grid code), None for an unknown code."""
    code = (grid_code or "").strip()
    grid = Grid.objects.filter(code=code).only("geometry").first() if code.isdigit() else None
    if grid is None or not grid.geometry:
        return None
    point = shapely.from_geojson(grid.geometry).representative_point()
    return float(point.x), float(point.y)


def report_public_case(
    *, client: Open311Client, class_code: str, lon: float, lat: float, datum: str = "wgs84", description: str,
    address: str = "", address_id: str = "", attributes: dict[str, Any] | None = None, media_url: str = "",
    account_id: str = "", device_id: str = "", email: str = "", first_name: str = "", last_name: str = "",
    phone: str = "",
) -> tuple[ReportResult, Open311Request]:
    """Take in a public-channel report from an Open311 client through ``report_case`` (same checks,
    same event and audit record), plus the Open311 details; the reporter's personal data is encrypted.
    Any refusal writes nothing."""
    if not client.active:
        raise PermissionDenied("Open311 客户端已停用 / the Open311 client is not active")
    with transaction.atomic():
        result = report_case(acting_user=PublicReporter(f"open311:{client.name}"), channel=Channel.PUBLIC,
                             class_code=class_code, lon=lon, lat=lat, datum=datum, description=description,
                             address=address)
        extra = Open311Request.objects.create(
            case=result.case, client=client, token=secrets.token_hex(16), attributes=attributes or {},
            address_id=address_id[:64], media_url=media_url[:500], account_id=account_id, device_id=device_id,
            email=email, first_name=first_name, last_name=last_name, phone=phone,
        )
    return result, extra


# --- historical cases (bulk import, e.g. the demo year) -----------------------------------------------

@dataclass
class HistoricalCase:
    """A finished or open case from the past with its steps, written as is (no transition checks)."""

    case: Case
    events: list[CaseEvent]
    supervision: Supervision | None = None


def import_historical_cases(*, acting_user: Any, cases: Iterable[HistoricalCase], batch_size: int = 2000,
                            progress: Callable[[int], None] | None = None) -> int:
    """Write historical cases with their events and supervisions in batches (``bulk_create``): one
    transaction and one audit record per batch, nothing per row. Returns the number of cases written."""
    written = 0
    batch: list[HistoricalCase] = []

    def flush() -> None:
        nonlocal written
        with transaction.atomic():
            rows = Case.objects.bulk_create([h.case for h in batch])
            events: list[CaseEvent] = []
            sups: list[Supervision] = []
            for h, row in zip(batch, rows, strict=True):
                for event in h.events:
                    event.case = row
                events.extend(h.events)
                if h.supervision is not None:
                    h.supervision.case = row
                    sups.append(h.supervision)
            CaseEvent.objects.bulk_create(events, batch_size=5000)
            Supervision.objects.bulk_create(sups, batch_size=5000)
            audit.record(actor=acting_user, action="urban.import_history", object_type="urban.Case",
                         object_id=f"{rows[0].number}..{rows[-1].number}",
                         after={"cases": len(rows), "events": len(events), "supervisions": len(sups)},
                         division_code=CITY_CODE)
        written += len(batch)
        batch.clear()
        if progress is not None:
            progress(written)

    for item in cases:
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return written
