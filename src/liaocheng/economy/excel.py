"""Reading indicator tables in the layouts statistics bureaus publish (.xlsx), without Django.

Three layouts are recognised on each sheet, by the header row (the first of the top 20 rows that fits):

``by_division``   one row per indicator, one column per division (聊城市, 东昌府区, …, 临清市), with 指标名称 and
                  单位 columns; the period comes from the caller or the title (``2024年聊城市各县（市、区）…``).
``by_indicator``  transposed: one row per division, one column per indicator (the unit in the header,
                  ``地区生产总值（亿元）``, or in a unit row below it).
``time_series``   one row per indicator, one column per period (2015, 2016年, 2024Q3, …) for one division,
                  named by the caller or the title (``莘县2015—2024年主要经济指标``).

Title rows above the header, blank rows and footnotes (``注：…``, ``资料来源：…``) are skipped. Numbers may be
text with thousands separators; ``—``, ``…``, ``-`` and empty cells are missing values (nothing stored).
Divisions are matched by name with padding removed (``莘  县``); 茌平县/茌平区 map by year (see ``periods``).
Functional zones (开发区, 高新区, 度假区) are not divisions: their columns/rows are skipped with a warning.

Every bad cell is reported with sheet, row, column and a reason in Chinese and English.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from .catalogue import UNIT_ALIASES, UNIT_FACTORS
from .periods import (
    CITY,
    Period,
    allowed,
    canonical_division,
    division_for_name,
    is_zone,
    normalise,
    parse_period,
    period_in_title,
)

HEADER_SCAN_ROWS = 20
MAX_ROWS = 5000
MAX_COLUMNS = 200
QUANT = Decimal("0.0001")
LIMIT = Decimal("1e15")

NAME_HEADERS = frozenset({"指标名称", "指标", "项目", "指标名", "名称", "主要指标", "项目名称"})
UNIT_HEADERS = frozenset({"单位", "计量单位", "单位名称"})
DIVISION_HEADERS = frozenset({"地区", "县(市、区)", "县(市,区)", "县(市区)", "县市区", "区域", "地区名称", "县别",
                              "县区", "区县", "县(市、区)名称", "县市区名称", "行政区划", "区划"})
KNOWN_UNITS = frozenset({"亿元", "万元", "元", "%", "万人", "人"})
MISSING = frozenset({"", "-", "--", "—", "——", "–", "...", "......", "…", "……", "/", "不详", "无"})
_FOOTNOTE = re.compile(r"^(注\d*|说明|备注|资料来源|数据来源|来源|附注)[:：.]|^注$|^(资料来源|数据来源)")
_PREFIX = re.compile(
    r"^(其中[:：]?|#+|△|▲|\*+|[一二三四五六七八九十]+[、.]|\(\d+\)|\([一二三四五六七八九十]+\)|\d+[.、])+"
)
_UNIT_IN_NAME = re.compile(r"^(.+?)\(([^()]*)\)$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass(frozen=True)
class IndicatorRef:
    code: str
    name: str
    unit: str
    frequency: str


@dataclass(frozen=True)
class CellProblem:
    sheet: str
    row: int
    column: str
    reason_zh: str
    reason_en: str

    @property
    def cell(self) -> str:
        return f"{self.column}{self.row}"

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "reason_zh": self.reason_zh,
                "reason_en": self.reason_en}

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}: {self.reason_zh} / {self.reason_en}"


@dataclass(frozen=True)
class ParsedValue:
    indicator: str
    division: str
    period: Period
    value: Decimal
    sheet: str
    row: int
    column: str

    @property
    def cell(self) -> str:
        return f"{self.sheet}!{self.column}{self.row}"


@dataclass
class ParsedWorkbook:
    values: list[ParsedValue] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    layouts: dict[str, str] = field(default_factory=dict)


class UnreadableFile(Exception):
    """Not an .xlsx workbook."""


# --- names, units, numbers ----------------------------------------------------------------------

def clean_name(text: object) -> str:
    """An indicator name as written in a table, without numbering, 其中：, # and padding."""
    return _PREFIX.sub("", normalise(text)).rstrip("*#")


class Matcher:
    """Finds catalogue indicators by name or alias (normalised), with a unit in brackets split off."""

    def __init__(self, indicators: Iterable[tuple[IndicatorRef, Iterable[str]]]) -> None:
        self._by_name: dict[str, IndicatorRef] = {}
        for ref, aliases in indicators:
            for name in (ref.name, *aliases):
                self._by_name.setdefault(clean_name(name), ref)

    def match(self, text: object) -> tuple[IndicatorRef | None, str]:
        key = clean_name(text)
        if not key:
            return None, ""
        ref = self._by_name.get(key)
        if ref is not None:
            return ref, ""
        m = _UNIT_IN_NAME.match(key)
        if m:
            ref = self._by_name.get(clean_name(m.group(1)))
            if ref is not None:
                return ref, m.group(2)
        return None, ""


def unit_factor(written: str, unit: str) -> Decimal | None:
    """The factor converting values in ``written`` units to ``unit``; None when they do not convert."""
    w = normalise(written)
    w = UNIT_ALIASES.get(w, w)
    u = normalise(unit)
    if not w or w == u:
        return Decimal(1)
    factor = UNIT_FACTORS.get((w, u))
    return Decimal(factor) if factor else None


def parse_number(value: Any, percent_ok: bool) -> tuple[Decimal | None, str | None]:
    """(number, None), (None, None) for a missing value, or (None, reason) for a bad cell."""
    if value is None:
        return None, None
    if isinstance(value, bool | datetime | date | time):
        return None, "not_a_number"
    if isinstance(value, int):
        return Decimal(value), None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, "not_a_number"
        return Decimal(repr(value)), None
    text = normalise(value).replace("\u2212", "-")
    if text in MISSING:
        return None, None
    if text.endswith("%"):
        if not percent_ok:
            return None, "percent"
        text = text[:-1]
    if "," in text:
        if not _THOUSANDS.match(text):
            return None, "not_a_number"
        text = text.replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, "not_a_number"
    if not number.is_finite():
        return None, "not_a_number"
    return number, None


# --- the workbook --------------------------------------------------------------------------------

def read_sheets(data: bytes) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """(sheet title, rows of cell values) for every worksheet; ``UnreadableFile`` if not .xlsx."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(str(exc)) from exc
    try:
        sheets = []
        for ws in wb.worksheets:
            rows: list[tuple[Any, ...]] = []
            for i, row in enumerate(ws.iter_rows(values_only=True)):
                if i >= MAX_ROWS:
                    break
                rows.append(tuple(row[:MAX_COLUMNS]))
            sheets.append((ws.title, rows))
        return sheets
    finally:
        wb.close()


def _text(row: tuple[Any, ...], c: int) -> str:
    return normalise(row[c]) if c < len(row) and row[c] is not None else ""


def _get(row: tuple[Any, ...], c: int) -> Any:
    return row[c] if c < len(row) else None


def _col(c: int) -> str:
    return get_column_letter(c + 1)


@dataclass
class _Header:
    layout: str
    row: int  # 0-based index of the header row
    label_col: int  # indicator names (by_division, time_series) or divisions (by_indicator)
    unit_col: int | None
    columns: dict[int, Any]  # by_division: col -> division name; time_series: col -> Period;
    # by_indicator: col -> (IndicatorRef, unit written in the header)


def _find_header(rows: list[tuple[Any, ...]], matcher: Matcher) -> _Header | None:
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        texts = [_text(row, c) for c in range(len(row))]
        name_col = next((c for c, t in enumerate(texts) if t in NAME_HEADERS), None)
        unit_col = next((c for c, t in enumerate(texts) if t in UNIT_HEADERS), None)
        div_header = next((c for c, t in enumerate(texts) if t in DIVISION_HEADERS), None)
        div_cols = {c: row[c] for c, t in enumerate(texts)
                    if t and not t.isdigit() and (division_for_name(t, 2024) or is_zone(t))}
        if len(div_cols) >= 2 or (name_col is not None and div_cols):
            label = name_col if name_col is not None else next(
                (c for c in range(len(row)) if c not in div_cols and c != unit_col), None)
            if label is not None:
                return _Header("by_division", r, label, unit_col, div_cols)
        period_cols = {c: p for c in range(len(row)) if (p := parse_period(row[c])) is not None}
        if len(period_cols) >= 2 or (name_col is not None and period_cols):
            label = name_col if name_col is not None else next(
                (c for c in range(len(row)) if c not in period_cols and c != unit_col), None)
            if label is not None:
                return _Header("time_series", r, label, unit_col, period_cols)
        ind_cols = {}
        for c, t in enumerate(texts):
            if t and c != div_header:
                ref, unit = matcher.match(t)
                if ref is not None:
                    ind_cols[c] = (ref, unit)
        if len(ind_cols) >= 2 or (div_header is not None and ind_cols):
            label = div_header if div_header is not None else next(
                (c for c in range(len(row)) if c not in ind_cols), None)
            if label is not None:
                return _Header("by_indicator", r, label, None, ind_cols)
    return None


def _is_blank(row: tuple[Any, ...]) -> bool:
    return all(v is None or normalise(v) == "" for v in row)


def _is_footnote(row: tuple[Any, ...]) -> bool:
    first = next((normalise(v) for v in row if v is not None and normalise(v)), "")
    return bool(_FOOTNOTE.match(first))


_REASONS = {
    "not_a_number": ("不是数值：{v}", "not a number: {v}"),
    "percent": ("该指标单位不是%，不能填写百分数：{v}", "a percentage where the unit is not %: {v}"),
    "too_large": ("数值过大：{v}", "number too large: {v}"),
}


class _SheetReader:
    def __init__(self, title: str, rows: list[tuple[Any, ...]], matcher: Matcher, period: Period | None,
                 division: str | None, out: ParsedWorkbook) -> None:
        self.title, self.rows, self.matcher, self.out = title, rows, matcher, out
        self.period, self.division = period, division
        self._freq_reported: set[tuple[str, str]] = set()

    def problem(self, r: int, c: int, zh: str, en: str) -> None:
        self.out.problems.append(CellProblem(self.title, r + 1, _col(c), zh, en))

    def title_text(self, header_row: int) -> tuple[str, int, int]:
        """All text above the header (the title), with the position of its first cell."""
        parts: list[str] = []
        pos = (0, 0)
        for r in range(header_row):
            for c, v in enumerate(self.rows[r]):
                if v is not None and normalise(v):
                    if not parts:
                        pos = (r, c)
                    parts.append(str(v))
        return " ".join(parts), pos[0], pos[1]

    def value(self, r: int, c: int, ref: IndicatorRef, factor: Decimal, division: str, period: Period) -> None:
        raw = _get(self.rows[r], c)
        number, reason = parse_number(raw, percent_ok=ref.unit == "%")
        if reason is None and number is not None and abs(number) >= LIMIT:
            reason = "too_large"
        if reason is not None:
            zh, en = _REASONS[reason]
            self.problem(r, c, zh.format(v=raw), en.format(v=raw))
            return
        if number is None:
            return
        if not allowed(ref.frequency, period):
            key = (ref.code, str(period))
            if key not in self._freq_reported:
                self._freq_reported.add(key)
                self.problem(r, c, f"{ref.name}为{_FREQ_ZH[ref.frequency]}指标，没有{period}期的数值",
                             f"{ref.code} is a {ref.frequency} indicator: no value for period {period}")
            return
        value = (number * factor).quantize(QUANT)
        self.out.values.append(ParsedValue(ref.code, division, period, value, self.title, r + 1, _col(c)))

    def factor(self, r: int, c: int | None, ref: IndicatorRef, written: str) -> Decimal | None:
        factor = unit_factor(written, ref.unit)
        if factor is None:
            self.problem(r, c if c is not None else 0, f"单位“{written}”与指标{ref.name}的单位“{ref.unit}”不一致",
                         f"unit '{written}' does not match the unit of {ref.code} ({ref.unit})")
        return factor

    def sheet_period(self, header: _Header) -> Period | None:
        title, tr, tc = self.title_text(header.row)
        in_title = period_in_title(title) if title else None
        if self.period is not None:
            if in_title is not None and in_title != self.period:
                self.problem(tr, tc, f"标题中的统计期 {in_title} 与指定的统计期 {self.period} 不一致",
                             f"the title names period {in_title}, but {self.period} was given")
                return None
            return self.period
        if in_title is None:
            self.problem(header.row, 0, "无法确定统计期：标题中没有年份，请指定统计期",
                         "cannot tell the period: the title names no year; give the period")
        return in_title

    def sheet_division(self, header: _Header) -> str | None:
        if self.division is not None:
            return self.division
        title, tr, tc = self.title_text(header.row)
        key = normalise(title)
        from .periods import DIVISION_NAMES

        counties = {code for code, name in DIVISION_NAMES.items()
                    if code != CITY and (name in key or (len(name) > 2 and name[:-1] in key))}
        counties = {canonical_division(c, 2024) for c in counties}
        if len(counties) == 1:
            return counties.pop()
        if not counties and ("聊城" in key or "全市" in key):
            return CITY
        self.problem(tr, tc, "无法确定地区：请在标题中写明或指定地区",
                     "cannot tell the division: name it in the title or give the division")
        return None

    def read(self) -> None:
        header = _find_header(self.rows, self.matcher)
        if header is None:
            if any(not _is_blank(row) for row in self.rows):
                self.out.warnings.append(f"{self.title}: 未识别出表头，已跳过 / no header recognised, sheet skipped")
            return
        self.out.layouts[self.title] = header.layout
        if header.layout == "by_division":
            self.read_by_division(header)
        elif header.layout == "time_series":
            self.read_time_series(header)
        else:
            self.read_by_indicator(header)

    def data_rows(self, start: int) -> Iterable[int]:
        for r in range(start, len(self.rows)):
            row = self.rows[r]
            if _is_blank(row) or _is_footnote(row):
                continue
            yield r

    def indicator_row(self, r: int, header: _Header, value_cols: Iterable[int]) -> tuple[IndicatorRef, Decimal] | None:
        row = self.rows[r]
        name = _get(row, header.label_col)
        has_values = any(parse_number(_get(row, c), True) != (None, None) for c in value_cols)
        ref, unit_in_name = self.matcher.match(name) if name is not None else (None, "")
        if ref is None:
            if has_values:
                if name is None or not normalise(name):
                    self.problem(r, header.label_col, "缺少指标名称", "indicator name is missing")
                else:
                    self.problem(r, header.label_col, f"指标目录中没有该指标：{name}",
                                 f"unknown indicator (not in the catalogue): {name}")
            return None
        written = _text(row, header.unit_col) if header.unit_col is not None else ""
        factor = self.factor(r, header.unit_col, ref, written or unit_in_name)
        return (ref, factor) if factor is not None else None

    def read_by_division(self, header: _Header) -> None:
        period = self.sheet_period(header)
        if period is None:
            return
        divisions: dict[int, str] = {}
        for c, name in header.columns.items():
            code = division_for_name(name, period.year)
            if code is None:
                self.out.warnings.append(f"{self.title}!{_col(c)}{header.row + 1}: {normalise(name)} 不是行政区划，"
                                         f"已跳过 / not a division, column skipped")
            else:
                divisions[c] = code
        for r in self.data_rows(header.row + 1):
            found = self.indicator_row(r, header, divisions)
            if found is None:
                continue
            ref, factor = found
            for c, code in divisions.items():
                self.value(r, c, ref, factor, code, period)

    def read_time_series(self, header: _Header) -> None:
        if self.period is not None:
            self.out.warnings.append(f"{self.title}: 时间序列表按列取统计期，忽略指定的统计期 {self.period} / "
                                     f"time-series sheet: the given period is ignored")
        division = self.sheet_division(header)
        if division is None:
            return
        periods: dict[int, Period] = header.columns
        for r in self.data_rows(header.row + 1):
            found = self.indicator_row(r, header, periods)
            if found is None:
                continue
            ref, factor = found
            for c, period in periods.items():
                self.value(r, c, ref, factor, canonical_division(division, period.year), period)

    def read_by_indicator(self, header: _Header) -> None:
        period = self.sheet_period(header)
        if period is None:
            return
        columns: dict[int, tuple[IndicatorRef, Decimal]] = {}
        start = header.row + 1
        unit_row: tuple[Any, ...] | None = None
        if start < len(self.rows):
            candidate = self.rows[start]
            label = _text(candidate, header.label_col)
            cells = [_text(candidate, c) for c in header.columns]
            if label in UNIT_HEADERS or (not label and any(cells) and all(
                    not t or UNIT_ALIASES.get(t, t) in KNOWN_UNITS for t in cells)):
                unit_row = candidate
        for c, (ref, unit_in_header) in header.columns.items():
            written = _text(unit_row, c) if unit_row is not None else unit_in_header
            factor = self.factor(start if unit_row is not None else header.row, c, ref, written)
            if factor is not None:
                columns[c] = (ref, factor)
        if unit_row is not None:
            start += 1
        for r in self.data_rows(start):
            name = _get(self.rows[r], header.label_col)
            code = division_for_name(name, period.year) if name is not None else None
            if code is None:
                if name is not None and is_zone(name):
                    self.out.warnings.append(f"{self.title}!{_col(header.label_col)}{r + 1}: {normalise(name)} "
                                             f"不是行政区划，已跳过 / not a division, row skipped")
                    continue
                has_values = any(parse_number(_get(self.rows[r], c), True) != (None, None) for c in header.columns)
                if has_values:
                    shown = normalise(name) if name is not None else ""
                    self.problem(r, header.label_col, f"无法识别的地区：{shown}" if shown else "缺少地区名称",
                                 f"unknown division: {shown}" if shown else "division name is missing")
                continue
            for c, (ref, factor) in columns.items():
                self.value(r, c, ref, factor, code, period)


_FREQ_ZH = {"yearly": "年度", "quarterly": "季度", "monthly": "月度"}


def parse_workbook(data: bytes, matcher: Matcher, *, period: Period | None = None, division: str | None = None
                   ) -> ParsedWorkbook:
    """Read every sheet; values, problems (sheet/row/column/reason) and warnings."""
    out = ParsedWorkbook()
    sheets = read_sheets(data)
    for title, rows in sheets:
        _SheetReader(title, rows, matcher, period, division, out).read()
    if not out.layouts and not out.problems:
        out.problems.append(CellProblem(
            sheets[0][0] if sheets else "", 1, "A",
            "未识别出任何指标表：需要“指标名称”和各县（市、区）列、各年份列，或“地区”和各指标列",
            "no indicator table recognised: expected an indicator column with division or year columns, "
            "or a division column with indicator columns"))
    seen: dict[tuple[str, str, str], ParsedValue] = {}
    for v in out.values:
        key = (v.indicator, v.division, str(v.period))
        first = seen.setdefault(key, v)
        if first is not v:
            out.problems.append(CellProblem(v.sheet, v.row, v.column,
                                            f"与 {first.cell} 重复（同一指标、地区和统计期）",
                                            f"duplicates {first.cell} (same indicator, division and period)"))
    return out
