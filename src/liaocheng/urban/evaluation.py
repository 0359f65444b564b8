"""Evaluation (综合评价) of grid urban management: counts and rates per department, grid, township, county or
reporter, computed with aggregate SQL (one grouped query; no per-case Python loop except the working-hour
average, which reads only ``(dispatched_at, handled_at)`` pairs and computes them in bulk from one calendar),
scoped by ``urban.view_cases``. The date columns are indexed (one index per date, OR-ed by the planner) and
the returned cases come from a small partial index on ``CaseEvent`` (migration 0004).

Indicators over the range [start, end] (local calendar days, both inclusive):
received = reported in range; filed = filed in range; closed = closed in range; due (应结案) = cases whose
deadline outcome falls in the range: closed by their deadline with the closing in range, or not closed by
their deadline with ``due_at`` in range (each case counts once, in the period it was settled: a case closed
early counts when it was closed, a late one when its deadline passed); closed on time = closed by
``due_at`` with the closing in range (a subset of due); overdue = flagged overdue with ``due_at`` in
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

import numpy as np
from django.db import connections
from django.db.models import BigIntegerField, Count, F, Func, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from liaocheng.core import access
from liaocheng.core.calendar import WorkingCalendar, get_calendar
from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import Department
from liaocheng.geo.models import Division

from .models import Case, CaseEvent

GROUPS = {"department": "department_id", "grid": "grid_code", "township": "township_code",
          "county": "county_code", "role": "reported_by_id"}
MAX_DAYS = 366
_LABEL_CHUNK = 2000  # keys per label query (SQLite allows 32,766 parameters; a month touches ~30,000 grids)


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
    chunks = [present[i:i + _LABEL_CHUNK] for i in range(0, len(present), _LABEL_CHUNK)]
    if group_by == "department":
        return {pk: name for chunk in chunks
                for pk, name in Department.objects.filter(pk__in=chunk).values_list("pk", "name")}
    if group_by == "role":
        from django.contrib.auth import get_user_model

        return {u.pk: u.get_username() for chunk in chunks for u in get_user_model().objects.filter(pk__in=chunk)}
    if group_by == "grid":
        present = [k for k in present if len(k) <= 12]  # division codes have at most 12 digits, grid codes 15
        chunks = [present[i:i + _LABEL_CHUNK] for i in range(0, len(present), _LABEL_CHUNK)]
    found: list[tuple[Any, Any, str]] = []
    for chunk in chunks:
        found.extend(Division.objects.filter(code__in=chunk).values_list("code", "valid_to", "name"))
    # current divisions last, so their names win over superseded ones
    found.sort(key=lambda row: (row[1] is None, row[1] or dt.date.min))
    return {code: name for code, _valid_to, name in found}


class _GroupKey(Func):
    """The grouping column, unchanged. On SQLite it is written ``+column`` (a no-op there): with a bare indexed
    column in GROUP BY, SQLite's planner (no statistics) walks that column's index over the whole table
    instead of reading the month's few per cent of rows through the date indexes."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


def _micros(t: dt.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
_US_PER_HOUR = 3_600_000_000
_US_PER_DAY = 24 * _US_PER_HOUR


class _WorkingClock:
    """``WorkingCalendar.working_hours_between`` for a batch of pairs, with the same result to the bit.

    The calendar compares and subtracts local wall-clock times and sums whole microseconds; so does this,
    as the difference of a cumulative count: W(t) = working time of the days before t's day + of t's day up
    to t. The calendar is read once, each day is decided once, and when the time zone keeps one UTC offset
    over the pairs' span (Asia/Shanghai: always) the pairs are computed together with numpy.
    """

    def __init__(self, cal: WorkingCalendar) -> None:
        self.cal, self.tz = cal, cal.tz
        self.periods = [(_micros(a), max(0, _micros(b) - _micros(a))) for a, b in cal.periods]
        self.per_day = sum(length for _start, length in self.periods)

    def _days(self, first: dt.date, last: dt.date) -> tuple[list[int], list[bool]]:
        """Working microseconds before each day from ``first`` to ``last``, and whether it is a working day."""
        cumulative, workday, total = [], [], 0
        for i in range((last - first).days + 1):
            works = self.cal.is_workday(first + dt.timedelta(days=i))
            cumulative.append(total)
            workday.append(works)
            total += self.per_day if works else 0
        return cumulative, workday

    def _fixed_offset(self, lo: int, hi: int) -> int | None:
        """The zone's UTC offset in microseconds if it is the same at every hour from ``lo`` to ``hi``."""
        found = None
        for hour in range(lo // _US_PER_HOUR, hi // _US_PER_HOUR + 2):
            offset = (_EPOCH + dt.timedelta(hours=hour)).astimezone(self.tz).utcoffset()
            if offset is None or (found is not None and offset != found):
                return None
            found = offset
        return None if found is None else found // _MICROSECOND

    def hours(self, starts: list[int], ends: list[int]) -> list[float]:
        """Working hours from each start to its end (microseconds since the epoch), 0 if the end is not later."""
        if not starts:
            return []
        lo, hi = min(min(starts), min(ends)), max(max(starts), max(ends))
        offset = self._fixed_offset(lo, hi)
        if offset is None:
            return self._hours_one_by_one(starts, ends)
        first, last = (lo + offset) // _US_PER_DAY, (hi + offset) // _US_PER_DAY
        cumulative, workday = (np.array(x, dtype=np.int64) for x in self._days(
            _EPOCH.date() + dt.timedelta(days=first), _EPOCH.date() + dt.timedelta(days=last)))
        period_starts = np.array([start for start, _length in self.periods], dtype=np.int64)
        lengths = np.array([length for _start, length in self.periods], dtype=np.int64)

        def done(utc: np.ndarray) -> np.ndarray:
            day, now = np.divmod(utc + offset, _US_PER_DAY)
            index = day - first
            today = np.minimum(np.maximum(now[:, None] - period_starts, 0), lengths).sum(axis=1)
            return np.asarray(cumulative[index] + workday[index] * today)

        begin, end = np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
        # as timedelta.total_seconds() / 3600 of the summed microseconds (exact below 2**53)
        spent = (done(end) - done(begin)) / 1_000_000 / 3600
        return [float(x) for x in np.where(end > begin, spent, 0.0).tolist()]

    def _hours_one_by_one(self, starts: list[int], ends: list[int]) -> list[float]:
        tz = self.tz
        local = [[(_EPOCH + v * _MICROSECOND).astimezone(tz).replace(tzinfo=None) for v in values]
                 for values in (starts, ends)]
        first = min(min(local[0]), min(local[1])).date()
        cumulative, workday = self._days(first, max(max(local[0]), max(local[1])).date())

        def done(t: dt.datetime) -> int:
            i = (t.date() - first).days
            total = cumulative[i]
            if workday[i]:
                now = _micros(t.time())
                for start, length in self.periods:
                    if now > start:
                        total += min(now - start, length)
            return total

        return [(done(le) - done(ls)) / 1_000_000 / 3600 if e > s else 0.0
                for s, e, ls, le in zip(starts, ends, local[0], local[1], strict=True)]


class _EpochMicros(Func):
    """Microseconds since the epoch of a datetime column as an exact integer computed by the database, so
    that no datetime object is built (and converted by Django's per-value loaders) for each row."""

    output_field = BigIntegerField()
    vendors = ("sqlite", "postgresql")

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # stored as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC; whole seconds and the microseconds apart, since
        # SQLite's date functions round to milliseconds (%%%% survives two rounds of % formatting)
        template = ("(CAST(strftime('%%%%s', substr(%(expressions)s, 1, 19)) AS INTEGER) * 1000000"
                    " + CAST(substr(substr(%(expressions)s, 21) || '000000', 1, 6) AS INTEGER))")
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
        return super().as_sql(compiler, connection, template=template, **extra_context)


def _handling_times(pairs: QuerySet[Case], key: str) -> list[tuple[Any, float]]:
    """(group, working hours from dispatch to handling) of each case in ``pairs``, in the queryset's order."""
    rows: list[tuple[Any, int, int]]
    if connections[pairs.db].vendor in _EpochMicros.vendors:
        rows = list(pairs.values_list(key, _EpochMicros("dispatched_at"), _EpochMicros("handled_at")))
    else:
        rows = [(group, (s - _EPOCH) // _MICROSECOND, (e - _EPOCH) // _MICROSECOND)
                for group, s, e in pairs.values_list(key, "dispatched_at", "handled_at")]
    if not rows:
        return []
    groups, starts, ends = (list(column) for column in zip(*rows, strict=True))
    spent = _WorkingClock(get_calendar()).hours(starts, ends)
    return list(zip(groups, spent, strict=True))


def evaluate(*, acting_user: Any, group_by: str, start: dt.date, end: dt.date,
             county: str | None = None) -> list[Row]:
    if group_by not in GROUPS:
        raise InvalidInput("未知的分组方式", "unknown grouping", field="group_by")
    key = GROUPS[group_by]
    lo, hi = day_range(start, end)
    # cases ever returned to the centre (a few per cent): read once from the partial index
    returned = CaseEvent.objects.filter(action="approve_return").values("case_id")
    base = scoped_cases(acting_user, county).filter(
        _in("reported_at", lo, hi) | _in("filed_at", lo, hi) | _in("due_at", lo, hi) | _in("closed_at", lo, hi)
        | _in("dispatched_at", lo, hi))
    closed_q = _in("closed_at", lo, hi)
    on_time_q = Q(closed_at__isnull=False, due_at__isnull=False, closed_at__lte=F("due_at"))
    late_q = Q(closed_at__isnull=True) | Q(closed_at__gt=F("due_at"))
    dispatched_q = _in("dispatched_at", lo, hi)
    aggregated = base.order_by().annotate(group_key=_GroupKey(key)).values("group_key").annotate(
        received=Count("pk", filter=_in("reported_at", lo, hi)),
        filed=Count("pk", filter=_in("filed_at", lo, hi)),
        # a case is settled in the period where it closed on time, or else where its deadline passed
        due=Count("pk", filter=(closed_q & on_time_q) | (_in("due_at", lo, hi) & late_q)),
        closed=Count("pk", filter=closed_q),
        # a subset of ``due``, so the on-time rate never exceeds 100 %
        closed_on_time=Count("pk", filter=closed_q & on_time_q),
        dispatched=Count("pk", filter=dispatched_q),
        correct_dispatched=Count("pk", filter=dispatched_q & ~Q(pk__in=returned)),
        rework=Sum("rework_count", filter=closed_q),
        overdue=Count("pk", filter=_in("due_at", lo, hi) & Q(overdue=True)),
    )
    records = list(aggregated)
    # average handling time (working hours, dispatch → handled) for cases closed in range
    hours: dict[Any, list[float]] = defaultdict(list)
    pairs = base.filter(closed_q, dispatched_at__isnull=False, handled_at__isnull=False).order_by()
    for group, worked in _handling_times(pairs, key):
        hours[group].append(worked)
    labels = _labels(group_by, [r["group_key"] for r in records])
    rows = []
    for r in records:
        k = r["group_key"]
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
