"""Staff pages of the base databases (thin adapters over ``registry.services`` and ``registry.importers``):
the population (search, a person with household and history, who lived where on a date, changes), legal
entities (search, an entity with history, changes) and file imports (upload, jobs, progress, row errors,
resume).

Reads go through the services where they exist (they check permission and division scope and mask personal
data by right); the few list queries the services do not offer (people by name within an area, household
members, import jobs) are here and filtered by ``core.access`` scopes the same way. Every change goes
through a service: ``PermissionDenied`` becomes the 403 page before anything changed, a ``DomainError`` is
shown next to the field it names. ID numbers are only ever posted, never put in a URL; a person's page is
addressed by the row id.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from liaocheng.core import access
from liaocheng.core.crypto import blind_index, mask_address, mask_id_number, mask_name
from liaocheng.core.departments import COUNTIES
from liaocheng.core.errors import DomainError
from liaocheng.core.forms import add_domain_error, domain_message, in_active_language, split_bilingual
from liaocheng.core.models import Department
from liaocheng.core.permissions import CITY_CODE
from liaocheng.core.web import staff_required

from . import codes, importers, services, tasks
from .forms import (
    EntityChangeForm,
    EntitySearchForm,
    IdLookupForm,
    PersonChangeForm,
    PersonSearchForm,
    ResidentsForm,
    ResumeForm,
    UploadForm,
)
from .models import (
    BatchStatus,
    EntityStatus,
    EntityType,
    ImportJob,
    ImportStatus,
    LegalEntity,
    Person,
    PersonStatus,
)
from .validation import ENTITY_COLUMNS, PERSON_COLUMNS, clean_id

log = logging.getLogger(__name__)

PAGE_SIZE = 30
JOB_PAGE_SIZE = 20
ERROR_PAGE_SIZE = 50
HOUSEHOLD_LIMIT = 50
HEADER_CHECK_MAX_BYTES = 50 * 1024 * 1024  # the header of larger XLSX files is checked by the task

VIEW_POPULATION, EDIT_POPULATION = "registry.view_population", "registry.edit_population"
VIEW_ENTITIES, EDIT_ENTITIES = "registry.view_entities", "registry.edit_entities"
IMPORT = "registry.import"
PERSONAL = "core.view_personal_data"

SEX_LABELS = {"0": gettext_lazy("未知的性别"), "1": gettext_lazy("男"), "2": gettext_lazy("女"),
              "9": gettext_lazy("未说明的性别")}
MARITAL_LABELS = {
    "10": gettext_lazy("未婚"), "20": gettext_lazy("已婚"), "21": gettext_lazy("初婚"), "22": gettext_lazy("再婚"),
    "23": gettext_lazy("复婚"), "30": gettext_lazy("丧偶"), "40": gettext_lazy("离婚"),
    "90": gettext_lazy("未说明的婚姻状况"),
}
CHANGE_KIND_LABELS = {
    "created": gettext_lazy("新增"), "updated": gettext_lazy("变更"), "deceased": gettext_lazy("死亡"),
    "moved_out": gettext_lazy("迁出"), "returned": gettext_lazy("恢复在册"), "revoked": gettext_lazy("吊销"),
    "deregistered": gettext_lazy("注销"), "reinstated": gettext_lazy("恢复存续"),
}
REASON_LABELS = {"birth": gettext_lazy("出生登记"), "move_in": gettext_lazy("迁入登记"),
                 "import": gettext_lazy("批量导入")}
KIND_LABELS = {"population": pgettext_lazy("import kind", "人口"), "entities": pgettext_lazy("import kind", "法人单位")}
RUN_STATE_LABELS = {
    "queued": gettext_lazy("排队等待"), "running": gettext_lazy("进行中"), "interrupted": gettext_lazy("已中断"),
    ImportStatus.COMPLETED: gettext_lazy("已完成"),
    ImportStatus.COMPLETED_WITH_ERRORS: gettext_lazy("已完成（有错误）"),
}
RUN_STATE_BADGES = {"queued": "badge-muted", "running": "badge-warn", "interrupted": "badge-error",
                    ImportStatus.COMPLETED: "badge-ok", ImportStatus.COMPLETED_WITH_ERRORS: "badge-warn"}
SCOPE_NAMES = dict(COUNTIES)
# bookkeeping columns a version may list as changed; shown elsewhere (the legacy-code notice) or not at all
HIDDEN_FIELDS = {"credit_code_warning", "entity_type_derived"}


# --- small helpers -------------------------------------------------------------------------------------------

def _query_without_page(request: HttpRequest, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("page", *drop):
        query.pop(key, None)
    return query.urlencode()


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@dataclass
class _Paginator:
    count: int
    num_pages: int


class ServicePage:
    """A page of a service's ``(total, rows)`` answer with the interface ``includes/pager.html`` uses."""

    def __init__(self, number: int, per_page: int, total: int, rows: list[Any]) -> None:
        self.number, self.object_list = number, rows
        self.paginator = _Paginator(total, max(1, math.ceil(total / per_page)))

    def has_previous(self) -> bool:
        return self.number > 1

    def has_next(self) -> bool:
        return self.number < self.paginator.num_pages

    def has_other_pages(self) -> bool:
        return self.has_previous() or self.has_next()

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1


def _service_page(request: HttpRequest, fetch: Callable[[int, int], tuple[int, list[Any]]],
                  per_page: int = PAGE_SIZE) -> ServicePage:
    try:
        number = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        number = 1
    total, rows = fetch((number - 1) * per_page, per_page)
    last = max(1, math.ceil(total / per_page))
    if number > last:
        number = last
        total, rows = fetch((number - 1) * per_page, per_page)
    return ServicePage(number, per_page, total, rows)


def _covered_counties(user: Any, perm: str) -> list[tuple[str, str]]:
    return [(code, f"{code} {name}") for code, name in COUNTIES if access.has_perm(user, perm, code)]


def _department_names(codes_: Iterable[str]) -> dict[str, str]:
    wanted = {c for c in codes_ if c}
    return dict(Department.objects.filter(code__in=wanted).values_list("code", "name")) if wanted else {}


def _field_label(model: Any, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name


def _status_label(value: str) -> str:
    try:
        return str(PersonStatus(value).label)
    except ValueError:
        return value


def _entity_status_label(value: str) -> str:
    try:
        return str(EntityStatus(value).label)
    except ValueError:
        return value


def _entity_type_label(value: str) -> str:
    try:
        return str(EntityType(value).label)
    except ValueError:
        return value


def _kind_label(kind: str) -> str:
    return str(CHANGE_KIND_LABELS.get(kind, kind))


# --- population ------------------------------------------------------------------------------------------------

def _reveal_person(user: Any, person: Any) -> bool:
    return any(access.has_perm(user, PERSONAL, d) for d in services.person_divisions(person))


def _person_scope(qs: QuerySet[Person], user: Any) -> QuerySet[Person]:
    """Persons whose hukou or residence lies in the user's ``registry.view_population`` scope."""
    scopes = access.scopes_for(user, VIEW_POPULATION)
    if "" in scopes:
        return qs
    if not scopes:
        return qs.none()
    condition = Q()
    for prefix in scopes:
        condition |= Q(hukou_division__startswith=prefix) | Q(community_code__startswith=prefix)
    return qs.filter(condition)


def _area_filter(code: str) -> Q:
    """A grid (15 digits: residence), or a community, township or county (residence or hukou) as an index range."""
    if len(code) == 15:
        return Q(grid_code=code)
    if len(code) == 12:
        return Q(community_code=code) | Q(hukou_division=code)
    end = code + ":"  # ":" sorts right after "9": [code, code:) is every code starting with ``code``
    return (Q(community_code__gte=code, community_code__lt=end)
            | Q(hukou_division__gte=code, hukou_division__lt=end))


def search_people(user: Any, *, area: str, name: str = "") -> QuerySet[Person]:
    """Current persons in an area (and with a name starting with ``name``), within the user's scope."""
    qs = _person_scope(Person.objects.all(), user)
    if area:
        qs = qs.filter(_area_filter(area))
    if name:
        qs = qs.filter(name__startswith=name)
    return qs.order_by("name", "pk")


def household_members(user: Any, person: Person) -> list[Person]:
    qs = Person.objects.filter(household_number=person.household_number, hukou_division=person.hukou_division)
    return list(_person_scope(qs, user).order_by("relationship", "birth_date", "pk")[:HOUSEHOLD_LIMIT])


def _person_row(user: Any, p: Person) -> dict[str, Any]:
    reveal = _reveal_person(user, p)
    return {
        "pk": p.pk, "masked": not reveal,
        "name": p.name if reveal else mask_name(p.name),
        "id_number": p.id_number if reveal else mask_id_number(p.id_number),
        "sex": SEX_LABELS.get(p.sex, p.sex), "birth_date": p.birth_date,
        "relationship": f"{p.relationship} {codes.RELATIONSHIPS.get(p.relationship, '')}".strip(),
        "hukou_division": p.hukou_division, "household_number": p.household_number,
        "community_code": p.community_code, "grid_code": p.grid_code,
        "residence_address": p.residence_address if reveal else mask_address(p.residence_address),
        "status": p.status, "status_label": _status_label(p.status),
    }


def _present_person(d: dict[str, Any]) -> dict[str, Any]:
    """A service's person dict for display: labels (the service has masked what the viewer may not see)."""
    out = dict(d)
    out["sex_label"] = SEX_LABELS.get(d["sex"], d.get("sex_label", ""))
    out["marital_status_label"] = MARITAL_LABELS.get(d["marital_status"], d.get("marital_status_label", ""))
    out["status_label"] = _status_label(d["status"])
    out["change_kind_label"] = _kind_label(d["change_kind"])
    out["reason_label"] = REASON_LABELS.get(d["reason"], d["reason"])
    return out


def _person_value(d: dict[str, Any], field: str) -> str:
    if field == "sex":
        return f"{d['sex']} {d['sex_label']}"
    if field in ("ethnic", "relationship", "marital_status"):
        label = d.get(f"{field}_label", "")
        return f"{d[field]} {label}".strip() if d[field] else "—"
    if field == "status":
        return str(d["status_label"])
    if field in ("lon", "lat"):
        if d["masked"]:
            return "***"
        return "—" if d[field] is None else f"{d[field]:.6f}"
    value = d.get(field)
    return "—" if value in (None, "") else str(value)


def _history_rows(history: list[dict[str, Any]], model: Any, present: Callable[[dict[str, Any]], dict[str, Any]],
                  value: Callable[[dict[str, Any], str], str]) -> list[dict[str, Any]]:
    names = _department_names(h["source_department"] for h in history)
    rows = []
    for raw in reversed(history):  # newest first
        h = present(raw)
        h["source_department_name"] = names.get(h["source_department"], "")
        h["changes"] = [(_field_label(model, f), value(h, f)) for f in h["changed_fields"] if f not in HIDDEN_FIELDS]
        rows.append(h)
    return rows


def _people_counties(user: Any) -> list[tuple[str, str]]:
    return _covered_counties(user, VIEW_POPULATION)


def _pk_of(id_number: str) -> int | None:
    number, _birth = clean_id(id_number)
    return Person.objects.filter(id_number_bidx=blind_index("id_number", number)).values_list("pk", flat=True).first()


@staff_required
@require_http_methods(["GET", "POST"])
def people(request: HttpRequest) -> HttpResponse:
    """Search the population: by ID number (posted, exact, blind index) or by name within an area."""
    user = request.user
    access.require(user, VIEW_POPULATION)
    counties = _people_counties(user)
    status = 200
    lookup = IdLookupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and lookup.is_valid():
        number = lookup.cleaned_data["id_number"]
        try:
            # the service checks the scope (403 outside it) and knows the number (404 unknown, 400 malformed)
            services.find_person(acting_user=user, id_number=number)
            pk = _pk_of(number)
        except DomainError as exc:
            add_domain_error(lookup, exc)
            status = exc.status
        else:
            if pk is not None:
                return redirect("registry:person", pk=pk)
    elif request.method == "POST":
        status = 400
    search = PersonSearchForm(request.GET or None, counties=counties)
    page = None
    area = ""
    if search.is_bound and search.is_valid():
        area = search.area() or (counties[0][0] if len(counties) == 1 else "")
        if not area:
            search.add_error("county", _("请选择县（市、区）或填写乡镇、社区、网格代码"))
        elif not access.has_perm(user, VIEW_POPULATION, area):
            search.add_error("code" if len(area) > 6 else "county", _("该区域不在您的授权范围内"))
        else:
            qs = search_people(user, area=area, name=search.cleaned_data.get("name", "").strip())
            page = Paginator(qs.defer("phone"), PAGE_SIZE).get_page(request.GET.get("page"))
            page.object_list = [_person_row(user, p) for p in page.object_list]  # type: ignore[misc]
    context = {
        "lookup": lookup, "search": search, "page": page, "area": area,
        "query": _query_without_page(request),
        "can_personal": access.has_perm(user, PERSONAL),
    }
    return render(request, "registry/people.html", context, status=status)


def _person_or_404(pk: int) -> Person:
    return get_object_or_404(Person, pk=pk)


@staff_required
@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = _person_or_404(pk)
    current = _present_person(services.find_person(acting_user=user, id_number=person.id_number))
    history = services.person_history(acting_user=user, id_number=person.id_number)
    members = [_person_row(user, m) for m in household_members(user, person)]
    names = _department_names([current["source_department"]])
    return render(request, "registry/person_detail.html", {
        "person": person, "p": current,
        "source_department_name": names.get(current["source_department"], ""),
        "history": _history_rows(history, Person, _present_person, _person_value),
        "members": members,
        "can_edit": any(access.has_perm(user, EDIT_POPULATION, d) for d in services.person_divisions(person)),
    })


def _authority_note(user: Any, fields: dict[str, str], model: Any, statuses: dict[str, str] | None = None) -> str:
    """Which of these fields the user's department is the authoritative source of."""
    if services.can_act_for_any_source(user):
        return _("您是全市数据管理员，可代任一来源部门录入。")
    dept = getattr(user, "department", None)
    if dept is None:
        return _("您没有所属部门，不能录入变更。")
    own = [_field_label(model, f) for f, kind in fields.items() if kind == dept.kind and f not in ("lon", "lat")]
    if statuses:
        own += [_("人口状态：%(status)s") % {"status": _status_label(s)} for s, kind in statuses.items()
                if kind == dept.kind]
    if not own:
        return _("%(dept)s不是这些信息的权威来源部门，提交的变更将被拒绝。") % {"dept": dept.name}
    return _("%(dept)s是以下信息的权威来源：%(fields)s。其他字段的变更将被拒绝。") % {
        "dept": dept.name, "fields": in_active_language("、", ", ").join(dict.fromkeys(own))}


@staff_required
@require_http_methods(["GET", "POST"])
def person_change(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = _person_or_404(pk)
    divisions = services.person_divisions(person)
    if not any(access.has_perm(user, EDIT_POPULATION, d) for d in divisions):
        access.require(user, EDIT_POPULATION, divisions[0] if divisions else CITY_CODE)
    current = _present_person(services.find_person(acting_user=user, id_number=person.id_number))
    status = 200
    if request.method == "POST":
        form = PersonChangeForm(request.POST)
        if form.is_valid():
            changes = form.changes()
            if not changes:
                form.add_error(None, _("没有填写要变更的内容。"))
                status = 400
            else:
                before = person.version
                try:
                    updated = services.change_person(
                        acting_user=user, id_number=person.id_number, changes=changes,
                        effective_date=form.cleaned_data["effective_date"], reason=form.cleaned_data["reason"])
                except DomainError as exc:
                    add_domain_error(form, exc, field_map={"community_code": "grid_code"})
                    status = exc.status
                else:
                    if updated.version == before:
                        messages.info(request, _("填写的内容与当前信息相同，没有变更。"))
                    else:
                        messages.success(request, _("已记录变更，当前为第 %(version)s 版。") % {
                            "version": updated.version})
                    return redirect("registry:person", pk=person.pk)
        else:
            status = 400
    else:
        form = PersonChangeForm(initial={"effective_date": timezone.localdate()})
    return render(request, "registry/person_change.html", {
        "person": person, "p": current, "form": form,
        "authority": _authority_note(user, services.PERSON_FIELD_AUTHORITY, Person, services.PERSON_STATUS_AUTHORITY),
    }, status=status)


def _resident_links(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Row ids for the residents shown in full (a masked number cannot be looked up)."""
    bidx = {blind_index("id_number", r["id_number"]): r["id_number"] for r in rows if not r["masked"]}
    if not bidx:
        return {}
    found = Person.objects.filter(id_number_bidx__in=list(bidx)).values_list("id_number_bidx", "pk")
    return {bidx[b]: pk for b, pk in found}


@staff_required
@require_GET
def residents(request: HttpRequest) -> HttpResponse:
    """Who lived in a grid or a division on a date (``services.residents_at``: current rows and history)."""
    user = request.user
    access.require(user, VIEW_POPULATION)
    form = ResidentsForm(request.GET or None)
    page = None
    status = 200
    if form.is_bound and form.is_valid():
        code, on = form.cleaned_data["code"], form.cleaned_data["date"]
        try:
            page = _service_page(request, lambda offset, limit: services.residents_at(
                acting_user=user, code=code, on=on, limit=limit, offset=offset))
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            rows = [_present_person(r) for r in page.object_list]
            links = _resident_links(rows)
            for r in rows:
                r["pk"] = links.get(r["id_number"])
            page.object_list = rows
    elif form.is_bound:
        status = 400
    return render(request, "registry/residents.html", {
        "form": form, "page": page, "query": _query_without_page(request),
    }, status=status)


# --- legal entities ------------------------------------------------------------------------------------------

def _present_entity(d: dict[str, Any]) -> dict[str, Any]:
    out = dict(d)
    out["entity_type_label"] = _entity_type_label(d["entity_type"])
    out["status_label"] = _entity_status_label(d["status"])
    out["change_kind_label"] = _kind_label(d["change_kind"])
    out["reason_label"] = REASON_LABELS.get(d["reason"], d["reason"])
    out["county_name"] = SCOPE_NAMES.get(d["county_code"], "")
    capital = d["registered_capital"]
    out["capital_text"] = "" if capital is None else format(capital.normalize(), "f")
    out["warning_text"] = split_bilingual(d["credit_code_warning"]) if d["credit_code_warning"] else ""
    return out


def _entity_value(d: dict[str, Any], field: str) -> str:
    if field == "entity_type":
        return str(d["entity_type_label"])
    if field == "status":
        return str(d["status_label"])
    if field == "industry_code":
        return f"{d['industry_code']} {d['industry_label']}".strip() or "—"
    if field in ("lon", "lat"):
        return "—" if d[field] is None else f"{d[field]:.6f}"
    if field == "registered_capital":
        return str(d["capital_text"]) or "—"
    value = d.get(field)
    return "—" if value in (None, "") else str(value)


@staff_required
@require_GET
def entities(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW_ENTITIES)
    form = EntitySearchForm(request.GET or None, counties=_covered_counties(user, VIEW_ENTITIES))
    status = 200
    page = None
    data: dict[str, Any] = {}
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
        else:
            status = 400
    if data.get("credit_code"):
        try:
            found = services.find_entity(acting_user=user, credit_code=data["credit_code"])
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            url = reverse("registry:entity", kwargs={"credit_code": found["credit_code"]})
            if _is_htmx(request):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    elif status == 200:
        try:
            page = _service_page(request, lambda offset, limit: services.search_entities(
                acting_user=user, name_prefix=data.get("name", ""), industry=data.get("industry", ""),
                county=data.get("county", ""), status=data.get("status", ""), limit=limit, offset=offset))
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            page.object_list = [_present_entity(e) for e in page.object_list]
    return render(request, "registry/entities.html", {"form": form, "page": page,
                                                      "query": _query_without_page(request)}, status=status)


def _can_edit_entity(user: Any, d: dict[str, Any]) -> bool:
    return access.has_perm(user, EDIT_ENTITIES, services.entity_division(d, d["credit_code"]))


@staff_required
@require_GET
def entity_detail(request: HttpRequest, credit_code: str) -> HttpResponse:
    user = request.user
    try:
        current = _present_entity(services.find_entity(acting_user=user, credit_code=credit_code))
    except DomainError as exc:
        raise Http404(domain_message(exc)) from exc
    history = services.entity_history(acting_user=user, credit_code=credit_code)
    names = _department_names([current["source_department"]])
    return render(request, "registry/entity_detail.html", {
        "e": current, "source_department_name": names.get(current["source_department"], ""),
        "history": _history_rows(history, LegalEntity, _present_entity, _entity_value),
        "can_edit": _can_edit_entity(user, current),
    })


@staff_required
@require_http_methods(["GET", "POST"])
def entity_change(request: HttpRequest, credit_code: str) -> HttpResponse:
    user = request.user
    try:
        current = _present_entity(services.find_entity(acting_user=user, credit_code=credit_code))
    except DomainError as exc:
        raise Http404(domain_message(exc)) from exc
    access.require(user, EDIT_ENTITIES, services.entity_division(current, current["credit_code"]))
    status = 200
    if request.method == "POST":
        form = EntityChangeForm(request.POST)
        if form.is_valid():
            changes = form.changes()
            if not changes:
                form.add_error(None, _("没有填写要变更的内容。"))
                status = 400
            else:
                try:
                    updated = services.change_entity(
                        acting_user=user, credit_code=current["credit_code"], changes=changes,
                        effective_date=form.cleaned_data["effective_date"], reason=form.cleaned_data["reason"])
                except DomainError as exc:
                    add_domain_error(form, exc, field_map={"community_code": "grid_code",
                                                           "county_code": "grid_code"})
                    status = exc.status
                else:
                    if updated.version == current["version"]:
                        messages.info(request, _("填写的内容与当前信息相同，没有变更。"))
                    else:
                        messages.success(request, _("已记录变更，当前为第 %(version)s 版。") % {
                            "version": updated.version})
                    return redirect("registry:entity", credit_code=current["credit_code"])
        else:
            status = 400
    else:
        form = EntityChangeForm(initial={"effective_date": timezone.localdate()})
    dept = getattr(user, "department", None)
    authority = services.ENTITY_TYPE_AUTHORITY.get(current["entity_type"], "")
    if services.can_act_for_any_source(user):
        note = _("您是全市数据管理员，可代任一来源部门录入。")
    elif dept is not None and dept.kind == authority:
        note = _("%(dept)s是该类单位登记信息的权威来源。") % {"dept": dept.name}
    else:
        note = _("%(type)s的登记信息应由%(authority)s录入，其他部门提交的变更将被拒绝。") % {
            "type": current["entity_type_label"], "authority": services.kind_label(authority)}
    return render(request, "registry/entity_change.html", {"e": current, "form": form, "authority": note},
                  status=status)


# --- imports ---------------------------------------------------------------------------------------------------

def visible_jobs(user: Any) -> QuerySet[ImportJob]:
    """Import jobs from departments within the user's ``registry.import`` scope, and the user's own."""
    departments = access.filter_by_scope(Department.objects.all(), user, IMPORT, "division_code")
    condition = Q(source_department__in=departments.values("code"))
    if getattr(user, "pk", None):
        condition |= Q(acting_user=user.pk)
    return ImportJob.objects.filter(condition)


def _visible_job_or_403(user: Any, pk: int) -> ImportJob:
    job = get_object_or_404(ImportJob, pk=pk)
    if not visible_jobs(user).filter(pk=pk).exists():
        raise PermissionDenied(_("无权查看该导入任务"))
    return job


def _upload_departments(user: Any) -> list[tuple[str, str]]:
    """The source departments a city data administrator may import for."""
    if not services.can_act_for_any_source(user):
        return []
    kinds = {services.PUBLIC_SECURITY, "big_data", *services.ENTITY_TYPE_AUTHORITY.values()}
    return [(code, f"{name} · {code}") for code, name in
            Department.objects.filter(active=True, kind__in=kinds).order_by("division_code", "kind")
            .values_list("code", "name")]


def _check_import_allowed(kind: str, user: Any, source_department: str | None) -> None:
    """Refuse at once an import the importer would refuse before reading a row (no right, a department that is
    not the authority): the same check, so the page and the task cannot disagree."""
    importers._authorise(kind, user, source_department)


def _save_upload(upload: UploadedFile, token: str) -> tuple[str, str, int]:
    """Write the upload under ``VAR_DIR/uploads/<token>/``; its stored name, sha256 and line count."""
    original = Path(upload.name or "upload.csv").name
    suffix = Path(original).suffix.lower() if Path(original).suffix.lower() in (".csv", ".xlsx", ".txt") else ".csv"
    stem = get_valid_filename(Path(original).stem)[:80].lstrip(".") or "upload"
    name = f"{stem}{suffix}"
    folder = tasks.upload_dir(token)
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    lines = 0
    with (folder / name).open("wb") as fh:
        for chunk in upload.chunks():
            digest.update(chunk)
            lines += chunk.count(b"\n")
            fh.write(chunk)
    return name, digest.hexdigest(), lines


def _check_header(kind: str, path: Path, sha256: str, lines: int) -> str:
    """Refuse a file without the required columns before queueing it; the CSV encoding found."""
    size = path.stat().st_size
    info = importers.FileInfo(sha256, size, lines, _file_format(path))
    if info.file_format == "xlsx" and size > HEADER_CHECK_MAX_BYTES:
        return ""
    spec = importers.KINDS[kind]
    with importers.open_source(path, info) as source:
        importers.map_header(source.header, spec.columns, spec.required)
        return source.encoding


def _file_format(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(4)
    return "xlsx" if head.startswith(b"PK\x03\x04") or path.suffix.lower() == ".xlsx" else "csv"


def _enqueue(token: str) -> None:
    transaction.on_commit(lambda: tasks.import_upload(token))


def _new_manifest(user: Any, *, kind: str, original: str, stored: str, sha256: str, lines: int, fmt: str,
                  source_department: str, batch_size: int, resume_job: int | None = None) -> dict[str, Any]:
    return {
        "kind": kind, "original_name": original, "file": stored, "sha256": sha256, "format": fmt,
        "total": max(lines - 1, 0) if fmt == "csv" else 0, "user": user.pk, "username": user.get_username(),
        "source_department": source_department, "batch_size": batch_size, "resume_job": resume_job,
        "state": tasks.QUEUED, "processed": 0, "job": None, "error_zh": "", "error_en": "", "error_field": "",
        "created_at": timezone.now().isoformat(), "updated_at": timezone.now().isoformat(),
    }


def _job_display_name(job: ImportJob) -> str:
    """The name of the file the job was started with (as uploaded, for a job started from this page)."""
    if job.file_name.startswith("demo:"):
        return job.file_name.removeprefix("demo:")
    manifest = tasks.read_manifest(tasks.token_of_label(job.file_name))
    if manifest and manifest.get("original_name"):
        return str(manifest["original_name"])
    return Path(job.file_name).name


def _run_state(job: ImportJob, manifest: dict[str, Any] | None) -> str:
    """queued / running / interrupted, or the job's final status."""
    if manifest and tasks.is_active(manifest):
        return str(manifest["state"])
    if job.status != ImportStatus.RUNNING:
        return str(job.status)
    if manifest and manifest.get("state") in (tasks.FAILED, tasks.DONE, tasks.RUNNING):
        return "interrupted"  # the task stopped (failed, or silent for too long) while the job was running
    last = job.batches.order_by("-at").values_list("at", flat=True).first() or job.started_at
    return "running" if timezone.now() - last < tasks.STALE_AFTER else "interrupted"


def _job_summary(job: ImportJob) -> dict[str, Any]:
    manifest = tasks.read_manifest(tasks.token_for_job(job.pk, job.file_name))
    state = _run_state(job, manifest)
    return {"job": job, "name": _job_display_name(job), "state": state,
            "state_label": RUN_STATE_LABELS.get(state, state), "badge": RUN_STATE_BADGES.get(state, "badge-muted"),
            "kind_label": KIND_LABELS.get(job.kind, job.kind)}


@staff_required
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    """Upload a file (the import then runs as a background task) and the list of import jobs."""
    user = request.user
    access.require(user, IMPORT)
    departments = _upload_departments(user)
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, departments=departments)
        if form.is_valid():
            data = form.cleaned_data
            kind, upload = data["kind"], data["file"]
            source = data.get("source_department") or ""
            try:
                _check_import_allowed(kind, user, source or None)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                token = tasks.new_token()
                stored, sha256, lines = _save_upload(upload, token)
                path = tasks.upload_dir(token) / stored
                try:
                    _check_header(kind, path, sha256, lines)
                except DomainError as exc:
                    form.add_error("file", domain_message(exc))
                    status = exc.status
                    path.unlink(missing_ok=True)
                else:
                    own = getattr(user, "department", None)
                    dept = source or (own.code if own is not None else "")
                    tasks.write_manifest(token, _new_manifest(
                        user, kind=kind, original=Path(upload.name or stored).name, stored=stored, sha256=sha256,
                        lines=lines, fmt=_file_format(path), source_department=dept,
                        batch_size=data["batch_size"]))
                    _enqueue(token)
                    return redirect("registry:upload", token=token)
        else:
            status = 400
    else:
        form = UploadForm(initial={"kind": "population", "batch_size": importers.BATCH_SIZE},
                          departments=departments)
    jobs = visible_jobs(user).order_by("-pk")
    page = Paginator(jobs, JOB_PAGE_SIZE).get_page(request.GET.get("page"))
    names = _department_names(j.source_department for j in page.object_list)
    rows = []
    for job in page.object_list:
        row = _job_summary(job)
        row["department"] = names.get(job.source_department, job.source_department)
        rows.append(row)
    return render(request, "registry/imports.html", {
        "form": form, "page": page, "rows": rows, "query": _query_without_page(request),
    }, status=status)


def _job_for_upload(token: str, manifest: dict[str, Any]) -> ImportJob | None:
    if manifest.get("job"):
        return ImportJob.objects.filter(pk=manifest["job"]).first()
    if manifest.get("resume_job"):
        return ImportJob.objects.filter(pk=manifest["resume_job"]).first()
    label = tasks.label_for(token, str(manifest.get("file") or ""))
    return ImportJob.objects.filter(file_name=label).order_by("-pk").first()


@staff_required
@require_GET
def upload_status(request: HttpRequest, token: str) -> HttpResponse:
    """An uploaded file waiting for (or refused by) the background task; it turns into its job's page."""
    manifest = tasks.read_manifest(token)
    if manifest is None or manifest.get("user") != request.user.pk:
        raise Http404(_("没有这个上传文件"))
    job = _job_for_upload(token, manifest)
    if job is not None and manifest.get("state") != tasks.QUEUED:
        url = reverse("registry:import_job", kwargs={"pk": job.pk})
        if _is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    context = {
        "token": token, "m": manifest, "active": tasks.is_active(manifest),
        "kind_label": KIND_LABELS.get(str(manifest.get("kind")), ""),
        "error": in_active_language(str(manifest.get("error_zh") or ""), str(manifest.get("error_en") or "")),
    }
    if _is_htmx(request):
        return render(request, "registry/_upload_live.html", context)
    return render(request, "registry/upload_status.html", context)


def _error_field_label(kind: str, field: str) -> str:
    if field in ("", "row"):
        return _("整行")
    if field == "header":
        return _("表头")
    if field == "file":
        return _("文件")
    columns = PERSON_COLUMNS if kind == "population" else ENTITY_COLUMNS
    aliases = columns.get(field)
    return in_active_language(aliases[0], field.replace("_", " ")) if aliases else field


def _job_context(request: HttpRequest, job: ImportJob) -> dict[str, Any]:
    token = tasks.token_for_job(job.pk, job.file_name)
    manifest = tasks.read_manifest(token)
    state = _run_state(job, manifest)
    by_status = {a["status"]: a for a in job.batches.values("status").annotate(rows=Sum("rows"), n=Count("pk"))}
    committed = by_status.get(BatchStatus.COMMITTED, {})
    failed = by_status.get(BatchStatus.FAILED, {})
    rows_committed, rows_failed = committed.get("rows") or 0, failed.get("rows") or 0
    processed = rows_committed + rows_failed
    if state in ("queued", "running") and manifest:
        processed = max(processed, int(manifest.get("processed") or 0))
    total = int(manifest.get("total") or 0) if manifest else 0
    if state not in ("queued", "running", "interrupted"):
        total = max(processed, job.rows_seen)
    total = max(total, processed)
    errors = Paginator(job.row_errors.order_by("row", "pk"), ERROR_PAGE_SIZE).get_page(request.GET.get("page"))
    error_rows = [{
        "row": e.row, "batch": e.batch_index + 1, "field": e.field,
        "field_label": _error_field_label(job.kind, e.field), "code": e.code,
        "reason": in_active_language(e.message_zh, e.message_en),
    } for e in errors.object_list]
    failed_batches = list(job.batches.filter(status=BatchStatus.FAILED).order_by("index")[:100])
    can_resume = state in ("interrupted", ImportStatus.COMPLETED_WITH_ERRORS)
    stored = tasks.stored_file(token, manifest) if token and manifest else None
    return {
        "job": job, "state": state, "state_label": RUN_STATE_LABELS.get(state, state),
        "badge": RUN_STATE_BADGES.get(state, "badge-muted"), "active": state in ("queued", "running"),
        "kind_label": KIND_LABELS.get(job.kind, job.kind), "name": _job_display_name(job),
        "department": _department_names([job.source_department]).get(job.source_department, ""),
        "rows_committed": rows_committed, "rows_failed": rows_failed, "processed": processed, "total": total,
        "percent": (processed * 100 // total) if total else None,
        "batches_committed": committed.get("n") or 0, "batches_failed": failed.get("n") or 0,
        "failed_batches": failed_batches, "errors": errors, "error_rows": error_rows,
        "error_total": errors.paginator.count, "query": _query_without_page(request),
        "can_resume": can_resume, "has_stored_file": stored is not None,
        "resume_form": ResumeForm() if can_resume else None,
        "last_error": in_active_language(str(manifest.get("error_zh") or ""), str(manifest.get("error_en") or ""))
        if manifest and manifest.get("state") == tasks.FAILED else "",
    }


@staff_required
@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    access.require(user, IMPORT)
    job = _visible_job_or_403(user, pk)
    context = _job_context(request, job)
    if _is_htmx(request):
        return render(request, "registry/_job_live.html", context)
    return render(request, "registry/import_job.html", context)


@staff_required
@require_POST
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    """Resume an interrupted job, or retry its failed batches (with the same file or a corrected one)."""
    user = request.user
    access.require(user, IMPORT)
    job = _visible_job_or_403(user, pk)
    context = _job_context(request, job)
    form = ResumeForm(request.POST, request.FILES)
    if not context["can_resume"]:
        messages.error(request, _("该导入任务正在进行或已全部完成，无需继续。"))
        return redirect("registry:import_job", pk=job.pk)
    if not form.is_valid():
        context.update(resume_form=form)
        return render(request, "registry/import_job.html", context, status=400)
    # the same checks as the importer's, before anything is queued (403 for another department's job)
    try:
        _check_import_allowed(job.kind, user, job.source_department)
    except DomainError as exc:
        form.add_error(None, domain_message(exc))
        context.update(resume_form=form)
        return render(request, "registry/import_job.html", context, status=exc.status)
    upload = form.cleaned_data.get("file")
    old_token = tasks.token_for_job(job.pk, job.file_name)
    old = tasks.read_manifest(old_token)
    if upload is not None:
        token = tasks.new_token()
        stored, sha256, lines = _save_upload(upload, token)
        path = tasks.upload_dir(token) / stored
        try:
            _check_header(job.kind, path, sha256, lines)
        except DomainError as exc:
            path.unlink(missing_ok=True)
            form.add_error("file", domain_message(exc))
            context.update(resume_form=form)
            return render(request, "registry/import_job.html", context, status=exc.status)
        manifest = _new_manifest(user, kind=job.kind, original=Path(upload.name or stored).name, stored=stored,
                                 sha256=sha256, lines=lines, fmt=_file_format(path),
                                 source_department=job.source_department, batch_size=job.batch_size,
                                 resume_job=job.pk)
    elif old_token and old and tasks.stored_file(old_token, old) is not None:
        token = old_token
        manifest = {**old, "user": user.pk, "username": user.get_username(), "resume_job": job.pk,
                    "state": tasks.QUEUED, "processed": 0, "error_zh": "", "error_en": "", "error_field": "",
                    "updated_at": timezone.now().isoformat()}
    else:
        form.add_error("file", _("原文件不在平台上（该任务不是从本页面上传的），请上传文件。"))
        context.update(resume_form=form)
        return render(request, "registry/import_job.html", context, status=400)
    tasks.write_manifest(token, manifest)
    tasks.link_job(job.pk, token)
    _enqueue(token)
    messages.success(request, _("已提交继续导入，已写入的批次不会重复写入。"))
    return redirect("registry:import_job", pk=job.pk)

