"""The service item catalogue (政务服务事项目录): item types, items and their materials and processes,
publication, public search, and the plan indicators (网办率, 政府信息公开率).

Writes check ``egov.manage_items`` / ``egov.publish_items`` in the item's division, and a department
maintains only its own items (superusers excepted); each change writes one audit record in the same
transaction. A process is validated as a DAG of steps (``validate_process``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from liaocheng.core import access, audit
from liaocheng.core.departments import department_code
from liaocheng.core.errors import InvalidInput, NotFound
from liaocheng.core.models import Department
from liaocheng.core.permissions import BUILTIN_ROLES, CITY_CODE

from . import catalogue_data
from .models import Bundle, BundleItem, Document, ItemStatus, ItemType, Material, MaterialForm, ServiceItem

SYSTEM = "system"
EGOV_ROLES = frozenset(code for code in BUILTIN_ROLES if code.startswith("egov_"))
SERVES = ("citizen", "enterprise", "both")
RESULT_KINDS = ("licence", "certificate", "approval", "none")
ONLINE_TARGET = 80.0  # plan target: share of items handled online (%)
DISCLOSURE_TARGET = 100.0  # plan target: share of non-classified documents published (%)
FULLY_ONLINE_DEPTH = 4  # 全程网办
ONLINE_DEPTH = 3  # 网上办理 (depth 3 or 4)


# --- item types and the demo catalogue ---------------------------------------------------------------

def load_item_types() -> int:
    """Create the shipped item types that do not exist yet (idempotent). Returns how many were created."""
    created = 0
    with transaction.atomic():
        for order, (code, name) in enumerate(catalogue_data.ITEM_TYPES, 1):
            _, was_created = ItemType.objects.get_or_create(code=code, defaults={"name": name, "order": order})
            created += was_created
        if created:
            audit.record(actor=SYSTEM, action="egov.load_item_types", object_type="egov.ItemType", object_id="*",
                         after={"created": created}, division_code=CITY_CODE)
    return created


def _demo_departments(spec: dict[str, Any]) -> QuerySet[Department]:
    qs = Department.objects.filter(kind=spec["kind"], active=True)
    if spec["levels"] == "city":
        qs = qs.filter(division_code=CITY_CODE)
    return qs


def ensure_demo_catalogue() -> dict[str, int]:
    """Create the shipped items (published) for every implementing department, and the bundles in every
    division where all their members exist. Idempotent: existing items (by implementation code) and bundles
    are left as they are, edits included."""
    load_item_types()
    types = {t.code: t for t in ItemType.objects.all()}
    existing = set(ServiceItem.objects.values_list("code", flat=True))
    now = timezone.now()
    items = bundles = 0
    with transaction.atomic():
        for spec in catalogue_data.ITEMS:
            for dept in _demo_departments(spec):
                code = catalogue_data.implementation_code(spec["basic_code"], dept.division_code, spec["kind"])
                if code in existing:
                    continue
                item = ServiceItem.objects.create(
                    basic_code=spec["basic_code"], code=code, name=spec["name"], item_type=types[spec["type"]],
                    level=dept.level, department=dept, division_code=dept.division_code,
                    **{f: spec[f] for f in ("legal_basis", "conditions", "statutory_days", "promised_days", "fee",
                                            "serves", "online_depth", "max_visits", "result_name", "result_kind",
                                            "form_fields", "process", "credit_rule")},
                    status=ItemStatus.PUBLISHED, published_at=now,
                )
                Material.objects.bulk_create([
                    Material(item=item, name=name, required=required, form=form, accepted_types=types_,
                             source=source, order=i)
                    for i, (name, required, form, types_, source) in enumerate(spec["materials"], 1)
                ])
                existing.add(code)
                items += 1
        divisions = sorted(set(Department.objects.filter(active=True).values_list("division_code", flat=True)))
        for bspec in catalogue_data.BUNDLES:
            for division in divisions:
                code = catalogue_data.bundle_code(bspec["code"], division)
                if Bundle.objects.filter(code=code).exists():
                    continue
                members = []
                for kind, basic, prior, optional in bspec["members"]:
                    member = ServiceItem.objects.filter(
                        basic_code=basic, department__code=department_code(division, kind)).first()
                    if member is None:
                        break
                    members.append((member, prior, optional))
                else:
                    bundle = Bundle.objects.create(code=code, name=bspec["name"], serves=bspec["serves"],
                                                   description=bspec["description"], status=ItemStatus.PUBLISHED)
                    BundleItem.objects.bulk_create([
                        BundleItem(bundle=bundle, item=item, prior=prior, optional=optional, order=i)
                        for i, (item, prior, optional) in enumerate(members, 1)])
                    bundles += 1
        if items or bundles:
            audit.record(actor=SYSTEM, action="egov.ensure_demo_catalogue", object_type="egov.ServiceItem",
                         object_id="*", after={"items": items, "bundles": bundles}, division_code=CITY_CODE)
    return {"items": items, "bundles": bundles}


# --- process validation ------------------------------------------------------------------------------

def _bad(zh: str, en: str, index: int | None = None) -> InvalidInput:
    return InvalidInput(zh, en, field="process", row=index)


def validate_process(steps: Any, promised_days: int | None = None) -> list[dict[str, Any]]:
    """Check a process (list of steps ``{key, name, role, limit_days, after}``) and return it normalised.

    Rules: unique keys; roles are built-in ``egov_*`` roles; ``after`` names existing keys; no cycles; exactly
    one start step; ``limit_days`` a positive whole number; the longest path's total ≤ ``promised_days``.
    Errors name the field ``process`` and the (1-based) step as ``row``."""
    if not isinstance(steps, list) or not steps:
        raise _bad("办理流程至少应有一个环节", "the process needs at least one step")
    clean: list[dict[str, Any]] = []
    keys: set[str] = set()
    for i, step in enumerate(steps, 1):
        if not isinstance(step, dict):
            raise _bad(f"第{i}个环节格式不正确", f"step {i} is not an object", i)
        key = str(step.get("key") or "").strip()
        name = str(step.get("name") or "").strip()
        if not key or not name:
            raise _bad(f"第{i}个环节缺少编码或名称", f"step {i} needs a key and a name", i)
        if key in keys:
            raise _bad(f"环节编码“{key}”重复", f"duplicate step key '{key}'", i)
        keys.add(key)
        role = str(step.get("role") or "")
        if role not in EGOV_ROLES:
            raise _bad(f"环节“{name}”的办理角色“{role}”不存在", f"step '{name}': unknown role '{role}'", i)
        days = step.get("limit_days")
        if not isinstance(days, int) or isinstance(days, bool) or not 0 < days <= 250:
            raise _bad(f"环节“{name}”的时限应为正整数（工作日）", f"step '{name}': limit_days must be a positive "
                       "whole number of working days", i)
        after = step.get("after") or []
        if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
            raise _bad(f"环节“{name}”的前序环节格式不正确", f"step '{name}': after must be a list of keys", i)
        clean.append({"key": key, "name": name, "role": role, "limit_days": days, "after": list(dict.fromkeys(after))})
    for i, step in enumerate(clean, 1):
        for ref in step["after"]:
            if ref not in keys or ref == step["key"]:
                raise _bad(f"环节“{step['name']}”的前序环节“{ref}”不存在", f"step '{step['name']}': after refers "
                           f"to unknown step '{ref}'", i)
    starts = [s for s in clean if not s["after"]]
    if len(starts) != 1:
        raise _bad("办理流程应有且仅有一个起始环节", "the process must have exactly one start step")
    # longest path (working days) by depth-first search with cycle detection
    by_key = {s["key"]: s for s in clean}
    longest: dict[str, int] = {}
    visiting: set[str] = set()

    def finish(key: str) -> int:
        if key in longest:
            return longest[key]
        if key in visiting:
            raise _bad(f"办理流程存在循环（环节“{by_key[key]['name']}”）", f"the process has a cycle "
                       f"(step '{by_key[key]['name']}')")
        visiting.add(key)
        before = max((finish(ref) for ref in by_key[key]["after"]), default=0)
        visiting.discard(key)
        longest[key] = before + by_key[key]["limit_days"]
        return longest[key]

    total = max(finish(k) for k in by_key)
    if promised_days is not None and total > promised_days:
        raise _bad(f"各环节时限合计（最长路径{total}个工作日）超过承诺办结时限{promised_days}个工作日",
                   f"the longest path takes {total} working days, more than the promised {promised_days}")
    return clean


def process_total_days(steps: list[dict[str, Any]]) -> int:
    """Working days along the longest path of a valid process."""
    by_key = {s["key"]: s for s in steps}
    memo: dict[str, int] = {}

    def finish(key: str) -> int:
        if key not in memo:
            memo[key] = by_key[key]["limit_days"] + max((finish(r) for r in by_key[key]["after"]), default=0)
        return memo[key]

    return max((finish(k) for k in by_key), default=0)


# --- items ---------------------------------------------------------------------------------------------

ITEM_FIELDS = ["name", "legal_basis", "conditions", "statutory_days", "promised_days", "fee", "serves",
               "online_depth", "max_visits", "result_name", "result_kind", "credit_rule", "process", "form_fields"]


def _require_department(user: Any, perm: str, department: Department) -> None:
    access.require(user, perm, department.division_code)
    if not getattr(user, "is_superuser", False) and getattr(user, "department_id", None) != department.pk:
        raise PermissionDenied("只能维护本部门的政务服务事项 / a department maintains only its own service items")


def _snapshot(item: ServiceItem) -> dict[str, Any]:
    data = {f: getattr(item, f) for f in ITEM_FIELDS}
    data.update(code=item.code, status=item.status, item_type=item.item_type.code)
    return data


def _validate_fields(data: dict[str, Any]) -> dict[str, Any]:
    clean = dict(data)
    name = str(clean.get("name") or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput("请填写事项名称（不超过120字）", "enter the item name (at most 120 characters)",
                           field="name")
    clean["name"] = name
    for field, label_zh, label_en in (("statutory_days", "法定办结时限", "statutory deadline"),
                                      ("promised_days", "承诺办结时限", "promised deadline")):
        value = clean.get(field)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 365:
            raise InvalidInput(f"{label_zh}应为正整数（工作日）", f"the {label_en} must be a positive number of "
                               "working days", field=field)
    if clean["promised_days"] > clean["statutory_days"]:
        raise InvalidInput("承诺办结时限不得超过法定办结时限", "the promised deadline may not exceed the statutory one",
                           field="promised_days")
    if clean.get("serves", "enterprise") not in SERVES:
        raise InvalidInput("服务对象不正确", "unknown target group", field="serves")
    depth = clean.get("online_depth", 1)
    if not isinstance(depth, int) or not 1 <= depth <= 4:
        raise InvalidInput("网办深度应为1至4", "online depth must be 1 to 4", field="online_depth")
    if clean.get("result_kind", "licence") not in RESULT_KINDS:
        raise InvalidInput("结果类型不正确", "unknown result kind", field="result_kind")
    if clean.get("credit_rule", "none") not in ("none", "flag", "block"):
        raise InvalidInput("信用核查规则不正确", "unknown credit rule", field="credit_rule")
    clean["process"] = validate_process(clean.get("process"), clean["promised_days"])
    fields = clean.get("form_fields") or []
    if not isinstance(fields, list) or not all(isinstance(f, dict) and f.get("key") for f in fields):
        raise InvalidInput("申请表字段格式不正确", "form fields must be a list of objects with a key",
                           field="form_fields")
    clean["form_fields"] = fields
    return clean


def create_item(*, acting_user: Any, department: Department, item_type: ItemType, basic_code: str,
                **data: Any) -> ServiceItem:
    """Create a draft item implemented by ``department``; the implementation code follows the catalogue
    scheme (basic code + division + department kind number)."""
    _require_department(acting_user, "egov.manage_items", department)
    basic_code = (basic_code or "").strip()
    if len(basic_code) != 12 or not basic_code.isdigit():
        raise InvalidInput("基本编码应为12位数字", "the basic code must be 12 digits", field="basic_code")
    clean = _validate_fields(data)
    kind_no = catalogue_data.KIND_NUMBERS.get(department.kind, 0)
    code = f"{basic_code}-{department.division_code}-{kind_no:03d}"
    if ServiceItem.objects.filter(code=code).exists():
        raise InvalidInput("该部门已有相同基本编码的事项", "the department already implements this basic code",
                           field="basic_code")
    with transaction.atomic():
        item = ServiceItem.objects.create(
            basic_code=basic_code, code=code, item_type=item_type, level=department.level, department=department,
            division_code=department.division_code, status=ItemStatus.DRAFT,
            **{f: clean[f] for f in ITEM_FIELDS if f in clean})
        audit.record(actor=acting_user, action="egov.create_item", object_type="egov.ServiceItem",
                     object_id=item.code, after=_snapshot(item), division_code=item.division_code)
    return item


def update_item(*, acting_user: Any, item: ServiceItem, **changes: Any) -> ServiceItem:
    """Change an item's fields (``ITEM_FIELDS``); the whole item is validated again."""
    _require_department(acting_user, "egov.manage_items", item.department)
    unknown = set(changes) - set(ITEM_FIELDS) - {"item_type"}
    if unknown:
        raise InvalidInput("不可修改的字段", "fields that cannot be changed", field=sorted(unknown)[0])
    data = {f: getattr(item, f) for f in ITEM_FIELDS}
    data.update({k: v for k, v in changes.items() if k != "item_type"})
    clean = _validate_fields(data)
    with transaction.atomic():
        before = _snapshot(item)
        for f in ITEM_FIELDS:
            setattr(item, f, clean[f])
        if changes.get("item_type") is not None:
            item.item_type = changes["item_type"]
        item.save()
        audit.record(actor=acting_user, action="egov.update_item", object_type="egov.ServiceItem",
                     object_id=item.code, before=before, after=_snapshot(item), division_code=item.division_code)
    return item


def set_materials(*, acting_user: Any, item: ServiceItem, materials: list[dict[str, Any]]) -> list[Material]:
    """Replace the item's material list (name, required, form, accepted_types, max_mb, source). Blank forms
    and samples of materials kept by name are preserved."""
    _require_department(acting_user, "egov.manage_items", item.department)
    clean: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, m in enumerate(materials, 1):
        name = str(m.get("name") or "").strip()
        if not name or len(name) > 120:
            raise InvalidInput(f"第{i}项材料名称为空或过长", f"material {i}: name missing or too long",
                               field="materials", row=i)
        if name in names:
            raise InvalidInput(f"材料“{name}”重复", f"duplicate material '{name}'", field="materials", row=i)
        names.add(name)
        form = m.get("form") or MaterialForm.ELECTRONIC
        if form not in MaterialForm.values:
            raise InvalidInput(f"材料“{name}”的形式不正确", f"material '{name}': unknown form", field="materials",
                               row=i)
        types = ",".join(t.strip().lower().lstrip(".") for t in str(m.get("accepted_types") or "pdf").split(",")
                         if t.strip())
        max_mb = m.get("max_mb", 10)
        if not isinstance(max_mb, int) or not 0 < max_mb <= 100:
            raise InvalidInput(f"材料“{name}”的大小上限应为1至100", f"material '{name}': size limit 1 to 100 MB",
                               field="materials", row=i)
        clean.append({"name": name, "required": bool(m.get("required", True)), "form": form,
                      "accepted_types": types[:60], "max_mb": max_mb, "source": str(m.get("source") or "")[:60]})
    with transaction.atomic():
        old = {mat.name: mat for mat in item.materials.all()}
        before = [{"name": mat.name, "required": mat.required, "form": mat.form} for mat in old.values()]
        result: list[Material] = []
        for order, data in enumerate(clean, 1):
            mat = old.pop(data["name"], None) or Material(item=item)
            for k, v in data.items():
                setattr(mat, k, v)
            mat.order = order
            mat.save()
            result.append(mat)
        for mat in old.values():
            mat.delete()
        audit.record(actor=acting_user, action="egov.set_materials", object_type="egov.ServiceItem",
                     object_id=item.code, before={"materials": before},
                     after={"materials": [{k: d[k] for k in ("name", "required", "form")} for d in clean]},
                     division_code=item.division_code)
    return result


def publish_item(*, acting_user: Any, item: ServiceItem) -> ServiceItem:
    _require_department(acting_user, "egov.publish_items", item.department)
    validate_process(item.process, item.promised_days)
    if not item.materials.exists():
        raise InvalidInput("发布前请先维护申请材料", "add the application materials before publishing",
                           field="materials")
    with transaction.atomic():
        before = item.status
        item.status, item.published_at = ItemStatus.PUBLISHED, timezone.now()
        item.save(update_fields=["status", "published_at", "updated_at"])
        audit.record(actor=acting_user, action="egov.publish_item", object_type="egov.ServiceItem",
                     object_id=item.code, before={"status": before}, after={"status": item.status},
                     division_code=item.division_code)
    return item


def withdraw_item(*, acting_user: Any, item: ServiceItem) -> ServiceItem:
    _require_department(acting_user, "egov.publish_items", item.department)
    with transaction.atomic():
        before = item.status
        item.status = ItemStatus.WITHDRAWN
        item.save(update_fields=["status", "updated_at"])
        audit.record(actor=acting_user, action="egov.withdraw_item", object_type="egov.ServiceItem",
                     object_id=item.code, before={"status": before}, after={"status": item.status},
                     division_code=item.division_code)
    return item


def get_published(code: str) -> ServiceItem:
    item = (ServiceItem.objects.select_related("item_type", "department")
            .filter(code=code, status=ItemStatus.PUBLISHED).first())
    if item is None:
        raise NotFound("事项不存在或未发布", "no such published item", field="code")
    return item


def search_items(q: str = "", type: str = "", department: str = "", division: str = "",
                 serves: str = "") -> QuerySet[ServiceItem]:
    """Published items matching the query (name, basic or implementation code, department name) and the
    filters (item type code, department code, division code, target group)."""
    qs = ServiceItem.objects.filter(status=ItemStatus.PUBLISHED).select_related("item_type", "department")
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(basic_code__startswith=q) | Q(code__startswith=q)
                       | Q(department__name__icontains=q))
    if type:
        qs = qs.filter(item_type__code=type)
    if department:
        qs = qs.filter(department__code=department)
    if division:
        qs = qs.filter(division_code=division)
    if serves in ("citizen", "enterprise"):
        qs = qs.filter(serves__in=[serves, "both"])
    return qs.order_by("division_code", "basic_code")


def staff_items(user: Any) -> QuerySet[ServiceItem]:
    """The items a staff user maintains: their own department's (all departments in scope for superusers)."""
    qs = access.filter_by_scope(ServiceItem.objects.select_related("item_type", "department"), user,
                                "egov.manage_items", "division_code")
    if not getattr(user, "is_superuser", False):
        qs = qs.filter(department_id=getattr(user, "department_id", None))
    return qs.order_by("basic_code")


# --- indicators ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OnlineRow:
    label: str
    code: str
    items: int
    online: int
    fully_online: int

    @property
    def online_share(self) -> float:
        return round(100.0 * self.online / self.items, 1) if self.items else 0.0

    @property
    def fully_online_share(self) -> float:
        return round(100.0 * self.fully_online / self.items, 1) if self.items else 0.0

    @property
    def meets_target(self) -> bool:
        return self.online_share >= ONLINE_TARGET


@dataclass(frozen=True)
class DisclosureRow:
    label: str
    code: str
    documents: int
    published: int

    @property
    def share(self) -> float:
        return round(100.0 * self.published / self.documents, 1) if self.documents else 0.0

    @property
    def meets_target(self) -> bool:
        return self.share >= DISCLOSURE_TARGET


def online_indicators(division: str = "") -> tuple[OnlineRow, list[OnlineRow]]:
    """Published items handled online (depth ≥ 3) and fully online (depth 4): overall and per department."""
    qs = ServiceItem.objects.filter(status=ItemStatus.PUBLISHED)
    if division:
        qs = qs.filter(division_code=division)
    agg = {"items": Count("pk"), "online": Count("pk", filter=Q(online_depth__gte=ONLINE_DEPTH)),
               "fully": Count("pk", filter=Q(online_depth__gte=FULLY_ONLINE_DEPTH))}
    total = qs.aggregate(**agg)
    overall = OnlineRow("合计", "", total["items"], total["online"], total["fully"])
    rows = [OnlineRow(r["department__name"], r["department__code"], r["items"], r["online"], r["fully"])
            for r in qs.values("department__code", "department__name").annotate(**agg).order_by("department__code")]
    return overall, rows


def disclosure_indicators(division: str = "") -> tuple[DisclosureRow, list[DisclosureRow]]:
    """Share of non-classified documents that are published: overall and per department."""
    qs = Document.objects.filter(classified=False)
    if division:
        qs = qs.filter(division_code=division)
    agg = {"documents": Count("pk"), "published": Count("pk", filter=Q(published_at__isnull=False))}
    total = qs.aggregate(**agg)
    overall = DisclosureRow("合计", "", total["documents"], total["published"])
    rows = [DisclosureRow(r["department__name"], r["department__code"], r["documents"], r["published"])
            for r in qs.values("department__code", "department__name").annotate(**agg).order_by("department__code")]
    return overall, rows
