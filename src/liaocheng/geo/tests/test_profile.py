"""The generated city profile: division counts and codes, generated geometry, grid tiling, determinism.

Set operations run in GCJ-02 degrees (the data's own space); their results are densified and projected to
metres (EPSG:32650, UTM 50N) to be measured. Overlaps (sum of areas minus area of the union) are computed
in degrees² and scaled by the local m²/deg² factor, where float cancellation is harmless.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from liaocheng.geo import profile as profile_module
from liaocheng.geo.profile import (
    CHIPING_NEW_CODE,
    CHIPING_OLD_CODE,
    COUNTY_SPECS,
    CityProfile,
    DivisionRecord,
    area_m2,
    build_profile,
    load_profile,
)

CACHE_DIR = Path(__file__).resolve().parents[4] / "var" / "cache"
_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)


def utm_area(geom: BaseGeometry) -> float:
    """Planar area in m² in UTM 50N. Edges are first densified to about 10 m in degree space: a projected
    long edge is a chord, not the image of the straight degree-space edge, and would invent slivers."""
    if geom.is_empty:
        return 0.0
    dense = shapely.segmentize(geom, 1e-4)
    projected = shapely.transform(dense, lambda c: np.column_stack(_UTM.transform(c[:, 0], c[:, 1])))
    return float(shapely.area(projected))


def m2_per_deg2(lat: float) -> float:
    return 111_320.0 * math.cos(math.radians(lat)) * 110_950.0


@pytest.fixture(scope="module")
def profile() -> CityProfile:
    return load_profile(cache_dir=CACHE_DIR)


@pytest.fixture(scope="module")
def by_code(profile: CityProfile) -> dict[str, DivisionRecord]:
    return {d.code: d for d in profile.divisions}


def current_counties(profile: CityProfile) -> list[DivisionRecord]:
    return [d for d in profile.divisions if d.level == "county" and d.valid_to is None]


def test_division_counts(profile: CityProfile) -> None:
    levels = Counter(d.level for d in profile.divisions)
    assert levels == {"city": 1, "county": 9, "township": 135, "village": 6451}
    assert sorted(d.code for d in current_counties(profile)) == sorted(COUNTY_SPECS)
    assert len(current_counties(profile)) == 8


def test_chiping_history(by_code: dict[str, DivisionRecord]) -> None:
    old, new = by_code[CHIPING_OLD_CODE], by_code[CHIPING_NEW_CODE]
    assert old.name == "茌平县" and old.kind == "县"
    assert old.valid_to == date(2019, 6, 30) and old.successor_code == CHIPING_NEW_CODE
    assert new.name == "茌平区" and new.kind == "市辖区" and new.valid_to is None
    assert new.valid_from is not None and old.valid_to < new.valid_from
    assert old.geometry is not None and new.geometry is not None and old.geometry.equals(new.geometry)
    # the townships hang under the current code, none under the historical one
    assert any(d.parent_code == CHIPING_NEW_CODE and d.level == "township" for d in by_code.values())
    assert not any(d.parent_code == CHIPING_OLD_CODE for d in by_code.values())


def test_codes_kinds_and_flags(profile: CityProfile, by_code: dict[str, DivisionRecord]) -> None:
    codes = [d.code for d in profile.divisions]
    assert len(codes) == len(set(codes))
    expected_len = {"city": 6, "county": 6, "township": 9, "village": 12}
    for d in profile.divisions:
        assert d.code.isdigit() and len(d.code) == expected_len[d.level], d
        generated = d.level in ("township", "village")
        assert d.code_is_local is generated
        assert d.point_generated is generated
        assert d.geometry_generated is (d.level == "township")
        if d.parent_code is not None:
            parent = by_code[d.parent_code]
            assert d.code.startswith(parent.code) or d.level == "county"
            assert parent.valid_to is None
    assert by_code["371500"].kind == "地级市" and by_code["371500"].parent_code is None
    assert {by_code[c].kind for c in ("371502", "371503")} == {"市辖区"}
    assert by_code["371581"].kind == "县级市" and by_code["371521"].kind == "县"
    # GB/T 10114 style local numbering: 街道 001-099, 镇 101-199, 乡 201-399; 居委会 001-199, 村委会 201-999
    ranges = {"街道": (1, 99), "镇": (101, 199), "乡": (201, 399), "居委会": (1, 199), "村委会": (201, 999)}
    for d in profile.divisions:
        if d.level in ("township", "village"):
            lo, hi = ranges[d.kind]
            assert lo <= int(d.code[-3:]) <= hi, d
    assert by_code["371502001"].name == "古楼街道办事处" and by_code["371502001"].kind == "街道"
    assert by_code["371502101"].name == "侯营镇"
    assert by_code["371502201"].name == "广平乡"
    assert by_code["371502001001"].name == "古城社区居委会" and by_code["371502001001"].kind == "居委会"


def test_village_points_inside_township_and_county(profile: CityProfile, by_code: dict[str, DivisionRecord]) -> None:
    villages = [d for d in profile.divisions if d.level == "village"]
    assert len(villages) == 6451
    groups: dict[str, list[DivisionRecord]] = defaultdict(list)
    for v in villages:
        groups[v.parent_code or ""].append(v)
    for t_code, members in groups.items():
        township = by_code[t_code]
        county = by_code[township.parent_code or ""]
        assert township.geometry is not None and county.geometry is not None
        xy = np.array([v.point for v in members])
        assert shapely.contains_xy(township.geometry, xy[:, 0], xy[:, 1]).all(), t_code
        assert shapely.contains_xy(county.geometry, xy[:, 0], xy[:, 1]).all(), t_code
        assert len({v.point for v in members}) == len(members), f"duplicate points in {t_code}"


def test_county_seats_and_township_points_inside(profile: CityProfile) -> None:
    for county in current_counties(profile):
        assert county.point is not None and county.geometry is not None
        assert county.geometry.contains(shapely.Point(county.point)), county.code
    for t in (d for d in profile.divisions if d.level == "township"):
        assert t.point is not None and t.geometry is not None
        assert t.geometry.contains(shapely.Point(t.point)), t.code
        assert isinstance(t.geometry, Polygon | MultiPolygon) and t.geometry.is_valid


def test_townships_tile_each_county(profile: CityProfile) -> None:
    for county in current_counties(profile):
        assert county.geometry is not None
        parts = np.array(
            [d.geometry for d in profile.divisions if d.level == "township" and d.parent_code == county.code],
            dtype=object,
        )
        union = shapely.union_all(parts)
        symdiff = utm_area(shapely.symmetric_difference(union, county.geometry))
        overlap = (float(shapely.area(parts).sum()) - union.area) * m2_per_deg2(county.geometry.centroid.y)
        assert symdiff < 1.0, (county.code, symdiff)
        assert overlap < 1.0, (county.code, overlap)


def test_grids_tile_each_county_without_gap_or_overlap(profile: CityProfile) -> None:
    codes = np.array([g.county_code for g in profile.grids])
    geoms = np.array([g.geometry for g in profile.grids], dtype=object)
    for county in current_counties(profile):
        assert county.geometry is not None
        mine = geoms[codes == county.code]
        union = shapely.union_all(mine)
        gap = utm_area(shapely.difference(county.geometry, union))
        outside = utm_area(shapely.difference(union, county.geometry))
        overlap = (float(shapely.area(mine).sum()) - union.area) * m2_per_deg2(county.geometry.centroid.y)
        assert gap < 1.0, (county.code, gap)
        assert outside < 1.0, (county.code, outside)
        assert overlap < 1.0, (county.code, overlap)


def test_grids_nest_in_their_township(profile: CityProfile, by_code: dict[str, DivisionRecord]) -> None:
    geoms = np.array([g.geometry for g in profile.grids], dtype=object)
    townships = np.array([by_code[g.township_code].geometry for g in profile.grids], dtype=object)
    # a grid's area outside its township is (numerically) nothing
    outside = shapely.area(shapely.difference(geoms, townships)) / np.maximum(shapely.area(geoms), 1e-30)
    assert float(outside.max()) < 1e-6


def test_grid_codes(profile: CityProfile, by_code: dict[str, DivisionRecord]) -> None:
    codes = [g.code for g in profile.grids]
    assert len(codes) == len(set(codes))
    per_community: dict[str, list[int]] = defaultdict(list)
    for g in profile.grids:
        assert len(g.code) == 15 and g.code.isdigit()
        assert g.code[:12] == g.community_code and g.code[:9] == g.township_code and g.code[:6] == g.county_code
        community = by_code[g.community_code]
        assert community.level == "village" and community.parent_code == g.township_code
        assert g.size_class in ("urban", "rural")
        assert g.area_m2 > 0
        per_community[g.community_code].append(int(g.code[12:]))
    for seqs in per_community.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)) and max(seqs) <= 999
    assert 20_000 < len(codes) < 60_000


def test_grid_sizes(profile: CityProfile) -> None:
    def full_cells(size_class: str) -> np.ndarray:
        geoms = [g for g in profile.grids if g.size_class == size_class]
        is_box = [
            shapely.get_num_coordinates(g.geometry) == 5
            and math.isclose(g.geometry.area, g.geometry.envelope.area, rel_tol=1e-9)
            for g in geoms
        ]
        return np.array([g.area_m2 for g, box in zip(geoms, is_box, strict=True) if box])

    urban, rural = full_cells("urban"), full_cells("rural")
    assert len(urban) > 10_000 and len(rural) > 5_000
    assert 9_500 < float(np.median(urban)) < 10_500
    assert 950_000 < float(np.median(rural)) < 1_050_000
    # every county has an urban core around its seat
    assert {g.county_code for g in profile.grids if g.size_class == "urban"} == set(COUNTY_SPECS)


def test_every_village_has_grids(profile: CityProfile) -> None:
    villages = {d.code for d in profile.divisions if d.level == "village"}
    per_village = Counter(g.community_code for g in profile.grids)
    assert set(per_village) == villages
    assert max(per_village.values()) <= 999


def test_township_area_follows_village_count(profile: CityProfile) -> None:
    # generated township areas are proportional to their villages (居委会 count half), within 10 %
    weight: Counter[str] = Counter()
    for d in profile.divisions:
        if d.level == "village" and d.parent_code:
            weight[d.parent_code] += 0.5 if d.kind == "居委会" else 1.0
    for county in current_counties(profile):
        townships = [d for d in profile.divisions if d.level == "township" and d.parent_code == county.code]
        density = np.array([area_m2(t.geometry) / weight[t.code] for t in townships])
        assert np.all(np.abs(density / np.median(density) - 1) < 0.10), county.code
        # the county seat lies in the first-listed 街道 (the old town)
        first = next(t for t in townships if t.code == f"{county.code}001")
        assert first.kind == "街道" and first.geometry is not None and county.point is not None
        assert first.geometry.covers(shapely.Point(county.point)), county.code


def _canonical_digest(profile: CityProfile) -> str:
    h = hashlib.sha256(profile.digest.encode())
    for d in profile.divisions:
        h.update(
            repr(
                (
                    d.code,
                    d.name,
                    d.level,
                    d.kind,
                    d.parent_code,
                    d.valid_from,
                    d.valid_to,
                    d.successor_code,
                    d.code_is_local,
                    d.point,
                )
            ).encode()
        )
        if d.geometry is not None:
            h.update(shapely.to_wkb(d.geometry, hex=False, output_dimension=2))
    for g in profile.grids:
        h.update(repr((g.code, g.size_class, round(g.area_m2, 6))).encode())
        h.update(shapely.to_wkb(g.geometry, hex=False, output_dimension=2))
    return h.hexdigest()


def test_build_is_deterministic(profile: CityProfile) -> None:
    # ``profile`` came from the cache (or a build that wrote it); a fresh build must match it exactly
    fresh = build_profile()
    assert fresh.digest == profile.digest
    assert [g.code for g in fresh.grids] == [g.code for g in profile.grids]
    assert _canonical_digest(fresh) == _canonical_digest(profile)


def test_cache_roundtrip(tmp_path: Path, profile: CityProfile, monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[int] = []

    def fake_build() -> CityProfile:  # the real build is covered above; this test is about the cache
        builds.append(1)
        return profile

    monkeypatch.setattr(profile_module, "build_profile", fake_build)
    stale = tmp_path / "city-profile-0000000000000000-000000000000.pickle"
    stale.write_bytes(b"old")
    first = load_profile(cache_dir=tmp_path)
    files = list(tmp_path.glob("city-profile-*.pickle"))
    assert len(files) == 1 and files[0] != stale and not list(tmp_path.glob("*.tmp"))
    second = load_profile(cache_dir=tmp_path)
    assert len(builds) == 1  # the second call read the pickle
    assert _canonical_digest(first) == _canonical_digest(second) == _canonical_digest(profile)
    files[0].write_bytes(b"not a pickle")  # a damaged cache is rebuilt, not trusted
    assert load_profile(cache_dir=tmp_path).digest == profile.digest and len(builds) == 2
