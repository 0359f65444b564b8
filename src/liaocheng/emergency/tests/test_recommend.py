"""Recommendation: response plans walking up the code tree, nearest available units by ETA, shortfall,
agreement with the brute-force scan."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
import shapely

from liaocheng.emergency import dispatch, intake, recommend
from liaocheng.emergency.models import Incident, IncidentType, ResponsePlan, Unit, UnitStatus
from liaocheng.geo.models import Grid

SX = "371522"  # 莘县
GX = "371502"  # 东昌府区
FIRE = "371522-fire_rescue"


# --- helpers shared with test_dispatch ----------------------------------------------------------------

TYPES = [("10000", "突发事件", ""), ("12000", "事故灾难", "2"), ("12G00", "火灾事故", "2"),
         ("12G04", "高层民用建筑火灾", "2"), ("12H00", "道路交通事故", "2"), ("12H02", "撞车", "2")]


def make_types() -> dict[str, IncidentType]:
    types: dict[str, IncidentType] = {}
    for code, name, cls in TYPES:
        parent = types.get(intake.parent_code(code) or "")
        types[code], _ = IncidentType.objects.get_or_create(code=code, defaults={
            "name": name, "incident_class": cls, "parent": parent, "owning_kind": "fire_rescue"})
    ResponsePlan.objects.filter(incident_type__code__in=[c for c, _n, _k in TYPES]).delete()
    return types


def plan(types: dict[str, IncidentType], code: str, severity: int | None, needs: dict[str, int]) -> ResponsePlan:
    return ResponsePlan.objects.create(incident_type=types[code], severity=severity, needs=needs)


def urban_point(county: str = SX) -> tuple[float, float]:
    grid = Grid.objects.filter(county_code=county, size_class="urban").order_by("code").first()
    assert grid is not None
    p = shapely.from_geojson(grid.geometry).representative_point()
    return p.x, p.y


def rural_point(county: str = SX) -> tuple[float, float]:
    grid = Grid.objects.filter(county_code=county, size_class="rural").order_by("code")[20]
    p = shapely.from_geojson(grid.geometry).representative_point()
    return p.x, p.y


def offset(lon: float, lat: float, north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    return lon + east_m / (111_320 * math.cos(math.radians(lat))), lat + north_m / 111_320


def new_incident(user: Any, lon: float, lat: float, code: str = "12G04", severity: int = 4,
                 line: str = "119") -> Incident:
    return intake.take_call(acting_user=user, line=line, narrative="高层住宅起火，有人被困", lon=lon, lat=lat,
                            incident_type_code=code, severity=severity).incident


def new_unit(admin: Any, sign: str, unit_type: str, lon: float, lat: float, department: str = FIRE) -> Unit:
    return dispatch.create_unit(acting_user=admin, call_sign=sign, unit_type=unit_type, department=department,
                                lon=lon, lat=lat)


@pytest.fixture
def em(db: None, staff_factory: Any) -> dict[str, Any]:
    recommend.invalidate_index()
    return {
        "types": make_types(),
        "admin": staff_factory("em_admin", department_code="371500-emergency_management",
                               roles=(("emergency_admin", "371500"),)),
        "dispatcher": staff_factory("em_disp", department_code=FIRE, roles=(("emergency_dispatcher", SX),)),
        "other": staff_factory("em_other", department_code="371502-fire_rescue",
                               roles=(("emergency_dispatcher", GX),)),
        "crew": staff_factory("em_crew", department_code=FIRE, roles=(("emergency_unit", SX),)),
        "city": staff_factory("em_city", department_code="371500-emergency_management",
                              roles=(("emergency_dispatcher", "371500"),)),
    }


# --- plans ------------------------------------------------------------------------------------------------

def test_plan_walks_up_the_code_tree(em: dict[str, Any]) -> None:
    types = em["types"]
    assert recommend.plan_chain("12G04") == ["12G04", "12G00", "12000", "10000"]
    assert recommend.plan_chain("12G00") == ["12G00", "12000", "10000"]
    assert recommend.plan_chain("10000") == ["10000"]
    assert recommend.response_plan_for("12G04", 3) is None
    root = plan(types, "10000", None, {"police_car": 1})
    assert recommend.response_plan_for("12G04", 3) == root
    fire_any = plan(types, "12G00", None, {"fire_engine": 2})
    fire_big = plan(types, "12G00", 1, {"fire_engine": 6, "aerial_ladder": 2})
    assert recommend.response_plan_for("12G04", 3) == fire_any
    assert recommend.response_plan_for("12G04", 1) == fire_big
    high_rise = plan(types, "12G04", 3, {"fire_engine": 3, "aerial_ladder": 1, "ambulance": 1})
    assert recommend.response_plan_for("12G04", 3) == high_rise  # own code and level first
    assert recommend.response_plan_for("12G04", 4) == fire_any  # own code has no plan for Ⅳ nor any level
    assert recommend.response_plan_for(types["12H02"], 4) == root
    # one query for several incidents; intake's resolver agrees
    got = recommend.plans_for([("12G04", 3), ("12G04", 1), ("12H02", 2)])
    assert got == {("12G04", 3): high_rise, ("12G04", 1): fire_big, ("12H02", 2): root}
    for code, sev in got:
        assert intake.response_plan_for(types[code], sev) == got[(code, sev)]
    # unknown unit types and bad counts in a plan are ignored
    odd = ResponsePlan(needs={"fire_engine": 2, "spaceship": 1, "ambulance": 0, "police_car": True})
    assert recommend.plan_needs(odd) == {"fire_engine": 2}


# --- nearest available units -------------------------------------------------------------------------

def test_recommends_nearest_available_units_of_the_needed_types(em: dict[str, Any]) -> None:
    types, admin = em["types"], em["admin"]
    plan(types, "12G04", None, {"fire_engine": 2, "aerial_ladder": 1})
    lon, lat = urban_point()
    incident = new_incident(em["dispatcher"], lon, lat)
    assert recommend.area_of_grid(incident.grid_code) == recommend.URBAN
    at = {d: offset(lon, lat, north_m=d) for d in (500, 1000, 1500, 2000, 3000, 4000, 6000)}
    e1 = new_unit(admin, "莘县水罐1", "fire_engine", *at[1000])
    e2 = new_unit(admin, "莘县水罐2", "fire_engine", *at[3000])
    e3 = new_unit(admin, "莘县水罐3", "fire_engine", *at[6000])
    busy = new_unit(admin, "莘县水罐4", "fire_engine", *at[500])
    broken = new_unit(admin, "莘县水罐5", "fire_engine", *at[1500])
    ladder = new_unit(admin, "莘县登高1", "aerial_ladder", *at[4000])
    new_unit(admin, "莘县急救1", "ambulance", *at[500], department="371500-emergency_medical")  # not needed
    Unit.objects.filter(pk=busy.pk).update(status=UnitStatus.EN_ROUTE)
    dispatch.set_unit_status(acting_user=em["crew"], unit=broken, status="out_of_service")

    rec = recommend.recommend(incident)
    by_type = {n.unit_type: n for n in rec.needs}
    assert list(by_type) == ["fire_engine", "aerial_ladder"]
    engines = by_type["fire_engine"]
    assert [c.unit_id for c in engines.chosen] == [e1.pk, e2.pk]  # not the busy nor the out-of-service one
    assert [c.unit_id for c in engines.alternatives] == [e3.pk]
    assert engines.shortfall == 0 and engines.needed == 2 and engines.assigned == 0
    assert [c.unit_id for c in by_type["aerial_ladder"].chosen] == [ladder.pk]
    assert rec.recommended_ids == [e1.pk, e2.pk, ladder.pk]
    # ETA = turnout 80 s + distance × 1.3 ÷ 35 km/h (urban fire engine)
    first = engines.chosen[0]
    assert abs(first.distance_m - 1000) <= 3
    assert first.eta_seconds == round(80 + first.distance_m * 1.3 / (35 / 3.6))
    assert first.call_sign == "莘县水罐1" and first.department == "莘县消防救援大队"
    assert rec.plan_code == "12G04" and rec.plan_severity is None and rec.area == "urban"


def test_shortfall_and_units_already_assigned(em: dict[str, Any]) -> None:
    types, admin = em["types"], em["admin"]
    plan(types, "12G00", None, {"fire_engine": 3, "ambulance": 1})
    lon, lat = urban_point()
    incident = new_incident(em["dispatcher"], lon, lat, code="12G04")
    e1 = new_unit(admin, "莘县水罐1", "fire_engine", *offset(lon, lat, east_m=800))
    e2 = new_unit(admin, "莘县水罐2", "fire_engine", *offset(lon, lat, east_m=1600))
    rec = recommend.recommend(incident)
    engines, ambulances = rec.needs
    assert [c.unit_id for c in engines.chosen] == [e1.pk, e2.pk]
    assert engines.shortfall == 1 and ambulances.shortfall == 1 and ambulances.chosen == []
    assert rec.shortfall == {"fire_engine": 1, "ambulance": 1}
    # once e1 is on the incident it counts against the plan
    dispatch.dispatch_units(acting_user=em["dispatcher"], incident=incident, unit_ids=[e1.pk])
    engines, _amb = recommend.recommend(incident).needs
    assert engines.assigned == 1 and engines.missing == 2
    assert [c.unit_id for c in engines.chosen] == [e2.pk] and engines.shortfall == 1


def test_cross_county_units_count_by_eta_and_rural_speeds(em: dict[str, Any]) -> None:
    """A unit of another county is recommended when it is nearer; rural incidents use the rural speeds."""
    types, admin = em["types"], em["admin"]
    plan(types, "12H00", None, {"ambulance": 1})
    lon, lat = rural_point()
    incident = new_incident(em["dispatcher"], lon, lat, code="12H02", line="120")
    assert recommend.area_of_grid(incident.grid_code) == recommend.RURAL
    home = new_unit(admin, "莘县急救1", "ambulance", *urban_point(SX), department="371500-emergency_medical")
    near = Unit.objects.create(call_sign="邻县急救1", unit_type="ambulance", department=home.department,
                               status_at=home.status_at, lon=offset(lon, lat, east_m=2500)[0], lat=lat,
                               position_at=home.status_at, county_code="371521")
    recommend.invalidate_index()  # a row written without the services
    (need,) = recommend.recommend(incident).needs
    assert [c.unit_id for c in need.chosen] == [near.pk] and need.alternatives[0].unit_id == home.pk
    assert need.chosen[0].county_code == "371521"
    assert need.chosen[0].eta_seconds == round(60 + need.chosen[0].distance_m * 1.3 / (60 / 3.6))


def test_agrees_with_brute_force(em: dict[str, Any]) -> None:
    types = em["types"]
    plan(types, "12G04", None, {"fire_engine": 3, "aerial_ladder": 1, "ambulance": 2, "police_car": 2})
    lon, lat = urban_point(GX)
    incident = new_incident(em["city"], lon, lat)
    rng = random.Random(5)
    dept = em["admin"].department
    now = incident.created_at
    kinds = ["fire_engine", "aerial_ladder", "ambulance", "police_car", "gas_crew"]
    statuses = [UnitStatus.AVAILABLE] * 6 + [UnitStatus.ON_SCENE, UnitStatus.OUT_OF_SERVICE]
    Unit.objects.bulk_create([
        Unit(call_sign=f"BF{i:04d}", unit_type=rng.choice(kinds), department=dept, status=rng.choice(statuses),
             status_at=now, lon=lon + rng.uniform(-0.4, 0.4), lat=lat + rng.uniform(-0.3, 0.3), position_at=now,
             county_code=GX) for i in range(400)])
    recommend.invalidate_index()
    rec = recommend.recommend(incident)
    units = Unit.objects.values_list("pk", "unit_type", "status", "lon", "lat")
    expected = recommend.brute_force(incident, {"fire_engine": 3, "aerial_ladder": 1, "ambulance": 2,
                                                "police_car": 2}, units, rec.area)
    for need in rec.needs:
        assert [(c.unit_id, c.eta_seconds) for c in need.chosen] == expected[need.unit_type]


def test_index_follows_new_units_and_positions(em: dict[str, Any]) -> None:
    types, admin = em["types"], em["admin"]
    plan(types, "12G04", None, {"fire_engine": 1})
    lon, lat = urban_point()
    incident = new_incident(em["dispatcher"], lon, lat)
    far = new_unit(admin, "莘县水罐1", "fire_engine", *offset(lon, lat, north_m=5000))
    assert recommend.recommend(incident).recommended_ids == [far.pk]
    near = new_unit(admin, "莘县水罐2", "fire_engine", *offset(lon, lat, north_m=4000))
    assert recommend.recommend(incident).recommended_ids == [near.pk]
    # the far engine drives closer: the chosen units are re-read (fresh position), the index follows on its TTL
    dispatch.update_position(acting_user=em["crew"], unit=far, lon=lon, lat=offset(lon, lat, north_m=300)[1])
    recommend.invalidate_index()
    (need,) = recommend.recommend(incident).needs
    assert need.chosen[0].unit_id == far.pk and need.chosen[0].distance_m < 400
