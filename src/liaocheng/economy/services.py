"""The one write path for the macro-economy base, and its reads.

Imports are all or nothing: the workbook is read completely, every bad cell is reported (sheet, row,
column, reason in Chinese and English) and nothing is written unless there is none. A committed import is
one :class:`ImportJob` and one audit record; values it replaces are kept in ``IndicatorValueHistory``.
Importing for a division needs ``economy.import_indicators`` within it (a county clerk imports their
county's column only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Min, QuerySet

from liaocheng.core import access, audit
from liaocheng.core.errors import InvalidInput, NotFound
from liaocheng.core.permissions import CITY_CODE

from . import demo, excel
from .catalogue import CATALOGUE
from .models import ImportJob, Indicator, IndicatorValue, IndicatorValueHistory
from .periods import (
    CHIPING_NEW,
    CHIPING_OLD,
    DIVISION_NAMES,
    PREDECESSORS,
    Period,
    division_for_name,
    parse_period,
)

SYSTEM = "system"
IMPORT_PERM = "economy.import_indicators"
MANAGE_PERM = "economy.manage_indicators"
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PROBLEMS = 300


# --- the catalogue --------------------------------------------------------------------------------

def ensure_catalogue() -> int:
    """Create the shipped indicators that are missing (idempotent; existing ones are left as they are)."""
    have = set(Indicator.objects.values_list("code", flat=True))
    missing = [spec for spec in CATALOGUE if spec.code not in have]
    if not missing:
        return 0
    with transaction.atomic():
        for order, spec in enumerate(CATALOGUE):
            if spec.code in have:
                continue
            Indicator.objects.get_or_create(code=spec.code, defaults={
                "name_zh": spec.name_zh, "name_en": spec.name_en, "unit_zh": spec.unit_zh, "unit_en": spec.unit_en,
                "frequency": spec.frequency, "description": spec.description,
                "source_department": spec.source_department, "public": spec.public, "additive": spec.additive,
                "decimals": spec.decimals, "aliases": spec.aliases, "sort_order": (order + 1) * 10,
            })
        audit.record(actor=SYSTEM, action="economy.ensure_catalogue", object_type="economy.Indicator",
                     object_id="catalogue", after={"created": [s.code for s in missing]}, division_code=CITY_CODE)
    return len(missing)


def matcher() -> excel.Matcher:
    return excel.Matcher(
        (excel.IndicatorRef(i.code, i.name_zh, i.unit_zh, i.frequency), i.aliases or [])
        for i in Indicator.objects.all()
    )


def set_public(*, acting_user: Any, code: str, public: bool) -> Indicator:
    """Publish an indicator on the public summary (or withdraw it)."""
    access.require(acting_user, MANAGE_PERM, CITY_CODE)
    indicator = get_indicator(code)
    if indicator.public == public:
        return indicator
    with transaction.atomic():
        indicator.public = public
        indicator.save(update_fields=["public"])
        audit.record(actor=acting_user, action="economy.set_public", object_type="economy.Indicator",
                     object_id=code, before={"public": not public}, after={"public": public}, division_code=CITY_CODE)
    return indicator


# --- imports ----------------------------------------------------------------------------------------

class IndicatorImportError(InvalidInput):
    """A workbook with bad cells; ``problems`` names every one (sheet, row, column, reason)."""

    code = "invalid_cells"

    def __init__(self, problems: list[excel.CellProblem]) -> None:
        first = problems[0]
        zh = "；".join(f"工作表“{p.sheet}”第{p.row}行{p.column}列：{p.reason_zh}" for p in problems[:5])
        en = "; ".join(f"sheet '{p.sheet}' row {p.row} column {p.column}: {p.reason_en}" for p in problems[:5])
        more_zh = f"等共{len(problems)}处错误" if len(problems) > 5 else ""
        more_en = f" ({len(problems)} problems in all)" if len(problems) > 5 else ""
        super().__init__(f"文件有错误，未导入任何数据：{zh}{more_zh}", f"bad cells, nothing imported: {en}{more_en}",
                         field="file", row=first.row)
        self.problems = problems

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["problems"] = [p.as_dict() for p in self.problems]
        return data


@dataclass
class ImportOutcome:
    job: ImportJob
    values: int = 0
    created: int = 0
    replaced: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)
    layouts: dict[str, str] = field(default_factory=dict)


def clean_period(text: str | None) -> Period | None:
    if text is None or not str(text).strip():
        return None
    period = parse_period(str(text).strip())
    if period is None:
        raise InvalidInput("统计期格式应为 2024、2024Q3 或 2024-09", "period must look like 2024, 2024Q3 or 2024-09",
                           field="period")
    return period


def clean_division(text: str | None) -> str | None:
    if text is None or not str(text).strip():
        return None
    code = division_for_name(str(text).strip(), 2024)
    if code is None:
        raise InvalidInput("地区应为聊城市或所辖县（市、区）的名称或代码",
                           "division must be Liaocheng or one of its counties (name or code)", field="division")
    return code


def _scope_code(code: str) -> str:
    return CHIPING_NEW if code == CHIPING_OLD else code


def _check_scope(user: Any, divisions: Iterable[str]) -> None:
    refused = sorted({d for d in divisions if not access.has_perm(user, IMPORT_PERM, _scope_code(d))})
    if refused:
        names = "、".join(f"{DIVISION_NAMES.get(d, d)}（{d}）" for d in refused)
        raise PermissionDenied(f"无权导入以下地区的数据：{names} / not allowed to import values for "
                               + ", ".join(refused))


def _common_division(codes: Iterable[str]) -> str:
    distinct = {_scope_code(c) for c in codes}
    return distinct.pop() if len(distinct) == 1 else CITY_CODE


def import_indicators(*, acting_user: Any, data: bytes, file_name: str = "", period: str | None = None,
                      division: str | None = None, source: str = "") -> ImportOutcome:
    """Import indicator values from an .xlsx workbook (any of the three layouts, see ``economy.excel``).

    ``period`` (2024 / 2024Q3 / 2024-09) applies to division and transposed tables and must agree with
    the title; ``division`` (name or code) names the division of a time-series table when the title does
    not. Re-importing a period replaces its values; the old ones go to the history.
    """
    access.require(acting_user, IMPORT_PERM)
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput("文件不能超过10MB", "the file must not exceed 10 MB", field="file")
    the_period = clean_period(period)
    the_division = clean_division(division)
    ensure_catalogue()
    try:
        parsed = excel.parse_workbook(data, matcher(), period=the_period, division=the_division)
    except excel.UnreadableFile as exc:
        raise InvalidInput("不是有效的 Excel 工作簿（.xlsx）", "not a valid Excel workbook (.xlsx)",
                           field="file") from exc
    if parsed.problems:
        raise IndicatorImportError(parsed.problems[:MAX_PROBLEMS])
    if not parsed.values:
        raise InvalidInput("文件中没有可导入的数值", "the file holds no values to import", field="file")
    _check_scope(acting_user, (v.division for v in parsed.values))
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind="excel", file_name=file_name[:255], sha256=digest, layouts=parsed.layouts,
            periods=sorted({str(v.period) for v in parsed.values}),
            divisions=sorted({v.division for v in parsed.values}),
            source=source.strip()[:200], warnings=parsed.warnings[:100],
            created_by=acting_user if getattr(acting_user, "pk", None) else None,
            created_by_label=acting_user.get_username() if getattr(acting_user, "pk", None) else str(acting_user),
        )
        outcome = _store(job, parsed.values)
        outcome.warnings, outcome.layouts = parsed.warnings, parsed.layouts
        audit.record(actor=acting_user, action="economy.import_indicators", object_type="economy.ImportJob",
                     object_id=job.pk, after={
                         "file": file_name[:255], "sha256": digest, "layouts": parsed.layouts, "periods": job.periods,
                         "divisions": job.divisions, "values": outcome.values, "created": outcome.created,
                         "replaced": outcome.replaced, "unchanged": outcome.unchanged, "source": job.source,
                     }, division_code=_common_division(job.divisions))
    return outcome


def _store(job: ImportJob, values: list[excel.ParsedValue]) -> ImportOutcome:
    indicators = {i.code: i for i in Indicator.objects.filter(code__in={v.indicator for v in values})}
    existing = {
        (row.indicator_id, row.division_code, row.period): row
        for row in IndicatorValue.objects.filter(
            indicator__in=indicators.values(), period__in={str(v.period) for v in values},
            division_code__in={v.division for v in values},
        )
    }
    outcome = ImportOutcome(job=job, values=len(values))
    to_create: list[IndicatorValue] = []
    to_update: list[IndicatorValue] = []
    history: list[IndicatorValueHistory] = []
    for v in values:
        indicator = indicators[v.indicator]
        old = existing.get((indicator.pk, v.division, str(v.period)))
        if old is None:
            to_create.append(IndicatorValue(indicator=indicator, division_code=v.division, period=str(v.period),
                                            period_kind=v.period.kind, value=v.value, job=job, cell=v.cell[:80]))
            continue
        if old.value == v.value and not old.generated:
            outcome.unchanged += 1
            continue
        history.append(IndicatorValueHistory(indicator=indicator, division_code=old.division_code, period=old.period,
                                             value=old.value, job_id=old.job_id, cell=old.cell,
                                             generated=old.generated, replaced_by=job))
        old.value, old.job, old.cell, old.generated = v.value, job, v.cell[:80], False
        to_update.append(old)
    IndicatorValue.objects.bulk_create(to_create, batch_size=1000)
    IndicatorValue.objects.bulk_update(to_update, ["value", "job", "cell", "generated", "updated_at"],
                                       batch_size=1000)
    IndicatorValueHistory.objects.bulk_create(history, batch_size=1000)
    outcome.created, outcome.replaced = len(to_create), len(to_update)
    job.created, job.replaced, job.unchanged = outcome.created, outcome.replaced, outcome.unchanged
    job.save(update_fields=["created", "replaced", "unchanged"])
    return outcome


# --- demo values --------------------------------------------------------------------------------------

def ensure_demo_economy() -> int:
    """The indicator catalogue and synthetic demo values 2015–2024 for the city and its counties, marked
    generated. Idempotent and quick: runs once (per demo version) and never overwrites existing values."""
    ensure_catalogue()
    if ImportJob.objects.filter(kind="demo", source=demo.DEMO_SOURCE).exists():
        return 0
    rows = demo.generate()
    indicators = {i.code: i for i in Indicator.objects.all()}
    with transaction.atomic():
        job = ImportJob.objects.create(kind="demo", source=demo.DEMO_SOURCE, generated=True,
                                       periods=[str(y) for y in demo.YEARS], created_by_label=SYSTEM,
                                       divisions=sorted({r[1] for r in rows}), layouts={})
        have = set(IndicatorValue.objects.filter(period__in=job.periods).values_list(
            "indicator__code", "division_code", "period"))
        new = [
            IndicatorValue(indicator=indicators[code], division_code=div, period=period, period_kind="yearly",
                           value=value, job=job, generated=True)
            for code, div, period, value in rows
            if code in indicators and (code, div, period) not in have
        ]
        IndicatorValue.objects.bulk_create(new, batch_size=1000)
        job.created = len(new)
        job.save(update_fields=["created"])
        audit.record(actor=SYSTEM, action="economy.load_demo", object_type="economy.ImportJob", object_id=job.pk,
                     after={"values": len(new), "periods": job.periods, "generated": True}, division_code=CITY_CODE)
    return len(new)


# --- reads --------------------------------------------------------------------------------------------

def can_see_all(user: Any) -> bool:
    """Staff see every indicator; everyone else only the public ones."""
    return access.is_staff_user(user)


def visible_indicators(user: Any) -> QuerySet[Indicator]:
    qs = Indicator.objects.all()
    return qs if can_see_all(user) else qs.filter(public=True)


def get_indicator(code: str, user: Any = None, *, check_visible: bool = False) -> Indicator:
    indicator = Indicator.objects.filter(code=code).first()
    if indicator is None or (check_visible and not indicator.public and not can_see_all(user)):
        raise NotFound(f"指标 {code} 不存在", f"indicator {code} does not exist", field="code")
    return indicator


def period_range(indicator: Indicator) -> tuple[str | None, str | None]:
    agg = indicator.values.aggregate(first=Min("period"), last=Max("period"))
    return agg["first"], agg["last"]


def periods_of(indicator: Indicator, kind: str | None = None) -> list[str]:
    qs = indicator.values.all()
    if kind:
        qs = qs.filter(period_kind=kind)
    periods = set(qs.values_list("period", flat=True).distinct())
    return sorted(periods, key=lambda p: (parse_period(p) or Period(0, "yearly")).sort_key)


@dataclass(frozen=True)
class Point:
    period: str
    value: Decimal
    division_code: str  # the code the value is stored under (371523 for 茌平 up to 2019)
    generated: bool
    job_id: int


def series(indicator: Indicator, divisions: list[str], start: str | None = None, end: str | None = None,
           kind: str | None = "yearly") -> dict[str, list[Point]]:
    """Values per division (with its predecessors' values, so 茌平区's series goes back before 2019),
    ordered by period, optionally within [start, end]."""
    start_p, end_p = clean_period(start), clean_period(end)
    codes = {c: [c, *PREDECESSORS.get(c, [])] for c in divisions}
    wanted = {code for group in codes.values() for code in group}
    qs = indicator.values.filter(division_code__in=wanted)
    if kind:
        qs = qs.filter(period_kind=kind)
    rows = list(qs.values_list("division_code", "period", "value", "generated", "job_id"))
    out: dict[str, list[Point]] = {c: [] for c in divisions}
    for target, group in codes.items():
        for division_code, period, value, generated, job_id in rows:
            if division_code not in group:
                continue
            p = parse_period(period)
            if p is None or (start_p and p.sort_key < start_p.sort_key) or (end_p and p.sort_key > end_p.sort_key):
                continue
            out[target].append(Point(period, value, division_code, generated, job_id))
        out[target].sort(key=lambda pt: (parse_period(pt.period) or Period(0, "yearly")).sort_key)
    return out


def latest_values(indicators: Iterable[Indicator], kind: str = "yearly") -> dict[int, tuple[str, dict[str, Decimal]]]:
    """For each indicator, its latest period of ``kind`` and the values of every division in it."""
    out: dict[int, tuple[str, dict[str, Decimal]]] = {}
    for indicator in indicators:
        periods = periods_of(indicator, kind)
        if not periods:
            continue
        last = periods[-1]
        values = dict(indicator.values.filter(period=last).values_list("division_code", "value"))
        out[indicator.pk] = (last, values)
    return out


def recent_jobs(limit: int = 20) -> list[ImportJob]:
    return list(ImportJob.objects.select_related("created_by")[:limit])
