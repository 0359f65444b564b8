"""Macro-economy pages (thin adapters over ``economy.services``): the indicator list and an indicator's
charts for staff, the Excel upload page, and a public summary of the indicators marked public.

Charts are drawn by ECharts served from our own static files (``static/vendor/echarts``) with data from
the JSON API (``/api/economy/indicators/{code}/values``); the tables hold the same numbers for readers
without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from liaocheng.core import access
from liaocheng.core.errors import DomainError
from liaocheng.core.forms import add_domain_error, split_bilingual

from . import services
from .forms import ChartForm, ImportForm
from .models import Indicator
from .periods import CITY, COUNTIES_NOW, DIVISION_NAMES, DIVISION_NAMES_EN, division_for_name, parse_period

FREQUENCY_LABELS = {"yearly": gettext_lazy("年度"), "quarterly": gettext_lazy("季度"), "monthly": gettext_lazy("月度")}


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in staff only: anonymous users go to the login page, other accounts get 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access.is_staff_user(request.user):
            raise PermissionDenied(_("仅限工作人员访问"))
        return view(request, *args, **kwargs)

    return wrapper


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


def _names() -> dict[str, str]:
    return DIVISION_NAMES_EN if _lang() == "en" else DIVISION_NAMES


def _label(indicator: Indicator) -> dict[str, str]:
    en = _lang() == "en"
    return {
        "name": (indicator.name_en or indicator.name_zh) if en else indicator.name_zh,
        "unit": (indicator.unit_en or indicator.unit_zh) if en else indicator.unit_zh,
    }


def _fmt(value: Decimal | None, decimals: int) -> str:
    if value is None:
        return "—"
    return f"{value:,.{decimals}f}"


def _chart_strings() -> dict[str, Any]:
    return {
        "lang": _lang(),
        "barTitle": _("{period} 各县（市、区）{name}"),
        "lineTitle": _("{name}历年变化"),
        "unit": _("单位：{unit}"),
        "loading": _("正在加载……"),
        "failed": _("图表数据加载失败"),
        "empty": _("所选统计期没有数据"),
        "generated": _("含生成的演示数据，非统计数据"),
        "names": _names(),
    }


def _chart_context(request: HttpRequest, indicator: Indicator, *, public: bool) -> dict[str, Any]:
    periods = services.periods_of(indicator, "yearly")
    form = ChartForm(request.GET or None, periods=periods, names=_names())
    period = periods[-1] if periods else ""
    divisions = [CITY, *COUNTIES_NOW[:3]]
    if form.is_valid():
        period = form.cleaned_data.get("period") or period
        divisions = form.cleaned_data.get("divisions") or divisions
    parsed = parse_period(period) if period else None
    year = parsed.year if parsed else 2024
    counties = [division_for_name(DIVISION_NAMES[c], year) or c for c in COUNTIES_NOW]
    return {
        "indicator": indicator,
        "label": _label(indicator),
        "chart_form": form,
        "period": period,
        "divisions": divisions,
        "counties": counties,
        "values_url": reverse("api:economy_indicator_values", kwargs={"code": indicator.code}),
        "chart_strings": _chart_strings(),
        "public_page": public,
    }


def _table(indicator: Indicator, divisions: list[str]) -> dict[str, Any]:
    data = services.series(indicator, divisions, kind="yearly")
    periods = sorted({p.period for points in data.values() for p in points})[-10:]
    names = _names()
    rows = []
    generated = False
    for code in divisions:
        by_period = {p.period: p for p in data[code]}
        cells = []
        for period in periods:
            point = by_period.get(period)
            generated = generated or bool(point and point.generated)
            cells.append(_fmt(point.value if point else None, indicator.decimals))
        rows.append({"code": code, "name": names.get(code, code), "cells": cells})
    return {"periods": periods, "rows": rows, "generated": generated}


@staff_required
def indicator_list(request: HttpRequest) -> HttpResponse:
    indicators = list(services.visible_indicators(request.user))
    latest = services.latest_values(indicators)
    rows = []
    for ind in indicators:
        period, values = latest.get(ind.pk, ("", {}))
        rows.append({
            "indicator": ind, "label": _label(ind), "frequency": FREQUENCY_LABELS.get(ind.frequency, ind.frequency),
            "period": period, "city": _fmt(values.get(CITY), ind.decimals) if period else "—",
        })
    return render(request, "economy/indicator_list.html", {
        "rows": rows,
        "can_import": access.has_perm(request.user, services.IMPORT_PERM),
        "generated": services.IndicatorValue.objects.filter(generated=True).exists(),
    })


@staff_required
def indicator_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        indicator = services.get_indicator(code, request.user, check_visible=True)
    except DomainError as exc:
        raise Http404(str(exc)) from exc
    context = _chart_context(request, indicator, public=False)
    context["table"] = _table(indicator, [CITY, *COUNTIES_NOW])
    context["frequency"] = FREQUENCY_LABELS.get(indicator.frequency, indicator.frequency)
    context["description"] = split_bilingual(indicator.description)
    return render(request, "economy/indicator_detail.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    if not access.has_perm(request.user, services.IMPORT_PERM):
        raise PermissionDenied(_("无权导入宏观经济指标数据"))
    status = 200
    problems: list[Any] = []
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, names=_names())
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                outcome = services.import_indicators(
                    acting_user=request.user, data=upload.read(), file_name=upload.name,
                    period=form.cleaned_data.get("period") or None,
                    division=form.cleaned_data.get("division") or None,
                    source=form.cleaned_data.get("source") or "",
                )
            except services.IndicatorImportError as exc:
                problems = exc.problems
                add_domain_error(form, exc)
                status = 400
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("已导入 {n} 个数值（新增 {created}，替换 {replaced}，未变 {unchanged}）。")
                                 .format(n=outcome.values, created=outcome.created, replaced=outcome.replaced,
                                         unchanged=outcome.unchanged))
                for warning in outcome.warnings[:20]:
                    messages.warning(request, warning)
                return redirect("economy:import")
        else:
            status = 400
    else:
        form = ImportForm(names=_names())
    en = _lang() == "en"
    return render(request, "economy/import.html", {
        "form": form,
        "problems": [{"sheet": p.sheet, "row": p.row, "column": p.column,
                      "reason": p.reason_en if en else p.reason_zh} for p in problems],
        "jobs": services.recent_jobs(),
    }, status=status)


def public_summary(request: HttpRequest) -> HttpResponse:
    indicators = list(Indicator.objects.filter(public=True))
    latest = services.latest_values(indicators)
    names = _names()
    columns = [CITY, *COUNTIES_NOW]
    rows = []
    generated = services.IndicatorValue.objects.filter(indicator__public=True, generated=True).exists()
    for ind in indicators:
        if ind.pk not in latest:
            continue
        period, values = latest[ind.pk]
        parsed = parse_period(period)
        year = parsed.year if parsed else 2024
        cells = [_fmt(values.get(division_for_name(DIVISION_NAMES[c], year) or c), ind.decimals) for c in columns]
        rows.append({"indicator": ind, "label": _label(ind), "period": period, "cells": cells})
    chosen = request.GET.get("indicator") or "gdp"
    chart_indicator = next((i for i in indicators if i.code == chosen), indicators[0] if indicators else None)
    context: dict[str, Any] = {
        "rows": rows,
        "columns": [names.get(c, c) for c in columns],
        "generated": generated,
        "public_indicators": [(i.code, _label(i)["name"]) for i in indicators],
    }
    if chart_indicator is not None:
        context.update(_chart_context(request, chart_indicator, public=True))
    return render(request, "economy/public.html", context)
