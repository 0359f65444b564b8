"""Benchmark of granted-record reads through the exchange API under concurrent load.

Run: ``.venv/bin/python bench/exchange_bench.py [--clients 50] [--seconds 9] [--conn-max-age 600]``

On a scratch SQLite database (a temporary ``LIAOCHENG_VAR_DIR``) it migrates, registers a synthetic
``DataProvider`` ("bench.people", records computed from the key, so the provider costs next to nothing),
synchronises the catalogue and, through the real services, gives a consumer system a grant on three
fields (one personal, masked). It then starts ``liaocheng serve --no-worker --port P --threads 50`` in a
subprocess (the same command, run with the synthetic provider registered first) and drives it from
``--clients`` threads, each with its own keep-alive ``http.client`` connection, on loopback only:

(a) baseline: ``GET /healthz`` (one database query) for ``--seconds``;
(b) ``GET /exchange/r1/bench.people/records/<random key>``: token check, grant lookup, provider read,
    masking, and the signed, hash-chained exchange-log append (a serialised write) for ``--seconds``.

It prints requests per second and p50/p99 latency for both, then stops the server and verifies the
exchange log written under load (chain and every SM2 signature). Figures only; it always exits 0.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
try:
    import liaocheng  # noqa: F401
except ImportError:
    sys.path.insert(0, str(ROOT / "src"))

RESOURCE = "bench.people"
CLIENT = "bench-client"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def key_for(n: int) -> str:
    """The n-th synthetic person's key: an 18-digit, ID-number-like string."""
    return f"371502{n:012d}"


class SyntheticPeople:
    """A DataProvider whose records are computed from their key (no storage)."""

    def __init__(self, records: int) -> None:
        from liaocheng.core.providers import FieldSpec, ResourceSpec

        self.records = records
        self.spec = ResourceSpec(
            code=RESOURCE, name_zh="基准测试人口", name_en="Benchmark people", description="synthetic",
            owner_department_kind="public_security", key_field="id_number",
            fields=(FieldSpec("id_number", "身份证号", "ID number", personal="id_number"),
                    FieldSpec("name", "姓名", "name", personal="name"),
                    FieldSpec("status", "状态", "status"), FieldSpec("division", "区划", "division")),
            update_frequency="daily", default_sharing="conditional",
        )

    def _record(self, n: int) -> dict[str, Any]:
        return {"id_number": key_for(n), "name": SURNAMES[n % len(SURNAMES)] + "测试",
                "status": "正常" if n % 50 else "死亡", "division": "3715" + f"{2 + n % 8:02d}"}

    def get(self, key: str, fields: Sequence[str]) -> dict[str, Any] | None:
        if len(key) != 18 or not key.startswith("371502") or not key.isdigit() or int(key[6:]) >= self.records:
            return None
        n = int(key[6:])
        record = self._record(n)
        return {f: record[f] for f in fields}

    def query(self, fields: Sequence[str], filters: Mapping[str, str], limit: int, offset: int
              ) -> tuple[int, list[dict[str, Any]]]:
        rows = [self._record(n) for n in range(offset, min(offset + limit, self.records))]
        return self.records, [{f: r[f] for f in fields} for r in rows]

    def changes(self, after: int, limit: int) -> list[Any]:
        return []


def _register(records: int) -> None:
    from liaocheng.core import providers

    providers.register(SyntheticPeople(records))


# --- child processes ----------------------------------------------------------------------------------

def child_setup(records: int) -> None:
    """Migrated scratch database -> catalogue, staff, a consumer system with a grant. Prints the token."""
    _register(records)
    import django

    django.setup()
    from liaocheng.core import services as core_services
    from liaocheng.core.models import Department, Role, RoleGrant, User
    from liaocheng.exchange import services

    core_services.ensure_builtin_roles()
    core_services.ensure_departments()
    services.sync_catalogue()
    officers = {}
    for username, dept in (("bench_owner", "371500-public_security"),
                           ("bench_consumer", "371500-human_resources_social_security")):
        user = User.objects.create(username=username, kind="staff", real_name=username,
                                   department=Department.objects.get(code=dept))
        RoleGrant.objects.create(user=user, role=Role.objects.get(code="data_sharing_officer"), scope_division="371500")
        officers[username] = user
    system, token = services.create_consumer_system(
        acting_user=officers["bench_consumer"], department=officers["bench_consumer"].department, code=CLIENT,
        name="benchmark client")
    resource = services.get_resource(RESOURCE)
    app = services.apply_for_fields(acting_user=officers["bench_consumer"], consumer=system, resource=resource,
                                    fields=["name", "status", "division"], purpose="benchmark", legal_basis="none")
    services.decide_application(acting_user=officers["bench_owner"], application=app, decisions={
        f: services.FieldDecision(approve=True) for f in ("name", "status", "division")})
    print(json.dumps({"token": token}))


def child_serve(records: int, port: int, threads: int) -> None:
    _register(records)
    from liaocheng.cli import main

    main(["serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)])


# --- load -------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not come up")


def run_load(port: int, clients: int, seconds: float, path_for: Any, headers: dict[str, str]
             ) -> tuple[list[float], dict[int, int], float]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[dict[int, int]] = [{} for _ in range(clients)]
    start_barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(i: int) -> None:
        rng = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start_barrier.wait()
        lat, stat = latencies[i], statuses[i]
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at[0]:
                break
            try:
                conn.request("GET", path_for(rng), headers=headers)
                response = conn.getresponse()
                response.read()
                code = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                code = 0
            lat.append(time.perf_counter() - t0)
            stat[code] = stat.get(code, 0) + 1
        conn.close()

    workers = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for w in workers:
        w.start()
    begin = time.perf_counter()
    stop_at[0] = begin + seconds
    start_barrier.wait()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - begin
    merged: dict[int, int] = {}
    for s in statuses:
        for k, v in s.items():
            merged[k] = merged.get(k, 0) + v
    return sorted(x for lat in latencies for x in lat), merged, elapsed


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def report(label: str, values: list[float], statuses: dict[int, int], elapsed: float) -> float:
    ok = statuses.get(200, 0)
    rate = ok / elapsed
    print(f"{label:<44} {rate:9.1f} req/s   p50 {_pct(values, 0.50):7.2f} ms   p99 {_pct(values, 0.99):7.2f} ms"
          f"   ({sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))})")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--threads", type=int, default=50, help="waitress threads")
    parser.add_argument("--seconds", type=float, default=9.0, help="per phase (two phases)")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--conn-max-age", type=int, default=None,
                        help="LIAOCHENG_CONN_MAX_AGE for the server (default: as configured, 0 = a connection per"
                             " request)")
    parser.add_argument("--child-setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_setup:
        child_setup(args.records)
        return
    if args.child_serve:
        child_serve(args.records, args.child_serve, args.threads)
        return

    scratch = Path(tempfile.mkdtemp(prefix="liaocheng-exchange-bench-"))
    env = {**os.environ, "LIAOCHENG_VAR_DIR": str(scratch), "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
           "DJANGO_SETTINGS_MODULE": "liaocheng.settings", "LIAOCHENG_DEBUG": "0", "LIAOCHENG_LOG_LEVEL": "WARNING",
           "LIAOCHENG_BROKER_URL": f"sqlite:///{scratch / 'tasks.sqlite3'}"}
    for name in ("LIAOCHENG_ENV", "LIAOCHENG_SIGNING_KEY"):
        env.pop(name, None)
    if args.conn_max_age is not None:
        env["LIAOCHENG_CONN_MAX_AGE"] = str(args.conn_max_age)
    server = None
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "liaocheng.cli", "migrate", "-v0"], env=env, check=True, cwd=scratch)
        out = subprocess.run([sys.executable, __file__, "--child-setup", "--records", str(args.records)], env=env,
                             check=True, cwd=scratch, capture_output=True, text=True).stdout
        token = json.loads(out.strip().splitlines()[-1])["token"]
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, __file__, "--child-serve", str(port), "--records", str(args.records), "--threads",
             str(args.threads)], env=env, cwd=scratch, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        _wait_ready(port)
        print(f"setup (migrate, catalogue, grant, server start): {time.perf_counter() - t0:.1f} s; "
              f"{args.clients} clients, waitress {args.threads} threads, {args.seconds:.0f} s per phase, "
              f"{os.cpu_count()} CPUs, SQLite (WAL), LIAOCHENG_CONN_MAX_AGE={env.get('LIAOCHENG_CONN_MAX_AGE', '0')}")
        headers = {"Authorization": f"Bearer {token}", "X-Road-Client": CLIENT, "X-Road-UserId": "bench-user"}
        sample = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        sample.request("GET", f"/exchange/r1/{RESOURCE}/records/{key_for(7)}", headers=headers)
        body = json.loads(sample.getresponse().read())
        print(f"sample answer: {json.dumps(body['record'], ensure_ascii=False)} (masked: {body['masked']})")
        sample.close()

        def healthz(rng: random.Random) -> str:
            return "/healthz"

        keys = min(args.records, 10_000)

        def record(rng: random.Random) -> str:
            return f"/exchange/r1/{RESOURCE}/records/{key_for(rng.randrange(keys))}"

        run_load(port, args.clients, 1.0, healthz, {})  # warm-up (connections, imports, caches)
        base = report("(a) baseline GET /healthz", *run_load(port, args.clients, args.seconds, healthz, {}))
        run_load(port, args.clients, 1.0, record, headers)
        reads = report("(b) granted-record read (logged + signed)",
                       *run_load(port, args.clients, args.seconds, record, headers))
        print(f"ratio (b)/(a): {reads / base:.2f}")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
    try:
        t1 = time.perf_counter()
        check = subprocess.run([sys.executable, "-m", "liaocheng.cli", "exchange_verify"], env=env, cwd=scratch,
                               capture_output=True, text=True)
        print(f"exchange_verify after the run ({time.perf_counter() - t1:.1f} s): "
              f"{(check.stdout or check.stderr).strip().splitlines()[-1]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
