"""Pages of public warnings (thin adapters over ``emergency.warnings``).

Staff (``/emergency/warnings/``): the console (list and filters), the drafting form (area picker from the
divisions, level, bilingual texts, effective/expiry), the approval queue of the duty leader, a warning's page
with its actions (submit, approve and issue, reject, update, cancel), its history and CAP XML (the frozen
alert once issued, a preview while awaiting approval).

Public, no login (``/warnings/``): the current warnings, a warning's page, the CAP alert itself
(``/warnings/<identifier>.xml``, ``application/cap+xml``) and the Atom index of alerts (``/warnings/feed.atom``).

``PermissionDenied`` → 403 and ``DomainError`` → its status, with the message shown; nothing is written then.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from liaocheng.core import access
from liaocheng.core.errors import DomainError
from liaocheng.core.forms import SiteForm, add_domain_error, domain_message, split_bilingual
from liaocheng.core.models import AuditRecord, Department
from liaocheng.core.web import staff_required

from . import cap
from . import warnings as services
from .models import IncidentType, PublicWarning, WarningLevel, WarningStatus

PAGE_SIZE = 30
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]

ACTION_LABELS = {
    services.A_DRAFT: gettext_lazy("起草"), services.A_EDIT: gettext_lazy("修改"),
    services.A_SUBMIT: gettext_lazy("提交审批"), services.A_ISSUE: gettext_lazy("审批发布"),
    services.A_REJECT: gettext_lazy("驳回"), services.A_DRAFT_UPDATE: gettext_lazy("起草更新"),
    services.A_DRAFT_CANCEL: gettext_lazy("起草解除"),
}
MSG_TYPE_LABELS = {"Alert": gettext_lazy("发布"), "Update": gettext_lazy("更新"), "Cancel": gettext_lazy("解除")}
CATEGORY_LABELS = {
    "Geo": gettext_lazy("地质"), "Met": gettext_lazy("气象（含洪涝）"), "Safety": gettext_lazy("安全"),
    "Security": gettext_lazy("治安"), "Rescue": gettext_lazy("救援"), "Fire": gettext_lazy("火灾"),
    "Health": gettext_lazy("卫生"), "Env": gettext_lazy("环境"), "Transport": gettext_lazy("交通"),
    "Infra": gettext_lazy("基础设施"), "CBRNE": gettext_lazy("化学、生物、放射、核与爆炸"),
    "Other": gettext_lazy("其他"),
}
URGENCY_LABELS = {"Immediate": gettext_lazy("立即"), "Expected": gettext_lazy("预计（一小时内）"),
                  "Future": gettext_lazy("近期"), "Past": gettext_lazy("已过去"), "Unknown": gettext_lazy("未知")}
CERTAINTY_LABELS = {"Observed": gettext_lazy("已发生"), "Likely": gettext_lazy("很可能（>50%）"),
                    "Possible": gettext_lazy("可能"), "Unlikely": gettext_lazy("不太可能"),
                    "Unknown": gettext_lazy("未知")}


def _datetime_field(label: Any, required: bool) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=required, input_formats=DATETIME_FORMATS,
                               widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))


class WarningForm(SiteForm):
    """The drafting form: only shapes input; ``warnings`` validates and decides."""

    issuer_department = forms.ChoiceField(label=gettext_lazy("发布单位"))
    incident_type = forms.ChoiceField(label=gettext_lazy("事件分类 (GB/T 35561)"))
    level = forms.ChoiceField(label=gettext_lazy("预警级别"), choices=WarningLevel.choices)
    area_codes = forms.MultipleChoiceField(label=gettext_lazy("预警区域"), widget=forms.CheckboxSelectMultiple,
                                           help_text=gettext_lazy("市或县（市、区），按 GB/T 2260 代码发布。"))
    area_desc = forms.CharField(label=gettext_lazy("区域描述"), max_length=200, required=False,
                                help_text=gettext_lazy("留空则按所选区划名称生成。"))
    event_zh = forms.CharField(label=gettext_lazy("事件名称（中文）"), max_length=100,
                               help_text=gettext_lazy("如：暴雨"))
    event_en = forms.CharField(label=gettext_lazy("事件名称（英文）"), max_length=100,
                               help_text=gettext_lazy("如：Rainstorm"))
    headline_zh = forms.CharField(label=gettext_lazy("标题（中文）"), max_length=200)
    headline_en = forms.CharField(label=gettext_lazy("标题（英文）"), max_length=200)
    description_zh = forms.CharField(label=gettext_lazy("预警内容（中文）"), max_length=services.MAX_DESCRIPTION,
                                     widget=forms.Textarea(attrs={"rows": 4}))
    description_en = forms.CharField(label=gettext_lazy("预警内容（英文）"), max_length=services.MAX_DESCRIPTION,
                                     widget=forms.Textarea(attrs={"rows": 4}))
    instruction_zh = forms.CharField(label=gettext_lazy("防御指南（中文）"), max_length=services.MAX_DESCRIPTION,
                                     required=False, widget=forms.Textarea(attrs={"rows": 3}))
    instruction_en = forms.CharField(label=gettext_lazy("防御指南（英文）"), max_length=services.MAX_DESCRIPTION,
                                     required=False, widget=forms.Textarea(attrs={"rows": 3}))
    effective = _datetime_field(gettext_lazy("生效时间"), required=False)
    expires = _datetime_field(gettext_lazy("失效时间"), required=True)
    cap_category = forms.ChoiceField(label=gettext_lazy("CAP 类别"), required=False)
    urgency = forms.ChoiceField(label=gettext_lazy("紧急程度"))
    certainty = forms.ChoiceField(label=gettext_lazy("确定性"))
    incident = forms.CharField(label=gettext_lazy("关联突发事件编号"), max_length=32, required=False)

    def __init__(self, *args: Any, departments: list[tuple[str, str]] | None = None,
                 areas: list[tuple[str, str]] | None = None, fixed_issuer: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective"].help_text = _("留空则自发布时起生效。北京时间。")
        if fixed_issuer:
            del self.fields["issuer_department"]
        else:
            self._choices("issuer_department", departments or [])
        self._choices("incident_type", [(t.code, f"{t.code} {t.name}")
                                        for t in IncidentType.objects.filter(active=True).order_by("code")])
        self._choices("area_codes", areas or [])
        self._choices("cap_category", [("", _("按事件分类自动确定")),
                                       *((c, f"{c} · {CATEGORY_LABELS[c]}") for c in cap.CATEGORIES)])
        self._choices("urgency", [(u, f"{u} · {URGENCY_LABELS[u]}") for u in cap.URGENCIES])
        self._choices("certainty", [(c, f"{c} · {CERTAINTY_LABELS[c]}") for c in cap.CERTAINTIES])

    def _choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def content(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("issuer_department", None)
        return data


class CancelForm(SiteForm):
    headline_zh = forms.CharField(label=gettext_lazy("标题（中文）"), max_length=200, required=False,
                                  help_text=gettext_lazy("留空则为“解除某某色预警”。"))
    headline_en = forms.CharField(label=gettext_lazy("标题（英文）"), max_length=200, required=False)
    description_zh = forms.CharField(label=gettext_lazy("解除说明（中文）"), max_length=services.MAX_DESCRIPTION,
                                     widget=forms.Textarea(attrs={"rows": 3}))
    description_en = forms.CharField(label=gettext_lazy("解除说明（英文）"), max_length=services.MAX_DESCRIPTION,
                                     widget=forms.Textarea(attrs={"rows": 3}))
    instruction_zh = forms.CharField(label=gettext_lazy("后续提示（中文）"), max_length=services.MAX_DESCRIPTION,
                                     required=False, widget=forms.Textarea(attrs={"rows": 2}))
    instruction_en = forms.CharField(label=gettext_lazy("后续提示（英文）"), max_length=services.MAX_DESCRIPTION,
                                     required=False, widget=forms.Textarea(attrs={"rows": 2}))


# --- helpers -------------------------------------------------------------------------------------------------

def _require_any(user: Any, *perms: str) -> None:
    if not any(access.has_perm(user, p) for p in perms):
        raise PermissionDenied(_("无权访问预警信息"))


def _in_scopes(code: str, scopes: list[str]) -> bool:
    return any(code.startswith(p) for p in scopes)


def _departments(user: Any) -> list[tuple[str, str]]:
    scopes = access.scopes_for(user, "emergency.draft_warning")
    rows = Department.objects.filter(active=True, division_code__startswith="3715").order_by("division_code", "code")
    return [(str(d.pk), d.name) for d in rows if len(d.division_code) == 6 and _in_scopes(d.division_code, scopes)]


def _areas(user: Any, department: Department | None = None) -> list[tuple[str, str]]:
    scopes = access.scopes_for(user, "emergency.draft_warning")
    return [(d.code, f"{d.name} ({d.code})") for d in services.area_choices(department) if _in_scopes(d.code, scopes)]


def _nav(user: Any) -> dict[str, Any]:
    can_issue = access.has_perm(user, "emergency.issue_warning")
    return {"can_draft": access.has_perm(user, "emergency.draft_warning"), "can_issue": can_issue,
            "pending": _approval_queue(user).count() if can_issue else 0}


def _error(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, PermissionDenied):
        return 403, split_bilingual(str(exc)) or _("无权执行该操作")
    assert isinstance(exc, DomainError)
    return exc.status, domain_message(exc)


def _get_or_404(user: Any, pk: int) -> PublicWarning:
    try:
        return services.get_warning(acting_user=user, pk=pk)
    except DomainError as exc:
        raise Http404(domain_message(exc)) from exc


def _initial(warning: PublicWarning) -> dict[str, Any]:
    local = timezone.localtime
    return {
        "incident_type": warning.incident_type.code, "level": warning.level, "area_codes": list(warning.area_codes),
        "area_desc": warning.area_desc, "event_zh": warning.event_zh, "event_en": warning.event_en,
        "headline_zh": warning.headline_zh, "headline_en": warning.headline_en,
        "description_zh": warning.description_zh, "description_en": warning.description_en,
        "instruction_zh": warning.instruction_zh, "instruction_en": warning.instruction_en,
        "effective": local(warning.effective) if warning.effective else None,
        "expires": local(warning.expires) if warning.expires else None, "cap_category": warning.cap_category,
        "urgency": warning.urgency, "certainty": warning.certainty,
        "incident": warning.incident.number if warning.incident_id is not None and warning.incident else "",
    }


def _history(warning: PublicWarning) -> list[dict[str, Any]]:
    rows = AuditRecord.objects.filter(object_type=services.OBJECT_TYPE, object_id=str(warning.pk)).order_by("seq")
    return [{"at": r.at, "actor": r.actor_label, "action": ACTION_LABELS.get(r.action, r.action),
             "reason": (r.after or {}).get("reason", "")} for r in rows]


# --- staff: console, approvals ---------------------------------------------------------------------------------

@staff_required
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_any(user, "emergency.view")
    qs = services.visible_warnings(acting_user=user)
    status = request.GET.get("status", "")
    if status in WarningStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-drafted_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "emergency/warning_console.html", {
        "page": page, "rows": page.object_list, "status": status, "statuses": WarningStatus.choices,
        "query": f"status={status}" if status else "", "active": "console", "msg_types": MSG_TYPE_LABELS,
        **_nav(user),
    })


def _approval_queue(user: Any) -> Any:
    qs = access.filter_by_scope(PublicWarning.objects.select_related("issuer_department", "incident_type"), user,
                                "emergency.issue_warning", "issuer_department__division_code")
    return qs.filter(status=WarningStatus.SUBMITTED)


@staff_required
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    """The duty leader's queue: submitted warnings within their scope, oldest first."""
    user = request.user
    _require_any(user, "emergency.issue_warning")
    rows = list(_approval_queue(user).order_by("drafted_at", "pk"))
    for row in rows:
        row.own = user.pk in services.authors(row)
    return render(request, "emergency/warning_console.html", {
        "rows": rows, "approvals": True, "active": "approvals", "msg_types": MSG_TYPE_LABELS, **_nav(user),
    })


# --- staff: drafting -------------------------------------------------------------------------------------------

def _form_page(request: HttpRequest, form: forms.Form, *, title: str, action: str, warning: PublicWarning | None,
               mode: str, error: str = "", status: int = 200) -> HttpResponse:
    return render(request, "emergency/warning_form.html", {
        "form": form, "title": title, "action": action, "warning": warning, "mode": mode, "error": error,
        "active": "new" if mode == "new" else "console", **_nav(request.user),
    }, status=status)


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_any(user, "emergency.draft_warning")
    departments = _departments(user)
    own = getattr(user, "department_id", None)
    initial: dict[str, Any] = {"urgency": "Expected", "certainty": "Likely"}
    if own is not None and str(own) in {pk for pk, _n in departments}:
        initial["issuer_department"] = str(own)
    kwargs: dict[str, Any] = {"departments": departments, "areas": _areas(user)}
    title, action = _("起草预警信息"), reverse("emergency_warnings:new")
    if request.method == "GET":
        return _form_page(request, WarningForm(initial=initial, **kwargs), title=title, action=action, warning=None,
                          mode="new")
    form = WarningForm(request.POST, **kwargs)
    if not form.is_valid():
        return _form_page(request, form, title=title, action=action, warning=None, mode="new", status=400)
    try:
        warning = services.draft_warning(acting_user=user, issuer_department=form.cleaned_data["issuer_department"],
                                         **form.content())
    except (PermissionDenied, DomainError) as exc:
        status, message = _error(exc)
        if isinstance(exc, DomainError):
            add_domain_error(form, exc)
        return _form_page(request, form, title=title, action=action, warning=None, mode="new", error=message,
                          status=status)
    return redirect("emergency_warnings:detail", pk=warning.pk)


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    warning = _get_or_404(user, pk)
    cancel = warning.msg_type == "Cancel"
    title = _("修改预警信息")
    action = reverse("emergency_warnings:edit", kwargs={"pk": pk})
    form_class: Any = CancelForm if cancel else WarningForm
    kwargs: dict[str, Any] = {} if cancel else {"areas": _areas(user, warning.issuer_department),
                                                 "fixed_issuer": True}
    if request.method == "GET":
        form = form_class(initial=_initial(warning), **kwargs)
        return _form_page(request, form, title=title, action=action, warning=warning, mode="edit")
    form = form_class(request.POST, **kwargs)
    if not form.is_valid():
        return _form_page(request, form, title=title, action=action, warning=warning, mode="edit", status=400)
    try:
        services.edit_draft(acting_user=user, warning=warning,
                            **(dict(form.cleaned_data) if cancel else form.content()))
    except (PermissionDenied, DomainError) as exc:
        status, message = _error(exc)
        if isinstance(exc, DomainError):
            add_domain_error(form, exc)
        return _form_page(request, form, title=title, action=action, warning=warning, mode="edit", error=message,
                          status=status)
    return redirect("emergency_warnings:detail", pk=warning.pk)


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def update(request: HttpRequest, pk: int) -> HttpResponse:
    """Draft an Update of an issued warning (prefilled with its content)."""
    user = request.user
    warning = _get_or_404(user, pk)
    title, action = _("更新预警信息"), reverse("emergency_warnings:update", kwargs={"pk": pk})
    kwargs: dict[str, Any] = {"areas": _areas(user, warning.issuer_department), "fixed_issuer": True}
    if request.method == "GET":
        initial = {**_initial(warning), "effective": None}
        return _form_page(request, WarningForm(initial=initial, **kwargs), title=title, action=action,
                          warning=warning, mode="update")
    form = WarningForm(request.POST, **kwargs)
    if not form.is_valid():
        return _form_page(request, form, title=title, action=action, warning=warning, mode="update", status=400)
    try:
        row = services.update_warning(acting_user=user, warning=warning, **form.content())
    except (PermissionDenied, DomainError) as exc:
        status, message = _error(exc)
        if isinstance(exc, DomainError):
            add_domain_error(form, exc)
        return _form_page(request, form, title=title, action=action, warning=warning, mode="update", error=message,
                          status=status)
    return redirect("emergency_warnings:detail", pk=row.pk)


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Draft the Cancel (解除) of an issued warning."""
    user = request.user
    warning = _get_or_404(user, pk)
    title, action = _("解除预警"), reverse("emergency_warnings:cancel", kwargs={"pk": pk})
    if request.method == "GET":
        return _form_page(request, CancelForm(), title=title, action=action, warning=warning, mode="cancel")
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, title=title, action=action, warning=warning, mode="cancel", status=400)
    try:
        row = services.cancel_warning(acting_user=user, warning=warning, **form.cleaned_data)
    except (PermissionDenied, DomainError) as exc:
        status, message = _error(exc)
        if isinstance(exc, DomainError):
            add_domain_error(form, exc)
        return _form_page(request, form, title=title, action=action, warning=warning, mode="cancel", error=message,
                          status=status)
    return redirect("emergency_warnings:detail", pk=row.pk)


# --- staff: a warning and its actions --------------------------------------------------------------------------

def _detail_context(request: HttpRequest, warning: PublicWarning, **extra: Any) -> dict[str, Any]:
    user = request.user
    division = warning.issuer_department.division_code
    can_draft = access.has_perm(user, "emergency.draft_warning", division)
    can_issue = access.has_perm(user, "emergency.issue_warning", division)
    own = user.pk in services.authors(warning)
    submitted = warning.status == WarningStatus.SUBMITTED
    head = services.is_head(warning)
    preview = ""
    if submitted and can_issue:
        try:
            preview = services.preview_xml(warning)
        except cap.CapError as exc:
            preview = "; ".join(exc.errors)
    followups = PublicWarning.objects.filter(references=warning).select_related("issuer_department") \
        .order_by("drafted_at")
    return {
        **_nav(user), "warning": warning, "active": "console", "msg_types": MSG_TYPE_LABELS,
        "severity": cap.SEVERITY_BY_LEVEL[warning.level],
        "area_names": ", ".join(warning.area_codes), "thread": services.thread(warning), "followups": followups,
        "can_edit": can_draft and warning.status in services.EDITABLE,
        "can_submit": can_draft and warning.status in services.EDITABLE,
        "can_approve": can_issue and submitted and not own, "own": own and submitted and can_issue,
        "can_reject": can_issue and submitted,
        "can_follow_up": can_draft and head,
        "is_current": head and warning.expires is not None and warning.expires > timezone.now(),
        "preview": preview, "history": _history(warning),
        "public_url": reverse("emergency_warnings:public_detail", kwargs={"identifier": warning.identifier})
        if warning.identifier else "",
        "xml_url": reverse("emergency_warnings:public_xml", kwargs={"identifier": warning.identifier})
        if warning.identifier else "",
        **extra,
    }


@staff_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    warning = _get_or_404(request.user, pk)
    return render(request, "emergency/warning_detail.html", _detail_context(request, warning))


@staff_required
@require_POST
def act(request: HttpRequest, pk: int) -> HttpResponse:
    """``action`` = submit | approve | reject (with ``reason``)."""
    user = request.user
    warning = _get_or_404(user, pk)
    action = request.POST.get("action", "")
    try:
        if action == "submit":
            services.submit_warning(acting_user=user, warning=warning)
        elif action == "approve":
            services.approve_and_issue(acting_user=user, warning=warning)
        elif action == "reject":
            services.reject_warning(acting_user=user, warning=warning, reason=request.POST.get("reason", ""))
        else:
            raise Http404
    except (PermissionDenied, DomainError) as exc:
        status, message = _error(exc)
        warning = _get_or_404(user, pk)
        return render(request, "emergency/warning_detail.html", _detail_context(request, warning, error=message),
                      status=status)
    return redirect("emergency_warnings:detail", pk=pk)


# --- public ----------------------------------------------------------------------------------------------------

def _english() -> bool:
    return (get_language() or "").startswith("en")


def _public_headers(response: HttpResponse, max_age: int = 60) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"  # alert hubs and other sites read the alerts and the feed
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def public_list(request: HttpRequest) -> HttpResponse:
    rows = list(services.current_warnings()[:200])
    return render(request, "emergency/warning_public_list.html", {
        "rows": rows, "english": _english(), "now": timezone.now(),
        "feed_url": reverse("emergency_warnings:feed"),
    })


def _issued_or_404(identifier: str) -> PublicWarning:
    try:
        return services.get_issued(identifier)
    except DomainError as exc:
        raise Http404(domain_message(exc)) from exc


@require_GET
def public_detail(request: HttpRequest, identifier: str) -> HttpResponse:
    warning = _issued_or_404(identifier)
    replaced_by = PublicWarning.objects.filter(references=warning, issued_at__isnull=False).first()
    return render(request, "emergency/warning_public_detail.html", {
        "warning": warning, "english": _english(), "current": services.is_current(warning),
        "replaced_by": replaced_by, "severity": cap.SEVERITY_BY_LEVEL[warning.level], "msg_types": MSG_TYPE_LABELS,
        "xml_url": reverse("emergency_warnings:public_xml", kwargs={"identifier": identifier}),
    })


@require_GET
def public_xml(request: HttpRequest, identifier: str) -> HttpResponse:
    """The CAP 1.2 alert exactly as frozen at issue."""
    warning = _issued_or_404(identifier)
    response = HttpResponse(warning.cap_xml.encode("utf-8"), content_type=f"{cap.CAP_MIME}; charset=utf-8")
    return _public_headers(response, max_age=3600)


@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    """Atom index of the CAP alerts (current ones, and for a day after they expired or were cancelled)."""
    english = _english()
    rows = services.feed_warnings()
    entries = []
    for w in rows:
        assert w.identifier is not None and w.issued_at is not None
        xml_url = request.build_absolute_uri(reverse("emergency_warnings:public_xml",
                                                     kwargs={"identifier": w.identifier}))
        html_url = request.build_absolute_uri(reverse("emergency_warnings:public_detail",
                                                      kwargs={"identifier": w.identifier}))
        entries.append(cap.FeedEntry(
            id=xml_url, title=w.headline_en if english else w.headline_zh, updated=w.issued_at,
            published=w.issued_at, cap_url=xml_url, html_url=html_url,
            summary=w.description_en if english else w.description_zh,
            author=services.department_name_en(w.issuer_department) if english else w.issuer_department.name,
            categories=(w.msg_type, w.level, w.incident_type.code),
        ))
    updated = max((w.issued_at for w in rows if w.issued_at), default=None) or timezone.now()
    self_url = request.build_absolute_uri(reverse("emergency_warnings:feed"))
    body = cap.atom_feed(
        feed_id=self_url, self_url=self_url, updated=updated, entries=entries,
        html_url=request.build_absolute_uri(reverse("emergency_warnings:public_list")),
        title="Liaocheng public warnings (CAP 1.2)" if english else "聊城市突发事件预警信息（CAP 1.2）",
        author="Liaocheng Municipal People's Government" if english else "聊城市人民政府",
        lang="en-US" if english else "zh-CN",
    )
    response = HttpResponse(body, content_type=f"{cap.ATOM_MIME}; charset=utf-8")
    response["Vary"] = "Accept-Language, Cookie"
    return _public_headers(response)
