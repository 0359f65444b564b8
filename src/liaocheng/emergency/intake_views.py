"""Staff pages of call intake and incidents (thin adapters over ``emergency.intake``): the call-taker console
(with the nearby open incidents to attach to), the incident list, the incident page (calls, timeline, links,
transfers and the actions the user may take) and the incident types with their response plans.

Every change goes through ``intake``: ``PermissionDenied`` → 403, ``DomainError`` → its status with the
message shown next to the form; nothing is written on a refusal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from liaocheng.core import access
from liaocheng.core.crypto import mask_name
from liaocheng.core.departments import KINDS
from liaocheng.core.errors import DomainError, InvalidInput
from liaocheng.core.forms import domain_message
from liaocheng.core.models import Department
from liaocheng.core.permissions import CITY_CODE
from liaocheng.core.web import staff_required
from liaocheng.geo.models import Division

from . import eido, intake
from .models import (
    Call,
    Incident,
    IncidentState,
    IncidentType,
    Line,
    LinkKind,
    LocationSource,
    ResponsePlan,
    Severity,
    Transfer,
    TransferStatus,
    UnitType,
)

PAGE_SIZE = 30

EVENT_LABELS = {
    "create": gettext_lazy("创建事件"), "call": gettext_lazy("来电"), "notify": gettext_lazy("通知值班领导"),
    "classify": gettext_lazy("更改分类或级别"), "merged": gettext_lazy("合并到其他事件"),
    "merge_in": gettext_lazy("合并其他事件"), "split": gettext_lazy("拆分出子事件"),
    "split_from": gettext_lazy("由事件拆分"), "link": gettext_lazy("关联事件"), "unlink": gettext_lazy("取消关联"),
    "state": gettext_lazy("状态变更"), "note": gettext_lazy("说明"), "message": gettext_lazy("消息"),
    "assist": gettext_lazy("协办部门"), "transfer": gettext_lazy("转办"), "transfer_accept": gettext_lazy("接收转办"),
    "transfer_refuse": gettext_lazy("退回转办"), "transfer_result": gettext_lazy("反馈办理结果"),
    "dispatch": gettext_lazy("派警"), "unit_status": gettext_lazy("力量状态"),
    "warning_drafted": gettext_lazy("起草预警"), "warning_submitted": gettext_lazy("提交预警审批"),
    "warning_update_drafted": gettext_lazy("起草预警更新"), "warning_cancel_drafted": gettext_lazy("起草预警解除"),
    "warning_rejected": gettext_lazy("预警被驳回"), "warning_issued": gettext_lazy("发布预警"),
}
LINK_LABELS = dict(LinkKind.choices)
STATE_LABELS = dict(IncidentState.choices)


# --- helpers ----------------------------------------------------------------------------------------------

def _deny(message: str) -> None:
    raise PermissionDenied(message)


def _counties(user: Any, perm: str = "emergency.view") -> list[tuple[str, str]]:
    scopes = access.scopes_for(user, perm)
    return [(d.code, d.name) for d in Division.objects.filter(level="county", valid_to__isnull=True).order_by("code")
            if any(d.code.startswith(p) or p.startswith(d.code) for p in scopes)]


def type_options() -> list[tuple[str, list[tuple[str, str]]]]:
    """Active types grouped by class for a <select> (details indented under their sub-class)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    names: dict[str, str] = {}
    for t in IncidentType.objects.filter(active=True).order_by("code"):
        names[t.code] = t.name
        if t.code == intake.ROOT_CODE:
            continue
        cls = t.code[:2] + "000"
        depth = 0 if t.code == cls else (1 if t.code.endswith("00") else 2)
        groups.setdefault(cls, []).append((t.code, "\u3000" * depth + f"{t.code} {t.name}"))
    return [(f"{cls} {names.get(cls, '')}", rows) for cls, rows in groups.items()]


def _parse_time(value: str | None, field: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("时间格式不正确", "malformed time", field=field) from exc
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _incident_or_404(user: Any, number: str) -> Incident:
    try:
        return intake.get_incident(acting_user=user, number=number)
    except DomainError as exc:
        raise Http404(domain_message(exc)) from exc


def _other_incident(user: Any, number: str, field: str) -> Incident:
    number = (number or "").strip()
    if not number:
        raise InvalidInput("请填写事件编号", "the incident number is required", field=field)
    try:
        return intake.get_incident(acting_user=user, number=number)
    except DomainError as exc:
        raise InvalidInput("事件不存在或无权查看", "no such incident (or not visible to you)", field=field) from exc


def caller_name_display(call: Call, user: Any) -> str:
    name = call.caller_name or ""
    if not name or access.can_see_personal_data(user, call.incident.grid_code):
        return name
    return mask_name(name)


# --- the call-taker console ---------------------------------------------------------------------------------

def _console_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    recent = intake.visible_incidents(acting_user=request.user).filter(state__in=intake.OPEN_STATES)[:12]
    return {
        "lines": Line.choices, "severities": Severity.choices, "sources": LocationSource.choices,
        "type_groups": type_options(), "recent": recent, "answered_at": timezone.now().isoformat(),
        "form": {}, **extra,
    }



@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def console(request: HttpRequest) -> HttpResponse:
    """The call-taker's console: one form per call; a new incident or attached to a nearby open one."""
    if not access.has_perm(request.user, "emergency.take_calls"):
        _deny(_("无权接警"))
    if request.method == "GET":
        return render(request, "emergency/intake_console.html", _console_context(request))
    post = request.POST
    try:
        attach_number = (post.get("attach_to") or "").strip()
        attach_to = _other_incident(request.user, attach_number, "attach_to") if attach_number else None
        result = intake.take_call(
            acting_user=request.user, line=post.get("line", ""), caller_number=post.get("caller_number", ""),
            caller_name=post.get("caller_name", ""), address=post.get("address", ""), lon=post.get("lon"),
            lat=post.get("lat"), datum="wgs84" if post.get("datum") == "wgs84" else "gcj02",
            location_source=post.get("location_source", ""), narrative=post.get("narrative", ""),
            answered_at=_parse_time(post.get("answered_at"), "answered_at"),
            received_at=_parse_time(post.get("received_at"), "received_at"),
            incident_type_code=post.get("incident_type", ""), severity=post.get("severity") or Severity.IV,
            attach_to=attach_to,
        )
    except PermissionDenied as exc:
        return render(request, "emergency/intake_console.html",
                      _console_context(request, error=str(exc) or _("无权接警"), form=post), status=403)
    except DomainError as exc:
        return render(request, "emergency/intake_console.html",
                      _console_context(request, error=domain_message(exc), error_field=exc.field, form=post),
                      status=exc.status)
    number = result.incident.number
    if result.created:
        messages.success(request, _("已受理，新建事件 {number}。").format(number=number))
    else:
        messages.success(request, _("已受理，来电已并入事件 {number}。").format(number=number))
    if result.repeat_calls:
        messages.warning(request, _("该号码 24 小时内已来电 {n} 次。").format(n=result.repeat_calls))
    target = reverse("emergency:incident", kwargs={"number": number})
    return redirect(target if post.get("next") == "incident" else reverse("emergency:intake"))


@staff_required
@require_GET
def nearby(request: HttpRequest) -> HttpResponse:
    """HTML fragment: the open incidents near the picked point (to attach the call to)."""
    if not access.has_perm(request.user, "emergency.take_calls"):
        _deny(_("无权接警"))
    try:
        rows = intake.nearby_open_incidents(request.GET.get("lon"), request.GET.get("lat"),
                                            datum="wgs84" if request.GET.get("datum") == "wgs84" else "gcj02",
                                            acting_user=request.user)
    except DomainError as exc:
        return render(request, "emergency/intake_nearby.html", {"error": domain_message(exc)})
    return render(request, "emergency/intake_nearby.html", {"rows": rows, "radius": int(intake.NEARBY_RADIUS_M),
                                                             "minutes": intake.NEARBY_MINUTES})


# --- the incident list --------------------------------------------------------------------------------------

def _filter(qs: QuerySet[Incident], params: Any) -> tuple[QuerySet[Incident], dict[str, str]]:
    f = {k: (params.get(k) or "").strip() for k in ("state", "county", "cls", "severity", "centre", "q")}
    if f["state"] == "open":
        qs = qs.filter(state__in=intake.OPEN_STATES)
    elif f["state"] in IncidentState.values:
        qs = qs.filter(state=f["state"])
    if f["county"].isdigit():
        qs = qs.filter(county_code=f["county"])
    if f["centre"].isdigit():
        qs = qs.filter(centre_code=f["centre"])
    if f["cls"]:
        code = f["cls"].upper()
        prefix = code[:3].rstrip("0") if code.endswith("00") else code
        qs = qs.filter(incident_type__code__startswith=prefix or "1")
    if f["severity"].isdigit():
        qs = qs.filter(severity=int(f["severity"]))
    if f["q"]:
        qs = qs.filter(number__icontains=f["q"]) | qs.filter(summary__icontains=f["q"])
    return qs, f


@staff_required
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    if not access.has_perm(request.user, "emergency.view"):
        _deny(_("无权查看应急事件"))
    params = request.GET.copy()
    if "state" not in params:
        params["state"] = "open"
    qs, filters = _filter(intake.visible_incidents(acting_user=request.user), params)
    page = Paginator(qs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = params.copy()
    query.pop("page", None)
    context = {
        "page": page, "rows": page.object_list, "filters": filters, "query": query.urlencode(),
        "states": IncidentState.choices, "severities": Severity.choices, "counties": _counties(request.user),
        "classes": IncidentType.objects.filter(code__endswith="00").exclude(code=intake.ROOT_CODE).order_by("code"),
        "city_code": CITY_CODE,
    }
    template = "emergency/incident_rows.html" if request.headers.get("HX-Request") else "emergency/incident_list.html"
    return render(request, template, context)


# --- the incident page and its actions -------------------------------------------------------------------

@dataclass(frozen=True)
class Rights:
    take_calls: bool
    dispatch: bool
    transfer: bool
    note: bool


def _rights(user: Any, incident: Incident) -> Rights:
    code = incident.grid_code
    take = access.has_perm(user, "emergency.take_calls", code)
    disp = access.has_perm(user, "emergency.dispatch", code)
    return Rights(take, disp, access.has_perm(user, "emergency.transfer", code),
                  any(access.has_perm(user, p, code) for p in intake._NOTE_PERMS))


def _incident_context(request: HttpRequest, incident: Incident, **extra: Any) -> dict[str, Any]:
    user = request.user
    calls = list(incident.calls.select_related("incident", "taker").order_by("answered_at", "pk"))
    call_rows = [(c, intake.caller_display(c, user), caller_name_display(c, user)) for c in calls]
    events = [(e, EVENT_LABELS.get(e.action, e.action)) for e in incident.events.all()]
    transfers = [(t, intake.can_receive_transfer(user, t))
                 for t in incident.transfers.select_related("sent_by", "incident")]
    rights = _rights(user, incident)
    is_open = incident.state in intake.OPEN_STATES
    plan = intake.response_plan_for(incident.incident_type, incident.severity)
    unit_labels = dict(UnitType.choices)
    return {
        "incident": incident, "calls": call_rows, "events": events, "transfers": transfers, "rights": rights,
        "is_open": is_open,
        "links": [(v.other, LINK_LABELS.get(v.kind, v.kind)) for v in intake.links_of(incident)],
        "merged_incidents": incident.merged_incidents.all(),
        "assisting": incident.assisting_departments.all(),
        "plan": plan, "plan_needs": [(unit_labels.get(k, k), n) for k, n in (plan.needs if plan else {}).items()],
        "state_actions": [s for s, allowed in intake.STATE_RULES.items() if incident.state in allowed]
        if rights.dispatch else [],
        "state_labels": STATE_LABELS, "type_groups": type_options() if rights.take_calls and is_open else [],
        "severities": Severity.choices, "link_kinds": LinkKind.choices, "lines": list(intake.LINE_KINDS),
        "open_transfer": any(t.status in (TransferStatus.SENT, TransferStatus.ACCEPTED) for t, _r in transfers),
        "departments": Department.objects.filter(active=True, division_code__in=(CITY_CODE, incident.county_code))
        .exclude(pk=incident.owning_department_id or 0).order_by("code") if rights.dispatch and is_open else [],
        "assisting_codes": set(incident.assisting_departments.values_list("code", flat=True)),
        "city_code": CITY_CODE,
        **extra,
    }


@staff_required
@require_GET
def incident_detail(request: HttpRequest, number: str) -> HttpResponse:
    incident = _incident_or_404(request.user, number)
    return render(request, "emergency/incident_detail.html", _incident_context(request, incident))


@staff_required
@never_cache
@require_GET
def incident_eido(request: HttpRequest, number: str) -> HttpResponse:
    """The incident as a NENA EIDO JSON download (caller data only with ``core.view_personal_data``)."""
    incident = _incident_or_404(request.user, number)
    response = HttpResponse(eido.dumps(eido.incident_to_eido(incident, viewer=request.user)),
                            content_type=f"{eido.MEDIA_TYPE}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="EIDO-{incident.number}.json"'
    return response


def _transfer_of(incident: Incident, value: str | None) -> Transfer:
    transfer = incident.transfers.filter(pk=int(value)).first() if value and value.isdigit() else None
    if transfer is None:
        raise InvalidInput("转办工单不存在", "no such transfer", field="transfer")
    return transfer


def _act(request: HttpRequest, incident: Incident, action: str) -> Incident:
    """Run one action; returns the incident to show afterwards."""
    post, user = request.POST, request.user
    note = post.get("note", "")
    if action == "classify":
        return intake.classify_incident(acting_user=user, incident=incident,
                                        incident_type_code=post.get("incident_type") or None,
                                        severity=post.get("severity") or None, note=note)
    if action in intake.STATE_RULES:
        return intake.set_incident_state(acting_user=user, incident=incident, state=action,
                                         disposition=post.get("disposition", ""), note=note)
    if action in ("note", "message"):
        intake.add_note(acting_user=user, incident=incident, text=post.get("text", ""), message=action == "message")
        return incident
    if action == "merge":
        into = _other_incident(user, post.get("into", ""), "into")
        return intake.merge_incidents(acting_user=user, incident=incident, into=into, note=note)
    if action == "merge_here":
        other = _other_incident(user, post.get("other", ""), "other")
        return intake.merge_incidents(acting_user=user, incident=other, into=incident, note=note)
    if action == "split":
        ids = [int(v) for v in post.getlist("calls") if v.isdigit()]
        return intake.split_incident(acting_user=user, incident=incident, call_ids=ids,
                                     incident_type_code=post.get("incident_type", ""),
                                     severity=post.get("severity") or None, summary=post.get("summary", ""), note=note)
    if action == "link":
        other = _other_incident(user, post.get("other", ""), "other")
        intake.link_incidents(acting_user=user, incident=incident, other=other, kind=post.get("kind", ""), note=note)
        return incident
    if action == "unlink":
        other = _other_incident(user, post.get("other", ""), "other")
        intake.unlink_incidents(acting_user=user, incident=incident, other=other, note=note)
        return incident
    if action == "assist":
        intake.set_assisting_departments(acting_user=user, incident=incident, departments=post.getlist("departments"))
        return incident
    if action == "transfer":
        intake.transfer_incident(acting_user=user, incident=incident, reason=post.get("reason", ""),
                                 to_line=post.get("to_line", ""), to_centre=post.get("to_centre", ""))
        return incident
    if action in ("transfer_accept", "transfer_refuse", "transfer_result"):
        transfer = _transfer_of(incident, post.get("transfer"))
        if action == "transfer_accept":
            intake.accept_transfer(acting_user=user, transfer=transfer, note=note)
        elif action == "transfer_refuse":
            intake.refuse_transfer(acting_user=user, transfer=transfer, reason=post.get("reason", ""))
        else:
            intake.return_transfer_result(acting_user=user, transfer=transfer, result=post.get("result", ""))
        return incident
    raise InvalidInput("未知的操作", "unknown action", field="action")


ACTIONS: frozenset[str] = frozenset({
    "classify", *intake.STATE_RULES, "note", "message", "merge", "merge_here", "split", "link", "unlink", "assist",
    "transfer", "transfer_accept", "transfer_refuse", "transfer_result",
})


@staff_required
@require_POST
def incident_action(request: HttpRequest, number: str) -> HttpResponse:
    incident = _incident_or_404(request.user, number)
    action = request.POST.get("action", "")
    try:
        if action not in ACTIONS:
            raise InvalidInput("未知的操作", "unknown action", field="action")
        shown = _act(request, incident, action)
    except PermissionDenied as exc:
        status, error, field = 403, str(exc) or _("无权执行该操作"), ""
    except DomainError as exc:
        status, error, field = exc.status, domain_message(exc), exc.field or ""
    else:
        return redirect("emergency:incident", number=shown.number)
    incident.refresh_from_db()
    return render(request, "emergency/incident_detail.html",
                  _incident_context(request, incident, error=error, error_action=action, error_field=field),
                  status=status)


# --- incident types and response plans ---------------------------------------------------------------------

def _parse_needs(text: str) -> dict[str, int]:
    """``fire_engine=3, ambulance 1`` (also 中文 comma / colon) -> {"fire_engine": 3, "ambulance": 1}."""
    needs: dict[str, int] = {}
    for part in text.replace("，", ",").replace("；", ",").replace(";", ",").split(","):
        part = part.strip().replace("：", "=").replace(":", "=").replace(" ", "=")
        if not part:
            continue
        key, _sep, value = part.partition("=")
        value = value.strip("=").strip()
        if not value.isdigit():
            raise InvalidInput(f"格式应为 类型=数量：{part}", f"use type=count: {part}", field="needs")
        needs[key.strip()] = int(value)
    return needs


@staff_required
@require_http_methods(["GET", "POST"])
def type_list(request: HttpRequest) -> HttpResponse:
    """The incident types with their leading department kind, priority and response plans; holders of
    ``emergency.manage_types`` edit them here."""
    if not access.has_perm(request.user, "emergency.view"):
        _deny(_("无权查看应急事件"))
    can_edit = access.has_perm(request.user, "emergency.manage_types", CITY_CODE)
    error = ""
    status = 200
    if request.method == "POST":
        if not can_edit:
            _deny(_("无权维护事件分类与响应预案"))
        post = request.POST
        run: Callable[[], Any]
        code = post.get("code", "")
        if post.get("action") == "plan":
            severity_value = post.get("severity") or ""
            def run() -> Any:
                return intake.set_response_plan(
                    acting_user=request.user, code=code,
                    severity=int(severity_value) if severity_value.isdigit() else None,
                    needs=_parse_needs(post.get("needs", "")))
        elif post.get("action") == "create":
            def run() -> Any:
                priority = post.get("default_priority") or ""
                return intake.create_incident_type(
                    acting_user=request.user, code=code, name=post.get("name", ""),
                    owning_kind=post.get("owning_kind", ""),
                    default_priority=int(priority) if priority.isdigit() else None)
        else:
            def run() -> Any:
                priority = post.get("default_priority") or ""
                return intake.update_incident_type(
                    acting_user=request.user, code=code, name=post.get("name"), owning_kind=post.get("owning_kind"),
                    default_priority=int(priority) if priority.isdigit() else None,
                    active=post.get("active") == "on")
        try:
            run()
        except DomainError as exc:
            error, status = domain_message(exc), exc.status
        else:
            messages.success(request, _("已保存。"))
            return redirect(reverse("emergency:types") + f"?q={code[:2]}#t-{code.upper()}")
    q = (request.GET.get("q") or "").strip().upper()
    types = IncidentType.objects.order_by("code")
    if q:
        types = types.filter(code__startswith=q) | IncidentType.objects.filter(name__contains=q)
    unit_labels = dict(UnitType.choices)
    plans: dict[int, list[tuple[ResponsePlan, str]]] = {}
    for p in ResponsePlan.objects.filter(incident_type__in=types).order_by("severity"):
        text = ", ".join(f"{unit_labels.get(k, k)} {n}" for k, n in p.needs.items())
        plans.setdefault(p.incident_type_id, []).append((p, text))
    rows = [(t, plans.get(t.pk, [])) for t in types]
    return render(request, "emergency/intake_types.html", {
        "rows": rows, "q": q, "can_edit": can_edit, "error": error, "kinds": [(k, v[0]) for k, v in KINDS.items()],
        "unit_types": UnitType.choices, "severities": Severity.choices,
    }, status=status)
