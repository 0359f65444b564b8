"""Macro-economy base: Excel import in the three published layouts, errors, re-import, API, pages, demo."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import Workbook

from liaocheng.core.departments import department_code
from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import AuditRecord
from liaocheng.economy import services
from liaocheng.economy.models import ImportJob, Indicator, IndicatorValue, IndicatorValueHistory

pytestmark = pytest.mark.django_db

HEADER = ["指标名称", "单位", "聊城市", "东昌府区", "茌平区", "阳谷县", "莘  县", "东阿县", "冠　县", "高唐县",
          "临清市"]


def xlsx(*sheets: tuple[str, list[list[Any]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def by_division(title: str = "2024年聊城市各县（市、区）主要经济指标", chiping: str = "茌平区") -> bytes:
    header = [chiping if h == "茌平区" else h for h in HEADER] + ["聊城经济技术开发区"]
    return xlsx(("主要指标", [
        [title],
        [],
        header,
        ["地区生产总值", "亿元", "2,995.61", 650.2, 401.5, 310, "330.12", 230, 275.5, 262, 380.4, 55.1],
        ["  其中：第一产业", "亿元", 340.25, 30, 38, 47, 60, 32, 47, 34, 45, 1],
        ["社会消费品零售总额", "万元", 11200000, 2600000, "—", 1100000, 1200000, 800000, 950000, 850000, 1300000, None],
        ["城镇居民人均可支配收入", "元", 36500, 41000, 37000, "…", 33500, 35000, 33000, 35500, 36000, None],
        [],
        ["注：本表为演示数据。"],
        ["资料来源：聊城市统计局"],
    ]))


@pytest.fixture
def stats_admin(staff_factory: Any) -> Any:
    return staff_factory("stats_admin", department_code=department_code("371500", "statistics"),
                         roles=(("statistics_admin", "371500"),))


def _value(code: str, division: str, period: str) -> Decimal:
    return IndicatorValue.objects.get(indicator__code=code, division_code=division, period=period).value


def _counts() -> tuple[int, int, int]:
    return IndicatorValue.objects.count(), ImportJob.objects.count(), AuditRecord.objects.count()


# --- layouts ----------------------------------------------------------------------------------------

def test_by_division_layout_with_title_footnotes_and_missing_cells(stats_admin: Any) -> None:
    outcome = services.import_indicators(acting_user=stats_admin, data=by_division(), file_name="2024.xlsx",
                                         source="聊城市统计局")
    assert outcome.layouts == {"主要指标": "by_division"}
    assert _value("gdp", "371500", "2024") == Decimal("2995.61")
    assert _value("gdp", "371522", "2024") == Decimal("330.12")  # text cell, padded name 莘  县
    assert _value("gdp", "371525", "2024") == Decimal("275.5")  # full-width padding 冠　县
    assert _value("gdp_primary", "371503", "2024") == Decimal("38")  # 其中：第一产业
    assert _value("retail_sales", "371500", "2024") == Decimal("1120")  # 万元 -> 亿元
    assert not IndicatorValue.objects.filter(indicator__code="retail_sales", division_code="371503").exists()  # —
    assert not IndicatorValue.objects.filter(indicator__code="urban_income", division_code="371521").exists()  # …
    assert not IndicatorValue.objects.filter(division_code__in=["", "371599"]).exists()
    assert any("开发区" in w for w in outcome.warnings)  # the zone column is skipped, with a warning
    assert outcome.created == outcome.values == 9 + 9 + 8 + 8
    value = IndicatorValue.objects.get(indicator__code="gdp", division_code="371500")
    assert value.cell == "主要指标!C4" and value.job == outcome.job and not value.generated
    assert outcome.job.source == "聊城市统计局" and outcome.job.file_name == "2024.xlsx"
    record = AuditRecord.objects.get(action="economy.import_indicators")
    assert record.after["values"] == outcome.values and record.division_code == "371500"


def test_chiping_county_maps_by_year(stats_admin: Any) -> None:
    services.import_indicators(acting_user=stats_admin, data=by_division("2018年各县（市、区）主要经济指标", "茌平县"))
    services.import_indicators(acting_user=stats_admin, data=by_division("2020年各县（市、区）主要经济指标", "茌平县"))
    assert _value("gdp", "371523", "2018") == Decimal("401.5")
    assert _value("gdp", "371503", "2020") == Decimal("401.5")
    assert not IndicatorValue.objects.filter(division_code="371503", period="2018").exists()
    # the successor's series continues with its predecessor's values
    series = services.series(Indicator.objects.get(code="gdp"), ["371503"])["371503"]
    assert [(p.period, p.division_code) for p in series] == [("2018", "371523"), ("2020", "371503")]


def test_transposed_layout(stats_admin: Any) -> None:
    data = xlsx(("Sheet1", [
        ["2019年聊城市各县（市、区）主要经济指标"],
        ["地区", "地区生产总值（亿元）", "一般公共预算收入", "年末常住人口"],
        ["单位", "", "万元", "万人"],
        ["聊城市", "2,259.10", 1_510_000, 603.5],
        ["东昌府区", 480.5, 210_000, 126],
        ["茌 平 县", 290.3, "—", 51],
        ["莘县", 250.1, 95_000, "…"],
        ["江北水城旅游度假区", 12, 1000, 3],
        [None],
        ["注：年末常住人口为抽样调查推算数。"],
    ]))
    outcome = services.import_indicators(acting_user=stats_admin, data=data, period="2019")
    assert outcome.layouts == {"Sheet1": "by_indicator"}
    assert _value("gdp", "371500", "2019") == Decimal("2259.1")
    assert _value("budget_revenue", "371500", "2019") == Decimal("151")
    assert _value("gdp", "371523", "2019") == Decimal("290.3")
    assert _value("population", "371502", "2019") == Decimal("126")
    assert not IndicatorValue.objects.filter(indicator__code="budget_revenue", division_code="371523").exists()
    assert not IndicatorValue.objects.filter(indicator__code="population", division_code="371522").exists()
    assert any("度假区" in w for w in outcome.warnings)
    assert outcome.values == 10


def test_time_series_needs_a_division(stats_admin: Any) -> None:
    data = xlsx(("茌平", [["主要经济指标"], ["指标", "单位", "2019年", "2020年"], ["地区生产总值", "亿元", 300, 320]]))
    with pytest.raises(services.IndicatorImportError) as info:
        services.import_indicators(acting_user=stats_admin, data=data)
    assert [(p.sheet, p.row, p.column) for p in info.value.problems] == [("茌平", 1, "A")]
    assert "cannot tell the division" in info.value.problems[0].reason_en


def test_time_series_layout(stats_admin: Any) -> None:
    sheet = [
        ["莘县2015—2024年主要经济指标"],
        ["指标名称", "单位", 2015, "2016年", "2017", 2018, 2019, 2020, 2021, 2022, 2023, 2024],
        ["地区生产总值", "亿元", 210.5, 220.1, 231, 240, 250.2, 255.7, "281.3", 295, 309.9, "—"],
        ["农村居民人均可支配收入", "元", "11,020", 11_900, 12_800, 13_750, 14_800, 15_500, 17_000, 18_000, 19_100,
         20_200],
        ["资料来源：莘县统计局"],
    ]
    outcome = services.import_indicators(acting_user=stats_admin, data=xlsx(("莘县", sheet)))
    assert outcome.layouts == {"莘县": "time_series"}
    assert _value("gdp", "371522", "2016") == Decimal("220.1")
    assert _value("rural_income", "371522", "2015") == Decimal("11020")
    assert not IndicatorValue.objects.filter(indicator__code="gdp", period="2024").exists()
    assert outcome.values == 9 + 10
    # a sheet for 茌平 named by the caller: codes by year
    chiping = xlsx(("茌平", [["主要经济指标"], ["指标", "单位", "2019年", "2020年"],
                            ["地区生产总值", "亿元", 300, 320]]))
    services.import_indicators(acting_user=stats_admin, data=chiping, division="茌平区")
    assert _value("gdp", "371523", "2019") == Decimal("300")
    assert _value("gdp", "371503", "2020") == Decimal("320")


# --- bad input ----------------------------------------------------------------------------------------

def test_bad_cells_are_named_and_nothing_is_written(stats_admin: Any) -> None:
    services.ensure_catalogue()
    before = _counts()
    data = xlsx(("甲表", [
        ["2024年聊城市各县（市、区）主要经济指标"],
        HEADER,
        ["地区生产总值", "亿元", 2995.6, "abc", 400, 310, 330, 230, 275, 262, "1,2,3"],
        ["不存在的指标", "亿元", 1, 2, 3, 4, 5, 6, 7, 8, 9],
        ["社会消费品零售总额", "吨", 1, 2, 3, 4, 5, 6, 7, 8, 9],
        ["按行业分"],  # a section heading without values: not an error
    ]), ("乙表", [
        ["2023年主要经济指标"],
        ["地区", "地区生产总值"],
        ["火星", 5],
    ]))
    with pytest.raises(services.IndicatorImportError) as info:
        services.import_indicators(acting_user=stats_admin, data=data, period="2024")
    cells = {(p.sheet, p.row, p.column) for p in info.value.problems}
    assert cells == {("甲表", 3, "D"), ("甲表", 3, "K"), ("甲表", 4, "A"), ("甲表", 5, "B"), ("乙表", 1, "A")}
    bad = next(p for p in info.value.problems if p.column == "D")
    assert "abc" in bad.reason_zh and "not a number" in bad.reason_en
    title = next(p for p in info.value.problems if p.sheet == "乙表")
    assert "2023" in title.reason_zh and "2024" in title.reason_en
    assert "甲表" in info.value.message_zh and "row 3 column D" in info.value.message_en
    assert info.value.as_dict()["problems"][0]["sheet"] == "甲表"
    assert _counts() == before


def test_unknown_division_row_period_and_duplicates(stats_admin: Any) -> None:
    data = xlsx(("S", [
        ["主要经济指标"],
        ["地区", "地区生产总值", "年末常住人口"],
        ["火星", 5, 1],
        ["莘县", 5, 1],
        ["莘县", 6, 1],
    ]))
    with pytest.raises(services.IndicatorImportError) as info:
        services.import_indicators(acting_user=stats_admin, data=data)
    reasons = {(p.row, p.column): p.reason_en for p in info.value.problems}
    assert "cannot tell the period" in reasons[(2, "A")]
    with pytest.raises(services.IndicatorImportError) as info:
        services.import_indicators(acting_user=stats_admin, data=data, period="2024")
    reasons = {(p.row, p.column): p.reason_en for p in info.value.problems}
    assert "unknown division" in reasons[(3, "A")]
    assert "duplicates S!B4" in reasons[(5, "B")]
    # a yearly indicator has no monthly values
    with pytest.raises(services.IndicatorImportError) as info:
        services.import_indicators(acting_user=stats_admin, data=by_division("2024年1-9月主要经济指标"))
    # GDP, its primary part and urban income are quarterly: no 2024-09 values (retail sales are monthly)
    assert {p.row for p in info.value.problems} == {4, 5, 7}
    assert "quarterly indicator" in info.value.problems[0].reason_en
    with pytest.raises(InvalidInput):
        services.import_indicators(acting_user=stats_admin, data=b"not a workbook")
    with pytest.raises(InvalidInput):
        services.import_indicators(acting_user=stats_admin, data=by_division(), period="2024年13月")
    assert not IndicatorValue.objects.exists()


def test_reimport_replaces_values_and_keeps_history(stats_admin: Any) -> None:
    first = services.import_indicators(acting_user=stats_admin, data=by_division())
    again = services.import_indicators(acting_user=stats_admin, data=by_division())  # same figures
    assert again.unchanged == again.values and again.replaced == 0
    data = xlsx(("主要指标", [["2024年聊城市主要经济指标"], HEADER, ["地区生产总值", "亿元", 3001.5]]))
    third = services.import_indicators(acting_user=stats_admin, data=data)
    assert (third.created, third.replaced) == (0, 1)
    assert _value("gdp", "371500", "2024") == Decimal("3001.5")
    history = IndicatorValueHistory.objects.get()
    assert history.value == Decimal("2995.61") and history.job == first.job and history.replaced_by == third.job
    assert AuditRecord.objects.filter(action="economy.import_indicators").count() == 3


def test_county_clerk_imports_only_their_county(staff_factory: Any) -> None:
    clerk = staff_factory("shen_stats", department_code=department_code("371522", "statistics"),
                          roles=(("statistics_clerk", "371522"),))
    with pytest.raises(PermissionDenied):
        services.import_indicators(acting_user=clerk, data=by_division())
    assert not IndicatorValue.objects.exists()
    data = xlsx(("莘县", [["莘县2023—2024年主要经济指标"], ["指标名称", "单位", 2023, 2024],
                          ["地区生产总值", "亿元", 300, 320]]))
    outcome = services.import_indicators(acting_user=clerk, data=data)
    assert outcome.created == 2
    assert AuditRecord.objects.get(action="economy.import_indicators").division_code == "371522"
    viewer = staff_factory("viewer_only", roles=(("viewer", "371500"),))
    with pytest.raises(PermissionDenied):
        services.import_indicators(acting_user=viewer, data=data)


# --- CLI, API, pages ---------------------------------------------------------------------------------------

def test_import_command(tmp_path: Path, stats_admin: Any) -> None:
    good = tmp_path / "2024.xlsx"
    good.write_bytes(by_division())
    call_command("import_indicators", str(good), "--period", "2024", "--as-user", "stats_admin")
    assert _value("gdp", "371500", "2024") == Decimal("2995.61")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx(("S", [["2024年"], HEADER, ["地区生产总值", "亿元", "x"]])))
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_indicators", str(bad), "--as-user", "stats_admin")
    with pytest.raises(CommandError, match="no active user"):
        call_command("import_indicators", str(good), "--as-user", "nobody")


@pytest.fixture
def demo_data() -> None:
    services.ensure_demo_economy()


def test_demo_values_are_plausible_consistent_and_idempotent(demo_data: None) -> None:
    assert services.ensure_demo_economy() == 0
    call_command("load_demo_economy")
    assert ImportJob.objects.filter(kind="demo").count() == 1
    assert not IndicatorValue.objects.filter(generated=False).exists()
    city = _value("gdp", "371500", "2024")
    assert Decimal(2500) <= city <= Decimal(3100)
    for year in range(2015, 2025):
        counties = IndicatorValue.objects.filter(indicator__code="gdp", period=str(year)).exclude(
            division_code="371500")
        assert counties.count() == 8
        total = sum(v.value for v in counties)
        assert Decimal("0.9") <= total / _value("gdp", "371500", str(year)) <= Decimal("1.0")
        assert {v.division_code for v in counties} >= ({"371523"} if year <= 2019 else {"371503"})
        for v in counties:
            assert 120 <= v.value <= 800
            parts = sum(_value(c, v.division_code, str(year)) for c in ("gdp_primary", "gdp_secondary",
                                                                         "gdp_tertiary"))
            assert parts == v.value
    assert AuditRecord.objects.filter(action="economy.load_demo").count() == 1


def test_api_returns_a_series(client: Client, demo_data: None, staff_factory: Any) -> None:
    listed = client.get("/api/economy/indicators").json()
    codes = {i["code"] for i in listed}
    assert "gdp" in codes and "gdp_growth" not in codes  # anonymous: public indicators only
    gdp = next(i for i in listed if i["code"] == "gdp")
    assert gdp["unit_zh"] == "亿元" and gdp["first_period"] == "2015" and gdp["last_period"] == "2024"
    body = client.get("/api/economy/indicators/gdp/values", {"division": "371500,茌平区", "from": "2018",
                                                             "to": "2021"}).json()
    assert body["indicator"]["code"] == "gdp"
    city, chiping = body["series"]
    assert city["division_code"] == "371500" and [p["period"] for p in city["points"]] == ["2018", "2019", "2020",
                                                                                            "2021"]
    assert all(p["generated"] for p in city["points"])
    assert [p["division_code"] for p in chiping["points"]] == ["371523", "371523", "371503", "371503"]
    assert city["points"][0]["value"] == float(_value("gdp", "371500", "2018"))
    default = client.get("/api/economy/indicators/gdp/values").json()
    assert len(default["series"]) == 9 and len(default["series"][0]["points"]) == 10
    assert client.get("/api/economy/indicators/gdp_growth/values").status_code == 404
    assert client.get("/api/economy/indicators/gdp/values", {"division": "火星"}).status_code == 400
    assert client.get("/api/economy/indicators/gdp/values", {"from": "20x"}).status_code == 400
    client.force_login(staff_factory("reader", roles=(("viewer", "371500"),)))
    assert client.get("/api/economy/indicators/gdp_growth/values").status_code == 200


LOCAL_ONLY = re.compile(r'(src|href)="(https?:)?//')


def test_chart_page_uses_only_local_assets(client: Client, demo_data: None, staff_factory: Any) -> None:
    assert client.get("/economy/indicators/gdp/").status_code == 302  # login required
    client.force_login(staff_factory("reader", roles=(("viewer", "371500"),)))
    response = client.get("/economy/indicators/gdp/", {"period": "2020", "divisions": ["371500", "371503"]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/vendor/echarts/echarts.min.js" in html and "/static/js/economy.js" in html
    assert 'data-values-url="/api/economy/indicators/gdp/values"' in html
    assert not LOCAL_ONLY.search(html)  # no CDN, no online resources
    assert "cdn" not in html.lower()
    assert 'id="chart-bar"' in html and 'id="chart-line"' in html and "地区生产总值" in html
    assert "371523" in html  # 2020 bar: 茌平区 (the counties of the period)
    assert "生成的演示数据" in html
    vendor = Path(settings.PACKAGE_DIR) / "static" / "vendor" / "echarts"
    assert (vendor / "echarts.min.js").stat().st_size > 500_000 and (vendor / "LICENSE").exists()
    listing = client.get("/economy/").content.decode()
    assert "/economy/indicators/gdp/" in listing and "gdp_growth" in listing
    assert client.get("/economy/indicators/nope/").status_code == 404


def test_public_summary(client: Client, demo_data: None) -> None:
    response = client.get("/economy/public/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "地区生产总值" in html and "固定资产投资增长率" not in html  # public indicators only
    assert 'id="demo-note"' in html and "/static/vendor/echarts/echarts.min.js" in html
    assert not LOCAL_ONLY.search(html)


def test_upload_page(client: Client, stats_admin: Any, staff_factory: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(stats_admin)
    assert client.get("/economy/import/").status_code == 200
    upload = SimpleUploadedFile("2024.xlsx", by_division(), content_type="application/octet-stream")
    response = client.post("/economy/import/", {"file": upload, "period": "2024", "source": "公报"})
    assert response.status_code == 302
    assert _value("gdp", "371500", "2024") == Decimal("2995.61")
    bad = SimpleUploadedFile("bad.xlsx", xlsx(("S", [["2024年"], HEADER, ["地区生产总值", "亿元", "x"]])))
    response = client.post("/economy/import/", {"file": bad})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="import-problems"' in html and "不是数值" in html
    client.force_login(staff_factory("no_stats", roles=(("viewer", "371500"),)))
    assert client.get("/economy/import/").status_code == 403
