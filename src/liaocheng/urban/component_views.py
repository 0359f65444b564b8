"""Staff pages of the component census (部件普查), thin adapters over ``urban.components``: the component list
(filters county / class / status, search by code or name), a component's page with its cases and the
status form, the import page (CSV / GeoJSON, errors by row in Chinese and English), the GeoJSON layer for
the maps (``data.geojson?bbox=...&class=...``, limited in count) and the nearby components of a point for
the supervisor's report page (``nearby.json``).

Every change goes through ``components``: ``PermissionDenied`` → 403, ``DomainError`` → its status.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from liaocheng.core import access
from liaocheng.core.errors import DomainError, InvalidInput
from liaocheng.core.forms import SiteForm, add_domain_error, domain_message, in_active_language
from liaocheng.core.web import staff_required
from liaocheng.geo.models import Division

from . import components, services
from .models import KIND_PREFIX, ClassKind, Component, ComponentStatus, MajorClass, MinorClass

PAGE_SIZE = 50
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # larger files: ``liaocheng import_components FILE``
MAX_SHOWN_ERRORS = 500
NEARBY_RADIUS_M = 50.0
NEARBY_MAX_RADIUS_M = 300.0


def _require_view(user: Any) -> None:
    if not access.has_perm(user, components.VIEW_PERM):
        raise PermissionDenied(_("无权查看城市部件"))


def _json_error(exc: DomainError) -> JsonResponse:
    return JsonResponse({**exc.as_dict(), "message": domain_message(exc)}, status=exc.status)


# --- the list ------------------------------------------------------------------------------------------

def _counties(user: Any) -> list[tuple[str, str]]:
    scopes = access.scopes_for(user, components.VIEW_PERM)
    return [(d.code, d.name) for d in Division.objects.filter(level="county", valid_to__isnull=True).order_by("code")
            if any(d.code.startswith(p) or p.startswith(d.code) for p in scopes)]


def _class_choices() -> list[tuple[str, str]]:
    prefix = KIND_PREFIX[ClassKind.COMPONENT]
    out: list[tuple[str, str]] = []
    minors = list(MinorClass.objects.filter(kind=ClassKind.COMPONENT).order_by("full_code"))
    for major in MajorClass.objects.filter(kind=ClassKind.COMPONENT).order_by("code"):
        out.append((prefix + major.code, f"{prefix}{major.code} {major.name}"))
        out += [(m.full_code, f"　{m.full_code} {m.name}") for m in minors if m.major_id == major.pk]
    return out


@staff_required
@require_GET
def component_list(request: HttpRequest) -> HttpResponse:
    _require_view(request.user)
    params = request.GET
    f = {k: (params.get(k) or "").strip() for k in ("county", "cls", "status", "q")}
    qs = components.visible_components(acting_user=request.user)
    if f["county"].isdigit():
        qs = qs.filter(county_code=f["county"])
    if f["cls"]:
        qs = qs.filter(minor_class__full_code__startswith=f["cls"].upper())
    if f["status"] in ComponentStatus.values:
        qs = qs.filter(status=f["status"])
    if f["q"]:
        q = f["q"]
        qs = qs.filter(Q(code__startswith=q) | Q(name__icontains=q) | Q(address__icontains=q)) if not q.isdigit() \
            else qs.filter(code__startswith=q)
    page = Paginator(qs.order_by("code"), PAGE_SIZE).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(request, "urban/components.html", {
        "page": page, "rows": page.object_list, "filters": f, "query": query.urlencode(),
        "counties": _counties(request.user), "classes": _class_choices(), "statuses": ComponentStatus.choices,
        "can_import": access.has_perm(request.user, components.MANAGE_PERM),
    })


# --- one component ---------------------------------------------------------------------------------------

class UpdateForm(SiteForm):
    status = forms.ChoiceField(label=gettext_lazy("状态"), choices=ComponentStatus.choices)
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100, required=False)
    address = forms.CharField(label=gettext_lazy("地址"), max_length=200, required=False)
    owner = forms.CharField(label=gettext_lazy("权属单位"), max_length=100, required=False)
    maintainer_name = forms.CharField(label=gettext_lazy("养护单位"), max_length=100, required=False)
    surveyed_on = forms.DateField(label=gettext_lazy("普查日期"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))


def _get_visible(user: Any, code: str) -> Component:
    try:
        comp = components.get_component(code)
    except DomainError as exc:
        raise Http404(domain_message(exc)) from exc
    if not access.has_perm(user, components.VIEW_PERM, comp.grid_code):
        raise PermissionDenied(_("无权查看该部件"))
    return comp


def _detail_context(request: HttpRequest, comp: Component, form: UpdateForm | None = None) -> dict[str, Any]:
    can_edit = access.has_perm(request.user, components.MANAGE_PERM, comp.grid_code)
    if can_edit and form is None:
        form = UpdateForm(initial={"status": comp.status, "name": comp.name, "address": comp.address,
                                   "owner": comp.owner, "maintainer_name": comp.maintainer_name,
                                   "surveyed_on": comp.surveyed_on})
    cases = services.visible_cases(acting_user=request.user).filter(component=comp).order_by("-reported_at")[:100]
    return {"component": comp, "cases": cases, "form": form if can_edit else None, "can_edit": can_edit,
            "can_report": access.has_perm(request.user, "urban.report", comp.grid_code)}


@staff_required
@require_GET
def component_detail(request: HttpRequest, code: str) -> HttpResponse:
    comp = _get_visible(request.user, code)
    return render(request, "urban/components_detail.html", _detail_context(request, comp))


@staff_required
@require_POST
def component_update(request: HttpRequest, code: str) -> HttpResponse:
    comp = _get_visible(request.user, code)
    if not access.has_perm(request.user, components.MANAGE_PERM, comp.grid_code):
        raise PermissionDenied(_("无权维护该部件"))
    form = UpdateForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            components.update_component(
                acting_user=request.user, code=comp.code, status=data["status"], name=data["name"],
                address=data["address"], owner=data["owner"], maintainer_name=data["maintainer_name"],
                surveyed_on=data["surveyed_on"])
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            messages.success(request, _("部件信息已保存。"))
            return redirect("urban_components:detail", code=comp.code)
    comp.refresh_from_db()
    return render(request, "urban/components_detail.html", _detail_context(request, comp, form), status=status)


# --- import ----------------------------------------------------------------------------------------------

class ImportForm(SiteForm):
    file = forms.FileField(
        label=gettext_lazy("普查文件（CSV 或 GeoJSON）"),
        help_text=gettext_lazy("不超过 20 MB；更大的文件请用命令 liaocheng import_components 导入。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.geojson,.json,text/csv,application/geo+json"}))
    format = forms.ChoiceField(label=gettext_lazy("格式"), required=False, choices=[
        ("", gettext_lazy("按文件识别")), ("csv", "CSV"), ("geojson", "GeoJSON")])
    datum = forms.ChoiceField(label=gettext_lazy("坐标系"), initial="gcj02", choices=[
        ("gcj02", gettext_lazy("GCJ-02（国测局坐标，默认）")), ("wgs84", gettext_lazy("WGS84（GPS 坐标）"))])


@staff_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    if not access.has_perm(request.user, components.MANAGE_PERM):
        raise PermissionDenied(_("无权导入城市部件"))
    result: components.ImportResult | None = None
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > MAX_UPLOAD_BYTES:
                    raise InvalidInput(
                        "文件超过 20 MB，请用命令 liaocheng import_components 导入",
                        "the file is larger than 20 MB: use liaocheng import_components", field="file")
                rows = components.parse_components_file(upload, form.cleaned_data["format"] or None, upload.name)
                result = components.import_components(
                    acting_user=request.user, rows=rows, source_name=upload.name,
                    datum=form.cleaned_data["datum"])
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                status = 200 if not result.error_count else 400
        else:
            status = 400
    else:
        form = ImportForm()
    errors = [{"row": e.row, "field": e.field, "message": in_active_language(e.message_zh, e.message_en),
               "message_zh": e.message_zh, "message_en": e.message_en}
              for e in (result.errors[:MAX_SHOWN_ERRORS] if result else [])]
    return render(request, "urban/components_import.html", {
        "form": form, "result": result, "errors": errors,
        "more_errors": (result.error_count - len(errors)) if result else 0,
        "columns": components.COLUMNS,
    }, status=status)


# --- map data --------------------------------------------------------------------------------------------

@staff_required
@require_GET
def component_data(request: HttpRequest) -> HttpResponse:
    """Components in ``bbox`` (minlon,minlat,maxlon,maxlat, GCJ-02) within the user's scope as a GeoJSON
    FeatureCollection, optionally of classes (``class=C0118`` or a major ``C01``, comma-separated), at most
    ``MAX_BBOX_FEATURES`` (``truncated`` tells when there were more: zoom in)."""
    if not (access.has_perm(request.user, components.VIEW_PERM) or access.has_perm(request.user, "urban.report")):
        raise PermissionDenied(_("无权查看城市部件"))
    try:
        bbox = components.parse_bbox(request.GET.get("bbox", ""))
    except DomainError as exc:
        return _json_error(exc)
    classes = [c for c in request.GET.get("class", "").split(",") if c.strip()]
    limit = components.MAX_BBOX_FEATURES
    status = request.GET.get("status", "")
    found = components.components_in_bbox(bbox, classes or None, limit + 1, acting_user=request.user,
                                          status=status if status in ComponentStatus.values else None)
    features = [components.feature(c) for c in found[:limit]]
    response = JsonResponse({"type": "FeatureCollection", "features": features, "numberReturned": len(features),
                             "truncated": len(found) > limit, "limit": limit})
    response["Content-Type"] = "application/geo+json"
    return response


@staff_required
@require_GET
def nearby(request: HttpRequest) -> HttpResponse:
    """Components near a point for the report page: ``lon``, ``lat``, ``datum`` (gcj02|wgs84), ``radius`` (m,
    default 50, at most 300), ``class`` (optional). Nearest first."""
    if not access.has_perm(request.user, "urban.report"):
        raise PermissionDenied(_("无权上报城管问题"))
    params = request.GET
    try:
        lon = components.parse_float(params.get("lon"), "lon")
        lat = components.parse_float(params.get("lat"), "lat")
        radius = components.parse_float(params.get("radius") or NEARBY_RADIUS_M, "radius")
        datum = params.get("datum") or "gcj02"
        found = components.nearest_components(lon, lat, min(max(radius, 1.0), NEARBY_MAX_RADIUS_M),
                                              params.get("class") or None, datum=datum, acting_user=request.user)
    except DomainError as exc:
        return _json_error(exc)
    return JsonResponse({"count": len(found), "components": [{
        "code": n.component.code, "class_code": n.component.minor_class.full_code,
        "class_name": n.component.minor_class.name, "name": n.component.name, "address": n.component.address,
        "status": n.component.status, "status_label": str(n.component.get_status_display()),
        "lon": n.component.lon, "lat": n.component.lat, "distance_m": round(n.distance_m, 1),
    } for n in found]})
