"""Benchmark of issue 6 (e-government service hall): electronic supervision sweep over 100,000 open cases.

Run: ``.venv/bin/python bench/egov_supervision_bench.py [--cases 100000] [--runs 3]``

Data: a scratch SQLite database in a temporary ``LIAOCHENG_VAR_DIR`` (migrated, built-in departments), one
published service item per county and department kind used, and ``--cases`` open cases received over the 70
calendar days up to the sweep moment (2026-11-25 10:00, a Wednesday), each with its application and two
steps: 10 % waiting (not accepted), 10 % in correction, 65 % in review, 15 % approved and not issued; promised
deadlines of 5–20 working days from acceptance (``core.calendar``), the first step done or active, the second
pending or active with its own deadline. Bulk-created through the ORM in batches of 5,000 (fill time printed).

Measured (``supervision.sweep(now=...)``):

1. the first sweep, which writes every card due (warning, yellow, red, step overdue, acceptance delayed),
   set-based: one query per card kind, bulk inserts of 2,000 per division with one audit record per batch;
2. a second sweep at the same moment (idempotent: nothing to write, only the queries);
3. a sweep one day later (the incremental case: a day's new cards);
best and median of ``--runs`` for the idempotent sweep. Baseline in the same run: a bare
``SELECT COUNT(*)`` over the open cases (the least any sweep must read).

Figures only; it always exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
try:
    import liaocheng  # noqa: F401
except ImportError:
    sys.path.insert(0, str(ROOT / "src"))

CHILD = "EGOV_SUPERVISION_BENCH_CHILD"
SEED = 6
BATCH = 5000
COUNTIES = ("371502", "371503", "371521", "371522", "371524", "371525", "371526", "371581")
KINDS = ("market_regulation", "administrative_approval", "health", "culture_tourism")


def timed(fn: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()  # type: ignore[operator]
    return time.perf_counter() - start, result


def child(n: int, runs: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from liaocheng.core import services as core_services
    from liaocheng.core.calendar import get_calendar
    from liaocheng.core.departments import department_code
    from liaocheng.core.models import AuditRecord, Department, User
    from liaocheng.egov import supervision
    from liaocheng.egov.models import (
        Application,
        Case,
        CaseStatus,
        CaseStep,
        ItemType,
        ServiceItem,
        StepStatus,
        SupervisionCard,
    )

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    core_services.ensure_builtin_roles()
    core_services.ensure_departments()
    t_migrate = time.perf_counter() - t0

    tz = get_calendar().tz
    now = dt.datetime(2026, 11, 25, 10, 0, tzinfo=tz)
    cal = get_calendar()
    rng = random.Random(SEED)
    item_type = ItemType.objects.create(code="XK", name="行政许可")
    items = []
    for county in COUNTIES:
        for kind in KINDS:
            dept = Department.objects.get(code=department_code(county, kind))
            items.append(ServiceItem.objects.create(
                basic_code="000105001000", code=f"{county}-{kind}", name=f"{dept.name}许可", item_type=item_type,
                level="county", department=dept, division_code=county, statutory_days=20,
                promised_days=rng.choice((5, 10, 15, 20)), result_name="许可证", status="published"))
    applicant = User.objects.create(username="bench_applicant", kind="enterprise")

    t0 = time.perf_counter()
    deadline_cache: dict[tuple[dt.date, int], dt.datetime] = {}

    def deadline(start: dt.datetime, days: int) -> dt.datetime:
        key = (start.date(), days)
        if key not in deadline_cache:
            deadline_cache[key] = cal.deadline_after_days(start, days)
        return deadline_cache[key]

    made = 0
    while made < n:
        size = min(BATCH, n - made)
        apps, cases, plan = [], [], []
        for i in range(made, made + size):
            item = items[i % len(items)]
            received = now - dt.timedelta(days=rng.uniform(0, 70))
            roll = rng.random()
            status = (CaseStatus.WAITING if roll < 0.10 else CaseStatus.CORRECTION if roll < 0.20
                      else CaseStatus.IN_REVIEW if roll < 0.85 else CaseStatus.APPROVED)
            accepted = None if status == CaseStatus.WAITING else received + dt.timedelta(hours=rng.uniform(1, 30))
            apps.append(Application(number=f"SQ{i:09d}", applicant=applicant, item=item, applicant_name="聊城演示企业",
                                    credit_code="", division_code=item.division_code, status="in_progress",
                                    created_at=received, submitted_at=received))
            cases.append(Case(number=f"BJ{i:09d}", item=item, department_id=item.department_id,
                              division_code=item.division_code, status=status, received_at=received,
                              accepted_at=accepted,
                              promised_due_at=deadline(accepted, item.promised_days) if accepted else None))
            plan.append((accepted, rng.random()))
        Application.objects.bulk_create(apps, batch_size=1000)
        for app, case in zip(apps, cases, strict=True):
            case.application = app
        Case.objects.bulk_create(cases, batch_size=1000)
        steps = []
        for case, (accepted, roll) in zip(cases, plan, strict=True):
            if accepted is None:
                steps += [CaseStep(case=case, key="review", name="审查", role="egov_reviewer", limit_days=3),
                          CaseStep(case=case, key="decide", name="决定", role="egov_approver", limit_days=2)]
                continue
            first_due = deadline(accepted, 3)
            if roll < 0.5:
                steps += [CaseStep(case=case, key="review", name="审查", role="egov_reviewer", limit_days=3,
                                   status=StepStatus.ACTIVE, started_at=accepted, due_at=first_due),
                          CaseStep(case=case, key="decide", name="决定", role="egov_approver", limit_days=2)]
            else:
                steps += [CaseStep(case=case, key="review", name="审查", role="egov_reviewer", limit_days=3,
                                   status=StepStatus.DONE, started_at=accepted, due_at=first_due,
                                   finished_at=first_due),
                          CaseStep(case=case, key="decide", name="决定", role="egov_approver", limit_days=2,
                                   status=StepStatus.ACTIVE, started_at=first_due, due_at=deadline(first_due, 2))]
        CaseStep.objects.bulk_create(steps, batch_size=2000)
        made += size
    t_fill = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("ANALYZE")

    open_q = supervision.OPEN_CASES

    def baseline() -> int:
        return Case.objects.filter(open_q).count()

    base_times = []
    for _ in range(runs):
        t, open_count = timed(baseline)
        base_times.append(t)
    audit_before = AuditRecord.objects.count()
    t_first, first = timed(lambda: supervision.sweep(now=now))
    audit_first = AuditRecord.objects.count() - audit_before
    again_times = []
    for _ in range(runs):
        t, again = timed(lambda: supervision.sweep(now=now))
        again_times.append(t)
    t_next, nxt = timed(lambda: supervision.sweep(now=now + dt.timedelta(days=1)))
    cards = SupervisionCard.objects.count()

    print(f"scratch SQLite database: migrated in {t_migrate:.1f} s; {n:,} open cases with applications and "
          f"{2 * n:,} steps filled in {t_fill:.1f} s")
    print(f"open cases: {open_count:,}; calendar: core.calendar (chinese-calendar {2026} + overrides)")
    print()
    print(f"{'measure':<58}{'time':>12}")
    label = f"baseline: SELECT COUNT(*) of open cases (best of {runs})"
    print(f"{label:<58}{min(base_times) * 1000:>9.1f} ms")
    print(f"{'first sweep (writes the cards)':<58}{t_first:>10.2f} s")
    print(f"{'second sweep, same moment (idempotent), best':<58}{min(again_times):>10.2f} s")
    print(f"{'second sweep, same moment (idempotent), median':<58}{statistics.median(again_times):>10.2f} s")
    print(f"{'sweep one day later (incremental)':<58}{t_next:>10.2f} s")
    print()
    print(f"first sweep wrote {first.total:,} cards {dict(sorted(first.created.items()))} "  # type: ignore[attr-defined]
          f"with {audit_first:,} audit records ({first.total / t_first:,.0f} cards/s)")  # type: ignore[attr-defined]
    print(f"idempotent sweep wrote {again.total} cards, resolved {again.resolved}")  # type: ignore[attr-defined]
    print(f"next-day sweep wrote {nxt.total:,} cards {dict(sorted(nxt.created.items()))}")  # type: ignore[attr-defined]
    print(f"cards in the table: {cards:,}; idempotent sweep / baseline count: "
          f"{min(again_times) / max(min(base_times), 1e-9):,.0f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if os.environ.get(CHILD):
        child(args.cases, args.runs)
        return 0
    with tempfile.TemporaryDirectory(prefix="egov-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LIAOCHENG_", "DJANGO_", "DATABASE_"))}
        env.update({CHILD: "1", "LIAOCHENG_VAR_DIR": tmp, "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                    "DJANGO_SETTINGS_MODULE": "liaocheng.settings", "LIAOCHENG_DEBUG": "false",
                    "LIAOCHENG_LOG_LEVEL": "WARNING",
                    "LIAOCHENG_BROKER_URL": f"sqlite:///{Path(tmp) / 'tasks.sqlite3'}",
                    "PYTHONPATH": str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")})
        proc = subprocess.run([sys.executable, __file__, "--cases", str(args.cases), "--runs", str(args.runs)],
                              env=env, cwd=str(ROOT), check=False)
        if proc.returncode:
            print(f"benchmark child exited with {proc.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
