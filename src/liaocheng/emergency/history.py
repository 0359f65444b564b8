"""Historical incidents: the bulk import of closed incidents as they were, and the demo year.

``import_historical_incidents`` writes incidents with their calls, assignments, timeline, transfers and
assisting agencies in batches (``bulk_create``): one transaction and one audit record per batch, nothing per
row, no transition checks (the rows are what happened, e.g. exported from a previous CAD system).

``ensure_demo_incidents`` generates a year of closed incidents ending today across all eight counties, so
that the response-metrics pages (``metrics.py``) show real figures. Deterministic (seeded), and only when
no incident exists yet. What it models:

- where: county weights by resident population (2020 census, rounded), urban unit grids about half of the
  incidents in 东昌府区 and a third elsewhere; a random point inside the grid;
- what: GB/T 35561 types weighted like a prefecture-level city's year (``DEMO_TYPES``): 110 police
  matters most, then 122 road accidents, 120 medical calls, 119 fires (more in the dry winter and spring,
  straw and grass fires in the spring and at harvest), waterlogging and floods in July–August, utility
  failures through the 12345 and utility lines (burst and frozen water pipes and gas in winter, power in
  the summer peak); severity mostly Ⅳ; hours of the day per kind (traffic at rush hours, police in the
  evening);
- times: ring → answer a few seconds (a gamma body, a tail of busy moments: about 92 % within 15 s, the
  120 centre faster), answer → first dispatch mostly 30–90 s (fire and 120 faster, 12345 work orders
  minutes), turnout by unit type, travel from the unit's real station over the great-circle distance
  × 1.3 at the speeds of ``recommend`` (urban/rural, slower at rush hours, ±15 % noise), time on scene,
  ambulance transports to the nearest hospital, under control, closed with a disposition;
- units: the demo units (``demo.ensure_demo_resources``), the response plan's types and counts
  (``recommend.plans_for``), nearest by ETA (police, traffic police, utility crews and rescue teams of
  the incident's own county first), never two incidents at once for one unit; they are all available
  again now;
- a share of incidents with several callers, a few first taken as a second incident and merged, a few
  handled on the phone without dispatch, severe ones (Ⅱ and above) transferred to the city centre,
  duty leaders notified of Ⅰ–Ⅲ. Caller numbers are generated, stored SM4-encrypted with their blind index.

Demo incidents are numbered ``DM`` + county + date + serial.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import shapely
from django.db import connection, models, transaction
from django.utils import timezone

from liaocheng.core import access, audit
from liaocheng.core.crypto import mask_phone
from liaocheng.core.departments import COUNTIES
from liaocheng.core.errors import Conflict
from liaocheng.core.models import Department
from liaocheng.core.permissions import CITY_CODE
from liaocheng.geo.models import Division, Grid

from . import intake, recommend, timeline
from .models import (
    Assignment,
    Call,
    FixedResource,
    FixedResourceKind,
    Incident,
    IncidentEvent,
    IncidentState,
    IncidentType,
    LocationSource,
    Severity,
    Transfer,
    TransferStatus,
    Unit,
    UnitStatus,
    UnitType,
)

DEMO_PREFIX = "DM"
ACTOR = "demo"
S = IncidentState
US = UnitStatus
UT = UnitType


# --- the bulk import -------------------------------------------------------------------------------------

class Entry(NamedTuple):
    """One timeline entry of a historical incident (written as an ``IncidentEvent``; a light tuple, as a
    year of incidents has some 200,000 of them). An empty ``actor_label`` becomes the importing actor's."""

    at: dt.datetime
    action: str
    note: str = ""
    data: dict[str, Any] | None = None
    actor_label: str = ""


@dataclass
class HistoricalIncident:
    """An incident as it happened, with its rows. ``calls``, ``assignments`` and ``transfers`` are unsaved
    and need no ``incident`` (the import sets it); ``events`` is the timeline; ``merged`` holds incidents
    that were merged into this one (state ``merged``; their calls moved here, so they are in this
    incident's ``calls``)."""

    incident: Incident
    calls: list[Call] = field(default_factory=list)
    events: list[Entry] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    assisting: list[int] = field(default_factory=list)  # department ids
    merged: list[HistoricalIncident] = field(default_factory=list)


_PLAIN_INTS = ("AutoField", "BigAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
               "PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField")


class _RowWriter:
    """``INSERT`` of many rows of one model with ``executemany``: the values are read from the instances
    (or given as tuples) and adapted per column type once, without the per-value field machinery of
    ``bulk_create`` (which dominates the time of a year of incidents). Custom fields (the encrypted caller
    number) still go through their ``get_db_prep_save``."""

    def __init__(self, model: type[models.Model], columns: tuple[str, ...] = ()) -> None:
        by_name = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key}
        self.fields = [by_name[c] for c in columns] if columns else list(by_name.values())
        ops, quote = connection.ops, connection.ops.quote_name
        # table and column names come from the model's metadata, never from input
        columns_sql = ", ".join(quote(f.column) for f in self.fields)
        self.sql = (f"INSERT INTO {quote(model._meta.db_table)} ({columns_sql}) "  # noqa: S608
                    f"VALUES ({', '.join(['%s'] * len(self.fields))})")
        self.adapters = [self._adapter(f, ops) for f in self.fields]

    @staticmethod
    def _adapter(f: Any, ops: Any) -> Callable[[Any], Any]:
        kind = f.get_internal_type()
        if kind == "DateTimeField":
            if connection.vendor == "sqlite":
                db_tz = connection.timezone
                return lambda v: None if v is None else v.astimezone(db_tz).replace(tzinfo=None).isoformat(" ")
            return lambda v: ops.adapt_datetimefield_value(v)
        if kind == "JSONField":
            return lambda v: ops.adapt_json_value(v, f.encoder)
        if kind in _PLAIN_INTS or kind == "ForeignKey":
            return lambda v: None if v is None else int(v)
        if kind == "FloatField":
            return lambda v: None if v is None else float(v)
        if kind == "BooleanField":
            return bool
        if type(f) in (models.CharField, models.TextField):
            return lambda v: None if v is None else str(v)
        return lambda v: f.get_db_prep_save(v, connection)

    def rows(self, objects: Iterable[Any]) -> list[tuple[Any, ...]]:
        names = [f.attname for f in self.fields]
        return [tuple(a(getattr(o, n)) for a, n in zip(self.adapters, names, strict=True)) for o in objects]

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        with connection.cursor() as cursor:
            for i in range(0, len(rows), 5000):
                cursor.executemany(self.sql, rows[i:i + 5000])


_EVENT_COLUMNS = ("incident_id", "at", "actor_id", "actor_label", "action", "note", "data")


def _ids_by_number(numbers: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i in range(0, len(numbers), 500):
        found.update(Incident.objects.filter(number__in=numbers[i:i + 500]).values_list("number", "pk"))
    return found


def import_historical_incidents(*, acting_user: Any, incidents: Iterable[HistoricalIncident], batch_size: int = 2000,
                                progress: Callable[[int], None] | None = None) -> int:
    """Write historical incidents with their calls, assignments, timeline, transfers and assisting agencies
    in batches: one transaction and one audit record per batch, nothing per row, no transition checks.
    A signed-in user needs ``emergency.manage_resources`` for the whole city; background loads pass a label
    such as ``"demo"``. Incident numbers must be new (``Conflict`` otherwise, nothing of the batch written).
    Returns the number of incidents written (not counting the merged ones)."""
    if getattr(acting_user, "pk", None) is not None:
        access.require(acting_user, "emergency.manage_resources", CITY_CODE)
    label = timeline.actor_label(acting_user)[:150]
    writers: dict[str, _RowWriter] = {}
    through = Incident.assisting_departments.through
    written = 0
    batch: list[HistoricalIncident] = []

    def writer(model: type[models.Model]) -> _RowWriter:
        if model._meta.label not in writers:
            writers[model._meta.label] = _RowWriter(model, _EVENT_COLUMNS if model is IncidentEvent else ())
        return writers[model._meta.label]

    def insert_incidents(items: list[HistoricalIncident]) -> None:
        numbers = [h.incident.number for h in items]
        if len(set(numbers)) != len(numbers) or _ids_by_number(numbers):
            raise Conflict("事件编号重复或已存在", "an incident number is repeated or exists already",
                           field="number")
        w = writer(Incident)
        w.write(w.rows(h.incident for h in items))
        ids = _ids_by_number(numbers)
        for h in items:
            h.incident.pk = ids[h.incident.number]
            h.incident._state.adding, h.incident._state.db = False, connection.alias

    def flush() -> None:
        nonlocal written
        with transaction.atomic():
            insert_incidents(batch)
            merged: list[HistoricalIncident] = []
            for h in batch:
                for m in h.merged:
                    m.incident.merged_into_id = h.incident.pk
                    merged.append(m)
            if merged:
                insert_incidents(merged)
            calls: list[Call] = []
            assignments: list[Assignment] = []
            transfers: list[Transfer] = []
            events: list[tuple[Any, ...]] = []
            links: list[Any] = []
            dated = writer(IncidentEvent).adapters
            for h in itertools.chain(batch, merged):
                pk = h.incident.pk
                for group in (h.calls, h.assignments, h.transfers):
                    for item in group:
                        item.incident_id = pk
                calls.extend(h.calls)
                assignments.extend(h.assignments)
                transfers.extend(h.transfers)
                events.extend((pk, dated[1](e.at), None, (e.actor_label or label)[:150], e.action, e.note,
                               dated[6](e.data or {})) for e in h.events)
                links.extend(through(incident_id=pk, department_id=d) for d in dict.fromkeys(h.assisting))
            for model, objects in ((Call, calls), (Assignment, assignments), (Transfer, transfers)):
                w = writer(model)
                w.write(w.rows(objects))
            writer(IncidentEvent).write(events)
            through.objects.bulk_create(links, batch_size=2000)
            audit.record(actor=acting_user, action="emergency.import_history", object_type="emergency.Incident",
                         object_id=f"{batch[0].incident.number}..{batch[-1].incident.number}",
                         after={"incidents": len(batch), "merged": len(merged), "calls": len(calls),
                                "assignments": len(assignments), "events": len(events),
                                "transfers": len(transfers)},
                         division_code=CITY_CODE)
        written += len(batch)
        batch.clear()
        if progress is not None:
            progress(written)

    for item in incidents:
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return written


# --- the demo year: tables ------------------------------------------------------------------------------

# residents (10,000s, 2020 census rounded) and the share of incidents in urban grids
COUNTY_WEIGHTS: dict[str, tuple[float, float]] = {
    "371502": (125, 0.55), "371503": (50, 0.35), "371521": (72, 0.35), "371522": (88, 0.3),
    "371524": (38, 0.35), "371525": (70, 0.3), "371526": (45, 0.35), "371581": (72, 0.35),
}

# monthly factors (January first)
SEASONS: dict[str, tuple[float, ...]] = {
    "flat": (1,) * 12,
    "police": (0.9, 1.0, 0.9, 1.0, 1.05, 1.1, 1.15, 1.15, 1.0, 1.0, 0.9, 0.9),
    "traffic": (1.15, 1.2, 0.95, 1.0, 1.0, 0.95, 0.95, 0.95, 1.0, 1.1, 1.05, 1.15),
    "medical": (1.2, 1.15, 1.0, 0.95, 0.9, 0.95, 1.1, 1.1, 0.9, 0.95, 1.05, 1.2),
    "fire": (1.6, 1.8, 1.7, 1.5, 1.0, 0.7, 0.6, 0.6, 0.7, 0.9, 1.2, 1.5),
    "grass": (1.5, 2.5, 3.0, 2.0, 0.8, 1.2, 0.1, 0.1, 0.3, 1.2, 1.5, 1.3),  # dry spring, wheat and corn harvests
    "fireworks": (3.0, 4.0, 0.2, 0, 0, 0, 0, 0, 0, 0, 0, 0.5),  # Spring Festival
    "flood": (0, 0, 0, 0.02, 0.1, 0.6, 5.0, 4.5, 0.6, 0.05, 0, 0),
    "storm": (0, 0, 0.05, 0.2, 0.6, 1.5, 3.5, 3.0, 0.8, 0.1, 0, 0),
    "wind": (0.6, 0.8, 1.6, 2.0, 1.6, 1.4, 1.2, 0.9, 0.6, 0.7, 0.8, 0.6),
    "snow": (3.0, 2.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0.8, 3.0),
    "fog": (2.5, 1.5, 0.5, 0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 2.2, 3.2),
    "power": (1.1, 0.9, 0.7, 0.7, 0.8, 1.2, 1.8, 1.7, 0.9, 0.7, 0.8, 1.1),
    "water": (2.0, 1.6, 0.9, 0.7, 0.7, 0.8, 1.0, 1.0, 0.7, 0.7, 0.9, 1.8),
    "gas": (1.8, 1.5, 1.1, 0.8, 0.6, 0.5, 0.5, 0.5, 0.6, 0.9, 1.4, 1.8),
}


@dataclass(frozen=True)
class _Kind:
    """How a kind of incident behaves."""

    hours: tuple[float, ...]  # weights of the 24 local hours
    dispatch: tuple[float, float, float]  # answer → first dispatch: base seconds + gamma(shape, scale)
    extra_calls: float  # probability of a second caller (a third: a third of that)
    no_dispatch: float  # handled on the phone, no unit sent
    severity: tuple[float, float, float]  # P(Ⅰ), P(Ⅱ), P(Ⅲ); the rest Ⅳ
    dispositions: tuple[str, ...]
    phone_disposition: str


_NIGHT_LOW = (3, 2.5, 2, 1.5, 1.2, 1.2, 1.5, 2.5, 3.5, 4, 4.2, 4.5, 4.5, 4.2, 4.2, 4.5, 4.8, 5.2, 5.8, 6.2, 6.5, 6.2,
              5.2, 4)
KINDS: dict[str, _Kind] = {
    "police": _Kind(_NIGHT_LOW, (25, 3, 11), 0.08, 0.05, (0, 0.0005, 0.006), (
        "已现场调解，双方达成和解", "已受案，移交派出所侦办", "对当事人进行警告教育", "已找到走失人员并送回家中",
        "经核实为误报"), "已电话告知报警人到辖区派出所报案"),
    "traffic": _Kind((1.2, 0.8, 0.6, 0.5, 0.6, 1.2, 2.8, 5.5, 6, 4.2, 3.8, 4, 4.2, 3.8, 3.8, 4.2, 5, 6.5, 7, 5, 3.8,
                      3, 2.2, 1.6), (25, 3, 11), 0.2, 0.04, (0, 0.001, 0.015), (
        "快处快赔，车辆已撤离现场", "已认定事故责任，伤员送医", "现场清障完毕，恢复通行", "已移交事故处理中队处理"),
        "已指导当事人通过快处快赔自行协商"),
    "medical": _Kind((2.5, 2, 1.8, 1.6, 1.6, 2, 3, 4.5, 5.5, 5.8, 5.6, 5.2, 4.8, 4.5, 4.5, 4.5, 4.6, 4.8, 5, 5, 4.8,
                      4.2, 3.6, 3), (18, 3, 8), 0.05, 0.02, (0, 0, 0.003), (
        "已送医院救治", "现场处置后无需转运", "患者拒绝送医，已签字确认"), "已电话指导家属处置，建议就近就医"),
    "fire": _Kind((1.5, 1.2, 1, 0.8, 0.8, 0.9, 1.4, 2.2, 3, 3.8, 4.4, 5, 5.2, 5.4, 5.6, 5.5, 5, 4.6, 4.4, 4, 3.4,
                   2.8, 2.2, 1.8), (18, 3, 7), 0.35, 0.01, (0.0003, 0.003, 0.03), (
        "明火已扑灭，无人员伤亡", "火势已控制，现场移交属地", "被困人员已救出", "余火已清理，现场移交"),
        "经核实为误报"),
    "rescue": _Kind((1, 0.8, 0.6, 0.5, 0.5, 0.8, 2, 4, 5, 5, 5, 5, 4.5, 4.5, 4.5, 4.5, 5, 5.5, 5.5, 4.5, 3.5, 2.5, 2,
                     1.5), (18, 3, 8), 0.1, 0.0, (0, 0.002, 0.02), (
        "被困人员已安全救出", "险情已排除，现场移交", "伤员已移交 120 送医"), "已电话指导自救"),
    "utility": _Kind((0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 2, 4, 6, 7, 7, 6.5, 5, 5.5, 6.5, 6.5, 6, 5.5, 4, 3, 2.2, 1.6,
                      1.2, 0.8), (60, 2, 90), 0.15, 0.08, (0, 0.002, 0.02), (
        "已抢修完毕，恢复供应", "已关阀堵漏，排除险情", "故障已排除，设施恢复运行"), "已转相关单位按工单办理"),
    "weather": _Kind((2.5, 2, 1.8, 1.6, 1.6, 2, 3, 4.5, 5.5, 5.8, 5.6, 5.2, 4.8, 4.5, 4.5, 4.5, 4.6, 4.8, 5, 5, 4.8,
                      4.2, 3.6, 3), (40, 2, 45), 0.25, 0.05, (0, 0.01, 0.08), (
        "积水已排除，道路恢复通行", "已转移受困群众", "险情已排除", "倒伏树木已清理"), "已转相关部门按工单办理"),
}

# (code, share in ‰ of a year's incidents, kind, season, lines and weights, narratives)
DEMO_TYPES: list[tuple[str, float, str, str, tuple[tuple[str, float], ...], tuple[str, ...]]] = [
    ("14Y00", 175, "police", "police", (("110", 1),), (
        "邻里纠纷，双方发生争执，请求民警到场", "有人酒后在饭店闹事", "夜间噪音扰民，多次协商无果",
        "老人走失，家属请求帮助寻找", "儿童在商场与家长走散", "小区门口有人打架", "家庭纠纷，女方称被殴打")),
    ("14B00", 95, "police", "police", (("110", 1),), (
        "电动车在楼下被盗", "家中被盗，门锁被撬", "手机在公交站被抢", "店铺夜间被盗，现金丢失",
        "车窗被砸，车内财物被盗")),
    ("14B20", 40, "police", "flat", (("110", 0.85), ("12345", 0.15)), (
        "接到冒充客服的电话，转账后发现被骗", "网上刷单被骗", "有人冒充熟人借钱，转账后联系不上")),
    ("14B13", 3, "police", "flat", (("110", 1),), ("举报出租屋内有人吸毒",)),
    ("14B03", 1, "police", "flat", (("110", 0.6), ("119", 0.4)), ("有人故意点燃停放的车辆",)),
    ("14B01", 0.3, "police", "flat", (("110", 1),), ("发现有人倒地，身上有刀伤",)),
    ("14A00", 4, "police", "flat", (("110", 0.7), ("12345", 0.3)), ("数十名工人在工地门口聚集讨要工资",)),
    ("12H02", 140, "traffic", "traffic", (("122", 0.85), ("110", 0.15)), (
        "两车追尾，有人受伤", "路口两车相撞，车辆受损无人受伤", "电动车与轿车相撞，电动车驾驶人倒地",
        "货车与三轮车碰撞")),
    ("12H01", 15, "traffic", "traffic", (("122", 1),), ("货车在国道上侧翻", "农用三轮车翻到路边沟里")),
    ("12H03", 7, "traffic", "traffic", (("122", 0.6), ("110", 0.4)), ("轿车冲出路面坠入河沟",)),
    ("12H00", 22, "traffic", "traffic", (("122", 1),), ("车辆刮擦，双方对责任有争议", "行人被车辆撞倒")),
    ("12H05", 0.2, "traffic", "flat", (("122", 1),), ("校车与轿车发生碰撞",)),
    ("11B17", 3, "traffic", "fog", (("122", 1),), ("大雾能见度低，路段发生多车刮擦",)),
    ("12R00", 3, "traffic", "grass", (("120", 0.5), ("122", 0.5)), ("拖拉机在田间道路翻车，驾驶人受伤",)),
    ("13Y00", 170, "medical", "medical", (("120", 1),), (
        "老人在家中突发胸痛", "患者呼吸困难", "有人晕倒在路边，意识不清", "孕妇临产需要送医", "工人高处坠落受伤",
        "儿童高热惊厥", "老人在家摔倒无法起身", "疑似脑卒中，口角歪斜、说话不清")),
    ("13C00", 1.5, "medical", "flat", (("120", 1),), ("工厂食堂多名员工就餐后呕吐腹泻",)),
    ("13B00", 2, "medical", "flat", (("12345", 0.5), ("120", 0.5)), ("学生在校门口商店买零食，食用后不适",)),
    ("12G03", 32, "fire", "fire", (("119", 1),), (
        "居民楼厨房起火，冒出浓烟", "平房着火，屋内可能有人", "电动车在楼道内充电起火")),
    ("12G01", 6, "fire", "fire", (("119", 1),), ("厂房仓库起火",)),
    ("12G04", 3, "fire", "fire", (("119", 1),), ("高层住宅阳台起火",)),
    ("12G06", 3, "fire", "fire", (("119", 1),), ("商场一楼店铺起火",)),
    ("12G00", 15, "fire", "fire", (("119", 1),), ("路边垃圾堆起火", "空地杂物堆着火")),
    ("11G00", 20, "fire", "grass", (("119", 1),), ("麦田秸秆起火，火势蔓延", "河堤荒草着火", "林地边缘荒草起火")),
    ("12H04", 7, "fire", "fire", (("119", 0.7), ("122", 0.3)), ("行驶中的轿车发动机舱起火",)),
    ("12E00", 1.5, "fire", "fireworks", (("119", 0.7), ("110", 0.3)), ("燃放烟花引燃杂物",)),
    ("12D02", 1, "fire", "flat", (("119", 1),), ("危化品运输车阀门泄漏，有刺激性气味",)),
    ("12D03", 0.5, "fire", "flat", (("119", 1),), ("化工企业储罐区起火",)),
    ("12N00", 15, "rescue", "flat", (("119", 1),), ("电梯故障，有人被困", "电梯停在两层之间，困有老人")),
    ("12C00", 2, "rescue", "flat", (("119", 0.5), ("120", 0.5)), ("工地脚手架坍塌，有工人被压",)),
    ("12P13", 0.5, "rescue", "flat", (("119", 0.6), ("110", 0.4)), ("老旧房屋倒塌，有人被困",)),
    ("12P08", 30, "utility", "power", (("power", 0.5), ("12345", 0.5)), (
        "小区突然停电", "电线被刮断，垂落路面", "变压器冒火花")),
    ("12P12", 18, "utility", "water", (("water", 0.5), ("12345", 0.5)), (
        "供水管道爆裂，路面大量积水", "小区停水，水管冻裂", "路面塌陷，疑似管道渗漏")),
    ("12P07", 3, "utility", "flood", (("water", 0.5), ("flood", 0.5)), ("河道闸门故障无法关闭",)),
    ("12P09", 10, "utility", "gas", (("gas", 0.6), ("119", 0.2), ("12345", 0.2)), (
        "居民家中闻到燃气味", "施工挖断燃气管道，有气体泄漏")),
    ("12U00", 2, "utility", "power", (("power", 0.6), ("12345", 0.4)), ("片区大面积停电",)),
    ("12Q00", 2, "utility", "flat", (("12345", 1),), ("河道发现大量死鱼，水体发黑", "企业夜间排放刺鼻废气")),
    ("11A02", 12, "weather", "flood", (("flood", 0.4), ("12345", 0.4), ("110", 0.2)), (
        "暴雨导致路段严重积水，车辆被困", "地下车库进水", "低洼小区积水入户")),
    ("11A01", 0.5, "weather", "flood", (("flood", 1),), ("河道水位上涨，漫过堤顶",)),
    ("11A04", 0.4, "weather", "flood", (("flood", 1),), ("黄河大堤出现渗水险情",)),
    ("11B03", 2, "weather", "storm", (("flood", 0.5), ("12345", 0.5)), ("强降雨致农田被淹",)),
    ("11B06", 7, "weather", "wind", (("12345", 0.6), ("110", 0.4)), ("大风刮倒行道树，压住车辆", "广告牌被大风吹落")),
    ("11B04", 2, "weather", "snow", (("12345", 0.5), ("122", 0.5)), ("暴雪致道路结冰，车辆无法通行", "大棚被积雪压塌")),
]
KINDS_BY_CODE = {code: kind for code, _share, kind, *_rest in DEMO_TYPES}
# no dispatch for most environmental complaints (a work order to the ecology bureau)
NO_DISPATCH: dict[str, float] = {"14B20": 0.3, "12Q00": 0.7, "13B00": 0.5, "14B13": 0.2}

# ring → answer: 1 s + gamma(shape, scale), plus with probability ``tail`` (busy moments) 12–50 s more
ANSWER = (2.2, 2.4)
ANSWER_120 = (2.0, 1.5)  # the city's 120 centre, staffed for the national 10-second target
TAIL_120 = 0.025
# dispatched → en route (turnout): base seconds + gamma(shape, scale)
TURNOUT: dict[str, tuple[float, float, float]] = {
    UT.POLICE_CAR: (10, 2, 12), UT.TRAFFIC_POLICE: (15, 2, 15), UT.AMBULANCE: (20, 3, 12),
    UT.COMMAND: (30, 2, 20), UT.RESCUE_TEAM: (60, 2, 60), UT.WATER_CREW: (120, 2, 150),
    UT.POWER_CREW: (120, 2, 150), UT.GAS_CREW: (90, 2, 120),
}
FIRE_TURNOUT = (25, 3, 10)
FIRE_APPARATUS = (UT.FIRE_ENGINE, UT.FOAM_TENDER, UT.AERIAL_LADDER, UT.RESCUE_ENGINE, UT.HAZMAT)
# on scene → cleared, minutes: base + gamma(shape, scale)
ON_SCENE: dict[str, tuple[float, float, float]] = {
    UT.POLICE_CAR: (8, 2, 10), UT.TRAFFIC_POLICE: (15, 2, 12), UT.AMBULANCE: (8, 2, 4), UT.COMMAND: (20, 2, 20),
    UT.RESCUE_TEAM: (45, 2, 45), UT.WATER_CREW: (60, 2, 60), UT.POWER_CREW: (45, 2, 50), UT.GAS_CREW: (40, 2, 40),
}
FIRE_ON_SCENE = (15, 2, 20)
# units of these types come from the incident's own county first (their departments are the county's)
LOCAL_TYPES = (UT.POLICE_CAR, UT.TRAFFIC_POLICE, UT.WATER_CREW, UT.POWER_CREW, UT.GAS_CREW, UT.RESCUE_TEAM)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
TRANSPORT_RATE = 0.75
_SOURCES = [LocationSource.ADDRESS.value, LocationSource.MAP.value, LocationSource.DEVICE.value]
RECALL_RATE = 0.02  # a unit of a multi-unit response recalled before arrival
MERGE_RATE = 0.06  # of the incidents with a second caller: first taken as a new incident, then merged
MAX_SPAN = 8 * 3600  # incidents start at least this long before now (all are closed by now)
ACCESS_SECONDS = 30  # from the road to the caller (parking, finding the door)


@dataclass
class _Units:
    """The units of one type as arrays (for vectorised distances)."""

    ids: list[int]
    signs: list[str]
    departments: list[int]
    local: np.ndarray  # county codes
    lon: np.ndarray
    lat: np.ndarray


class _Generator:
    def __init__(self, seed: int, now: dt.datetime, tz: Any) -> None:
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.now, self.tz = now.timestamp(), tz
        self.serial = 0
        self.types = {t.code: t for t in IncidentType.objects.filter(active=True)}
        self.table = [row for row in DEMO_TYPES if row[0] in self.types]
        self.plans = recommend.plans_for([(code, level) for code, *_rest in self.table for level in Severity.values])
        self.dept_names = dict(Department.objects.values_list("pk", "name"))
        self.dept_codes = dict(Department.objects.values_list("pk", "code"))
        self.units: dict[str, _Units] = {}
        rows = Unit.objects.exclude(status=US.OUT_OF_SERVICE).order_by("pk").values_list(
            "pk", "call_sign", "unit_type", "department_id", "county_code", "lon", "lat")
        grouped: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            grouped.setdefault(row[2], []).append(row)
        for unit_type, items in grouped.items():
            self.units[unit_type] = _Units([r[0] for r in items], [r[1] for r in items], [r[3] for r in items],
                                           np.array([r[4] for r in items]), np.array([r[5] for r in items], float),
                                           np.array([r[6] for r in items], float))
        self.busy: dict[int, float] = {}
        hospitals = list(FixedResource.objects.filter(kind=FixedResourceKind.HOSPITAL).values_list("lon", "lat"))
        self.hospitals = (np.array([h[0] for h in hospitals], float), np.array([h[1] for h in hospitals], float))
        self.owners: dict[tuple[str, str], int | None] = {}
        self.tails = {code: 0.035 + 0.05 * (zlib.crc32(code.encode()) % 1000) / 1000 for code, _n in COUNTIES}

    # --- where and when ---------------------------------------------------------------------------------

    def places(self, count: int) -> list[tuple[str, str, str, str, str, float, float, str]]:
        """``count`` points: (grid, county, township, community, size class, lon, lat, address)."""
        rng = self.rng
        grids = list(Grid.objects.filter(minx__isnull=False).order_by("code").values_list(
            "code", "county_code", "township_code", "community_code", "size_class", "minx", "maxx", "miny", "maxy"))
        pools: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for g in grids:
            pools.setdefault((g[1], "urban" if g[4] == "urban" else "rural"), []).append(g)
        counties = [c for c in COUNTY_WEIGHTS if pools.get((c, "urban")) or pools.get((c, "rural"))]
        if not counties:
            return []
        weights = [COUNTY_WEIGHTS[c][0] for c in counties]
        chosen = []
        for county in rng.choices(counties, weights=weights, k=count):
            urban = rng.random() < COUNTY_WEIGHTS[county][1]
            pool = pools.get((county, "urban" if urban else "rural")) or pools.get(
                (county, "rural" if urban else "urban")) or []
            chosen.append(rng.choice(pool))
        codes = sorted({g[0] for g in chosen})
        texts: dict[str, str] = {}
        for i in range(0, len(codes), 500):
            texts.update(Grid.objects.filter(code__in=codes[i:i + 500]).values_list("code", "geometry"))
        shapes = dict(zip(codes, shapely.from_geojson([texts[c] for c in codes]), strict=True))
        division_codes = {g[1] for g in chosen} | {g[2] for g in chosen} | {g[3] for g in chosen}
        names: dict[str, str] = {}
        for codes_chunk in _chunks(sorted(division_codes), 500):
            names.update(Division.objects.filter(code__in=codes_chunk, valid_to__isnull=True)
                         .values_list("code", "name"))
        result = []
        for code, county, township, community, size, minx, maxx, miny, maxy in chosen:
            shape = shapes[code]
            for _ in range(6):
                x = minx + (maxx - minx) * rng.uniform(0.1, 0.9)
                y = miny + (maxy - miny) * rng.uniform(0.1, 0.9)
                if shapely.contains_xy(shape, x, y):
                    break
            else:
                p = shape.representative_point()
                x, y = float(p.x), float(p.y)
            address = f"{names.get(county, '')}{names.get(township, '')}{names.get(community, '')}附近"
            result.append((code, county, township, community, "urban" if size == "urban" else "rural",
                           round(x, 6), round(y, 6), address[:200]))
        return result

    def schedule(self, count: int, start: dt.date, days: int) -> list[tuple[float, int]]:
        """(start time as epoch seconds, index into ``self.table``) of ``count`` incidents, in time order."""
        months = np.array([(start + dt.timedelta(days=d)).month - 1 for d in range(days)])
        weights = np.zeros((len(self.table), days))
        for i, (_code, share, _kind, season, _lines, _texts) in enumerate(self.table):
            factors = np.array(SEASONS[season], float)[months]
            mean = factors.mean()
            if mean > 0:
                weights[i] = share * factors / mean
        flat = weights.ravel()
        picks = self.np_rng.choice(flat.size, size=count, p=flat / flat.sum())
        midnight = [dt.datetime.combine(start + dt.timedelta(days=d), dt.time.min, self.tz).timestamp()
                    for d in range(days)]
        latest = self.now - MAX_SPAN
        hour_weights = {k: list(itertools.accumulate(v.hours)) for k, v in KINDS.items()}
        result = []
        for pick in picks.tolist():
            row, day = divmod(pick, days)
            kind = self.table[row][2]
            hour = bisect.bisect_right(hour_weights[kind], self.rng.random() * hour_weights[kind][-1])
            at = midnight[day] + min(hour, 23) * 3600 + self.rng.random() * 3600
            while at > latest:
                at -= 86400
            result.append((at, row))
        result.sort()
        return result

    # --- units --------------------------------------------------------------------------------------------

    def pick_units(self, unit_type: str, count: int, lon: float, lat: float, county: str, area: str,
                   at: float) -> list[tuple[int, float]]:
        """(index into the type's arrays, distance in metres) of up to ``count`` units free at ``at``: nearest
        by ETA, own county first for the county agencies' types; now and then the nearest is passed over
        (the dispatcher's choice, a unit just out of service)."""
        units = self.units.get(unit_type)
        if units is None or count <= 0:
            return []
        distance = recommend.haversine_m(units.lon, units.lat, lon, lat)
        eta = recommend.travel_seconds(unit_type, distance, area)
        order = np.lexsort((eta, units.local != county)) if unit_type in LOCAL_TYPES else np.argsort(eta)
        free = [i for i in order[: count + 12].tolist() if self.busy.get(units.ids[i], 0.0) <= at][: count + 3]
        chosen: list[tuple[int, float]] = []
        while free and len(chosen) < count:
            if len(free) > count - len(chosen) and self.rng.random() < 0.08:
                free.pop(0)
                continue
            i = free.pop(0)
            chosen.append((i, float(distance[i])))
        return chosen

    def owner(self, itype: IncidentType, county: str) -> int | None:
        key = (itype.code, county)
        if key not in self.owners:
            dept = intake.owning_department(intake.owning_kind_of(itype), county)
            self.owners[key] = dept.pk if dept is not None else None
        return self.owners[key]

    # --- one incident -------------------------------------------------------------------------------------

    def gamma(self, spec: tuple[float, float, float]) -> float:
        base, shape, scale = spec
        return base + self.rng.gammavariate(shape, scale)

    def answer_delay(self, line: str, county: str, hour: int) -> float:
        rng = self.rng
        if line == "120":
            delay = 1 + rng.gammavariate(*ANSWER_120)
            tail = TAIL_120
        else:
            delay = 1 + rng.gammavariate(*ANSWER)
            tail = self.tails.get(county, 0.07) * (1.4 if 17 <= hour <= 22 else 1.0)
        if rng.random() < tail:
            delay += rng.uniform(12, 50)
        return delay

    def caller(self) -> tuple[str, str]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.02:
            number = ""
        elif roll < 0.12:
            number = "0635" + str(rng.randint(8_000_000, 8_999_999))
        else:
            number = "1" + rng.choice("3456789") + f"{rng.randrange(10 ** 9):09d}"
        name = f"{rng.choice(SURNAMES)}{rng.choice(('先生', '女士'))}" if rng.random() < 0.25 else ""
        return number, name

    def make(self, at: float, row: int, place: tuple[str, str, str, str, str, float, float, str]
             ) -> HistoricalIncident:
        rng = self.rng
        code, _share, kind_key, _season, lines, texts = self.table[row]
        kind = KINDS[kind_key]
        itype = self.types[code]
        grid, county, township, community, area, lon, lat, address = place
        roll = rng.random()
        severity = (Severity.I if roll < kind.severity[0] else Severity.II if roll < sum(kind.severity[:2])
                    else Severity.III if roll < sum(kind.severity) else Severity.IV)
        line = rng.choices([x for x, _w in lines], weights=[w for _x, w in lines])[0]
        narrative = rng.choice(texts)
        hour = timezone.localtime(_aware(at), self.tz).hour
        answered = at + self.answer_delay(line, county, hour)
        delay = self.gamma(kind.dispatch)
        if rng.random() < 0.03:  # hard to locate, or a confused caller
            delay += rng.uniform(60, 300)
        created = answered + max(5.0, delay * rng.uniform(0.35, 0.75))
        dispatched = answered + delay
        self.serial += 1
        centre = CITY_CODE if severity <= Severity.II else county
        incident = Incident(
            number=_number(county, at, self.serial, self.tz), incident_type=itype, severity=severity,
            priority=max(1, min(itype.default_priority, severity)), state=S.CLOSED, summary=narrative[:100],
            address=address, lon=lon, lat=lat, grid_code=grid, community_code=community, township_code=township,
            county_code=county, centre_code=centre, owning_department_id=self.owner(itype, county),
            created_at=_aware(created), first_answered_at=_aware(answered))
        h = HistoricalIncident(incident)
        number, name = self.caller()
        source = rng.choices(_SOURCES, weights=(10, 55, 35))[0]
        h.calls.append(self.call(line, number, name, source, address, lon, lat, narrative, at, answered, centre))
        ev = self.event
        h.events += [ev(created, "create", data={"type": code, "severity": severity, "priority": incident.priority,
                                                   "centre": county,
                                                   "owning_department": self.dept_codes.get(
                                                       incident.owning_department_id or 0, "")}),
                     ev(created, "call", narrative, self.call_data(line, number, source, lon, lat, address, code,
                                                                   severity, attached=False))]
        if severity <= Severity.III:
            label = Severity(severity).label
            h.events.append(ev(created, "notify", f"{label}事件，已通知值班领导",
                               {"severity": severity, "reason": "new", "centre": county, "leaders": []}))
        no_dispatch = NO_DISPATCH.get(code, kind.no_dispatch)
        needs = recommend.plan_needs(self.plans.get((code, severity)))
        if rng.random() < no_dispatch or not needs:
            end = created + rng.uniform(180, 1200)
            incident.controlled_at = incident.closed_at = _aware(end)
            incident.disposition = kind.phone_disposition
            h.events.append(ev(end, "state", data={"from": S.NEW, "to": S.CLOSED,
                                                   "disposition": incident.disposition}))
            self.extra_calls(h, kind, line, lon, lat, address, answered, end, centre)
            return h
        # units, in the plan's order; all sent at once
        cleared_last, arrivals = dispatched, []
        for unit_type, count in needs.items():
            for index, distance in self.pick_units(unit_type, count, lon, lat, county, area, dispatched):
                arrival, cleared = self.assign(h, unit_type, index, distance, area, lon, lat, dispatched, hour)
                cleared_last = max(cleared_last, cleared)
                if arrival is not None:
                    arrivals.append(arrival)
        if not h.assignments:  # no unit of the needed types exists
            end = created + rng.uniform(180, 1200)
            incident.controlled_at = incident.closed_at = _aware(end)
            incident.disposition = kind.phone_disposition
            h.events.append(ev(end, "state", data={"from": S.NEW, "to": S.CLOSED,
                                                   "disposition": incident.disposition}))
            return h
        incident.first_dispatched_at = _aware(dispatched)
        h.events.append(ev(dispatched, "state", data={"from": S.NEW, "to": S.DISPATCHED, "automatic": True}))
        if arrivals:
            first = min(arrivals)
            incident.first_on_scene_at = _aware(first)
            h.events.append(ev(first, "state", data={"from": S.DISPATCHED, "to": S.ON_SCENE, "automatic": True}))
            controlled = first + (cleared_last - first) * rng.uniform(0.2, 0.6)
            previous = S.ON_SCENE
        else:
            controlled = cleared_last
            previous = S.DISPATCHED
        closed = cleared_last + rng.uniform(300, 2400)
        incident.controlled_at, incident.closed_at = _aware(controlled), _aware(closed)
        incident.disposition = rng.choice(kind.dispositions)
        h.events += [ev(controlled, "state", data={"from": previous, "to": S.UNDER_CONTROL, "disposition": ""}),
                     ev(closed, "state", data={"from": S.UNDER_CONTROL, "to": S.CLOSED,
                                               "disposition": incident.disposition})]
        h.assisting = [d for d in dict.fromkeys(h.assisting) if d != incident.owning_department_id]
        if centre == CITY_CODE:
            self.transfer(h, county, created + rng.uniform(120, 600), closed)
        self.extra_calls(h, kind, line, lon, lat, address, answered, closed, centre)
        return h

    def assign(self, h: HistoricalIncident, unit_type: str, index: int, distance: float, area: str, lon: float,
               lat: float, dispatched: float, hour: int) -> tuple[float | None, float]:
        """One assignment with its status steps; returns (arrival or None when recalled, cleared)."""
        rng, ev = self.rng, self.event
        units = self.units[unit_type]
        uid, sign = units.ids[index], units.signs[index]
        fire = unit_type in FIRE_APPARATUS
        turnout = self.gamma(FIRE_TURNOUT if fire else TURNOUT.get(unit_type, (30, 2, 15)))
        urban_kmh, rural_kmh = recommend.SPEED_KMH.get(unit_type, (40.0, 60.0))
        kmh = urban_kmh if area == recommend.URBAN else rural_kmh
        if area == recommend.URBAN and hour in (7, 8, 17, 18):
            kmh *= 0.75
        travel = distance * recommend.DETOUR_FACTOR / (kmh / 3.6) * math.exp(rng.gauss(0, 0.15)) + ACCESS_SECONDS
        eta = round(float(recommend.travel_seconds(unit_type, distance, area)))
        en_route = dispatched + turnout
        assignment = Assignment(unit_id=uid, recommended=rng.random() < 0.9, eta_seconds=eta,
                                dispatched_at=_aware(dispatched), en_route_at=_aware(en_route))
        h.assignments.append(assignment)
        h.assisting.append(units.departments[index])
        data = {"unit_id": uid, "call_sign": sign, "unit_type": unit_type}
        h.events.append(ev(dispatched, "dispatch", data={**data, "department": self.dept_names.get(
            units.departments[index], ""), "eta_seconds": eta, "recommended": assignment.recommended}))
        steps: list[tuple[float, str]] = [(en_route, US.EN_ROUTE)]
        arrival: float | None = en_route + travel
        if len(h.assignments) > 1 and rng.random() < RECALL_RATE:  # not needed after all
            cleared = en_route + travel * rng.uniform(0.2, 0.8)
            arrival = None
        else:
            assert arrival is not None
            assignment.on_scene_at = _aware(arrival)
            steps.append((arrival, US.ON_SCENE))
            spec = FIRE_ON_SCENE if fire else ON_SCENE.get(unit_type, (20, 2, 20))
            stay = self.gamma(spec) * 60 * (1 + 0.5 * (Severity.IV - h.incident.severity))
            cleared = arrival + stay
            if unit_type == UT.AMBULANCE and rng.random() < TRANSPORT_RATE and self.hospitals[0].size:
                leave = cleared
                to_hospital = float(recommend.haversine_m(self.hospitals[0], self.hospitals[1], lon, lat).min())
                at_hospital = leave + to_hospital * recommend.DETOUR_FACTOR / (kmh / 3.6) + 60
                cleared = at_hospital + rng.uniform(8, 25) * 60
                assignment.transporting_at, assignment.at_hospital_at = _aware(leave), _aware(at_hospital)
                steps += [(leave, US.TRANSPORTING), (at_hospital, US.AT_HOSPITAL)]
        assignment.cleared_at = _aware(cleared)
        steps.append((cleared, US.CLEARED))
        previous: str = US.DISPATCHED
        for when, status in steps:
            h.events.append(ev(when, "unit_status", data={**data, "from": previous, "to": status}))
            previous = status
        self.busy[uid] = cleared + 300  # back at the station, ready again
        return arrival, cleared

    def transfer(self, h: HistoricalIncident, county: str, sent: float, closed: float) -> None:
        rng, ev = self.rng, self.event
        accepted = sent + rng.uniform(30, 180)
        answered = min(closed, accepted + rng.uniform(1800, 7200))
        transfer = Transfer(from_centre=county, to_centre=CITY_CODE, reason="事件升级，移交市级中心统一指挥",
                            status=TransferStatus.RETURNED, result="已处置完毕，情况已反馈", sent_at=_aware(sent),
                            answered_at=_aware(answered))
        h.transfers.append(transfer)
        data = {"from_line": "", "to_line": "", "from_centre": county, "to_centre": CITY_CODE}
        h.events += [ev(sent, "transfer", transfer.reason, data),
                     ev(accepted, "transfer_accept", data={"to_line": "", "to_centre": CITY_CODE}),
                     ev(answered, "transfer_result", transfer.result, {"to": county})]

    def extra_calls(self, h: HistoricalIncident, kind: _Kind, line: str, lon: float, lat: float, address: str,
                    answered: float, until: float, centre: str) -> None:
        """Further callers about the same incident (attached, or first taken as a second incident that the
        call-taker then merged into this one)."""
        rng = self.rng
        extra = 0
        if rng.random() < kind.extra_calls:
            extra = 2 if rng.random() < 0.3 else 1
        incident = h.incident
        for _ in range(extra):
            rang = answered + rng.uniform(15, 900)
            call_line = line if rng.random() < 0.8 else rng.choice(("110", "119", "120", "122"))
            hour = timezone.localtime(_aware(rang), self.tz).hour
            picked = rang + self.answer_delay(call_line, incident.county_code, hour)
            if picked + 60 >= until:
                continue
            number, name = self.caller()
            x = round(lon + rng.uniform(-0.0006, 0.0006), 6)
            y = round(lat + rng.uniform(-0.0005, 0.0005), 6)
            narrative = f"又有群众来电反映：{incident.summary}"
            source = rng.choices(_SOURCES, weights=(10, 55, 35))[0]
            h.calls.append(self.call(call_line, number, name, source, address, x, y, narrative, rang, picked, centre))
            data = self.call_data(call_line, number, source, x, y, address, "", incident.severity, attached=True)
            taken = picked + rng.uniform(15, 45)
            if rng.random() < MERGE_RATE and taken + 360 < until:
                merged_at = taken + rng.uniform(60, 300)
                self.serial += 1
                dup = Incident(
                    number=_number(incident.county_code, rang, self.serial, self.tz),
                    incident_type=incident.incident_type,
                    severity=incident.severity, priority=incident.priority, state=S.MERGED,
                    summary=narrative[:100], address=address, lon=x, lat=y, grid_code=incident.grid_code,
                    community_code=incident.community_code, township_code=incident.township_code,
                    county_code=incident.county_code, centre_code=incident.centre_code,
                    owning_department_id=incident.owning_department_id, created_at=_aware(taken),
                    first_answered_at=_aware(picked))
                ev = self.event
                other = HistoricalIncident(dup, events=[
                    ev(taken, "create", data={"type": incident.incident_type.code, "severity": incident.severity,
                                              "priority": incident.priority, "centre": incident.county_code,
                                              "owning_department": self.dept_codes.get(
                                                  incident.owning_department_id or 0, "")}),
                    ev(taken, "call", narrative, {**data, "attached": False}),
                    ev(merged_at, "merged", data={"into": incident.number, "calls": []}),
                ])
                h.merged.append(other)
                h.events.append(ev(merged_at, "merge_in", data={"from": dup.number, "calls": []}))
            else:
                h.events.append(self.event(taken, "call", narrative, data))
        h.calls.sort(key=lambda c: c.answered_at)

    def call(self, line: str, number: str, name: str, source: str, address: str, lon: float, lat: float,
             narrative: str, rang: float, answered: float, centre: str) -> Call:
        return Call(line=line, caller_number=number, caller_index=intake.caller_index(number), caller_name=name,
                    location_source=source, address=address, lon=lon, lat=lat, narrative=narrative,
                    received_at=_aware(rang), answered_at=_aware(answered),
                    ended_at=_aware(answered + self.rng.uniform(35, 150)), centre_code=centre)

    @staticmethod
    def call_data(line: str, number: str, source: str, lon: float, lat: float, address: str, code: str,
                  severity: int, *, attached: bool) -> dict[str, Any]:
        return {"call": None, "line": line, "caller": mask_phone(number), "location_source": source, "lon": lon,
                "lat": lat, "address": address, "attached": attached, "reported_type": code,
                "reported_severity": severity}

    @staticmethod
    def event(at: float, action: str, note: str = "", data: dict[str, Any] | None = None) -> Entry:
        return Entry(_aware(at), action, note, data or {}, ACTOR)

    def shift(self, h: HistoricalIncident) -> HistoricalIncident:
        """Move an incident that would end after now back in time (it must be closed by now)."""
        closed = h.incident.closed_at
        if closed is None or closed.timestamp() < self.now:
            return h
        delta = dt.timedelta(seconds=closed.timestamp() - self.now + self.rng.uniform(600, 7200))
        for item in (h.incident, *h.calls, *h.assignments, *h.transfers, *(m.incident for m in h.merged)):
            for name in ("created_at", "first_answered_at", "first_dispatched_at", "first_on_scene_at",
                         "controlled_at", "closed_at", "received_at", "answered_at", "ended_at", "dispatched_at",
                         "en_route_at", "on_scene_at", "transporting_at", "at_hospital_at", "cleared_at", "sent_at"):
                value = getattr(item, name, None)
                if isinstance(value, dt.datetime):
                    setattr(item, name, value - delta)
        for item_h in (h, *h.merged):
            item_h.events = [e._replace(at=e.at - delta) for e in item_h.events]
        return h


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _aware(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _number(county: str, at: float, serial: int, tz: Any) -> str:
    return f"{DEMO_PREFIX}{county}{dt.datetime.fromtimestamp(at, tz):%Y%m%d}{serial:06d}"


def ensure_demo_incidents(n: int = 15_000, progress: Callable[[str, int, int], None] | None = None, *,
                          seed: int = 11, today: dt.date | None = None) -> int:
    """Generate ``n`` closed incidents over the 365 days up to ``today`` (plus the few merged into them), with
    their calls, assignments of the demo units and timelines. Only when no incident exists (a second call
    adds nothing); loads the incident types and the demo units first if there are none. Returns the
    number of incidents written."""
    if n <= 0 or Incident.objects.exists():
        return 0
    if not IncidentType.objects.exists():
        intake.load_incident_types()
    if not Unit.objects.exists():
        from .demo import ensure_demo_resources

        ensure_demo_resources()
    tz = timezone.get_current_timezone()
    if today is None:
        now = timezone.now()
        today = timezone.localtime(now, tz).date()
    else:
        now = dt.datetime.combine(today, dt.time(23, 0), tz)
    gen = _Generator(seed, now, tz)
    if not gen.table:
        return 0
    start = today - dt.timedelta(days=364)
    times = gen.schedule(n, start, 365)
    places = gen.places(n)
    if not places:
        return 0
    stage = "应急事件 / emergency incidents"

    def items() -> Iterator[HistoricalIncident]:
        for (at, row), place in zip(times, places, strict=True):
            yield gen.shift(gen.make(at, row, place))

    def report(done: int) -> None:
        if progress is not None:
            progress(stage, done, n)

    return import_historical_incidents(acting_user=ACTOR, incidents=items(), progress=report)
