"""Benchmark of issue 6: full-text search over 200,000 Chinese government documents, against a naive LIKE scan.

Run: ``.venv/bin/python bench/egov_search_bench.py [--documents 200000] [--queries 150] [--seed 5]
[--database-url postgres://postgres@127.0.0.1:5432/liaocheng_bench_egov] [--keep]``

On a scratch database (SQLite in a temporary ``LIAOCHENG_VAR_DIR`` by default; with ``--database-url`` a PostgreSQL
database that is dropped and created again, or with ``--keep`` reused as the last run left it: the fill then only
tops it up, which saves the ~5 minutes of writing 200,000 documents) it migrates, loads the departments and writes
``--documents`` documents with the demo generator (``egov.disclosure_demo.ensure_demo_documents``: bulk rows plus
their bigram index rows, batches of 5,000; the fill time is printed). Then it samples ``--queries`` words that occur
*inside sentences* of public documents' bodies (a random position inside a run of Chinese characters, 40 % two
characters, 30 % three, 30 % four) and for each word measures

(a) ``search.search_documents(word)``: the public search (first page of 20, total count, highlighted
    snippets): p50 / p95 / max latency; goal p95 < 100 ms. On SQLite words found in more than
    ``search.RANK_LIMIT`` documents are answered newest first; on PostgreSQL words found in more than
    ``search.PG_EXACT_COUNT`` documents get an estimated total ("约 N 条") and only the newest
    ``search.PG_RANK_CANDIDATES`` matches are ranked (the share of such words and the estimates' error
    against (b) are printed);
(b) the baseline in the same run: the naive scan ``title LIKE '%word%' OR body LIKE '%word%'`` over the public
    documents (all matching ids): p50 / p95 latency;
(c) recall of the index against (b) as ground truth: |index ∩ LIKE| / |LIKE| over every match
    (``search.matching_ids(word, limit=None)``), and precision (the index also covers document numbers).

Figures only; it always exits 0.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
try:
    import liaocheng  # noqa: F401
except ImportError:
    sys.path.insert(0, str(ROOT / "src"))


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def _recreate_postgres(url: str, keep: bool = False) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    server = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as conn:
        if keep and conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _sample_words(count: int, seed: int) -> list[str]:
    from liaocheng.egov import search

    rng = random.Random(seed)
    ids = list(search.public_documents().values_list("pk", flat=True))
    words: list[str] = []
    while len(words) < count:
        doc = search.public_documents().only("body").get(pk=rng.choice(ids))
        cjk = [r for r in search.runs(doc.body) if len(r) >= 6 and not any(c.isdigit() for c in r)]
        if not cjk:
            continue
        length = rng.choices([2, 3, 4], [4, 3, 3])[0]
        run = rng.choice(cjk)
        start = rng.randrange(1, len(run) - length)  # inside the sentence, not at its start
        words.append(run[start:start + length])
    return words


def _timed(fn: Any, *args: Any, **kw: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn(*args, **kw)
    return (time.perf_counter() - t) * 1000, out


def run(documents: int, queries: int, seed: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from liaocheng.core import services as core_services
    from liaocheng.egov import search
    from liaocheng.egov.disclosure_demo import ensure_demo_documents

    engine = "PostgreSQL" if connection.vendor == "postgresql" else f"SQLite {__import__('sqlite3').sqlite_version}"
    print(f"engine: {engine}; documents: {documents:,}; queries: {queries}")
    call_command("migrate", interactive=False, verbosity=0)
    core_services.ensure_builtin_roles()
    core_services.ensure_departments()

    t = time.perf_counter()
    made = ensure_demo_documents(documents)
    fill = time.perf_counter() - t
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    public = search.public_documents().count()
    chars = sum(len(b) for b in search.public_documents().values_list("body", flat=True)[:2000]) / 2000
    print(f"fill: {made:,} documents (+ index rows) in {fill:.1f} s ({made / max(fill, 1e-9):,.0f} docs/s); "
          f"{public:,} public; body ~{chars:.0f} characters")

    words = _sample_words(queries, seed)
    for w in words[:5]:  # warm-up (page cache, statement caches), untimed
        search.search_documents(w)
    search_ms, like_ms, recalls, precisions, totals, errors = [], [], [], [], [], []
    per_len: dict[int, list[float]] = {2: [], 3: [], 4: []}
    for w in words:
        ms, result = _timed(search.search_documents, w)
        search_ms.append(ms)
        per_len[len(w)].append(ms)
        lms, truth_list = _timed(search.like_scan_ids, w)
        like_ms.append(lms)
        truth = set(truth_list)
        totals.append(len(truth))
        if not result.exact:
            errors.append(abs(result.total - len(truth)) / max(len(truth), 1))
        found = {i for i, _ in search.matching_ids(w, limit=None)[0]}
        recalls.append(len(found & truth) / len(truth) if truth else 1.0)
        precisions.append(len(found & truth) / len(found) if found else 1.0)

    print(f"query words: {len(words)} (2 chars: {len(per_len[2])}, 3: {len(per_len[3])}, 4: {len(per_len[4])}); "
          f"examples: {', '.join(words[:8])}")
    print(f"matches per word: median {statistics.median(totals):,.0f}, max {max(totals):,}")
    if errors:
        print(f"    estimated totals (约 N): {len(errors)} of {len(words)} words; error vs (b): median "
              f"{statistics.median(errors):.1%}, max {max(errors):.1%}")
    print(f"(a) search_documents (page of 20 + total + snippets): p50 {_pct(search_ms, 50):.1f} ms, "
          f"p95 {_pct(search_ms, 95):.1f} ms, max {max(search_ms):.1f} ms  (goal p95 < 100 ms: "
          f"{'met' if _pct(search_ms, 95) < 100 else 'NOT met'})")
    for n, values in per_len.items():
        if values:
            print(f"    {n}-character words: p50 {_pct(values, 50):.1f} ms, p95 {_pct(values, 95):.1f} ms")
    print(f"(b) baseline LIKE '%word%' scan (all matches): p50 {_pct(like_ms, 50):.1f} ms, "
          f"p95 {_pct(like_ms, 95):.1f} ms  (p50 ratio LIKE/index: "
          f"{_pct(like_ms, 50) / max(_pct(search_ms, 50), 1e-9):.1f}x)")
    print(f"(c) recall vs LIKE ground truth: mean {statistics.mean(recalls):.4f}, min {min(recalls):.4f}; "
          f"precision mean {statistics.mean(precisions):.4f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", action="store_true",
                        help="PostgreSQL: reuse the database of the last run instead of dropping it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="egov-search-bench-") as tmp:
        os.environ["LIAOCHENG_VAR_DIR"] = tmp
        os.environ["DJANGO_SETTINGS_MODULE"] = "liaocheng.settings"
        if args.database_url:
            _recreate_postgres(args.database_url, args.keep)
            os.environ["DATABASE_URL"] = args.database_url
        else:
            os.environ["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        try:
            run(args.documents, args.queries, args.seed)
        except Exception as exc:  # report, do not gate
            print(f"benchmark failed: {exc!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
