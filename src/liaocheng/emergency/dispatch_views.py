"""Staff pages of dispatch (thin adapters over ``emergency.dispatch`` and ``emergency.recommend``): the
dispatcher board (open incidents with their needs and units, the unit status board; a partial that every
dispatcher's page polls every 2 s), the dispatch panel of the incident page (recommendation with the
recommended units ticked, accept/change, errors when a unit was taken meanwhile) and the crew pages
(phone first) to step a unit's status and send its position.

``PermissionDenied`` → 403, ``DomainError`` → its status with the message shown; nothing is written on a
refusal. The HTMX forms swap error answers too (``hx-on::before-swap``), so 4xx keep their meaning.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from liaocheng.core import access
from liaocheng.core.errors import DomainError, InvalidInput
from liaocheng.core.forms import domain_message
from liaocheng.core.models import Department
from liaocheng.core.web import staff_required
from liaocheng.geo.models import Division

from . import dispatch, recommend
from .models import Assignment, Incident, IncidentState, Severity, Unit, UnitStatus, UnitType

OPEN_STATES = (IncidentState.NEW, IncidentState.DISPATCHED, IncidentState.ON_SCENE, IncidentState.UNDER_CONTROL)
BOARD_INCIDENTS = 60
BOARD_UNITS = 300
CREW_UNITS = 100
REFRESH_SECONDS = 2
STATUS_ORDER = list(UnitStatus.values)
STATUS_LABELS = dict(UnitStatus.choices)
TYPE_LABELS = dict(UnitType.choices)
STATE_LABELS = dict(IncidentState.choices)
SEVERITY_LABELS = dict(Severity.choices)


def _clock(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, sec = divmod(int(seconds), 60)
    return f"{minutes}:{sec:02d}"


def incident_url(incident: Incident) -> str:
    """The incident page (intake's), else this module's dispatch page for it."""
    for name in ("emergency:incident", "emergency:incident_detail"):
        try:
            return reverse(name, kwargs={"number": incident.number})
        except NoReverseMatch:
            continue
    return reverse("emergency_dispatch:incident_dispatch", kwargs={"number": incident.number})


def _incident_or_404(user: Any, number: str) -> Incident:
    incident = Incident.objects.select_related("incident_type").filter(number=(number or "").strip()).first()
    if incident is None:
        raise Http404(_("事件不存在"))
    if not dispatch.can_view(user, incident) and not dispatch.can_dispatch(user, incident):
        raise PermissionDenied(_("无权查看该事件"))
    return incident


def _unit_or_404(pk: int) -> Unit:
    unit = Unit.objects.select_related("department", "station", "incident", "incident__incident_type").filter(
        pk=pk).first()
    if unit is None:
        raise Http404(_("救援力量不存在"))
    return unit


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


# --- the dispatch panel (incident page) ---------------------------------------------------------------

@dataclass(frozen=True)
class AssignedRow:
    assignment: Assignment
    unit: Unit
    status_label: Any
    next_steps: list[tuple[str, Any]]
    eta: str


def _assigned_rows(user: Any, incident: Incident) -> list[AssignedRow]:
    rows = []
    for a in dispatch.open_assignments(incident):
        unit = a.unit
        steps = [(s, STATUS_LABELS[s]) for s in dispatch.allowed_next(unit)] if dispatch.can_update_unit(
            user, unit) else []
        rows.append(AssignedRow(a, unit, STATUS_LABELS.get(unit.status, unit.status), steps, _clock(a.eta_seconds)))
    return rows


def panel_context(user: Any, incident: Incident, **extra: Any) -> dict[str, Any]:
    """The context of ``emergency/_dispatch_panel.html`` (the intake page may render it inline with this)."""
    may_dispatch = dispatch.can_dispatch(user, incident)
    is_open = incident.state in OPEN_STATES
    rec = recommend.recommend(incident) if may_dispatch and is_open else None
    needs = []
    if rec is not None:
        for need in rec.needs:
            rows = [(c, True, _clock(c.eta_seconds), f"{c.distance_m / 1000:.1f}") for c in need.chosen]
            rows += [(c, False, _clock(c.eta_seconds), f"{c.distance_m / 1000:.1f}") for c in need.alternatives]
            needs.append({"need": need, "label": TYPE_LABELS.get(need.unit_type, need.unit_type), "rows": rows})
    return {
        "panel": True, "incident": incident, "rec": rec, "needs": needs, "may_dispatch": may_dispatch,
        "is_open": is_open, "assigned": _assigned_rows(user, incident),
        "recommended": ",".join(str(i) for i in (rec.recommended_ids if rec else [])),
        "area_label": _("城区") if rec is not None and rec.area == recommend.URBAN else _("郊区/农村"),
        "incident_url": incident_url(incident), **extra,
    }



def _swap_errors(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


@staff_required
@never_cache
@require_GET
def dispatch_panel(request: HttpRequest, number: str) -> HttpResponse:
    """The panel alone (loaded by the incident page, refreshed after each action)."""
    incident = _incident_or_404(request.user, number)
    return render(request, "emergency/_dispatch_panel.html", panel_context(request.user, incident))


def _selected_ids(request: HttpRequest) -> list[str]:
    """Ticked units plus units named by call sign in ``extra`` (comma or space separated)."""
    ids = [v for v in request.POST.getlist("unit") if v]
    signs = [s for s in request.POST.get("extra", "").replace("，", ",").replace(",", " ").split() if s]
    if signs:
        found = dict(Unit.objects.filter(call_sign__in=signs).values_list("call_sign", "pk"))
        unknown = [s for s in signs if s not in found]
        if unknown:
            raise InvalidInput(f"呼号不存在：{'、'.join(unknown)}", f"unknown call sign(s): {', '.join(unknown)}",
                               field="extra")
        ids += [str(found[s]) for s in signs]
    return ids


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def incident_dispatch(request: HttpRequest, number: str) -> HttpResponse:
    """GET: the panel as a page of its own. POST: dispatch the chosen units (accept or change the
    recommendation); the panel (HTMX) or the incident page answers."""
    incident = _incident_or_404(request.user, number)
    partial = _swap_errors(request)
    template = "emergency/_dispatch_panel.html" if partial else "emergency/units_dispatch.html"
    if request.method == "GET":
        return render(request, template, panel_context(request.user, incident))
    status, error, done = 200, "", ""
    try:
        assignments = dispatch.dispatch_units(
            acting_user=request.user, incident=incident, unit_ids=_selected_ids(request),
            recommended_ids=[v for v in request.POST.get("recommended", "").split(",") if v],
            note=request.POST.get("note", ""))
    except PermissionDenied as exc:
        status, error = 403, str(exc) or _("无权派警")
    except DomainError as exc:
        status, error = exc.status, domain_message(exc)
    else:
        done = _("已派出：") + "、".join(a.unit.call_sign for a in assignments)
        if not partial:
            return redirect(_safe_next(request, incident_url(incident)))
    incident.refresh_from_db()
    return render(request, template, panel_context(request.user, incident, dispatch_error=error, dispatch_done=done),
                  status=status)


# --- the dispatcher board ---------------------------------------------------------------------------------

def _board_allowed(user: Any) -> None:
    if not (access.has_perm(user, "emergency.view") or access.has_perm(user, "emergency.dispatch")):
        raise PermissionDenied(_("无权查看调度台"))


def _scoped_units(user: Any) -> QuerySet[Unit]:
    scopes = set(access.scopes_for(user, "emergency.view")) | set(access.scopes_for(user, "emergency.dispatch"))
    if "" in scopes:
        return Unit.objects.all()
    condition = Q()
    for prefix in scopes:
        condition |= Q(county_code__startswith=prefix[:6])
    return Unit.objects.filter(condition) if scopes else Unit.objects.none()


def _scoped_incidents(user: Any) -> QuerySet[Incident]:
    scopes = set(access.scopes_for(user, "emergency.view")) | set(access.scopes_for(user, "emergency.dispatch"))
    if "" in scopes:
        return Incident.objects.all()
    condition = Q()
    for prefix in scopes:
        condition |= Q(grid_code__startswith=prefix) | Q(centre_code__startswith=prefix)
    return Incident.objects.filter(condition) if scopes else Incident.objects.none()


def _board_filters(params: Any) -> dict[str, str]:
    f = {k: (params.get(k) or "").strip() for k in ("county", "agency", "type")}
    if not f["county"].isdigit():
        f["county"] = ""
    if not f["agency"].isdigit():
        f["agency"] = ""
    if f["type"] not in UnitType.values:
        f["type"] = ""
    return f


def _board_choices(user: Any) -> dict[str, Any]:
    scopes = set(access.scopes_for(user, "emergency.view")) | set(access.scopes_for(user, "emergency.dispatch"))
    counties = [(d.code, d.name) for d in Division.objects.filter(level="county", valid_to__isnull=True)
                .order_by("code") if any(d.code.startswith(p) or p.startswith(d.code) for p in scopes)]
    agencies = Department.objects.filter(pk__in=_scoped_units(user).values("department_id")).order_by("code")
    return {"counties": counties, "agencies": agencies, "types": UnitType.choices}


@dataclass(frozen=True)
class BoardIncident:
    incident: Incident
    url: str
    needs: list[tuple[Any, int, int]]  # (type label, needed, assigned)
    units: list[Unit]
    short: bool  # some need not covered yet


def board_context(user: Any, params: Any) -> dict[str, Any]:
    f = _board_filters(params)
    units = _scoped_units(user)
    incidents = _scoped_incidents(user).filter(state__in=OPEN_STATES).select_related("incident_type")
    if f["county"]:
        units = units.filter(county_code=f["county"])
        incidents = incidents.filter(county_code=f["county"])
    if f["agency"]:
        units = units.filter(department_id=int(f["agency"]))
    if f["type"]:
        units = units.filter(unit_type=f["type"])
    # open incidents with their plan's needs and their units
    open_list = list(incidents.order_by("priority", "-created_at")[:BOARD_INCIDENTS])
    plans = recommend.plans_for((i.incident_type.code, i.severity) for i in open_list)
    on_incident: dict[int, list[Unit]] = defaultdict(list)
    for a in (Assignment.objects.filter(incident__in=open_list, cleared_at__isnull=True)
              .select_related("unit", "unit__department").order_by("dispatched_at", "pk")):
        on_incident[a.incident_id].append(a.unit)
    board_incidents = []
    for inc in open_list:
        needs_map = recommend.plan_needs(plans[(inc.incident_type.code, inc.severity)])
        have = Counter(u.unit_type for u in on_incident[inc.pk])
        needs = [(TYPE_LABELS.get(t, t), n, have[t]) for t, n in needs_map.items()]
        board_incidents.append(BoardIncident(inc, incident_url(inc), needs, on_incident[inc.pk],
                                             any(h < n for _l, n, h in needs)))
    # counts by agency, type and status
    counts: dict[tuple[int, str, str], dict[str, int]] = {}
    totals: Counter[str] = Counter()
    for row in units.values("department_id", "department__name", "department__code", "unit_type", "status") \
            .annotate(n=Count("pk")).order_by("department__code", "unit_type"):
        key = (row["department_id"], row["department__name"], row["unit_type"])
        counts.setdefault(key, {})[row["status"]] = row["n"]
        totals[row["status"]] += row["n"]
    agencies: list[dict[str, Any]] = []
    for (dept_id, dept_name, unit_type), by_status in counts.items():
        if not agencies or agencies[-1]["id"] != dept_id:
            agencies.append({"id": dept_id, "name": dept_name, "rows": []})
        agencies[-1]["rows"].append({"type": TYPE_LABELS.get(unit_type, unit_type),
                                     "cells": [by_status.get(s, 0) for s in STATUS_ORDER],
                                     "total": sum(by_status.values())})
    total_units = sum(totals.values())
    unit_rows = list(units.select_related("department", "incident").order_by("department__code", "call_sign")
                     [:BOARD_UNITS])
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    return {
        "filters": f, "query": query, "incidents": board_incidents, "agencies": agencies,
        "statuses": [(s, STATUS_LABELS[s]) for s in STATUS_ORDER],
        "totals": [(s, STATUS_LABELS[s], totals.get(s, 0)) for s in STATUS_ORDER], "total_units": total_units,
        "units": unit_rows, "units_shown": len(unit_rows), "status_labels": STATUS_LABELS,
        "type_labels": TYPE_LABELS, "state_labels": STATE_LABELS, "severity_labels": SEVERITY_LABELS,
        "now": timezone.now(), "refresh_seconds": REFRESH_SECONDS,
    }


@staff_required
@never_cache
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    _board_allowed(request.user)
    context = board_context(request.user, request.GET)
    return render(request, "emergency/board.html", {**context, **_board_choices(request.user)})


@staff_required
@never_cache
@require_GET
def board_live(request: HttpRequest) -> HttpResponse:
    """The self-refreshing part of the board (polled every ``REFRESH_SECONDS`` by every dispatcher)."""
    _board_allowed(request.user)
    return render(request, "emergency/units_live.html", board_context(request.user, request.GET))


# --- crew pages (phone first) ------------------------------------------------------------------------------

def _crew_units(user: Any) -> QuerySet[Unit]:
    return access.filter_by_scope(Unit.objects.select_related("department", "incident", "station"), user,
                                  "emergency.update_units", "county_code")


@staff_required
@never_cache
@require_GET
def unit_list(request: HttpRequest) -> HttpResponse:
    """The units the user may step, own department first (search by call sign)."""
    if not access.has_perm(request.user, "emergency.update_units"):
        raise PermissionDenied(_("无权更新救援力量状态"))
    qs = _crew_units(request.user)
    q = (request.GET.get("q") or "").strip()
    own_department = getattr(request.user, "department_id", None)
    mine = request.GET.get("all") != "1" and own_department is not None
    if own_department is not None and mine and qs.filter(department_id=own_department).exists():
        qs = qs.filter(department_id=own_department)
    else:
        mine = False
    if q:
        qs = qs.filter(call_sign__icontains=q)
    units = list(qs.order_by("call_sign")[:CREW_UNITS])
    return render(request, "emergency/units.html", {"units": units, "q": q, "mine": mine,
                                                    "status_labels": STATUS_LABELS, "type_labels": TYPE_LABELS})


def _crew_context(user: Any, unit: Unit, **extra: Any) -> dict[str, Any]:
    assignment = Assignment.objects.filter(unit=unit, cleared_at__isnull=True).select_related(
        "incident", "incident__incident_type").first()
    return {"unit": unit, "assignment": assignment, "status_label": STATUS_LABELS.get(unit.status, unit.status),
            "type_label": TYPE_LABELS.get(unit.unit_type, unit.unit_type),
            "steps": [(s, STATUS_LABELS[s]) for s in dispatch.allowed_next(unit)],
            "incident_link": incident_url(assignment.incident) if assignment else "",
            "eta": _clock(assignment.eta_seconds) if assignment else "", **extra}


@staff_required
@never_cache
@require_GET
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = _unit_or_404(pk)
    if not dispatch.can_update_unit(request.user, unit):
        raise PermissionDenied(_("无权更新该救援力量"))
    return render(request, "emergency/units_crew.html", _crew_context(request.user, unit))


@staff_required
@require_POST
def unit_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Step a unit's status (crew page, or the dispatcher from the incident panel: ``panel=<number>``)."""
    unit = _unit_or_404(pk)
    panel_number = request.POST.get("panel", "")
    status, error = 200, ""
    try:
        unit = dispatch.set_unit_status(acting_user=request.user, unit=unit, status=request.POST.get("status", ""),
                                        note=request.POST.get("note", ""))
    except PermissionDenied as exc:
        status, error = 403, str(exc) or _("无权更新该救援力量")
    except DomainError as exc:
        status, error = exc.status, domain_message(exc)
    if panel_number:
        incident = _incident_or_404(request.user, panel_number)
        if _swap_errors(request):
            return render(request, "emergency/_dispatch_panel.html",
                          panel_context(request.user, incident, dispatch_error=error), status=status)
        if not error:
            return redirect(_safe_next(request, incident_url(incident)))
        return render(request, "emergency/units_dispatch.html",
                      panel_context(request.user, incident, dispatch_error=error), status=status)
    if not error:
        return redirect("emergency_dispatch:unit", pk=unit.pk)
    if status == 403:
        raise PermissionDenied(error)
    unit.refresh_from_db()
    return render(request, "emergency/units_crew.html", _crew_context(request.user, unit, error=error), status=status)


@staff_required
@require_POST
def unit_position(request: HttpRequest, pk: int) -> HttpResponse:
    """A position ping from the crew's phone (``datum=wgs84`` from the browser's geolocation): JSON."""
    unit = _unit_or_404(pk)
    try:
        applied = dispatch.update_position(acting_user=request.user, unit=unit, lon=request.POST.get("lon", ""),
                                           lat=request.POST.get("lat", ""),
                                           datum="wgs84" if request.POST.get("datum") == "wgs84" else "gcj02")
    except PermissionDenied as exc:
        return JsonResponse({"error": "forbidden", "message": str(exc)}, status=403)
    except DomainError as exc:
        return JsonResponse({**exc.as_dict(), "message": domain_message(exc)}, status=exc.status)
    return JsonResponse({"applied": applied})
