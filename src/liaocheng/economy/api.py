"""Macro-economy JSON API: the indicator catalogue and value series.

Anonymous callers see the indicators marked public; signed-in staff see all. Values are numbers in the
indicator's unit; ``generated`` marks synthetic demo values.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema

from liaocheng.core.errors import InvalidInput

from . import services
from .models import Indicator
from .periods import CITY, COUNTIES_NOW, division_for_name, division_label

router = Router(tags=["economy"])

Frequency = Literal["yearly", "quarterly", "monthly"]


class IndicatorOut(Schema):
    code: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    frequency: str
    description: str
    source_department: str
    public: bool
    first_period: str | None
    last_period: str | None


def _indicator_out(indicator: Indicator) -> dict[str, Any]:
    first, last = services.period_range(indicator)
    return {
        "code": indicator.code, "name_zh": indicator.name_zh, "name_en": indicator.name_en,
        "unit_zh": indicator.unit_zh, "unit_en": indicator.unit_en, "frequency": indicator.frequency,
        "description": indicator.description, "source_department": indicator.source_department,
        "public": indicator.public, "first_period": first, "last_period": last,
    }


@router.get("/indicators", response=list[IndicatorOut], url_name="economy_indicators",
            summary="指标目录 / the indicator catalogue",
            description="Public indicators for everyone; all indicators for signed-in staff.")
def indicators(request: HttpRequest) -> list[dict[str, Any]]:
    return [_indicator_out(i) for i in services.visible_indicators(request.user)]


@router.get("/indicators/{code}", response=IndicatorOut, url_name="economy_indicator", summary="指标 / one indicator")
def indicator(request: HttpRequest, code: str) -> dict[str, Any]:
    return _indicator_out(services.get_indicator(code, request.user, check_visible=True))


class PointOut(Schema):
    period: str
    value: float
    division_code: str = Field(description="code the value is stored under (茌平县 371523 up to 2019)")
    generated: bool = Field(description="synthetic demo value, not a statistic")
    job: int = Field(description="import job the value came from")


class SeriesOut(Schema):
    division_code: str
    division_name: str
    points: list[PointOut]


class ValuesOut(Schema):
    indicator: IndicatorOut
    series: list[SeriesOut]


def _divisions(raw: str) -> list[str]:
    if not raw.strip():
        return [CITY, *COUNTIES_NOW]
    codes: list[str] = []
    for part in raw.replace("，", ",").split(","):
        if not part.strip():
            continue
        code = division_for_name(part.strip(), 2024)
        if code is None:
            raise InvalidInput(f"未知地区：{part.strip()}", f"unknown division: {part.strip()}", field="division")
        if code not in codes:
            codes.append(code)
    return codes


@router.get("/indicators/{code}/values", response=ValuesOut, url_name="economy_indicator_values",
            summary="指标数值序列 / values of an indicator by division and period",
            description="`division`: comma-separated codes or names (default: the city and its counties); "
                        "`from`/`to`: periods such as 2019, 2024Q3, 2024-09 (inclusive). 茌平区's series includes "
                        "茌平县 (371523) before 2020.")
def values(request: HttpRequest, code: str, division: str = "",
           from_: str | None = Query(None, alias="from"), to: str | None = None,
           frequency: Frequency = "yearly") -> dict[str, Any]:
    ind = services.get_indicator(code, request.user, check_visible=True)
    codes = _divisions(division)
    lang = "en" if (get_language() or "").startswith("en") else "zh"
    data = services.series(ind, codes, from_, to, kind=frequency)
    return {
        "indicator": _indicator_out(ind),
        "series": [
            {"division_code": c, "division_name": division_label(c, lang),
             "points": [{"period": p.period, "value": float(p.value), "division_code": p.division_code,
                         "generated": p.generated, "job": p.job_id} for p in data[c]]}
            for c in codes
        ],
    }
