"""Response metrics: exact percentiles and target shares on hand-made incidents, scope, grouping, the page,
and the CSV/Excel exports matching the page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import Department
from liaocheng.emergency import intake, metrics
from liaocheng.emergency.models import Assignment, Call, Incident, IncidentType, Unit

SX = "371522"  # 莘县
GX = "371525"  # 冠县
CITY = "371500"
DAY = dt.date(2026, 3, 10)


def at(hour: int, minute: int = 0, second: float = 0) -> dt.datetime:
    base = dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())
    return base + dt.timedelta(seconds=second)


def s(base: dt.datetime, seconds: float) -> dt.datetime:
    return base + dt.timedelta(seconds=seconds)


class Maker:
    def __init__(self) -> None:
        self.types = {t.code: t for t in IncidentType.objects.all()}
        self.serial = 0

    def unit(self, sign: str, unit_type: str, county: str, kind: str) -> Unit:
        return Unit.objects.create(call_sign=sign, unit_type=unit_type, department=Department.objects.get(
            code=f"{county}-{kind}" if kind != "emergency_medical" else f"{CITY}-emergency_medical"),
            status_at=timezone.now(), lon=115.5, lat=36.2, position_at=timezone.now(), county_code=county)

    def incident(self, county: str, code: str, calls: list[tuple[str, dt.datetime, float]], *,
                 dispatch: float | None = None, arrival: float | None = None, state: str = "closed",
                 kind: str = "fire_rescue") -> Incident:
        """``calls``: (line, rang, seconds to answer); ``dispatch``: seconds from the first answer to the first
        dispatch; ``arrival``: seconds from the first dispatch to the first unit on scene."""
        self.serial += 1
        answered = min(s(rang, wait) for _line, rang, wait in calls) if calls else None
        base = answered or calls[0][1]
        dispatched = s(base, dispatch) if dispatch is not None else None
        on_scene = s(dispatched, arrival) if dispatched is not None and arrival is not None else None
        incident = Incident.objects.create(
            number=f"T{self.serial:04d}", incident_type=self.types[code], summary="测试", lon=115.5, lat=36.2,
            grid_code=f"{county}001001001", community_code=f"{county}001001", township_code=f"{county}001",
            county_code=county, centre_code=county, state=state, created_at=s(base, 20),
            owning_department=Department.objects.get(code=f"{county}-{kind}"), first_answered_at=answered,
            first_dispatched_at=dispatched, first_on_scene_at=on_scene)
        for line, rang, wait in calls:
            Call.objects.create(incident=incident, line=line, location_source="map", lon=115.5, lat=36.2,
                                narrative="测试", received_at=rang, answered_at=s(rang, wait), centre_code=county)
        return incident

    @staticmethod
    def assign(incident: Incident, unit: Unit, turnout: float, travel: float | None) -> Assignment:
        dispatched = incident.first_dispatched_at
        assert dispatched is not None
        en_route = s(dispatched, turnout)
        return Assignment.objects.create(incident=incident, unit=unit, dispatched_at=dispatched, en_route_at=en_route,
                                         on_scene_at=s(en_route, travel) if travel is not None else None,
                                         cleared_at=s(en_route, 3600))


@pytest.fixture
def sample(db: None, staff_factory: Any) -> dict[str, Any]:
    """Five incidents on DAY (four in 莘县, one in 冠县), a merged one and one on the next day (both left out).

    calls answered after 4, 20 (A, a second caller), 8 (B, 120), 12 (C), 6 (D), 30 (E) seconds;
    answer → dispatch 40 (A), 55 (B), 70 (C), 100 (E), D not dispatched; dispatch → on scene 300 (A),
    200 (B), 500 (E), C never arrived; engines: A turnout 70 travel 230, E turnout 90 travel 410;
    B: ambulance turnout 50 travel 150, police car turnout 20 travel 400."""
    intake.load_incident_types()
    m = Maker()
    a = m.incident(SX, "12G03", [("119", at(10), 4), ("119", at(10, 1), 20)], dispatch=40, arrival=300)
    m.assign(a, m.unit("莘县水罐1", "fire_engine", SX, "fire_rescue"), 70, 230)
    b = m.incident(SX, "13Y00", [("120", at(11), 8)], dispatch=55, arrival=200, kind="health")
    m.assign(b, m.unit("急救1", "ambulance", SX, "emergency_medical"), 50, 150)
    m.assign(b, m.unit("莘县巡1", "police_car", SX, "public_security"), 20, 400)
    c = m.incident(SX, "14B00", [("110", at(12), 12)], dispatch=70, kind="public_security")
    m.assign(c, Unit.objects.get(call_sign="莘县巡1"), 30, None)
    m.incident(SX, "14Y00", [("110", at(13), 6)], kind="public_security")
    e = m.incident(GX, "12G01", [("119", at(15), 30)], dispatch=100, arrival=500)
    m.assign(e, m.unit("冠县水罐1", "fire_engine", GX, "fire_rescue"), 90, 410)
    merged = Incident.objects.create(
        number="T-merged", incident_type=m.types["12G03"], summary="重复", lon=115.5, lat=36.2,
        grid_code=f"{SX}001001001", community_code=f"{SX}001001", township_code=f"{SX}001", county_code=SX,
        centre_code=SX, state="merged", created_at=at(10, 2), first_answered_at=at(10, 1, 20), merged_into=a)
    assert merged.pk
    m.incident(SX, "14Y00", [("110", at(12) + dt.timedelta(days=1), 2)], dispatch=5, kind="public_security")
    return {
        "city": staff_factory("m_city", department_code=f"{CITY}-emergency_management",
                              roles=(("emergency_admin", CITY),)),
        "sx": staff_factory("m_sx", department_code=f"{SX}-emergency_management",
                            roles=(("emergency_duty_leader", SX),)),
        "taker": staff_factory("m_taker", department_code=f"{SX}-public_security",
                               roles=(("emergency_call_taker", SX),)),
    }


def report(user: Any, group_by: str = "county", **kw: Any) -> metrics.Report:
    return metrics.build_report(acting_user=user, start=DAY, end=DAY, group_by=group_by, **kw)


def by_key(r: metrics.Report) -> dict[str, metrics.Row]:
    return {row.key: row for row in r.rows}


def shares(row: metrics.Row) -> dict[str, tuple[float | None, bool | None]]:
    return {k: (c.share, c.met) for k, c in row.compliance.items()}


def test_percentiles_and_targets_are_what_a_user_computes(sample: dict[str, Any]) -> None:
    r = report(sample["city"])
    t = r.total
    assert (t.incidents, t.calls, t.dispatched, t.on_scene) == (5, 6, 4, 3)
    # answers [4, 6, 8, 12, 20, 30]: linear interpolation between closest ranks (Excel PERCENTILE.INC)
    assert t.stats["answer"] == metrics.Stat(6, 10.0, 25.0, 27.5)
    assert t.stats["dispatch"] == metrics.Stat(4, 62.5, 91.0, 95.5)  # [40, 55, 70, 100]
    assert t.stats["arrival"] == metrics.Stat(3, 300.0, 460.0, 480.0)  # [200, 300, 500]
    assert t.stats["total"] == metrics.Stat(3, 340.0, 548.0, 574.0)  # [255, 340, 600]
    assert shares(t) == {
        "answer_15": (66.7, False), "answer_20": (83.3, False), "answer_10": (50.0, False),
        "answer_120": (100.0, True),  # B's 120 call: 8 s
        "dispatch_60": (50.0, False),  # 40 and 55 of [40, 55, 70, 100]
        "alarm_64": (50.0, False), "alarm_106": (100.0, True),  # 119 incidents A (40) and E (100)
        "turnout_ems": (100.0, True), "ambulance_3min": (100.0, True),  # B's ambulance: 50 s
        "turnout_fire": (50.0, False),  # engines 70 and 90 against 80
        "travel_engine": (50.0, False),  # first engines 230 and 410 against 240
    }
    c = t.compliance["answer_15"]
    assert (c.n, c.within) == (6, 4)
    rows = by_key(r)
    assert [row.key for row in r.rows] == [SX, GX]  # most incidents first
    sx, gx = rows[SX], rows[GX]
    assert (sx.label, sx.incidents, sx.calls, sx.dispatched, sx.on_scene) == ("莘县", 4, 5, 3, 2)
    assert sx.stats["answer"] == metrics.Stat(5, 8.0, 16.8, 18.4)  # [4, 6, 8, 12, 20]
    assert sx.stats["dispatch"] == metrics.Stat(3, 55.0, 67.0, 68.5)  # [40, 55, 70]
    assert gx.stats["answer"] == metrics.Stat(1, 30.0, 30.0, 30.0)
    assert shares(gx)["travel_engine"] == (0.0, False) and shares(sx)["travel_engine"] == (100.0, True)
    assert shares(gx)["answer_120"] == (None, None)  # no 120 call there
    assert sx.stats["arrival"] == metrics.Stat(2, 250.0, 290.0, 295.0)


def test_grouping_by_line_class_department_and_centre(sample: dict[str, Any]) -> None:
    city = sample["city"]
    lines = by_key(report(city, "line"))
    assert set(lines) == {"119", "120", "110"}
    # incidents by their first call's line, calls by their own line
    assert (lines["119"].incidents, lines["119"].calls) == (2, 3)
    assert lines["119"].stats["answer"] == metrics.Stat(3, 20.0, 28.0, 29.0)  # [4, 20, 30]
    assert (lines["110"].incidents, lines["110"].dispatched) == (2, 1)
    assert str(lines["120"].label).startswith("120")
    classes = by_key(report(city, "class"))
    assert {k: v.incidents for k, v in classes.items()} == {"12": 2, "13": 1, "14": 2}
    assert classes["12"].label == "12000 事故灾难"
    sub = by_key(report(city, "subclass"))
    assert {k: v.incidents for k, v in sub.items()} == {"12G": 2, "13Y": 1, "14B": 1, "14Y": 1}
    depts = {row.label: row.incidents for row in report(city, "department").rows}
    assert depts == {"莘县消防救援大队": 1, "莘县卫生健康局": 1, "莘县公安局": 2, "冠县消防救援大队": 1}
    centres = {row.label: row.incidents for row in report(city, "centre").rows}
    assert centres == {"莘县指挥中心": 4, "冠县指挥中心": 1}
    assert report(city, county=GX).total.incidents == 1


def test_scope_a_county_user_sees_only_their_county(sample: dict[str, Any]) -> None:
    r = report(sample["sx"])
    assert [row.key for row in r.rows] == [SX]
    assert r.total.incidents == 4 and r.total.stats["answer"] == metrics.Stat(5, 8.0, 16.8, 18.4)
    assert report(sample["sx"], county=GX).total.incidents == 0
    # no emergency.view_metrics: nothing (the page refuses outright)
    assert report(sample["taker"]).total.incidents == 0


def test_range_limits() -> None:
    with pytest.raises(InvalidInput):
        metrics.day_range(DAY, DAY - dt.timedelta(days=1))
    with pytest.raises(InvalidInput):
        metrics.day_range(DAY - dt.timedelta(days=366), DAY)
    lo, hi = metrics.day_range(DAY - dt.timedelta(days=365), DAY)
    assert (hi - lo).days == 366


def test_trend_and_histogram(sample: dict[str, Any]) -> None:
    r = metrics.build_report(acting_user=sample["city"], start=DAY - dt.timedelta(days=1),
                             end=DAY + dt.timedelta(days=1))
    assert r.trend["labels"] == ["03-09", "03-10", "03-11"]
    assert r.trend["incidents"] == [0, 5, 1]
    assert r.trend["answer_15"] == [None, 66.7, 100.0]
    assert r.trend["dispatch_p90"][1] == 91.0
    assert sum(r.histogram["counts"]) == 5  # 40, 55, 70, 100 and the next day's 5
    assert r.histogram["counts"][:1] == [1] and r.histogram["counts"][4:11] == [1, 1, 0, 1, 0, 0, 1]
    year = metrics.build_report(acting_user=sample["city"], start=DAY - dt.timedelta(days=300), end=DAY)
    assert year.trend["labels"][0] == "2025-05" and year.trend["labels"][-1] == "2026-03"
    assert sum(year.trend["incidents"]) == 5


def _number(value: Any) -> Any:
    """A cell as a number when it is one (Excel keeps 10.0 as 10), else its text ("" for empty)."""
    if value is None:
        return ""
    try:
        return float(value)
    except ValueError:
        return str(value)


def _cells(html: str, table_id: str) -> dict[str, list[str]]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table is not None
    rows: dict[str, list[str]] = {}
    for key, body in re.findall(r'<tr[^>]*data-key="([^"]*)">(.*?)</tr>', table.group(0), re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        rows[key] = [re.sub(r"[✓✗\s]", "", c) for c in cells]
    return rows


def test_page_and_exports_show_the_same_figures(sample: dict[str, Any], staff_factory: Any) -> None:
    client = Client()
    client.force_login(sample["city"])
    query = f"?period=day&day={DAY.isoformat()}&group_by=county"
    page = client.get("/emergency/metrics/" + query)
    assert page.status_code == 200
    html = page.content.decode()
    assert "NENA-STA-020.1-2020" in html and "NFPA 1710" in html and "国卫医发" in html
    assert "echarts.min.js" in html and 'id="metrics-data"' in html
    csv_response = client.get("/emergency/metrics/" + query + "&format=csv")
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    assert "attachment" in csv_response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    header, data = lines[0], lines[1:lines.index([])]
    assert header == metrics.headers() and [row[0] for row in data] == ["合计", "莘县", "冠县"]
    percentiles, compliance = _cells(html, "metrics-percentiles"), _cells(html, "metrics-compliance")
    targets = len(metrics.TARGETS)
    for row in data:
        key = row[1]
        assert percentiles[key] == [v or "—" for v in row[2:-targets]], key
        assert compliance[key] == [v or "—" for v in row[-targets:]], key
    assert data[0][2:6] == ["5", "6", "4", "3"] and data[0][6:9] == ["10.0", "25.0", "27.5"]
    # the Excel file holds the same rows
    from openpyxl import load_workbook

    xlsx = client.get("/emergency/metrics/" + query + "&format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    values = [[_number(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    assert values[0] == header and values[1:] == [[_number(v) for v in row] for row in data]
    targets_sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[1]
    assert [r[0] for r in targets_sheet.iter_rows(min_row=2, values_only=True)] == [str(t.label) for t in
                                                                                 metrics.TARGETS]
    # a county user's page and export hold only their county; no permission: 403
    sx = Client()
    sx.force_login(sample["sx"])
    sx_csv = sx.get("/emergency/metrics/" + query + "&format=csv").content.decode("utf-8-sig")
    assert "莘县" in sx_csv and "冠县" not in sx_csv
    taker = Client()
    taker.force_login(sample["taker"])
    assert taker.get("/emergency/metrics/").status_code == 403
    # bad input: a message, no figures
    bad = client.get("/emergency/metrics/?period=custom&start=2025-01-01&end=2026-03-10")
    assert bad.status_code == 200 and "不能超过一年" in bad.content.decode()
    assert client.get("/emergency/metrics/?period=month&month=bad").status_code == 200


def test_a_value_on_the_limit_meets_the_target(db: None, staff_factory: Any) -> None:
    intake.load_incident_types()
    m = Maker()
    m.incident(SX, "14B00", [("110", at(9, 0, 0.123456), 15)], dispatch=60, arrival=240, kind="public_security")
    m.incident(SX, "14B00", [("110", at(9, 5, 0.654321), 15.001)], dispatch=60.001, kind="public_security")
    user = staff_factory("m_city2", department_code=f"{CITY}-emergency_management",
                         roles=(("emergency_admin", CITY),))
    t = report(user).total
    assert shares(t)["answer_15"] == (50.0, False) and shares(t)["dispatch_60"] == (50.0, False)
    assert t.stats["answer"] == metrics.Stat(2, 15.0, 15.0, 15.0)
    assert t.compliance["answer_20"].within == 2
