"""The response-metrics page (thin adapter over ``emergency.metrics``): a day, a month, the last year or a
custom range, grouped by agency, county, incident class or sub-class, centre or line; percentiles, target
compliance, ECharts charts; ``?format=csv|xlsx`` exports the same figures. Staff holding
``emergency.view_metrics``; the figures cover the incidents in the user's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from liaocheng.core import access
from liaocheng.core.errors import InvalidInput
from liaocheng.core.forms import domain_message
from liaocheng.core.web import staff_required
from liaocheng.geo.models import Division

from . import metrics

PERIODS = ("day", "month", "year", "custom")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _range(params: Any, today: dt.date) -> tuple[str, dt.date, dt.date]:
    """(period, start, end) from the query; ``ValueError`` for a malformed date."""
    period = params.get("period", "month")
    if period == "day":
        day = dt.date.fromisoformat(params.get("day") or today.isoformat())
        return period, day, day
    if period == "year":
        return period, today - dt.timedelta(days=364), today
    if period == "custom":
        start = dt.date.fromisoformat(params.get("start") or (today - dt.timedelta(days=29)).isoformat())
        return period, start, dt.date.fromisoformat(params.get("end") or today.isoformat())
    month = params.get("month") or today.strftime("%Y-%m")
    start = dt.date.fromisoformat(month + "-01")
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return "month", start, end


def _counties(user: Any) -> list[tuple[str, str]]:
    scopes = access.scopes_for(user, metrics.PERM)
    return [(d.code, d.name) for d in Division.objects.filter(level="county", valid_to__isnull=True).order_by("code")
            if any(d.code.startswith(p) or p.startswith(d.code) for p in scopes)]


def _chart(report: metrics.Report) -> dict[str, Any]:
    target = metrics.TARGETS_BY_KEY["dispatch_60"]
    return {
        "histogram": report.histogram, "trend": report.trend, "dispatch_target": target.seconds,
        "names": {
            "incidents": _("事件数"), "dispatch_p90": _("接警至首次派警 P90（秒）"),
            "arrival_p90": _("派警至首车到场 P90（秒）"), "answer_15": _("15 秒内接听率(%)"),
            "count": _("事件数"), "within": _("%(s)s 秒内派警") % {"s": target.seconds},
            "beyond": _("超过 %(s)s 秒") % {"s": target.seconds}, "seconds": _("秒"), "percent": "%",
            "target": _("目标 90%"),
        },
    }


@staff_required
@require_GET
def metrics_page(request: HttpRequest) -> HttpResponse:
    if not access.has_perm(request.user, metrics.PERM):
        raise PermissionDenied(_("无权查看响应时效统计"))
    params = request.GET
    group_by = params.get("group_by", "county")
    if group_by not in metrics.GROUPS:
        group_by = "county"
    today = timezone.localdate()
    error = ""
    try:
        period, start, end = _range(params, today)
    except ValueError:
        period, start, end = "month", today.replace(day=1), today
        error = _("日期格式不正确，已显示本月数据。")
    counties = _counties(request.user)
    county = params.get("county") or ""
    if county not in {c for c, _n in counties}:
        county = ""
    report: metrics.Report | None = None
    try:
        report = metrics.build_report(acting_user=request.user, start=start, end=end, group_by=group_by,
                                      county=county or None)
    except InvalidInput as exc:
        error = domain_message(exc)
    fmt = params.get("format", "")
    if report is not None and fmt in ("csv", "xlsx"):
        name = f"emergency-metrics-{group_by}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}"
        if fmt == "csv":
            response = HttpResponse(metrics.to_csv(report), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(metrics.to_xlsx(report), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    query = params.copy()
    query.pop("format", None)
    rows = []
    if report is not None:
        for row in [report.total, *report.rows]:
            rows.append({"row": row, "total": row is report.total,
                         "stats": [row.stats[m] for m in metrics.METRICS],
                         "compliance": [row.compliance[t.key] for t in metrics.TARGETS]})
    context = {
        "report": report, "rows": rows, "group_by": group_by, "groups": list(metrics.GROUPS.items()),
        "group_label": metrics.GROUPS[group_by], "metric_names": list(metrics.METRICS.values()),
        "percentiles": metrics.PERCENTILES, "targets": metrics.TARGETS,
        "summary": [report.total.compliance[t.key] for t in metrics.TARGETS] if report else [],
        "period": period, "start": start, "end": end, "month": start.strftime("%Y-%m"), "county": county,
        "counties": counties, "error": error, "query": query.urlencode(),
        "chart": _chart(report) if report is not None and report.total.incidents else None,
    }
    return render(request, "emergency/metrics.html", context)
