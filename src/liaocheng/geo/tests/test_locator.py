"""Point → grid location on the generated profile (GCJ-02 lon/lat) and on small synthetic inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from liaocheng.geo.locator import Location, Locator
from liaocheng.geo.profile import COUNTY_SPECS, CityProfile, load_profile

CACHE_DIR = Path(__file__).resolve().parents[4] / "var" / "cache"


@pytest.fixture(scope="module")
def profile() -> CityProfile:
    return load_profile(cache_dir=CACHE_DIR)


@pytest.fixture(scope="module")
def locator(profile: CityProfile) -> Locator:
    return Locator.from_profile(profile)


def test_county_seats_are_located_in_their_county(profile: CityProfile, locator: Locator) -> None:
    seats = {d.code: d.point for d in profile.divisions if d.level == "county" and d.valid_to is None}
    assert set(seats) == set(COUNTY_SPECS)
    for code, point in seats.items():
        assert point is not None
        loc = locator.locate(*point)
        assert loc is not None, code
        assert loc.county_code == code
        assert loc.grid_code.startswith(loc.community_code) and loc.community_code.startswith(loc.township_code)
        assert loc.township_code.startswith(loc.county_code)


def test_points_outside_liaocheng(locator: Locator) -> None:
    assert locator.locate(117.5, 36.0) is None  # towards Jinan / Tai'an
    assert locator.locate(0.0, 0.0) is None
    assert locator.locate(116.4, 39.9) is None  # Beijing
    assert locator.locate(float("nan"), 36.5) is None
    assert locator.locate_many(np.array([117.5, 0.0, np.nan]), np.array([36.0, 0.0, 36.5])).tolist() == [-1, -1, -1]


def test_located_grid_contains_the_point(profile: CityProfile, locator: Locator) -> None:
    grid = profile.grids[len(profile.grids) // 2]
    rp = grid.geometry.representative_point()
    loc = locator.locate(rp.x, rp.y)
    assert loc == Location(grid.code, grid.community_code, grid.township_code, grid.county_code)


def test_locate_many_agrees_with_locate_and_strtree(profile: CityProfile, locator: Locator) -> None:
    minx, miny, maxx, maxy = profile.divisions[0].geometry.bounds  # type: ignore[union-attr]
    rng = np.random.default_rng(20240601)
    n = 4_000
    lons, lats = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
    many = locator.locate_many(lons, lats)
    assert many.shape == (n,) and many.dtype == np.int64
    inside = int((many >= 0).sum())
    assert 0.3 * n < inside < n  # the bbox is partly outside the city
    codes = locator.codes_for(many)
    for lon, lat, idx, code in zip(lons, lats, many, codes, strict=True):
        loc = locator.locate(lon, lat)
        assert (loc.grid_code if loc else "") == code
        assert locator.locate_index(lon, lat) == idx
    # reference: shapely's own STRtree query, lowest index on ties
    geoms = np.array([g.geometry for g in profile.grids], dtype=object)
    pt_idx, geom_idx = shapely.STRtree(geoms).query(shapely.points(lons, lats), predicate="intersects")
    expected = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(expected, pt_idx, geom_idx)
    expected[expected == np.iinfo(np.int64).max] = -1
    assert np.array_equal(many, expected)


def test_point_on_shared_edge_is_assigned_once(profile: CityProfile, locator: Locator) -> None:
    # the midpoint of the east edge of a full urban cell, shared with its eastern neighbour
    for grid in profile.grids:
        if grid.size_class != "urban" or shapely.get_num_coordinates(grid.geometry) != 5:
            continue
        _minx, miny, maxx, maxy = grid.geometry.bounds
        x, y = maxx, (miny + maxy) / 2
        hits = locator.tree.query(shapely.Point(x, y), predicate="intersects")
        if len(hits) == 2:
            break
    else:
        pytest.fail("no pair of adjacent urban cells found")
    idx = locator.locate_index(x, y)
    assert idx == int(hits.min())
    assert locator.locate_many(np.array([x, x]), np.array([y, y])).tolist() == [idx, idx]
    loc = locator.locate(x, y)
    assert loc is not None and loc.grid_code == profile.grids[idx].code


def test_synthetic_shared_edge_and_codes_for() -> None:
    loc = Locator(["A", "B"], [box(0, 0, 1, 1), box(1, 0, 2, 1)])
    assert loc.locate_index(1.0, 0.5) == 0  # on the shared edge: lowest index
    assert loc.locate_index(1.5, 0.5) == 1
    assert loc.locate_index(2.5, 0.5) == -1
    idx = loc.locate_many([1.0, 1.5, 0.5, 3.0], [0.5, 0.5, 0.5, 0.5])
    assert idx.tolist() == [0, 1, 0, -1]
    assert loc.codes_for(idx).tolist() == ["A", "B", "A", ""]


def test_empty_locator() -> None:
    loc = Locator([], [])
    assert loc.locate(116.0, 36.5) is None
    assert loc.locate_many([116.0], [36.5]).tolist() == [-1]
