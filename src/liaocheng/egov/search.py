"""Chinese full-text search over published government information (政府信息公开).

Chinese has no spaces between words and no word list fits every document, so the index holds character
**bigrams**: the text is split into runs of CJK characters, digits and Latin letters (punctuation and
spaces end a run) and every run is stored as its overlapping two-character tokens, separated by spaces
("城市管理" -> "城市 市管 管理"). A query is split the same way and each run becomes a *phrase* of its
bigrams, so a match means the query's characters occur consecutively inside one run of the text: exactly a
substring match, for words of any length >= 2 (2-character words, the most common in Chinese, are a single
token; SQLite's ``trigram`` tokenizer cannot match them, which is why it is not used). Single characters are
answered by a LIKE scan (rare, and an index of single characters would cost as much as the text itself).

- SQLite: an FTS5 table ``egov_document_fts(title, body)`` (``unicode61`` tokenizer, which keeps every CJK
  character in a token), ``rowid`` = document id, ranked by ``bm25`` with the title weighted 5:1.
- PostgreSQL: a table ``egov_document_search(document_id, tsv)`` with a GIN index; ``tsv`` is
  ``to_tsvector('simple', ...)`` of the same bigram text (title weight A, body weight B), queried with
  ``<->`` phrases, ranked by ``ts_rank``; above ``PG_EXACT_COUNT`` matches the total is estimated ("约 N 条")
  and only the newest ``PG_RANK_CANDIDATES`` are ranked (``_pg_ranked`` says why).

Only what the public may see is in the index: published, not classified, not "不予公开". The disclosure
services (``egov.disclosure``) write or delete a document's index row in the same transaction as the
change (no signals); ``rebuild_index()`` rebuilds it from the table.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from liaocheng.core.errors import InvalidInput

from .models import DisclosureType, Document

FTS_TABLE = "egov_document_fts"
PG_TABLE = "egov_document_search"
TITLE_WEIGHT = 5.0
MAX_QUERY = 100
SNIPPET_CHARS = 120
RANK_LIMIT = 5_000  # SQLite: above this many matches newest first instead of relevance (see ``_matching``)
PG_EXACT_COUNT = 500  # PostgreSQL: up to this many matches an exact total and every match ranked ...
PG_RANK_CANDIDATES = 300  # ... above: an estimated total ("约 N 条"), the newest this many ranked (``_pg_ranked``)
DENSE = 0.15  # PostgreSQL: a word in this share of the documents is looked up newest first by primary key

_RUN = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


# --- tokenisation ----------------------------------------------------------------------------------

def runs(text: str) -> list[str]:
    """The runs of indexable characters (CJK, digits, Latin letters, lower-cased) in ``text``."""
    return _RUN.findall(text.lower())


def bigrams(run: str) -> list[str]:
    if len(run) < 2:
        return [run] if run else []
    return [run[i:i + 2] for i in range(len(run) - 1)]


def index_text(text: str) -> str:
    """``text`` as space-separated overlapping bigrams (what the index stores)."""
    return " ".join(" ".join(bigrams(r)) for r in runs(text))


def query_runs(q: str) -> list[str]:
    q = (q or "").strip()
    if len(q) > MAX_QUERY:
        raise InvalidInput(f"检索词不能超过 {MAX_QUERY} 个字", f"the query is longer than {MAX_QUERY} characters",
                           field="q")
    return runs(q)


def _fts5_query(parts: Sequence[str]) -> str:
    # a quoted string is one FTS5 phrase; runs only hold [0-9a-z CJK], so no quote can appear inside
    return " AND ".join('"' + " ".join(bigrams(r)) + '"' for r in parts)


def _pg_query(parts: Sequence[str]) -> str:
    return " & ".join("(" + " <-> ".join(f"'{b}'" for b in bigrams(r)) + ")" for r in parts)


# --- keeping the index in sync (called by the services inside their transaction) ------------------------

def is_public(doc: Document) -> bool:
    return (doc.published_at is not None and not doc.classified
            and doc.disclosure_type != DisclosureType.NOT_PUBLIC)


def public_documents() -> QuerySet[Document]:
    return Document.objects.filter(published_at__isnull=False, classified=False).exclude(
        disclosure_type=DisclosureType.NOT_PUBLIC)


def _rows(docs: Iterable[Document]) -> list[tuple[int, str, str]]:
    return [(d.pk, index_text(d.title + " " + d.doc_number), index_text(d.body)) for d in docs]


def _write(rows: list[tuple[int, str, str]]) -> None:
    if not rows:
        return
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.executemany(
                f"INSERT INTO {PG_TABLE} (document_id, tsv) VALUES (%s, setweight(to_tsvector('simple', %s), 'A') "  # noqa: S608
                f"|| setweight(to_tsvector('simple', %s), 'B')) ON CONFLICT (document_id) DO UPDATE "
                f"SET tsv = EXCLUDED.tsv", rows)
        else:
            cur.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(r[0],) for r in rows])  # noqa: S608
            cur.executemany(f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (%s, %s, %s)", rows)  # noqa: S608


def remove(doc_ids: Iterable[int]) -> None:
    ids = [(i,) for i in doc_ids]
    if not ids:
        return
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.executemany(f"DELETE FROM {PG_TABLE} WHERE document_id = %s", ids)  # noqa: S608
        else:
            cur.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", ids)  # noqa: S608


def sync(doc: Document) -> None:
    """Write (or delete) ``doc``'s index row to match its current state."""
    if is_public(doc):
        _write(_rows([doc]))
    else:
        remove([doc.pk])


def index_many(docs: Iterable[Document]) -> int:
    """Write index rows for many (new) documents; the public ones only. Returns the number written."""
    rows = _rows(d for d in docs if is_public(d))
    _write(rows)
    return len(rows)


def rebuild_index(batch: int = 2000) -> int:
    """Empty the index and index every public document again."""
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {PG_TABLE if connection.vendor == 'postgresql' else FTS_TABLE}")  # noqa: S608
    total, last = 0, 0
    while True:
        chunk = list(public_documents().filter(pk__gt=last).order_by("pk")[:batch])
        if not chunk:
            return total
        total += index_many(chunk)
        last = chunk[-1].pk


# --- searching -------------------------------------------------------------------------------------

@dataclass
class Hit:
    document: Document
    score: float
    title_html: SafeString
    snippet_html: SafeString


@dataclass
class SearchResult:
    query: str
    total: int
    hits: list[Hit] = field(default_factory=list)
    exact: bool = True  # False: ``total`` is an estimate (PostgreSQL, more than PG_EXACT_COUNT matches)
    approximate: bool = False  # the page should say "约 N 条" (same as ``not exact``)

    @property
    def count_text(self) -> str:
        """"找到 N 条结果" or, for an estimate, "找到约 N 条结果"."""
        if self.approximate:
            return gettext("找到约 %(total)s 条结果") % {"total": f"{self.total:,}"}
        return ngettext("找到 %(total)s 条结果", "找到 %(total)s 条结果", self.total) % {"total": self.total}


def _filters(department: Any, category: str | None, year: int | None) -> tuple[list[str], list[Any]]:
    where, params = ["d.published_at IS NOT NULL", "d.classified = %s", "d.disclosure_type <> %s"], [
        False, DisclosureType.NOT_PUBLIC.value]
    if department is not None:
        where.append("d.department_id = %s")
        params.append(getattr(department, "pk", department))
    if category:
        where.append("d.category = %s")
        params.append(category)
    if year:
        where.append("d.issued_on >= %s AND d.issued_on <= %s")
        params += [f"{int(year):04d}-01-01", f"{int(year):04d}-12-31"]
    return where, params


def _pg_and_query(parts: Sequence[str]) -> str:
    """Every bigram of every run, in any order: the GIN index answers it exactly (no positions to check)."""
    return " & ".join(dict.fromkeys(f"'{b}'" for r in parts for b in bigrams(r)))


def _round2(n: int) -> int:
    """``n`` to two significant digits (an estimate should not look exact)."""
    step = 10 ** max(0, len(str(n)) - 2)
    return max(step, round(n / step) * step)


def _pg_ranked(parts: Sequence[str], limit: int, offset: int) -> tuple[list[tuple[int, float]], int, bool]:
    """PostgreSQL, no filters: ``([(document id, score)], total, total is exact)``.

    Where the time goes: a document's ``tsv`` (~3.9 kB) is TOASTed, so every row whose phrase must be checked
    (a ``<->`` query makes the GIN index recheck it) or ranked costs a detoast of ~10 µs; ranking or
    counting all of 50,000 matches costs 0.5 s, and the planner, which does not price the detoast, may even
    choose a sequential scan. So: (1) a bitmap scan (seq and plain index scans off) takes the first
    ``PG_EXACT_COUNT + 1`` matches in table order; if there are no more, the count is exact and all of
    them are ranked with ``ts_rank``; (2) otherwise the total is estimated from how far into the table the
    sample reached (rows are spread evenly: the document table is filled in time order, not by topic) and
    only the newest ``PG_RANK_CANDIDATES`` matches are ranked (cheap order: id, i.e. publication order;
    dense words walk the primary key backwards, others sort the GIN bitmap on the bigram conjunction,
    which needs no recheck); matches older than those follow, newest first.
    """
    phrase, conj = _pg_query(parts), _pg_and_query(parts)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_indexscan = off")
        cur.execute(f"SELECT s.document_id, s.ctid::text FROM {PG_TABLE} s "  # noqa: S608
                    f"WHERE s.tsv @@ to_tsquery('simple', %s) LIMIT {PG_EXACT_COUNT + 1}", [phrase])
        sample = cur.fetchall()
        if len(sample) <= PG_EXACT_COUNT:
            if not sample:
                return [], 0, True
            cur.execute(f"SELECT s.document_id, ts_rank(s.tsv, to_tsquery('simple', %s)) AS score "  # noqa: S608
                        f"FROM {PG_TABLE} s WHERE s.document_id = ANY(%s) "
                        f"ORDER BY score DESC, s.document_id DESC LIMIT %s OFFSET %s",
                        [phrase, [int(i) for i, _ in sample], limit, offset])
            return [(int(i), float(sc)) for i, sc in cur.fetchall()], len(sample), True
        # the sample stopped at heap block ``last`` of ``pages``: the same density over the whole table
        last = int(sample[-1][1].strip("()").split(",")[0])
        cur.execute("SELECT pg_relation_size(%s) / current_setting('block_size')::bigint, "
                    "(SELECT reltuples FROM pg_class WHERE oid = %s::regclass)", [PG_TABLE, PG_TABLE])
        pages, reltuples = cur.fetchone()
        rows_estimate = int(reltuples) if reltuples and reltuples > 0 else int(pages) * 2
        total = int(len(sample) * max(int(pages), last + 1) / (last + 1))
        total = _round2(max(PG_EXACT_COUNT + 1, min(total, max(rows_estimate, PG_EXACT_COUNT + 1))))
        if total >= DENSE * rows_estimate:
            # a word in most documents: walking the primary key backwards finds the newest ones at once
            cur.execute("SET LOCAL enable_indexscan = on")
            cur.execute("SET LOCAL enable_bitmapscan = off")
            cur.execute(f"SELECT s.document_id, ts_rank(s.tsv, to_tsquery('simple', %s)) FROM {PG_TABLE} s "  # noqa: S608
                        f"WHERE s.tsv @@ to_tsquery('simple', %s) ORDER BY s.document_id DESC "
                        f"LIMIT {PG_RANK_CANDIDATES}", [phrase, phrase])
            window = [(int(i), float(sc)) for i, sc in cur.fetchall()]
            floor = window[-1][0] if len(window) == PG_RANK_CANDIDATES else 0
        else:
            # the newest matches of the bigram conjunction from the bitmap (no detoast), then the phrase
            # checked and ranked on those only
            cur.execute(f"SELECT c.document_id, CASE WHEN c.tsv @@ q.q THEN ts_rank(c.tsv, q.q) END "  # noqa: S608
                        f"FROM (SELECT s.document_id, s.tsv FROM {PG_TABLE} s WHERE s.tsv @@ to_tsquery('simple', %s) "
                        f"ORDER BY s.document_id DESC LIMIT {2 * PG_RANK_CANDIDATES}) c, "
                        f"(SELECT to_tsquery('simple', %s) AS q) q", [conj, phrase])
            got = cur.fetchall()
            window = [(int(i), float(sc)) for i, sc in got if sc is not None]
            floor = min(int(i) for i, _ in got) if len(got) == 2 * PG_RANK_CANDIDATES else 0
        window.sort(key=lambda r: (-r[1], -r[0]))
        page = window[offset:offset + limit]
        if len(page) < limit and floor:
            # past the ranked window: the older matches, newest first
            cur.execute("SET LOCAL enable_indexscan = on")
            cur.execute("SET LOCAL enable_bitmapscan = off")
            cur.execute(f"SELECT s.document_id, 0.0 FROM {PG_TABLE} s "  # noqa: S608
                        f"WHERE s.tsv @@ to_tsquery('simple', %s) AND s.document_id < %s "
                        f"ORDER BY s.document_id DESC LIMIT %s OFFSET %s",
                        [phrase, floor, limit - len(page), max(0, offset - len(window))])
            page += [(int(i), float(sc)) for i, sc in cur.fetchall()]
        return page, max(total, len(window), offset + len(page)), False  # never fewer than listed


def matching_ids(q: str, *, department: Any = None, category: str | None = None, year: int | None = None,
                 limit: int | None = 20, offset: int = 0) -> tuple[list[tuple[int, float]], int]:
    """``([(document id, score)], total)`` for ``q``, best first (``limit=None``: every match). On PostgreSQL
    without filters the total may be an estimate (see ``_pg_ranked``; ``search_documents`` says which)."""
    return _matching(q, department=department, category=category, year=year, limit=limit, offset=offset)[:2]


def _matching(q: str, *, department: Any = None, category: str | None = None, year: int | None = None,
              limit: int | None = 20, offset: int = 0) -> tuple[list[tuple[int, float]], int, bool]:
    parts = query_runs(q)
    if not parts:
        return [], 0, True
    if (connection.vendor == "postgresql" and limit is not None and all(len(r) >= 2 for r in parts)
            and department is None and not category and not year):
        return _pg_ranked(parts, int(limit), int(offset))
    where, params = _filters(department, category, year)
    lim = "" if limit is None else f" LIMIT {int(limit)} OFFSET {int(offset)}"
    unfiltered = False
    if all(len(r) >= 2 for r in parts) and department is None and not category and not year:
        # the index holds the public documents only: no join with the document table (stale rows of
        # documents that are no longer public are dropped by ``search_documents``)
        unfiltered = True
        if connection.vendor == "postgresql":
            base = f"FROM {PG_TABLE} s WHERE s.tsv @@ to_tsquery('simple', %s)"
            args = [_pg_query(parts)]
            select = (f"SELECT s.document_id, ts_rank(s.tsv, to_tsquery('simple', %s)) AS score {base} "
                      f"ORDER BY score DESC, s.document_id DESC{lim}")
            select_args = [args[0], *args]
        else:
            base = f"FROM {FTS_TABLE} f WHERE {FTS_TABLE} MATCH %s"
            args = [_fts5_query(parts)]
            select = (f"SELECT f.rowid, -bm25({FTS_TABLE}, {TITLE_WEIGHT}, 1.0) AS score {base} "
                      f"ORDER BY score DESC, f.rowid DESC{lim}")
            select_args = args
    elif all(len(r) >= 2 for r in parts):
        if connection.vendor == "postgresql":
            base = (f"FROM {PG_TABLE} s JOIN egov_document d ON d.id = s.document_id "
                    f"WHERE s.tsv @@ to_tsquery('simple', %s) AND " + " AND ".join(where))
            args = [_pg_query(parts), *params]
            select = (f"SELECT d.id, ts_rank(s.tsv, to_tsquery('simple', %s)) AS score {base} "
                      f"ORDER BY score DESC, d.issued_on DESC, d.id{lim}")
            select_args = [args[0], *args]
        else:
            base = (f"FROM {FTS_TABLE} f JOIN egov_document d ON d.id = f.rowid "
                    f"WHERE {FTS_TABLE} MATCH %s AND " + " AND ".join(where))
            args = [_fts5_query(parts), *params]
            select = (f"SELECT d.id, -bm25({FTS_TABLE}, {TITLE_WEIGHT}, 1.0) AS score {base} "
                      f"ORDER BY score DESC, d.issued_on DESC, d.id{lim}")
            select_args = args
    else:  # a single character somewhere: a LIKE scan (the bigram index cannot answer it)
        likes = []
        args = []
        for r in parts:
            likes.append("(LOWER(d.title) LIKE %s OR LOWER(d.body) LIKE %s)")
            args += [f"%{r}%", f"%{r}%"]
        base = "FROM egov_document d WHERE " + " AND ".join(likes + where)
        args += params
        select = f"SELECT d.id, 0.0 AS score {base} ORDER BY d.issued_on DESC, d.id{lim}"
        select_args = args
    with connection.cursor() as cur:
        known_total = None
        if limit is not None and unfiltered:  # SQLite (PostgreSQL: ``_pg_ranked``)
            # ranking every match costs O(matches): a word found in more than RANK_LIMIT documents (it is in
            # most of them, so relevance says little) is answered newest first, which the index does lazily
            cur.execute(f"SELECT COUNT(*) FROM (SELECT 1 {base} LIMIT {RANK_LIMIT + 1}) t", args)  # noqa: S608
            known_total = int(cur.fetchone()[0])
            if known_total > RANK_LIMIT:
                known_total = None
                key = "f.rowid" if connection.vendor != "postgresql" else "s.document_id"
                select, select_args = f"SELECT {key}, 0.0 {base} ORDER BY {key} DESC{lim}", args
        cur.execute(select, select_args)
        rows = [(int(i), float(s)) for i, s in cur.fetchall()]
        if known_total is not None:
            return rows, known_total, True
        if limit is None:
            return rows, len(rows), True
        if offset == 0 and len(rows) < int(limit):
            return rows, len(rows), True
        cur.execute(f"SELECT COUNT(*) {base}", args)
        return rows, int(cur.fetchone()[0]), True


def _mark(text: str, parts: Sequence[str]) -> SafeString:
    """``text`` HTML-escaped with every occurrence of a query run in ``<mark>``."""
    if not parts:
        return mark_safe(html.escape(text))  # noqa: S308 - escaped just here
    pattern = re.compile("|".join(re.escape(p) for p in sorted(parts, key=len, reverse=True)), re.IGNORECASE)
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece escaped above


def snippet(body: str, parts: Sequence[str], width: int = SNIPPET_CHARS) -> SafeString:
    """A window of ``body`` around the first occurrence of a query run, highlighted."""
    text = re.sub(r"\s+", " ", body).strip()
    low = text.lower()
    first = min((i for i in (low.find(p) for p in parts) if i >= 0), default=-1)
    if first < 0:
        piece = text[:width]
        return _mark(piece + ("…" if len(text) > width else ""), parts)
    start = max(0, first - width // 3)
    piece = text[start:start + width]
    return _mark(("…" if start > 0 else "") + piece + ("…" if start + width < len(text) else ""), parts)


def search_documents(q: str, department: Any = None, category: str | None = None, year: int | None = None,
                     limit: int = 20, offset: int = 0) -> SearchResult:
    """Public full-text search: published, non-classified documents matching every word of ``q`` (as a
    substring, inside sentences too), best first, with the title and a body snippet highlighted."""
    limit = max(1, min(int(limit), 100))
    offset = max(0, int(offset))
    parts = query_runs(q)
    ids, total, exact = _matching(q, department=department, category=category, year=year, limit=limit,
                                  offset=offset)
    docs = Document.objects.select_related("department").in_bulk([i for i, _ in ids])
    result = SearchResult(query=q, total=total, exact=exact, approximate=not exact)
    for doc_id, score in ids:
        doc = docs.get(doc_id)
        if doc is None or not is_public(doc):
            continue
        result.hits.append(Hit(document=doc, score=score, title_html=_mark(doc.title, parts),
                               snippet_html=snippet(doc.body, parts)))
    return result


def like_scan_ids(q: str) -> list[int]:
    """The naive baseline: every public document whose title or body contains ``q`` (LIKE '%q%')."""
    if not q:
        return []
    return list(public_documents().filter(Q(title__contains=q) | Q(body__contains=q)).values_list("pk", flat=True))
