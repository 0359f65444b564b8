"""Demo resources of the emergency linkage: stations, units and fixed resources for the city and all
eight counties, deterministic, written through ``dispatch.load_resources`` (one audit record per kind).

- public security: a police station (派出所) per township seat, 3 patrol cars in the urban streets (街道),
  2 in towns; a traffic-police brigade in each county seat (two squadrons in 东昌府区);
- fire and rescue: several stations in the city proper (东昌府区) and a special-service station (特勤站) of
  the city detachment, one or two in every county seat, with water tenders, rescue engines, aerial
  ladders, foam tenders, hazmat vehicles and command vehicles;
- 120: ambulance posts at the hospitals (聊城市急救中心), 1–4 ambulances each;
- water, power and gas emergency crews and the emergency-management rescue teams in each county seat;
- fixed resources: hospitals with beds, shelters and supply depots.

Positions are generated near the township seats (GCJ-02), inside the township and so inside the right
county (``geo.models.Division`` geometries of the loaded city profile). A second call adds nothing.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from django.utils import timezone

from liaocheng.core.departments import CITY, COUNTIES, department_code
from liaocheng.core.models import Department
from liaocheng.geo.models import Division

from . import dispatch
from .models import FixedResource, FixedResourceKind, Station, Unit, UnitStatus, UnitType

ACTOR = "demo"
CITY_CODE = CITY[0]
ABBR = {"371502": "东昌府", "371503": "茌平", "371521": "阳谷", "371522": "莘县", "371524": "东阿",
        "371525": "冠县", "371526": "高唐", "371581": "临清"}
# counties whose seat has a second fire station
TWO_FIRE_STATIONS = ("371521", "371522", "371525", "371581")
# hospitals: (name, beds, ambulances at its 120 post)
HOSPITALS: dict[str, list[tuple[str, int, int]]] = {
    "371502": [("聊城市人民医院", 3500, 4), ("聊城市第三人民医院", 800, 2), ("聊城市中医医院", 1200, 2),
               ("东昌府区人民医院", 600, 2)],
    "371503": [("茌平区人民医院", 900, 3), ("茌平区中医医院", 400, 1)],
    "371521": [("阳谷县人民医院", 1000, 3), ("阳谷县中医医院", 500, 2)],
    "371522": [("莘县人民医院", 1100, 3), ("莘县中医医院", 500, 2)],
    "371524": [("东阿县人民医院", 700, 2), ("东阿县中医医院", 300, 1)],
    "371525": [("冠县人民医院", 900, 3), ("冠县中医医院", 400, 1)],
    "371526": [("高唐县人民医院", 800, 2), ("高唐县中医医院", 300, 1)],
    "371581": [("聊城市第二人民医院", 1500, 3), ("临清市人民医院", 800, 2)],
}
CITY_SHELTERS = [("东昌湖风景区应急避难场所", 30000), ("聊城市体育中心应急避难场所", 20000),
                 ("聊城市人民广场应急避难场所", 12000)]
DEPOT_ITEMS = {"帐篷": 300, "折叠床": 800, "棉被": 2000, "救生衣": 500, "发电机": 20, "冲锋舟": 6}
TAG: dict[str, str] = {
    UnitType.POLICE_CAR: "巡", UnitType.TRAFFIC_POLICE: "交警", UnitType.FIRE_ENGINE: "水罐",
    UnitType.FOAM_TENDER: "泡沫", UnitType.AERIAL_LADDER: "登高", UnitType.RESCUE_ENGINE: "抢险",
    UnitType.HAZMAT: "化救", UnitType.AMBULANCE: "急救", UnitType.WATER_CREW: "供水抢修",
    UnitType.POWER_CREW: "电力抢修", UnitType.GAS_CREW: "燃气抢修", UnitType.RESCUE_TEAM: "救援",
    UnitType.COMMAND: "指挥",
}
CAPABILITIES: dict[str, list[str]] = {
    UnitType.FIRE_ENGINE: ["水罐 8 t"], UnitType.FOAM_TENDER: ["泡沫 6 t"], UnitType.AERIAL_LADDER: ["登高 54 m"],
    UnitType.RESCUE_ENGINE: ["破拆", "照明"], UnitType.HAZMAT: ["侦检", "堵漏", "洗消"],
    UnitType.AMBULANCE: ["监护型"], UnitType.RESCUE_TEAM: ["水域救援", "破拆", "搜救"],
}
COUNTY_FIRE: list[tuple[str, int]] = [
    (UnitType.FIRE_ENGINE, 2), (UnitType.RESCUE_ENGINE, 1), (UnitType.AERIAL_LADDER, 1), (UnitType.FOAM_TENDER, 1),
    (UnitType.COMMAND, 1)]
SECOND_FIRE: list[tuple[str, int]] = [(UnitType.FIRE_ENGINE, 2), (UnitType.RESCUE_ENGINE, 1)]
SPECIAL_FIRE: list[tuple[str, int]] = [
    (UnitType.FIRE_ENGINE, 2), (UnitType.HAZMAT, 2), (UnitType.AERIAL_LADDER, 1), (UnitType.RESCUE_ENGINE, 1),
    (UnitType.FOAM_TENDER, 1), (UnitType.COMMAND, 1)]
# counties with chemical industry get a hazmat vehicle at the main station
HAZMAT_COUNTIES = ("371503", "371524", "371526")


@dataclass
class _Township:
    code: str
    name: str
    kind: str
    lon: float
    lat: float
    shape: Any

    @property
    def short(self) -> str:
        for suffix in ("街道办事处", "街道", "镇", "乡"):
            if self.name.endswith(suffix) and len(self.name) > len(suffix):
                return self.name[: -len(suffix)]
        return self.name


class _Builder:
    def __init__(self) -> None:
        self.now = timezone.now()
        self.batch = dispatch.ResourceBatch()
        self.depts = {d.code: d for d in Department.objects.all()}
        self.townships: dict[str, list[_Township]] = {}
        rows = Division.objects.filter(level="township", valid_to__isnull=True).order_by("code")
        for d in rows:
            shape = shapely.from_geojson(d.geometry) if d.geometry else None
            lon, lat = d.lon, d.lat
            if lon is None or lat is None:
                if shape is None:
                    continue
                p = shape.representative_point()
                lon, lat = float(p.x), float(p.y)
            self.townships.setdefault(d.code[:6], []).append(_Township(d.code, d.name, d.kind, lon, lat, shape))

    def dept(self, division: str, kind: str) -> Department:
        return self.depts[department_code(division, kind)]

    def seats(self, county: str) -> list[_Township]:
        towns = self.townships.get(county, [])
        streets = [t for t in towns if t.kind == "街道"]
        return streets or towns[:1]

    def point(self, town: _Township, key: str, spread_m: float = 900.0) -> tuple[float, float]:
        """A deterministic point near the township seat, inside the township."""
        rng = random.Random(zlib.crc32(key.encode()))
        for _ in range(20):
            dx, dy = rng.uniform(-spread_m, spread_m), rng.uniform(-spread_m, spread_m)
            lon, lat = town.lon + dx / 89_500, town.lat + dy / 111_000
            if town.shape is None or shapely.contains_xy(town.shape, lon, lat):
                return round(lon, 6), round(lat, 6)
        return town.lon, town.lat

    def station(self, code: str, name: str, dept: Department, town: _Township) -> Station:
        lon, lat = self.point(town, code)
        station = Station(code=code, name=name, department=dept, lon=lon, lat=lat, county_code=town.code[:6])
        self.batch.stations.append(station)
        return station

    def units(self, station: Station, prefix: str, kinds: Sequence[tuple[str, int]], dept: Department | None = None,
              counters: dict[str, int] | None = None) -> None:
        counters = counters if counters is not None else {}
        for unit_type, count in kinds:
            for _ in range(count):
                counters[unit_type] = counters.get(unit_type, 0) + 1
                sign = f"{prefix}{TAG[unit_type]}{counters[unit_type]}"
                unit = Unit(call_sign=sign, unit_type=unit_type, department=dept or station.department,
                            capabilities=CAPABILITIES.get(unit_type, []), status=UnitStatus.AVAILABLE,
                            status_at=self.now, lon=station.lon, lat=station.lat, position_at=self.now,
                            county_code=station.county_code)
                self.batch.units.append((unit, station.code))

    def resource(self, kind: str, name: str, town: _Township, capacity: int, available: int,
                 details: dict[str, Any] | None = None) -> tuple[float, float]:
        lon, lat = self.point(town, f"{kind}:{name}", 1500.0)
        self.batch.resources.append(FixedResource(kind=kind, name=name, lon=lon, lat=lat,
                                                  county_code=town.code[:6], capacity=capacity,
                                                  available=available, details=details or {}))
        return lon, lat

    def county(self, county: str, county_name: str) -> None:
        abbr = ABBR[county]
        towns = self.townships.get(county, [])
        seats = self.seats(county)
        if not towns:
            return
        seat = seats[0]
        # police stations (派出所) per township
        police = self.dept(county, "public_security")
        for town in towns:
            st = self.station(f"{county}-PS-{town.code[-3:]}", f"{county_name}公安局{town.short}派出所", police, town)
            self.units(st, f"{abbr}{town.short}", [(UnitType.POLICE_CAR, 3 if town.kind == "街道" else 2)])
        # traffic police
        traffic = self.dept(county, "traffic_police")
        counters: dict[str, int] = {}
        squads = seats[:2] if county == "371502" else seats[:1]
        for i, town in enumerate(squads, 1):
            st = self.station(f"{county}-TP-{i:02d}", f"{county_name}公安局交通警察大队{town.short}中队", traffic, town)
            self.units(st, abbr, [(UnitType.TRAFFIC_POLICE, 4)], counters=counters)
        # fire and rescue stations
        fire = self.dept(county, "fire_rescue")
        if county == "371502":
            plans = [(t, SECOND_FIRE if i else COUNTY_FIRE) for i, t in enumerate((seats * 4)[:4])]
        elif county in TWO_FIRE_STATIONS:
            plans = [(seat, COUNTY_FIRE), ((seats * 2)[1], SECOND_FIRE)]
        else:
            plans = [(seat, COUNTY_FIRE)]
        fire_counters: dict[str, int] = {}  # shared: call signs stay unique when two stations share a town
        used: set[str] = set()
        for i, (town, kinds) in enumerate(plans, 1):
            extra: list[tuple[str, int]] = [(UnitType.HAZMAT, 1)] if i == 1 and county in HAZMAT_COUNTIES else []
            name = f"{county_name}消防救援大队{town.short}{'第二' if town.code in used else ''}消防救援站"
            used.add(town.code)
            st = self.station(f"{county}-FS-{i:02d}", name, fire, town)
            self.units(st, f"{abbr}{town.short}消防", kinds + extra, counters=fire_counters)
        # 120 posts at hospitals (the city emergency centre's ambulances) and the hospitals themselves
        medical = self.dept(CITY_CODE, "emergency_medical")
        for i, (name, beds, ambulances) in enumerate(HOSPITALS.get(county, []), 1):
            town = seats[(i - 1) % len(seats)]
            free = beds * (8 + zlib.crc32(name.encode()) % 10) // 100
            lon, lat = self.resource(FixedResourceKind.HOSPITAL, name, town, beds, free,
                                     {"level": "三级" if beds >= 1000 else "二级", "emergency_department": True})
            st = Station(code=f"{county}-EMS-{i:02d}", name=f"聊城市急救中心{name}急救站", department=medical,
                         lon=lon, lat=lat, county_code=county)
            self.batch.stations.append(st)
            self.units(st, f"{name.removesuffix('医院')}", [(UnitType.AMBULANCE, ambulances)])
        # utility crews and rescue teams in the county seat
        for kind, unit_type, label in (("water", UnitType.WATER_CREW, "供水抢修中心"),
                                       ("power", UnitType.POWER_CREW, "电力抢修中心"),
                                       ("gas", UnitType.GAS_CREW, "燃气抢修中心"),
                                       ("emergency_management", UnitType.RESCUE_TEAM, "应急救援队")):
            st = self.station(f"{county}-{kind.upper()[:5]}-01", f"{county_name}{label}", self.dept(county, kind),
                              (seats * 2)[1] if kind == "gas" else seat)
            self.units(st, abbr, [(unit_type, 2)])
        # shelters and a depot
        for i, (label, capacity) in enumerate((("人民广场", 8000), ("体育场", 5000)), 1):
            self.resource(FixedResourceKind.SHELTER, f"{county_name}{label}应急避难场所", seats[(i - 1) % len(seats)],
                          capacity, capacity, {"area_m2": capacity * 2})
        self.resource(FixedResourceKind.DEPOT, f"{county_name}应急物资储备库", seat, sum(DEPOT_ITEMS.values()),
                      sum(DEPOT_ITEMS.values()), {"items": DEPOT_ITEMS})

    def city(self) -> None:
        seats = self.seats("371502")
        if not seats:
            return
        fire = self.dept(CITY_CODE, "fire_rescue")
        st = self.station(f"{CITY_CODE}-FS-01", "聊城市消防救援支队特勤消防救援站", fire, seats[-1])
        self.units(st, "支队特勤", SPECIAL_FIRE)
        rescue = self.dept(CITY_CODE, "emergency_management")
        st = self.station(f"{CITY_CODE}-EMERG-01", "聊城市应急救援支队", rescue, seats[0])
        self.units(st, "市应急", [(UnitType.RESCUE_TEAM, 3), (UnitType.COMMAND, 1)])
        for i, (name, capacity) in enumerate(CITY_SHELTERS):
            self.resource(FixedResourceKind.SHELTER, name, seats[i % len(seats)], capacity, capacity,
                          {"area_m2": capacity * 2})
        items = {k: v * 4 for k, v in DEPOT_ITEMS.items()}
        self.resource(FixedResourceKind.DEPOT, "聊城市应急物资储备库", seats[-1], sum(items.values()),
                      sum(items.values()), {"items": items})


def ensure_demo_resources() -> dict[str, int]:
    """Create the demo stations, units and fixed resources that do not exist yet; returns the numbers
    created (all zero on a second call)."""
    builder = _Builder()
    for code, name in COUNTIES:
        builder.county(code, name)
    builder.city()
    return dispatch.load_resources(acting_user=ACTOR, batch=builder.batch)
