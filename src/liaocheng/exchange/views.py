"""Staff pages of the data-exchange centre (thin adapters over ``exchange.services``): the catalogue,
the department's own entries, applications and per-field approval, consumer systems (token shown
once), subscriptions and the exchange log with signed evidence.

Views read (scoped to the departments the user may act for), shape input and show results; every
change goes through a service, which checks permission (``PermissionDenied`` → 403 before anything
changed) and writes the audit record. ``DomainError`` is shown in the form.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from liaocheng.core import access
from liaocheng.core.crypto import blind_index
from liaocheng.core.errors import DomainError
from liaocheng.core.forms import add_domain_error, domain_message, in_active_language

from . import chain, services
from .forms import (
    ApplyForm,
    ConsumerSystemForm,
    DecisionForm,
    LogFilterForm,
    ReasonForm,
    ResourceEditForm,
    SubscribeForm,
)
from .models import (
    Application,
    ApplicationStatus,
    CatalogueResource,
    ConsumerSystem,
    Decision,
    ExchangeLog,
    Grant,
    SharingClass,
    Subscription,
)

PAGE_SIZE = 30
LOG_PAGE_SIZE = 50


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access.is_staff_user(request.user):
            raise PermissionDenied(_("仅限工作人员访问"))
        return view(request, *args, **kwargs)

    return wrapper


def _nav(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {
        "own": access.has_perm(user, "exchange.manage_catalogue"),
        "applications": access.has_perm(user, "exchange.apply") or access.has_perm(user, "exchange.approve"),
        "systems": access.has_perm(user, "exchange.manage_systems"),
        "log": access.has_perm(user, "exchange.view_log"),
    }


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, template, {"xnav": _nav(request), **context}, status=status)


def _field_label(info: services.FieldInfo) -> str:
    return in_active_language(info.label_zh, info.label_en)


def _visible_resource(request: HttpRequest, code: str) -> CatalogueResource:
    resource = services.visible_catalogue(request.user).filter(code=code).first()
    if resource is None:
        raise Http404(_("资源不存在"))
    return resource


# --- catalogue ------------------------------------------------------------------------------------

@staff_required
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:60]
    dept = request.GET.get("department", "").strip()[:64]
    qs = services.visible_catalogue(request.user)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(description__icontains=q)
                       | Q(department__name__icontains=q))
    if dept:
        qs = qs.filter(department__code=dept)
    departments = (services.visible_catalogue(request.user).values_list("department__code", "department__name")
                   .distinct().order_by("department__code"))
    page = Paginator(qs.order_by("code"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return _render(request, "exchange/catalogue.html", {
        "page": page, "q": q, "department": dept, "departments": list(departments), "query": query.urlencode(),
    })


@staff_required
@require_GET
def resource_detail(request: HttpRequest, code: str) -> HttpResponse:
    resource = _visible_resource(request, code)
    user = request.user
    infos = services.resource_fields(resource)
    is_owner = services.can_act_for(user, "exchange.manage_catalogue", resource.department)
    can_approve = services.can_act_for(user, "exchange.approve", resource.department)
    grants = []
    if can_approve:
        grants = list(Grant.objects.filter(resource=resource, revoked_at__isnull=True)
                      .select_related("consumer__department").order_by("consumer__code", "field_name"))
    return _render(request, "exchange/resource_detail.html", {
        "resource": resource,
        "fields": [{"info": i, "label": _field_label(i)} for i in infos],
        "spec_available": services.spec_for(resource) is not None,
        "is_owner": is_owner,
        "can_approve": can_approve,
        "can_apply": access.has_perm(user, "exchange.apply") and resource.sharing_class != SharingClass.NONE,
        "grants": grants,
        "reason_form": ReasonForm(),
    })


def _own_resources(user: Any) -> QuerySet[CatalogueResource]:
    return CatalogueResource.objects.filter(
        department__in=services.departments_for(user, "exchange.manage_catalogue")).select_related("department")


@staff_required
@require_GET
def my_resources(request: HttpRequest) -> HttpResponse:
    resources = [
        {"resource": r,
         "pending_count": Application.objects.filter(resource=r, status=ApplicationStatus.PENDING).count(),
         "grant_count": Grant.objects.filter(resource=r, revoked_at__isnull=True).values("consumer").distinct().count()}
        for r in _own_resources(request.user).order_by("code")
    ]
    return _render(request, "exchange/my_resources.html", {"resources": resources})


@staff_required
@require_http_methods(["GET", "POST"])
def resource_edit(request: HttpRequest, code: str) -> HttpResponse:
    resource = get_object_or_404(CatalogueResource.objects.select_related("department"), code=code)
    if not services.can_act_for(request.user, "exchange.manage_catalogue", resource.department):
        raise PermissionDenied(_("只能维护本部门的资源"))
    infos = services.resource_fields(resource)
    status = 200
    if request.method == "POST":
        form = ResourceEditForm(request.POST, fields_info=infos)
        if form.is_valid():
            try:
                services.update_resource(acting_user=request.user, resource=resource, **form.service_arguments())
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("已保存。"))
                return redirect("exchange:resource", code=resource.code)
        else:
            status = 400
    else:
        form = ResourceEditForm(fields_info=infos, initial={
            "description": resource.description, "sharing_class": resource.sharing_class,
            "update_frequency": resource.update_frequency, "is_open": resource.is_open, "theme": resource.theme,
            "tags": ", ".join(resource.tags),
        })
    rows = form.bound_rows()
    for row in rows:
        row["label"] = _field_label(row["info"])
    return _render(request, "exchange/resource_edit.html", {"resource": resource, "form": form, "rows": rows},
                   status=status)


# --- applications --------------------------------------------------------------------------------------

def _own_systems(user: Any, perm: str = "exchange.manage_systems") -> QuerySet[ConsumerSystem]:
    return ConsumerSystem.objects.filter(department__in=services.departments_for(user, perm)).select_related(
        "department")


@staff_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, code: str) -> HttpResponse:
    resource = _visible_resource(request, code)
    if resource.sharing_class == SharingClass.NONE:
        raise Http404(_("该资源不予共享"))
    access.require(request.user, "exchange.apply")
    systems = list(_own_systems(request.user, "exchange.apply").filter(active=True).order_by("code"))
    infos = [i for i in services.resource_fields(resource) if i.offered and i.sharing_class != SharingClass.NONE]
    class_labels = dict(SharingClass.choices)
    field_choices = [(i.name, f"{_field_label(i)}（{i.name}）· {class_labels[i.sharing_class]}") for i in infos]
    personal = [(i.name, f"{_field_label(i)}（{i.name}）") for i in infos if i.personal]
    kwargs = {"consumers": [(s.code, f"{s.name}（{s.code}）") for s in systems], "fields": field_choices,
              "personal": personal}
    status = 200
    if request.method == "POST":
        form = ApplyForm(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            system = next(s for s in systems if s.code == data["consumer"])
            try:
                application = services.apply_for_fields(
                    acting_user=request.user, consumer=system, resource=resource, fields=data["requested"],
                    want_clear=data["want_clear"], purpose=data["purpose"], legal_basis=data["legal_basis"])
            except DomainError as exc:
                add_domain_error(form, exc, {"fields": "requested"})
                status = exc.status
            else:
                messages.success(request, _("申请已提交。"))
                return redirect("exchange:application", pk=application.pk)
        else:
            status = 400
    else:
        form = ApplyForm(initial={"consumer": systems[0].code if len(systems) == 1 else ""}, **kwargs)
    return _render(request, "exchange/apply.html", {"resource": resource, "form": form, "systems": systems},
                   status=status)


@staff_required
@require_GET
def applications(request: HttpRequest) -> HttpResponse:
    user = request.user
    incoming = Application.objects.filter(
        resource__department__in=services.departments_for(user, "exchange.approve")
    ).select_related("consumer__department", "resource__department", "applicant")
    outgoing = Application.objects.filter(
        consumer__department__in=services.departments_for(user, "exchange.apply")
    ).select_related("consumer__department", "resource__department", "applicant")
    show = request.GET.get("show", "pending")
    if show == "pending":
        incoming = incoming.filter(status=ApplicationStatus.PENDING)
    return _render(request, "exchange/applications.html", {
        "incoming": list(incoming[:200]), "outgoing": list(outgoing[:200]), "show": show,
    })


def _visible_application(request: HttpRequest, pk: int) -> tuple[Application, bool]:
    application = get_object_or_404(
        Application.objects.select_related("consumer__department", "resource__department", "applicant"), pk=pk)
    user = request.user
    owner = services.can_act_for(user, "exchange.approve", application.resource.department)
    applicant_side = services.can_act_for(user, "exchange.apply", application.consumer.department)
    if not (owner or applicant_side):
        raise PermissionDenied(_("无权查看该申请"))
    return application, owner


@staff_required
@require_http_methods(["GET", "POST"])
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application, owner = _visible_application(request, pk)
    resource = application.resource
    infos = {i.name: i for i in services.resource_fields(resource)}
    items = list(application.items.select_related("decided_by"))
    pending = [i for i in items if i.decision == Decision.PENDING]
    personal = {n for n, i in infos.items() if i.personal}
    status = 200
    form: DecisionForm | None = None
    if owner and pending:
        form = DecisionForm(request.POST or None, items=pending, personal=personal)
        if request.method == "POST" and form.is_valid():
            decisions = {}
            for row in form.rows:
                choice = form.cleaned_data.get(row["decision"])
                if not choice:
                    continue
                decisions[row["item"].field_name] = services.FieldDecision(
                    approve=choice == "approve", reason=form.cleaned_data.get(row["reason"], ""),
                    allow_clear=bool(row["clear"] and form.cleaned_data.get(row["clear"])))
            try:
                services.decide_application(acting_user=request.user, application=application, decisions=decisions)
            except DomainError as exc:
                form.add_error(None, domain_message(exc))
                status = exc.status
            else:
                messages.success(request, _("审批结果已保存。"))
                return redirect("exchange:application", pk=application.pk)
        elif request.method == "POST":
            status = 400
    elif request.method == "POST":
        raise PermissionDenied(_("无权审批该申请"))
    rows = []
    for item in items:
        info = infos.get(item.field_name)
        rows.append({"item": item, "label": _field_label(info) if info else item.field_name,
                     "personal": bool(info and info.personal)})
    decision_rows = form.bound_rows() if form else []
    for row in decision_rows:
        info = infos.get(row["item"].field_name)
        row["label"] = _field_label(info) if info else row["item"].field_name
    return _render(request, "exchange/application_detail.html", {
        "application": application, "rows": rows, "form": form, "decision_rows": decision_rows, "owner": owner,
    }, status=status)


@staff_required
@require_POST
def grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    grant = get_object_or_404(Grant.objects.select_related("resource", "consumer"), pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        services.revoke_grant(acting_user=request.user, grant=grant, reason=form.cleaned_data.get("reason", ""))
    except DomainError as exc:
        messages.error(request, domain_message(exc))
    else:
        messages.success(request, _("授权已撤销。"))
    back = request.POST.get("next", "")
    if back == "system":
        return redirect("exchange:system", code=grant.consumer.code)
    return redirect("exchange:resource", code=grant.resource.code)


# --- consumer systems --------------------------------------------------------------------------------------

def _token_page(request: HttpRequest, system: ConsumerSystem, token: str, created: bool) -> HttpResponse:
    response = _render(request, "exchange/token.html", {"system": system, "token": token, "created": created})
    response["Cache-Control"] = "no-store"
    return response


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def systems(request: HttpRequest) -> HttpResponse:
    user = request.user
    departments = list(services.departments_for(user, "exchange.manage_systems").order_by("code"))
    choices = [(d.code, d.name) for d in departments]
    status = 200
    if request.method == "POST":
        form = ConsumerSystemForm(request.POST, departments=choices)
        if form.is_valid():
            dept = next(d for d in departments if d.code == form.cleaned_data["department"])
            try:
                system, token = services.create_consumer_system(
                    acting_user=user, department=dept, code=form.cleaned_data["code"], name=form.cleaned_data["name"])
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                return _token_page(request, system, token, created=True)
        else:
            status = 400
    else:
        own = getattr(user, "department", None)
        form = ConsumerSystemForm(departments=choices, initial={"department": own.code if own else ""})
    return _render(request, "exchange/systems.html", {
        "systems": list(_own_systems(user).order_by("code")), "form": form, "can_create": bool(departments),
    }, status=status)


def _own_system(request: HttpRequest, code: str) -> ConsumerSystem:
    system = _own_systems(request.user).filter(code=code).first()
    if system is None:
        raise Http404(_("接入系统不存在"))
    return system


@staff_required
@require_GET
def system_detail(request: HttpRequest, code: str) -> HttpResponse:
    system = _own_system(request, code)
    grants = list(system.grants.filter(revoked_at__isnull=True).select_related("resource__department")
                  .order_by("resource__code", "field_name"))
    subscriptions = list(system.subscriptions.filter(active=True).select_related("resource"))
    granted_resources = {g.resource.code: g.resource for g in grants}
    subscribable = [(c, r.name) for c, r in sorted(granted_resources.items())
                    if c not in {s.resource.code for s in subscriptions}]
    return _render(request, "exchange/system_detail.html", {
        "system": system, "grants": grants, "subscriptions": subscriptions,
        "subscribe_form": SubscribeForm(resources=subscribable) if subscribable else None,
        "applications": list(system.applications.select_related("resource")[:50]),
    })


@staff_required
@never_cache
@require_POST
def system_rotate(request: HttpRequest, code: str) -> HttpResponse:
    system = _own_system(request, code)
    try:
        token = services.rotate_token(acting_user=request.user, system=system)
    except DomainError as exc:
        messages.error(request, domain_message(exc))
        return redirect("exchange:system", code=system.code)
    return _token_page(request, system, token, created=False)


@staff_required
@require_POST
def system_revoke(request: HttpRequest, code: str) -> HttpResponse:
    system = _own_system(request, code)
    services.revoke_consumer_system(acting_user=request.user, system=system)
    messages.success(request, _("接入系统已停用，其凭证即时失效。"))
    return redirect("exchange:system", code=system.code)


@staff_required
@require_POST
def system_subscribe(request: HttpRequest, code: str) -> HttpResponse:
    system = _own_system(request, code)
    resource = get_object_or_404(CatalogueResource, code=request.POST.get("resource", ""))
    try:
        services.subscribe(acting_user=request.user, consumer=system, resource=resource)
    except DomainError as exc:
        messages.error(request, domain_message(exc))
    else:
        messages.success(request, _("已订阅。"))
    return redirect("exchange:system", code=system.code)


@staff_required
@require_POST
def system_unsubscribe(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    system = _own_system(request, code)
    subscription = get_object_or_404(Subscription.objects.select_related("resource", "consumer__department"),
                                     pk=pk, consumer=system)
    services.unsubscribe(acting_user=request.user, subscription=subscription)
    messages.success(request, _("已取消订阅。"))
    return redirect("exchange:system", code=system.code)


# --- exchange log ---------------------------------------------------------------------------------------

def _visible_log(user: Any) -> QuerySet[ExchangeLog]:
    codes = list(services.departments_for(user, "exchange.view_log").values_list("code", flat=True))
    if not codes:
        return ExchangeLog.objects.none()
    return ExchangeLog.objects.filter(Q(owner_department__in=codes) | Q(consumer_department__in=codes))


@staff_required
@require_GET
def log_list(request: HttpRequest) -> HttpResponse:
    access.require(request.user, "exchange.view_log")
    qs = _visible_log(request.user)
    form = LogFilterForm(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        if data["resource"]:
            qs = qs.filter(resource_code=data["resource"].strip())
        if data["consumer"]:
            qs = qs.filter(consumer_code=data["consumer"].strip())
        if data["key"]:
            qs = qs.filter(record_key_index=blind_index("exchange_key", data["key"]))
        if data["status"] == "ok":
            qs = qs.filter(status__lt=300)
        elif data["status"] == "refused":
            qs = qs.filter(status__gte=300)
        tz = timezone.get_current_timezone()
        if data["date_from"]:
            qs = qs.filter(at__gte=dt.datetime.combine(data["date_from"], dt.time.min, tz))
        if data["date_to"]:
            qs = qs.filter(at__lt=dt.datetime.combine(data["date_to"] + dt.timedelta(days=1), dt.time.min, tz))
    page = Paginator(qs.order_by("-seq"), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return _render(request, "exchange/log_list.html", {"page": page, "form": form, "query": query.urlencode()})


def _visible_record(request: HttpRequest, seq: int) -> ExchangeLog:
    access.require(request.user, "exchange.view_log")
    rec = _visible_log(request.user).filter(seq=seq).first()
    if rec is None:
        raise Http404(_("日志记录不存在"))
    return rec


@staff_required
@require_GET
def log_detail(request: HttpRequest, seq: int) -> HttpResponse:
    rec = _visible_record(request, seq)
    doc = chain.evidence(rec)
    ok, message = chain.verify_evidence(doc)
    return _render(request, "exchange/log_detail.html", {
        "rec": rec, "evidence_ok": ok, "evidence_message": message,
        "evidence_json": json.dumps(doc, ensure_ascii=False, indent=2),
    })


@staff_required
@require_GET
def log_evidence(request: HttpRequest, seq: int) -> HttpResponse:
    rec = _visible_record(request, seq)
    body = json.dumps(chain.evidence(rec), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="exchange-evidence-{rec.seq}.json"'
    return response
