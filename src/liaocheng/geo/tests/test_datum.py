"""WGS84 ↔ GCJ-02: the numpy implementation against eviltransform, and the size of the shift."""

from __future__ import annotations

import eviltransform
import numpy as np
from pyproj import Geod

from liaocheng.geo.datum import (
    gcj02_to_wgs84,
    gcj02_to_wgs84_many,
    out_of_china,
    wgs84_to_gcj02,
    wgs84_to_gcj02_many,
)

_GEOD = Geod(ellps="WGS84")


def test_vectorised_matches_eviltransform_elementwise() -> None:
    rng = np.random.default_rng(7)
    lons = np.concatenate([rng.uniform(73.0, 135.0, 5_000), rng.uniform(115.2, 116.6, 5_000), [0.0, -70.0, 150.0]])
    lats = np.concatenate([rng.uniform(3.0, 53.0, 5_000), rng.uniform(35.7, 37.1, 5_000), [0.0, 40.0, 60.0]])
    glon, glat = wgs84_to_gcj02_many(lons, lats)
    expected = np.array([eviltransform.wgs2gcj(lat, lon) for lon, lat in zip(lons, lats, strict=True)])
    np.testing.assert_allclose(glat, expected[:, 0], rtol=0, atol=1e-11)
    np.testing.assert_allclose(glon, expected[:, 1], rtol=0, atol=1e-11)
    # the scalar wrapper returns (lon, lat) where eviltransform returns (lat, lon)
    for lon, lat, gx, gy in zip(lons[:50], lats[:50], glon[:50], glat[:50], strict=True):
        elat, elon = eviltransform.wgs2gcj(lat, lon)
        assert wgs84_to_gcj02(lon, lat) == (elon, elat)
        assert abs(gx - elon) < 1e-11 and abs(gy - elat) < 1e-11


def test_shift_in_liaocheng_is_a_few_hundred_metres() -> None:
    lon, lat = 115.985, 36.457  # 东昌府区, WGS84
    glon, glat = wgs84_to_gcj02(lon, lat)
    _az, _back, dist = _GEOD.inv(lon, lat, glon, glat)
    assert 300 < dist < 800
    assert glon > lon  # mostly eastwards here
    lons, lats = wgs84_to_gcj02_many(np.array([lon]), np.array([lat]))
    assert abs(lons[0] - glon) < 1e-11 and abs(lats[0] - glat) < 1e-11


def test_outside_china_is_unchanged() -> None:
    assert out_of_china(2.35, 48.86) and not out_of_china(115.985, 36.457)
    assert wgs84_to_gcj02(2.35, 48.86) == (2.35, 48.86)
    lons, lats = wgs84_to_gcj02_many([2.35, 0.0], [48.86, 0.0])
    assert lons.tolist() == [2.35, 0.0] and lats.tolist() == [48.86, 0.0]


def test_inverse_round_trips() -> None:
    rng = np.random.default_rng(11)
    lons, lats = rng.uniform(115.2, 116.6, 2_000), rng.uniform(35.7, 37.1, 2_000)
    glon, glat = wgs84_to_gcj02_many(lons, lats)
    wlon, wlat = gcj02_to_wgs84_many(glon, glat)
    np.testing.assert_allclose(wlon, lons, rtol=0, atol=1e-8)  # about a millimetre
    np.testing.assert_allclose(wlat, lats, rtol=0, atol=1e-8)
    back = gcj02_to_wgs84(float(glon[0]), float(glat[0]))
    assert abs(back[0] - lons[0]) < 1e-5 and abs(back[1] - lats[0]) < 1e-5  # eviltransform's exact: ~0.1 m
