"""The component census (部件普查): the one write path for ``urban.Component``.

A component is one surveyed city asset (a lamp, a manhole cover, a bin, a bus shelter, a tree) with a
16-digit ID::

    3715020118000123
    └────┘└──┘└────┘
    county  minor   serial
    (6)     class   (6, not 000000)
            (4: major 2 + minor 2)

- digits 1–6: a county code of the city profile, current or historical (茌平县 371523 is read as its
  successor 茌平区 371503 for the location check);
- digits 7–10: the 4-digit code of an existing, active *component* minor class (``MinorClass.code``; the
  class's ``full_code`` is ``C`` + these digits, e.g. ``C0118`` 路灯);
- digits 11–16: the serial number within county and class, ``000000`` is not used.

The point (GCJ-02 by default, or WGS84 with ``datum="wgs84"``, converted on input) must lie inside
Liaocheng and inside the county of the code; the locator gives its grid, community and township. The
maintaining department defaults to the class's responsible department in that county
(``services.responsible_department``).

File formats (``parse_components_csv`` / ``parse_components_geojson``)
-----------------------------------------------------------------------
CSV: UTF-8 (with or without BOM) or GBK/GB18030, a header row, then one component per row. Columns
(English or Chinese names, any order; only ``code``, ``lon`` and ``lat`` are required)::

    code,name,lon,lat,address,owner,maintainer,maintainer_name,status,surveyed_on,class_code
    部件编码,名称,经度,纬度,地址,权属单位,养护部门编码,养护单位,状态,普查日期,小类

- ``class_code`` is optional (the class comes from the code); when given (``C0118`` or ``0118``) it must
  agree with the code;
- ``maintainer`` is a department code (e.g. ``371502-urban_management``); blank = the responsible
  department;
- ``status``: ``normal``/``damaged``/``missing``/``removed`` or 完好/损坏/丢失/已拆除; blank = normal;
- ``surveyed_on``: ``YYYY-MM-DD`` (also ``YYYY/MM/DD``), not in the future.

GeoJSON: a FeatureCollection of Point features; the coordinates give lon/lat, the properties carry the
same field names as the CSV columns.

A column (property) that is absent leaves that field of an existing component unchanged on re-import.

Imports (``import_components``) are cut into batches (default 1,000 rows). Every row of a batch is
validated before anything is written; a batch with any bad row writes nothing and its errors are
collected as (row, field, message zh, message en); the import goes on with the next batch. A good batch
is upserted by code in one transaction with one audit record. Re-running the same file is therefore a
no-op for the rows already written, and an interrupted or partly failed import is resumed by fixing the
file and running it again.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from liaocheng.core import access, audit
from liaocheng.core.errors import DomainError, InvalidInput, NotFound
from liaocheng.core.models import Department
from liaocheng.core.permissions import CITY_CODE
from liaocheng.core.tabular import map_header, normalise_header
from liaocheng.geo import datum as geo_datum
from liaocheng.geo import services as geo_services
from liaocheng.geo.datum import distance_m
from liaocheng.geo.locator import Location
from liaocheng.geo.models import Division, DivisionLevel, Grid

from . import services
from .models import KIND_PREFIX, ClassKind, Component, ComponentStatus, MinorClass

MANAGE_PERM = "urban.manage_components"
VIEW_PERM = "urban.view_cases"
REPORT_PERM = "urban.report"
SYSTEM = services.SYSTEM
BATCH_SIZE = 1000
MAX_ERRORS = 10_000  # errors kept in the result (the count goes on)
MAX_BBOX_FEATURES = 2000
NEAREST_LIMIT = 20
Progress = Callable[[str, int, int], None]

# canonical field -> accepted column / property names (compared case- and space-insensitively)
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "部件编码", "部件标识码", "编码", "component_code"),
    "class_code": ("class_code", "小类", "小类代码", "分类编码", "minor_class", "class"),
    "name": ("name", "名称", "部件名称"),
    "lon": ("lon", "经度", "lng", "longitude", "x"),
    "lat": ("lat", "纬度", "latitude", "y"),
    "address": ("address", "地址", "位置描述"),
    "owner": ("owner", "权属单位", "主管单位"),
    "maintainer": ("maintainer", "养护部门编码", "养护部门", "maintainer_code"),
    "maintainer_name": ("maintainer_name", "养护单位"),
    "status": ("status", "状态", "部件状态"),
    "surveyed_on": ("surveyed_on", "普查日期", "采集日期", "survey_date"),
}
REQUIRED = ("code", "lon", "lat")
TEXT_LIMITS = {"name": 100, "address": 200, "owner": 100, "maintainer_name": 100}
STATUS_ALIASES: dict[str, str] = {
    **{s.value: s.value for s in ComponentStatus},
    "完好": ComponentStatus.NORMAL, "正常": ComponentStatus.NORMAL, "损坏": ComponentStatus.DAMAGED,
    "破损": ComponentStatus.DAMAGED, "丢失": ComponentStatus.MISSING, "缺失": ComponentStatus.MISSING,
    "已拆除": ComponentStatus.REMOVED, "拆除": ComponentStatus.REMOVED,
}
# fields an import or an update writes (besides code, which never changes)
_WRITE_FIELDS = ["minor_class_id", "name", "lon", "lat", "address", "grid_code", "community_code", "township_code",
                 "county_code", "owner", "maintainer_id", "maintainer_name", "status", "surveyed_on"]
_AUDIT_FIELDS = ["status", "name", "address", "owner", "maintainer_id", "maintainer_name", "lon", "lat", "grid_code",
                 "surveyed_on"]


# --- errors and results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RowError:
    """One problem of one row: the file row (CSV: the header is row 1; GeoJSON: the feature number from 1),
    the field and the reason in Chinese and English."""

    row: int
    field: str
    message_zh: str
    message_en: str
    code: str = "invalid"


@dataclass
class ImportResult:
    source_name: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0  # rows of batches that were not written
    batches: int = 0
    failed_batches: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def written(self) -> int:
        return self.created + self.updated


_ALIAS = {normalise_header(alias): fld for fld, aliases in COLUMNS.items() for alias in aliases}


def _canonical_keys(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key.startswith("_"):
            out[key] = value
            continue
        fld = _ALIAS.get(normalise_header(key))
        if fld is not None and fld not in out:
            out[fld] = value
    return out


# --- parsing files ---------------------------------------------------------------------------------------

def _read_bytes(file: Any) -> bytes:
    if isinstance(file, bytes | bytearray):
        return bytes(file)
    if isinstance(file, str | Path):
        return Path(file).read_bytes()
    if hasattr(file, "seek"):
        with contextlib.suppress(OSError, ValueError):
            file.seek(0)
    data = file.read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InvalidInput("无法识别文件编码（应为 UTF-8、GBK 或 GB18030）",
                           "cannot tell the file's encoding (use UTF-8, GBK or GB18030)", field="file") from exc


def parse_components_csv(file: Any) -> list[dict[str, Any]]:
    """Rows of a census CSV as dicts by canonical field name, each with ``_row`` (the file row; header = 1).

    Refuses the whole file (``InvalidInput``, field ``header``, row 1) when a required column is missing or
    a column appears twice; blank lines are skipped. Columns the file does not have are absent from the
    dicts (an import then leaves those fields of existing components as they are)."""
    text = _decode(_read_bytes(file))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise InvalidInput(f"表头无法解析：{exc}", f"cannot parse the header: {exc}", field="header", row=1) from exc
    index = map_header(header, COLUMNS, REQUIRED, label=lambda f: COLUMNS[f][1])
    rows: list[dict[str, Any]] = []
    rownum = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rownum += 1
            rows.append({"_row": rownum, "_problem": ("row", "该行无法解析（文件可能被截断）",
                                                      f"the row cannot be parsed (the file may be truncated): {exc}")})
            continue
        rownum = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        row: dict[str, Any] = {"_row": rownum}
        for fld, i in index.items():
            row[fld] = cells[i].strip() if i < len(cells) else ""
        rows.append(row)
    return rows


def parse_components_geojson(file: Any) -> list[dict[str, Any]]:
    """Features of a GeoJSON FeatureCollection of Points as row dicts (``_row`` = feature number from 1).

    The file is refused (``InvalidInput``, field ``file``) when it is not JSON or not a FeatureCollection; a
    feature that is not a Point becomes a row with a problem, reported by the import like any bad row."""
    text = _decode(_read_bytes(file))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"文件不是有效的 JSON：第 {exc.lineno} 行 {exc.msg}",
                           f"the file is not valid JSON: line {exc.lineno}: {exc.msg}", field="file") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(
            data.get("features"), list):
        raise InvalidInput("文件应为 GeoJSON FeatureCollection", "the file must be a GeoJSON FeatureCollection",
                           field="file")
    rows: list[dict[str, Any]] = []
    for n, feature in enumerate(data["features"], 1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        row: dict[str, Any] = {"_row": n}
        if isinstance(props, dict):
            for key, value in _canonical_keys({str(k): v for k, v in props.items()}).items():
                if not key.startswith("_"):
                    row[key] = "" if value is None else value
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if (not isinstance(geometry, dict) or geometry.get("type") != "Point" or not isinstance(coords, list)
                or len(coords) < 2):
            row["_problem"] = ("geometry", "要素的几何应为点（Point）", "the feature's geometry must be a Point")
        else:
            row["lon"], row["lat"] = coords[0], coords[1]
        rows.append(row)
    return rows


def parse_components_file(file: Any, fmt: str | None = None, name: str = "") -> list[dict[str, Any]]:
    """``fmt`` csv | geojson, or decided from the file name (``.geojson``/``.json``) and content."""
    data = _read_bytes(file)
    if not fmt:
        lowered = name.lower()
        if lowered.endswith((".geojson", ".json")):
            fmt = "geojson"
        elif lowered.endswith(".csv"):
            fmt = "csv"
        else:
            fmt = "geojson" if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"
    if fmt == "csv":
        return parse_components_csv(data)
    if fmt == "geojson":
        return parse_components_geojson(data)
    raise InvalidInput("文件格式应为 csv 或 geojson", "the format must be csv or geojson", field="format")


# --- validation ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class County:
    code: str  # the code as written (may be historical)
    current: str  # the county code in force (the grids' county)
    name: str


class _Context:
    """What validation needs from the database, read once per import."""

    def __init__(self) -> None:
        self.counties = county_codes()
        self.current_names = {c.current: c.name for c in self.counties.values() if c.code == c.current}
        self.classes = {m.code: m for m in MinorClass.objects.filter(kind=ClassKind.COMPONENT)}
        self._depts: dict[str, Department | None] = {}
        self._responsible: dict[tuple[int, str], Department | None] = {}
        self.today = timezone.localdate()

    def department(self, code: str) -> Department | None:
        if code not in self._depts:
            self._depts[code] = Department.objects.filter(code=code, active=True).first()
        return self._depts[code]

    def responsible(self, minor: MinorClass, county: str) -> Department | None:
        key = (minor.pk, county)
        if key not in self._responsible:
            try:
                self._responsible[key] = services.responsible_department(minor, county)
            except NotFound:
                self._responsible[key] = None
        return self._responsible[key]

    def county_name(self, code: str) -> str:
        c = self.counties.get(code)
        return c.name if c else self.current_names.get(code, code)


def county_codes() -> dict[str, County]:
    """County codes of the city profile, current and historical, with the code in force for each."""
    rows = list(Division.objects.filter(level=DivisionLevel.COUNTY).values_list(
        "pk", "code", "name", "valid_to", "successor_id"))
    by_pk = {r[0]: r for r in rows}
    out: dict[str, County] = {}
    for _pk, code, name, valid_to, successor in rows:
        current, seen = code, 0
        while valid_to is not None and successor in by_pk and seen < 5:
            _p, current, _n, valid_to, successor = by_pk[successor]
            seen += 1
        if code not in out or valid_to is None:
            out[code] = County(code, current, name)
    return out


def check_code(code: str, ctx: _Context | None = None) -> tuple[str, County, MinorClass]:
    """The 16-digit ID split and checked: (code, county, minor class). ``InvalidInput`` (field ``code``)."""
    ctx = ctx or _Context()
    code = str(code or "").strip()
    if len(code) != 16 or not code.isascii() or not code.isdigit():
        raise InvalidInput("部件编码应为16位数字（县级区划6位 + 大类2位 + 小类2位 + 顺序号6位）",
                           "the component code must be 16 digits (county 6 + major 2 + minor 2 + serial 6)",
                           field="code", code="bad_code")
    county = ctx.counties.get(code[:6])
    if county is None:
        raise InvalidInput(f"部件编码前6位（{code[:6]}）不是聊城市的县级区划代码",
                           f"the first 6 digits ({code[:6]}) are not a county code of Liaocheng", field="code",
                           code="bad_county")
    minor = ctx.classes.get(code[6:10])
    if minor is None or not minor.active:
        raise InvalidInput(f"部件编码第7–10位（{code[6:10]}）不是已有的部件小类",
                           f"digits 7-10 ({code[6:10]}) are not a known component class", field="code",
                           code="unknown_class")
    if code[10:] == "000000":
        raise InvalidInput("部件编码的顺序号（后6位）不能为 000000", "the serial (last 6 digits) must not be 000000",
                           field="code", code="bad_serial")
    return code, county, minor


def parse_float(value: Any, fld: str) -> float:
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("经纬度应为数字" if fld in ("lon", "lat") else "应为数字",
                           "longitude/latitude must be numbers" if fld in ("lon", "lat") else "must be a number",
                           field=fld) from exc
    if isinstance(value, bool) or not math.isfinite(number):
        raise InvalidInput("经纬度应为数字", "longitude/latitude must be numbers", field=fld)
    return number


def _status(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        return ComponentStatus.NORMAL
    status = STATUS_ALIASES.get(text) or STATUS_ALIASES.get(text.lower())
    if status is None:
        raise InvalidInput("状态应为 完好、损坏、丢失 或 已拆除", "status must be normal, damaged, missing or removed",
                           field="status")
    return str(status)


def _date(value: Any, today: dt.date) -> dt.date | None:
    if isinstance(value, dt.date):
        day = value
    else:
        text = str(value or "").strip().replace("/", "-").replace(".", "-")
        if not text:
            return None
        try:
            day = dt.date.fromisoformat(text[:10]) if len(text) >= 10 else dt.date.fromisoformat(
                "-".join(p.zfill(2) for p in text.split("-")))
        except ValueError as exc:
            raise InvalidInput("普查日期格式应为 YYYY-MM-DD", "surveyed_on must be a date YYYY-MM-DD",
                               field="surveyed_on") from exc
    if day > today:
        raise InvalidInput("普查日期不能晚于今天", "surveyed_on must not be in the future", field="surveyed_on")
    return day


def _text(raw: Mapping[str, Any], fld: str) -> str:
    text = str(raw.get(fld) or "").strip()
    if len(text) > TEXT_LIMITS[fld]:
        limit = TEXT_LIMITS[fld]
        raise InvalidInput(f"不能超过 {limit} 字", f"may be at most {limit} characters", field=fld)
    return text


@dataclass
class _Clean:
    row: int
    code: str
    county: County
    minor: MinorClass
    lon: float
    lat: float
    values: dict[str, Any]  # the optional fields given (by attribute name)
    location: Location | None = None


def _clean_row(raw: Mapping[str, Any], row: int, ctx: _Context) -> tuple[_Clean | None, list[RowError]]:
    """Every field of the row is checked (all problems, not just the first)."""
    problems: list[RowError] = []

    def attempt(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except DomainError as exc:
            problems.append(RowError(row, exc.field or "row", exc.message_zh, exc.message_en, exc.code))
            return None

    if raw.get("_problem"):
        fld, zh, en = raw["_problem"]
        return None, [RowError(row, fld, zh, en)]
    checked = attempt(lambda: check_code(str(raw.get("code") or ""), ctx))
    lon = attempt(lambda: parse_float(raw.get("lon"), "lon"))
    lat = attempt(lambda: parse_float(raw.get("lat"), "lat"))
    values: dict[str, Any] = {}
    for fld in TEXT_LIMITS:
        if fld in raw:
            try:
                values[fld] = _text(raw, fld)
            except DomainError as exc:
                problems.append(RowError(row, fld, exc.message_zh, exc.message_en, exc.code))
    if "status" in raw:
        values["status"] = attempt(lambda: _status(raw.get("status")))
    if "surveyed_on" in raw:
        values["surveyed_on"] = attempt(lambda: _date(raw.get("surveyed_on"), ctx.today))
    if checked is not None and str(raw.get("class_code") or "").strip():
        given = str(raw["class_code"]).strip().upper()
        minor = checked[2]
        if given not in (minor.full_code, minor.code):
            problems.append(RowError(
                row, "class_code", f"小类（{given}）与部件编码的小类（{minor.full_code} {minor.name}）不符",
                f"class {given} does not match the class of the code ({minor.full_code})"))
    if "maintainer" in raw and str(raw.get("maintainer") or "").strip():
        dept = ctx.department(str(raw["maintainer"]).strip())
        if dept is None:
            problems.append(RowError(row, "maintainer", "养护部门不存在或已停用",
                                     "unknown or inactive maintaining department"))
        else:
            values["maintainer"] = dept
    elif "maintainer" in raw:
        values["maintainer"] = None  # blank: the responsible department
    if problems or checked is None or lon is None or lat is None:
        return None, problems
    code, county, minor = checked
    return _Clean(row, code, county, minor, lon, lat, values), []


def _locate(items: list[_Clean], datum: str, ctx: _Context) -> list[RowError]:
    """Convert to GCJ-02 and locate every point in one vectorised call; the point must be in the county of
    its code."""
    if not items:
        return []
    lons = np.array([c.lon for c in items], dtype=np.float64)
    lats = np.array([c.lat for c in items], dtype=np.float64)
    if datum == "wgs84":
        lons, lats = geo_datum.wgs84_to_gcj02_many(lons, lats)
    elif datum != "gcj02":
        raise InvalidInput("坐标系应为 gcj02 或 wgs84", "datum must be gcj02 or wgs84", field="datum")
    grids = geo_services.get_locator().codes_for(geo_services.get_locator().locate_many(lons, lats))
    errors: list[RowError] = []
    for item, glon, glat, grid in zip(items, lons, lats, grids, strict=True):
        grid = str(grid)
        item.lon, item.lat = float(glon), float(glat)
        if not grid:
            errors.append(RowError(item.row, "lon", "坐标不在聊城市范围内", "the point is outside Liaocheng",
                                   "outside_liaocheng"))
            continue
        if grid[:6] != item.county.current:
            errors.append(RowError(
                item.row, "lon",
                f"坐标位于{ctx.county_name(grid[:6])}，"
                f"与部件编码的县级区划（{item.county.code} {item.county.name}）不符",
                f"the point lies in {grid[:6]}, not in the county of the code ({item.county.code})",
                "county_mismatch"))
            continue
        item.location = Location.from_grid_code(grid)
    return errors


def _check_scope(items: list[_Clean], scopes: list[str] | None) -> list[RowError]:
    if scopes is None or "" in scopes:
        return []
    return [RowError(c.row, "code", "该部件不在您的授权范围内", "the component is outside your scope", "out_of_scope")
            for c in items if c.location and not any(c.location.grid_code.startswith(p) for p in scopes)]


# --- import ----------------------------------------------------------------------------------------------

def _authorise(acting_user: Any) -> list[str] | None:
    """Scopes (code prefixes) in which the user may write components; None: everywhere (the system)."""
    if acting_user == SYSTEM:
        return None
    if not access.has_perm(acting_user, MANAGE_PERM):
        access.require(acting_user, MANAGE_PERM, CITY_CODE)
    scopes = access.scopes_for(acting_user, MANAGE_PERM)
    return None if "" in scopes else scopes


def _apply(comp: Component, item: _Clean, ctx: _Context, *, new: bool) -> None:
    assert item.location is not None
    loc = item.location
    comp.minor_class = item.minor
    comp.lon, comp.lat = round(item.lon, 7), round(item.lat, 7)
    comp.grid_code, comp.community_code = loc.grid_code, loc.community_code
    comp.township_code, comp.county_code = loc.township_code, loc.county_code
    v = item.values
    for fld in TEXT_LIMITS:
        if fld in v:
            setattr(comp, fld, v[fld])
    if "status" in v:
        comp.status = v["status"]
    if "surveyed_on" in v:
        comp.surveyed_on = v["surveyed_on"]
    if v.get("maintainer") is not None:
        comp.maintainer = v["maintainer"]
    elif new or "maintainer" in v or comp.maintainer_id is None:
        comp.maintainer = ctx.responsible(item.minor, loc.county_code)


def _state(comp: Component) -> tuple[Any, ...]:
    return tuple(getattr(comp, f) for f in _WRITE_FIELDS)


def _write_batch(acting_user: Any, source_name: str, index: int, items: list[_Clean], ctx: _Context,
                 result: ImportResult) -> None:
    now = timezone.now()
    with transaction.atomic():
        existing = {c.code: c for c in Component.objects.select_for_update().filter(code__in=[i.code for i in items])}
        new: list[Component] = []
        changed: list[Component] = []
        unchanged = 0
        for item in items:
            comp = existing.get(item.code)
            if comp is None:
                comp = Component(code=item.code)
                _apply(comp, item, ctx, new=True)
                new.append(comp)
                continue
            before = _state(comp)
            _apply(comp, item, ctx, new=False)
            if _state(comp) != before:
                comp.updated_at = now
                changed.append(comp)
            else:
                unchanged += 1
        if new:
            Component.objects.bulk_create(new, batch_size=500)
        if changed:
            Component.objects.bulk_update(changed, [*(f.removesuffix("_id") for f in _WRITE_FIELDS), "updated_at"],
                                          batch_size=500)
        if new or changed:
            counties = sorted({i.location.county_code for i in items if i.location})
            audit.record(actor=acting_user, action="urban.import_components", object_type="urban.Component",
                         object_id=f"{items[0].code}..{items[-1].code}",
                         after={"source": source_name, "batch": index, "rows": len(items), "created": len(new),
                                "updated": len(changed), "unchanged": unchanged, "counties": counties},
                         division_code=counties[0] if len(counties) == 1 else CITY_CODE)
    result.created += len(new)
    result.updated += len(changed)
    result.unchanged += unchanged


def _add_errors(result: ImportResult, errors: list[RowError]) -> None:
    result.error_count += len(errors)
    room = MAX_ERRORS - len(result.errors)
    if room > 0:
        result.errors.extend(sorted(errors, key=lambda e: e.row)[:room])


def import_components(
    *, acting_user: Any, rows: Iterable[Mapping[str, Any]], source_name: str, batch_size: int = BATCH_SIZE,
    progress: Progress | None = None, datum: str = "gcj02",
) -> ImportResult:
    """Validate and upsert census rows (dicts by field name, e.g. from ``parse_components_csv``) by code.

    Needs ``urban.manage_components`` (rows outside the user's scope are row errors). Every batch of
    ``batch_size`` rows is validated whole; a batch with any bad row writes nothing (its errors are in the
    result with row and field) and the import continues with the next. A good batch is written in one
    transaction with one audit record. A row's number is its ``_row`` (as the parsers set it), else its
    position from 1."""
    if datum not in ("gcj02", "wgs84"):
        raise InvalidInput("坐标系应为 gcj02 或 wgs84", "datum must be gcj02 or wgs84", field="datum")
    if not 1 <= batch_size <= 50_000:
        raise InvalidInput("批次大小应在 1–50000 之间", "batch size must be 1-50000", field="batch_size")
    scopes = _authorise(acting_user)
    ctx = _Context()
    rows = list(rows)
    result = ImportResult(source_name=source_name, total=len(rows))
    seen: dict[str, int] = {}
    done = 0
    if progress is not None:
        progress("部件 / components", 0, len(rows))
    for index, start in enumerate(range(0, len(rows), batch_size), 1):
        chunk = rows[start:start + batch_size]
        errors: list[RowError] = []
        items: list[_Clean] = []
        for position, raw in enumerate(chunk, start + 1):
            raw = _canonical_keys(raw) if any(k not in COLUMNS and not k.startswith("_") for k in raw) else raw
            row = int(raw.get("_row") or position)
            item, problems = _clean_row(raw, row, ctx)
            if item is None:
                errors.extend(problems)
                continue
            if item.code in seen:
                errors.append(RowError(row, "code", f"部件编码与第 {seen[item.code]} 行重复",
                                       f"duplicate component code (same as row {seen[item.code]})", "duplicate"))
                continue
            seen[item.code] = row
            items.append(item)
        errors += _locate(items, datum, ctx)
        errors += _check_scope(items, scopes)
        if not errors:
            missing = [i for i in items if i.values.get("maintainer") is None and i.location is not None
                       and ctx.responsible(i.minor, i.location.county_code) is None]
            errors += [RowError(i.row, "maintainer", "未找到该小类的责任部门，请填写养护部门编码",
                                "no responsible department for this class: give the maintainer") for i in missing]
        result.batches += 1
        if not errors and items:
            try:
                _write_batch(acting_user, source_name, index, items, ctx, result)
            except IntegrityError:
                errors = [RowError(items[0].row, "code", "部件编码已存在（可能正被同时导入），请重新运行导入",
                                   "a component code already exists (imported at the same time?): run the import again",
                                   "conflict")]
        if errors:
            result.failed_batches += 1
            result.failed += len(chunk)
            _add_errors(result, errors)
        done += len(chunk)
        if progress is not None:
            progress("部件 / components", done, len(rows))
    return result


# --- single changes --------------------------------------------------------------------------------------

def get_component(code: str) -> Component:
    comp = Component.objects.select_related("minor_class", "maintainer").filter(code=str(code or "").strip()).first()
    if comp is None:
        raise NotFound("部件不存在", "no such component", field="code")
    return comp


def visible_components(*, acting_user: Any) -> QuerySet[Component]:
    """Components within the user's scope (``urban.view_cases``, by grid code)."""
    return access.filter_by_scope(Component.objects.select_related("minor_class", "maintainer"), acting_user,
                                  VIEW_PERM, "grid_code")


_UNSET: Any = object()


def update_component(
    *, acting_user: Any, code: str, status: str | None = None, name: str | None = None, address: str | None = None,
    owner: str | None = None, maintainer: str | Department | None = _UNSET, maintainer_name: str | None = None,
    surveyed_on: dt.date | str | None = _UNSET, lon: float | None = None, lat: float | None = None,
    datum: str = "gcj02",
) -> Component:
    """Change a component's status or details (``urban.manage_components`` for its grid; audited with
    before/after). A new point must stay inside the county of the code. ``maintainer=""`` resets the
    maintaining department to the responsible one."""
    comp = get_component(code)
    access.require(acting_user, MANAGE_PERM, comp.grid_code)
    ctx = _Context()
    raw: dict[str, Any] = {"code": comp.code}
    for fld, value in (("name", name), ("address", address), ("owner", owner), ("maintainer_name", maintainer_name),
                       ("status", status)):
        if value is not None:
            raw[fld] = value
    if surveyed_on is not _UNSET:
        raw["surveyed_on"] = surveyed_on or ""
    if maintainer is not _UNSET and not isinstance(maintainer, Department):
        raw["maintainer"] = maintainer or ""
    if (lon is None) != (lat is None):
        raise InvalidInput("经度和纬度应同时给出", "give both longitude and latitude", field="lon")
    moved = lon is not None and lat is not None
    if moved:
        raw["lon"], raw["lat"] = lon, lat
    else:
        raw["lon"], raw["lat"] = comp.lon, comp.lat
    item, problems = _clean_row(raw, 1, ctx)
    if problems:
        p = problems[0]
        raise InvalidInput(p.message_zh, p.message_en, field=p.field, code=p.code)
    assert item is not None
    if isinstance(maintainer, Department):
        item.values["maintainer"] = maintainer
    if moved:
        errors = _locate([item], datum, ctx)
        if errors:
            raise InvalidInput(errors[0].message_zh, errors[0].message_en, field=errors[0].field, code=errors[0].code)
        assert item.location is not None
        access.require(acting_user, MANAGE_PERM, item.location.grid_code)
    else:
        item.location = Location(comp.grid_code, comp.community_code, comp.township_code, comp.county_code)
    with transaction.atomic():
        locked = Component.objects.select_for_update().get(pk=comp.pk)
        before = audit.snapshot(locked, _AUDIT_FIELDS)
        state = _state(locked)
        _apply(locked, item, ctx, new=False)
        if _state(locked) == state:
            return locked
        locked.save()
        audit.record(actor=acting_user, action="urban.update_component", object_type="urban.Component",
                     object_id=locked.code, before=before, after=audit.snapshot(locked, _AUDIT_FIELDS),
                     division_code=locked.grid_code)
    return locked


# --- reads for the map and the report picker ----------------------------------------------------------------

def _class_filter(classes: Iterable[str] | None) -> Q | None:
    """Full codes (``C0118``) or prefixes (``C01`` a major class, ``C`` all components)."""
    condition = Q()
    any_class = False
    for raw in classes or []:
        code = str(raw or "").strip().upper()
        if not code:
            continue
        if code.isdigit():
            code = KIND_PREFIX[ClassKind.COMPONENT] + code
        condition |= Q(minor_class__full_code__startswith=code)
        any_class = True
    return condition if any_class else None


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` (GCJ-02)."""
    parts = [p.strip() for p in str(value or "").split(",")]
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError as exc:
        raise InvalidInput("bbox 应为 最小经度,最小纬度,最大经度,最大纬度", "bbox must be minlon,minlat,maxlon,maxlat",
                           field="bbox") from exc
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)) or minx > maxx or miny > maxy:
        raise InvalidInput("bbox 范围不正确", "bbox is not a valid extent", field="bbox")
    return minx, miny, maxx, maxy


def components_in_bbox(
    bbox: tuple[float, float, float, float], classes: Iterable[str] | None = None, limit: int = MAX_BBOX_FEATURES,
    *, acting_user: Any = None, status: str | None = None,
) -> list[Component]:
    """Components inside ``bbox`` (minlon, minlat, maxlon, maxlat, GCJ-02), optionally of some classes, at most
    ``limit`` (ordered by code). With ``acting_user``: only those in the user's ``urban.view_cases`` scope."""
    minx, miny, maxx, maxy = bbox
    qs = (visible_components(acting_user=acting_user) if acting_user is not None
          else Component.objects.select_related("minor_class", "maintainer"))
    qs = qs.filter(lon__range=(minx, maxx), lat__range=(miny, maxy))
    condition = _class_filter(classes)
    if condition is not None:
        qs = qs.filter(condition)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("code")[:max(0, limit)])


@dataclass(frozen=True)
class Nearby:
    component: Component
    distance_m: float


def nearest_components(
    lon: float, lat: float, radius_m: float = 50.0, class_code: str | None = None, *, datum: str = "gcj02",
    limit: int = NEAREST_LIMIT, acting_user: Any = None,
) -> list[Nearby]:
    """Components within ``radius_m`` of the point (nearest first; removed ones left out) for the report
    picker. ``datum="wgs84"`` converts a GPS point first. With ``acting_user``: only where the user may
    report (``urban.report`` scope)."""
    if datum == "wgs84":
        lon, lat = geo_datum.wgs84_to_gcj02(lon, lat)
    elif datum != "gcj02":
        raise InvalidInput("坐标系应为 gcj02 或 wgs84", "datum must be gcj02 or wgs84", field="datum")
    radius_m = min(max(float(radius_m), 1.0), 2000.0)
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    qs = Component.objects.select_related("minor_class").filter(
        lon__range=(lon - dlon, lon + dlon), lat__range=(lat - dlat, lat + dlat)).exclude(
        status=ComponentStatus.REMOVED)
    if acting_user is not None:
        qs = access.filter_by_scope(qs, acting_user, REPORT_PERM, "grid_code")
    condition = _class_filter([class_code] if class_code else None)
    if condition is not None:
        qs = qs.filter(condition)
    near = [Nearby(c, distance_m(lon, lat, c.lon, c.lat)) for c in qs[:5000]]
    near = [n for n in near if n.distance_m <= radius_m]
    near.sort(key=lambda n: (n.distance_m, n.component.code))
    return near[:limit]


def for_report(component_code: str, class_code: str, lon: float | None, lat: float | None,
               datum: str) -> tuple[Component, str, float, float, str]:
    """For ``services.report_case``: the component reported on, the case class (the component's; a class
    given must agree) and the point (the one given, else the component's, GCJ-02)."""
    comp = Component.objects.select_related("minor_class").filter(code=str(component_code).strip()).first()
    if comp is None:
        raise InvalidInput("所选部件不存在", "no such component", field="component_code")
    if comp.status == ComponentStatus.REMOVED:
        raise InvalidInput("所选部件已拆除", "the component has been removed", field="component_code")
    minor = comp.minor_class
    given = (class_code or "").strip().upper()
    if given and given != minor.full_code:
        raise InvalidInput(f"所选小类与部件的小类（{minor.full_code} {minor.name}）不符",
                           f"the class does not match the component's class ({minor.full_code})", field="class_code")
    if lon is None or lat is None:
        return comp, minor.full_code, comp.lon, comp.lat, "gcj02"
    return comp, minor.full_code, lon, lat, datum


def feature(comp: Component) -> dict[str, Any]:
    """A component as a GeoJSON Feature (GCJ-02)."""
    return {
        "type": "Feature", "id": comp.code,
        "geometry": {"type": "Point", "coordinates": [comp.lon, comp.lat]},
        "properties": {
            "code": comp.code, "class_code": comp.minor_class.full_code, "class_name": comp.minor_class.name,
            "name": comp.name, "address": comp.address, "status": comp.status,
            "status_label": str(comp.get_status_display()), "grid_code": comp.grid_code,
            "county_code": comp.county_code, "owner": comp.owner,
            "maintainer": comp.maintainer.name if comp.maintainer else comp.maintainer_name,
        },
    }


# --- demo census -----------------------------------------------------------------------------------------

DEMO_SEED = 20260301
DEMO_SOURCE = "demo:census"
# minor code -> (share, spacing along the street in m, offset from the centre line in m, run length range)
DEMO_CLASSES: dict[str, tuple[float, float, float, tuple[int, int]]] = {
    "0118": (0.26, 35, 12, (8, 30)),   # 路灯
    "0402": (0.16, 8, 10, (10, 40)),   # 行道树
    "0305": (0.10, 80, 11, (3, 10)),   # 垃圾箱
    "0102": (0.07, 50, 0, (4, 16)),    # 污水井盖
    "0101": (0.06, 60, 4, (4, 12)),    # 上水井盖
    "0103": (0.06, 50, 3, (4, 16)),    # 雨水井盖
    "0104": (0.06, 30, 9, (4, 16)),    # 雨水箅子
    "0105": (0.04, 80, 7, (3, 10)),    # 电力井盖
    "0106": (0.04, 70, 12, (3, 10)),   # 路灯井盖
    "0107": (0.04, 80, -7, (3, 10)),   # 电信井盖
    "0113": (0.03, 120, 10, (2, 6)),   # 消防设施（消火栓）
    "0209": (0.03, 150, 11, (2, 6)),   # 交通标志牌
    "0213": (0.03, 400, 12, (2, 5)),   # 路名牌
    "0203": (0.02, 500, 13, (2, 5)),   # 公交站亭
}
DEMO_OWNERS = {"0101": "聊城市水务集团", "0105": "国网聊城供电公司", "0107": "中国电信聊城分公司",
               "0203": "聊城市公共交通集团", "0113": "消防救援机构"}
STREET_NAMES = [
    "东昌路", "柳园路", "花园路", "兴华路", "光岳路", "建设路", "振兴路", "向阳路", "利民路", "新华路",
    "卫育路", "昌润路", "湖南路", "站前街", "育新街", "古楼街", "民生路", "文化路", "红星路", "健康街",
    "望湖路", "运河路", "龙山路", "凤凰路", "东关街", "西关街", "南环路", "北环路", "团结路", "人民路",
    "和平路", "金柱路", "长江路", "黄河路", "华山路", "泰山路", "松桂街", "青年路", "工业路", "幸福街",
]
_M_PER_DEG = 111_320.0


def ensure_demo_components(n: int, *, seed: int = DEMO_SEED, progress: Progress | None = None) -> int:
    """A realistic, deterministic census of about ``n`` components along synthetic streets of the city centre
    and the county seats (lamps, manhole covers of several kinds, bins, bus shelters, trees, signs,
    hydrants), written through ``import_components`` as the system. Only when no component exists; returns
    the number written."""
    if n <= 0 or Component.objects.exists():
        return 0
    ctx = _Context()
    if not all(code in ctx.classes for code in DEMO_CLASSES):
        return 0  # the classes are not loaded yet
    rng = random.Random(seed)
    urban = [(code, county, float(x0 or 0), float(x1 or 0), float(y0 or 0), float(y1 or 0))
             for code, county, x0, x1, y0, y1 in Grid.objects.filter(
                 size_class="urban", minx__isnull=False, maxx__isnull=False, miny__isnull=False,
                 maxy__isnull=False).values_list("code", "county_code", "minx", "maxx", "miny", "maxy")]
    if not urban:
        return 0
    urban_codes = {g[0] for g in urban}
    counties = sorted({g[1] for g in urban})
    weights = {c: sum(1 for g in urban if g[1] == c) for c in counties}
    total_w = sum(weights.values())
    quotas = {c: int(n * weights[c] / total_w) for c in counties}
    quotas[max(counties, key=lambda c: weights[c])] += n - sum(quotas.values())
    names = {c.code: c.name for c in ctx.counties.values() if c.code == c.current}
    locator = geo_services.get_locator()
    rows: list[dict[str, Any]] = []
    base_day = timezone.localdate() - dt.timedelta(days=200)  # surveyed over the half year before the last weeks
    for county in counties:
        cells = [g for g in urban if g[1] == county]
        minx, maxx = min(g[2] for g in cells), max(g[3] for g in cells)
        miny, maxy = min(g[4] for g in cells), max(g[5] for g in cells)
        lat0 = (miny + maxy) / 2
        mx = _M_PER_DEG * math.cos(math.radians(lat0))  # metres per degree of longitude
        step = 380.0
        xs = [minx + (i + 0.5) * step / mx for i in range(int((maxx - minx) * mx / step))]
        ys = [miny + (j + 0.5) * step / _M_PER_DEG for j in range(int((maxy - miny) * _M_PER_DEG / step))]
        if not xs or not ys:
            continue
        serial: dict[str, int] = {}
        shares = sorted(DEMO_CLASSES.items())
        quota = quotas[county]
        counts = {code: int(quota * share) for code, (share, *_rest) in shares}
        counts["0118"] += quota - sum(counts.values())
        for code, (_share, spacing, offset, (run_lo, run_hi)) in shares:
            want = counts[code]
            got: list[tuple[float, float, str]] = []
            for _round in range(8):
                if len(got) >= want:
                    break
                cand: list[tuple[float, float, str]] = []
                while len(cand) < (want - len(got)) * 1.6 + 4:
                    side = rng.choice((-1, 1))
                    run = rng.randint(run_lo, run_hi)
                    if rng.random() < 0.5:  # an east-west street
                        j = rng.randrange(len(ys))
                        street = STREET_NAMES[j % len(STREET_NAMES)]
                        x = rng.uniform(minx, maxx)
                        y = ys[j] + side * offset / _M_PER_DEG
                        cand += [(x + k * spacing / mx, y, street) for k in range(run)]
                    else:  # a north-south street
                        i = rng.randrange(len(xs))
                        street = STREET_NAMES[(i + 17) % len(STREET_NAMES)]
                        x = xs[i] + side * offset / mx
                        y = rng.uniform(miny, maxy)
                        cand += [(x, y + k * spacing / _M_PER_DEG, street) for k in range(run)]
                grids = locator.codes_for(locator.locate_many(np.array([c[0] for c in cand]),
                                                              np.array([c[1] for c in cand])))
                got += [c for c, g in zip(cand, grids, strict=True) if str(g) in urban_codes and str(g)[:6] == county]
            minor = ctx.classes[code]
            for x, y, street in got[:want]:
                serial[code] = serial.get(code, 0) + 1
                roll = rng.random()
                status = ("removed" if roll < 0.004 else "missing" if roll < 0.015 else "damaged" if roll < 0.045
                          else "normal")
                rows.append({
                    "code": f"{county}{code}{serial[code]:06d}", "lon": round(x, 7), "lat": round(y, 7),
                    "name": f"{street}{minor.name}{serial[code]:04d}",
                    "address": f"{names.get(county, '')}{street}",
                    "owner": DEMO_OWNERS.get(code, ""), "status": status,
                    "surveyed_on": (base_day + dt.timedelta(days=rng.randrange(180))).isoformat(),
                })
    for i, row in enumerate(rows, 1):
        row["_row"] = i
    result = import_components(acting_user=SYSTEM, rows=rows, source_name=DEMO_SOURCE, batch_size=2000,
                               progress=progress)
    return result.written


__all__ = [
    "COLUMNS", "ImportResult", "Nearby", "RowError", "check_code", "components_in_bbox", "ensure_demo_components",
    "feature", "for_report", "get_component", "import_components", "nearest_components", "parse_bbox",
    "parse_components_csv", "parse_components_file", "parse_components_geojson", "update_component",
    "visible_components",
]
