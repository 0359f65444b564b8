"""Pages of the service item catalogue: the public catalogue (search, item detail, bundles), the plan
indicators, and the staff pages where a department maintains its own items (thin adapters over
``catalogue``; ``PermissionDenied`` → 403, ``DomainError`` → the message shown next to the form)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from liaocheng.core import access
from liaocheng.core.departments import CITY, COUNTIES
from liaocheng.core.errors import DomainError, InvalidInput
from liaocheng.core.forms import domain_message
from liaocheng.core.web import staff_required

from . import catalogue
from .models import Bundle, ItemStatus, ItemType, MaterialForm, ServiceItem

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

def _manageable(request: HttpRequest, code: str) -> ServiceItem:
    item = get_object_or_404(ServiceItem.objects.select_related("department", "item_type"), code=code)
    user = request.user
    if not access.has_perm(user, "egov.manage_items", item.division_code) or (
            not getattr(user, "is_superuser", False) and getattr(user, "department_id", None) != item.department_id):
        raise PermissionDenied(_("只能维护本部门的政务服务事项"))
    return item


@staff_required
@require_http_methods(["GET"])
def staff_list(request: HttpRequest) -> HttpResponse:
    if not access.has_perm(request.user, "egov.manage_items"):
        raise PermissionDenied(_("无权维护政务服务事项"))
    items = catalogue.staff_items(request.user)
    return render(request, "egov/catalogue_staff_list.html", {
        "items": items, "can_publish": access.has_perm(request.user, "egov.publish_items")})


def _int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@staff_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, code: str) -> HttpResponse:
    item = _manageable(request, code)
    error = ""
    error_field = ""
    process_text = json.dumps(item.process, ensure_ascii=False, indent=2)
    materials_text = "\n".join(
        f"{m.name} | {'必要' if m.required else '非必要'} | {m.form} | {m.accepted_types} | {m.source}"
        for m in item.materials.all())
    if request.method == "POST":
        post = request.POST
        process_text = post.get("process", "")
        materials_text = post.get("materials", "")
        try:
            try:
                process = json.loads(process_text)
            except ValueError as exc:
                raise InvalidInput("办理流程不是有效的 JSON", "the process is not valid JSON",
                                   field="process") from exc
            changes: dict[str, Any] = {
                "name": post.get("name", ""), "legal_basis": post.get("legal_basis", ""),
                "conditions": post.get("conditions", ""), "fee": post.get("fee", ""),
                "statutory_days": _int(post.get("statutory_days", "")),
                "promised_days": _int(post.get("promised_days", "")),
                "serves": post.get("serves", ""), "online_depth": _int(post.get("online_depth", "")),
                "max_visits": _int(post.get("max_visits", "")), "result_name": post.get("result_name", ""),
                "result_kind": post.get("result_kind", ""), "process": process,
            }
            materials = []
            for line in materials_text.splitlines():
                if not line.strip():
                    continue
                parts = [p.strip() for p in line.split("|")] + ["", "", "", ""]
                materials.append({"name": parts[0], "required": parts[1] not in ("非必要", "optional", "no"),
                                  "form": parts[2] or MaterialForm.ELECTRONIC, "accepted_types": parts[3] or "pdf",
                                  "source": parts[4]})
            catalogue.update_item(acting_user=request.user, item=item, **changes)
            catalogue.set_materials(acting_user=request.user, item=item, materials=materials)
            return redirect(reverse("egov_catalogue:staff_edit", args=[item.code]) + "?saved=1")
        except DomainError as exc:
            error, error_field = domain_message(exc), exc.field or ""
            if exc.row:
                error = f"{error}（{_('第%(row)s行') % {'row': exc.row}}）"
            item.refresh_from_db()
    return render(request, "egov/catalogue_edit.html", {
        "item": item, "error": error, "error_field": error_field, "process_text": process_text,
        "materials_text": materials_text, "saved": request.GET.get("saved") == "1",
        "roles": sorted(catalogue.EGOV_ROLES), "values": request.POST if request.method == "POST" else None,
        "can_publish": access.has_perm(request.user, "egov.publish_items", item.division_code),
    }, status=400 if error else 200)


@staff_required
@require_POST
def staff_publish(request: HttpRequest, code: str) -> HttpResponse:
    item = _manageable(request, code)
    action = request.POST.get("action", "publish")
    try:
        if action == "withdraw":
            catalogue.withdraw_item(acting_user=request.user, item=item)
        else:
            catalogue.publish_item(acting_user=request.user, item=item)
    except DomainError as exc:
        return render(request, "egov/catalogue_edit.html", {
            "item": item, "error": domain_message(exc), "error_field": exc.field or "",
            "process_text": json.dumps(item.process, ensure_ascii=False, indent=2),
            "materials_text": "", "roles": sorted(catalogue.EGOV_ROLES), "values": None,
            "can_publish": True}, status=400)
    return redirect("egov_catalogue:staff_list")
