"""Pages of the service item catalogue: the public catalogue (search, item detail, bundles), the plan
indicators, and the staff pages where a department maintains its own items (thin adapters over
``catalogue``; ``PermissionDenied`` → 403, ``DomainError`` → the message shown next to the form)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from liaocheng.core import access
from liaocheng.core.departments import CITY, COUNTIES
from liaocheng.core.errors import DomainError, InvalidInput
from liaocheng.core.forms import domain_message
from liaocheng.core.models import Department
from liaocheng.core.permissions import BUILTIN_ROLES
from liaocheng.core.web import staff_required

from . import catalogue, catalogue_data
from .models import Bundle, CreditRule, ItemStatus, ItemType, MaterialForm, ServiceItem

PAGE_SIZE = 30
DIVISIONS = [CITY, *COUNTIES]


def _serves_choices() -> list[tuple[str, str]]:
    return [("citizen", _("个人")), ("enterprise", _("法人"))]


# --- public ----------------------------------------------------------------------------------------------

@require_http_methods(["GET"])
def item_list(request: HttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "").strip() for k in ("q", "type", "department", "division", "serves")}
    qs = catalogue.search_items(**params)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in params.items() if v})
    bundles = Bundle.objects.filter(status=ItemStatus.PUBLISHED, code__endswith=f"-{params['division'] or CITY[0]}")
    return render(request, "egov/catalogue_list.html", {
        "page": page, "params": params, "query": query, "types": ItemType.objects.all(),
        "divisions": DIVISIONS, "serves_choices": _serves_choices(), "bundles": bundles,
    })


@require_http_methods(["GET"])
def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        item = catalogue.get_published(code)
    except DomainError as exc:
        raise Http404(domain_message(exc)) from exc
    steps = item.process
    names = {s["key"]: s["name"] for s in steps}
    return render(request, "egov/catalogue_detail.html", {
        "item": item, "materials": item.materials.all(),
        "steps": [{**s, "after_names": [names.get(a, a) for a in s.get("after", [])]} for s in steps],
        "total_days": catalogue.process_total_days(steps),
        "bundles": Bundle.objects.filter(members__item=item, status=ItemStatus.PUBLISHED),
        "apply_url": f"/egov/apply/{item.code}/",
    })


@require_http_methods(["GET"])
def bundle_list(request: HttpRequest) -> HttpResponse:
    bundles = Bundle.objects.filter(status=ItemStatus.PUBLISHED).prefetch_related("members__item__department")
    return render(request, "egov/catalogue_bundles.html", {"bundles": bundles})


@require_http_methods(["GET"])
def bundle_detail(request: HttpRequest, code: str) -> HttpResponse:
    bundle = get_object_or_404(Bundle, code=code, status=ItemStatus.PUBLISHED)
    members = bundle.members.select_related("item__department", "item__item_type")
    return render(request, "egov/catalogue_bundle.html", {
        "bundle": bundle, "members": members, "apply_url": f"/egov/apply/bundle/{bundle.code}/",
        "longest": max((m.item.promised_days for m in members), default=0),
    })


@require_http_methods(["GET"])
def indicators(request: HttpRequest) -> HttpResponse:
    division = request.GET.get("division", "").strip()
    if division and division not in {code for code, _name in DIVISIONS}:
        division = ""
    online, online_rows = catalogue.online_indicators(division)
    disclosure, disclosure_rows = catalogue.disclosure_indicators(division)
    chart = {"labels": [r.label for r in online_rows], "online": [r.online_share for r in online_rows],
             "fully": [r.fully_online_share for r in online_rows], "target": catalogue.ONLINE_TARGET,
             "names": {"online": _("网上可办率"), "fully": _("全程网办率"), "target": _("规划目标")}}
    return render(request, "egov/indicators.html", {
        "online": online, "online_rows": online_rows, "disclosure": disclosure,
        "disclosure_rows": disclosure_rows, "online_target": catalogue.ONLINE_TARGET,
        "disclosure_target": catalogue.DISCLOSURE_TARGET, "division": division, "divisions": DIVISIONS,
        "chart": chart,
    })


# --- staff ----------------------------------------------------------------------------------------------
#
# The item pages (new / edit) share one set of inputs (``staff_item_fields.html``) and the process row editor
# (``staff_process_editor.html``): each step is a row of inputs (key, name, role, limit days, prior steps) posted
# as parallel lists ``step_*``; the small script on the page only adds and removes rows, so the editor works
# without JavaScript too. A posted ``process`` JSON text is still accepted (the former raw-JSON field).

NEW_DEFAULTS: dict[str, Any] = {
    "statutory_days": 20, "promised_days": 10, "serves": "enterprise", "online_depth": 3, "max_visits": 0,
    "result_kind": "licence", "credit_rule": "none", "fee": "",
}
NEW_PROCESS_REVIEW_DAYS = 5  # the standard process offered for a new item: 受理 1 + 审查 5 + 决定 1 + 制证 1 days
_INPUTS = ("name", "legal_basis", "conditions", "fee", "statutory_days", "promised_days", "serves", "online_depth",
           "max_visits", "result_name", "result_kind", "credit_rule")
_INT_INPUTS = ("statutory_days", "promised_days", "online_depth", "max_visits")
_AFTER_SEPARATORS = re.compile(r"[\s,，、;；]+")


def _manageable(request: HttpRequest, code: str) -> ServiceItem:
    item = get_object_or_404(ServiceItem.objects.select_related("department", "item_type"), code=code)
    user = request.user
    if not access.has_perm(user, "egov.manage_items", item.division_code) or (
            not getattr(user, "is_superuser", False) and getattr(user, "department_id", None) != item.department_id):
        raise PermissionDenied(_("只能维护本部门的政务服务事项"))
    return item


def _int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _role_choices() -> list[tuple[str, str]]:
    return [(code, _(BUILTIN_ROLES[code][0])) for code in sorted(catalogue.EGOV_ROLES)]


def _item_form(item: ServiceItem) -> dict[str, Any]:
    """The values the item inputs show for a saved item."""
    form = {f: getattr(item, f) for f in _INPUTS}
    form["item_type"] = item.item_type.code
    return form


def _changes_from_post(post: Any) -> dict[str, Any]:
    """The posted item fields as the services take them (numbers that do not parse become 0: the service says
    why); a field not posted at all is left out (unchanged on an edit, the default on a new item)."""
    changes: dict[str, Any] = {f: post[f] for f in _INPUTS if f in post}
    for f in _INT_INPUTS:
        if f in changes:
            changes[f] = _int(changes[f])
    return changes


def _process_rows(steps: Any) -> list[dict[str, Any]]:
    """A saved process as editor rows (``after`` as text)."""
    if not isinstance(steps, list):
        return []
    return [{"key": s.get("key", ""), "name": s.get("name", ""), "role": s.get("role", ""),
             "limit_days": s.get("limit_days", ""), "after": ", ".join(s.get("after") or [])}
            for s in steps if isinstance(s, dict)]


def _process_from_post(post: Any) -> tuple[Any, list[dict[str, Any]]]:
    """``(process for the service, editor rows to show again)``.

    Rows come as parallel lists ``step_key`` / ``step_name`` / ``step_role`` / ``step_limit_days`` /
    ``step_after``; blank rows are skipped, so a row number in a service error is the row on the page. Prior
    steps may be named by key or by step name, separated by commas or spaces."""
    if "step_key" not in post:
        text = post.get("process", "")
        try:
            process = json.loads(text)
        except ValueError as exc:
            raise InvalidInput("办理流程不是有效的 JSON", "the process is not valid JSON", field="process") from exc
        return process, _process_rows(process)
    columns = [post.getlist(f"step_{name}") for name in ("key", "name", "role", "limit_days", "after")]
    rows: list[dict[str, Any]] = []
    for i in range(len(columns[0])):
        key, name, role, days, after = (col[i].strip() if i < len(col) else "" for col in columns)
        if key or name or days or after:
            rows.append({"key": key, "name": name, "role": role, "limit_days": days, "after": after})
    by_name = {r["name"]: r["key"] for r in rows if r["name"]}
    keys = {r["key"] for r in rows}
    process = []
    for r in rows:
        refs = [a for a in _AFTER_SEPARATORS.split(r["after"]) if a]
        days_text = r["limit_days"]
        process.append({
            "key": r["key"], "name": r["name"], "role": r["role"],
            "limit_days": int(days_text) if days_text.isdecimal() and len(days_text) <= 4 else days_text,
            "after": [a if a in keys else by_name.get(a, a) for a in refs],
        })
    return process, rows


def _materials_text(item: ServiceItem) -> str:
    return "\n".join(
        f"{m.name} | {'必要' if m.required else '非必要'} | {m.form} | {m.accepted_types} | {m.source}"
        for m in item.materials.all())


def _materials_from_text(text: str) -> list[dict[str, Any]]:
    materials = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")] + ["", "", "", ""]
        materials.append({"name": parts[0], "required": parts[1] not in ("非必要", "optional", "no"),
                          "form": parts[2] or MaterialForm.ELECTRONIC, "accepted_types": parts[3] or "pdf",
                          "source": parts[4]})
    return materials


def _error_context(exc: DomainError | None) -> dict[str, Any]:
    if exc is None:
        return {"error": "", "error_field": "", "error_row": None}
    error = domain_message(exc)
    if exc.row:
        error = _("%(message)s（第%(row)s行）") % {"message": error, "row": exc.row}
    return {"error": error, "error_field": exc.field or "", "error_row": exc.row}


def _item_page_context(request: HttpRequest, *, form: dict[str, Any], rows: list[dict[str, Any]],
                       exc: DomainError | None = None) -> dict[str, Any]:
    return {
        "form": form, "rows": rows, "types": ItemType.objects.all(), "role_choices": _role_choices(),
        "role_codes": sorted(catalogue.EGOV_ROLES),
        "credit_rules": CreditRule.choices, "material_forms": MaterialForm.choices, **_error_context(exc),
    }


@staff_required
@require_http_methods(["GET"])
def staff_list(request: HttpRequest) -> HttpResponse:
    if not access.has_perm(request.user, "egov.manage_items"):
        raise PermissionDenied(_("无权维护政务服务事项"))
    items = catalogue.staff_items(request.user)
    return render(request, "egov/catalogue_staff_list.html", {
        "items": items, "can_publish": access.has_perm(request.user, "egov.publish_items")})


def _new_item_departments(user: Any) -> list[Department]:
    """The departments ``user`` may create items for, as ``catalogue.create_item`` permits: their own
    department (superusers: every active department)."""
    if getattr(user, "is_superuser", False):
        return list(Department.objects.filter(active=True).order_by("division_code", "code"))
    dept = getattr(user, "department", None)
    if dept is None or not access.has_perm(user, "egov.manage_items", dept.division_code):
        return []
    return [dept]


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_new(request: HttpRequest) -> HttpResponse:
    """新建事项: a draft item of the user's department; materials and process are then kept on the edit page."""
    if not access.has_perm(request.user, "egov.manage_items"):
        raise PermissionDenied(_("无权维护政务服务事项"))
    departments = _new_item_departments(request.user)
    if not departments:
        raise PermissionDenied(_("您的账号未关联有权维护事项的部门，无法新建事项"))
    exc: DomainError | None = None
    if request.method == "POST":
        post = request.POST
        form: dict[str, Any] = {**NEW_DEFAULTS, **{f: post[f] for f in (*_INPUTS, "item_type", "basic_code",
                                                                          "department") if f in post}}
        rows: list[dict[str, Any]] = []
        try:
            process, rows = _process_from_post(post)
            dept = next((d for d in departments if d.code == post.get("department")), None) \
                if len(departments) > 1 else departments[0]
            if dept is None:
                raise InvalidInput("请选择实施部门", "choose the implementing department", field="department")
            item_type = ItemType.objects.filter(code=post.get("item_type", "")).first()
            if item_type is None:
                raise InvalidInput("请选择事项类型", "choose the item type", field="item_type")
            changes = _changes_from_post(post)
            changes["form_fields"] = (catalogue_data.CITIZEN_FORM if changes.get("serves") == "citizen"
                                      else catalogue_data.ENTERPRISE_FORM)
            item = catalogue.create_item(acting_user=request.user, department=dept, item_type=item_type,
                                         basic_code=post.get("basic_code", ""), process=process, **changes)
        except DomainError as err:
            exc = err
        else:
            messages.success(request, _("事项已创建为草稿。请继续维护申请材料和办理流程，然后发布。"))
            return redirect("egov_catalogue:staff_edit", code=item.code)
    else:
        form = {**NEW_DEFAULTS, "department": departments[0].code}
        rows = _process_rows(catalogue_data.standard(NEW_PROCESS_REVIEW_DAYS))
    context = _item_page_context(request, form=form, rows=rows, exc=exc)
    context.update(departments=departments, new=True)
    return render(request, "egov/staff_item_new.html", context, status=400 if exc else 200)


def _edit_page(request: HttpRequest, item: ServiceItem, *, form: dict[str, Any] | None = None,
               rows: list[dict[str, Any]] | None = None, materials_text: str | None = None,
               exc: DomainError | None = None) -> HttpResponse:
    context = _item_page_context(request, form=form or _item_form(item),
                                 rows=_process_rows(item.process) if rows is None else rows, exc=exc)
    context.update(
        item=item, materials_text=_materials_text(item) if materials_text is None else materials_text,
        total_days=catalogue.process_total_days(item.process) if item.process else 0,
        saved=request.GET.get("saved") == "1",
        can_publish=access.has_perm(request.user, "egov.publish_items", item.division_code),
    )
    return render(request, "egov/catalogue_edit.html", context, status=400 if exc else 200)


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, code: str) -> HttpResponse:
    item = _manageable(request, code)
    if request.method != "POST":
        return _edit_page(request, item)
    post = request.POST
    form = {**_item_form(item), **{f: post[f] for f in (*_INPUTS, "item_type") if f in post}}
    rows = None
    materials_text = post.get("materials", "")
    try:
        process, rows = _process_from_post(post)
        changes = _changes_from_post(post)
        if post.get("item_type"):
            item_type = ItemType.objects.filter(code=post["item_type"]).first()
            if item_type is None:
                raise InvalidInput("请选择事项类型", "choose the item type", field="item_type")
            changes["item_type"] = item_type
        with transaction.atomic():  # the item and its materials are saved together or not at all
            catalogue.update_item(acting_user=request.user, item=item, process=process, **changes)
            catalogue.set_materials(acting_user=request.user, item=item,
                                    materials=_materials_from_text(materials_text))
    except DomainError as exc:
        item.refresh_from_db()
        return _edit_page(request, item, form=form, rows=rows, materials_text=materials_text, exc=exc)
    return redirect(reverse("egov_catalogue:staff_edit", args=[item.code]) + "?saved=1")


@staff_required
@require_POST
def staff_publish(request: HttpRequest, code: str) -> HttpResponse:
    """发布 / 停用 an item (from the list or the edit page; ``next=edit`` returns to the edit page)."""
    item = _manageable(request, code)
    action = request.POST.get("action", "publish")
    try:
        if action == "withdraw":
            catalogue.withdraw_item(acting_user=request.user, item=item)
            messages.success(request, _("事项已停用，公众目录中不再显示。"))
        else:
            catalogue.publish_item(acting_user=request.user, item=item)
            messages.success(request, _("事项已发布。"))
    except DomainError as exc:
        item.refresh_from_db()
        return _edit_page(request, item, exc=exc)
    if request.POST.get("next") == "edit":
        return redirect("egov_catalogue:staff_edit", code=item.code)
    return redirect("egov_catalogue:staff_list")
