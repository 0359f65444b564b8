"""The shipped layers and their generated demo features (deterministic; clearly marked as generated).

Nothing here is surveyed data:

* points of interest (schools, hospitals and clinics, emergency shelters, fire stations): every county seat
  gets the usual county institutions, every township a school, a clinic and a shelter, at generated
  positions near the seat or township point (inside the right township);
* land parcels with GB/T 21010-2017 land-use classes: the quarters of a few unit grids per county;
* water: approximate courses of the Grand Canal (京杭运河), 徒骇河, 马颊河 and 卫运河 and an approximate
  outline of 东昌湖, clipped to the city.

Every feature is stored with ``generated=True`` and every layer with ``generated=True`` until real data
replaces it; names are plausible, not a register of real institutions.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from liaocheng.core.departments import department_code

from .codelists import GBT21010
from .layers import FeatureInput, ImportResult, store_generated_layer
from .models import Division, DivisionLevel, Grid, Layer
from .profile import M_PER_DEG_LAT, area_m2, m_per_deg_lon

DEMO_NOTE_ZH = "本图层为平台生成的演示数据，名称、位置和属性均非实测，仅供演示。"
DEMO_NOTE_EN = "Generated demo data: names, positions and attributes are not surveyed and are for demonstration only."


def _attr(name: str, type_: str, zh: str, en: str, required: bool = False, codelist: str = "") -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "type": type_, "label_zh": zh, "label_en": en, "required": required}
    if codelist:
        entry["codelist"] = codelist
    return entry


_NAME = _attr("name", "string", "名称", "Name", True)
_CATEGORY = _attr("category", "string", "类别", "Category", True)
_ADDRESS = _attr("address", "string", "地址", "Address")
_NR = "natural_resources"

LAYER_SPECS: list[dict[str, Any]] = [
    {"code": "schools", "name_zh": "学校", "name_en": "Schools", "geometry_type": "Point", "sort_order": 10,
     "owner_department": department_code("371500", "education_sports"),
     "attribute_schema": [_NAME, _CATEGORY, _ADDRESS, _attr("students", "integer", "在校生数", "Students"),
                          _attr("boarding", "boolean", "寄宿制", "Boarding")]},
    {"code": "hospitals", "name_zh": "医院和卫生院", "name_en": "Hospitals and clinics", "geometry_type": "Point",
     "sort_order": 11, "owner_department": department_code("371500", "health"),
     "attribute_schema": [_NAME, _CATEGORY, _ADDRESS, _attr("grade", "string", "等级", "Grade"),
                          _attr("beds", "integer", "床位数", "Beds"),
                          _attr("emergency", "boolean", "设急诊", "Emergency department")]},
    {"code": "shelters", "name_zh": "应急避难场所", "name_en": "Emergency shelters", "geometry_type": "Point",
     "sort_order": 12, "owner_department": department_code("371500", "emergency_management"),
     "attribute_schema": [_NAME, _CATEGORY, _ADDRESS, _attr("area_m2", "number", "有效面积（平方米）", "Area (m²)"),
                          _attr("capacity", "integer", "可容纳人数", "Capacity (people)"),
                          _attr("opened", "date", "启用日期", "Opened")]},
    {"code": "fire_stations", "name_zh": "消防救援站", "name_en": "Fire stations", "geometry_type": "Point",
     "sort_order": 13, "owner_department": department_code("371500", "fire_rescue"),
     "attribute_schema": [_NAME, _CATEGORY, _ADDRESS, _attr("vehicles", "integer", "消防车辆数", "Fire engines")]},
    {"code": "land_parcels", "name_zh": "土地利用图斑", "name_en": "Land-use parcels", "geometry_type": "Polygon",
     "sort_order": 20, "owner_department": department_code("371500", _NR),
     "attribute_schema": [_attr("landuse", "code", "地类编码", "Land-use class", True, "gbt21010"),
                          _attr("landuse_name", "string", "地类名称", "Land-use class name"),
                          _attr("area_m2", "number", "图斑面积（平方米）", "Area (m²)", True),
                          _attr("survey_year", "integer", "调查年度", "Survey year")]},
    {"code": "rivers", "name_zh": "河流水系", "name_en": "Rivers and canals", "geometry_type": "LineString",
     "sort_order": 30, "owner_department": department_code("371500", "water"),
     "attribute_schema": [_NAME, _attr("name_en", "string", "英文名称", "English name"), _CATEGORY,
                          _attr("basin", "string", "流域", "Basin"),
                          _attr("length_km", "number", "市内长度（公里）", "Length in the city (km)")]},
    {"code": "lakes", "name_zh": "湖泊水面", "name_en": "Lakes", "geometry_type": "Polygon", "sort_order": 31,
     "owner_department": department_code("371500", "water"),
     "attribute_schema": [_NAME, _attr("name_en", "string", "英文名称", "English name"), _CATEGORY,
                          _attr("area_km2", "number", "水面面积（平方公里）", "Water area (km²)")]},
]
for _spec in LAYER_SPECS:
    _spec["description"] = DEMO_NOTE_ZH + " " + DEMO_NOTE_EN


def _rng(*parts: str) -> np.random.Generator:
    seed = int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")
    return np.random.default_rng(seed)


def _short(name: str) -> str:
    return name.removesuffix("办事处")


@dataclass(frozen=True)
class _Poi:
    layer: str
    code: str
    name: str
    anchor: tuple[float, float]  # lon, lat (GCJ-02)
    township_code: str  # the position must fall in this township ('' for the county: any of its townships)
    county_code: str
    properties: dict[str, Any]
    radius_m: tuple[float, float]  # min, max distance from the anchor


def _offsets(rng: np.random.Generator, lat: float, n: int, radius: tuple[float, float]) -> np.ndarray:
    angle = rng.uniform(0, 2 * math.pi, n)
    dist = rng.uniform(radius[0], radius[1], n)
    return np.column_stack([dist * np.cos(angle) / m_per_deg_lon(lat), dist * np.sin(angle) / M_PER_DEG_LAT])


def _place(pois: list[_Poi], locate: Callable[[np.ndarray, np.ndarray], np.ndarray], tries: int = 24
           ) -> list[tuple[float, float]]:
    """A deterministic position for each POI near its anchor and inside its township (or county)."""
    cands = []
    for poi in pois:
        off = _offsets(_rng("poi", poi.layer, poi.code), poi.anchor[1], tries, poi.radius_m)
        cands.append(np.asarray(poi.anchor) + off)
    allc = np.vstack(cands)
    codes = locate(allc[:, 0], allc[:, 1])
    out = []
    for k, poi in enumerate(pois):
        chosen = poi.anchor
        for j in range(tries):
            code = str(codes[k * tries + j])
            want = poi.township_code or poi.county_code
            if code and code.startswith(want):
                chosen = (round(float(allc[k * tries + j, 0]), 6), round(float(allc[k * tries + j, 1]), 6))
                break
        out.append(chosen)
    return out


def _county_pois(code: str, name: str, seat: tuple[float, float], rng: np.random.Generator) -> list[_Poi]:
    near, town = (150.0, 1500.0), (300.0, 2500.0)
    county_name = name

    def poi(layer: str, suffix: str, full_name: str, props: dict[str, Any], radius: tuple[float, float] = near
            ) -> _Poi:
        return _Poi(layer, f"{code}-{suffix}", full_name, seat, "", code,
                    {"name": full_name, **props}, radius)

    students = lambda lo, hi: int(rng.integers(lo, hi) // 10 * 10)  # noqa: E731
    return [
        poi("schools", "S01", f"{county_name}第一中学", {"category": "普通高中", "students": students(2600, 4200),
                                                      "boarding": True}),
        poi("schools", "S02", f"{county_name}第二中学", {"category": "普通高中", "students": students(1800, 3200),
                                                      "boarding": True}, town),
        poi("schools", "S03", f"{county_name}实验中学", {"category": "初级中学", "students": students(1500, 2800),
                                                      "boarding": False}),
        poi("schools", "S04", f"{county_name}实验小学", {"category": "小学", "students": students(1800, 3000),
                                                      "boarding": False}),
        poi("schools", "S05", f"{county_name}职业教育中心", {"category": "中等职业学校",
                                                       "students": students(1200, 2600), "boarding": True}, town),
        poi("hospitals", "H01", f"{county_name}人民医院", {"category": "综合医院", "grade": "二级甲等",
                                                      "beds": int(rng.integers(60, 120)) * 10, "emergency": True}),
        poi("hospitals", "H02", f"{county_name}中医医院", {"category": "中医医院", "grade": "二级甲等",
                                                      "beds": int(rng.integers(25, 60)) * 10, "emergency": True}),
        poi("hospitals", "H03", f"{county_name}妇幼保健院", {"category": "妇幼保健院", "grade": "二级",
                                                       "beds": int(rng.integers(10, 30)) * 10, "emergency": False}),
        poi("fire_stations", "F01", f"{county_name}消防救援站", {"category": "一级消防站",
                                                          "vehicles": int(rng.integers(7, 12))}),
        poi("shelters", "E01", f"{county_name}人民广场应急避难场所", {
            "category": "固定避难场所", "area_m2": float(int(rng.integers(30, 90)) * 1000),
            "capacity": int(rng.integers(15, 45)) * 1000, "opened": f"{int(rng.integers(2012, 2021))}-06-01"}),
    ]


def _city_pois(seat: tuple[float, float]) -> list[_Poi]:
    code = "371500"
    rows = [
        ("hospitals", "H01", "聊城市人民医院", {"category": "综合医院", "grade": "三级甲等", "beds": 3200,
                                              "emergency": True}),
        ("hospitals", "H02", "聊城市中医医院", {"category": "中医医院", "grade": "三级甲等", "beds": 1500,
                                              "emergency": True}),
        ("schools", "S01", "聊城市第一中学", {"category": "普通高中", "students": 5200, "boarding": True}),
        ("fire_stations", "F01", "聊城市消防救援支队特勤站", {"category": "特勤消防站", "vehicles": 16}),
        ("fire_stations", "F02", "东昌府区消防救援站", {"category": "一级消防站", "vehicles": 10}),
        ("shelters", "E01", "聊城市东昌湖公园应急避难场所", {"category": "中心避难场所", "area_m2": 260000.0,
                                                          "capacity": 120000, "opened": "2014-05-12"}),
    ]
    return [_Poi(layer, f"{code}-{suffix}", name, seat, "", "371502", {"name": name, **props}, (300.0, 3000.0))
            for layer, suffix, name, props in rows]


def _township_pois(t: Division, rng: np.random.Generator) -> list[_Poi]:
    name = _short(t.name)
    anchor = (float(t.lon or 0.0), float(t.lat or 0.0))
    subdistrict = t.kind == "街道"
    radius = (100.0, 1800.0)
    clinic = (f"{name}社区卫生服务中心", "社区卫生服务中心", "一级") if subdistrict else (
        f"{name}卫生院", "乡镇卫生院", "一级")
    return [
        _Poi("schools", f"{t.code}-S1", f"{name}中心小学", anchor, t.code, t.code[:6],
             {"name": f"{name}中心小学", "category": "小学", "students": int(rng.integers(30, 160)) * 10,
              "boarding": False}, radius),
        _Poi("schools", f"{t.code}-S2", f"{name}中学", anchor, t.code, t.code[:6],
             {"name": f"{name}中学", "category": "初级中学", "students": int(rng.integers(40, 180)) * 10,
              "boarding": bool(rng.random() < 0.5)}, radius),
        _Poi("hospitals", f"{t.code}-H1", clinic[0], anchor, t.code, t.code[:6],
             {"name": clinic[0], "category": clinic[1], "grade": clinic[2], "beds": int(rng.integers(2, 12)) * 10,
              "emergency": not subdistrict}, radius),
        _Poi("shelters", f"{t.code}-E1", f"{name}应急避难场所", anchor, t.code, t.code[:6],
             {"name": f"{name}应急避难场所", "category": "紧急避难场所",
              "area_m2": float(int(rng.integers(20, 150)) * 100), "capacity": int(rng.integers(10, 60)) * 100,
              "opened": f"{int(rng.integers(2015, 2024))}-{int(rng.integers(1, 13)):02d}-01"}, radius),
    ]


def generate_pois(locate: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> dict[str, list[FeatureInput]]:
    counties = list(Division.objects.filter(level=DivisionLevel.COUNTY, valid_to__isnull=True).order_by("code"))
    townships = list(Division.objects.filter(level=DivisionLevel.TOWNSHIP, valid_to__isnull=True,
                                             lon__isnull=False).order_by("code"))
    pois: list[_Poi] = []
    for county in counties:
        seat = (float(county.lon or 0.0), float(county.lat or 0.0))
        pois += _county_pois(county.code, county.name, seat, _rng("county", county.code))
        if county.code == "371502":
            pois += _city_pois(seat)
    for t in townships:
        pois += _township_pois(t, _rng("township", t.code))
    names = {d.code: d.name for d in [*counties, *townships]}
    positions = _place(pois, locate)
    out: dict[str, list[FeatureInput]] = {}
    for poi, (lon, lat) in zip(pois, positions, strict=True):
        township_name = names.get(poi.township_code, "")
        county_name = names.get(poi.county_code, "")
        props = {**poi.properties, "address": f"聊城市{county_name}{_short(township_name)}（生成的演示位置）"}
        out.setdefault(poi.layer, []).append(FeatureInput(poi.code, props, Point(lon, lat), generated=True))
    return out


# --- land parcels -------------------------------------------------------------------------------------

_URBAN_USES = ["0701", "0701", "0701", "0501", "0505", "0803", "0805", "0810", "1004", "0601", "0801", "0809"]
_RURAL_USES = ["0103", "0103", "0103", "0102", "0102", "0702", "0702", "1006", "1104", "0201", "0301", "1202",
               "0601", "1107"]


def generate_parcels(grids_per_class: int = 3) -> list[FeatureInput]:
    items: list[FeatureInput] = []
    counties = Division.objects.filter(level=DivisionLevel.COUNTY, valid_to__isnull=True).order_by("code")
    for county_code in counties.values_list("code", flat=True):
        rng = _rng("parcels", county_code)
        for size_class, uses in (("urban", _URBAN_USES), ("rural", _RURAL_USES)):
            codes = list(Grid.objects.filter(county_code=county_code, size_class=size_class).order_by("code")
                         .values_list("code", flat=True))
            if not codes:
                continue
            picks = sorted({int(i) for i in rng.choice(len(codes), size=min(grids_per_class, len(codes)),
                                                         replace=False)})
            for grid in Grid.objects.filter(code__in=[codes[i] for i in picks]).order_by("code"):
                geom = shapely.from_geojson(grid.geometry)
                minx, miny, maxx, maxy = geom.bounds
                midx = minx + (maxx - minx) * float(rng.uniform(0.35, 0.65))
                midy = miny + (maxy - miny) * float(rng.uniform(0.35, 0.65))
                quarters = [box(minx, miny, midx, midy), box(midx, miny, maxx, midy),
                            box(minx, midy, midx, maxy), box(midx, midy, maxx, maxy)]
                for k, quarter in enumerate(quarters, 1):
                    piece = shapely.set_precision(geom.intersection(quarter), 1e-7)
                    if piece.is_empty or piece.geom_type not in ("Polygon", "MultiPolygon"):
                        continue
                    use = str(uses[int(rng.integers(0, len(uses)))])
                    items.append(FeatureInput(
                        f"{grid.code}-{k}",
                        {"landuse": use, "landuse_name": GBT21010[use][0], "area_m2": round(area_m2(piece), 1),
                         "survey_year": 2023},
                        piece, generated=True,
                    ))
    return items


# --- water --------------------------------------------------------------------------------------------

# Approximate courses (GCJ-02 lon, lat), generated from general knowledge of the rivers' routes; not surveyed.
RIVERS: list[tuple[str, str, str, str, str, list[tuple[float, float]]]] = [
    ("grand_canal", "京杭运河", "Grand Canal (Beijing–Hangzhou)", "运河", "海河流域",
     [(115.995, 36.050), (116.010, 36.130), (115.985, 36.210), (115.965, 36.300), (115.975, 36.390),
      (115.995, 36.450), (115.960, 36.530), (115.900, 36.600), (115.830, 36.690), (115.770, 36.770),
      (115.715, 36.840), (115.690, 36.870)]),
    ("tuhai", "徒骇河", "Tuhai River", "河流", "海河流域",
     [(115.440, 35.990), (115.560, 36.090), (115.690, 36.200), (115.820, 36.300), (115.950, 36.380),
      (116.060, 36.470), (116.160, 36.560), (116.270, 36.650), (116.360, 36.740), (116.440, 36.800)]),
    ("majia", "马颊河", "Majia River", "河流", "海河流域",
     [(115.370, 36.080), (115.480, 36.200), (115.600, 36.310), (115.730, 36.420), (115.860, 36.520),
      (115.960, 36.620), (116.040, 36.720), (116.110, 36.820), (116.180, 36.920)]),
    ("weiyun", "卫运河", "Wei Canal", "运河", "海河流域",
     [(115.300, 36.470), (115.350, 36.560), (115.430, 36.640), (115.530, 36.720), (115.630, 36.800),
      (115.700, 36.860), (115.780, 36.950), (115.870, 37.020)]),
]


def _ellipse(cx: float, cy: float, a_m: float, b_m: float, n: int = 72) -> Polygon:
    kx, ky = m_per_deg_lon(cy), M_PER_DEG_LAT
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    wobble = 1 + 0.06 * np.sin(3 * t) + 0.04 * np.cos(5 * t)
    ring = np.column_stack([cx + a_m * wobble * np.cos(t) / kx, cy + b_m * wobble * np.sin(t) / ky])
    return Polygon(np.round(ring, 6))


def generate_water(city: BaseGeometry | None) -> tuple[list[FeatureInput], list[FeatureInput]]:
    clip = city.buffer(0.01) if city is not None else None
    rivers: list[FeatureInput] = []
    for code, name, name_en, category, basin, coords in RIVERS:
        geom: BaseGeometry = LineString(coords)
        if clip is not None:
            geom = geom.intersection(clip)
        if geom.is_empty:
            continue
        length_km = sum(
            math.dist(((a[0] - b[0]) * m_per_deg_lon(a[1]), (a[1] - b[1]) * M_PER_DEG_LAT), (0, 0))
            for line in getattr(geom, "geoms", [geom]) for a, b in zip(line.coords, line.coords[1:], strict=False)
        ) / 1000
        rivers.append(FeatureInput(code, {"name": name, "name_en": name_en, "category": category, "basin": basin,
                                          "length_km": round(length_km, 1)}, geom, generated=True))
    # 东昌湖 around the old town of Liaocheng (光岳楼), with the old town as an island.
    outer = _ellipse(115.9905, 36.4495, 1450.0, 1200.0)
    kx = m_per_deg_lon(36.452)
    hw, hh = 520.0 / kx, 520.0 / M_PER_DEG_LAT
    island = box(115.9905 - hw, 36.4515 - hh, 115.9905 + hw, 36.4515 + hh)
    lake = outer.difference(island)
    lakes = [FeatureInput("dongchang_lake", {"name": "东昌湖", "name_en": "Dongchang Lake", "category": "城市湖泊",
                                             "area_km2": round(area_m2(lake) / 1e6, 2)}, lake, generated=True)]
    return rivers, lakes


# --- entry point --------------------------------------------------------------------------------------

def ensure_demo_layers() -> dict[str, int]:
    """Create the shipped layers with their generated features where a layer is missing or empty.
    Idempotent: layers that already hold features (generated or imported) are left alone."""
    from .services import locate_many

    wanted = [s for s in LAYER_SPECS if not Layer.objects.filter(code=s["code"], features__isnull=False).exists()]
    if not wanted:
        return {}
    if not Grid.objects.exists():
        raise RuntimeError("load the city profile first (liaocheng load_city_profile)")
    codes = {s["code"] for s in wanted}
    by_layer: dict[str, list[FeatureInput]] = {}
    if codes & {"schools", "hospitals", "shelters", "fire_stations"}:
        by_layer.update(generate_pois(lambda lons, lats: locate_many(lons, lats)))
    if "land_parcels" in codes:
        by_layer["land_parcels"] = generate_parcels()
    if codes & {"rivers", "lakes"}:
        city_text = Division.objects.filter(level=DivisionLevel.CITY).values_list("geometry", flat=True).first()
        rivers, lakes = generate_water(shapely.from_geojson(city_text) if city_text else None)
        by_layer["rivers"], by_layer["lakes"] = rivers, lakes
    counts: dict[str, int] = {}
    for spec in wanted:
        result: ImportResult = store_generated_layer(spec, by_layer.get(spec["code"], []))
        counts[spec["code"]] = result.created + result.updated
    return counts
