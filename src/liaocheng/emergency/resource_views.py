"""Resource management pages (thin adapters over ``emergency.dispatch``): the stations, units and fixed
resources (shelters, hospitals with their free beds, supply depots) of the user's scope with filters and a
map, and the forms to add and edit them. A hospital's free beds are updated right in the list (the daily
task), or on the resource's page.

Permission: ``emergency.manage_resources`` (403 otherwise); rows are those of the counties in the user's
scope; every change goes through the dispatch services, which check the scope again and write the audit
record. ``DomainError`` → the message next to the field, with its status; nothing is written on a refusal.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from liaocheng.core import access
from liaocheng.core.errors import DomainError, InvalidInput
from liaocheng.core.forms import SiteForm, add_domain_error
from liaocheng.core.models import Department
from liaocheng.core.permissions import CITY_CODE
from liaocheng.core.web import staff_required
from liaocheng.geo.models import Division

from . import dispatch
from .models import FixedResource, FixedResourceKind, Station, Unit, UnitStatus, UnitType

PERM = "emergency.manage_resources"
PAGE_SIZE = 50
MAP_LIMIT = 2000
TABS = ("stations", "units", "fixed")
# departments that own stations and units (the department select lists these kinds)
RESPONDER_KINDS = ("public_security", "traffic_police", "fire_rescue", "emergency_medical", "health", "water", "power",
                   "gas", "emergency_management", "urban_management", "transport", "housing_construction",
                   "ecology_environment", "hotline_12345")
# fixed resource kind -> (capacity label, available label)
AMOUNT_LABELS: dict[str, tuple[Any, Any]] = {
    FixedResourceKind.HOSPITAL: (gettext_lazy("床位"), gettext_lazy("空床")),
    FixedResourceKind.SHELTER: (gettext_lazy("可容纳（人）"), gettext_lazy("可用（人）")),
    FixedResourceKind.DEPOT: (gettext_lazy("库存（件）"), gettext_lazy("可调用（件）")),
}
DETAIL_LABELS: dict[str, Any] = {"level": gettext_lazy("医院等级"), "emergency_department": gettext_lazy("急诊科"),
                                 "area_m2": gettext_lazy("面积（m²）"), "items": gettext_lazy("储备物资")}
DATUMS = (("gcj02", gettext_lazy("GCJ-02（地图）")), ("wgs84", gettext_lazy("WGS84（GPS）")))


def _require(user: Any, county: str | None = None) -> None:
    if not access.has_perm(user, PERM, county):
        raise PermissionDenied(_("无权维护救援力量与应急资源"))


def _scoped(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return access.filter_by_scope(qs, user, PERM, "county_code")


def _counties(user: Any) -> list[tuple[str, str]]:
    scopes = access.scopes_for(user, PERM)
    return [(d.code, d.name) for d in Division.objects.filter(level="county", valid_to__isnull=True).order_by("code")
            if any(d.code.startswith(p) or p.startswith(d.code) for p in scopes)]


def _departments(user: Any, current: Department | None = None) -> QuerySet[Department]:
    """Active responder departments of the user's counties and of the city (city departments such as the 120
    centre run units in every county)."""
    scopes = access.scopes_for(user, PERM)
    where = Q(division_code=CITY_CODE)
    for prefix in scopes:
        where |= Q(division_code__startswith=prefix)
    qs = Department.objects.filter(where, active=True, kind__in=RESPONDER_KINDS)
    if current is not None:
        qs = qs | Department.objects.filter(pk=current.pk)
    return qs.order_by("code")


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


# --- the list ----------------------------------------------------------------------------------------------

def _filters(params: Any) -> dict[str, str]:
    f = {k: (params.get(k) or "").strip() for k in ("tab", "county", "agency", "type", "status", "kind", "q")}
    if f["tab"] not in TABS:
        f["tab"] = "stations"
    for key in ("county", "agency"):
        if not f[key].isdigit():
            f[key] = ""
    if f["type"] not in UnitType.values:
        f["type"] = ""
    if f["status"] not in UnitStatus.values:
        f["status"] = ""
    if f["kind"] not in FixedResourceKind.values:
        f["kind"] = ""
    f["q"] = f["q"][:50]
    return f


def _querysets(user: Any, f: dict[str, str]) -> dict[str, QuerySet[Any]]:
    stations = _scoped(Station.objects.select_related("department").annotate(n_units=Count("units")), user)
    units = _scoped(Unit.objects.select_related("department", "station", "incident"), user)
    fixed = _scoped(FixedResource.objects.all(), user)
    if f["county"]:
        stations, units, fixed = (qs.filter(county_code=f["county"]) for qs in (stations, units, fixed))
    if f["agency"]:
        stations = stations.filter(department_id=int(f["agency"]))
        units = units.filter(department_id=int(f["agency"]))
    if f["type"]:
        units = units.filter(unit_type=f["type"])
    if f["status"]:
        units = units.filter(status=f["status"])
    if f["kind"]:
        fixed = fixed.filter(kind=f["kind"])
    if f["q"]:
        stations = stations.filter(Q(name__icontains=f["q"]) | Q(code__icontains=f["q"]))
        units = units.filter(Q(call_sign__icontains=f["q"]) | Q(station__name__icontains=f["q"]))
        fixed = fixed.filter(name__icontains=f["q"])
    return {"stations": stations.order_by("code"), "units": units.order_by("call_sign"),
            "fixed": fixed.annotate(kind_order=_KIND_ORDER).order_by("kind_order", "county_code", "name")}


# hospitals first (their free beds change daily), then shelters, then depots
_KIND_ORDER = Case(When(kind=FixedResourceKind.HOSPITAL, then=Value(0)),
                   When(kind=FixedResourceKind.SHELTER, then=Value(1)), default=Value(2), output_field=IntegerField())


def _points(tab: str, qs: QuerySet[Any]) -> list[dict[str, Any]]:
    """Map markers of the current tab (GCJ-02, like the map)."""
    points: list[dict[str, Any]] = []
    labels = dict(UnitType.choices) if tab == "units" else dict(FixedResourceKind.choices)
    for row in qs[:MAP_LIMIT]:
        if tab == "stations":
            info = _("%(department)s · %(count)s 个力量") % {"department": row.department.name, "count": row.n_units}
            kind, url = "station", reverse(
                "emergency_resources:station", kwargs={"pk": row.pk})
            name = row.name
        elif tab == "units":
            info = f"{labels.get(row.unit_type, row.unit_type)} · {row.get_status_display()}"
            kind, name = f"unit-{row.status}", row.call_sign
            url = reverse("emergency_resources:unit", kwargs={"pk": row.pk})
        else:
            info = f"{labels.get(row.kind, row.kind)} · {row.available}/{row.capacity}"
            kind, name = row.kind, row.name
            url = reverse("emergency_resources:fixed", kwargs={"pk": row.pk})
        points.append({"lon": round(row.lon, 6), "lat": round(row.lat, 6), "name": name, "kind": kind,
                       "info": info, "url": url})
    return points


@staff_required
@never_cache
@require_http_methods(["GET"])
def resources(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user)
    f = _filters(request.GET)
    sets = _querysets(user, f)
    tab = f["tab"]
    page = Paginator(sets[tab], PAGE_SIZE).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    rows = list(page.object_list)
    if tab == "fixed":
        rows = [(r, *AMOUNT_LABELS.get(r.kind, (_("容量"), _("可用")))) for r in rows]
    return render(request, "emergency/resources.html", {
        "filters": f, "tab": tab, "page": page, "rows": rows, "query": query,
        "counts": {name: qs.count() for name, qs in sets.items()}, "points": _points(tab, sets[tab]),
        "counties": _counties(user), "agencies": _departments(user), "unit_types": UnitType.choices,
        "statuses": UnitStatus.choices, "kinds": FixedResourceKind.choices,
        "list_url": request.get_full_path(), "map_limit": MAP_LIMIT,
    })


# --- forms -------------------------------------------------------------------------------------------------

class _PointMixin(forms.Form):
    lon = forms.FloatField(label=gettext_lazy("经度"), required=False, widget=forms.TextInput(
        attrs={"inputmode": "decimal", "class": "input mono"}))
    lat = forms.FloatField(label=gettext_lazy("纬度"), required=False, widget=forms.TextInput(
        attrs={"inputmode": "decimal", "class": "input mono"}))
    datum = forms.ChoiceField(label=gettext_lazy("坐标系"), choices=DATUMS, initial="gcj02", required=False)

    def clean_datum(self) -> str:
        return self.cleaned_data.get("datum") or "gcj02"

    def point_required(self) -> None:
        for key in ("lon", "lat"):
            if self.cleaned_data.get(key) is None and key not in self.errors:
                self.add_error(key, _("请在地图上点选或填写坐标"))


class StationForm(SiteForm, _PointMixin):
    code = forms.CharField(label=gettext_lazy("站点编码"), max_length=32,
                           help_text=gettext_lazy("如 371522-FS-03（县区代码-类别-序号）"))
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    department = forms.ModelChoiceField(label=gettext_lazy("所属部门"), queryset=Department.objects.none())
    field_order = ["code", "name", "department", "lon", "lat", "datum"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.point_required()
        return data


class UnitForm(SiteForm, _PointMixin):
    call_sign = forms.CharField(label=gettext_lazy("呼号"), max_length=32)
    unit_type = forms.ChoiceField(label=gettext_lazy("类型"), choices=UnitType.choices)
    department = forms.ModelChoiceField(label=gettext_lazy("所属部门"), queryset=Department.objects.none())
    station = forms.ModelChoiceField(label=gettext_lazy("驻地"), queryset=Station.objects.none(), required=False,
                                     help_text=gettext_lazy("新力量位于驻地；没有驻地时请在地图上点选位置。"))
    capabilities = forms.CharField(label=gettext_lazy("能力"), required=False, max_length=900,
                                   help_text=gettext_lazy("多个用逗号或顿号分隔，如：水罐 8 t、破拆"))
    field_order = ["call_sign", "unit_type", "department", "station", "capabilities", "lon", "lat", "datum"]

    def clean_capabilities(self) -> list[str]:
        text = self.cleaned_data.get("capabilities") or ""
        for sep in ("，", "、", ";", "；", "\n"):
            text = text.replace(sep, ",")
        return [c.strip() for c in text.split(",") if c.strip()]


class FixedForm(SiteForm, _PointMixin):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=FixedResourceKind.choices)
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    capacity = forms.IntegerField(label=gettext_lazy("容量（床位、人数或库存）"), min_value=0)
    available = forms.IntegerField(label=gettext_lazy("可用（空床、可用位置或可调用库存）"), min_value=0)
    field_order = ["kind", "name", "capacity", "available", "lon", "lat", "datum"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "kind" in self.fields:
            self.point_required()
        return data


def _form_page(request: HttpRequest, form: forms.Form, *, title: str, kind: str, obj: Any = None,
               status: int = 200, **extra: Any) -> HttpResponse:
    return render(request, "emergency/resources_form.html", {
        "form": form, "title": title, "kind": kind, "obj": obj, "has_point": "lon" in form.fields,
        "back": _safe_next(request, reverse("emergency_resources:resources") + f"?tab={_TAB_OF[kind]}"), **extra,
    }, status=status)


_TAB_OF = {"station": "stations", "unit": "units", "fixed": "fixed"}


def _detail_rows(details: Any) -> list[tuple[Any, str]]:
    """A fixed resource's ``details`` as (label, text) rows."""
    rows = []
    for key, value in (details or {}).items() if isinstance(details, dict) else ():
        if isinstance(value, dict):
            text = "、".join(f"{k} {v}" for k, v in value.items())
        elif isinstance(value, bool):
            text = _("有") if value else _("无")
        else:
            text = str(value)
        rows.append((DETAIL_LABELS.get(key, key), text))
    return rows


def _refused(form: forms.Form, exc: Exception) -> int:
    if isinstance(exc, DomainError):
        add_domain_error(form, exc)
        return exc.status
    form.add_error(None, str(exc) or _("无权维护救援力量与应急资源"))
    return 403


def _choices(form: forms.Form, name: str, queryset: QuerySet[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


def _object(model: Any, pk: int | None, user: Any) -> Any:
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise Http404(_("不存在"))
    _require(user, obj.county_code)
    return obj


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def station_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = request.user
    _require(user)
    station: Station | None = _object(Station, pk, user)
    initial: dict[str, Any] = {"datum": "gcj02"}
    if station is not None:
        initial.update(code=station.code, name=station.name, department=station.department_id, lon=station.lon,
                       lat=station.lat)
    form = StationForm(request.POST or None, initial=initial)
    _choices(form, "department", _departments(user, station.department if station else None))
    if station is not None:
        form.fields["code"].disabled = True
    title = _("编辑站点") if station else _("新增站点")
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if station is None:
                station = dispatch.create_station(acting_user=user, code=d["code"], name=d["name"],
                                                  department=d["department"], lon=d["lon"], lat=d["lat"],
                                                  datum=d["datum"])
            else:
                dispatch.update_station(acting_user=user, station=station, name=d["name"], department=d["department"],
                                        lon=d["lon"], lat=d["lat"], datum=d["datum"])
        except (DomainError, PermissionDenied) as exc:
            return _form_page(request, form, title=title, kind="station", obj=station, status=_refused(form, exc))
        messages.success(request, _("站点已保存：{name}").format(name=station.name))
        return redirect(reverse("emergency_resources:resources") + f"?tab=stations&q={station.code}")
    status = 400 if request.method == "POST" else 200
    units = list(station.units.order_by("call_sign")) if station else []
    return _form_page(request, form, title=title, kind="station", obj=station, status=status, units=units)


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def unit_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = request.user
    _require(user)
    unit: Unit | None = _object(Unit, pk, user)
    initial: dict[str, Any] = {"datum": "gcj02"}
    if unit is not None:
        initial.update(call_sign=unit.call_sign, unit_type=unit.unit_type, department=unit.department_id,
                       station=unit.station_id, capabilities="、".join(str(c) for c in unit.capabilities or []))
    form = UnitForm(request.POST or None, initial=initial)
    _choices(form, "department", _departments(user, unit.department if unit else None))
    stations = _scoped(Station.objects.all(), user)
    if unit is not None and unit.station_id:
        stations = stations | Station.objects.filter(pk=unit.station_id)
    _choices(form, "station", stations.order_by("code"))
    if unit is not None:  # a unit's position comes from its crew (position pings), not from this form
        for key in ("lon", "lat", "datum"):
            del form.fields[key]
    title = _("编辑救援力量") if unit else _("新增救援力量")
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if unit is None:
                unit = dispatch.create_unit(acting_user=user, call_sign=d["call_sign"], unit_type=d["unit_type"],
                                            department=d["department"], station=d["station"], lon=d["lon"],
                                            lat=d["lat"], capabilities=d["capabilities"], datum=d["datum"])
            else:
                unit = dispatch.update_unit(acting_user=user, unit=unit, call_sign=d["call_sign"],
                                            unit_type=d["unit_type"], department=d["department"],
                                            station=d["station"], capabilities=d["capabilities"])
        except (DomainError, PermissionDenied) as exc:
            return _form_page(request, form, title=title, kind="unit", obj=unit, status=_refused(form, exc))
        messages.success(request, _("救援力量已保存：{sign}").format(sign=unit.call_sign))
        return redirect(reverse("emergency_resources:resources") + f"?tab=units&q={unit.call_sign}")
    status = 400 if request.method == "POST" else 200
    return _form_page(request, form, title=title, kind="unit", obj=unit, status=status)


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def fixed_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = request.user
    _require(user)
    res: FixedResource | None = _object(FixedResource, pk, user)
    initial: dict[str, Any] = {"datum": "gcj02"}
    if res is not None:
        initial.update(kind=res.kind, name=res.name, capacity=res.capacity, available=res.available)
    form = FixedForm(request.POST or None, initial=initial)
    if res is not None:  # kind and place are fixed once created
        for key in ("kind", "lon", "lat", "datum"):
            del form.fields[key]
    title = _("编辑应急资源") if res else _("新增应急资源")
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if res is None:
                res = dispatch.create_fixed_resource(acting_user=user, kind=d["kind"], name=d["name"], lon=d["lon"],
                                                     lat=d["lat"], capacity=d["capacity"], available=d["available"],
                                                     datum=d["datum"])
            else:
                res = dispatch.update_fixed_resource(acting_user=user, resource=res, name=d["name"],
                                                     capacity=d["capacity"], available=d["available"])
        except (DomainError, PermissionDenied) as exc:
            return _form_page(request, form, title=title, kind="fixed", obj=res, status=_refused(form, exc))
        messages.success(request, _("应急资源已保存：{name}").format(name=res.name))
        return redirect(reverse("emergency_resources:resources") + f"?tab=fixed&q={res.name}")
    status = 400 if request.method == "POST" else 200
    return _form_page(request, form, title=title, kind="fixed", obj=res, status=status,
                      details=_detail_rows(res.details if res else {}))


@staff_required
@require_POST
def fixed_available(request: HttpRequest, pk: int) -> HttpResponse:
    """The list's quick update of one resource's free places / free beds."""
    user = request.user
    _require(user)
    res: FixedResource = _object(FixedResource, pk, user)
    value = (request.POST.get("available") or "").strip()
    back = _safe_next(request, reverse("emergency_resources:resources") + "?tab=fixed")
    try:
        if not value.isdigit():
            raise InvalidInput("可用数应为不小于 0 的整数", "available must be a whole number of at least 0",
                               field="available")
        res = dispatch.update_fixed_resource(acting_user=user, resource=res, available=int(value))
    except (DomainError, PermissionDenied) as exc:
        form = FixedForm({"name": res.name, "capacity": res.capacity, "available": value})
        for key in ("kind", "lon", "lat", "datum"):
            del form.fields[key]
        form.is_valid()
        return _form_page(request, form, title=_("编辑应急资源"), kind="fixed", obj=res,
                          status=_refused(form, exc), details=_detail_rows(res.details))
    messages.success(request, _("{name}：可用数已更新为 {n}").format(name=res.name, n=res.available))
    return redirect(back)
