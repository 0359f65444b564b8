"""Benchmark of the population import against a plain bulk insert of the same rows.

Run: ``.venv/bin/python bench/import_bench.py [--rows 6000000] [--backend sqlite|postgres|both] [--keep DIR]``

1. Generates a synthetic residents file (``registry.generator``; the time is reported).
2. For each backend, on a scratch database (an SQLite file; a scratch PostgreSQL database created and dropped
   on ``DATABASE_URL``'s server, default ``postgres://postgres@127.0.0.1:5432``): a setup process migrates and
   loads the city profile, then a *separate* child process runs the real import service
   (``registry.importers.run_import``: parsing, validation, SM4 encryption, blind indexes, locating, insert,
   outbox, audit) and reports its wall time and its peak RSS (``resource.getrusage`` of itself and of its
   worker processes, which tracemalloc could not see).
3. Baseline, in the same run: the very rows the import wrote (read back untimed) inserted into a table of
   the same shape (same columns and indexes) with plain ``sqlite3`` ``executemany`` — on PostgreSQL with
   ``COPY`` — in batches of the same size, one commit per batch.

Goals: import within 3x the baseline's time; peak memory of the import < 1 GiB. Always exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
try:
    import liaocheng  # noqa: F401
except ImportError:
    sys.path.insert(0, str(ROOT / "src"))

GOAL_RATIO = 3.0
GOAL_RSS_MIB = 1024.0
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")


def _env(var_dir: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIAOCHENG_", "DJANGO_"))}
    env.update({"LIAOCHENG_VAR_DIR": str(var_dir), "DATABASE_URL": db_url,
                "DJANGO_SETTINGS_MODULE": "liaocheng.settings", "LIAOCHENG_DEBUG": "false"})
    return env


def _var_dir(work: Path) -> Path:
    var = work / "var"
    var.mkdir(parents=True, exist_ok=True)
    cache = ROOT / "var" / "cache"
    if cache.exists() and not (var / "cache").exists():
        (var / "cache").symlink_to(cache)
    return var


def run_child(mode: str, work: Path, db_url: str, *extra: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", mode, "--work", str(work), "--db-url", db_url,
                           *extra], env=_env(_var_dir(work), db_url), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child {mode} failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- child processes (Django) -----------------------------------------------------------------------------

def child_setup() -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from liaocheng.core import services as core_services
    from liaocheng.geo import services as geo_services
    from liaocheng.geo.profile import load_profile

    for app in ("core", "geo", "registry"):
        call_command("migrate", app, interactive=False, verbosity=0)
    core_services.ensure_builtin_roles()
    core_services.ensure_departments()
    geo_services.load_city_profile(load_profile(Path(settings.VAR_DIR) / "cache"))
    return {"ok": True}


def child_import(path: str, batch_size: int, workers: int | None) -> dict[str, Any]:
    import django

    django.setup()
    from liaocheng.registry import importers, services

    started = time.perf_counter()
    job = importers.run_import("population", path, acting_user=services.SYSTEM,
                               source_department="371500-public_security", batch_size=batch_size, workers=workers)
    seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "rows": job.rows_committed, "status": job.status, "errors": job.error_count,
            "rss_mib": own, "worker_rss_mib": kids, "columns": ["id", *importers.PERSON_INSERT_COLUMNS]}


# --- baselines (no Django) ----------------------------------------------------------------------------------

def sqlite_baseline(db_file: Path, batch_size: int, cols: list[str]) -> float:
    """Plain sqlite3 executemany of the rows the import wrote into a copy of the table's shape."""
    src = sqlite3.connect(db_file, isolation_level=None)
    dst = sqlite3.connect(db_file, isolation_level=None)
    # the same connection settings as the platform's (settings: WAL, synchronous=NORMAL)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=NORMAL")
    ddl = [r[0] for r in src.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'registry_person' AND sql IS NOT"
                                     " NULL ORDER BY type DESC")]
    dst.execute("DROP TABLE IF EXISTS bench_person")
    for stmt in ddl:
        stmt = stmt.replace('"registry_person"', '"bench_person"').replace("registry_person", "bench_person")
        stmt = stmt.replace('INDEX "person_', 'INDEX "bench_person_')
        for name in ("person_hukou", "person_community", "person_grid", "person_phone"):
            stmt = stmt.replace(f'INDEX "{name}"', f'INDEX "bench_{name}"')
        dst.execute(stmt)
    collist = ", ".join(f'"{c}"' for c in cols)
    insert = f'INSERT INTO bench_person ({collist}) VALUES ({", ".join("?" * len(cols))})'  # noqa: S608
    # read back in id ranges with short statements: a read transaction held open would keep the WAL from
    # being checkpointed and make the baseline slower than it is
    select = f"SELECT {collist} FROM registry_person WHERE id > ? ORDER BY id LIMIT ?"  # noqa: S608
    total = 0.0
    last = 0
    while True:
        rows = src.execute(select, (last, batch_size)).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        t = time.perf_counter()
        dst.execute("BEGIN IMMEDIATE")
        dst.executemany(insert, rows)
        dst.execute("COMMIT")
        total += time.perf_counter() - t
    dst.execute("DROP TABLE bench_person")
    src.close()
    dst.close()
    return total


def pg_baseline(db_url: str, batch_size: int, cols: list[str]) -> float:
    """COPY of the rows the import wrote into ``CREATE TABLE ... (LIKE registry_person INCLUDING ALL)``."""
    import psycopg

    collist = ", ".join(cols)
    total = 0.0
    with psycopg.connect(db_url) as src, psycopg.connect(db_url) as dst:
        dst.execute("DROP TABLE IF EXISTS bench_person")
        dst.execute("CREATE TABLE bench_person (LIKE registry_person INCLUDING ALL)")
        dst.commit()
        with src.cursor(name="bench_read") as reader:
            reader.itersize = batch_size
            reader.execute(f"SELECT {collist} FROM registry_person ORDER BY id")  # noqa: S608
            jsonb = [i for i, c in enumerate(cols) if c == "changed_fields"]
            while True:
                rows = reader.fetchmany(batch_size)
                if not rows:
                    break
                if jsonb:  # read back as Python lists; COPY wants JSON text
                    rows = [tuple(json.dumps(v) if i in jsonb else v for i, v in enumerate(r)) for r in rows]
                t = time.perf_counter()
                with dst.cursor().copy(f"COPY bench_person ({collist}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
                dst.commit()
                total += time.perf_counter() - t
        dst.execute("DROP TABLE bench_person")
        dst.commit()
    return total


# --- the run -------------------------------------------------------------------------------------------------

def generate_file(work: Path, rows: int) -> tuple[Path, float]:
    from liaocheng.geo.profile import load_profile
    from liaocheng.registry.generator import generate_residents

    path = work / f"residents-{rows}.csv"
    if path.exists():
        return path, 0.0
    started = time.perf_counter()
    generate_residents(load_profile(ROOT / "var" / "cache"), path, rows, seed=42)
    return path, time.perf_counter() - started


def create_pg_database(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_SERVER}/{name}"


def drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_backend(backend: str, work: Path, csv_path: Path, rows: int, batch_size: int, workers: int | None,
                  keep: bool) -> dict[str, Any]:
    pg_name = f"liaocheng_bench_{os.getpid()}"
    if backend == "sqlite":
        db_file = work / f"bench-{rows}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        db_url = f"sqlite:///{db_file}"
    else:
        db_url = create_pg_database(pg_name)
    try:
        t = time.perf_counter()
        run_child("setup", work, db_url)
        setup_s = time.perf_counter() - t
        extra = ["--file", str(csv_path), "--batch-size", str(batch_size)]
        if workers is not None:
            extra += ["--workers", str(workers)]
        result = run_child("import", work, db_url, *extra)
        cols = result["columns"]
        baseline = (sqlite_baseline(db_file, batch_size, cols) if backend == "sqlite"
                    else pg_baseline(db_url, batch_size, cols))
        result.update({"backend": backend, "baseline_seconds": baseline, "setup_seconds": setup_s, "db_url": db_url})
        return result
    finally:
        if backend == "postgres" and not keep:
            drop_pg_database(pg_name)


def report(res: dict[str, Any], rows: int) -> None:
    rate = res["rows"] / res["seconds"] if res["seconds"] else 0.0
    base_rate = res["rows"] / res["baseline_seconds"] if res["baseline_seconds"] else 0.0
    ratio = res["seconds"] / res["baseline_seconds"] if res["baseline_seconds"] else float("inf")
    peak = max(res["rss_mib"], res["worker_rss_mib"])
    baseline_name = "sqlite3 executemany" if res["backend"] == "sqlite" else "COPY"
    print(f"\n== {res['backend']}: {rows:,} rows (import status {res['status']}, {res['rows']:,} committed, "
          f"{res['errors']} errors; setup {res['setup_seconds']:.1f} s untimed)")
    print(f"  import (validate + SM4 + HMAC-SM3 + locate + insert): {res['seconds']:8.1f} s  {rate:10,.0f} rows/s")
    print(f"  baseline ({baseline_name} of the same rows):       {res['baseline_seconds']:8.1f} s  {base_rate:10,.0f}"
          " rows/s")
    verdict = "PASS" if ratio <= GOAL_RATIO else "MISS"
    print(f"  ratio import/baseline {ratio:.2f}x   goal <= {GOAL_RATIO:.0f}x   {verdict}")
    print(f"  peak RSS: import process {res['rss_mib']:.0f} MiB, worker processes {res['worker_rss_mib']:.0f} MiB   "
          f"goal < {GOAL_RSS_MIB:.0f} MiB   {'PASS' if peak < GOAL_RSS_MIB else 'MISS'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=6_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=None, help="import worker processes (default: automatic)")
    parser.add_argument("--work", default=None, help="working directory (kept; default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch PostgreSQL database")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--file", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        out = child_setup() if args.child == "setup" else child_import(args.file, args.batch_size, args.workers)
        print(json.dumps(out))
        return

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="liaocheng-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"import benchmark: {args.rows:,} residents, batch {args.batch_size:,}, work dir {work}")
    csv_path, gen_s = generate_file(work, args.rows)
    size = csv_path.stat().st_size / 2**20
    print(f"generated {csv_path.name}: {size:,.0f} MiB in {gen_s:.1f} s"
          + (f" ({args.rows / gen_s:,.0f} rows/s)" if gen_s else " (reused)"))
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        try:
            res = bench_backend(backend, work, csv_path, args.rows, args.batch_size, args.workers, args.keep)
        except Exception as exc:
            print(f"\n== {backend}: FAILED: {exc}")
            continue
        report(res, args.rows)


if __name__ == "__main__":
    main()
