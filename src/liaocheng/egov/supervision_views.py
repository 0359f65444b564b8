"""The supervision console (电子监察) for the supervision office: cards per department, the card list with
filters, the department performance report by month, CSV exports. Everything is scoped by the divisions in
which the user holds ``egov.supervise``; cards are written by the background sweep (``supervision``)."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from liaocheng.core import access
from liaocheng.core.web import staff_required

from .models import CardKind, Case, CaseStatus, SupervisionCard

PERM = "egov.supervise"
PAGE_SIZE = 50
FINISHED = (CaseStatus.ISSUED, CaseStatus.REJECTED, CaseStatus.REFUSED)


def _require(user: Any) -> None:
    if not access.has_perm(user, PERM):
        raise PermissionDenied(_("无权查看电子监察"))


def _month(value: str | None) -> tuple[dt.datetime, dt.datetime, str]:
    today = timezone.localdate()
    try:
        year, month = (int(x) for x in (value or "").split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (dt.datetime.combine(first, dt.time.min, tz), dt.datetime.combine(nxt, dt.time.min, tz),
            f"{first:%Y-%m}")


def _cards(request: HttpRequest) -> tuple[QuerySet[SupervisionCard], dict[str, str]]:
    qs = access.filter_by_scope(SupervisionCard.objects.all(), request.user, PERM, "division_code")
    filters = {k: (request.GET.get(k) or "").strip() for k in ("kind", "state", "department", "month")}
    if filters["kind"] in CardKind.values:
        qs = qs.filter(kind=filters["kind"])
    if filters["state"] == "open":
        qs = qs.filter(resolved_at__isnull=True)
    elif filters["state"] == "resolved":
        qs = qs.filter(resolved_at__isnull=False)
    if filters["department"].isdigit():
        qs = qs.filter(department_id=int(filters["department"]))
    if filters["month"]:
        start, end, filters["month"] = _month(filters["month"])
        qs = qs.filter(created_at__gte=start, created_at__lt=end)
    return qs, filters


def _per_department(qs: QuerySet[SupervisionCard]) -> list[dict[str, Any]]:
    aggregates: dict[str, Any] = {}
    for kind in CardKind.values:
        aggregates[f"{kind}_open"] = Count("pk", filter=Q(kind=kind, resolved_at__isnull=True))
        aggregates[f"{kind}_all"] = Count("pk", filter=Q(kind=kind))
    rows = (qs.values("department_id", "department__name").annotate(total=Count("pk"), **aggregates)
            .order_by("-total", "department__name"))
    return [{"department_id": r["department_id"], "name": r["department__name"], "total": r["total"],
             "kinds": [(r[f"{k}_open"], r[f"{k}_all"]) for k in CardKind.values]} for r in rows]


@staff_required
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    _require(request.user)
    qs, filters = _cards(request)
    page = Paginator(qs.select_related("case", "disclosure_request", "department").order_by("-created_at", "-pk"),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    departments = sorted({(r["department_id"], r["department__name"]) for r in access.filter_by_scope(
        SupervisionCard.objects.all(), request.user, PERM, "division_code").values(
        "department_id", "department__name").distinct()}, key=lambda x: x[1])
    return render(request, "egov/supervision.html", {
        "page": page, "filters": filters, "summary": _per_department(qs), "kinds": CardKind.choices,
        "departments": departments, "open_count": qs.filter(resolved_at__isnull=True).count(),
        "query": request.GET.urlencode(),
    })


def _csv_response(filename: str, header: list[str], rows: Any) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@staff_required
@require_GET
def cards_csv(request: HttpRequest) -> HttpResponse:
    _require(request.user)
    qs, _filters = _cards(request)
    labels = dict(CardKind.choices)
    rows = ([c.pk, str(labels.get(c.kind, c.kind)), c.case.number if c.case else "",
             c.disclosure_request.number if c.disclosure_request else "", c.step_key, c.department.name,
             c.division_code, _local(c.created_at), _local(c.deadline_at), _local(c.resolved_at), c.note]
            for c in qs.select_related("case", "disclosure_request", "department").order_by("created_at", "pk")
            .iterator(chunk_size=2000))
    return _csv_response("supervision-cards.csv", ["id", "类型", "办件编号", "依申请公开编号", "环节", "部门", "区划",
                                                   "发出时间", "期限", "解除时间", "说明"], rows)


def performance(user: Any, month: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Per department in the user's scope: cases finished in the month, on time (by the promised deadline),
    on-time share, cards written in the month by kind."""
    start, end, label = _month(month)
    cases = access.filter_by_scope(Case.objects.all(), user, PERM, "division_code").annotate(
        finished=Coalesce("issued_at", "decided_at")).filter(status__in=FINISHED, finished__gte=start,
                                                             finished__lt=end)
    stats = {r["department_id"]: r for r in cases.values("department_id", "department__name").annotate(
        finished_count=Count("pk"),
        on_time=Count("pk", filter=Q(promised_due_at__isnull=True) | Q(finished__lte=F("promised_due_at"))))}
    cards = access.filter_by_scope(SupervisionCard.objects.all(), user, PERM, "division_code").filter(
        created_at__gte=start, created_at__lt=end)
    card_stats = {r["department_id"]: r for r in cards.values("department_id", "department__name").annotate(
        **{k: Count("pk", filter=Q(kind=k)) for k in CardKind.values})}
    rows = []
    for dept_id in stats.keys() | card_stats.keys():
        s, c = stats.get(dept_id, {}), card_stats.get(dept_id, {})
        finished = s.get("finished_count", 0)
        on_time = s.get("on_time", 0)
        rows.append({"name": s.get("department__name") or c.get("department__name"), "finished": finished,
                     "on_time": on_time, "on_time_pct": round(100 * on_time / finished, 1) if finished else None,
                     "cards": [c.get(k, 0) for k in CardKind.values]})
    rows.sort(key=lambda r: (-r["finished"], r["name"] or ""))
    return label, rows


@staff_required
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    _require(request.user)
    label, rows = performance(request.user, request.GET.get("month"))
    return render(request, "egov/supervision_report.html", {"month": label, "rows": rows, "kinds": CardKind.choices})


@staff_required
@require_GET
def report_csv(request: HttpRequest) -> HttpResponse:
    _require(request.user)
    label, rows = performance(request.user, request.GET.get("month"))
    kinds = [str(name) for _k, name in CardKind.choices]
    header = ["月份", "部门", "办结件数", "按时办结", "按时办结率%", *kinds]
    return _csv_response(f"supervision-report-{label}.csv", header,
                         ([label, r["name"], r["finished"], r["on_time"],
                           "" if r["on_time_pct"] is None else r["on_time_pct"], *r["cards"]] for r in rows))
