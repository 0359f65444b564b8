"""Benchmark of the point → grid locator against a bare shapely STRtree query.

Run: ``.venv/bin/python bench/locator_bench.py [--points 1000000] [--repeat 3] [--calls 20000]``

Builds (or loads from ``var/cache``) the generated city profile, draws deterministic random GCJ-02
points over the city's bounding box (90 % inside the city, 10 % anywhere in the box) and reports:

(a) baseline: ``STRtree.query(points, predicate="intersects")`` over the grid polygons, with the shapely
    points already created (and, for information, including their creation from coordinate arrays);
(b) ``Locator.locate_many(lons, lats)`` from coordinate arrays, its ratio to (a) and its throughput;
(c) single-point ``Locator.locate`` latency, p50/p99.

Throughputs are the best of ``--repeat`` runs. The script always exits 0: it reports, it does not gate.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
try:
    import liaocheng  # noqa: F401
except ImportError:
    sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import shapely  # noqa: E402

from liaocheng.geo.locator import Locator  # noqa: E402
from liaocheng.geo.profile import load_profile  # noqa: E402

T = TypeVar("T")

GOAL_RATIO = 1.5
GOAL_THROUGHPUT = 500_000.0
GOAL_P99_MS = 0.2


def best_of(repeat: int, fn: Callable[[], T]) -> tuple[float, T]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def make_points(city: shapely.Geometry, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n deterministic points: 90 % inside the city polygon, the rest uniform over its bounding box."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = city.bounds
    shapely.prepare(city)
    n_in = int(n * 0.9)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    have = 0
    while have < n_in:
        x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
        keep = shapely.contains_xy(city, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        have += int(keep.sum())
    x_in, y_in = np.concatenate(xs)[:n_in], np.concatenate(ys)[:n_in]
    x_any, y_any = rng.uniform(minx, maxx, n - n_in), rng.uniform(miny, maxy, n - n_in)
    order = rng.permutation(n)
    return np.concatenate([x_in, x_any])[order], np.concatenate([y_in, y_any])[order]


def lowest_hit(n: int, pairs: np.ndarray) -> np.ndarray:
    out = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(out, pairs[0], pairs[1])
    out[out == np.iinfo(np.int64).max] = -1
    return out


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "var" / "cache")
    args = parser.parse_args()

    t0 = time.perf_counter()
    profile = load_profile(cache_dir=args.cache_dir)
    t_profile = time.perf_counter() - t0
    city = next(d.geometry for d in profile.divisions if d.level == "city")
    assert city is not None
    geoms = np.array([g.geometry for g in profile.grids], dtype=object)

    t0 = time.perf_counter()
    locator = Locator.from_profile(profile)
    t_locator = time.perf_counter() - t0
    tree = shapely.STRtree(geoms)  # a separate, unprepared tree for the bare baseline

    n = args.points
    lons, lats = make_points(city, n, args.seed)
    t_points, points = best_of(args.repeat, lambda: shapely.points(lons, lats))

    # (a) baseline
    t_base, pairs = best_of(args.repeat, lambda: tree.query(points, predicate="intersects"))
    # (b) locator
    t_many, indices = best_of(args.repeat, lambda: locator.locate_many(lons, lats))
    agree = bool(np.array_equal(indices, lowest_hit(n, pairs)))
    inside = int((indices >= 0).sum())

    # (c) single-point latency
    calls = min(args.calls, n)
    for i in range(min(1_000, calls)):  # warm-up
        locator.locate(float(lons[i]), float(lats[i]))
    lat_ns = np.empty(calls, dtype=np.int64)
    for i in range(calls):
        x, y = float(lons[i]), float(lats[i])
        start = time.perf_counter_ns()
        locator.locate(x, y)
        lat_ns[i] = time.perf_counter_ns() - start
    p50_ms = float(np.percentile(lat_ns, 50)) / 1e6
    p99_ms = float(np.percentile(lat_ns, 99)) / 1e6

    rate_base = n / t_base
    rate_base_e2e = n / (t_base + t_points)
    rate_many = n / t_many
    ratio = t_many / t_base

    print(f"profile: {len(profile.grids):,} grids, digest {profile.digest[:12]}, loaded in {t_profile:.2f} s")
    print(f"locator built in {t_locator:.2f} s; {n:,} points ({inside:,} inside a grid), best of {args.repeat}")
    print(f"locate_many agrees with the STRtree baseline (lowest index on ties): {'yes' if agree else 'NO'}")
    print()
    rows = [
        ("(a) STRtree.query(points, 'intersects')", f"{rate_base:,.0f} pts/s", f"{t_base:.3f} s", "baseline", ""),
        (
            "    same + shapely.points() creation",
            f"{rate_base_e2e:,.0f} pts/s",
            f"{t_base + t_points:.3f} s",
            "info",
            "",
        ),
        (
            "(b) Locator.locate_many / baseline",
            f"{ratio:.2f}x",
            f"{t_many:.3f} s",
            f"<= {GOAL_RATIO}x",
            verdict(ratio <= GOAL_RATIO),
        ),
        (
            "(b) Locator.locate_many throughput",
            f"{rate_many:,.0f} pts/s",
            "",
            f">= {GOAL_THROUGHPUT:,.0f} pts/s",
            verdict(rate_many >= GOAL_THROUGHPUT),
        ),
        (f"(c) Locator.locate p50 ({calls:,} calls)", f"{p50_ms * 1000:.1f} us", "", "info", ""),
        (
            f"(c) Locator.locate p99 ({calls:,} calls)",
            f"{p99_ms * 1000:.1f} us",
            "",
            f"< {GOAL_P99_MS * 1000:.0f} us",
            verdict(p99_ms < GOAL_P99_MS),
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    header = ("measure", "value", "time", "goal", "result")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
