"""The start command end to end, as a person runs it: `liaocheng demo --no-serve` twice on a scratch
SQLite database, then `liaocheng serve` answering /healthz with its worker alive."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from liaocheng.core.demo import DEMO_ACCOUNTS

ROOT = Path(__file__).resolve().parents[4]


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIAOCHENG_", "DJANGO_", "PYTEST"))}
    env.update({
        "LIAOCHENG_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{var_dir / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "liaocheng.settings",
        # a small sample keeps the suite fast; the full demo size is exercised by the start command
        "LIAOCHENG_DEMO_RESIDENTS": "3000",
        "LIAOCHENG_DEMO_ENTITIES": "300",
        "LIAOCHENG_DEMO_CASES": "500",
        "LIAOCHENG_DEMO_DOCUMENTS": "300",
        "LIAOCHENG_DEMO_COMPONENTS": "300",
        "LIAOCHENG_DEMO_INCIDENTS": "300",
        "LIAOCHENG_DEMO_APPLICATIONS": "300",
    })
    return env


def _cli(env: dict[str, str], *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "liaocheng.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    var_dir = tmp_path_factory.mktemp("var")
    cache = ROOT / "var" / "cache"
    if cache.exists():  # reuse the generated profile instead of generating it again
        (var_dir / "cache").symlink_to(cache)
    return var_dir


@pytest.fixture(scope="module")
def first_demo(demo_dir: Path) -> subprocess.CompletedProcess[str]:
    """The first `liaocheng demo --no-serve` on an empty data directory (once per test worker)."""
    return _cli(_env(demo_dir), "demo", "--no-serve")


def test_demo_twice_is_idempotent_and_prints_accounts(demo_dir: Path, first_demo) -> None:
    env = _env(demo_dir)
    first = first_demo
    assert first.returncode == 0, first.stderr
    assert "guanxian_clerk" in first.stdout and "http://127.0.0.1:8000/" in first.stdout
    second = _cli(env, "demo", "--no-serve")
    assert second.returncode == 0, second.stderr
    assert "already loaded" in second.stdout
    verify = _cli(env, "audit", "verify")
    assert verify.returncode == 0 and "chain intact" in verify.stdout
    script = (
        "from liaocheng.geo.models import Division, Grid; from liaocheng.core.models import User; "
        "from liaocheng.registry.models import Person, LegalEntity; "
        "print(*(m.objects.count() for m in (Division, Grid, Person, LegalEntity)), "
        "User.objects.exclude(username__regex=r'^demo_(applicant|window)_').count(), "
        "User.objects.filter(username__startswith='demo_applicant_').count())"
    )
    counts = _cli(env, "shell", "-c", script)
    divisions, grids, persons, entities, users, applicants = map(
        int, counts.stdout.strip().splitlines()[-1].split())
    # the demo accounts, and the service hall's year of cases from its own pool of applicants
    assert divisions == 1 + 9 + 135 + 6451 and grids > 20000 and users == len(DEMO_ACCOUNTS) and applicants > 0
    assert (persons, entities) == (3000, 300)
    cases = _cli(env, "shell", "-c", "from liaocheng.urban.models import Case; print(Case.objects.count())")
    assert int(cases.stdout.strip().splitlines()[-1]) == 500


def test_serve_answers_health_with_a_live_worker(demo_dir: Path, first_demo) -> None:
    assert first_demo.returncode == 0, first_demo.stderr
    env = _env(demo_dir)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "liaocheng.cli", "serve", "--port", str(port)], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, body = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    body = json.loads(resp.read())
                if body.get("worker_last_seen_seconds") is not None:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert body is not None, "web server did not answer"
        assert body["status"] == "ok" and body["database"] == "ok"
        assert body["worker_last_seen_seconds"] is not None and body["worker_last_seen_seconds"] < 60
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/geo/locate?lon=115.985&lat=36.457",
                                    timeout=5) as resp:
            located = json.loads(resp.read())
        assert located["county_code"] == "371502" and located["county_name"] == "东昌府区"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
