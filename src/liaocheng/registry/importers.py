"""Bulk imports of the population and legal-entity base databases (CSV and XLSX).

Pipeline (docs/adr/0004):

1. Hash the file (sha256, also counting lines for the progress bar); detect the encoding of a CSV from a
   sample (UTF-8 / UTF-8-BOM, else charset-normalizer, GBK and GB2312 read as their superset GB18030) and
   decode the stream; read XLSX with openpyxl in read-only mode.
2. Map the header (Chinese or English column names); a missing required column refuses the file before
   any row is read or anything is written.
3. Cut the rows into batches of N (default 10,000). Each batch is validated whole (every field of every
   row, blind-index duplicates inside the batch and against the database, scope and authority). A batch
   with any bad row writes nothing; its errors are stored with row, field and reason (zh + en) and the
   import goes on with the next batch.
4. A good batch is encrypted and inserted with one ``executemany`` (SQLite) or ``COPY`` (PostgreSQL); its
   outbox event, audit record and the job's progress are written in the same transaction.
5. The job (file sha256, batch size, per-batch status and content hash) makes imports resumable: re-running
   the same file, or ``--resume JOB`` with a fixed file, skips the committed batches and retries the rest.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import multiprocessing
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from liaocheng.core import access, audit
from liaocheng.core.crypto import blind_index, encrypt
from liaocheng.core.errors import InvalidInput, NotFound
from liaocheng.core.models import Department
from liaocheng.core.permissions import CITY_CODE
from liaocheng.core.tabular import map_header

from . import services
from .models import (
    BatchStatus,
    EntityType,
    ImportBatch,
    ImportJob,
    ImportRowError,
    ImportStatus,
    LegalEntity,
    Person,
)
from .validation import (
    ENTITY_COLUMNS,
    ENTITY_REQUIRED,
    PERSON_COLUMNS,
    PERSON_REQUIRED,
    GeoContext,
    RowProblem,
    clean_entity_row,
    clean_person_row,
)

BATCH_SIZE = 10_000
MAX_ERRORS_PER_BATCH = 1_000
SAMPLE_BYTES = 256 * 1024
Progress = Callable[[str, int, int], None]


def _after_batch_commit(job: ImportJob, index: int) -> None:
    """Called after each committed batch (tests replace it to simulate a killed import)."""


# --- the file --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileInfo:
    sha256: str
    size: int
    lines: int
    file_format: str  # "csv" | "xlsx"


def file_info(path: Path) -> FileInfo:
    h = hashlib.sha256()
    lines = size = 0
    with path.open("rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            lines += chunk.count(b"\n")
            size += len(chunk)
    fmt = "xlsx" if head.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm") else "csv"
    return FileInfo(h.hexdigest(), size, lines, fmt)


_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "hz", "euc_cn", "gb2312_80", "ms936"}


def detect_encoding(sample: bytes, *, complete: bool = False) -> str:
    """The encoding of a CSV sample: UTF-8 (with or without BOM) when it decodes, else what charset-normalizer
    finds — with GBK/GB2312 read as GB18030 (a superset) and GB18030 preferred whenever it decodes the sample,
    since registers in China are written in one of those."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    cut = sample
    if not complete and b"\n" in sample:
        cut = sample[: sample.rfind(b"\n") + 1]  # never judge a character cut in half at the end
    try:
        cut.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(cut).best()
    guess = (best.encoding if best else "").lower().replace("-", "_")
    if guess in _GB_FAMILY:
        return "gb18030"
    try:
        cut.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    if guess:
        return guess
    raise InvalidInput("无法识别文件编码（应为 UTF-8、GBK 或 GB18030）", "cannot tell the file's encoding (use UTF-8,"
                       " GBK or GB18030)", field="file", row=None)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class Source:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (file row number, header = row 1; cells)
    encoding: str
    position: Callable[[], int] = field(default=lambda: 0)  # rows read so far (for progress)


@contextmanager
def open_source(path: Path, info: FileInfo) -> Iterator[Source]:
    if info.file_format == "xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise InvalidInput(f"无法读取 Excel 文件：{exc}", f"cannot read the Excel file: {exc}",
                               field="file") from exc
        try:
            ws = wb.worksheets[0]
            it = ws.iter_rows(values_only=True)
            header_row = next(it, None)
            header = [_cell(c) for c in header_row] if header_row else []

            def rows() -> Iterator[tuple[int, list[str]]]:
                for n, values in enumerate(it, start=2):
                    cells = [_cell(c) for c in values]
                    while cells and cells[-1] == "":
                        cells.pop()
                    if cells:
                        yield n, cells

            yield Source(header, rows(), "xlsx")
        finally:
            wb.close()
        return
    with path.open("rb") as raw:
        sample = raw.read(SAMPLE_BYTES)
        encoding = detect_encoding(sample, complete=len(sample) < SAMPLE_BYTES)
        raw.seek(0)
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        reader = csv.reader(text)
        counter = {"n": 1}
        try:
            header = next(reader, [])
        except csv.Error as exc:
            raise InvalidInput(f"表头无法解析：{exc}", f"cannot parse the header: {exc}", field="header",
                               row=1) from exc

        def csv_rows() -> Iterator[tuple[int, list[str]]]:
            n = 1
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:  # e.g. an unterminated quote at the end of a truncated file
                    n += 1
                    counter["n"] = n
                    yield n, ["\x00csv-error", str(exc)]
                    continue
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue  # blank line
                n += 1
                counter["n"] = n
                yield n, cells

        yield Source(header, csv_rows(), encoding, position=lambda: counter["n"])


# --- preparing batches (no database access: this runs in worker processes) --------------------------------------

@dataclass
class RowError:
    row: int
    problem: RowProblem


@dataclass
class Prepared:
    rows: list[tuple[Any, ...]]  # insert tuples without the id
    errors: list[RowError]
    keys: list[tuple[int, str]] = field(default_factory=list)  # (row, unique key) for the database check
    warnings: int = 0


@dataclass
class PrepareState:
    """Everything a batch needs to be validated and encrypted, without touching the database. Worker
    processes receive it by fork (it holds the code sets and the locator)."""

    kind: str
    geo: GeoContext
    locator: Any  # geo.locator.Locator
    field_items: list[tuple[str, int]]
    ncols: int
    scopes: list[str] | None  # None: everywhere
    any_source: bool
    dept_code: str
    dept_kind: str
    dept_name: str
    actor_id: int | None
    actor_label: str
    job_id: int
    today: dt.date
    recorded: Any
    changed_fields: str


def _structure_error(rownum: int, cells: list[str], ncols: int) -> RowError | None:
    if cells and cells[0] == "\x00csv-error":
        return RowError(rownum, RowProblem("row", "该行无法解析（文件可能被截断）",
                                           f"the row cannot be parsed (the file may be truncated): {cells[1]}",
                                           "malformed_row"))
    if len(cells) < ncols:
        return RowError(rownum, RowProblem(
            "row", f"该行只有{len(cells)}列，应为{ncols}列（文件可能被截断）",
            f"the row has {len(cells)} columns, expected {ncols} (the file may be truncated)", "short_row"))
    if len(cells) > ncols and any(c.strip() for c in cells[ncols:]):
        return RowError(rownum, RowProblem(
            "row", f"该行有{len(cells)}列，多于表头的{ncols}列", f"the row has {len(cells)} columns, more than the"
            f" header's {ncols}", "long_row"))
    return None


def _in_scope(scopes: list[str] | None, codes: tuple[str, ...]) -> bool:
    if scopes is None or "" in scopes:
        return True
    return any(c and c.startswith(prefix) for c in codes for prefix in scopes)


def _locate_batch(kept: list[tuple[int, dict[str, Any], Any]], errors: list[RowError], locator: Any) -> None:
    """Grid and community of every row with coordinates, in one vectorised call (GCJ-02)."""
    with_xy = [k for k in kept if k[1].get("lon") is not None]
    if not with_xy:
        return
    lons = np.array([k[1]["lon"] for k in with_xy], dtype=np.float64)
    lats = np.array([k[1]["lat"] for k in with_xy], dtype=np.float64)
    grids = locator.codes_for(locator.locate_many(lons, lats))
    for (rownum, values, _), grid in zip(with_xy, grids, strict=True):
        grid = str(grid)
        if not grid:
            errors.append(RowError(rownum, RowProblem("lon", "坐标不在聊城市范围内", "the point is outside Liaocheng",
                                                      "outside_liaocheng")))
        elif values.get("grid_code") and values["grid_code"] != grid:
            errors.append(RowError(rownum, RowProblem("grid_code", "网格编码与坐标所在网格不符",
                                                      "the grid code does not match the coordinates")))
        else:
            values["grid_code"], values["community_code"] = grid, grid[:12]


PERSON_INSERT_COLUMNS = (
    "id_number", "id_number_bidx", "name", "sex", "birth_date", "ethnic", "hukou_division", "household_number",
    "relationship", "residence_address", "lon", "lat", "community_code", "grid_code", "marital_status", "status",
    "phone", "phone_bidx", "version", "valid_from", "source_department", "changed_by", "changed_by_label",
    "recorded_at", "change_kind", "changed_fields", "reason", "import_job",
)
ENTITY_INSERT_COLUMNS = (
    "credit_code", "credit_code_warning", "name", "entity_type", "entity_type_derived", "legal_representative",
    "registered_capital", "industry_code", "address", "lon", "lat", "county_code", "community_code", "grid_code",
    "status", "registering_authority", "established_date", "changed_date", "version", "valid_from",
    "source_department", "changed_by", "changed_by_label", "recorded_at", "change_kind", "changed_fields", "reason",
    "import_job",
)


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def prepare_people(st: PrepareState, rows: list[tuple[int, list[str]]]) -> Prepared:
    errors: list[RowError] = []
    kept: list[tuple[int, dict[str, Any], str]] = []
    seen: dict[str, int] = {}
    items, ncols, geo, today, scopes = st.field_items, st.ncols, st.geo, st.today, st.scopes
    for rownum, cells in rows:
        bad = _structure_error(rownum, cells, ncols)
        if bad:
            errors.append(bad)
            continue
        c = clean_person_row({f: cells[i] for f, i in items}, geo, today=today)
        if c.problems:
            errors.extend(RowError(rownum, p) for p in c.problems)
            continue
        v = c.values
        if scopes is not None and not _in_scope(scopes, (v["hukou_division"], v.get("community_code", ""))):
            errors.append(RowError(rownum, RowProblem("hukou_division", "户籍地和居住地都不在您的授权范围内",
                                                      "neither household registration nor residence is within your"
                                                      " scope", "out_of_scope")))
            continue
        bidx = blind_index("id_number", v["id_number"])
        if bidx in seen:
            errors.append(RowError(rownum, RowProblem("id_number", f"身份证号与第{seen[bidx]}行重复",
                                                      f"duplicate ID number (same as row {seen[bidx]})", "duplicate")))
            continue
        seen[bidx] = rownum
        kept.append((rownum, v, bidx))
    _locate_batch(kept, errors, st.locator)
    if errors:
        return Prepared([], errors)
    recorded, dept, actor_id, actor_label, job_id = st.recorded, st.dept_code, st.actor_id, st.actor_label, st.job_id
    changed = st.changed_fields
    out: list[tuple[Any, ...]] = []
    for _rownum, v, bidx in kept:
        phone = v.get("phone", "")
        out.append((
            encrypt(v["id_number"]), bidx, v["name"], v["sex"], _iso(v["birth_date"]), v.get("ethnic", ""),
            v["hukou_division"], v["household_number"], v["relationship"], v.get("residence_address", ""),
            v.get("lon"), v.get("lat"), v.get("community_code", ""), v.get("grid_code", ""),
            v.get("marital_status", ""), v["status"], encrypt(phone) if phone else "",
            blind_index("phone", phone) if phone else "", 1, _iso(v.get("effective_date")), dept, actor_id,
            actor_label, recorded, "created", changed, "import", job_id,
        ))
    return Prepared(out, [], [(k[0], k[2]) for k in kept])


def prepare_entities(st: PrepareState, rows: list[tuple[int, list[str]]]) -> Prepared:
    errors: list[RowError] = []
    kept: list[tuple[int, dict[str, Any], str]] = []
    seen: dict[str, int] = {}
    warnings = 0
    for rownum, cells in rows:
        bad = _structure_error(rownum, cells, st.ncols)
        if bad:
            errors.append(bad)
            continue
        c = clean_entity_row({f: cells[i] for f, i in st.field_items}, st.geo)
        if c.problems:
            errors.extend(RowError(rownum, p) for p in c.problems)
            continue
        v = c.values
        warnings += bool(c.warnings)
        authority = services.ENTITY_TYPE_AUTHORITY[v["entity_type"]]
        if not st.any_source and authority != st.dept_kind:
            label = str(EntityType(v["entity_type"]).label)
            errors.append(RowError(rownum, RowProblem(
                "entity_type",
                f"{st.dept_name}不是{label}登记信息的权威来源部门，应由{services.kind_label(authority)}登记",
                f"{st.dept_name} ({st.dept_kind}) is not the authoritative source of {v['entity_type']} registrations;"
                f" the authority is the {authority} department", "not_authoritative")))
            continue
        code = v["credit_code"]
        if code in seen:
            errors.append(RowError(rownum, RowProblem("credit_code", f"信用代码与第{seen[code]}行重复",
                                                      f"duplicate credit code (same as row {seen[code]})",
                                                      "duplicate")))
            continue
        seen[code] = rownum
        kept.append((rownum, v, code))
    _locate_batch(kept, errors, st.locator)
    for rownum, v, code in kept:
        grid = v.get("grid_code", "")
        region = code[2:8]
        v["county_code"] = grid[:6] if grid else (region if region.startswith("3715") and region != CITY_CODE else "")
        if st.scopes is not None and not _in_scope(st.scopes, (v["county_code"] or CITY_CODE,)):
            errors.append(RowError(rownum, RowProblem("address", "该单位不在您的授权范围内",
                                                      "the entity is outside your scope", "out_of_scope")))
    if errors:
        return Prepared([], errors)
    out: list[tuple[Any, ...]] = []
    for _rownum, v, code in kept:
        established = v.get("established_date")
        out.append((
            code, v.get("credit_code_warning", ""), v["name"], v["entity_type"], v["entity_type_derived"],
            v.get("legal_representative", ""), v.get("registered_capital"), v.get("industry_code", ""),
            v.get("address", ""), v.get("lon"), v.get("lat"), v["county_code"], v.get("community_code", ""),
            v.get("grid_code", ""), v["status"], v.get("registering_authority", ""),
            _iso(established), _iso(v.get("changed_date")), 1, _iso(v.get("effective_date") or established),
            st.dept_code, st.actor_id, st.actor_label, st.recorded, "created", st.changed_fields, "import", st.job_id,
        ))
    return Prepared(out, [], [(k[0], k[2]) for k in kept], warnings)


_PREPARERS: dict[str, Callable[[PrepareState, list[tuple[int, list[str]]]], Prepared]] = {
    "population": prepare_people, "entities": prepare_entities,
}
_WORKER_STATE: PrepareState | None = None  # set in the parent before the worker processes are forked


def _prepare_in_worker(rows: list[tuple[int, list[str]]]) -> Prepared:
    st = _WORKER_STATE
    assert st is not None
    return _PREPARERS[st.kind](st, rows)


def _existing(model: Any, column: str, values: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(values), 5000):
        chunk = values[i: i + 5000]
        found.update(model.objects.filter(**{f"{column}__in": chunk}).values_list(column, flat=True))
    return found


def _duplicates_in_db(kind: Kind, prepared: Prepared) -> list[RowError]:
    """Keys of the batch already in the register (an earlier batch or import, or an earlier row of the file)."""
    if not prepared.keys:
        return []
    column = "id_number_bidx" if kind.name == "population" else "credit_code"
    existing = _existing(kind.model, column, [k for _, k in prepared.keys])
    if kind.name == "population":
        zh, en = "身份证号已在人口基础库中", "the ID number is already in the register"
        fld = "id_number"
    else:
        zh, en = "该信用代码已在法人单位基础库中", "the credit code is already in the register"
        fld = "credit_code"
    return [RowError(row, RowProblem(fld, zh, en, "duplicate")) for row, key in prepared.keys if key in existing]


# --- writing ----------------------------------------------------------------------------------------------------

def insert_rows(model: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert prepared rows (without ids) and return their new ids, in order: ``COPY`` with ids drawn from
    the sequence on PostgreSQL; one ``executemany`` elsewhere (SQLite numbers the rows of one write
    transaction consecutively, and only one write transaction runs at a time)."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    n = len(rows)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                        [model._meta.db_table, n])
            ids = [int(r[0]) for r in cur.fetchall()]
            cols = ", ".join(qn(c) for c in ("id", *columns))
            # the raw psycopg cursor: wrap its errors so a unique violation is Django's IntegrityError
            with connection.wrap_database_errors, cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for i, r in zip(ids, rows, strict=True):
                    copy.write_row((i, *r))
            return ids
        if connection.vendor != "sqlite":
            return [_insert_one(cur, table, columns, r) for r in rows]  # other backends: correct, not fast
        cols = ", ".join(qn(c) for c in columns)
        placeholders = ", ".join(["%s"] * len(columns))
        cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({placeholders})", rows)  # noqa: S608
        cur.execute("SELECT last_insert_rowid()")
        last = int(cur.fetchone()[0])
    return list(range(last - n + 1, last + 1))


def _insert_one(cur: Any, table: str, columns: tuple[str, ...], row: tuple[Any, ...]) -> int:
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    cur.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})", row)  # noqa: S608
    return int(cur.lastrowid)


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    model: Any
    insert_columns: tuple[str, ...]
    resource: str


KINDS: dict[str, Kind] = {
    "population": Kind("population", "人口 / population", PERSON_COLUMNS, PERSON_REQUIRED, Person,
                       PERSON_INSERT_COLUMNS, services.PERSON_RESOURCE),
    "entities": Kind("entities", "法人单位 / legal entities", ENTITY_COLUMNS, ENTITY_REQUIRED, LegalEntity,
                     ENTITY_INSERT_COLUMNS, services.ENTITY_RESOURCE),
}


def _batch_hash(rows: list[tuple[int, list[str]]]) -> str:
    text = "\x1e".join(f"{n}\x1f" + "\x1f".join(cells) for n, cells in rows)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _store_errors(job: ImportJob, index: int, errors: list[RowError]) -> None:
    ImportRowError.objects.filter(job=job, batch_index=index).delete()
    errors = sorted(errors, key=lambda e: e.row)
    objs = [ImportRowError(job=job, batch_index=index, row=e.row, field=e.problem.field[:40], code=e.problem.code[:30],
                           message_zh=e.problem.message_zh[:300], message_en=e.problem.message_en[:300])
            for e in errors[:MAX_ERRORS_PER_BATCH]]
    if len(errors) > MAX_ERRORS_PER_BATCH:
        more = len(errors) - MAX_ERRORS_PER_BATCH
        objs.append(ImportRowError(job=job, batch_index=index, row=None, field="", code="more_errors",
                                   message_zh=f"本批另有{more}个错误未列出",
                                   message_en=f"{more} more errors in this batch"))
    ImportRowError.objects.bulk_create(objs, batch_size=1000)


@dataclass
class _Run:
    kind: Kind
    job: ImportJob
    acting_user: Any
    dept: Department
    changed_fields: list[str]


def _commit_batch(run: _Run, index: int, rows: list[tuple[int, list[str]]], digest: str, prepared: Prepared) -> None:
    job = run.job
    with transaction.atomic():
        ids = insert_rows(run.kind.model, run.kind.insert_columns, prepared.rows)
        services.emit_change(run.kind.resource, "created", ids, run.changed_fields, None)
        ImportBatch.objects.update_or_create(job=job, index=index, defaults={
            "first_row": rows[0][0], "last_row": rows[-1][0], "content_sha256": digest,
            "status": BatchStatus.COMMITTED, "rows": len(rows), "errors": 0, "at": timezone.now()})
        ImportRowError.objects.filter(job=job, batch_index=index).delete()
        ImportJob.objects.filter(pk=job.pk).update(next_row=max(job.next_row, rows[-1][0] - 1))
        audit.record(actor=run.acting_user, action=f"registry.import_{run.kind.name}_batch",
                     object_type="registry.ImportJob", object_id=job.pk,
                     after={"batch": index, "first_row": rows[0][0], "last_row": rows[-1][0],
                            "rows": len(prepared.rows), "legacy_credit_codes": prepared.warnings,
                            "file_sha256": job.file_sha256, "source_department": run.dept.code},
                     division_code=run.dept.division_code)
    job.next_row = max(job.next_row, rows[-1][0] - 1)


def _fail_batch(run: _Run, index: int, rows: list[tuple[int, list[str]]], digest: str, errors: list[RowError]) -> None:
    job = run.job
    with transaction.atomic():
        ImportBatch.objects.update_or_create(job=job, index=index, defaults={
            "first_row": rows[0][0], "last_row": rows[-1][0], "content_sha256": digest,
            "status": BatchStatus.FAILED, "rows": len(rows), "errors": len({e.row for e in errors}),
            "at": timezone.now()})
        _store_errors(job, index, errors)
        ImportJob.objects.filter(pk=job.pk).update(next_row=max(job.next_row, rows[-1][0] - 1))
    job.next_row = max(job.next_row, rows[-1][0] - 1)


def _write_batch(run: _Run, index: int, rows: list[tuple[int, list[str]]], digest: str, prepared: Prepared) -> None:
    if prepared.errors:
        _fail_batch(run, index, rows, digest, prepared.errors)
        return
    try:
        # the unique index on the blind index (credit code) refuses keys already in the register; only then
        # are they looked up, to name the rows (the fast path does not pay for a separate query)
        _commit_batch(run, index, rows, digest, prepared)
    except IntegrityError as exc:
        errors = _duplicates_in_db(run.kind, prepared) or [RowError(rows[0][0], RowProblem(
            "row", "写入时发生唯一性冲突（可能有并发导入），本批未写入",
            f"uniqueness conflict while writing (a concurrent import?); batch not written: {exc}", "conflict"))]
        _fail_batch(run, index, rows, digest, errors)
        return
    _after_batch_commit(run.job, index)


def _finish(job: ImportJob, seconds: float) -> ImportJob:
    agg = job.batches.values("status").annotate(rows=Sum("rows"), n=Count("pk"))
    by_status = {a["status"]: a for a in agg}
    job.rows_committed = (by_status.get(BatchStatus.COMMITTED) or {}).get("rows") or 0
    job.rows_failed = (by_status.get(BatchStatus.FAILED) or {}).get("rows") or 0
    job.rows_seen = job.rows_committed + job.rows_failed
    job.error_count = job.row_errors.count()
    job.status = ImportStatus.COMPLETED_WITH_ERRORS if job.error_count else ImportStatus.COMPLETED
    job.finished_at = timezone.now()
    job.seconds = seconds
    with transaction.atomic():
        job.save()
    return job


def _find_job(kind: str, info: FileInfo, dept: Department, resume_job: int | None) -> ImportJob | None:
    if resume_job is not None:
        job = ImportJob.objects.filter(pk=resume_job).first()
        if job is None:
            raise NotFound(f"导入任务不存在：{resume_job}", f"no import job {resume_job}", field="resume")
        if job.kind != kind:
            raise InvalidInput(f"任务 {resume_job} 不是{KINDS[kind].label}导入",
                               f"job {resume_job} is not a {kind} import", field="resume")
        return job
    return ImportJob.objects.filter(kind=kind, file_sha256=info.sha256, source_department=dept.code).order_by(
        "-pk").first()


def _authorise(kind: str, acting_user: Any, source_department: str | None) -> tuple[Department, list[str] | None, bool]:
    """Refuse an import the acting user's department may not make (before any row is read)."""
    if acting_user != services.SYSTEM:
        if not access.has_perm(acting_user, "registry.import"):
            access.require(acting_user, "registry.import", CITY_CODE)
        scopes: list[str] | None = access.scopes_for(acting_user, "registry.import")
        if scopes is not None and "" in scopes:
            scopes = None
    else:
        scopes = None
    dept = services.source_department_for(acting_user, source_department)
    any_source = services.can_act_for_any_source(acting_user)
    if not any_source:
        if kind == "population" and dept.kind != services.POPULATION_IMPORT_AUTHORITY:
            raise services.not_authoritative(dept, "人口基础库", "the population register",
                                             services.POPULATION_IMPORT_AUTHORITY, field="source_department")
        if kind == "entities" and dept.kind not in set(services.ENTITY_TYPE_AUTHORITY.values()):
            raise services.not_authoritative(dept, "法人单位登记信息", "legal-entity registrations",
                                             services.MARKET_REGULATION, field="source_department")
    return dept, scopes, any_source


def default_workers(total_rows: int, batch_size: int) -> int:
    """Worker processes for validation and encryption: one per core (at most 4) when the file has several
    batches — the parent parses and writes meanwhile, mostly waiting on the database — none for small files."""
    cores = os.cpu_count() or 1
    if total_rows < 2 * batch_size or cores < 2:
        return 0
    return min(cores, 4)


def run_import(kind: str, path: str | Path, *, acting_user: Any, source_department: str | None = None,
               batch_size: int = BATCH_SIZE, resume_job: int | None = None, progress: Progress | None = None,
               file_label: str | None = None, workers: int | None = None) -> ImportJob:
    """Import a CSV/XLSX file of persons (``kind="population"``) or legal entities (``"entities"``).

    Runs as ``acting_user`` (``registry.import``; rows outside their scope are errors) from their department,
    which must be the authority for the data (public security for the population register; market regulation,
    civil affairs or the establishment office for entities of their types) unless the user is a city data
    administrator (``registry.act_for_any_source``). Returns the job; bad rows are in ``job.row_errors``.
    ``workers`` processes validate and encrypt batches in parallel (default: see ``default_workers``).
    """
    global _WORKER_STATE

    started = time.perf_counter()
    spec = KINDS[kind]
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"文件不存在：{path}", f"no such file: {path}", field="file")
    if batch_size < 1:
        raise InvalidInput("批大小应为正整数", "batch size must be positive", field="batch_size")
    dept, scopes, any_source = _authorise(kind, acting_user, source_department)
    info = file_info(path)
    with open_source(path, info) as source:
        field_index = map_header(source.header, spec.columns, spec.required)
        job = _find_job(kind, info, dept, resume_job)
        seconds_before = 0.0
        if job is None:
            with transaction.atomic():
                job = ImportJob.objects.create(
                    kind=kind, file_name=file_label or str(path), file_sha256=info.sha256,
                    file_format=info.file_format, encoding=source.encoding, batch_size=batch_size,
                    source_department=dept.code, acting_user=getattr(acting_user, "pk", None),
                    acting_label=_actor_label(acting_user), started_at=timezone.now())
        else:
            if job.status == ImportStatus.COMPLETED and job.file_sha256 == info.sha256:
                return job  # the same file again: nothing to add
            seconds_before = job.seconds
            batch_size = job.batch_size  # batch boundaries must not move between runs
            ImportJob.objects.filter(pk=job.pk).update(file_sha256=info.sha256, status=ImportStatus.RUNNING,
                                                       encoding=source.encoding)
            job.file_sha256, job.status = info.sha256, ImportStatus.RUNNING
        done = {b.index: b for b in job.batches.all()}
        changed_fields = sorted(f for f in field_index if f != "effective_date")
        run = _Run(spec, job, acting_user, dept, changed_fields)
        from liaocheng.geo.services import get_locator

        state = PrepareState(
            kind=kind, geo=services.geo_context(), locator=get_locator(), field_items=list(field_index.items()),
            ncols=len(source.header), scopes=scopes, any_source=any_source, dept_code=dept.code, dept_kind=dept.kind,
            dept_name=dept.name, actor_id=getattr(acting_user, "pk", None), actor_label=_actor_label(acting_user),
            job_id=job.pk, today=timezone.localdate(),
            recorded=connection.ops.adapt_datetimefield_value(timezone.now()),
            changed_fields=json.dumps(changed_fields, ensure_ascii=False))
        total = max(info.lines - 1, 0) if info.file_format == "csv" else 0
        n_workers = default_workers(total, batch_size) if workers is None else workers
        stage = f"导入{spec.label}"
        processed = 0
        pending: deque[tuple[int, list[tuple[int, list[str]]], str, Any]] = deque()
        executor: ProcessPoolExecutor | None = None
        if n_workers > 0:
            _WORKER_STATE = state
            executor = ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("fork"))

        def finish_one() -> None:
            nonlocal processed
            index, rows, digest, future = pending.popleft()
            prepared = future.result() if executor is not None else future
            _write_batch(run, index, rows, digest, prepared)
            processed += len(rows)
            if progress:
                progress(stage, processed, max(total, processed))

        try:
            for index, rows in enumerate(_chunks(source.rows, batch_size)):
                digest = _batch_hash(rows)
                previous = done.get(index)
                if previous is not None and previous.status == BatchStatus.COMMITTED:
                    if previous.content_sha256 != digest:
                        with transaction.atomic():
                            _store_errors(job, index, [RowError(rows[0][0], RowProblem(
                                "row", f"第{index + 1}批（第{previous.first_row}-{previous.last_row}行）已写入，"
                                "文件中对这些行的修改不会再导入",
                                f"batch {index + 1} (rows {previous.first_row}-{previous.last_row}) was already"
                                " committed; changes to these rows in the file are not imported",
                                "committed_batch_changed"))])
                    processed += len(rows)
                    continue
                if executor is not None:
                    pending.append((index, rows, digest, executor.submit(_prepare_in_worker, rows)))
                    while len(pending) > n_workers + 1:
                        finish_one()
                else:
                    pending.append((index, rows, digest, _PREPARERS[kind](state, rows)))
                    finish_one()
            while pending:
                finish_one()
        finally:
            if executor is not None:
                for *_, future in pending:
                    future.cancel()
                executor.shutdown(wait=True, cancel_futures=True)
                _WORKER_STATE = None
        if progress:
            progress(stage, processed, processed)
    return _finish(job, seconds_before + time.perf_counter() - started)


def _actor_label(acting_user: Any) -> str:
    return acting_user.get_username() if hasattr(acting_user, "get_username") else str(acting_user)


def _chunks(rows: Iterator[tuple[int, list[str]]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    batch: list[tuple[int, list[str]]] = []
    for item in rows:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def job_errors(job: ImportJob, limit: int = 100) -> list[ImportRowError]:
    return list(job.row_errors.order_by("row", "pk")[:limit])


# --- the demo sample -----------------------------------------------------------------------------------------------

DEMO_SEED = 20260101


def ensure_demo_import(*, residents: int, entities: int, progress: Progress | None = None) -> dict[str, Any]:
    """Generate (seeded) and import the demo sample as the system, from the city's public security bureau and
    market regulation bureau. Skipped when an import of this very sample has completed."""
    from liaocheng.geo.profile import load_profile

    from .generator import generate

    labels = {"population": f"demo:residents-{residents}-seed{DEMO_SEED}.csv",
              "entities": f"demo:entities-{entities}-seed{DEMO_SEED}.csv"}
    # a demo sample of any size already loaded counts: another size would repeat many of the same people
    done_kinds = set(ImportJob.objects.filter(file_name__startswith="demo:", status__in=[
        ImportStatus.COMPLETED, ImportStatus.COMPLETED_WITH_ERRORS]).values_list("kind", flat=True))
    result: dict[str, Any] = {"skipped": False, "residents": 0, "entities": 0, "seconds": 0.0}
    if done_kinds >= set(labels):
        result["skipped"] = True
        return result
    started = time.perf_counter()
    profile = load_profile(Path(settings.VAR_DIR) / "cache")
    with tempfile.TemporaryDirectory(prefix="liaocheng-demo-") as tmp:
        files = generate(profile, Path(tmp), residents=residents, entities=entities, seed=DEMO_SEED, progress=progress)
        sources = {"population": services.default_source_department(services.PUBLIC_SECURITY),
                   "entities": services.default_source_department("big_data")}
        for kind, path in (("population", files.residents), ("entities", files.entities)):
            if kind in done_kinds:
                continue
            job = run_import(kind, path, acting_user=services.SYSTEM, source_department=sources[kind],
                             progress=progress, file_label=labels[kind])
            result["residents" if kind == "population" else "entities"] = job.rows_committed
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def require_import_user(username: str) -> Any:
    from liaocheng.core.models import User

    user = User.objects.filter(username=username, is_active=True).select_related("department").first()
    if user is None:
        raise NotFound(f"用户不存在：{username}", f"no such user: {username}", field="as_user")
    if not access.has_perm(user, "registry.import"):
        raise PermissionDenied(f"{username} 无权导入基础数据 / {username} may not import base data")
    return user
