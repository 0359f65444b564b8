"""A year of synthetic historical cases across the city, so that the evaluation pages show real figures.

``ensure_demo_cases`` generates reports over the last 365 days in every county (in proportion to the grids,
urban grids weighted higher), weighted toward common events and components, with working-hour timestamps:
reported in daytime, filed within minutes, dispatched to the responsible department, handled within or
beyond the class deadline (``core.calendar``; 85–92 % on time depending on the department), some rework, a
few returns, some not filed, and the most recent cases still open (overdue ones escalated, as the
background task would have). Written through ``services.import_historical_cases`` (one audit record per
batch). Demo cases are marked by their number prefix ``DM``; a second call adds nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import shapely
from django.utils import timezone

from liaocheng.core.calendar import WorkingCalendar, get_calendar
from liaocheng.core.models import Department
from liaocheng.geo.models import Division, Grid

from . import services
from .models import Case, CaseEvent, CaseState, Channel, MinorClass, Supervision

DEMO_PREFIX = "DM"
ACTOR = "demo"
S = CaseState

# relative frequency of the classes (others: 1)
CLASS_WEIGHTS = {
    "E0102": 18, "E0505": 14, "E0201": 10, "E0501": 8, "E0507": 7, "E0103": 6, "E0302": 4, "E0401": 3,
    "E0301": 2, "C0305": 6, "C0118": 6, "C0101": 3, "C0102": 3, "C0103": 3, "C0104": 2, "C0105": 2,
    "C0106": 2, "C0402": 3, "C0209": 2, "C0211": 2, "C0214": 2, "C0301": 2, "C0307": 2,
}
CHANNELS = [(Channel.SUPERVISOR, 70), (Channel.HOTLINE, 16), (Channel.PUBLIC, 10), (Channel.LEADER, 4)]
NOT_FILED_RATE = 0.04
REWORK_RATE = 0.05
RETURN_RATE = 0.02
PHRASES = ["，请尽快处理", "，影响市容", "，群众反映强烈", "，存在安全隐患", ""]


def demo_cases_exist() -> bool:
    return Case.objects.filter(number__startswith=DEMO_PREFIX).exists()


def _on_time_rate(dept: Department) -> float:
    """85–92 %, stable per department."""
    return 0.85 + 0.07 * (zlib.crc32(dept.code.encode()) % 1000) / 1000


class _Generator:
    def __init__(self, rng: random.Random, now: dt.datetime, cal: WorkingCalendar) -> None:
        self.rng, self.now, self.cal = rng, now, cal
        self.tz = cal.tz
        grids = list(Grid.objects.filter(minx__isnull=False, miny__isnull=False).order_by("code").values_list(
            "code", "county_code", "township_code", "community_code", "size_class", "minx", "maxx", "miny",
            "maxy"))
        self.grids = grids
        self.grid_weights = list(itertools.accumulate(3.0 if g[4] == "urban" else 1.0 for g in grids))
        codes = {g[1] for g in grids} | {g[2] for g in grids} | {g[3] for g in grids}
        self.names: dict[str, str] = {}
        for code, name in Division.objects.filter(code__in=codes, valid_to__isnull=True).values_list("code", "name"):
            self.names[code] = name
        self.minors = list(MinorClass.objects.filter(active=True).order_by("full_code"))
        self.minor_weights = list(itertools.accumulate(CLASS_WEIGHTS.get(m.full_code, 1) for m in self.minors))
        self.depts: dict[tuple[int, str], Department] = {}
        self.others: dict[str, list[Department]] = {}

    def pick_grids(self, count: int) -> list[int]:
        """Choose the grids of all cases up front and read just their boundaries (a few queries)."""
        picks = self.rng.choices(range(len(self.grids)), cum_weights=self.grid_weights, k=count)
        codes = sorted({self.grids[i][0] for i in picks})
        texts: dict[str, str] = {}
        for i in range(0, len(codes), 500):
            texts.update(Grid.objects.filter(code__in=codes[i:i + 500]).values_list("code", "geometry"))
        shapes = shapely.from_geojson([texts[c] for c in codes])
        self.shapes = dict(zip(codes, shapes, strict=True))
        return picks

    def point_in(self, code: str, minx: float, maxx: float, miny: float, maxy: float) -> tuple[float, float]:
        """A random point inside the grid (its representative point if a few tries in the bbox miss)."""
        shape = self.shapes[code]
        for _ in range(6):
            x = minx + (maxx - minx) * self.rng.uniform(0.1, 0.9)
            y = miny + (maxy - miny) * self.rng.uniform(0.1, 0.9)
            if shapely.contains_xy(shape, x, y):
                return x, y
        p = shape.representative_point()
        return float(p.x), float(p.y)

    def department(self, minor: MinorClass, county: str) -> Department:
        key = (minor.pk, county)
        if key not in self.depts:
            self.depts[key] = services.responsible_department(minor, county)
        return self.depts[key]

    def wrong_department(self, county: str, right: Department) -> Department:
        if county not in self.others:
            self.others[county] = list(Department.objects.filter(division_code=county, active=True).order_by("code"))
        choices = [d for d in self.others[county] if d.pk != right.pk]
        return self.rng.choice(choices) if choices else right

    def report_time(self, start: dt.date, days: int) -> dt.datetime:
        rng = self.rng
        while True:
            day = start + dt.timedelta(days=rng.randrange(days))
            if not self.cal.is_workday(day) and rng.random() < 0.7:
                continue  # fewer reports at weekends and holidays
            moment = dt.datetime.combine(day, dt.time(7, 30), self.tz) + dt.timedelta(minutes=rng.randrange(600))
            if moment < self.now:
                return moment

    def make(self, index: int, grid: int, start: dt.date, days: int) -> services.HistoricalCase:
        rng, cal = self.rng, self.cal
        code, county, township, community, _size, minx, maxx, miny, maxy = self.grids[grid]
        minor = rng.choices(self.minors, cum_weights=self.minor_weights)[0]
        dept = self.department(minor, county)
        channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        reported_at = self.report_time(start, days)
        address = f"{self.names.get(county, '')}{self.names.get(township, '')}{self.names.get(community, '')}附近"
        lon, lat = self.point_in(code, float(minx or 0), float(maxx or 0), float(miny or 0), float(maxy or 0))
        local_day = reported_at.astimezone(self.tz).date()
        case = Case(
            number=f"{DEMO_PREFIX}{county}{local_day:%Y%m%d}{index:06d}", minor_class=minor, channel=channel,
            description=f"{minor.name}：{minor.filing_condition or minor.name}{rng.choice(PHRASES)}",
            address=address[:200], lon=lon, lat=lat, grid_code=code, community_code=community,
            township_code=township, county_code=county, department=dept, reported_at=reported_at,
            state=S.REPORTED,
        )
        events: list[CaseEvent] = []
        sup: list[Supervision] = []

        def step(at: dt.datetime, action: str, to_state: str = "", note: str = "", **data: Any) -> bool:
            """Record a step if it happened before now; False stops the case here (still open)."""
            if at >= self.now:
                return False
            from_state = case.state
            case.state = to_state or case.state
            events.append(CaseEvent(at=at, actor_label=ACTOR, action=action, from_state=from_state,
                                    to_state=case.state, note=note, data=data))
            return True

        step(reported_at, "report", S.REPORTED, channel=channel)
        t = reported_at + dt.timedelta(minutes=rng.randint(3, 90))
        if rng.random() < NOT_FILED_RATE:
            if step(t, "not_file", S.NOT_FILED, note="经核实不属于城管受理范围"):
                case.not_filed_reason = "经核实不属于城管受理范围"
            return services.HistoricalCase(case, events)
        if not step(t, "file", S.FILED):
            return services.HistoricalCase(case, events)
        case.filed_at = t
        t += dt.timedelta(minutes=rng.randint(5, 60))
        if rng.random() < RETURN_RATE:  # dispatched to the wrong department first, returned to the centre
            wrong = self.wrong_department(county, dept)
            first_due = services._add(cal, t, minor.deadline_value, minor.deadline_unit)
            if not step(t, "dispatch", S.DISPATCHED, department=wrong.code, due_at=first_due.isoformat()):
                return services.HistoricalCase(case, events)
            case.department, case.dispatched_at, case.due_at = wrong, t, first_due
            case.warn_at = cal.add_working_hours(
                t, services.WARN_FRACTION * cal.working_hours_between(t, first_due))
            t = cal.add_working_hours(t, rng.uniform(0.3, 1.5))
            if not step(t, "request_return", reason="不属于本部门职责"):
                return self._open(case, events, sup)
            t += dt.timedelta(minutes=rng.randint(10, 90))
            if not step(t, "approve_return", S.FILED, kind="return", status="approved"):
                return self._open(case, events, sup)
            case.department = None
            case.dispatched_at = case.due_at = case.warn_at = case.warned_at = None
            t += dt.timedelta(minutes=rng.randint(5, 30))
        dispatched = t
        due = services._add(cal, dispatched, minor.deadline_value, minor.deadline_unit)
        allowed = cal.working_hours_between(dispatched, due)
        warn = cal.add_working_hours(dispatched, services.WARN_FRACTION * allowed)
        if not step(dispatched, "dispatch", S.DISPATCHED, department=dept.code, due_at=due.isoformat()):
            return services.HistoricalCase(case, events)
        case.department, case.dispatched_at, case.due_at, case.warn_at = dept, dispatched, due, warn
        rework = rng.random() < REWORK_RATE
        actions = ["accept", "handle", *(["rework", "handle"] if rework else []), "verify", "close"]
        if rng.random() < _on_time_rate(dept):
            fractions = sorted(rng.uniform(0.03, 0.97) for _ in actions)
            times = [cal.add_working_hours(dispatched, f * allowed) for f in fractions]
        else:  # late: accepted in time, handled and closed after the deadline
            late = rng.uniform(0.5, 24.0)
            offsets = sorted(rng.uniform(0.05, late) for _ in actions[1:])
            times = [cal.add_working_hours(dispatched, rng.uniform(0.02, 0.3) * allowed),
                     *(cal.add_working_hours(due, h) for h in offsets)]
        to_states = {"accept": S.HANDLING, "handle": S.HANDLED, "rework": S.HANDLING, "verify": S.VERIFIED,
                     "close": S.CLOSED}
        for action, at in zip(actions, times, strict=True):
            if case.state in services.CLOCK_STATES:  # the background task warns and escalates on time
                self._clock(case, events, sup, min(at, self.now))
            notes = {"handle": "已按要求处置完毕", "rework": "现场核查未处置到位，请返工"}
            if not step(at, action, to_states[action], note=notes.get(action, "")):
                return self._open(case, events, sup)
            if action == "handle":
                case.handled_at = at
                case.handling_notes = notes["handle"]
            elif action == "rework":
                case.rework_count += 1
                case.handled_at = None
            elif action == "close":
                case.closed_at = at
        return services.HistoricalCase(case, events, sup[0] if sup else None)

    def _clock(self, case: Case, events: list[CaseEvent], sup: list[Supervision], until: dt.datetime) -> None:
        """Warn and escalate events the five-minute task would have written up to ``until`` (once each)."""
        assert case.warn_at is not None and case.due_at is not None
        if case.warned_at is None and not case.overdue and case.warn_at < until and case.due_at >= case.warn_at:
            at = case.warn_at + dt.timedelta(minutes=self.rng.randint(0, 4))
            if at < until and at <= case.due_at:
                case.warned_at = at
                events.append(CaseEvent(at=at, actor_label=services.SYSTEM, action="warn", from_state=case.state,
                                        to_state=case.state, data={"warn_at": case.warn_at.isoformat(),
                                                                   "due_at": case.due_at.isoformat()}))
        if not case.overdue and case.due_at < until:
            at = case.due_at + dt.timedelta(minutes=self.rng.randint(1, 5))
            if at < until:
                case.overdue = True
                sup.append(Supervision(kind="overdue", created_at=at, due_at=case.due_at,
                                       department=case.department, note="超期未处置，系统自动督办"))
                events.append(CaseEvent(at=at, actor_label=services.SYSTEM, action="escalate",
                                        from_state=case.state, to_state=case.state,
                                        data={"due_at": case.due_at.isoformat()}))

    def _open(self, case: Case, events: list[CaseEvent], sup: list[Supervision]) -> services.HistoricalCase:
        """A case still open at ``now``: catch up the warning and escalation of a running clock."""
        if case.state in services.CLOCK_STATES:
            self._clock(case, events, sup, self.now)
        return services.HistoricalCase(case, events, sup[0] if sup else None)


def ensure_demo_cases(count: int = 20_000, *, seed: int = 7, today: dt.date | None = None,
                      progress: Callable[[str, int, int], None] | None = None) -> int:
    """Generate ``count`` demo cases over the 365 days up to ``today`` (idempotent: nothing when demo cases
    exist or no classes are loaded). Returns the number of cases written."""
    if count <= 0 or demo_cases_exist() or not MinorClass.objects.filter(active=True).exists():
        return 0
    cal = get_calendar()
    if today is None:
        now = timezone.now()
        today = now.astimezone(cal.tz).date()
    else:
        now = dt.datetime.combine(today, dt.time(16, 0), cal.tz)
    start = today - dt.timedelta(days=364)
    # decide every day once (chinese-calendar per call is the slow part); overrides still win
    days = (start + dt.timedelta(days=i) for i in range(-7, 365 + 120))
    cal = dataclasses.replace(cal, overrides={day: cal.is_workday(day) for day in days} | cal.overrides)
    gen = _Generator(random.Random(seed), now, cal)
    if not gen.grids:
        return 0
    stage = "案卷 / urban cases"
    picks = gen.pick_grids(count)

    def items() -> Iterator[services.HistoricalCase]:
        for i, grid in enumerate(picks, 1):
            yield gen.make(i, grid, start, 365)

    def report(done: int) -> None:
        if progress is not None:
            progress(stage, done, count)

    return services.import_historical_cases(acting_user=ACTOR, cases=items(), progress=report)
