"""Evaluation (综合评价) of grid urban management: counts and rates per department, grid, township, county or
reporter, computed with aggregate SQL (one grouped query; no per-case Python loop except the working-hour
average, which reads only ``(dispatched_at, handled_at)`` pairs), scoped by ``urban.view_cases``.

Indicators over the range [start, end] (local calendar days, both inclusive):
received = reported in range; filed = filed in range; due = ``due_at`` in range; closed = closed in range;
closed on time = due in range and closed by ``due_at``; overdue = flagged overdue with ``due_at`` in
range; dispatched = dispatched in range, of which "correct" = never returned to the centre
(no ``approve_return`` event); rework = sum of ``rework_count`` of cases closed in range; average handling
time = working hours from dispatch to handling, cases closed in range.
Rates: closure = closed / filed; on-time closure = closed on time / due; correct dispatch = correct /
dispatched (``None`` when the denominator is 0). League order: on-time closure rate, highest first.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from liaocheng.core import access
from liaocheng.core.calendar import working_hours_between
from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import Department
from liaocheng.geo.models import Division

from .models import Case, CaseEvent

GROUPS = {"department": "department_id", "grid": "grid_code", "township": "township_code",
          "county": "county_code", "role": "reported_by_id"}
MAX_DAYS = 366


@dataclass
class Row:
    key: str
    label: str
    received: int = 0
    filed: int = 0
    due: int = 0
    closed: int = 0
    closed_on_time: int = 0
    dispatched: int = 0
    correct_dispatched: int = 0
    rework: int = 0
    overdue: int = 0
    avg_handling_hours: float | None = None

    @staticmethod
    def _rate(num: int, den: int) -> float | None:
        return round(100.0 * num / den, 2) if den else None

    @property
    def closure_rate(self) -> float | None:
        return self._rate(self.closed, self.filed)

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.closed_on_time, self.due)

    @property
    def correct_dispatch_rate(self) -> float | None:
        return self._rate(self.correct_dispatched, self.dispatched)


def day_range(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if end < start:
        raise InvalidInput("结束日期早于开始日期", "the end date is before the start date", field="end")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput("统计区间不能超过一年", "the range may not exceed one year", field="end")
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return lo, hi


def _in(field: str, lo: dt.datetime, hi: dt.datetime) -> Q:
    return Q(**{f"{field}__gte": lo, f"{field}__lt": hi})


def scoped_cases(acting_user: Any, county: str | None) -> QuerySet[Case]:
    qs = access.filter_by_scope(Case.objects.all(), acting_user, "urban.view_cases", "grid_code")
    if county:
        qs = qs.filter(county_code=county)
    return qs


def _labels(group_by: str, keys: list[Any]) -> dict[Any, str]:
    present = [k for k in keys if k is not None]
    if group_by == "department":
        return {d.pk: d.name for d in Department.objects.filter(pk__in=present)}
    if group_by == "role":
        from django.contrib.auth import get_user_model

        return {u.pk: u.get_username() for u in get_user_model().objects.filter(pk__in=present)}
    names: dict[Any, str] = {}
    # current divisions last, so their names win over superseded ones
    divisions = Division.objects.filter(code__in=present).order_by(F("valid_to").asc(nulls_last=True))
    for code, name in divisions.values_list("code", "name"):
        names[code] = name
    return names


def evaluate(*, acting_user: Any, group_by: str, start: dt.date, end: dt.date,
             county: str | None = None) -> list[Row]:
    if group_by not in GROUPS:
        raise InvalidInput("未知的分组方式", "unknown grouping", field="group_by")
    key = GROUPS[group_by]
    lo, hi = day_range(start, end)
    returned = CaseEvent.objects.filter(case=OuterRef("pk"), action="approve_return")
    base = scoped_cases(acting_user, county).filter(
        _in("reported_at", lo, hi) | _in("filed_at", lo, hi) | _in("due_at", lo, hi) | _in("closed_at", lo, hi)
        | _in("dispatched_at", lo, hi))
    closed_q = _in("closed_at", lo, hi)
    dispatched_q = _in("dispatched_at", lo, hi)
    aggregated = base.annotate(was_returned=Exists(returned)).order_by().values(key).annotate(
        received=Count("pk", filter=_in("reported_at", lo, hi)),
        filed=Count("pk", filter=_in("filed_at", lo, hi)),
        due=Count("pk", filter=_in("due_at", lo, hi)),
        closed=Count("pk", filter=closed_q),
        # of the cases due in the range, those closed by their deadline: a subset of ``due``, so the
        # on-time rate never exceeds 100 %
        closed_on_time=Count("pk", filter=_in("due_at", lo, hi) & Q(closed_at__isnull=False,
                                                                     closed_at__lte=F("due_at"))),
        dispatched=Count("pk", filter=dispatched_q),
        correct_dispatched=Count("pk", filter=dispatched_q & Q(was_returned=False)),
        rework=Sum("rework_count", filter=closed_q),
        overdue=Count("pk", filter=_in("due_at", lo, hi) & Q(overdue=True)),
    )
    records = list(aggregated)
    # average handling time (working hours, dispatch → handled) for cases closed in range
    hours: dict[Any, list[float]] = defaultdict(list)
    pairs = base.filter(closed_q, dispatched_at__isnull=False, handled_at__isnull=False).order_by() \
        .values_list(key, "dispatched_at", "handled_at").iterator(chunk_size=5000)
    for group, dispatched_at, handled_at in pairs:
        hours[group].append(working_hours_between(dispatched_at, handled_at))
    labels = _labels(group_by, [r[key] for r in records])
    rows = []
    for r in records:
        k = r[key]
        spent = hours.get(k)
        rows.append(Row(
            key="" if k is None else str(k), label=labels.get(k, "" if k is None else str(k)) or _("（未指定）"),
            received=r["received"], filed=r["filed"], due=r["due"], closed=r["closed"],
            closed_on_time=r["closed_on_time"], dispatched=r["dispatched"],
            correct_dispatched=r["correct_dispatched"], rework=r["rework"] or 0, overdue=r["overdue"],
            avg_handling_hours=round(sum(spent) / len(spent), 2) if spent else None))
    rows.sort(key=lambda row: (row.on_time_rate is None, -(row.on_time_rate or 0.0), -row.closed, row.key))
    return rows


# --- export -------------------------------------------------------------------------------------------

def headers() -> list[str]:
    return [_("名称"), _("编码"), _("受理数"), _("立案数"), _("应结案数"), _("结案数"), _("按期结案数"),
            _("结案率(%)"), _("按期结案率(%)"), _("派遣数"), _("准确派遣率(%)"), _("返工次数"), _("超期数"),
            _("平均处置时长(工作小时)")]


def row_values(row: Row) -> list[Any]:
    return [row.label, row.key, row.received, row.filed, row.due, row.closed, row.closed_on_time,
            row.closure_rate, row.on_time_rate, row.dispatched, row.correct_dispatch_rate, row.rework,
            row.overdue, row.avg_handling_hours]


def to_csv(rows: list[Row]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers())
    for row in rows:
        writer.writerow(["" if v is None else v for v in row_values(row)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 CSV correctly


def to_xlsx(rows: list[Row]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("综合评价")
    ws.append(headers())
    for row in rows:
        ws.append(row_values(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
