"""Public warnings (预警信息): the one write path from draft to CAP 1.2 alert, and the public reads.

Cycle: ``draft_warning`` / ``edit_draft`` (``emergency.draft_warning``, role 预警信息发布员) → ``submit_warning``
→ ``approve_and_issue`` or ``reject_warning`` (``emergency.issue_warning``, role 应急值班领导; whoever drafted,
edited or submitted the text may not approve it). A rejected warning can be edited and submitted again.
``update_warning`` and ``cancel_warning`` draft a new row (``msg_type`` Update / Cancel, ``references`` the
warning it replaces) that goes through the same approval; issuing a Cancel marks the whole thread cancelled.

Every permission is checked in the issuing department's division (``core.access``); every change writes one
audit record, and a timeline entry when the warning belongs to an incident, in the same transaction. Issuing
builds the CAP XML (``cap.py``), validates it against the official OASIS schema and freezes it on the row;
if anything fails, nothing is written.

Issuing unit, identifier and sender (``issuer_unit_code``):

- region (ZZZZZZ): the issuing department's ``division_code`` (371500 city, or the county's GB/T 2260 code);
- agency (DDD): by department kind, ``AGENCY_CODES``. 416 (meteorology) and 332 (water resources) are the
  GB/T 4657 codes seen in identifiers of the national early-warning release system; the other kinds carry
  *local* codes in the 9xx range (outside GB/T 4657's 1xx–7xx) until confirmed against GB/T 4657-2021.
  ``settings.LIAOCHENG_CAP_AGENCY_CODES`` (kind → 3 digits) overrides entries;
- unit (UUU) ``000`` and extension (XX) ``00``, the defaults of the national format.

``identifier`` = that 14-digit code, ``_``, and the Beijing time of ``sent``; a second warning from the same unit
in the same second moves ``sent`` on by a second. ``sender`` = ``<unit code>@<domain>``
(``settings.LIAOCHENG_CAP_SENDER_DOMAIN``, default ``liaocheng.gov.cn``): unique per issuing unit, no spaces or
commas as CAP requires. ``status`` is ``Actual`` unless ``settings.LIAOCHENG_CAP_STATUS`` says ``Exercise`` or
``Test`` (drills, training deployments).

Areas are the city or its current counties (GB/T 2260 codes, one ``geocode`` each); a county department may
warn only its own county.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from liaocheng.core import access, audit
from liaocheng.core.errors import Conflict, InvalidInput, NotFound
from liaocheng.core.models import AuditRecord, Department
from liaocheng.core.permissions import scope_prefix
from liaocheng.geo.models import Division, DivisionLevel

from . import cap, timeline
from .models import Incident, IncidentType, PublicWarning, WarningLevel, WarningStatus

OBJECT_TYPE = "emergency.PublicWarning"
CITY = "371500"
MAX_DESCRIPTION = 4000
MAX_REASON = 500
MAX_DURATION = dt.timedelta(days=30)
FEED_GRACE = dt.timedelta(days=1)  # expired and cancelled alerts stay in the feed a day, so readers see the end
FEED_LIMIT = 200
EDITABLE = (WarningStatus.DRAFT, WarningStatus.REJECTED)
AREA_LEVELS = (DivisionLevel.CITY, DivisionLevel.COUNTY)

A_DRAFT, A_EDIT, A_SUBMIT = "emergency.warning_draft", "emergency.warning_edit", "emergency.warning_submit"
A_ISSUE, A_REJECT = "emergency.warning_issue", "emergency.warning_reject"
A_DRAFT_UPDATE, A_DRAFT_CANCEL = "emergency.warning_draft_update", "emergency.warning_draft_cancel"
AUTHOR_ACTIONS = (A_DRAFT, A_EDIT, A_SUBMIT, A_DRAFT_UPDATE, A_DRAFT_CANCEL)

# department kind -> GB/T 4657 agency code (DDD); see the module docstring
AGENCY_CODES: dict[str, str] = {
    "meteorology": "416", "water": "332",
    # local codes until confirmed against GB/T 4657-2021
    "emergency_management": "901", "public_security": "902", "traffic_police": "903", "fire_rescue": "904",
    "health": "905", "emergency_medical": "906", "natural_resources": "907", "ecology_environment": "908",
    "transport": "909", "housing_construction": "910", "urban_management": "911", "power": "912", "gas": "913",
    "agriculture_rural": "914", "education_sports": "915", "party_government_office": "916",
    "market_regulation": "917", "culture_tourism": "918", "civil_affairs": "919", "big_data": "920",
    "hotline_12345": "921",
}
OTHER_AGENCY = "999"

LEVEL_ZH = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
LEVEL_EN = {"red": "Red", "orange": "Orange", "yellow": "Yellow", "blue": "Blue"}
# the CAP responseType a warning asks for: act on the defence guide (red, orange) or get ready (yellow, blue)
RESPONSE_BY_LEVEL = {"red": "Execute", "orange": "Execute", "yellow": "Prepare", "blue": "Prepare"}

PLACE_EN = {
    "371500": "Liaocheng", "371502": "Dongchangfu District", "371503": "Chiping District", "371521": "Yanggu County",
    "371522": "Shen County", "371523": "Chiping County", "371524": "Dong'e County", "371525": "Guan County",
    "371526": "Gaotang County", "371581": "Linqing City",
}
KIND_EN = {
    "party_government_office": "People's Government Office", "public_security": "Public Security Bureau",
    "traffic_police": "Traffic Police", "fire_rescue": "Fire and Rescue", "health": "Health Commission",
    "emergency_medical": "Emergency Medical Centre (120)", "urban_management": "Urban Management Bureau",
    "housing_construction": "Housing and Urban-Rural Development Bureau", "water": "Water Resources Bureau",
    "power": "State Grid Power Supply Company", "gas": "Gas and Heating Centre",
    "market_regulation": "Market Regulation Administration", "civil_affairs": "Civil Affairs Bureau",
    "agriculture_rural": "Agriculture and Rural Affairs Bureau", "culture_tourism": "Culture and Tourism Bureau",
    "big_data": "Big Data Bureau", "emergency_management": "Emergency Management Bureau",
    "ecology_environment": "Ecology and Environment Bureau", "natural_resources": "Natural Resources Bureau",
    "education_sports": "Education and Sports Bureau", "transport": "Transport Bureau",
    "meteorology": "Meteorological Bureau", "hotline_12345": "12345 Government Service Hotline",
}

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# the content fields a drafter sets (``_validated`` checks them together)
TEXT_LIMITS = {"event_zh": 100, "event_en": 100, "headline_zh": 200, "headline_en": 200,
               "description_zh": MAX_DESCRIPTION, "description_en": MAX_DESCRIPTION,
               "instruction_zh": MAX_DESCRIPTION, "instruction_en": MAX_DESCRIPTION, "area_desc": 200}
REQUIRED_TEXTS = ("event_zh", "event_en", "headline_zh", "headline_en", "description_zh", "description_en")
CONTENT_FIELDS = ("incident_type", "incident", "level", "cap_category", "urgency", "certainty", "area_codes",
                  "area_desc", "effective", "expires", *TEXT_LIMITS)
_SNAPSHOT = ["status", "msg_type", "level", "cap_category", "urgency", "certainty", "event_zh", "event_en",
             "headline_zh", "headline_en", "area_codes", "area_desc", "effective", "expires", "identifier",
             "issued_at"]
_LABELS = {"event_zh": ("事件名称", "event (Chinese)"), "event_en": ("英文事件名称", "event (English)"),
           "headline_zh": ("标题", "headline (Chinese)"), "headline_en": ("英文标题", "headline (English)"),
           "description_zh": ("内容", "description (Chinese)"),
           "description_en": ("英文内容", "description (English)"),
           "instruction_zh": ("防御指南", "instruction (Chinese)"),
           "instruction_en": ("英文防御指南", "instruction (English)"), "area_desc": ("区域描述", "area description")}


class InvalidTransition(Conflict):
    code = "invalid_transition"


class CapInvalid(InvalidInput):
    code = "cap_invalid"


# --- issuing unit ----------------------------------------------------------------------------------------------

def agency_code(kind: str) -> str:
    overrides = getattr(settings, "LIAOCHENG_CAP_AGENCY_CODES", None) or {}
    return str(overrides.get(kind) or AGENCY_CODES.get(kind, OTHER_AGENCY))


def issuer_unit_code(department: Department) -> str:
    """``ZZZZZZDDDUUUXX`` of the issuing department (see the module docstring)."""
    return cap.unit_code(department.division_code[:6], agency_code(department.kind))


def sender_for(department: Department) -> str:
    domain = getattr(settings, "LIAOCHENG_CAP_SENDER_DOMAIN", "") or "liaocheng.gov.cn"
    return f"{issuer_unit_code(department)}@{domain}"


def cap_status() -> str:
    status = getattr(settings, "LIAOCHENG_CAP_STATUS", "") or "Actual"
    return status if status in ("Actual", "Exercise", "Test") else "Actual"


def place_en(code: str, fallback: str = "") -> str:
    return PLACE_EN.get(code, fallback or code)


def department_name_en(department: Department) -> str:
    kind = KIND_EN.get(department.kind, department.kind.replace("_", " ").title())
    code = department.division_code[:6]
    return f"{place_en(code)} {kind}" if code in PLACE_EN else kind


# --- reads -----------------------------------------------------------------------------------------------------

def visible_warnings(*, acting_user: Any) -> QuerySet[PublicWarning]:
    """The warnings of issuing departments within the user's ``emergency.view`` scope."""
    qs = PublicWarning.objects.select_related("issuer_department", "incident_type", "drafted_by", "approved_by",
                                              "references")
    return access.filter_by_scope(qs, acting_user, "emergency.view", "issuer_department__division_code")


def get_warning(*, acting_user: Any, pk: int) -> PublicWarning:
    warning = visible_warnings(acting_user=acting_user).filter(pk=pk).first()
    if warning is None:
        raise NotFound("预警信息不存在", "no such warning", field="pk")
    return warning


def area_choices(department: Department | None = None) -> list[Division]:
    """The divisions a warning may cover: the city and its current counties (within ``department``'s)."""
    qs = Division.objects.filter(level__in=AREA_LEVELS, valid_to__isnull=True, code__startswith="3715")
    if department is not None:
        qs = qs.filter(code__startswith=scope_prefix(department.division_code))
    return list(qs.order_by("code"))


def current_warnings(now: dt.datetime | None = None) -> QuerySet[PublicWarning]:
    """Issued alerts and updates in force or announced: not expired, not cancelled, not replaced."""
    now = now or timezone.now()
    return (PublicWarning.objects.filter(status=WarningStatus.ISSUED, msg_type__in=("Alert", "Update"),
                                         expires__gt=now)
            .exclude(updates__issued_at__isnull=False)
            .select_related("issuer_department", "incident_type").order_by("-issued_at"))


def feed_warnings(now: dt.datetime | None = None) -> list[PublicWarning]:
    """What the public feed lists: every alert issued (alerts, updates and cancels) until a day after it expired."""
    now = now or timezone.now()
    qs = (PublicWarning.objects.filter(issued_at__isnull=False, expires__gt=now - FEED_GRACE)
          .select_related("issuer_department", "incident_type").order_by("-issued_at", "-pk"))
    return list(qs[:FEED_LIMIT])


def get_issued(identifier: str) -> PublicWarning:
    warning = (PublicWarning.objects.filter(identifier=identifier, issued_at__isnull=False)
               .select_related("issuer_department", "incident_type").first())
    if warning is None:
        raise NotFound("预警信息不存在", "no such warning", field="identifier")
    return warning


def is_current(warning: PublicWarning, now: dt.datetime | None = None) -> bool:
    return current_warnings(now).filter(pk=warning.pk).exists()


def authors(warning: PublicWarning) -> set[int]:
    """Users who drafted, edited or submitted the text (none of them may approve it)."""
    rows = AuditRecord.objects.filter(object_type=OBJECT_TYPE, object_id=str(warning.pk), action__in=AUTHOR_ACTIONS)
    ids = {actor for actor in rows.values_list("actor_id", flat=True) if actor is not None}
    if warning.drafted_by_id is not None:
        ids.add(warning.drafted_by_id)
    return ids


def thread(warning: PublicWarning) -> list[PublicWarning]:
    """The earlier messages ``warning`` follows (the original first), ``references`` walked back."""
    chain: list[PublicWarning] = []
    seen: set[int] = set()
    current = warning.references
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        chain.append(current)
        current = current.references
    return list(reversed(chain))


def is_head(warning: PublicWarning) -> bool:
    """An issued alert or update that no issued message has replaced or cancelled yet."""
    return (warning.status == WarningStatus.ISSUED and warning.msg_type in ("Alert", "Update")
            and not PublicWarning.objects.filter(references=warning, issued_at__isnull=False).exists())


# --- validation ------------------------------------------------------------------------------------------------

def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    text = "" if value is None else str(value).replace("\r\n", "\n").strip()
    zh, en = _LABELS[name]
    if _CONTROL.search(text):
        raise InvalidInput(f"{zh}含有不可用的控制字符", f"the {en} contains control characters", field=name)
    if len(text) > TEXT_LIMITS[name]:
        raise InvalidInput(f"{zh}不能超过 {TEXT_LIMITS[name]} 字", f"the {en} may hold at most {TEXT_LIMITS[name]}"
                           " characters", field=name)
    if not text:
        if name in REQUIRED_TEXTS:
            raise InvalidInput(f"请填写{zh}（预警须同时提供中文和英文）",
                               f"the {en} is required (a warning carries Chinese and English texts)", field=name)
        return ""
    if name.endswith("_zh") and not _CJK.search(text):
        raise InvalidInput(f"{zh}应使用中文", f"the {en} must be written in Chinese", field=name)
    if name.endswith("_en") and (_CJK.search(text) or not _LATIN.search(text)):
        raise InvalidInput(f"{zh}应使用英文，不含汉字", f"the {en} must be written in English, without Chinese "
                           "characters", field=name)
    return text


def _datetime(value: Any, field: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        parsed = parse_datetime(value)
        if parsed is None:
            raise InvalidInput("时间格式不正确", "not a valid date and time", field=field)
        value = parsed
    if not isinstance(value, dt.datetime):
        raise InvalidInput("时间格式不正确", "not a valid date and time", field=field)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _incident_type(value: Any) -> IncidentType:
    if isinstance(value, IncidentType):
        found: IncidentType | None = value
    else:
        code = str(value or "").strip().upper()
        found = IncidentType.objects.filter(code=code).first() if code else None
    if found is None or not found.active:
        raise InvalidInput("突发事件分类不存在", "unknown incident type", field="incident_type")
    return found


def _incident(value: Any) -> Incident | None:
    if value in (None, ""):
        return None
    if isinstance(value, Incident):
        return value
    found = Incident.objects.filter(number=str(value).strip()).first()
    if found is None:
        raise InvalidInput("关联的突发事件不存在", "unknown incident", field="incident")
    return found


def _codes(value: Any) -> list[str]:
    """Area codes from a list or a string ("371502,371522"), in order, without repeats."""
    raw = re.split(r"[\s,，、;；]+", value) if isinstance(value, str) else list(value or [])
    codes: list[str] = []
    for item in raw:
        code = str(item).strip()
        if code and code not in codes:
            codes.append(code)
    return codes


def _area_codes(value: Any, issuer: Department) -> tuple[list[str], list[Division]]:
    codes = _codes(value)
    if not codes:
        raise InvalidInput("请选择预警区域", "choose the area the warning covers", field="area_codes")
    divisions = {d.code: d for d in Division.objects.filter(code__in=codes, level__in=AREA_LEVELS,
                                                            valid_to__isnull=True, code__startswith="3715")}
    unknown = [c for c in codes if c not in divisions]
    if unknown:
        raise InvalidInput(f"预警区域不是本市现行的市或县级区划：{'、'.join(unknown)}",
                           f"not a current division (city or county) of Liaocheng: {', '.join(unknown)}",
                           field="area_codes")
    prefix = scope_prefix(issuer.division_code)
    outside = [c for c in codes if not c.startswith(prefix)]
    if outside:
        raise InvalidInput(f"预警区域超出发布单位的辖区：{'、'.join(outside)}",
                           f"outside the issuing department's division: {', '.join(outside)}", field="area_codes")
    return codes, [divisions[c] for c in codes]


def _validated(issuer: Department, values: dict[str, Any], *, now: dt.datetime | None = None) -> dict[str, Any]:
    """All content fields checked together; returns the model field values (raises on the first problem)."""
    now = now or timezone.now()
    unknown = set(values) - set(CONTENT_FIELDS)
    if unknown:
        raise InvalidInput("未知的字段", f"unknown field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    level = str(values.get("level") or "")
    if level not in WarningLevel.values:
        raise InvalidInput("请选择预警级别（红、橙、黄、蓝）", "choose the warning level (red, orange, yellow, blue)",
                           field="level")
    incident_type = _incident_type(values.get("incident_type"))
    category = str(values.get("cap_category") or "") or cap.category_for_type(incident_type.code)
    if category not in cap.CATEGORIES:
        raise InvalidInput("CAP 类别不正确", f"the CAP category must be one of {', '.join(cap.CATEGORIES)}",
                           field="cap_category")
    urgency = str(values.get("urgency") or "Expected")
    if urgency not in cap.URGENCIES:
        raise InvalidInput("紧急程度不正确", f"urgency must be one of {', '.join(cap.URGENCIES)}", field="urgency")
    certainty = str(values.get("certainty") or "Likely")
    if certainty not in cap.CERTAINTIES:
        raise InvalidInput("确定性不正确", f"certainty must be one of {', '.join(cap.CERTAINTIES)}", field="certainty")
    texts = {name: _text(values, name) for name in TEXT_LIMITS}
    codes, divisions = _area_codes(values.get("area_codes"), issuer)
    if not texts["area_desc"]:
        texts["area_desc"] = "、".join(d.name for d in divisions)[:200]
    effective = _datetime(values.get("effective"), "effective")
    expires = _datetime(values.get("expires"), "expires")
    if expires is None:
        raise InvalidInput("请填写失效时间", "the expiry time is required", field="expires")
    start = max(effective or now, now)
    if expires <= start:
        raise InvalidInput("失效时间应晚于生效时间和当前时间", "the warning must expire after it takes effect and after"
                           " now", field="expires")
    if expires - start > MAX_DURATION:
        raise InvalidInput("预警有效期不能超过 30 天", "a warning may last at most 30 days", field="expires")
    return {"level": level, "incident_type": incident_type, "cap_category": category, "urgency": urgency,
            "certainty": certainty, "area_codes": codes, "effective": effective, "expires": expires,
            "incident": _incident(values.get("incident")), **texts}


def _issuer(acting_user: Any, department: Any) -> Department:
    if department in (None, ""):
        department = getattr(acting_user, "department", None)
    if isinstance(department, Department):
        found: Department | None = department
    else:
        key = str(department or "").strip()
        found = (Department.objects.filter(pk=int(key)).first() if key.isdigit()
                 else Department.objects.filter(code=key).first()) if key else None
    if found is None or not found.active:
        raise InvalidInput("请选择发布单位", "choose the issuing department", field="issuer_department")
    if not (len(found.division_code) == 6 and found.division_code.startswith("3715")):
        raise InvalidInput("发布单位须为本市市级或县级部门", "the issuer must be a city or county department of "
                           "Liaocheng", field="issuer_department")
    return found


def _get(warning: PublicWarning | int) -> PublicWarning:
    pk = warning if isinstance(warning, int) else warning.pk
    found = PublicWarning.objects.select_related("issuer_department", "incident_type", "references", "incident") \
        .filter(pk=pk).first()
    if found is None:
        raise NotFound("预警信息不存在", "no such warning", field="pk")
    return found


def _record(warning: PublicWarning, action: str, actor: Any, before: dict[str, Any] | None,
            extra: dict[str, Any] | None = None, event: str = "", note: str = "") -> None:
    after = {**audit.snapshot(warning, _SNAPSHOT), "incident_type": warning.incident_type.code, **(extra or {})}
    audit.record(actor=actor, action=action, object_type=OBJECT_TYPE, object_id=warning.pk, before=before,
                 after=after, division_code=warning.issuer_department.division_code)
    if event and warning.incident is not None:
        timeline.record_event(warning.incident, event, actor=actor, note=note or warning.headline_zh,
                              data={"warning": warning.pk, "level": warning.level, "msg_type": warning.msg_type,
                                    **({"identifier": warning.identifier} if warning.identifier else {})})


# --- drafting --------------------------------------------------------------------------------------------------

def draft_warning(
    *, acting_user: Any, incident_type: Any, level: str, event_zh: str, event_en: str, headline_zh: str,
    headline_en: str, description_zh: str, description_en: str, area_codes: Iterable[str] | str,
    expires: Any, instruction_zh: str = "", instruction_en: str = "", area_desc: str = "", effective: Any = None,
    urgency: str = "Expected", certainty: str = "Likely", cap_category: str = "", incident: Any = None,
    issuer_department: Any = None,
) -> PublicWarning:
    """A new warning (draft) of ``issuer_department`` (default: the drafter's department)."""
    issuer = _issuer(acting_user, issuer_department)
    access.require(acting_user, "emergency.draft_warning", issuer.division_code)
    values = _validated(issuer, {
        "incident_type": incident_type, "level": level, "event_zh": event_zh, "event_en": event_en,
        "headline_zh": headline_zh, "headline_en": headline_en, "description_zh": description_zh,
        "description_en": description_en, "instruction_zh": instruction_zh, "instruction_en": instruction_en,
        "area_codes": area_codes, "area_desc": area_desc, "effective": effective, "expires": expires,
        "urgency": urgency, "certainty": certainty, "cap_category": cap_category, "incident": incident,
    })
    with transaction.atomic():
        warning = PublicWarning.objects.create(
            issuer_department=issuer, drafted_by=acting_user, drafted_at=timezone.now(),
            status=WarningStatus.DRAFT, msg_type="Alert", **values)
        _record(warning, A_DRAFT, acting_user, None, event="warning_drafted")
    return warning


def _content(warning: PublicWarning) -> dict[str, Any]:
    return {name: getattr(warning, name) for name in CONTENT_FIELDS}


def _auto_area_desc(codes: Iterable[str]) -> str:
    names = dict(Division.objects.filter(code__in=list(codes), valid_to__isnull=True).values_list("code", "name"))
    return "、".join(names.get(c, c) for c in codes)[:200]


def _merged(warning: PublicWarning, changes: dict[str, Any]) -> dict[str, Any]:
    """The warning's content changed by ``changes``; a generated area description follows new area codes."""
    values = {**_content(warning), **changes}
    new_codes = values.get("area_codes")
    if new_codes is not None and _codes(new_codes) != list(warning.area_codes) and \
            str(values.get("area_desc") or "").strip() == _auto_area_desc(warning.area_codes):
        values["area_desc"] = ""
    return values


def edit_draft(*, acting_user: Any, warning: PublicWarning | int, **changes: Any) -> PublicWarning:
    """Change a draft or a rejected warning (it becomes a draft again)."""
    warning = _get(warning)
    access.require(acting_user, "emergency.draft_warning", warning.issuer_department.division_code)
    if warning.msg_type == "Cancel":  # only its texts; a blank headline keeps the current one
        changes = {k: v for k, v in changes.items() if k in TEXT_LIMITS and k != "area_desc"
                   and not (k.startswith("headline") and not str(v or "").strip())}
    values = _validated(warning.issuer_department, _merged(warning, changes))
    with transaction.atomic():
        warning = PublicWarning.objects.select_for_update().get(pk=warning.pk)
        if warning.status not in EDITABLE:
            raise InvalidTransition("只有草稿或已驳回的预警可以修改",
                                    "only a draft or a rejected warning can be changed", field="status")
        before = audit.snapshot(warning, _SNAPSHOT)
        for name, value in values.items():
            setattr(warning, name, value)
        warning.status = WarningStatus.DRAFT
        warning.save()
        _record(warning, A_EDIT, acting_user, before)
    return warning


def submit_warning(*, acting_user: Any, warning: PublicWarning | int) -> PublicWarning:
    """Send a draft to the duty leader for approval."""
    warning = _get(warning)
    access.require(acting_user, "emergency.draft_warning", warning.issuer_department.division_code)
    _validated(warning.issuer_department, _content(warning))  # still complete, still in the future
    with transaction.atomic():
        warning = PublicWarning.objects.select_for_update().get(pk=warning.pk)
        if warning.status not in EDITABLE:
            raise InvalidTransition("只有草稿或已驳回的预警可以提交审批", "only a draft or a rejected warning can be"
                                    " submitted", field="status")
        before = audit.snapshot(warning, _SNAPSHOT)
        warning.status = WarningStatus.SUBMITTED
        warning.save(update_fields=["status"])
        _record(warning, A_SUBMIT, acting_user, before, event="warning_submitted")
    return warning


def _followup(acting_user: Any, warning: PublicWarning | int, msg_type: str, values: dict[str, Any],
              action: str, event: str) -> PublicWarning:
    original = _get(warning)
    issuer = original.issuer_department
    access.require(acting_user, "emergency.draft_warning", issuer.division_code)
    if not is_head(original):
        raise InvalidTransition("只能更新或解除现行有效的最新预警", "only the latest issued, not yet replaced or "
                                "cancelled warning can be updated or cancelled", field="references")
    checked = _validated(issuer, values)
    with transaction.atomic():
        row = PublicWarning.objects.create(
            issuer_department=issuer, drafted_by=acting_user, drafted_at=timezone.now(), status=WarningStatus.DRAFT,
            msg_type=msg_type, references=original, **checked)
        _record(row, action, acting_user, None, {"references": original.identifier}, event=event)
    return row


def update_warning(*, acting_user: Any, warning: PublicWarning | int, **changes: Any) -> PublicWarning:
    """Draft an Update of an issued warning (upgrade, downgrade, new area or expiry, new text): a new row that
    copies the warning, changed by ``changes``, and goes through approval like any draft."""
    original = _get(warning)
    values = _merged(original, {"effective": None, **changes})
    return _followup(acting_user, original, "Update", values, A_DRAFT_UPDATE, "warning_update_drafted")


def cancel_warning(*, acting_user: Any, warning: PublicWarning | int, description_zh: str, description_en: str,
                   headline_zh: str = "", headline_en: str = "", instruction_zh: str = "",
                   instruction_en: str = "") -> PublicWarning:
    """Draft the Cancel (解除) of an issued warning: the reason in both languages; approval as any draft."""
    original = _get(warning)
    level_zh, level_en = LEVEL_ZH[original.level], LEVEL_EN[original.level]
    values = {**_content(original), "effective": None,
              "headline_zh": headline_zh or f"解除{original.event_zh}{level_zh}预警",
              "headline_en": headline_en or f"{level_en} {original.event_en} warning cancelled",
              "description_zh": description_zh, "description_en": description_en,
              "instruction_zh": instruction_zh, "instruction_en": instruction_en}
    return _followup(acting_user, original, "Cancel", values, A_DRAFT_CANCEL, "warning_cancel_drafted")


# --- approval --------------------------------------------------------------------------------------------------

def reject_warning(*, acting_user: Any, warning: PublicWarning | int, reason: str) -> PublicWarning:
    """Send a submitted warning back to its drafters with the reason (kept in the audit record)."""
    warning = _get(warning)
    access.require(acting_user, "emergency.issue_warning", warning.issuer_department.division_code)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写驳回理由", "the reason for rejecting is required", field="reason")
    if len(reason) > MAX_REASON or _CONTROL.search(reason):
        raise InvalidInput(f"驳回理由不能超过 {MAX_REASON} 字", f"the reason may hold at most {MAX_REASON} characters",
                           field="reason")
    with transaction.atomic():
        warning = PublicWarning.objects.select_for_update().get(pk=warning.pk)
        if warning.status != WarningStatus.SUBMITTED:
            raise InvalidTransition("只有待审批的预警可以驳回", "only a submitted warning can be rejected",
                                    field="status")
        before = audit.snapshot(warning, _SNAPSHOT)
        warning.status = WarningStatus.REJECTED
        warning.save(update_fields=["status"])
        _record(warning, A_REJECT, acting_user, before, {"reason": reason}, event="warning_rejected", note=reason)
    return warning


def public_url(identifier: str) -> str:
    """The public page of an issued warning (CAP ``web``)."""
    try:
        path = reverse("emergency_warnings:public_detail", kwargs={"identifier": identifier})
    except NoReverseMatch:
        path = f"/warnings/{identifier}/"
    return f"{settings.PUBLIC_BASE_URL}{path}"


def build_alert(warning: PublicWarning, *, identifier: str, sent: dt.datetime, status: str | None = None) -> cap.Alert:
    """The CAP alert of ``warning`` as sent at ``sent`` under ``identifier`` (two info blocks, zh-CN and en-US)."""
    issuer = warning.issuer_department
    names = {d.code: d.name for d in Division.objects.filter(code__in=warning.area_codes, valid_to__isnull=True)}
    geocodes = tuple((cap.GEOCODE_NAME, code) for code in warning.area_codes)
    area_en = ", ".join(place_en(code, names.get(code, code)) for code in warning.area_codes)
    effective = warning.effective or sent
    response = "AllClear" if warning.msg_type == "Cancel" else RESPONSE_BY_LEVEL[warning.level]
    common: dict[str, Any] = {
        "categories": (warning.cap_category,), "urgency": warning.urgency,
        "severity": cap.SEVERITY_BY_LEVEL[warning.level], "certainty": warning.certainty,
        "response_types": (response,), "event_codes": ((cap.EVENT_CODE_NAME, warning.incident_type.code),),
        "effective": effective, "onset": effective, "expires": warning.expires, "web": public_url(identifier),
        "parameters": ((cap.LEVEL_PARAMETER, warning.level),),
    }
    zh = cap.Info(language="zh-CN", event=warning.event_zh, sender_name=issuer.name, headline=warning.headline_zh,
                  description=warning.description_zh, instruction=warning.instruction_zh,
                  areas=(cap.Area(warning.area_desc, geocodes),), **common)
    en = cap.Info(language="en-US", event=warning.event_en, sender_name=department_name_en(issuer),
                  headline=warning.headline_en, description=warning.description_en,
                  instruction=warning.instruction_en, areas=(cap.Area(area_en, geocodes),), **common)
    status = status or cap_status()
    references = tuple(cap.reference(sender_for(w.issuer_department), w.identifier or "", w.issued_at or sent)
                       for w in thread(warning))
    note = "演练信息，无需采取行动 / Exercise: no action required" if status == "Exercise" else (
        "测试信息，请忽略 / Test message: please ignore" if status == "Test" else "")
    return cap.Alert(identifier=identifier, sender=sender_for(issuer), sent=sent, status=status,
                     msg_type=warning.msg_type, scope="Public", note=note, references=references,
                     incidents=warning.incident.number if warning.incident_id is not None and warning.incident
                     else "", infos=(zh, en))


def preview_xml(warning: PublicWarning) -> str:
    """What issuing now would send (for the approval page; nothing is reserved or written)."""
    sent = cap.beijing(timezone.now())
    identifier = cap.make_identifier(issuer_unit_code(warning.issuer_department), sent)
    return cap.to_xml(build_alert(warning, identifier=identifier, sent=sent)).decode("utf-8")


def _free_identifier(unit: str, sent: dt.datetime) -> tuple[str, dt.datetime]:
    for _ in range(120):
        identifier = cap.make_identifier(unit, sent)
        if not PublicWarning.objects.filter(identifier=identifier).exists():
            return identifier, sent
        sent += dt.timedelta(seconds=1)
    raise Conflict("发布过于频繁，请稍后重试", "too many warnings from this unit just now; try again",
                   field="identifier")


def approve_and_issue(*, acting_user: Any, warning: PublicWarning | int) -> PublicWarning:
    """Approve a submitted warning and issue it: build the CAP 1.2 alert, validate it against the official
    schema, freeze it on the row. A Cancel marks the thread it cancels as cancelled. Nothing is written
    unless all of it succeeds."""
    warning = _get(warning)
    division = warning.issuer_department.division_code
    access.require(acting_user, "emergency.issue_warning", division)
    if getattr(acting_user, "pk", None) in authors(warning):
        raise PermissionDenied("不能审批本人起草、修改或提交的预警 / you cannot approve a warning you drafted, edited "
                               "or submitted")
    try:
        with transaction.atomic():
            warning = PublicWarning.objects.select_for_update(of=("self",)).select_related(
                "issuer_department", "incident_type", "incident", "references").get(pk=warning.pk)
            if warning.status != WarningStatus.SUBMITTED:
                raise InvalidTransition("只有待审批的预警可以发布", "only a submitted warning can be issued",
                                        field="status")
            if warning.references is not None:
                original = PublicWarning.objects.select_for_update().get(pk=warning.references.pk)
                if not is_head(original):
                    raise InvalidTransition("被更新或解除的预警已不是现行有效的最新预警",
                                            "the warning this one updates or cancels has been replaced, cancelled "
                                            "or is no longer issued", field="references")
            sent = cap.beijing(timezone.now())
            if warning.expires is None or warning.expires <= sent:
                raise InvalidInput("预警已过失效时间，请修改后重新提交",
                                   "the warning has expired; change it and submit again", field="expires")
            identifier, sent = _free_identifier(issuer_unit_code(warning.issuer_department), sent)
            before = audit.snapshot(warning, _SNAPSHOT)
            warning.identifier, warning.issued_at, warning.approved_by = identifier, sent, acting_user
            warning.effective = warning.effective or sent
            try:
                xml = cap.to_xml(build_alert(warning, identifier=identifier, sent=sent))
                cap.assert_valid(xml)
            except cap.CapError as exc:
                raise CapInvalid("生成的 CAP 预警信息不符合 CAP 1.2 规范：" + "；".join(exc.errors),
                                 "the CAP alert is not valid CAP 1.2: " + "; ".join(exc.errors),
                                 field="cap_xml") from exc
            warning.cap_xml = xml.decode("utf-8")
            warning.status = WarningStatus.ISSUED
            warning.save()
            cancelled: list[str] = []
            if warning.msg_type == "Cancel":
                for row in thread(warning):
                    if row.status == WarningStatus.ISSUED:
                        row.status = WarningStatus.CANCELLED
                        row.save(update_fields=["status"])
                        cancelled.append(row.identifier or str(row.pk))
            extra = {"sender": sender_for(warning.issuer_department), "cap_status": cap_status(),
                     "references": [w.identifier for w in thread(warning)], "cancelled": cancelled}
            _record(warning, A_ISSUE, acting_user, before, extra, event="warning_issued")
    except IntegrityError as exc:  # another unit member issued under the same identifier at the same moment
        raise Conflict("发布冲突，请重试", "the identifier was taken at the same moment; try again",
                       field="identifier") from exc
    return warning
