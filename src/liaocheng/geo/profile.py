"""Deterministic generator of the Liaocheng city profile: divisions, township areas and unit grids.

Datum
    Every coordinate handled here is longitude/latitude in **GCJ-02**, the datum of the shipped
    boundary files (they come from AMap, see ``data/README.md``). GCJ-02 differs from WGS84 by a few
    hundred metres; convert GPS input with :mod:`liaocheng.geo.datum` before comparing it with this
    profile.

What is real and what is generated
    * Real: the city and the eight county-level boundaries (``data/geo/3715xx.geojson``) and the names
      of the 135 townships/streets and 6,451 villages/communities (``data/liaocheng_divisions.json``).
    * Generated (flagged ``geometry_generated`` / ``point_generated`` / ``code_is_local``): township
      areas (a power diagram — weighted Voronoi — of each county, clipped to it, with areas in proportion
      to the number of villages), village/community points, the unit
      grids (单元网格) and all township/village codes. They are plausible and stable, *not* official,
      and must be replaced once official GB/T 10114 codes and boundaries are loaded.

Determinism
    :func:`build_profile` uses only the input files and RNGs seeded from division codes, so the same
    inputs give the same output. :data:`GENERATOR_VERSION` must be bumped whenever a change to this
    module changes the output; it is part of :attr:`CityProfile.digest`.

This module is pure Python (no Django) so it can be used by the locator, benchmarks and tests.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

GENERATOR_VERSION = 1

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
GEO_DIR = DATA_DIR / "geo"
DIVISIONS_FILE = DATA_DIR / "liaocheng_divisions.json"

CITY_CODE = "371500"
CITY_KIND = "地级市"

# 茌平县 (371523) became 茌平区 (371503). The dates follow the commonly cited 2019 change; the exact
# effective day should be checked against the official announcement before it is relied upon.
CHIPING_OLD_CODE = "371523"
CHIPING_NEW_CODE = "371503"
CHIPING_OLD_VALID_TO = date(2019, 6, 30)
CHIPING_NEW_VALID_FROM = date(2019, 7, 1)

# Reference latitude of the global grid lattice and the metre/degree factors used everywhere.
LATTICE_REF_LAT = 36.5
M_PER_DEG_LAT = 110_950.0
M_PER_DEG_LON_EQUATOR = 111_320.0
RURAL_CELL_M = 1_000.0
URBAN_SUBDIVISION = 10  # urban cells are RURAL_CELL_M / 10 = 100 m on a side
MAX_GRIDS_PER_COMMUNITY = 999
MIN_PIECE_M2 = 1e-4  # cell pieces smaller than this are numerical dust, not grids

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class CountySpec:
    """Static facts about a county-level division that the boundary files do not carry."""

    code: str
    kind: str  # 市辖区 / 县 / 县级市
    seat: tuple[float, float]  # approximate seat of government, GCJ-02 (lon, lat)
    urban_radius_m: float  # radius of the urban core subdivided into 100 m grids


COUNTY_SPECS: dict[str, CountySpec] = {
    spec.code: spec
    for spec in (
        CountySpec("371502", "市辖区", (115.985, 36.457), 5_000.0),  # 东昌府区
        CountySpec("371503", "市辖区", (116.255, 36.580), 2_500.0),  # 茌平区
        CountySpec("371521", "县", (115.791, 36.114), 2_500.0),  # 阳谷县
        CountySpec("371522", "县", (115.671, 36.234), 2_500.0),  # 莘县
        CountySpec("371524", "县", (116.248, 36.335), 2_500.0),  # 东阿县
        CountySpec("371525", "县", (115.442, 36.484), 2_500.0),  # 冠县
        CountySpec("371526", "县", (116.230, 36.866), 2_500.0),  # 高唐县
        CountySpec("371581", "县级市", (115.705, 36.839), 2_500.0),  # 临清市
    )
}
CITY_SEAT_COUNTY = "371502"


@dataclass(frozen=True)
class DivisionRecord:
    """One administrative division. Coordinates are GCJ-02 (lon, lat)."""

    code: str  # 6 digits for city/county, 9 township, 12 village
    name: str
    level: str  # "city" | "county" | "township" | "village"
    kind: str  # 地级市 / 市辖区 / 县 / 县级市 / 街道 / 镇 / 乡 / 居委会 / 村委会
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None
    successor_code: str | None
    code_is_local: bool  # True for generated township/village codes
    geometry: BaseGeometry | None  # real for city/county, generated for townships, None for villages
    geometry_generated: bool
    point: tuple[float, float] | None  # (lon, lat) GCJ-02
    point_generated: bool


@dataclass(frozen=True)
class GridRecord:
    """A generated unit grid (单元网格): 6 county + 3 township + 3 community + 3 sequence digits."""

    code: str
    community_code: str
    township_code: str
    county_code: str
    size_class: str  # "urban" (100 m x 100 m lattice) or "rural" (1 km x 1 km lattice)
    geometry: Polygon | MultiPolygon  # GCJ-02 lon/lat
    area_m2: float


@dataclass(frozen=True)
class CityProfile:
    divisions: list[DivisionRecord]
    grids: list[GridRecord]
    digest: str  # sha256 over the input files and GENERATOR_VERSION


# --------------------------------------------------------------------------------------------------
# Small geometry helpers


def area_m2(geom: BaseGeometry | None) -> float:
    """Geodesic area in m² on the WGS84 ellipsoid of the polygonal parts of ``geom``.

    GCJ-02 offsets do not change areas measurably. Rings are oriented first (pyproj sums signed ring
    areas). The absolute error is a few hundredths of a m² per vertex, so do not use this to measure
    slivers of nearly zero area (project small results to a planar CRS instead).
    """
    if geom is None or geom.is_empty:
        return 0.0
    poly = _polygonal(geom)
    if poly is None:
        return 0.0
    area, _perimeter = _GEOD.geometry_area_perimeter(shapely.orient_polygons(poly))
    return abs(float(area))


def m_per_deg_lon(lat: float) -> float:
    return M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat))


def lattice_steps() -> tuple[float, float]:
    """(dlon, dlat) in degrees of the 100 m lattice; rural cells span URBAN_SUBDIVISION steps."""
    step_m = RURAL_CELL_M / URBAN_SUBDIVISION
    return step_m / m_per_deg_lon(LATTICE_REF_LAT), step_m / M_PER_DEG_LAT


@dataclass(frozen=True)
class _Frame:
    """A local equirectangular frame in metres centred on (lon0, lat0) — an affine map of lon/lat."""

    lon0: float
    lat0: float

    @property
    def kx(self) -> float:
        return m_per_deg_lon(self.lat0)

    @property
    def ky(self) -> float:
        return M_PER_DEG_LAT

    def to_xy(self, lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.empty_like(lonlat, dtype=np.float64)
        out[:, 0] = (lonlat[:, 0] - self.lon0) * self.kx
        out[:, 1] = (lonlat[:, 1] - self.lat0) * self.ky
        return out

    def to_lonlat(self, xy: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.empty_like(xy, dtype=np.float64)
        out[:, 0] = xy[:, 0] / self.kx + self.lon0
        out[:, 1] = xy[:, 1] / self.ky + self.lat0
        return out


def _polygonal(geom: BaseGeometry) -> Polygon | MultiPolygon | None:
    """The polygonal part of a GEOS result (edges or points where shapes merely touch are dropped)."""
    if geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if isinstance(geom, Polygon | MultiPolygon):
        return geom if geom.area > 0 else None
    polys: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon) and part.area > 0:
            polys.append(part)
        elif isinstance(part, MultiPolygon | shapely.GeometryCollection):
            sub = _polygonal(part)
            if sub is not None:
                polys.extend(shapely.get_parts(sub).tolist())
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def _stratified_sample(
    geom: BaseGeometry, frame: _Frame, spacing: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Stratified random points (one per spacing x spacing square) inside ``geom``, in frame metres."""
    minx, miny, maxx, maxy = geom.bounds
    lo = frame.to_xy(np.array([[minx, miny]]))[0]
    hi = frame.to_xy(np.array([[maxx, maxy]]))[0]
    xs = np.arange(lo[0], hi[0] + spacing, spacing)
    ys = np.arange(lo[1], hi[1] + spacing, spacing)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    pts = pts + rng.uniform(0.0, spacing, size=pts.shape)
    ll = frame.to_lonlat(pts)
    shapely.prepare(geom)
    inside = shapely.contains_xy(geom, ll[:, 0], ll[:, 1])
    return pts[inside]


def _kmeans(
    points: NDArray[np.float64], k: int, rng: np.random.Generator, iterations: int = 60
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Lloyd's k-means with k-means++ initialisation; returns (centres, labels). Deterministic per rng."""
    n = len(points)
    if n < k:
        raise ValueError(f"cannot place {k} centres among {n} sample points")
    first = int(rng.integers(n))
    centres = [points[first]]
    d2 = np.sum((points - points[first]) ** 2, axis=1)
    for _ in range(1, k):
        total = float(d2.sum())
        idx = int(rng.choice(n, p=d2 / total)) if total > 0 else int(np.argmax(d2))
        centres.append(points[idx])
        d2 = np.minimum(d2, np.sum((points - points[idx]) ** 2, axis=1))
    c = np.array(centres, dtype=np.float64)
    labels = np.full(n, -1, dtype=np.intp)
    px, py = points[:, :1], points[:, 1:]
    for _ in range(iterations):
        # element-wise arithmetic only (no BLAS), so results do not depend on the machine's BLAS kernels
        dist = (px - c[None, :, 0]) ** 2 + (py - c[None, :, 1]) ** 2
        new_labels = np.argmin(dist, axis=1)
        counts = np.bincount(new_labels, minlength=k)
        for empty in np.flatnonzero(counts == 0):
            # re-seed an empty cluster at the point worst served by its centre
            worst = int(np.argmax(dist[np.arange(n), new_labels] * (counts[new_labels] > 1)))
            new_labels[worst] = empty
            counts = np.bincount(new_labels, minlength=k)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        sx = np.bincount(labels, weights=points[:, 0], minlength=k)
        sy = np.bincount(labels, weights=points[:, 1], minlength=k)
        c = np.column_stack([sx / counts, sy / counts])
    return c, labels


def _snap_to_members(
    points: NDArray[np.float64], centres: NDArray[np.float64], labels: NDArray[np.intp]
) -> NDArray[np.float64]:
    """Replace every centre by its nearest cluster member, so it lies where the sample lies."""
    out = np.empty_like(centres)
    for j in range(len(centres)):
        members = np.flatnonzero(labels == j)
        d2 = np.sum((points[members] - centres[j]) ** 2, axis=1)
        out[j] = points[members[int(np.argmin(d2))]]
    return out


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng([GENERATOR_VERSION, *key])


# --------------------------------------------------------------------------------------------------
# Inputs


def _input_files() -> list[Path]:
    return [*sorted(GEO_DIR.glob("*.geojson")), DIVISIONS_FILE]


def input_digest() -> str:
    """sha256 over the input files (name and bytes) and GENERATOR_VERSION."""
    h = hashlib.sha256(f"liaocheng-profile-v{GENERATOR_VERSION}\n".encode())
    for path in _input_files():
        data = path.read_bytes()
        h.update(f"{path.name}\n{len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()


def _load_boundary(code: str) -> Polygon | MultiPolygon:
    geom = shape(json.loads((GEO_DIR / f"{code}.geojson").read_text(encoding="utf-8")))
    if not isinstance(geom, Polygon | MultiPolygon):
        raise ValueError(f"{code}.geojson is not polygonal: {geom.geom_type}")
    if not geom.is_valid:
        fixed = _polygonal(shapely.make_valid(geom))
        if fixed is None:
            raise ValueError(f"{code}.geojson has no valid polygonal area")
        geom = fixed
    return geom


def _township_kind(name: str) -> str:
    if name.endswith(("街道办事处", "街道")):
        return "街道"
    if name.endswith("镇"):
        return "镇"
    if name.endswith("乡"):
        return "乡"
    raise ValueError(f"cannot tell whether township {name!r} is a 街道, 镇 or 乡")


def _village_kind(name: str) -> str:
    if name.endswith(("居委会", "居民委员会", "社区")):
        return "居委会"
    if name.endswith(("村委会", "村民委员会")):
        return "村委会"
    raise ValueError(f"cannot tell whether {name!r} is a 居委会 or a 村委会")


# GB/T 10114 style ranges for local codes: (first number, last number) per kind
_TOWNSHIP_RANGES = {"街道": (1, 99), "镇": (101, 199), "乡": (201, 399)}
_VILLAGE_RANGES = {"居委会": (1, 199), "村委会": (201, 999)}


def _local_numbers(kinds: Sequence[str], ranges: dict[str, tuple[int, int]], where: str) -> list[int]:
    """Number items per kind in source order, starting at the kind's first number."""
    next_number = {kind: lo for kind, (lo, _hi) in ranges.items()}
    out: list[int] = []
    for kind in kinds:
        number = next_number[kind]
        if number > ranges[kind][1]:
            raise ValueError(f"too many {kind} in {where} for the local code range {ranges[kind]}")
        out.append(number)
        next_number[kind] = number + 1
    return out


# --------------------------------------------------------------------------------------------------
# Townships


@dataclass(frozen=True)
class _TownshipPlan:
    code: str
    name: str
    kind: str
    villages: list[tuple[str, str, str]]  # (code, name, kind) in source order


def _county_seat(code: str, county: BaseGeometry) -> tuple[float, float]:
    seat = COUNTY_SPECS[code].seat
    if county.contains(Point(seat)):
        return seat
    rp = county.representative_point()  # nudge a seat that falls outside the polygon
    return (rp.x, rp.y)


# Area weight of a township per village: urban communities (居委会) are denser than villages.
_AREA_WEIGHT = {"居委会": 0.5, "村委会": 1.0}


def _township_areas(
    county_code: str,
    county: Polygon | MultiPolygon,
    seat: tuple[float, float],
    plans: Sequence[_TownshipPlan],
) -> tuple[list[Polygon | MultiPolygon], list[tuple[float, float]]]:
    """Partition the county into one generated area per township, in proportion to its villages.

    Seeds start as k-means centres: 街道 seeds of the part of the county near the seat (a disk whose
    area share is the 街道 share of the villages), 镇/乡 seeds of the rest. A capacity-constrained Lloyd
    iteration over a dense sample then moves the seeds and adjusts power weights until every township's
    share of the county is proportional to its (weighted) number of villages — otherwise a township with
    119 villages would get as much land as one with 30, and fewer grids than villages. The areas are the
    cells of the resulting power diagram (a weighted Voronoi diagram) clipped to the county.
    Returns (areas, seeds) in the order of ``plans``.
    """
    rng = _rng(int(county_code))
    frame = _Frame(*seat)
    county_area = area_m2(county)
    sample = _stratified_sample(county, frame, math.sqrt(county_area / 12_000), rng)

    streets = [i for i, p in enumerate(plans) if p.kind == "街道"]
    others = [i for i, p in enumerate(plans) if p.kind != "街道"]
    weight = np.array([sum(_AREA_WEIGHT[v[2]] for v in p.villages) or 1.0 for p in plans])
    targets = weight / weight.sum()
    street_share = float(targets[streets].sum()) if streets else 0.0
    radius = max(1.5 * COUNTY_SPECS[county_code].urban_radius_m, math.sqrt(street_share * county_area / math.pi))
    dist = np.hypot(sample[:, 0], sample[:, 1])
    while streets and others and np.count_nonzero(dist <= radius) < 100 * len(streets):
        radius *= 1.25
    near = dist <= radius

    seeds = np.empty((len(plans), 2))
    for members, mask in ((streets, near), (others, ~near)):
        if not members:
            continue
        pts = sample[mask] if streets and others else sample
        centres, labels = _kmeans(pts, len(members), rng)
        snapped = _snap_to_members(pts, centres, labels)
        # stable assignment of centres to townships: street centres by distance to the seat,
        # town centres by angle around the seat, each in source order
        if members is streets:
            order = np.argsort(np.hypot(snapped[:, 0], snapped[:, 1]), kind="stable")
        else:
            order = np.argsort(np.arctan2(snapped[:, 1], snapped[:, 0]), kind="stable")
        seeds[members] = snapped[order]

    limit = np.full(len(plans), np.inf)
    limit[streets] = radius  # 街道 stay around the seat ...
    pinned = streets[0] if streets else None
    if pinned is not None:
        limit[pinned] = 0.0  # ... and the first-listed one (the old town) sits on it
    seeds, weights = _capacity_lloyd(sample, seeds, targets, limit, county_area, pinned)

    minx, miny, maxx, maxy = county.bounds
    corners = frame.to_xy(np.array([[minx, miny], [maxx, maxy]]))
    cells_xy = _power_cells(seeds, weights, (*corners[0], *corners[1]))
    cells = shapely.transform(np.array(cells_xy, dtype=object), frame.to_lonlat)
    seeds_ll = frame.to_lonlat(seeds)
    shapely.prepare(county)
    clipped = [_polygonal(g) for g in shapely.intersection(cells, county)]
    return _merge_fragments(clipped, seeds_ll), [(float(x), float(y)) for x, y in seeds_ll]


def _capacity_lloyd(
    sample: NDArray[np.float64],
    seeds: NDArray[np.float64],
    targets: NDArray[np.float64],
    limit: NDArray[np.float64],
    area: float,
    pinned: int | None,
    iterations: int = 250,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Damped joint update of power weights (towards the target shares of ``area``) and seeds (towards the
    centroids of their power cells, within ``limit`` of the frame origin, i.e. the county seat).
    The ``pinned`` cell is kept owning the origin. Returns (seeds, weights)."""
    n, k = len(sample), len(seeds)
    px, py = sample[:, :1], sample[:, 1:]
    s = seeds.copy()
    w = np.zeros(k)
    for _ in range(iterations):
        d = (px - s[None, :, 0]) ** 2 + (py - s[None, :, 1]) ** 2 - w[None, :]
        labels = np.argmin(d, axis=1)
        counts = np.bincount(labels, minlength=k)
        share = counts / n
        # weight step scaled by the township's own target area, on the log of the share error
        w = w + 0.5 * area * targets * np.clip(np.log((targets + 1e-9) / (share + 1e-9)), -1.0, 1.0)
        w -= w.mean()
        filled = counts > 0
        cx = np.bincount(labels, weights=sample[:, 0], minlength=k)
        cy = np.bincount(labels, weights=sample[:, 1], minlength=k)
        centre = np.column_stack([cx / np.maximum(counts, 1), cy / np.maximum(counts, 1)])
        moved = np.where(filled[:, None], 0.5 * (s + centre), s)
        r = np.hypot(moved[:, 0], moved[:, 1])
        shrink = np.minimum(1.0, limit / np.maximum(r, 1e-9))
        s = moved * shrink[:, None]
        if pinned is not None:
            # power distance of the origin to every seed: |s_j|² - w_j; the pinned cell must be nearest
            others = np.delete(np.arange(k), pinned)
            need = float(np.max(w[others] - (s[others] ** 2).sum(axis=1))) + 1.0
            w[pinned] = max(w[pinned] - float(s[pinned] @ s[pinned]), need) + float(s[pinned] @ s[pinned])
    return s, w


def _power_cells(
    seeds: NDArray[np.float64], weights: NDArray[np.float64], bounds: tuple[float, float, float, float]
) -> list[Polygon]:
    """Cells of the power diagram {p : |p - s_i|² - w_i <= |p - s_j|² - w_j for all j}, within ``bounds``
    padded by 50 km. Both sides of a bisector are cut by the same segment, so neighbouring cells share
    their edge coordinates (up to the triple points, which agree to ~1e-9 m)."""
    pad = 50_000.0
    minx, miny, maxx, maxy = bounds
    big = 4 * max(maxx - minx, maxy - miny) + 4 * pad
    k = len(seeds)
    cells: list[Polygon] = []
    for i in range(k):
        cell: BaseGeometry = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
        for j in range(k):
            if j == i:
                continue
            a, b = (i, j) if i < j else (j, i)
            d = seeds[b] - seeds[a]
            norm = float(np.hypot(d[0], d[1]))
            if norm == 0:
                raise RuntimeError("two township seeds coincide")
            n = d / norm
            # bisector of a and b: p·n = c (a's side is p·n <= c)
            c = (seeds[b] @ seeds[b] - seeds[a] @ seeds[a] - weights[b] + weights[a]) / (2 * norm)
            t = np.array([-n[1], n[0]])
            p0 = n * c
            pa, pb = p0 - big * t, p0 + big * t
            side = -1.0 if i == a else 1.0
            half = Polygon([pa, pb, pb + side * big * n, pa + side * big * n])
            cell = cell.intersection(half)
            if cell.is_empty:
                raise RuntimeError(f"power cell {i} is empty")
        poly = _polygonal(cell)
        if not isinstance(poly, Polygon):
            raise RuntimeError(f"power cell {i} is not a polygon")
        cells.append(poly)
    return cells


def _merge_fragments(
    pieces: Sequence[Polygon | MultiPolygon | None], seeds: NDArray[np.float64]
) -> list[Polygon | MultiPolygon]:
    """Keep for each township the part holding its seed; give stray parts to the neighbour sharing the
    longest edge with them, so every township is (as far as possible) one polygon and they still tile."""
    parts: list[list[Polygon]] = []
    strays: list[tuple[int, Polygon]] = []
    for i, piece in enumerate(pieces):
        if piece is None:
            raise RuntimeError(f"township {i} has no area inside its county")
        polys = [p for p in shapely.get_parts(piece) if isinstance(p, Polygon)]
        seed = Point(seeds[i])
        main = next((p for p in polys if p.intersects(seed)), max(polys, key=lambda p: p.area))
        parts.append([main])
        strays.extend((i, p) for p in polys if p is not main)
    strays.sort(key=lambda s: (-s[1].area, s[0]))
    for owner, stray in strays:
        best, best_len = owner, 0.0
        for j, js in enumerate(parts):
            if j == owner:
                continue
            shared = sum(stray.boundary.intersection(p).length for p in js if p.intersects(stray))
            if shared > best_len:
                best, best_len = j, shared
        parts[best].append(stray)
    out: list[Polygon | MultiPolygon] = []
    for js in parts:
        merged = js[0] if len(js) == 1 else _polygonal(shapely.union_all(js))
        if merged is None:
            raise RuntimeError("merging township fragments produced no area")
        out.append(merged)
    return out


def _village_points(
    township_code: str,
    township: Polygon | MultiPolygon,
    county: Polygon | MultiPolygon,
    seat: tuple[float, float],
    township_point: tuple[float, float],
    kinds: Sequence[str],
) -> NDArray[np.float64]:
    """Spread-out generated points (lon, lat), one per village, inside the township and the county.

    居委会 (communities) take the points nearest the county seat; 村委会 follow in order of distance
    from the township's own point, so the first-listed village (usually the township seat) is central.
    """
    k = len(kinds)
    rng = _rng(int(township_code))
    frame = _Frame(*township_point)
    area = area_m2(township)
    spacing = math.sqrt(area / (k * 40))
    shapely.prepare(county)
    while True:
        sample = _stratified_sample(township, frame, spacing, rng)
        ll = frame.to_lonlat(sample)
        sample = sample[shapely.contains_xy(county, ll[:, 0], ll[:, 1])]
        if len(sample) >= 10 * k:
            break
        spacing /= 2
    centres, labels = _kmeans(sample, k, rng)
    pts = _snap_to_members(sample, centres, labels)
    seat_xy = frame.to_xy(np.array([seat]))[0]
    to_seat = np.hypot(pts[:, 0] - seat_xy[0], pts[:, 1] - seat_xy[1])
    to_centre = np.hypot(pts[:, 0], pts[:, 1])
    n_comm = sum(1 for kind in kinds if kind == "居委会")
    by_seat = np.argsort(to_seat, kind="stable")
    comm_idx = by_seat[:n_comm]
    rest = by_seat[n_comm:]
    rest = rest[np.argsort(to_centre[rest], kind="stable")]
    out = np.empty((k, 2))
    ci = iter(comm_idx)
    vi = iter(rest)
    for n, kind in enumerate(kinds):
        out[n] = pts[next(ci) if kind == "居委会" else next(vi)]
    return frame.to_lonlat(out)


# --------------------------------------------------------------------------------------------------
# Grids


def _grid_cells(
    bounds: tuple[float, float, float, float], seats: Sequence[tuple[tuple[float, float], float]]
) -> tuple[NDArray[np.object_], NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Lattice cells over ``bounds``: 1 km blocks, split into 100 m cells when the block centre is within
    an urban radius of a county seat. Returns (boxes, top row, left column, is_urban) where rows and
    columns count 100 m lattice steps from lon/lat 0 (a global-aligned lattice)."""
    dlon, dlat = lattice_steps()
    sub = URBAN_SUBDIVISION
    minx, miny, maxx, maxy = bounds
    i0, i1 = math.floor(minx / (dlon * sub)) - 1, math.ceil(maxx / (dlon * sub)) + 1
    j0, j1 = math.floor(miny / (dlat * sub)) - 1, math.ceil(maxy / (dlat * sub)) + 1
    mesh_i, mesh_j = np.meshgrid(np.arange(i0, i1, dtype=np.int64), np.arange(j0, j1, dtype=np.int64))
    bi, bj = mesh_i.ravel(), mesh_j.ravel()
    cx = (bi * sub + sub / 2) * dlon
    cy = (bj * sub + sub / 2) * dlat
    urban_block = np.zeros(len(bi), dtype=bool)
    for (slon, slat), radius in seats:
        d = np.hypot((cx - slon) * m_per_deg_lon(slat), (cy - slat) * M_PER_DEG_LAT)
        urban_block |= d <= radius
    # rural cells: one per non-urban block
    r_col, r_row = bi[~urban_block] * sub, bj[~urban_block] * sub
    r_size = np.full(len(r_col), sub)
    # urban cells: sub x sub per urban block
    off_i, off_j = np.meshgrid(np.arange(sub), np.arange(sub))
    u_col = (bi[urban_block][:, None] * sub + off_i.ravel()[None, :]).ravel()
    u_row = (bj[urban_block][:, None] * sub + off_j.ravel()[None, :]).ravel()
    col = np.concatenate([r_col, u_col])
    row = np.concatenate([r_row, u_row])
    size = np.concatenate([r_size, np.ones(len(u_col), dtype=np.int64)])
    is_urban = np.concatenate([np.zeros(len(r_col), dtype=bool), np.ones(len(u_col), dtype=bool)])
    # coordinates are always index * step, so shared edges of rural and urban cells are bit-identical
    boxes = shapely.box(col * dlon, row * dlat, (col + size) * dlon, (row + size) * dlat)
    return boxes, row + size, col, is_urban


def _build_grids(
    townships: Sequence[DivisionRecord],
    villages_by_township: dict[str, list[DivisionRecord]],
    seats: Sequence[tuple[tuple[float, float], float]],
    bounds: tuple[float, float, float, float],
) -> list[GridRecord]:
    """Cut the lattice cells by the township areas, give each piece to the nearest village of its
    township and number the pieces 001.. per village (lattice rows north to south, then west to east).

    The pieces of one cell tile the cell and the townships tile the county, so the grids tile every
    county; a cell cut into several parts inside one township stays one (Multi)Polygon grid.
    """
    boxes, top, left, is_urban = _grid_cells(bounds, seats)
    t_geoms = np.array([t.geometry for t in townships], dtype=object)
    shapely.prepare(t_geoms)
    tree = shapely.STRtree(t_geoms)
    cell_idx, t_idx = tree.query(boxes, predicate="intersects")
    inside = shapely.contains_properly(t_geoms[t_idx], boxes[cell_idx])
    pieces = boxes[cell_idx].copy()
    cut = ~inside
    pieces[cut] = shapely.intersection(boxes[cell_idx[cut]], t_geoms[t_idx[cut]])
    cleaned = np.array([p if ok else _polygonal(p) for p, ok in zip(pieces, inside, strict=True)], dtype=object)
    keep = np.array([p is not None for p in cleaned])
    cleaned, cell_idx, t_idx = cleaned[keep], cell_idx[keep], t_idx[keep]
    # numerical dust (far below a square centimetre) is dropped; what is dropped is bounded and checked
    centroids = shapely.get_coordinates(shapely.centroid(cleaned))
    approx_m2 = shapely.area(cleaned) * m_per_deg_lon(LATTICE_REF_LAT) * M_PER_DEG_LAT
    dust = approx_m2 < MIN_PIECE_M2
    if float(approx_m2[dust].sum()) > 0.1:
        raise RuntimeError(f"{int(dust.sum())} dust pieces add up to {approx_m2[dust].sum():.3f} m²")
    cleaned, cell_idx, t_idx, centroids = cleaned[~dust], cell_idx[~dust], t_idx[~dust], centroids[~dust]

    grids: list[GridRecord] = []
    for ti, township in enumerate(townships):
        sel = np.flatnonzero(t_idx == ti)
        if len(sel) == 0:
            raise RuntimeError(f"township {township.code} received no grid")
        villages = villages_by_township[township.code]
        vpts = np.array([v.point for v in villages], dtype=np.float64)
        kx = m_per_deg_lon(vpts[:, 1].mean())
        dx = (centroids[sel, 0][:, None] - vpts[None, :, 0]) * kx
        dy = (centroids[sel, 1][:, None] - vpts[None, :, 1]) * M_PER_DEG_LAT
        d2 = dx * dx + dy * dy
        owner = np.argmin(d2, axis=1)
        # a village whose neighbourhood holds no grid centroid takes the nearest grid of a village that
        # has several, so that every community has at least one grid when the township has enough
        counts = np.bincount(owner, minlength=len(villages))
        for empty in np.flatnonzero(counts == 0).tolist():
            spare = np.flatnonzero(counts[owner] > 1)
            if len(spare) == 0:
                break
            take = spare[int(np.argmin(d2[spare, empty]))]
            counts[owner[take]] -= 1
            owner[take] = empty
            counts[empty] = 1
        for vi, village in enumerate(villages):
            mine = sel[owner == vi]
            if len(mine) > MAX_GRIDS_PER_COMMUNITY:
                raise RuntimeError(
                    f"community {village.code} would get {len(mine)} grids (max {MAX_GRIDS_PER_COMMUNITY})"
                )
            # stable numbering: lattice rows north to south, then columns west to east
            c = cell_idx[mine]
            mine = mine[np.lexsort((left[c], -top[c]))]
            for seq, gi in enumerate(mine, start=1):
                geom = cleaned[gi]
                grids.append(
                    GridRecord(
                        code=f"{village.code}{seq:03d}",
                        community_code=village.code,
                        township_code=township.code,
                        county_code=township.code[:6],
                        size_class="urban" if is_urban[cell_idx[gi]] else "rural",
                        geometry=geom,
                        area_m2=area_m2(geom),
                    )
                )
    grids.sort(key=lambda g: g.code)
    return grids


# --------------------------------------------------------------------------------------------------
# Profile


def build_profile() -> CityProfile:
    """Build the city profile from the shipped files (deterministic; see the module docstring)."""
    source: dict[str, Any] = json.loads(DIVISIONS_FILE.read_text(encoding="utf-8"))
    city_geom = _load_boundary(CITY_CODE)
    if source["city"]["code"] != CITY_CODE:
        raise ValueError(f"divisions file is for {source['city']['code']}, expected {CITY_CODE}")

    county_geoms = {code: _load_boundary(code) for code in COUNTY_SPECS}
    seats = {code: _county_seat(code, county_geoms[code]) for code in COUNTY_SPECS}

    counties: list[DivisionRecord] = []
    townships: list[DivisionRecord] = []
    villages: list[DivisionRecord] = []
    for county in source["counties"]:
        src_code, name = str(county["code"]), str(county["name"])
        code = CHIPING_NEW_CODE if src_code == CHIPING_OLD_CODE else src_code
        if code not in COUNTY_SPECS:
            raise ValueError(f"no boundary/spec for county {src_code} {name}")
        spec, geom, seat = COUNTY_SPECS[code], county_geoms[code], seats[code]
        if src_code == CHIPING_OLD_CODE:
            counties.append(
                DivisionRecord(
                    code=CHIPING_OLD_CODE,
                    name=name,
                    level="county",
                    kind="县",
                    parent_code=CITY_CODE,
                    valid_from=None,
                    valid_to=CHIPING_OLD_VALID_TO,
                    successor_code=CHIPING_NEW_CODE,
                    code_is_local=False,
                    geometry=geom,
                    geometry_generated=False,
                    point=seat,
                    point_generated=False,
                )
            )
            name = name[:-1] + "区" if name.endswith("县") else name
        counties.append(
            DivisionRecord(
                code=code,
                name=name,
                level="county",
                kind=spec.kind,
                parent_code=CITY_CODE,
                valid_from=CHIPING_NEW_VALID_FROM if code == CHIPING_NEW_CODE else None,
                valid_to=None,
                successor_code=None,
                code_is_local=False,
                geometry=geom,
                geometry_generated=False,
                point=seat,
                point_generated=False,
            )
        )

        t_src = county["townships"]
        t_kinds = [_township_kind(t["name"]) for t in t_src]
        t_numbers = _local_numbers(t_kinds, _TOWNSHIP_RANGES, f"county {code}")
        plans: list[_TownshipPlan] = []
        for t, t_kind, t_number in zip(t_src, t_kinds, t_numbers, strict=True):
            t_code = f"{code}{t_number:03d}"
            v_kinds = [_village_kind(v) for v in t["villages"]]
            v_numbers = _local_numbers(v_kinds, _VILLAGE_RANGES, f"township {t_code}")
            plans.append(
                _TownshipPlan(
                    code=t_code,
                    name=str(t["name"]),
                    kind=t_kind,
                    villages=[
                        (f"{t_code}{n:03d}", str(v), vk)
                        for v, vk, n in zip(t["villages"], v_kinds, v_numbers, strict=True)
                    ],
                )
            )
        areas, seeds = _township_areas(code, geom, seat, plans)
        for plan, t_area, t_seed in zip(plans, areas, seeds, strict=True):
            point = t_seed if t_area.contains(Point(t_seed)) else _rep_point(t_area)
            townships.append(
                DivisionRecord(
                    code=plan.code,
                    name=plan.name,
                    level="township",
                    kind=plan.kind,
                    parent_code=code,
                    valid_from=None,
                    valid_to=None,
                    successor_code=None,
                    code_is_local=True,
                    geometry=t_area,
                    geometry_generated=True,
                    point=point,
                    point_generated=True,
                )
            )
            if not plan.villages:
                continue
            pts = _village_points(plan.code, t_area, geom, seat, point, [v[2] for v in plan.villages])
            for (v_code, v_name, v_kind), (lon, lat) in zip(plan.villages, pts, strict=True):
                villages.append(
                    DivisionRecord(
                        code=v_code,
                        name=v_name,
                        level="village",
                        kind=v_kind,
                        parent_code=plan.code,
                        valid_from=None,
                        valid_to=None,
                        successor_code=None,
                        code_is_local=True,
                        geometry=None,
                        geometry_generated=False,
                        point=(float(lon), float(lat)),
                        point_generated=True,
                    )
                )

    city = DivisionRecord(
        code=CITY_CODE,
        name=str(source["city"]["name"]),
        level="city",
        kind=CITY_KIND,
        parent_code=None,
        valid_from=None,
        valid_to=None,
        successor_code=None,
        code_is_local=False,
        geometry=city_geom,
        geometry_generated=False,
        point=seats[CITY_SEAT_COUNTY],
        point_generated=False,
    )
    townships.sort(key=lambda d: d.code)
    villages.sort(key=lambda d: d.code)
    by_township: dict[str, list[DivisionRecord]] = {}
    for v in villages:
        by_township.setdefault(v.code[:9], []).append(v)
    grid_seats = [(seats[c], COUNTY_SPECS[c].urban_radius_m) for c in COUNTY_SPECS]
    grids = _build_grids(townships, by_township, grid_seats, city_geom.bounds)
    counties.sort(key=lambda d: d.code)
    return CityProfile(divisions=[city, *counties, *townships, *villages], grids=grids, digest=input_digest())


def _rep_point(geom: BaseGeometry) -> tuple[float, float]:
    rp = geom.representative_point()
    return (rp.x, rp.y)


def _cache_key(digest: str) -> str:
    """The input digest plus this module's source and the shapely version (pickles hold GEOS objects), so
    a stale cache is never served while the generator is edited without bumping GENERATOR_VERSION."""
    h = hashlib.sha256(digest.encode())
    h.update(Path(__file__).read_bytes())
    h.update(shapely.__version__.encode())
    return f"{digest[:16]}-{h.hexdigest()[:12]}"


def load_profile(cache_dir: Path | None = None) -> CityProfile:
    """Return the profile, from ``cache_dir`` when a pickle for the current inputs exists.

    With ``cache_dir=None`` the profile is simply built. The cache file name holds the input digest and a
    hash of this module's source; it is written atomically (temporary file + rename), so concurrent
    builders never read a half-written file, and older cache files are removed. The cache is our own file:
    never point ``cache_dir`` at a directory others can write to (pickles execute code when loaded).
    """
    if cache_dir is None:
        return build_profile()
    digest = input_digest()
    path = Path(cache_dir) / f"city-profile-{_cache_key(digest)}.pickle"
    if path.exists():
        try:
            with path.open("rb") as fh:
                cached = pickle.load(fh)  # noqa: S301 - our own cache file, keyed by content digest
            if isinstance(cached, CityProfile) and cached.digest == digest:
                return cached
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass  # unreadable cache: rebuild and overwrite
    profile = build_profile()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".city-profile-", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp creates 0600; the cache is read by other processes of the platform
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(profile, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for stale in path.parent.glob("city-profile-*.pickle"):
        if stale != path:
            stale.unlink(missing_ok=True)  # caches of other inputs/generator versions
    return profile
