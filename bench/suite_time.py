"""Test suite wall time on this machine's 2 cores (goal: under 5 minutes).

Baseline in the same run: the same pytest invocation with --collect-only (interpreter start-up, Django
set-up and collection), so the figure for the tests themselves can be read off the difference.

    .venv/bin/python bench/suite_time.py [extra pytest args]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 300.0


def timed(args: list[str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, capture_output=True, text=True,
                          env=os.environ.copy())
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    return time.perf_counter() - start, proc.returncode, tail


def main() -> None:
    extra = sys.argv[1:]
    workers = os.environ.get("LIAOCHENG_TEST_WORKERS", "2")
    base, _, base_tail = timed(["--collect-only", "-q", *extra])
    full, code, tail = timed(["-n", workers, "-q", *extra])
    print(f"{'measure':<40}{'seconds':>10}")
    print(f"{'baseline: collection only':<40}{base:>10.1f}   ({base_tail})")
    print(f"{'full suite, -n ' + workers:<40}{full:>10.1f}   ({tail})")
    print(f"{'tests alone (full - baseline)':<40}{full - base:>10.1f}")
    verdict = "PASS" if full < GOAL_SECONDS and code == 0 else "MISS"
    print(f"goal: full suite < {GOAL_SECONDS:.0f} s on {os.cpu_count()} cores -> {verdict} (pytest exit {code})")


if __name__ == "__main__":
    main()
