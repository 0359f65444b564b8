"""Response metrics (响应时效统计) of the emergency linkage against the reference time targets.

Per owning agency, county, incident class or sub-class, centre or line, over a day, a month or a custom
range (at most a year; incidents by creation time, merged incidents left out as their calls moved to the
survivor), scoped by ``emergency.view_metrics`` (the incident's grid code):

- time to answer: ``received_at → answered_at`` of every call (NENA counts calls, so an incident with three
  callers gives three values; the ``line`` grouping uses each call's own line);
- answer → first dispatch: ``first_answered_at → first_dispatched_at`` of the incident;
- dispatch → first on scene: ``first_dispatched_at → first_on_scene_at``;
- total: ``first_answered_at → first_on_scene_at``;

each with its 50th, 90th and 95th percentile (linear interpolation between the closest ranks: numpy's
default, Excel's PERCENTILE.INC), and the share of values within each target of ``TARGETS`` (NENA, NFPA,
the National Health Commission), met when the share reaches the target's. Unit-level targets use the
assignments: turnout (dispatched → en route) of fire apparatus and ambulances, and the travel time
(en route → on scene) of the first engine to arrive. The line of an incident is the line of its first
call (``urban`` for a case handed over by urban management without a call).

Speed: three queries read only the needed columns (incidents, calls, assignments of the range) through
the database cursor, without the ORM's per-value conversion; timestamps become epoch seconds in numpy and
every figure is computed with array operations (a year of 15,000 incidents: well under a second). The
range filter uses the index on ``Incident.created_at``; calls and assignments join on their indexed
incident foreign keys.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import FloatField, Func, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liaocheng.core import access
from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import Department
from liaocheng.core.permissions import CITY_CODE
from liaocheng.geo.models import Division

from .models import Assignment, Call, Incident, IncidentState, IncidentType, Line, UnitType

PERM = "emergency.view_metrics"
MAX_DAYS = 366
GROUPS: dict[str, Any] = {
    "department": gettext_lazy("牵头部门"), "county": gettext_lazy("县（市、区）"),
    "class": gettext_lazy("事件类别"), "subclass": gettext_lazy("事件亚类"),
    "centre": gettext_lazy("受理中心"), "line": gettext_lazy("来电线路"),
}
METRICS: dict[str, Any] = {
    "answer": gettext_lazy("振铃至接听"), "dispatch": gettext_lazy("接警至首次派警"),
    "arrival": gettext_lazy("派警至首车到场"), "total": gettext_lazy("接警至首车到场"),
}
PERCENTILES = (50, 90, 95)
FIRE_APPARATUS = (UnitType.FIRE_ENGINE.value, UnitType.FOAM_TENDER.value, UnitType.AERIAL_LADDER.value,
                  UnitType.RESCUE_ENGINE.value, UnitType.HAZMAT.value)
ENGINES = (UnitType.FIRE_ENGINE.value, UnitType.FOAM_TENDER.value)  # engine companies (pumpers)
HISTOGRAM_STEP = 10  # seconds
HISTOGRAM_MAX = 180


@dataclass(frozen=True)
class Target:
    """A reference target: ``share`` of the values of ``metric`` within ``seconds``."""

    key: str
    metric: str  # answer | dispatch | turnout | travel
    seconds: int
    share: float  # the required fraction, 0.9 = 90 %
    label: Any
    population: Any  # what is measured
    source: str
    lines: tuple[str, ...] = ()  # only calls / incidents of these lines
    unit_types: tuple[str, ...] = ()  # only assignments of these unit types

    @property
    def share_percent(self) -> float:
        return round(self.share * 100, 1)


NENA = "NENA-STA-020.1-2020"
NHC = "国家卫健委 国卫医发〔2020〕19号"
TARGETS: list[Target] = [
    Target("answer_15", "answer", 15, 0.90, gettext_lazy("15 秒内接听"), gettext_lazy("全部来电"), NENA),
    Target("answer_20", "answer", 20, 0.95, gettext_lazy("20 秒内接听"), gettext_lazy("全部来电"), NENA),
    Target("answer_10", "answer", 10, 0.90, gettext_lazy("10 秒内接听"), gettext_lazy("全部来电"), "NFPA 1225 (2022)"),
    Target("answer_120", "answer", 10, 0.95, gettext_lazy("120 来电 10 秒内接听"), gettext_lazy("120 来电"), NHC,
           lines=(Line.AMBULANCE.value,)),
    Target("dispatch_60", "dispatch", 60, 0.90, gettext_lazy("接警后 60 秒内派警"), gettext_lazy("已派警事件"),
           "NFPA 1225 (2022)"),
    Target("alarm_64", "dispatch", 64, 0.90, gettext_lazy("火警 64 秒内派警"), gettext_lazy("119 事件"),
           "NFPA 1221 (2016)", lines=(Line.FIRE.value,)),
    Target("alarm_106", "dispatch", 106, 0.95, gettext_lazy("火警 106 秒内派警"), gettext_lazy("119 事件"),
           "NFPA 1221 (2016)", lines=(Line.FIRE.value,)),
    Target("turnout_ems", "turnout", 60, 0.90, gettext_lazy("救护车 60 秒内出动"), gettext_lazy("救护车派车"),
           "NFPA 1710 (2020)", unit_types=(UnitType.AMBULANCE.value,)),
    Target("turnout_fire", "turnout", 80, 0.90, gettext_lazy("消防车 80 秒内出动"), gettext_lazy("消防车派车"),
           "NFPA 1710 (2020)", unit_types=FIRE_APPARATUS),
    Target("ambulance_3min", "turnout", 180, 0.95, gettext_lazy("救护车 3 分钟内出车"), gettext_lazy("救护车派车"),
           NHC, unit_types=(UnitType.AMBULANCE.value,)),
    Target("travel_engine", "travel", 240, 0.90, gettext_lazy("首辆消防车 240 秒内到场（行驶）"),
           gettext_lazy("有消防车到场的事件"), "NFPA 1710 (2020)", unit_types=ENGINES),
]
TARGETS_BY_KEY = {t.key: t for t in TARGETS}


@dataclass(frozen=True)
class Stat:
    """Percentiles (seconds, one decimal) of ``n`` values; None without values."""

    n: int
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None


@dataclass(frozen=True)
class Compliance:
    target: Target
    n: int  # values measured
    within: int  # values within the target time

    @property
    def share(self) -> float | None:
        """Percentage within the target time (one decimal); None without values."""
        return round(100.0 * self.within / self.n, 1) if self.n else None

    @property
    def met(self) -> bool | None:
        return None if not self.n else self.within >= self.target.share * self.n - 1e-9


@dataclass
class Row:
    key: str
    label: str
    incidents: int = 0
    calls: int = 0
    dispatched: int = 0
    on_scene: int = 0
    stats: dict[str, Stat] = field(default_factory=dict)
    compliance: dict[str, Compliance] = field(default_factory=dict)


@dataclass
class Report:
    start: dt.date
    end: dt.date
    group_by: str
    total: Row
    rows: list[Row]
    histogram: dict[str, list[Any]]  # answer → dispatch of the whole scope: labels, counts
    trend: dict[str, list[Any]]  # per month (or day): labels, incidents, answer ≤ 15 s share, p90s
    targets: list[Target] = field(default_factory=lambda: list(TARGETS))


def day_range(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end + 1 day 00:00) in local time; at most a year."""
    if end < start:
        raise InvalidInput("结束日期早于开始日期", "the end date is before the start date", field="end")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput("统计区间不能超过一年", "the range may not exceed one year", field="end")
    tz = timezone.get_current_timezone()
    return (dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))


def scoped_incidents(acting_user: Any, lo: dt.datetime, hi: dt.datetime, county: str | None = None
                     ) -> QuerySet[Incident]:
    qs = access.filter_by_scope(Incident.objects.all(), acting_user, PERM, "grid_code")
    qs = qs.filter(created_at__gte=lo, created_at__lt=hi).exclude(state=IncidentState.MERGED)
    if county:
        qs = qs.filter(county_code=county)
    return qs.order_by()


# --- reading ----------------------------------------------------------------------------------------------

def _fetch(qs: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """The rows of a ``values_list`` queryset through the cursor (no per-value conversion by the ORM)."""
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:  # ``none()``: a user without the permission anywhere
        return []
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class _Epoch(Func):
    """A timestamp as epoch seconds (float) in SQL: the cursor then returns plain floats, with no datetime
    parsing per value (Django stores UTC on SQLite; julianday's double keeps ~20 µs precision)."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM %(expressions)s)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
                              **extra_context)

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8",
                              **extra_context)


def _epochs(qs: QuerySet[Any], *fields: str) -> QuerySet[Any]:
    return qs.annotate(**{f"_e_{f}": _Epoch(f) for f in fields})


def _seconds(values: Sequence[Any]) -> np.ndarray:
    """Float array of epoch seconds, NaN for None."""
    return np.array(values, dtype=float) if values else np.zeros(0)


def _column(rows: list[tuple[Any, ...]], i: int) -> list[Any]:
    return [r[i] for r in rows]


def _percentiles(values: np.ndarray) -> Stat:
    values = values[~np.isnan(values)]
    if not values.size:
        return Stat(0)
    p50, p90, p95 = (round(float(x), 1) for x in np.percentile(values, PERCENTILES))
    return Stat(int(values.size), p50, p90, p95)


def _duration(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """end − start in seconds, to the millisecond (the epoch seconds from SQLite's julianday carry ~20 µs of
    float noise: rounding keeps 15.000 s within a 15 s target); NaN where either is missing or the order
    is wrong (bad data is left out)."""
    out = np.round(end - start, 3)
    out[out < 0] = np.nan
    return out


@dataclass
class _Data:
    """Arrays of the range: one entry per incident, per call, per assignment, per first engine."""

    inc_keys: list[Any]  # group key per incident (per the grouping)
    inc_line: np.ndarray
    created: np.ndarray
    dispatch: np.ndarray
    arrival: np.ndarray
    total: np.ndarray
    dispatched: np.ndarray  # bool
    on_scene: np.ndarray  # bool
    call_inc: np.ndarray  # incident index of each call
    call_line: np.ndarray
    answer: np.ndarray
    asg_inc: np.ndarray
    asg_type: np.ndarray
    turnout: np.ndarray
    engine_inc: np.ndarray
    engine_travel: np.ndarray


def _read(qs: QuerySet[Incident], group_by: str) -> _Data:
    key_field = {"department": "owning_department_id", "county": "county_code", "class": "incident_type__code",
                 "subclass": "incident_type__code", "centre": "centre_code", "line": "county_code"}[group_by]
    incidents = _fetch(_epochs(qs.order_by("pk"), "created_at", "first_answered_at", "first_dispatched_at",
                               "first_on_scene_at").values_list(
        "pk", key_field, "urban_case_number", "_e_created_at", "_e_first_answered_at", "_e_first_dispatched_at",
        "_e_first_on_scene_at"))
    ids = np.array(_column(incidents, 0), dtype=np.int64)
    if group_by == "class":
        keys = [k[:2] if k else k for k in _column(incidents, 1)]
    elif group_by == "subclass":
        keys = [k[:3] if k else k for k in _column(incidents, 1)]
    else:
        keys = _column(incidents, 1)
    created, answered, dispatched, on_scene = (_seconds(_column(incidents, i)) for i in (3, 4, 5, 6))
    pks = qs.values("pk")
    calls = _fetch(_epochs(Call.objects.filter(incident__in=pks).order_by(), "received_at", "answered_at")
                   .values_list("incident_id", "line", "_e_received_at", "_e_answered_at"))
    call_inc = np.searchsorted(ids, np.array(_column(calls, 0), dtype=np.int64)) if calls else np.zeros(0, int)
    call_line = np.array(_column(calls, 1), dtype=object)
    call_answered = _seconds(_column(calls, 3))
    # the line of an incident: the line of its first call
    inc_line = np.array([Line.URBAN.value if u else "" for u in _column(incidents, 2)], dtype=object)
    if calls:
        order = np.lexsort((call_answered, call_inc))
        first_of, first_at = np.unique(call_inc[order], return_index=True)
        inc_line[first_of] = call_line[order][first_at]
    asg = _fetch(_epochs(Assignment.objects.filter(incident__in=pks).order_by(), "dispatched_at", "en_route_at",
                         "on_scene_at").values_list("incident_id", "unit__unit_type", "_e_dispatched_at",
                                                    "_e_en_route_at", "_e_on_scene_at"))
    asg_inc = np.searchsorted(ids, np.array(_column(asg, 0), dtype=np.int64)) if asg else np.zeros(0, int)
    asg_type = np.array(_column(asg, 1), dtype=object)
    asg_dispatched, asg_en_route, asg_on_scene = (_seconds(_column(asg, i)) for i in (2, 3, 4))
    # the first engine to arrive at each incident: its travel time (en route → on scene)
    engine = np.isin(asg_type, ENGINES) & ~np.isnan(asg_on_scene) if asg else np.zeros(0, bool)
    e_inc, e_on, e_route = asg_inc[engine], asg_on_scene[engine], asg_en_route[engine]
    order = np.lexsort((e_on, e_inc))
    engine_inc, first = np.unique(e_inc[order], return_index=True)
    engine_travel = _duration(e_route[order][first], e_on[order][first])
    if group_by == "line":
        keys = list(inc_line)
    return _Data(
        inc_keys=keys, inc_line=inc_line, created=created, dispatch=_duration(answered, dispatched),
        arrival=_duration(dispatched, on_scene), total=_duration(answered, on_scene),
        dispatched=~np.isnan(dispatched), on_scene=~np.isnan(on_scene), call_inc=call_inc, call_line=call_line,
        answer=_duration(_seconds(_column(calls, 2)), call_answered), asg_inc=asg_inc, asg_type=asg_type,
        turnout=_duration(asg_dispatched, asg_en_route), engine_inc=engine_inc, engine_travel=engine_travel)


# --- computing --------------------------------------------------------------------------------------------

def _split(group: np.ndarray, values: np.ndarray, groups: int) -> list[np.ndarray]:
    """``values`` split by group index (0 .. groups-1)."""
    if not values.size:
        return [values] * groups
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(1, groups))
    return np.split(values[order], bounds)


def _target_values(d: _Data, t: Target, inc_group: np.ndarray, call_group: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(group index, value) of the values a target measures."""
    if t.metric == "answer":
        mask = np.isin(d.call_line, t.lines) if t.lines else np.ones(d.answer.size, bool)
        return call_group[mask], d.answer[mask]
    if t.metric == "dispatch":
        mask = np.isin(d.inc_line, t.lines) if t.lines else np.ones(d.dispatch.size, bool)
        return inc_group[mask], d.dispatch[mask]
    if t.metric == "turnout":
        mask = np.isin(d.asg_type, t.unit_types) if d.asg_type.size else np.zeros(0, bool)
        return inc_group[d.asg_inc[mask]], d.turnout[mask]
    return inc_group[d.engine_inc], d.engine_travel


def _rows(d: _Data, inc_group: np.ndarray, call_group: np.ndarray, keys: list[Any], labels: dict[Any, str]
          ) -> list[Row]:
    groups = len(keys)
    count = np.bincount(inc_group, minlength=groups)
    calls = np.bincount(call_group, minlength=groups)
    dispatched = np.bincount(inc_group, weights=d.dispatched, minlength=groups)
    on_scene = np.bincount(inc_group, weights=d.on_scene, minlength=groups)
    per_metric = {"answer": _split(call_group, d.answer, groups), "dispatch": _split(inc_group, d.dispatch, groups),
                  "arrival": _split(inc_group, d.arrival, groups), "total": _split(inc_group, d.total, groups)}
    compliance: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for t in TARGETS:
        group, values = _target_values(d, t, inc_group, call_group)
        valid = ~np.isnan(values)
        compliance[t.key] = (np.bincount(group[valid], minlength=groups),
                             np.bincount(group[valid], weights=values[valid] <= t.seconds, minlength=groups))
    rows = []
    for i, key in enumerate(keys):
        rows.append(Row(
            key="" if key is None else str(key), label=labels.get(key) or _("（未指定）"), incidents=int(count[i]),
            calls=int(calls[i]), dispatched=int(dispatched[i]), on_scene=int(on_scene[i]),
            stats={m: _percentiles(parts[i]) for m, parts in per_metric.items()},
            compliance={k: Compliance(TARGETS_BY_KEY[k], int(n[i]), int(w[i])) for k, (n, w) in compliance.items()}))
    return rows


def _labels(group_by: str, keys: list[Any]) -> dict[Any, str]:
    present = [k for k in keys if k not in (None, "")]
    if group_by == "department":
        return dict(Department.objects.filter(pk__in=present).values_list("pk", "name"))
    if group_by == "line":
        names = {k: str(v) for k, v in Line.choices}
        return {k: names.get(k, k) for k in present}
    if group_by in ("class", "subclass"):
        codes = {k: k + "0" * (5 - len(k)) for k in present}
        names = dict(IncidentType.objects.filter(code__in=codes.values()).values_list("code", "name"))
        return {k: f"{code} {names.get(code, '')}".strip() for k, code in codes.items()}
    divisions = {}
    for code, _valid_to, name in sorted(Division.objects.filter(code__in=present).values_list(
            "code", "valid_to", "name"), key=lambda r: (r[1] is None, r[1] or dt.date.min)):
        divisions[code] = name
    if group_by == "centre":
        city = _("市级指挥中心")
        return {k: city if k == CITY_CODE else _("%(division)s指挥中心") % {"division": divisions.get(k, k)}
                for k in present}
    return {k: divisions.get(k, k) for k in present}


def _histogram(values: np.ndarray) -> dict[str, list[Any]]:
    values = values[~np.isnan(values)]
    edges = list(range(0, HISTOGRAM_MAX + 1, HISTOGRAM_STEP))
    counts = np.histogram(np.minimum(values, HISTOGRAM_MAX), bins=[*edges[:-1], HISTOGRAM_MAX, np.inf])[0]
    labels = [f"{a}–{b}" for a, b in itertools.pairwise(edges)] + [f"≥{HISTOGRAM_MAX}"]
    return {"labels": labels, "counts": [int(c) for c in counts]}


def _buckets(start: dt.date, end: dt.date) -> tuple[list[str], np.ndarray]:
    """Labels and start times (epoch seconds, plus the end) of the months of the range, or of its days
    when it is at most 62 days long."""
    tz = timezone.get_current_timezone()
    days: list[dt.date] = []
    if (end - start).days < 62:
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 2)]
        labels = [f"{d:%m-%d}" for d in days[:-1]]
    else:
        day = start
        while day <= end:
            days.append(day)
            day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        days.append(end + dt.timedelta(days=1))
        labels = [f"{d:%Y-%m}" for d in days[:-1]]
    edges = np.array([dt.datetime.combine(d, dt.time.min, tzinfo=tz).timestamp() for d in days])
    return labels, edges


def _trend(d: _Data, start: dt.date, end: dt.date) -> dict[str, list[Any]]:
    labels, edges = _buckets(start, end)
    n = len(labels)
    bucket = np.clip(np.searchsorted(edges, d.created, side="right") - 1, 0, n - 1)
    call_bucket = bucket[d.call_inc] if d.call_inc.size else np.zeros(0, int)
    answered = np.bincount(call_bucket[~np.isnan(d.answer)], minlength=n)
    within = np.bincount(call_bucket[~np.isnan(d.answer)], weights=d.answer[~np.isnan(d.answer)] <= 15, minlength=n)
    dispatch = _split(bucket, d.dispatch, n)
    arrival = _split(bucket, d.arrival, n)
    return {
        "labels": labels, "incidents": [int(x) for x in np.bincount(bucket, minlength=n)],
        "answer_15": [round(float(100.0 * w / a), 1) if a else None for w, a in zip(within, answered, strict=True)],
        "dispatch_p90": [_percentiles(v).p90 for v in dispatch],
        "arrival_p90": [_percentiles(v).p90 for v in arrival],
    }


def build_report(*, acting_user: Any, start: dt.date, end: dt.date, group_by: str = "county",
                 county: str | None = None) -> Report:
    """The metrics of the incidents created from ``start`` to ``end`` (local days, both inclusive) that
    ``acting_user`` may see with ``emergency.view_metrics``, grouped by ``group_by`` (``GROUPS``)."""
    if group_by not in GROUPS:
        raise InvalidInput("未知的分组方式", "unknown grouping", field="group_by")
    lo, hi = day_range(start, end)
    d = _read(scoped_incidents(acting_user, lo, hi, county), group_by)
    keys = sorted(set(d.inc_keys), key=lambda k: (k is None, str(k)))
    index = {k: i for i, k in enumerate(keys)}
    inc_group = np.array([index[k] for k in d.inc_keys], dtype=np.int64)
    if group_by == "line":
        for k in set(d.call_line.tolist()) - set(index):
            index[k] = len(keys)
            keys.append(k)
        call_group = np.array([index[k] for k in d.call_line.tolist()], dtype=np.int64)
    else:
        call_group = inc_group[d.call_inc] if d.call_inc.size else np.zeros(0, np.int64)
    rows = _rows(d, inc_group, call_group, keys, _labels(group_by, keys))
    rows.sort(key=lambda r: (-r.incidents, -r.calls, r.key))
    total = _rows(d, np.zeros(inc_group.size, np.int64), np.zeros(call_group.size, np.int64), ["*"],
                  {"*": _("合计")})[0]
    total.key = ""
    return Report(start=start, end=end, group_by=group_by, total=total, rows=rows,
                  histogram=_histogram(d.dispatch), trend=_trend(d, start, end))


# --- export -------------------------------------------------------------------------------------------------

def headers() -> list[str]:
    cols = [_("名称"), _("编码"), _("事件数"), _("来电数"), _("已派警"), _("已到场")]
    for name in METRICS.values():
        cols += [_("%(metric)s P%(p)s（秒）") % {"metric": name, "p": p} for p in PERCENTILES]
    for t in TARGETS:
        cols.append(_("%(target)s（≥%(share)s%%）达标率(%%)") % {"target": t.label, "share": f"{t.share_percent:g}"})
    return cols


def row_values(row: Row) -> list[Any]:
    values: list[Any] = [row.label, row.key, row.incidents, row.calls, row.dispatched, row.on_scene]
    for m in METRICS:
        s = row.stats[m]
        values += [s.p50, s.p90, s.p95]
    values += [row.compliance[t.key].share for t in TARGETS]
    return values


def table(report: Report) -> list[list[Any]]:
    """The exported rows: the total first, then the groups (as on the page)."""
    return [row_values(report.total), *(row_values(r) for r in report.rows)]


def target_headers() -> list[str]:
    return [_("指标"), _("统计对象"), _("时限（秒）"), _("要求比例(%)"), _("依据"), _("样本数"), _("实际比例(%)"),
            _("是否达标")]


def target_values(report: Report) -> list[list[Any]]:
    out = []
    for t in TARGETS:
        c = report.total.compliance[t.key]
        met = "—" if c.met is None else (_("达标") if c.met else _("未达标"))
        out.append([str(t.label), str(t.population), t.seconds, t.share_percent, t.source, c.n, c.share, met])
    return out


def to_csv(report: Report) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers())
    for values in table(report):
        writer.writerow(["" if v is None else v for v in values])
    writer.writerow([])
    writer.writerow(target_headers())
    for values in target_values(report):
        writer.writerow(["" if v is None else v for v in values])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 CSV correctly


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    met_fill, missed_fill = PatternFill("solid", fgColor="D7F0DD"), PatternFill("solid", fgColor="F8D7DA")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("响应时效")
    ws.append(headers())
    first_target = len(headers()) - len(TARGETS) + 1
    for r, (row, values) in enumerate(zip([report.total, *report.rows], table(report), strict=True), start=2):
        ws.append(values)
        for i, t in enumerate(TARGETS):
            met = row.compliance[t.key].met
            if met is not None:
                ws.cell(row=r, column=first_target + i).fill = met_fill if met else missed_fill
    sheet = wb.create_sheet(_("目标达标情况"))
    sheet.append(target_headers())
    for values in target_values(report):
        sheet.append(values)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
