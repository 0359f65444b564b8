"""Evaluation (综合评价): figures per department and county, scope, CSV/XLSX exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from unittest import mock

import pytest
from openpyxl import load_workbook

from liaocheng.core.errors import InvalidInput
from liaocheng.urban import evaluation, services
from liaocheng.urban.models import Case
from liaocheng.urban.tests.test_cases import SX, TZ, point_in, urban  # noqa: F401  (fixture)

DCF = "371502"  # 东昌府区
DAY = dt.date(2026, 11, 25)


def at(hour: int, minute: int = 0, day: int = 25) -> Any:
    return mock.patch("django.utils.timezone.now", return_value=dt.datetime(2026, 11, day, hour, minute, tzinfo=TZ))


def dispatched_case(u: dict[str, Any]) -> Case:
    lon, lat = point_in()
    with at(8, 30):
        case = services.report_case(acting_user=u["supervisor"], channel="supervisor", class_code="E0102",
                                    lon=lon, lat=lat, description="路边有暴露垃圾").case
        services.transition(case, "file", acting_user=u["intake"])
    with at(9):
        return services.transition(case, "dispatch", acting_user=u["dispatcher"])  # due 14:30 (4 working hours)


def close(u: dict[str, Any], case: Case, hour: int, day: int) -> None:
    with at(hour, 0, day):
        services.transition(case, "accept", acting_user=u["dept"])
        services.transition(case, "handle", acting_user=u["dept"], notes="已清运")
        services.transition(case, "verify", acting_user=u["supervisor"])
        services.transition(case, "close", acting_user=u["lead"])


@pytest.fixture
def data(urban: dict[str, Any], staff_factory: Any) -> dict[str, Any]:  # noqa: F811
    u = urban
    on_time, late, _open = dispatched_case(u), dispatched_case(u), dispatched_case(u)
    close(u, on_time, 11, 25)                       # 2 working hours, on time
    services.escalate_overdue(now=dt.datetime(2026, 11, 25, 15, 0, tzinfo=TZ))  # late and open go overdue
    close(u, late, 10, 26)                          # the next morning: late
    other = staff_factory("u_sup_dcf", roles=(("urban_supervisor", DCF),))
    lon, lat = point_in(DCF)
    with at(8, 30):
        services.report_case(acting_user=other, channel="supervisor", class_code="E0102", lon=lon, lat=lat,
                             description="东昌府区暴露垃圾")
    return {**u, "other": other}


def test_figures_per_department_and_county(data: dict[str, Any]) -> None:
    rows = evaluation.evaluate(acting_user=data["admin"], group_by="county", start=DAY, end=DAY + dt.timedelta(1))
    by_key = {r.key: r for r in rows}
    sx = by_key[SX]
    assert (sx.received, sx.filed, sx.due, sx.closed, sx.closed_on_time, sx.overdue) == (3, 3, 3, 2, 1, 2)
    assert sx.on_time_rate == pytest.approx(33.33) and sx.closure_rate == pytest.approx(66.67)
    assert sx.correct_dispatch_rate == 100.0 and sx.avg_handling_hours is not None
    assert (by_key[DCF].received, by_key[DCF].filed, by_key[DCF].on_time_rate) == (1, 0, None)
    assert rows[0].key == SX  # league table: on-time closure rate first
    # the first day only: the late closure is not in it
    day1 = {r.key: r for r in evaluation.evaluate(acting_user=data["admin"], group_by="department", start=DAY,
                                                  end=DAY)}
    dept = next(r for r in day1.values() if r.due)
    assert (dept.closed, dept.closed_on_time, dept.on_time_rate, dept.overdue) == (1, 1, pytest.approx(33.33), 2)
    assert dept.avg_handling_hours == 2.0


def test_a_case_closed_early_counts_on_time_in_the_period_it_closed(urban: dict[str, Any]) -> None:  # noqa: F811
    u = urban
    lon, lat = point_in()
    with at(16):  # dispatched at 16:00 on Wednesday: 4 working hours run into Thursday morning
        case = services.report_case(acting_user=u["supervisor"], channel="supervisor", class_code="E0102",
                                    lon=lon, lat=lat, description="路边有暴露垃圾").case
        services.transition(case, "file", acting_user=u["intake"])
        services.transition(case, "dispatch", acting_user=u["dispatcher"])
    case.refresh_from_db()
    assert case.due_at is not None and case.due_at.astimezone(TZ).date() == DAY + dt.timedelta(1)
    close(u, case, 17, 25)  # closed the same evening, before the deadline
    [today] = evaluation.evaluate(acting_user=u["admin"], group_by="county", start=DAY, end=DAY)
    assert (today.due, today.closed, today.closed_on_time, today.on_time_rate) == (1, 1, 1, 100.0)
    # counted once: not again on the day of its deadline
    [deadline_day] = evaluation.evaluate(acting_user=u["admin"], group_by="county", start=DAY + dt.timedelta(1),
                                         end=DAY + dt.timedelta(1))
    assert (deadline_day.due, deadline_day.closed_on_time, deadline_day.on_time_rate) == (0, 0, None)


def test_scope_county_user_sees_only_their_county(data: dict[str, Any]) -> None:
    rows = evaluation.evaluate(acting_user=data["other"], group_by="county", start=DAY, end=DAY)
    assert [r.key for r in rows] == [DCF]
    rows = evaluation.evaluate(acting_user=data["supervisor"], group_by="county", start=DAY, end=DAY, county=DCF)
    assert rows == []
    with pytest.raises(InvalidInput):
        evaluation.evaluate(acting_user=data["admin"], group_by="nope", start=DAY, end=DAY)


def test_exports_carry_the_same_figures(data: dict[str, Any]) -> None:
    rows = evaluation.evaluate(acting_user=data["admin"], group_by="county", start=DAY, end=DAY + dt.timedelta(1))
    lines = list(csv.reader(io.StringIO(evaluation.to_csv(rows).decode("utf-8-sig"))))
    assert lines[0][:3] == ["名称", "编码", "受理数"]
    sx_line = next(line for line in lines if line[1] == SX)
    assert sx_line[2:9] == ["3", "3", "3", "2", "1", "66.67", "33.33"]
    ws = load_workbook(io.BytesIO(evaluation.to_xlsx(rows))).active
    assert ws is not None
    table = list(ws.iter_rows(values_only=True))
    assert table[0][2] == "受理数"
    sx_xlsx = next(r for r in table if r[1] == SX)
    assert list(sx_xlsx[2:9]) == [3, 3, 3, 2, 1, 66.67, 33.33]


def test_page_and_exports(data: dict[str, Any], client: Any) -> None:
    client.force_login(data["admin"])
    url = "/urban/evaluation/?group_by=county&period=custom&start=2026-11-25&end=2026-11-26"
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "evaluation-chart" in body and "echarts.min.js" in body and "33.33" in body
    response = client.get(url + "&format=csv")
    assert response["Content-Type"].startswith("text/csv") and "66.67" in response.content.decode("utf-8-sig")
    response = client.get(url + "&format=xlsx")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert client.get("/urban/evaluation/?period=day&day=bad").status_code == 200
    client.force_login(data["other"])
    assert SX not in client.get(url).content.decode().split("<tbody>")[-1]
