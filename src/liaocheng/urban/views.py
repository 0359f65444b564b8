"""Staff pages of grid urban management (thin adapters over ``urban.services``): the supervisor's report
page (phone first), the role queues, the case page with the actions the transition table allows, the
command centre (live map) and the photo view (scoped, never a public media URL).

Every change goes through ``services``: ``PermissionDenied`` → 403, ``DomainError`` → its status, with the
message shown; nothing is written on a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from liaocheng.core import access
from liaocheng.core.errors import DomainError, InvalidInput
from liaocheng.core.forms import domain_message
from liaocheng.core.models import Department
from liaocheng.core.web import staff_required
from liaocheng.geo.models import Division

from . import services
from .models import KIND_PREFIX, Case, CasePhoto, CaseState, ClassKind, MajorClass, MinorClass, PhotoKind, RequestStatus

PAGE_SIZE = 30
MAX_FEATURES = 2000


# --- queues: derived from the transition table ------------------------------------------------------

@dataclass(frozen=True)
class Queue:
    key: str
    label: Any
    perm: str
    actions: tuple[str, ...]

    @property
    def states(self) -> list[str]:
        return sorted({state for (state, action), _rule in services.TRANSITIONS.items() if action in self.actions})


QUEUES = [
    Queue("file", gettext_lazy("待立案"), "urban.file", ("file", "not_file")),
    Queue("dispatch", gettext_lazy("待派遣"), "urban.dispatch", ("dispatch",)),
    Queue("handle", gettext_lazy("本部门待处置"), "urban.handle", ("accept", "handle")),
    Queue("verify", gettext_lazy("待核查"), "urban.verify", ("verify", "rework")),
    Queue("close", gettext_lazy("待结案"), "urban.close", ("close",)),
    Queue("approve", gettext_lazy("待审批申请"), "urban.approve", ("approve_return", "approve_extension",
                                                                 "approve_deferral", "approve_void", "resume")),
]
QUEUE_BY_KEY = {q.key: q for q in QUEUES}
_NEEDS_PENDING = {"approve_return", "approve_extension", "approve_deferral", "approve_void", "reject_request"}
_APPROVE_KIND = {"approve_return": "return", "approve_extension": "extension", "approve_deferral": "deferral",
                 "approve_void": "void"}


def user_queues(user: Any) -> list[Queue]:
    return [q for q in QUEUES if access.has_perm(user, q.perm)]


def queue_cases(user: Any, queue: Queue) -> QuerySet[Case]:
    """The cases waiting for this user in ``queue``: the states where the queue's actions apply, within the
    grids where the user holds the queue's permission (own department for handling)."""
    qs = access.filter_by_scope(services.visible_cases(acting_user=user), user, queue.perm, "grid_code")
    qs = qs.filter(state__in=queue.states)
    if queue.perm == "urban.handle" and not getattr(user, "is_superuser", False):
        qs = qs.filter(department_id=getattr(user, "department_id", None))
    if queue.key == "approve":
        qs = qs.filter(Q(state=CaseState.DEFERRED) | Q(requests__status=RequestStatus.PENDING)).distinct()
    return qs


def _filter(qs: QuerySet[Case], params: Any) -> tuple[QuerySet[Case], dict[str, str]]:
    f = {k: (params.get(k) or "").strip() for k in ("state", "cls", "county", "department")}
    if f["state"] == "open":
        qs = qs.filter(state__in=services.OPEN_STATES)
    elif f["state"] in CaseState.values:
        qs = qs.filter(state=f["state"])
    if f["cls"]:
        qs = qs.filter(minor_class__full_code__startswith=f["cls"].upper())
    if f["county"]:
        qs = qs.filter(county_code=f["county"])
    if f["department"].isdigit():
        qs = qs.filter(department_id=int(f["department"]))
    return qs, f


def _filter_choices(user: Any) -> dict[str, Any]:
    scoped = services.visible_cases(acting_user=user)
    scopes = access.scopes_for(user, "urban.view_cases")
    counties = [(d.code, d.name) for d in Division.objects.filter(level="county", valid_to__isnull=True)
                .order_by("code") if any(d.code.startswith(p) or p.startswith(d.code) for p in scopes)]
    return {
        "states": CaseState.choices,
        "majors": [(KIND_PREFIX[ClassKind(m.kind)] + m.code, str(m)) for m in MajorClass.objects.all()],
        "counties": counties,
        "departments": Department.objects.filter(pk__in=scoped.values("department_id")).order_by("code"),
    }


@staff_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    if not access.has_perm(request.user, "urban.view_cases"):
        raise PermissionDenied(_("无权查看城管案卷"))
    queues = user_queues(request.user)
    key = request.GET.get("queue", "")
    queue = QUEUE_BY_KEY.get(key)
    if queue is not None and queue not in queues:
        raise PermissionDenied(_("无权查看该队列"))
    qs = queue_cases(request.user, queue) if queue else services.visible_cases(acting_user=request.user)
    qs, filters = _filter(qs, request.GET)
    page = Paginator(qs.order_by("-reported_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"queues": [(q, queue_cases(request.user, q).count()) for q in queues], "queue": queue,
               "page": page, "rows": page.object_list, "filters": filters, "query": query.urlencode(),
               "now": timezone.now(), **_filter_choices(request.user)}
    template = "urban/_case_rows.html" if request.headers.get("HX-Request") else "urban/case_list.html"
    return render(request, template, context)


# --- the case page and its actions ------------------------------------------------------------------

def available_actions(user: Any, case: Case) -> list[str]:
    """The actions of the transition table this user may take on ``case`` now."""
    pending = case.requests.filter(status=RequestStatus.PENDING).first()
    result = []
    for action in services.allowed_actions(case):
        _state, perm = services.TRANSITIONS[(case.state, action)]
        if not access.has_perm(user, perm, case.grid_code):
            continue
        if perm == "urban.handle" and not getattr(user, "is_superuser", False) and (
                case.department_id is None or getattr(user, "department_id", None) != case.department_id):
            continue
        if action.startswith("request_") and pending is not None:
            continue
        if action in _NEEDS_PENDING:
            if pending is None or pending.requested_by_id == user.pk:
                continue
            if action in _APPROVE_KIND and pending.kind != _APPROVE_KIND[action]:
                continue
        if action == "merge":
            continue  # offered with the duplicates found at intake
        result.append(action)
    return result


ACTION_LABELS = {
    "file": gettext_lazy("立案"), "not_file": gettext_lazy("不予立案"), "merge": gettext_lazy("合并"),
    "dispatch": gettext_lazy("派遣"), "accept": gettext_lazy("签收"), "handle": gettext_lazy("处置完成"),
    "verify": gettext_lazy("核查通过"), "rework": gettext_lazy("返工"), "close": gettext_lazy("结案"),
    "resume": gettext_lazy("恢复处置"), "request_return": gettext_lazy("申请退回"),
    "request_extension": gettext_lazy("申请延期"), "request_deferral": gettext_lazy("申请挂账"),
    "request_void": gettext_lazy("申请作废"), "approve_return": gettext_lazy("批准退回"),
    "approve_extension": gettext_lazy("批准延期"), "approve_deferral": gettext_lazy("批准挂账"),
    "approve_void": gettext_lazy("批准作废"), "reject_request": gettext_lazy("驳回申请"),
    "report": gettext_lazy("上报"), "merge_in": gettext_lazy("合并上报"), "warn": gettext_lazy("预警"),
    "escalate": gettext_lazy("超期督办"), "hand_to_emergency": gettext_lazy("移交应急"),
}
# which extra inputs each action's form shows
ACTION_FIELDS = {
    "not_file": ("reason",), "request_return": ("reason",), "request_deferral": ("reason",),
    "request_void": ("reason",), "hand_to_emergency": ("reason",), "request_extension": ("reason", "extension"),
    "dispatch": ("department",),
    "handle": ("notes", "photos"), "rework": ("note_required",),
}


def _case_context(request: HttpRequest, case: Case, **extra: Any) -> dict[str, Any]:
    actions = available_actions(request.user, case)
    state_labels = dict(CaseState.choices)
    events = [(e, ACTION_LABELS.get(e.action, e.action), state_labels.get(e.from_state, e.from_state),
               state_labels.get(e.to_state, e.to_state)) for e in case.events.all()]
    now = timezone.now()
    return {
        "case": case, "events": events, "now": now,
        "is_overdue": case.overdue or bool(case.due_at and case.due_at < now and case.state in services.CLOCK_STATES),
        "photos_before": case.photos.filter(kind=PhotoKind.BEFORE),
        "photos_after": case.photos.filter(kind=PhotoKind.AFTER),
        "requests": case.requests.all(),
        "actions": [(a, ACTION_LABELS.get(a, a), ACTION_FIELDS.get(a, ())) for a in actions],
        "departments": Department.objects.filter(active=True, kind=case.minor_class.department_kind)
        if "dispatch" in actions else [],
        "merged_reports": case.merged_reports.all(),
        "handoffs": case.emergency_handoffs.all(),
        **extra,
    }


def _get_case_or_404(user: Any, pk: int) -> Case:
    try:
        return services.get_case(acting_user=user, pk=pk)
    except DomainError as exc:
        raise Http404(domain_message(exc)) from exc


@staff_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case_or_404(request.user, pk)
    return render(request, "urban/case_detail.html", _case_context(request, case))


def _action_data(request: HttpRequest, case: Case, action: str) -> dict[str, Any]:
    post = request.POST
    data: dict[str, Any] = {}
    fields = ACTION_FIELDS.get(action, ())
    if "reason" in fields:
        data["reason"] = post.get("reason", "")
    if "extension" in fields:
        value = post.get("value", "")
        if not value.isdigit():
            raise InvalidInput("延期时长应为正整数", "the extension must be a whole number", field="value")
        data["value"], data["unit"] = int(value), post.get("unit") or None
    if "department" in fields and post.get("department"):
        dept = Department.objects.filter(pk=post["department"]).first() if post["department"].isdigit() else None
        if dept is None:
            raise InvalidInput("处置部门不存在", "unknown department", field="department")
        data["department"] = dept
    if "notes" in fields:
        data["notes"] = post.get("notes", "")
        data["photos"] = request.FILES.getlist("photos")
    if "note_required" in fields:
        data["note"] = post.get("note", "")
    return data


@staff_required
@require_POST
def case_action(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case_or_404(request.user, pk)
    action = request.POST.get("action", "")
    status = 200
    try:
        if action not in {a for _s, a in services.TRANSITIONS}:
            raise InvalidInput("未知的操作", "unknown action", field="action")
        data = _action_data(request, case, action)
        note = "" if "note" in data else request.POST.get("note", "")
        services.transition(case, action, acting_user=request.user, note=note, **data)
    except PermissionDenied as exc:
        status, error = 403, str(exc) or _("无权执行该操作")
    except DomainError as exc:
        status, error = exc.status, domain_message(exc)
    else:
        return redirect("urban:case", pk=case.pk)
    case.refresh_from_db()
    return render(request, "urban/case_detail.html", _case_context(request, case, error=error), status=status)


@staff_required
@require_POST
def case_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow an existing case instead: attach the new report ``pk`` to the duplicate ``into``."""
    case = _get_case_or_404(request.user, pk)
    into_pk = request.POST.get("into", "")
    into = _get_case_or_404(request.user, int(into_pk)) if into_pk.isdigit() else None
    try:
        if into is None:
            raise InvalidInput("请指定要合并到的案卷", "the case to merge into is required", field="into")
        services.merge_duplicate(acting_user=request.user, case=case, into=into)
    except PermissionDenied as exc:
        return render(request, "urban/case_detail.html", _case_context(request, case, error=str(exc)), status=403)
    except DomainError as exc:
        return render(request, "urban/case_detail.html", _case_context(request, case, error=domain_message(exc)),
                      status=exc.status)
    return redirect("urban:case", pk=into.pk)


@staff_required
@require_GET
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    row = CasePhoto.objects.filter(pk=pk).first()
    if row is None:
        raise Http404
    try:
        services.get_case(acting_user=request.user, pk=row.case_id)
    except DomainError as exc:
        raise Http404 from exc
    response = FileResponse(row.image.open("rb"), content_type=row.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return cast(HttpResponse, response)  # a streaming response; staff_required is typed for HttpResponse


# --- report (supervisor, phone) ---------------------------------------------------------------------

def _float(value: str | None, field: str) -> float:
    try:
        return float(value or "")
    except ValueError as exc:
        raise InvalidInput("请先确定位置（定位或在地图上点选）", "choose the location first (device or map)",
                           field=field) from exc


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    if not access.has_perm(request.user, "urban.report"):
        raise PermissionDenied(_("无权上报城管问题"))
    majors = MajorClass.objects.prefetch_related("minors")
    context: dict[str, Any] = {"majors": majors, "minors": MinorClass.objects.filter(active=True)
                               .select_related("major")}
    if request.method == "GET":
        return render(request, "urban/report.html", context)
    post = request.POST
    partial = bool(request.headers.get("X-Urban-Report"))
    try:
        datum = "wgs84" if post.get("datum") == "wgs84" else "gcj02"
        component_code = post.get("component_code", "").strip()  # a picked census component (optional)
        located = bool(post.get("lon") or post.get("lat")) or not component_code  # else: the component's point
        result = services.report_case(
            acting_user=request.user, channel="supervisor", class_code=post.get("class_code", ""),
            lon=_float(post.get("lon"), "lon") if located else None,
            lat=_float(post.get("lat"), "lat") if located else None, datum=datum,
            description=post.get("description", ""), address=post.get("address", ""),
            photos=request.FILES.getlist("photos"), component_code=component_code,
        )
    except PermissionDenied as exc:
        return render(request, "urban/_report_result.html" if partial else "urban/report.html",
                      {**context, "error": str(exc)}, status=403)
    except DomainError as exc:
        return render(request, "urban/_report_result.html" if partial else "urban/report.html",
                      {**context, "error": domain_message(exc), "form": post}, status=exc.status)
    result_context = {"case": result.case, "duplicates": result.duplicates}
    if partial:
        return render(request, "urban/_report_result.html", result_context, status=201)
    return render(request, "urban/report_done.html", {**context, **result_context}, status=201)


# --- command centre ---------------------------------------------------------------------------------

@staff_required
@require_GET
def command(request: HttpRequest) -> HttpResponse:
    if not access.has_perm(request.user, "urban.view_cases"):
        raise PermissionDenied(_("无权查看城管案卷"))
    return render(request, "urban/command.html", {"filters": {"state": "open"}, **_filter_choices(request.user)})


@staff_required
@require_GET
def command_data(request: HttpRequest) -> HttpResponse:
    """Open cases in the user's scope (or the filtered state) as a GeoJSON FeatureCollection (GCJ-02)."""
    qs = services.visible_cases(acting_user=request.user)
    params = request.GET.copy()
    params.setdefault("state", "open")
    qs, _f = _filter(qs, params)
    now = timezone.now()
    state_labels = dict(CaseState.choices)
    features = []
    for case in qs.order_by("-reported_at")[:MAX_FEATURES]:
        overdue = case.overdue or (case.due_at is not None and case.due_at < now
                                   and case.state in services.CLOCK_STATES)
        features.append({
            "type": "Feature", "id": case.pk,
            "geometry": {"type": "Point", "coordinates": [case.lon, case.lat]},
            "properties": {
                "number": case.number, "state": case.state, "state_label": state_labels.get(case.state, case.state),
                "class": f"{case.minor_class.full_code} {case.minor_class.name}", "county_code": case.county_code,
                "department": case.department.name if case.department else "", "overdue": overdue,
                "due_at": case.due_at.isoformat() if case.due_at else None, "address": case.address,
                "url": reverse("urban:case", kwargs={"pk": case.pk}),
            },
        })
    return JsonResponse({"type": "FeatureCollection", "features": features, "numberReturned": len(features),
                         "timeStamp": now.isoformat()})



# --- evaluation (综合评价) ------------------------------------------------------------------------------

@staff_required
@require_GET
def evaluation_page(request: HttpRequest) -> HttpResponse:
    """League table per department/grid/township/county/reporter for a day, a month or a custom range;
    ``?format=csv|xlsx`` exports the same rows."""
    import datetime as dt

    from . import evaluation

    if not access.has_perm(request.user, "urban.view_cases"):
        raise PermissionDenied(_("无权查看城管案卷"))
    params = request.GET
    group_by = params.get("group_by", "department")
    if group_by not in evaluation.GROUPS:
        group_by = "department"
    period = params.get("period", "month")
    today = timezone.localdate()
    error = ""
    try:
        if period == "day":
            start = end = dt.date.fromisoformat(params.get("day") or today.isoformat())
        elif period == "custom":
            start = dt.date.fromisoformat(params.get("start") or today.replace(day=1).isoformat())
            end = dt.date.fromisoformat(params.get("end") or today.isoformat())
        else:
            period = "month"
            month = params.get("month") or today.strftime("%Y-%m")
            start = dt.date.fromisoformat(month + "-01")
            end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    except ValueError:
        period, start, end = "month", today.replace(day=1), today
        error = _("日期格式不正确，已显示本月数据。")
    county = params.get("county") or None
    try:
        rows = evaluation.evaluate(acting_user=request.user, group_by=group_by, start=start, end=end, county=county)
    except InvalidInput as exc:
        rows, error = [], domain_message(exc)
    fmt = params.get("format", "")
    if fmt in ("csv", "xlsx"):
        name = f"urban-evaluation-{group_by}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}"
        if fmt == "csv":
            response = HttpResponse(evaluation.to_csv(rows), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(
                evaluation.to_xlsx(rows),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    query = params.copy()
    query.pop("format", None)
    groups = [("department", _("责任部门")), ("grid", _("单元网格")), ("township", _("乡镇/街道")),
              ("county", _("县（市、区）")), ("role", _("上报人（监督员等）"))]
    chart = {"labels": [r.label for r in rows], "on_time": [r.on_time_rate for r in rows],
             "closure": [r.closure_rate for r in rows],
             "names": {"on_time": _("按期结案率(%)"), "closure": _("结案率(%)")}}
    context = {"rows": rows, "group_by": group_by, "groups": groups, "period": period, "start": start, "end": end,
               "month": start.strftime("%Y-%m"), "county": county or "", "error": error, "chart": chart,
               "query": query.urlencode(), "counties": _filter_choices(request.user)["counties"]}
    return render(request, "urban/evaluation.html", context)
