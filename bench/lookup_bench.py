"""Benchmark of the exact lookup of a person by ID number, through the service, with N rows loaded.

Run: ``.venv/bin/python bench/lookup_bench.py [--rows 6000000] [--lookups 20000] [--backend sqlite|postgres]``

Loads N synthetic residents with the real import (or reuses the database of an earlier run of this script or
of ``import_bench.py --work DIR``: pass the same ``--work DIR``), then calls
``registry.services.find_person(acting_user=<a county clerk>, id_number=...)`` in-process — blind index
(HMAC-SM3), indexed query, SM4 decryption, scope and masking checks — for random people and reports p50 and
p99 latency, against the goal p99 < 2 ms. A baseline in the same run: the bare indexed ``SELECT`` by blind
index with the raw DB-API cursor. Always exits 0.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
try:
    import liaocheng  # noqa: F401
except ImportError:
    sys.path.insert(0, str(ROOT / "src"))

import import_bench  # noqa: E402

GOAL_P99_MS = 2.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(lookups: int, seed: int) -> None:
    import django

    django.setup()
    from django.db import connection

    from liaocheng.core.crypto import blind_index
    from liaocheng.core.departments import department_code
    from liaocheng.core.models import Department, Role, RoleGrant, User
    from liaocheng.registry import services
    from liaocheng.registry.models import Person

    total = Person.objects.count()
    max_id = Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rnd = random.Random(seed)
    sample_ids = rnd.sample(range(1, max_id + 1), min(lookups, max_id))
    numbers: list[str] = []
    for i in range(0, len(sample_ids), 5000):
        numbers += [p.id_number for p in Person.objects.filter(pk__in=sample_ids[i: i + 5000]).only("id_number")]
    rnd.shuffle(numbers)
    # a city-wide clerk of public security with the right to see personal data (the slowest path: unmasked)
    user, _ = User.objects.get_or_create(username="bench_clerk", defaults={
        "kind": "staff", "real_name": "基准测试", "department": Department.objects.get(
            code=department_code("371500", "public_security"))})
    for role in ("registry_clerk", "data_admin"):
        RoleGrant.objects.get_or_create(user=user, role=Role.objects.get(code=role), scope_division="371500")

    def lookup(n: str) -> None:
        data = services.find_person(acting_user=user, id_number=n)
        assert data["id_number"] == n

    for n in numbers[:500]:  # warm-up: caches, grants, connection
        lookup(n)
    times: list[float] = []
    for n in numbers:
        t = time.perf_counter_ns()
        lookup(n)
        times.append((time.perf_counter_ns() - t) / 1e6)
    raw = connection.cursor().cursor
    table = "registry_person"
    placeholder = "%s" if connection.vendor == "postgresql" else "?"
    base: list[float] = []
    sql = f"SELECT id, id_number, name, phone FROM {table} WHERE id_number_bidx = {placeholder}"  # noqa: S608
    keys = [blind_index("id_number", n) for n in numbers]
    for k in keys:
        t = time.perf_counter_ns()
        raw.execute(sql, [k])
        raw.fetchall()
        base.append((time.perf_counter_ns() - t) / 1e6)
    p50, p99 = _percentile(times, 0.50), _percentile(times, 0.99)
    print(f"\n== {connection.vendor}: {total:,} persons loaded, {len(times):,} lookups of random people")
    print(f"  find_person (blind index + query + decrypt + scope + masking): p50 {p50:.3f} ms   p99 {p99:.3f} ms"
          f"   mean {statistics.fmean(times):.3f} ms   max {max(times):.2f} ms")
    print(f"  baseline (bare indexed SELECT by blind index, DB-API):        p50 {_percentile(base, 0.5):.3f} ms"
          f"   p99 {_percentile(base, 0.99):.3f} ms")
    print(f"  goal p99 < {GOAL_P99_MS} ms   {'PASS' if p99 < GOAL_P99_MS else 'MISS'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=6_000_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--work", default=None, help="working directory holding (or receiving) the loaded database")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.lookups, args.seed)
        return
    work = Path(args.work or Path(tempfile.gettempdir()) / f"liaocheng-bench-{args.rows}")
    work.mkdir(parents=True, exist_ok=True)
    print(f"lookup benchmark: {args.rows:,} residents on {args.backend}, work dir {work}")
    if args.backend == "sqlite":
        db_file = work / f"bench-{args.rows}.sqlite3"
        db_url = f"sqlite:///{db_file}"
        loaded = db_file.exists()
    else:
        name = f"liaocheng_lookup_{args.rows}"
        db_url = f"{import_bench.PG_SERVER}/{name}"
        import psycopg

        with psycopg.connect(f"{import_bench.PG_SERVER}/postgres", autocommit=True) as conn:
            loaded = bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())
        if not loaded:
            import_bench.create_pg_database(name)
    if not loaded:
        csv_path, gen_s = import_bench.generate_file(work, args.rows)
        print(f"generated {csv_path.name} in {gen_s:.1f} s")
        import_bench.run_child("setup", work, db_url)
        t = time.perf_counter()
        res = import_bench.run_child("import", work, db_url, "--file", str(csv_path), "--batch-size", "10000")
        print(f"imported {res['rows']:,} rows in {time.perf_counter() - t:.1f} s")
    else:
        print("reusing the loaded database")
    env = import_bench._env(import_bench._var_dir(work), db_url)
    subprocess.run([sys.executable, __file__, "--child", "--lookups", str(args.lookups), "--seed", str(args.seed)],
                   env=env, check=False)


if __name__ == "__main__":
    main()
