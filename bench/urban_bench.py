"""Benchmarks of issue 4 (grid urban management) with a year of historical cases in the database.

Run: ``.venv/bin/python bench/urban_bench.py [--backend sqlite|postgres|both] [--cases 1000000] [--intake 2000]
[--runs 5] [--month 2026-10] [--keep] [--refill]``

Data: ``--cases`` historical cases over the 365 days up to 2026-11-25 in all 8 counties, made by the demo's
generator (``urban.demo``: weighted classes and grids, points inside their grids, working-hour timestamps, the
responsible departments, returns, rework, cases not filed, warnings and escalations with their supervisions,
the most recent cases still open). They are written in batches of 20,000 cases with plain ``executemany``
(SQLite) or ``COPY`` (PostgreSQL), one transaction and one audit record per batch: the rows that
``services.import_historical_cases`` would write through the ORM (several times slower at this size); a forked
process generates while the other writes. The fill time is printed. The filled SQLite file is cached as
``var/cache/urban-bench-<cases>.sqlite3`` (reruns skip the fill; ``--refill`` rebuilds it); on PostgreSQL
(``BENCH_PG_SERVER``, default ``postgres://postgres@127.0.0.1:5432``) the filled database
``liaocheng_bench_urban_<cases>`` is kept with ``--keep`` and reused. Each run migrates the filled database to
the current schema and works on a copy of it (a file in a temporary ``LIAOCHENG_VAR_DIR``; the scratch
PostgreSQL database ``liaocheng_bench``, created from it as a template), in child processes. Cases are stored in
generation order, not by date (a month's cases are spread over the whole table: no help from locality).

1. Intake: for ``--intake`` deterministic random points inside the city (grids and classes weighted as in the
   demo), ``services.report_case(channel="supervisor")`` by a city-wide supervisor followed by
   ``services.transition(case, "file")`` by a city-wide intake clerk: the whole write path (locator, scope
   check, routing, numbering, event, audit chain, duplicate search). Sequential, one process, after 20
   untimed warm-up reports; reports/s and p50/p99 latency of report+file. Baseline in the same run: the same
   points on an empty case table (0 historical cases).
2. Evaluation: ``evaluation.evaluate`` for one month (``--month``) grouped by department, county, township and
   grid, as a city-wide user (``urban_admin`` at 371500, so the scope filter applies): first run, then best and
   median of ``--runs``; goal < 2 s. Baseline: a bare ``SELECT COUNT(*)`` of the cases reported in that month,
   and of the rows the report reads (any of its five dates in the month).

Figures only; it always exits 0.
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
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

TODAY = dt.date(2026, 11, 25)  # the last day of the generated year (fixed: the data is the same every run)
SEED = 7
FILL_BATCH = 20_000
WARMUP = 20
GOAL_EVAL_S = 2.0
CITY = "371500"
GROUPINGS = ("department", "county", "township", "grid")
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
PG_RUN_DB = "liaocheng_bench"
PG_EMPTY_DB = "liaocheng_bench_empty"
USERS = {  # username: (role, department)
    "bench_supervisor": ("urban_supervisor", "371500-urban_management"),
    "bench_intake": ("urban_intake", "371500-urban_management"),
    "bench_eval": ("urban_admin", "371500-urban_management"),
}


def _env(var_dir: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIAOCHENG_", "DJANGO_"))}
    env.update({"LIAOCHENG_VAR_DIR": str(var_dir), "DATABASE_URL": db_url,
                "DJANGO_SETTINGS_MODULE": "liaocheng.settings", "LIAOCHENG_DEBUG": "false",
                "LIAOCHENG_LOG_LEVEL": "WARNING", "LIAOCHENG_BROKER_URL": f"sqlite:///{var_dir / 'tasks.sqlite3'}"})
    return env


def _var_dir(work: Path) -> Path:
    var = work / "var"
    var.mkdir(parents=True, exist_ok=True)
    cache = ROOT / "var" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    if not (var / "cache").exists():
        (var / "cache").symlink_to(cache)
    return var


def run_child(mode: str, work: Path, db_url: str, *extra: str) -> dict[str, Any]:
    """Run one step in a fresh process configured for ``db_url``; its last stdout line is JSON."""
    proc = subprocess.run([sys.executable, __file__, "--child", mode, *extra], env=_env(_var_dir(work), db_url),
                          stdout=subprocess.PIPE, text=True, check=False, cwd=work)
    if proc.returncode != 0:
        raise RuntimeError(f"child {mode} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- child processes (Django) -----------------------------------------------------------------------------

def child_setup() -> dict[str, Any]:
    """Migrate, base data (roles, departments, city profile, urban classes) and the benchmark users."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from liaocheng.core import services as core_services
    from liaocheng.core.models import Department, Role, RoleGrant, User
    from liaocheng.geo import services as geo_services
    from liaocheng.geo.models import ProfileLoad
    from liaocheng.geo.profile import load_profile
    from liaocheng.urban import services

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    core_services.ensure_builtin_roles()
    core_services.ensure_departments()
    if not ProfileLoad.objects.exists():
        geo_services.load_city_profile(load_profile(Path(settings.VAR_DIR) / "cache"))
    services.load_classes()
    for username, (role, dept) in USERS.items():
        user, _ = User.objects.get_or_create(username=username, defaults={
            "kind": "staff", "real_name": username, "department": Department.objects.get(code=dept)})
        RoleGrant.objects.get_or_create(user=user, role=Role.objects.get(code=role), scope_division=CITY)
    return {"seconds": time.perf_counter() - started}


def _row_maker(model: Any, vendor: str) -> tuple[list[str], Any]:
    """Column names of ``model`` and a function turning an instance into the row the ORM would insert."""
    from operator import attrgetter

    from django.db import models

    fields = list(model._meta.concrete_fields)
    getter = attrgetter(*[f.attname for f in fields])
    utc = dt.UTC

    def sqlite_datetime(value: dt.datetime) -> str:  # as Django's SQLite backend stores it (UTC, naive, ' ')
        return str(value.astimezone(utc).replace(tzinfo=None))

    convs: list[tuple[int, Any]] = []
    for i, f in enumerate(fields):
        if isinstance(f, models.DateTimeField) and vendor == "sqlite":
            convs.append((i, sqlite_datetime))
        elif isinstance(f, models.JSONField):
            convs.append((i, json.dumps))
        elif f.choices:
            convs.append((i, str))  # TextChoices members as plain strings (their value)

    def row(obj: Any) -> tuple[Any, ...]:
        values = list(getter(obj))
        for i, conv in convs:
            if values[i] is not None:
                values[i] = conv(values[i])
        return tuple(values)

    return [f.column for f in fields], row


def _produce(gen: Any, picks: list[int], start: dt.date, count: int, next_ids: list[int], rows: Any,
             out: Any) -> None:
    """Generator process: the demo's cases batch by batch, as rows with their ids, into the ``out`` queue."""
    case_id, event_id, sup_id = next_ids
    case_row, event_row, sup_row = rows
    generate_s = 0.0
    for first in range(0, count, FILL_BATCH):
        t = time.perf_counter()
        batch = [gen.make(i + 1, picks[i], start, 365) for i in range(first, min(first + FILL_BATCH, count))]
        cases, events, sups = [], [], []
        for h in batch:
            h.case.id = case_id
            case_id += 1
            cases.append(case_row(h.case))
            for event in h.events:
                event.id, event.case_id = event_id, h.case.id
                event_id += 1
                events.append(event_row(event))
            if h.supervision is not None:
                h.supervision.id, h.supervision.case_id = sup_id, h.case.id
                sup_id += 1
                sups.append(sup_row(h.supervision))
        generate_s += time.perf_counter() - t
        out.put((cases, events, sups, f"{batch[0].case.number}..{batch[-1].case.number}"))
    out.put(generate_s)


def child_fill(count: int, seed: int) -> dict[str, Any]:
    """The demo's year of cases (``urban.demo`` generator), bulk-written with executemany / COPY.

    Two processes: a forked generator process makes the cases and their rows, this one writes them, so
    generating and writing overlap. Same cases, ids and order as a sequential fill."""
    import dataclasses
    import multiprocessing
    import random

    import django

    django.setup()
    from django.db import connection, connections, transaction

    from liaocheng.core import audit
    from liaocheng.core.calendar import get_calendar
    from liaocheng.core.errors import NotFound
    from liaocheng.urban import demo
    from liaocheng.urban.models import Case, CaseEvent, Supervision

    vendor = connection.vendor
    started = time.perf_counter()
    # as demo.ensure_demo_cases: a fixed "now", every working day decided once
    cal = get_calendar()
    now = dt.datetime.combine(TODAY, dt.time(16, 0), cal.tz)
    start = TODAY - dt.timedelta(days=364)
    days = (start + dt.timedelta(days=i) for i in range(-7, 365 + 120))
    cal = dataclasses.replace(cal, overrides={day: cal.is_workday(day) for day in days} | cal.overrides)
    gen = demo._Generator(random.Random(seed), now, cal)
    picks = gen.pick_grids(count)
    # everything the generator would read from the database later, read now (the forked process must not);
    # with a throwaway random source, so that the cases stay those of a sequential fill
    rng, gen.rng = gen.rng, random.Random(0)
    for county in sorted({g[1] for g in gen.grids}):
        for minor in gen.minors:
            with contextlib.suppress(NotFound):
                gen.wrong_department(county, gen.department(minor, county))
    gen.rng = rng
    tables = {m: (m._meta.db_table, *_row_maker(m, vendor)) for m in (Case, CaseEvent, Supervision)}
    with connection.cursor() as cur:
        next_ids = []
        for table, _cols, _row in tables.values():
            cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            next_ids.append(cur.fetchone()[0] + 1)
    connections.close_all()  # no connection shared with the forked process

    ctx = multiprocessing.get_context("fork")
    queue: Any = ctx.Queue(maxsize=3)
    producer = ctx.Process(target=_produce, args=(gen, picks, start, count, next_ids,
                                                  [row for _t, _c, row in tables.values()], queue), daemon=True)
    producer.start()
    with connection.cursor() as cur:
        if vendor == "sqlite":
            cur.execute("PRAGMA cache_size=-1000000")  # 1 GB page cache for the index inserts of the fill
        else:
            cur.execute("SET synchronous_commit TO off")

    def write(cur: Any, model: Any, rows: list[tuple[Any, ...]]) -> None:
        table, cols, _row = tables[model]
        if vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
        else:
            insert = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"  # noqa: S608
            cur.executemany(insert, rows)

    totals = {"cases": 0, "events": 0, "supervisions": 0}
    write_s = 0.0
    while True:
        item = queue.get()
        if not isinstance(item, tuple):
            generate_s = float(item)
            break
        cases, events, sups, numbers = item
        t = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            write(cur, Case, cases)
            write(cur, CaseEvent, events)
            if sups:
                write(cur, Supervision, sups)
            audit.record(actor=demo.ACTOR, action="urban.import_history", object_type="urban.Case",
                         object_id=numbers,
                         after={"cases": len(cases), "events": len(events), "supervisions": len(sups)},
                         division_code=CITY)
        write_s += time.perf_counter() - t
        for key, n in (("cases", len(cases)), ("events", len(events)), ("supervisions", len(sups))):
            totals[key] += n
        if totals["cases"] % 100_000 == 0 or totals["cases"] == count:
            print(f"  fill: {totals['cases']:,} cases, {totals['events']:,} events "
                  f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    producer.join()
    t = time.perf_counter()
    with connection.cursor() as cur:
        if vendor == "postgresql":
            for table, _cols, _row in tables.values():
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
            # the state autovacuum reaches after a bulk load (statistics, visibility map)
            cur.execute("VACUUM (ANALYZE) urban_case, urban_caseevent, urban_supervision")
        else:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {**totals, "seconds": time.perf_counter() - started, "generate_seconds": generate_s,
            "write_seconds": write_s, "finish_seconds": time.perf_counter() - t}


def _intake_points(n: int, seed: int) -> list[tuple[str, float, float]]:
    """``n`` (class code, lon, lat): grids weighted as in the demo (urban x3), a random point inside."""
    import itertools
    import random

    import shapely

    from liaocheng.geo.models import Grid
    from liaocheng.urban import demo
    from liaocheng.urban.models import MinorClass

    rng = random.Random(seed)
    grids = list(Grid.objects.order_by("code").values_list("code", "size_class", "minx", "maxx", "miny", "maxy"))
    weights = list(itertools.accumulate(3.0 if g[1] == "urban" else 1.0 for g in grids))
    minors = list(MinorClass.objects.filter(active=True).order_by("full_code").values_list("full_code", flat=True))
    minor_weights = list(itertools.accumulate(demo.CLASS_WEIGHTS.get(c, 1) for c in minors))
    picked = rng.choices(grids, cum_weights=weights, k=n)
    shapes = dict(Grid.objects.filter(code__in={g[0] for g in picked}).values_list("code", "geometry"))
    points = []
    for code, _size, minx, maxx, miny, maxy in picked:
        shape = shapely.from_geojson(shapes[code])
        for _ in range(10):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(shape, x, y):
                break
        else:
            p = shape.representative_point()
            x, y = float(p.x), float(p.y)
        points.append((rng.choices(minors, cum_weights=minor_weights)[0], x, y))
    return points


def child_intake(n: int, seed: int) -> dict[str, Any]:
    import django

    django.setup()
    from liaocheng.core.models import User
    from liaocheng.urban import services
    from liaocheng.urban.models import Case

    supervisor = User.objects.get(username="bench_supervisor")
    clerk = User.objects.get(username="bench_intake")
    historical = Case.objects.filter(number__startswith="DM").count()
    points = _intake_points(WARMUP + n, seed)
    total, report, filing = [], [], []
    duplicates = 0
    began = 0.0
    for i, (code, lon, lat) in enumerate(points):
        if i == WARMUP:
            began = time.perf_counter()
        t0 = time.perf_counter()
        result = services.report_case(acting_user=supervisor, channel="supervisor", class_code=code, lon=lon,
                                      lat=lat, description=f"基准测试上报 {i}：{code}", address="基准测试地址")
        t1 = time.perf_counter()
        services.transition(result.case, "file", acting_user=clerk)
        t2 = time.perf_counter()
        if i >= WARMUP:
            total.append(t2 - t0)
            report.append(t1 - t0)
            filing.append(t2 - t1)
            duplicates += bool(result.duplicates)
    elapsed = time.perf_counter() - began
    return {"historical": historical, "n": n, "elapsed": elapsed, "total": total, "report": report,
            "file": filing, "with_duplicates": duplicates}


def _month(value: str) -> tuple[dt.date, dt.date]:
    year, month = (int(x) for x in value.split("-"))
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def child_evaluate(month: str, runs: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.db.models import Q

    from liaocheng.core.access import scopes_for
    from liaocheng.core.models import User
    from liaocheng.urban import evaluation
    from liaocheng.urban.models import Case

    user = User.objects.get(username="bench_eval")
    start, end = _month(month)
    lo, hi = evaluation.day_range(start, end)
    in_month = Q(reported_at__gte=lo, reported_at__lt=hi)
    any_date = Q()
    for column in ("reported_at", "filed_at", "due_at", "closed_at", "dispatched_at"):
        any_date |= Q(**{f"{column}__gte": lo, f"{column}__lt": hi})
    baselines = {}
    for name, condition in (("reported", in_month), ("read", any_date)):
        times = []
        for _ in range(runs + 1):
            t = time.perf_counter()
            rows = Case.objects.filter(condition).count()  # SELECT COUNT(*) ... WHERE
            times.append(time.perf_counter() - t)
        baselines[name] = {"rows": rows, "times": times}
    results = {}
    for group in GROUPINGS:
        times = []
        out: list[Any] = []
        for _ in range(runs + 1):
            t = time.perf_counter()
            out = evaluation.evaluate(acting_user=user, group_by=group, start=start, end=end)
            times.append(time.perf_counter() - t)
        table_rows = [(r.key, r.label, r.received, r.filed, r.due, r.closed, r.closed_on_time, r.dispatched,
                       r.correct_dispatched, r.rework, r.overdue, r.avg_handling_hours) for r in out]
        sums = {k: sum(getattr(r, k) for r in out) for k in ("received", "filed", "due", "closed", "closed_on_time",
                                                             "dispatched", "correct_dispatched", "overdue")}
        digest = hashlib.sha256(json.dumps(table_rows, ensure_ascii=False).encode()).hexdigest()[:12]
        results[group] = {"times": times, "rows": len(out), "sums": sums, "digest": digest}
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            names = ("server_version", "shared_buffers", "work_mem", "max_parallel_workers_per_gather")
            server = ", ".join(f"{n} {cur.execute(f'SHOW {n}').fetchone()[0]}" for n in names)
        else:
            server = f"SQLite {cur.execute('SELECT sqlite_version()').fetchone()[0]}, no ANALYZE statistics"
    return {"start": start.isoformat(), "end": end.isoformat(), "scopes": scopes_for(user, "urban.view_cases"),
            "server": server,
            "baselines": baselines, "results": results, "cases": Case.objects.count()}


# --- scratch databases ---------------------------------------------------------------------------------------

def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _pg_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _sqlite_files(path: Path) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")]


def filled_database(backend: str, work: Path, cases: int, refill: bool) -> tuple[str, dict[str, Any] | None]:
    """The URL of the filled database (filling it first if needed) and the fill figures (None: reused)."""
    if backend == "sqlite":
        cached = ROOT / "var" / "cache" / f"urban-bench-{cases}.sqlite3"
        if refill:
            for f in _sqlite_files(cached):
                f.unlink(missing_ok=True)
        if cached.exists():
            run_child("setup", work, f"sqlite:///{cached}")  # migrate a cache made before a schema change
            return f"sqlite:///{cached}", None
        partial = work / f"filling-{cases}.sqlite3"
        url = f"sqlite:///{partial}"
    else:
        name = f"liaocheng_bench_urban_{cases}"
        if refill:
            _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if _pg_exists(name):
            run_child("setup", work, f"{PG_SERVER}/{name}")
            return f"{PG_SERVER}/{name}", None
        _pg(f'DROP DATABASE IF EXISTS "{name}_filling" WITH (FORCE)')
        _pg(f'CREATE DATABASE "{name}_filling"')
        url = f"{PG_SERVER}/{name}_filling"
    t = time.perf_counter()
    setup = run_child("setup", work, url)
    fill = run_child("fill", work, url, "--cases", str(cases))
    fill["setup_seconds"] = setup["seconds"]
    fill["wall_seconds"] = time.perf_counter() - t
    if backend == "sqlite":
        with sqlite3.connect(partial) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        shutil.move(partial, cached)
        for f in _sqlite_files(partial)[1:]:
            f.unlink(missing_ok=True)
        return f"sqlite:///{cached}", fill
    _pg(f'ALTER DATABASE "{name}_filling" RENAME TO "{name}"')
    return f"{PG_SERVER}/{name}", fill


def copy_database(backend: str, work: Path, source_url: str) -> str:
    if backend == "sqlite":
        target = work / "run.sqlite3"
        shutil.copyfile(source_url.removeprefix("sqlite:///"), target)
        return f"sqlite:///{target}"
    source = source_url.rsplit("/", 1)[1]
    _pg(f'DROP DATABASE IF EXISTS "{PG_RUN_DB}" WITH (FORCE)')
    _pg(f'CREATE DATABASE "{PG_RUN_DB}" TEMPLATE "{source}" STRATEGY FILE_COPY')
    return f"{PG_SERVER}/{PG_RUN_DB}"


def empty_database(backend: str, work: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{work / 'empty.sqlite3'}"
    _pg(f'DROP DATABASE IF EXISTS "{PG_EMPTY_DB}" WITH (FORCE)')
    _pg(f'CREATE DATABASE "{PG_EMPTY_DB}"')
    return f"{PG_SERVER}/{PG_EMPTY_DB}"


# --- the run ---------------------------------------------------------------------------------------------------

def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def _load() -> str:
    """The machine's 1-minute load average (other processes share the 2 cores; figures vary with it)."""
    return f"load average {os.getloadavg()[0]:.2f}"


def print_intake(label: str, res: dict[str, Any]) -> float:
    rate = res["n"] / res["elapsed"] if res["elapsed"] else 0.0
    print(f"  {label:<34} {rate:7.1f} reports/s   p50 {_ms(res['total'], 0.5):6.2f} ms   "
          f"p99 {_ms(res['total'], 0.99):6.2f} ms   (report p50 {_ms(res['report'], 0.5):.2f} / p99 "
          f"{_ms(res['report'], 0.99):.2f} ms, file p50 {_ms(res['file'], 0.5):.2f} / p99 {_ms(res['file'], 0.99):.2f}"
          f" ms; {res['with_duplicates']} with duplicates offered)")
    return rate


def print_evaluation(res: dict[str, Any], runs: int) -> None:
    print(f"evaluation {res['start']}..{res['end']} as a city-wide user (urban.view_cases scopes {res['scopes']}: "
          f"grid_code prefix filter), {res['cases']:,} cases in the table; first run, then best / median of {runs};"
          f" {_load()}")
    print(f"  ({res['server']})")
    for name, label in (("reported", "SELECT COUNT(*) reported in the month"),
                        ("read", "SELECT COUNT(*) any of the 5 dates in month")):
        b = res["baselines"][name]
        rest = b["times"][1:]
        print(f"  baseline {label:<42} first {b['times'][0]:6.3f} s   best {min(rest):6.3f} s   median "
              f"{statistics.median(rest):6.3f} s   ({b['rows']:,} cases)")
    for group, r in res["results"].items():
        rest = r["times"][1:]
        median = statistics.median(rest)
        s = r["sums"]
        on_time = 100.0 * s["closed_on_time"] / s["due"] if s["due"] else float("nan")
        verdict = "PASS" if median < GOAL_EVAL_S else "MISS"
        print(f"  evaluate group_by={group:<10}          first {r['times'][0]:6.3f} s   best {min(rest):6.3f} s   "
              f"median {median:6.3f} s   goal < {GOAL_EVAL_S:.0f} s {verdict}   ({r['rows']:,} rows; received "
              f"{s['received']:,}, filed {s['filed']:,}, due {s['due']:,}, closed {s['closed']:,}, on time "
              f"{on_time:.1f} %, overdue {s['overdue']:,}; digest {r['digest']})")


def bench_backend(backend: str, args: argparse.Namespace, work: Path) -> None:
    label = "SQLite (WAL)" if backend == "sqlite" else "PostgreSQL"
    print(f"\n== {label}: {args.cases:,} historical cases", flush=True)
    source_url, fill = filled_database(backend, work, args.cases, args.refill)
    if fill is None:
        print(f"  filled database reused: {source_url.rsplit('/', 1)[-1]} (fill time not measured in this run)")
    else:
        print(f"  fill: {fill['cases']:,} cases, {fill['events']:,} events, {fill['supervisions']:,} supervisions in "
              f"{fill['wall_seconds']:.1f} s (setup {fill['setup_seconds']:.1f} s; generating process "
              f"{fill['generate_seconds']:.1f} s, writing {fill['write_seconds']:.1f} s, overlapped; finish "
              f"{fill['finish_seconds']:.1f} s) = {fill['cases'] / fill['seconds']:,.0f} cases/s")
    try:
        empty_url = empty_database(backend, work)
        run_child("setup", work, empty_url)
        t = time.perf_counter()
        run_url = copy_database(backend, work, source_url)
        print(f"  scratch copy of the filled database: {time.perf_counter() - t:.1f} s", flush=True)
        print(f"intake (report_case + transition 'file'), {args.intake:,} reports after {WARMUP} warm-up, sequential,"
              f" one process; {_load()}")
        base = run_child("intake", work, empty_url, "--intake", str(args.intake))
        base_rate = print_intake(f"{base['historical']:,} historical cases (baseline)", base)
        full = run_child("intake", work, run_url, "--intake", str(args.intake))
        full_rate = print_intake(f"{full['historical']:,} historical cases", full)
        if base_rate:
            print(f"  throughput with/without history: {full_rate / base_rate:.2f}x;  p99 "
                  f"{_ms(full['total'], 0.99) / _ms(base['total'], 0.99):.2f}x", flush=True)
        res = run_child("evaluate", work, run_url, "--month", args.month, "--runs", str(args.runs))
        print_evaluation(res, args.runs)
    finally:
        if backend == "postgres":
            _pg(f'DROP DATABASE IF EXISTS "{PG_RUN_DB}" WITH (FORCE)')
            _pg(f'DROP DATABASE IF EXISTS "{PG_EMPTY_DB}" WITH (FORCE)')
            if not args.keep:
                _pg(f'DROP DATABASE IF EXISTS "liaocheng_bench_urban_{args.cases}" WITH (FORCE)')
        else:
            for name in ("run.sqlite3", "empty.sqlite3"):
                for f in _sqlite_files(work / name):
                    f.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--intake", type=int, default=2000, help="timed reports per database")
    parser.add_argument("--runs", type=int, default=5, help="timed evaluation runs per grouping (after a first one)")
    parser.add_argument("--month", default="2026-10", help="evaluated month, YYYY-MM (data: 2025-11-26..2026-11-25)")
    parser.add_argument("--keep", action="store_true", help="keep the filled PostgreSQL database for the next run")
    parser.add_argument("--refill", action="store_true", help="fill again instead of reusing a filled database")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        if args.child == "setup":
            out = child_setup()
        elif args.child == "fill":
            out = child_fill(args.cases, SEED)
        elif args.child == "intake":
            out = child_intake(args.intake, SEED)
        else:
            out = child_evaluate(args.month, args.runs)
        print(json.dumps(out))
        return

    _month(args.month)
    work = Path(tempfile.mkdtemp(prefix="liaocheng-urban-bench-"))
    print(f"urban benchmark: {args.cases:,} historical cases (demo generator, year up to {TODAY}), {args.intake:,} "
          f"intake reports, evaluation of {args.month}; {os.cpu_count()} CPUs; work dir {work}")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    try:
        for backend in backends:
            try:
                bench_backend(backend, args, work)
            except Exception as exc:
                print(f"\n== {backend}: FAILED: {exc}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
