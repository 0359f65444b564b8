"""WGS84 ↔ GCJ-02 conversion at the edge of the system.

GPS receivers and most open data give WGS84 coordinates; Chinese web maps (AMap, Tencent) and the
shipped boundary files use **GCJ-02**, an obfuscated datum offset from WGS84 by a few hundred metres
in Shandong. The platform stores and compares everything in GCJ-02, so WGS84 input must go through
:func:`wgs84_to_gcj02` once, where it enters the system. Outside China (the rough box used by the
standard algorithm) coordinates are left unchanged.

All functions here take and return **(lon, lat)** in that order; note that ``eviltransform`` (the
reference implementation used for scalars) uses (lat, lon). The vectorised functions implement the same
standard formula with numpy and are tested element-wise against ``eviltransform``.
"""

from __future__ import annotations

import math

import eviltransform
import numpy as np
from numpy.typing import ArrayLike, NDArray

# Constants of the standard GCJ-02 algorithm as in eviltransform (some ports use the Krasovsky semi-major
# axis 6378245.0 instead of 6378137.0; the difference is below a centimetre).
_A = 6378137.0
_EE = 0.00669342162296594323


def out_of_china(lon: float, lat: float) -> bool:
    """True outside the box where GCJ-02 applies (such points are not shifted)."""
    return bool(eviltransform.outOfChina(lat, lon))


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Convert one WGS84 point to GCJ-02, (lon, lat) in and out."""
    glat, glon = eviltransform.wgs2gcj(lat, lon)
    return float(glon), float(glat)


def gcj02_to_wgs84(lon: float, lat: float, *, exact: bool = True) -> tuple[float, float]:
    """Convert one GCJ-02 point back to WGS84, (lon, lat). ``exact`` iterates to about 0.1 m;
    otherwise a single-step inverse accurate to a few metres is used."""
    wlat, wlon = eviltransform.gcj2wgs_exact(lat, lon) if exact else eviltransform.gcj2wgs(lat, lon)
    return float(wlon), float(wlat)


def _out_of_china_many(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    return ~((lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271))


def _delta_many(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(dlon, dlat) in degrees of the GCJ-02 offset at WGS84 (lon, lat), same formula as eviltransform."""
    x = lon - 105.0
    y = lat - 35.0
    x_pi = x * np.pi
    y_pi = y * np.pi
    d = 20.0 * np.sin(6.0 * x_pi) + 20.0 * np.sin(2.0 * x_pi)
    # the grouping of the additions follows eviltransform so that results agree to the last bits
    dlat = d + (20.0 * np.sin(y_pi) + 40.0 * np.sin(y_pi / 3.0))
    dlon = d + (20.0 * np.sin(x_pi) + 40.0 * np.sin(x_pi / 3.0))
    dlat = dlat + (160.0 * np.sin(y_pi / 12.0) + 320 * np.sin(y_pi / 30.0))
    dlon = dlon + (150.0 * np.sin(x_pi / 12.0) + 300.0 * np.sin(x_pi / 30.0))
    dlat = dlat * (2.0 / 3.0)
    dlon = dlon * (2.0 / 3.0)
    abs_x = np.sqrt(np.abs(x))
    xy = x * y
    dlat = dlat + (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * xy + 0.2 * abs_x)
    dlon = dlon + (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * xy + 0.1 * abs_x)
    rad_lat = lat / 180.0 * np.pi
    magic = np.sin(rad_lat)
    magic = 1 - _EE * magic * magic
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02_many(lons: ArrayLike, lats: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vectorised :func:`wgs84_to_gcj02`: arrays of WGS84 lon/lat to GCJ-02 lon/lat arrays."""
    lon = np.asarray(lons, dtype=np.float64)
    lat = np.asarray(lats, dtype=np.float64)
    lon, lat = np.broadcast_arrays(lon, lat)
    dlon, dlat = _delta_many(lon, lat)
    outside = _out_of_china_many(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def gcj02_to_wgs84_many(
    lons: ArrayLike, lats: ArrayLike, *, iterations: int = 4
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vectorised inverse by fixed-point iteration (w ← g − δ(w)); 4 iterations reach well under 1 mm."""
    glon = np.asarray(lons, dtype=np.float64)
    glat = np.asarray(lats, dtype=np.float64)
    glon, glat = np.broadcast_arrays(glon, glat)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(iterations):
        dlon, dlat = _delta_many(wlon, wlat)
        wlon, wlat = glon - dlon, glat - dlat
    outside = _out_of_china_many(glon, glat)
    return np.where(outside, glon, wlon), np.where(outside, glat, wlat)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two points (either datum; GCJ-02 offsets cancel at city scale)."""
    rlat1, rlat2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = rlat2 - rlat1, math.radians(lon2 - lon1)
    h = math.sin(dlat / 2) ** 2 + math.cos(rlat1) * math.cos(rlat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))
