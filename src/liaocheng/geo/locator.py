"""Point → unit grid (单元网格) locator, in memory and without Django.

Input coordinates are longitude/latitude in **GCJ-02**, the datum of the city profile (convert GPS/WGS84
input with :func:`liaocheng.geo.datum.wgs84_to_gcj02` first). The grids themselves are generated, see
:mod:`liaocheng.geo.profile`.

Index. ``shapely.STRtree.query`` needs one shapely Point per input, and creating a million Point objects
costs about as much as the query itself. :meth:`Locator.locate_many` therefore uses a flat bin index in
numpy (a regular lattice of small bins, each listing the geometries whose bounding box touches it, in CSR
form) and tests the candidates with ``shapely.intersects_xy`` on prepared geometries, straight from the
coordinate arrays. The STRtree is still built (``Locator.tree``) for bounding-box queries by callers.

Tie-break. A point on an edge shared by two grids intersects both; it is given to the one with the
lowest index (``from_profile`` orders grids by code), in both :meth:`locate` and :meth:`locate_many`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

if TYPE_CHECKING:
    from .profile import CityProfile

# The bin lattice is sized from the geometries (half the 10th-percentile bbox side), within these caps.
MAX_BINS = 4_000_000
MAX_ENTRIES = 30_000_000
_NO_HIT = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Location:
    grid_code: str
    community_code: str
    township_code: str
    county_code: str

    @classmethod
    def from_grid_code(cls, code: str) -> Location:
        return cls(grid_code=code, community_code=code[:12], township_code=code[:9], county_code=code[:6])


class Locator:
    """Find the unit grid holding a GCJ-02 (lon, lat) point; ``None``/-1 means outside every grid."""

    def __init__(self, codes: Sequence[str], geometries: Sequence[BaseGeometry]) -> None:
        if len(codes) != len(geometries):
            raise ValueError(f"{len(codes)} codes for {len(geometries)} geometries")
        self.codes: NDArray[np.str_] = np.asarray(list(codes), dtype=np.str_)
        self._codes_or_blank = np.append(self.codes, np.str_(""))  # index -1 -> ''
        self.geometries: NDArray[np.object_] = np.empty(len(geometries), dtype=object)
        self.geometries[:] = list(geometries)
        shapely.prepare(self.geometries)
        self.tree = shapely.STRtree(self.geometries)
        self._build_bins()

    @classmethod
    def from_profile(cls, profile: CityProfile) -> Locator:
        return cls([g.code for g in profile.grids], [g.geometry for g in profile.grids])

    # ----------------------------------------------------------------------------------------------
    def _build_bins(self) -> None:
        n = len(self.geometries)
        bounds = shapely.bounds(self.geometries) if n else np.empty((0, 4))
        valid = np.flatnonzero(np.isfinite(bounds).all(axis=1))
        b = bounds[valid]
        if len(b) == 0:
            self._x0 = self._y0 = 0.0
            self._bw = self._bh = 1.0
            self._nx = self._ny = 0
            self._offsets = np.zeros(1, dtype=np.int64)
            self._entries = np.zeros(0, dtype=np.int64)
            return
        x0, y0 = float(b[:, 0].min()), float(b[:, 1].min())
        span_x = max(float(b[:, 2].max()) - x0, 1e-9)
        span_y = max(float(b[:, 3].max()) - y0, 1e-9)
        w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        bw = max(float(np.quantile(w, 0.1)) / 2, span_x / 1e6, 1e-9)
        bh = max(float(np.quantile(h, 0.1)) / 2, span_y / 1e6, 1e-9)
        while True:
            nx, ny = math.floor(span_x / bw) + 1, math.floor(span_y / bh) + 1
            i0 = np.floor((b[:, 0] - x0) / bw).astype(np.int64)
            i1 = np.floor((b[:, 2] - x0) / bw).astype(np.int64)
            j0 = np.floor((b[:, 1] - y0) / bh).astype(np.int64)
            j1 = np.floor((b[:, 3] - y0) / bh).astype(np.int64)
            ni, nj = i1 - i0 + 1, j1 - j0 + 1
            per_geom = ni * nj
            if nx * ny <= MAX_BINS and int(per_geom.sum()) <= MAX_ENTRIES:
                break
            bw, bh = bw * 1.5, bh * 1.5
        # expand every bbox into the bins it covers; entries of a bin keep ascending geometry order
        g = np.repeat(np.arange(len(b)), per_geom)
        k = np.arange(len(g)) - np.repeat(np.cumsum(per_geom) - per_geom, per_geom)
        bins = (j0[g] + k // ni[g]) * nx + (i0[g] + k % ni[g])
        order = np.argsort(bins, kind="stable")
        self._entries = valid[g[order]].astype(np.int64)
        self._offsets = np.zeros(nx * ny + 1, dtype=np.int64)
        np.cumsum(np.bincount(bins, minlength=nx * ny), out=self._offsets[1:])
        self._x0, self._y0, self._bw, self._bh, self._nx, self._ny = x0, y0, bw, bh, nx, ny

    def _bin_of(self, lon: float, lat: float) -> int:
        fi = math.floor((lon - self._x0) / self._bw) if math.isfinite(lon) else -1
        fj = math.floor((lat - self._y0) / self._bh) if math.isfinite(lat) else -1
        if 0 <= fi < self._nx and 0 <= fj < self._ny:
            return fj * self._nx + fi
        return -1

    # ----------------------------------------------------------------------------------------------
    def locate_index(self, lon: float, lat: float) -> int:
        """Index of the grid holding (lon, lat) (lowest index on shared edges), -1 when outside."""
        b = self._bin_of(float(lon), float(lat))
        if b < 0:
            return -1
        for i in self._entries[self._offsets[b] : self._offsets[b + 1]]:
            if shapely.intersects_xy(self.geometries[i], lon, lat):
                return int(i)
        return -1

    def locate(self, lon: float, lat: float) -> Location | None:
        """The grid, community, township and county of a GCJ-02 point; ``None`` outside Liaocheng."""
        i = self.locate_index(lon, lat)
        return None if i < 0 else Location.from_grid_code(str(self.codes[i]))

    def locate_many(self, lons: ArrayLike, lats: ArrayLike) -> NDArray[np.int64]:
        """Vectorised :meth:`locate_index`: one grid index per point, -1 outside. No Python loop per point."""
        x = np.asarray(lons, dtype=np.float64).ravel()
        y = np.asarray(lats, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("lons and lats differ in length")
        n = len(x)
        out = np.full(n, -1, dtype=np.int64)
        if n == 0 or self._nx == 0:
            return out
        with np.errstate(invalid="ignore"):
            fi = np.floor((x - self._x0) / self._bw)
            fj = np.floor((y - self._y0) / self._bh)
            inside = (fi >= 0) & (fi < self._nx) & (fj >= 0) & (fj < self._ny)
        pts = np.flatnonzero(inside)
        bins = fj[pts].astype(np.int64) * self._nx + fi[pts].astype(np.int64)
        start = self._offsets[bins]
        count = self._offsets[bins + 1] - start
        # candidate pairs (point, geometry) from the CSR lists
        pair_pt = np.repeat(pts, count)
        pair_k = np.arange(len(pair_pt)) - np.repeat(np.cumsum(count) - count, count)
        pair_geom = self._entries[np.repeat(start, count) + pair_k]
        hit = shapely.intersects_xy(self.geometries[pair_geom], x[pair_pt], y[pair_pt])
        best = np.full(n, _NO_HIT, dtype=np.int64)
        np.minimum.at(best, pair_pt[hit], pair_geom[hit])
        found = best != _NO_HIT
        out[found] = best[found]
        return out

    def codes_for(self, indices: ArrayLike) -> NDArray[np.str_]:
        """Grid codes for indices from :meth:`locate_many` ('' for -1)."""
        idx = np.asarray(indices, dtype=np.int64)
        return self._codes_or_blank[np.where(idx < 0, len(self.codes), idx)]
