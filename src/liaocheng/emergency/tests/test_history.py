"""Historical incidents: the bulk import (rows as given, one audit record per batch, refusals) and the demo
year (every county and month, real units of the right types and agencies, consistent times, idempotent,
plausible metrics)."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import Counter
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from liaocheng.core.departments import COUNTIES
from liaocheng.core.errors import Conflict
from liaocheng.core.models import AuditRecord, Department
from liaocheng.emergency import history, intake, metrics, recommend
from liaocheng.emergency.demo import ensure_demo_resources
from liaocheng.emergency.models import (
    Assignment,
    Call,
    Incident,
    IncidentEvent,
    IncidentType,
    Transfer,
    Unit,
    UnitStatus,
)

CITY = "371500"
SX = "371522"
# the department kind of each unit type's agency
AGENCY = {
    "police_car": {"public_security"}, "traffic_police": {"traffic_police"}, "ambulance": {"emergency_medical"},
    "fire_engine": {"fire_rescue"}, "foam_tender": {"fire_rescue"}, "aerial_ladder": {"fire_rescue"},
    "rescue_engine": {"fire_rescue"}, "hazmat": {"fire_rescue"}, "command": {"fire_rescue", "emergency_management"},
    "water_crew": {"water"}, "power_crew": {"power"}, "gas_crew": {"gas"}, "rescue_team": {"emergency_management"},
}


@pytest.fixture
def demo_year(db: None) -> dict[str, Any]:
    intake.load_incident_types()
    ensure_demo_resources()
    started = time.perf_counter()
    written = history.ensure_demo_incidents(400)
    return {"written": written, "seconds": time.perf_counter() - started}


def test_demo_year_covers_the_city_with_real_units(demo_year: dict[str, Any]) -> None:
    assert demo_year["written"] == 400
    assert demo_year["seconds"] < 30  # ~1 s on an idle machine; 15,000 in well under a minute
    tz = timezone.get_current_timezone()
    now = timezone.now()
    incidents = list(Incident.objects.select_related("incident_type"))
    live = [i for i in incidents if i.state == "closed"]
    assert len(live) == 400 and all(i.state in ("closed", "merged") for i in incidents)
    assert {i.county_code for i in live} == {code for code, _name in COUNTIES}
    months = {timezone.localtime(i.created_at, tz).strftime("%Y-%m") for i in live}
    assert len(months) >= 12
    first = min(i.created_at for i in live)
    assert now - first <= dt.timedelta(days=366) and all(i.closed_at and i.closed_at < now for i in live)
    assert all(i.number.startswith(f"{history.DEMO_PREFIX}{i.county_code}") for i in incidents)
    # the mix: 110 most common, then the other lines; severities mostly Ⅳ
    first_lines = Counter(i.calls.order_by("answered_at").values_list("line", flat=True).first() for i in live)
    assert first_lines.most_common(1)[0][0] == "110" and {"119", "120", "122"} <= set(first_lines)
    assert sum(1 for i in live if i.severity == 4) >= 0.9 * len(live)
    # times in order on every incident
    for i in live:
        assert i.first_answered_at is not None and i.first_answered_at <= i.created_at
        if i.first_dispatched_at is not None:
            assert i.first_answered_at < i.first_dispatched_at
            if i.first_on_scene_at is not None:
                assert i.first_dispatched_at < i.first_on_scene_at <= i.controlled_at <= i.closed_at
        assert i.disposition
    # assignments: existing units of the plan's types, of the right agency, local agencies from the county
    plans = recommend.plans_for({(i.incident_type.code, i.severity) for i in live})
    units = {u.pk: u for u in Unit.objects.select_related("department", "station")}
    speeds = []
    assignments = list(Assignment.objects.select_related("incident", "incident__incident_type"))
    assert len(assignments) >= 300
    for a in assignments:
        unit, inc = units[a.unit_id], a.incident
        assert unit.unit_type in recommend.plan_needs(plans[(inc.incident_type.code, inc.severity)])
        assert unit.department.kind in AGENCY[unit.unit_type]
        if unit.unit_type in history.LOCAL_TYPES:
            assert unit.county_code == inc.county_code
        assert a.dispatched_at == inc.first_dispatched_at and a.cleared_at is not None
        assert a.en_route_at is not None and a.dispatched_at < a.en_route_at
        if a.on_scene_at is not None:
            distance = float(recommend.haversine_m(unit.lon, unit.lat, inc.lon, inc.lat))
            travel = (a.on_scene_at - a.en_route_at).total_seconds() - history.ACCESS_SECONDS
            assert travel > 0 and distance < 80_000
            speeds.append(distance * recommend.DETOUR_FACTOR / travel * 3.6 if travel > 1 else 50.0)
    assert 25 < float(np.median(speeds)) < 65 and min(speeds) > 8 and max(speeds) < 130
    # no unit on two incidents at once; all units available again
    by_unit: dict[int, list[Assignment]] = {}
    for a in assignments:
        by_unit.setdefault(a.unit_id, []).append(a)
    for items in by_unit.values():
        items.sort(key=lambda a: a.dispatched_at)
        assert all(x.cleared_at is not None and x.cleared_at <= y.dispatched_at
                   for x, y in itertools.pairwise(items))
    assert not Unit.objects.exclude(status=UnitStatus.AVAILABLE).exists()
    assert not Unit.objects.filter(incident__isnull=False).exists()
    # calls: numbers encrypted with their blind index; merged incidents keep no call
    calls = list(Call.objects.all())
    assert len(calls) > 400
    for c in calls[:50]:
        assert c.caller_index == intake.caller_index(c.caller_number)
        assert c.received_at < c.answered_at
    for m in (i for i in incidents if i.state == "merged"):
        assert m.merged_into is not None and m.merged_into.state == "closed" and not m.calls.exists()
    # timeline: created, called, dispatched, closed
    sample = next(i for i in live if i.first_dispatched_at is not None)
    actions = list(IncidentEvent.objects.filter(incident=sample).values_list("action", flat=True))
    assert actions[:2] == ["create", "call"] and "dispatch" in actions and actions.count("unit_status") >= 2
    assert IncidentEvent.objects.filter(incident=sample, action="state", data__to="closed").exists()
    # one audit record per batch
    assert AuditRecord.objects.filter(action="emergency.import_history").count() == 1
    # idempotent
    counts = (Incident.objects.count(), Call.objects.count(), Assignment.objects.count(), IncidentEvent.objects.count())
    assert history.ensure_demo_incidents(400) == 0
    assert counts == (Incident.objects.count(), Call.objects.count(), Assignment.objects.count(),
                      IncidentEvent.objects.count())


def test_metrics_over_the_demo_year_are_plausible(demo_year: dict[str, Any], staff_factory: Any) -> None:
    user = staff_factory("h_admin", department_code=f"{CITY}-emergency_management",
                         roles=(("emergency_admin", CITY),))
    today = timezone.localdate()
    report = metrics.build_report(acting_user=user, start=today - dt.timedelta(days=364), end=today)
    total = report.total
    assert total.incidents == 400 and len(report.rows) == 8
    assert 80 <= (total.compliance["answer_15"].share or 0) <= 99
    assert 30 <= (total.stats["dispatch"].p50 or 0) <= 90
    assert 120 <= (total.stats["arrival"].p50 or 0) <= 1200
    assert total.stats["answer"].n == Call.objects.count()
    assert sum(report.trend["incidents"]) == 400 and len(report.trend["labels"]) >= 12


def test_seasons_and_kinds(db: None) -> None:
    """Waterlogging in July–August, building fires more in the cold months, 110 matters most (the schedule
    alone, many draws, nothing written)."""
    intake.load_incident_types()
    tz = timezone.get_current_timezone()
    gen = history._Generator(3, timezone.now(), tz)
    start = timezone.localdate() - dt.timedelta(days=364)
    picks = gen.schedule(20_000, start, 365)
    codes = [gen.table[row][0] for _at, row in picks]
    months = [dt.datetime.fromtimestamp(at, tz).month for at, _row in picks]
    flood = Counter(m for c, m in zip(codes, months, strict=True) if c == "11A02")
    assert (flood[7] + flood[8]) >= 0.75 * sum(flood.values())
    fires = Counter(m for c, m in zip(codes, months, strict=True) if c == "12G03")
    assert sum(fires[m] for m in (12, 1, 2, 3)) > 1.8 * sum(fires[m] for m in (6, 7, 8, 9))
    kinds = Counter(history.KINDS_BY_CODE[c] for c in codes)
    assert kinds.most_common(1)[0][0] == "police" and kinds["traffic"] > kinds["fire"]
    assert [at for at, _row in picks] == sorted(at for at, _row in picks)


def test_import_rows_as_given(db: None, staff_factory: Any) -> None:
    intake.load_incident_types()
    county_admin = staff_factory("h_county", department_code=f"{SX}-emergency_management",
                                 roles=(("emergency_admin", SX),))
    city_admin = staff_factory("h_city", department_code=f"{CITY}-emergency_management",
                               roles=(("emergency_admin", CITY),))
    fire = Department.objects.get(code=f"{SX}-fire_rescue")
    police = Department.objects.get(code=f"{SX}-public_security")
    now = timezone.now()
    unit = Unit.objects.create(call_sign="莘县水罐9", unit_type="fire_engine", department=fire, status_at=now,
                               lon=115.6, lat=36.2, position_at=now, county_code=SX)

    def item(number: str) -> history.HistoricalIncident:
        t0 = now - dt.timedelta(days=3)
        incident = Incident(number=number, incident_type=IncidentType.objects.get(code="12G03"), state="closed",
                            summary="厨房起火", lon=115.6, lat=36.2, grid_code=f"{SX}001001001",
                            community_code=f"{SX}001001", township_code=f"{SX}001", county_code=SX, centre_code=SX,
                            owning_department=fire, created_at=t0, first_answered_at=t0,
                            first_dispatched_at=t0 + dt.timedelta(seconds=40),
                            first_on_scene_at=t0 + dt.timedelta(seconds=400), closed_at=t0 + dt.timedelta(hours=1),
                            disposition="明火已扑灭")
        call = Call(line="119", caller_number="13800000000", caller_index=intake.caller_index("13800000000"),
                    location_source="map", lon=115.6, lat=36.2, narrative="厨房起火",
                    received_at=t0 - dt.timedelta(seconds=5), answered_at=t0, centre_code=SX)
        assignment = Assignment(unit=unit, dispatched_at=t0 + dt.timedelta(seconds=40),
                                en_route_at=t0 + dt.timedelta(seconds=100), on_scene_at=t0 + dt.timedelta(seconds=400),
                                cleared_at=t0 + dt.timedelta(minutes=50))
        dup = Incident(number=number + "-D", incident_type=incident.incident_type, state="merged", summary="重复",
                       lon=115.6, lat=36.2, grid_code=incident.grid_code, community_code=incident.community_code,
                       township_code=incident.township_code, county_code=SX, centre_code=SX, created_at=t0)
        return history.HistoricalIncident(
            incident, calls=[call], assignments=[assignment], assisting=[police.pk, police.pk],
            transfers=[Transfer(from_centre=SX, to_centre=CITY, reason="升级", sent_at=t0)],
            events=[history.Entry(t0, "create", data={"type": "12G03"}),
                    history.Entry(t0 + dt.timedelta(seconds=40), "dispatch", "出动", {"call_sign": "莘县水罐9"},
                                  actor_label="值班调度员")],
            merged=[history.HistoricalIncident(dup, events=[history.Entry(t0, "merged")])])

    with pytest.raises(PermissionDenied):
        history.import_historical_incidents(acting_user=county_admin, incidents=[item("H-1")])
    done: list[int] = []
    assert history.import_historical_incidents(acting_user=city_admin, incidents=[item("H-1"), item("H-2")],
                                               batch_size=1, progress=done.append) == 2
    assert done == [1, 2]
    assert AuditRecord.objects.filter(action="emergency.import_history").count() == 2
    row = Incident.objects.get(number="H-1")
    assert row.first_on_scene_at == now - dt.timedelta(days=3) + dt.timedelta(seconds=400)
    assert row.calls.get().caller_number == "13800000000" and row.assignments.get().unit == unit
    assert list(row.assisting_departments.all()) == [police] and row.transfers.count() == 1
    assert Incident.objects.get(number="H-1-D").merged_into == row
    labels = list(row.events.values_list("action", "actor_label", "data"))
    assert labels == [("create", "h_city", {"type": "12G03"}), ("dispatch", "值班调度员", {"call_sign": "莘县水罐9"})]
    # a number that exists: refused, nothing of the batch written
    counts = (Incident.objects.count(), Call.objects.count(), IncidentEvent.objects.count())
    with pytest.raises(Conflict):
        history.import_historical_incidents(acting_user=city_admin, incidents=[item("H-3"), item("H-1")])
    assert counts == (Incident.objects.count(), Call.objects.count(), IncidentEvent.objects.count())
