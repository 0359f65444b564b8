"""Staff workbench administration pages (thin adapters over ``core.services``): staff accounts and
their grants, the audit log with chain verification, and the working-day calendar with a deadline
calculator.

Views read (always through the scope filters of ``core.access``), shape input and show results;
every change goes through a service, which checks permission (``PermissionDenied`` propagates to
the 403 page before anything changed) and writes the audit record.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
import json
from typing import Any

import chinese_calendar
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import access, audit, services, views
from .calendar import WorkingCalendar, get_calendar, known_years
from .departments import CITY, COUNTIES
from .errors import DomainError
from .forms import (
    AuditFilterForm,
    CalendarOverrideForm,
    DeadlineForm,
    GrantForm,
    StaffCreateForm,
    add_domain_error,
    domain_message,
    in_active_language,
)
from .models import AuditRecord, CalendarOverride, Department, Role, RoleGrant, User, UserKind
from .permissions import CITY_CODE, PERMISSIONS
from .web import role_label, staff_required

STAFF_PAGE_SIZE = 30
AUDIT_PAGE_SIZE = 50

SCOPES = [CITY, *COUNTIES]
SCOPE_NAMES = dict(SCOPES)

ACTION_LABELS = {
    "core.create_staff": gettext_lazy("新建工作人员账号"),
    "core.grant_role": gettext_lazy("授予角色"),
    "core.revoke_role": gettext_lazy("撤销授权"),
    "core.activate_user": gettext_lazy("启用账号"),
    "core.deactivate_user": gettext_lazy("停用账号"),
    "core.reset_totp": gettext_lazy("重置动态口令"),
    "core.register_citizen": gettext_lazy("市民注册"),
    "core.register_enterprise": gettext_lazy("企业注册"),
    "core.totp_setup_started": gettext_lazy("开始绑定动态口令"),
    "core.totp_confirmed": gettext_lazy("绑定动态口令"),
    "core.calendar_override": gettext_lazy("调整工作日历"),
    "core.calendar_override_removed": gettext_lazy("删除工作日历调整"),
    "core.ensure_departments": gettext_lazy("初始化部门"),
    "core.create_demo_account": gettext_lazy("创建演示账号"),
    "geo.load_city_profile": gettext_lazy("载入城市区划数据"),
    "geo.update_division": gettext_lazy("修改区划"),
    "geo.import_boundary": gettext_lazy("导入区划边界"),
}
PROBLEM_LABELS = {
    "altered": gettext_lazy("记录内容被篡改"),
    "inserted": gettext_lazy("记录被插入或替换"),
    "deleted": gettext_lazy("记录被删除"),
    "truncated": gettext_lazy("链尾被截断"),
}
# chinese-calendar names holidays in English; the calendar page shows them in the active language.
HOLIDAY_LABELS = {
    "New Year's Day": gettext_lazy("元旦"),
    "Spring Festival": gettext_lazy("春节"),
    "Tomb-sweeping Day": gettext_lazy("清明节"),
    "Labour Day": gettext_lazy("劳动节"),
    "Dragon Boat Festival": gettext_lazy("端午节"),
    "National Day": gettext_lazy("国庆节"),
    "Mid-autumn Festival": gettext_lazy("中秋节"),
    "Anti-Fascist 70th Day": gettext_lazy("抗战胜利纪念日"),
}
# The short form shown inside a day of the month grid (the full name is in its title).
HOLIDAY_SHORT = {
    "New Year's Day": pgettext_lazy("calendar cell", "元旦"),
    "Spring Festival": pgettext_lazy("calendar cell", "春节"),
    "Tomb-sweeping Day": pgettext_lazy("calendar cell", "清明"),
    "Labour Day": pgettext_lazy("calendar cell", "劳动"),
    "Dragon Boat Festival": pgettext_lazy("calendar cell", "端午"),
    "National Day": pgettext_lazy("calendar cell", "国庆"),
    "Mid-autumn Festival": pgettext_lazy("calendar cell", "中秋"),
    "Anti-Fascist 70th Day": pgettext_lazy("calendar cell", "抗战"),
}
WEEKDAY_LABELS = [gettext_lazy("一"), gettext_lazy("二"), gettext_lazy("三"), gettext_lazy("四"),
                  gettext_lazy("五"), gettext_lazy("六"), gettext_lazy("日")]
YEAR_RANGE = (2004, 2099)


def _require_somewhere(user: Any, perm: str) -> None:
    """The page needs ``perm`` in some scope (each row is then filtered to the user's scopes)."""
    access.require(user, perm)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _scope_label(code: str) -> str:
    name = SCOPE_NAMES.get(code, "")
    return f"{name} {code}" if name else code


def _covered_scopes(user: Any, perm: str) -> list[tuple[str, str]]:
    """The city and the counties within which ``user`` holds ``perm``."""
    return [(code, f"{code} {name}") for code, name in SCOPES if access.has_perm(user, perm, code)]


# --- the workbench, with tiles for these pages ---------------------------------------------------

@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    """``core.views.workbench`` plus which administration pages the user may open."""
    user = request.user
    request.admin_tiles = {  # type: ignore[attr-defined]
        "staff": access.has_perm(user, "core.manage_users"),
        "audit": access.has_perm(user, "core.view_audit"),
        "calendar": access.is_staff_user(user),
    }
    return views.workbench(request)


# --- staff accounts --------------------------------------------------------------------------------

def _manageable_staff(user: Any) -> QuerySet[User]:
    staff = User.objects.filter(kind=UserKind.STAFF).select_related("department")
    return access.filter_by_scope(staff, user, "core.manage_users", "department__division_code")


def _role_label(role: Role) -> str:
    return role_label(role)


def _grant_rows(viewer: Any, target: User) -> list[dict[str, Any]]:
    rows = []
    for grant in target.grants.select_related("role").order_by("role__code", "scope_division"):
        rows.append({
            "id": grant.pk,
            "role_code": grant.role.code,
            "role_name": _role_label(grant.role),
            "scope": grant.scope_division,
            "scope_name": SCOPE_NAMES.get(grant.scope_division, ""),
            "permissions": [in_active_language(*PERMISSIONS[p]) for p in grant.role.permissions if p in PERMISSIONS],
            "granted_at": grant.granted_at,
            "can_revoke": access.has_perm(viewer, "core.manage_users", grant.scope_division),
        })
    return rows


@staff_required
@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_somewhere(user, "core.manage_users")
    q = request.GET.get("q", "").strip()[:60]
    division = request.GET.get("division", "")
    status = request.GET.get("status", "")
    divisions = _covered_scopes(user, "core.manage_users")
    qs = _manageable_staff(user)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(real_name__icontains=q) | Q(department__name__icontains=q))
    if division in dict(divisions):
        qs = qs.filter(department__division_code=division)
    if status == "active":
        qs = qs.filter(is_active=True)
    elif status == "inactive":
        qs = qs.filter(is_active=False)
    qs = qs.prefetch_related(Prefetch("grants", queryset=RoleGrant.objects.select_related("role")
                                      .order_by("role__code", "scope_division")))
    page = Paginator(qs.order_by("department__division_code", "department__code", "username"),
                     STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for member in page.object_list:
        rows.append({
            "member": member,
            "personal": services.personal_data_for(user, member),
            "grants": [(_role_label(g.role), g.scope_division) for g in member.grants.all()],
        })
    return render(request, "core/staff_list.html", {
        "page": page,
        "rows": rows,
        "q": q,
        "division": division if division in dict(divisions) else "",
        "divisions": divisions,
        "status": status if status in ("active", "inactive") else "",
        "query": _query_without_page(request),
    })


def _department_choices(user: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """Active departments within the user's ``core.manage_users`` scope, grouped by division."""
    departments = access.filter_by_scope(Department.objects.filter(active=True), user, "core.manage_users",
                                         "division_code").order_by("division_code", "level", "code")
    groups: dict[str, list[tuple[str, str]]] = {}
    for dept in departments:
        groups.setdefault(dept.division_code, []).append((dept.code, dept.name))
    return [(_scope_label(code), options) for code, options in groups.items()]


@staff_required
@require_http_methods(["GET", "POST"])
def staff_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_somewhere(user, "core.manage_users")
    choices = _department_choices(user)
    status = 200
    if request.method == "POST":
        form = StaffCreateForm(request.POST, departments=choices)
        if form.is_valid():
            data = form.cleaned_data
            department = Department.objects.filter(code=data["department"], active=True).first()
            if department is None:
                form.add_error("department", _("部门不存在"))
                status = 400
            else:
                try:
                    # The service refuses (403) a department outside the user's scope, before any change.
                    member = services.create_staff(
                        acting_user=user, username=data["username"], password=data["password"],
                        real_name=data["real_name"], department=department, phone=data["phone"],
                        id_number=data["id_number"],
                    )
                except DomainError as exc:
                    add_domain_error(form, exc)
                    status = exc.status
                else:
                    messages.success(request, _(
                        "已创建账号 %(username)s。请将初始密码当面告知本人；首次登录时需绑定身份验证器。"
                    ) % {"username": member.username})
                    return redirect("core:staff_detail", pk=member.pk)
        else:
            status = 400
    else:
        form = StaffCreateForm(departments=choices)
    return render(request, "core/staff_form.html", {"form": form}, status=status)


def _target_staff(request: HttpRequest, pk: int) -> User:
    """The staff account ``pk``, if the user may manage it (403 otherwise, 404 if there is none)."""
    target = get_object_or_404(User.objects.select_related("department"), pk=pk, kind=UserKind.STAFF)
    access.require(request.user, "core.manage_users", services.home_division(target))
    return target


def _grant_form(user: Any, data: Any = None) -> GrantForm:
    roles = [(role.code, f"{_role_label(role)} · {role.code}") for role in Role.objects.order_by("code")]
    return GrantForm(data, roles=roles, scopes=_covered_scopes(user, "core.manage_users"))


@staff_required
@require_http_methods(["GET", "POST"])
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A staff account: facts, grants (grant and revoke), activation and the authenticator."""
    user = request.user
    target = _target_staff(request, pk)
    status = 200
    if request.method == "POST":  # granting a role
        form = _grant_form(user, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.grant_role(acting_user=user, user=target, role_code=data["role"],
                                    scope_division=data["scope_division"])
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("已授予角色。"))
                return redirect("core:staff_detail", pk=target.pk)
        else:
            status = 400
    else:
        form = _grant_form(user)
    context = {
        "account": target,
        "masked": services.personal_data_for(user, target),
        "grants": _grant_rows(user, target),
        "form": form,
        "is_self": target.pk == user.pk,
        "can_view_audit": access.has_perm(user, "core.view_audit"),
    }
    return render(request, "core/staff_detail.html", context, status=status)


def _back_to(target: User) -> HttpResponseRedirect:
    return redirect("core:staff_detail", pk=target.pk)


@staff_required
@require_POST
def staff_revoke(request: HttpRequest, pk: int, grant_id: int) -> HttpResponse:
    target = _target_staff(request, pk)
    if not RoleGrant.objects.filter(pk=grant_id, user=target).exists():
        raise Http404(_("授权不存在"))
    try:
        services.revoke_role(acting_user=request.user, grant_id=grant_id)
    except DomainError as exc:
        messages.error(request, domain_message(exc))
    else:
        messages.success(request, _("已撤销授权。"))
    return _back_to(target)


@staff_required
@require_POST
def staff_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target_staff(request, pk)
    active = request.POST.get("active") == "1"
    try:
        services.set_user_active(acting_user=request.user, user=target, active=active)
    except DomainError as exc:
        messages.error(request, domain_message(exc))
    else:
        messages.success(request, _("账号已启用。") if active else _("账号已停用，该用户不能再登录。"))
    return _back_to(target)


@staff_required
@require_POST
def staff_reset_totp(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target_staff(request, pk)
    try:
        services.reset_totp(acting_user=request.user, user=target)
    except DomainError as exc:
        messages.error(request, domain_message(exc))
    else:
        messages.success(request, _("已重置动态口令。该用户下次登录时须重新绑定身份验证器。"))
    return _back_to(target)


# --- audit log -------------------------------------------------------------------------------------

def visible_audit_records(user: Any) -> QuerySet[AuditRecord]:
    """Audit records within the user's ``core.view_audit`` scope.

    City-scope auditors see every record, including those with no division (platform-wide changes
    such as calendar overrides); county auditors see only records of their county.
    """
    records = AuditRecord.objects.all()
    if access.has_perm(user, "core.view_audit", CITY_CODE):
        return records
    return access.filter_by_scope(records, user, "core.view_audit", "division_code").exclude(division_code="")


def _action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label else action


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, timezone.get_current_timezone())


@staff_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_somewhere(user, "core.view_audit")
    visible = visible_audit_records(user)
    actions = sorted(set(visible.order_by().values_list("action", flat=True).distinct()))
    form = AuditFilterForm(request.GET or None, actions=[(a, f"{_action_label(a)} · {a}") for a in actions])
    records = visible
    status = 200
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            if data["action"]:
                records = records.filter(action=data["action"])
            if data["actor"].strip():
                records = records.filter(actor_label__icontains=data["actor"].strip())
            if data["object_id"].strip():
                records = records.filter(object_id=data["object_id"].strip())
            if data["date_from"]:
                records = records.filter(at__gte=_local_midnight(data["date_from"]))
            if data["date_to"]:
                records = records.filter(at__lt=_local_midnight(data["date_to"] + dt.timedelta(days=1)))
        else:
            records = records.none()
            status = 400
    page = Paginator(records.order_by("-seq"), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"rec": rec, "action_label": _action_label(rec.action)} for rec in page.object_list]
    return render(request, "core/audit_list.html", {
        "form": form,
        "page": page,
        "rows": rows,
        "query": _query_without_page(request),
        "city_scope": access.has_perm(user, "core.view_audit", CITY_CODE),
        "scopes": [_scope_label(code) for code, _name in _covered_scopes(user, "core.view_audit")],
    }, status=status)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def _diff_rows(before: Any, after: Any) -> list[dict[str, Any]]:
    """Field by field, when both sides are objects (or one is missing)."""
    if not isinstance(before, dict | type(None)) or not isinstance(after, dict | type(None)):
        return []
    before, after = before or {}, after or {}
    rows = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        rows.append({
            "key": key,
            "before": "—" if key not in before else json.dumps(old, ensure_ascii=False),
            "after": "—" if key not in after else json.dumps(new, ensure_ascii=False),
            "changed": key not in before or key not in after or old != new,
        })
    return rows


@staff_required
@require_GET
def audit_detail(request: HttpRequest, seq: int) -> HttpResponse:
    _require_somewhere(request.user, "core.view_audit")
    rec = get_object_or_404(visible_audit_records(request.user), seq=seq)
    context = {
        "rec": rec,
        "action_label": _action_label(rec.action),
        "before_json": _json(rec.before) if rec.before is not None else "",
        "after_json": _json(rec.after) if rec.after is not None else "",
        "diff": _diff_rows(rec.before, rec.after),
        "hash_ok": audit.compute_hash(rec.prev_hash, rec) == rec.hash,
    }
    return render(request, "core/audit_detail.html", context)


@staff_required
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Walk the whole chain (read-only, so no audit record) and show the result."""
    _require_somewhere(request.user, "core.view_audit")
    started = timezone.now()
    result = audit.verify()
    visible = visible_audit_records(request.user)
    context = {
        "result": result,
        "problem_label": PROBLEM_LABELS.get(result.problem, result.problem),
        "record_visible": result.seq is not None and visible.filter(seq=result.seq).exists(),
        "verified_at": timezone.now(),
        "seconds": (timezone.now() - started).total_seconds(),
    }
    return render(request, "core/audit_verify.html", context)


# --- working calendar ------------------------------------------------------------------------------

def _year(value: str | None) -> int:
    try:
        year = int(value or "")
    except ValueError:
        return timezone.localdate().year
    return year if YEAR_RANGE[0] <= year <= YEAR_RANGE[1] else timezone.localdate().year


def _holiday_name(day: dt.date) -> str:
    """chinese-calendar's (English) name of the festival ``day`` belongs to, '' if none or unknown."""
    try:
        _on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return ""
    return str(name or "")


def _day_cell(cal: WorkingCalendar, day: dt.date, overrides: dict[dt.date, CalendarOverride]) -> dict[str, Any]:
    override = overrides.get(day)
    working = cal.is_workday(day)
    weekend = day.weekday() >= 5
    # The festival a day belongs to (a make-up working day names the holiday it makes up for).
    festival = "" if override else _holiday_name(day)
    if working:
        kind = "makeup" if weekend else "workday"
    else:
        kind = "weekend" if weekend and not festival and not override else "holiday"
    labels = {"workday": _("工作日"), "makeup": _("调休上班"), "weekend": _("周末"), "holiday": _("休息日")}
    title = str(labels[kind])
    if festival:
        title += f" · {HOLIDAY_LABELS.get(festival, festival)}"
    if override:
        title += " · " + _("调整") + (f": {override.note}" if override.note else "")
    short = str(HOLIDAY_SHORT.get(festival, festival)) if festival and not working else ""
    return {"date": day, "kind": kind, "holiday": short, "override": override, "title": title}


def _months(cal: WorkingCalendar, year: int, overrides: dict[dt.date, CalendarOverride]) -> list[dict[str, Any]]:
    months = []
    for month in range(1, 13):
        weeks = []
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            weeks.append([_day_cell(cal, day, overrides) if day.month == month else None for day in week])
        months.append({"number": month, "first": dt.date(year, month, 1), "weeks": weeks,
                       "overrides": sorted((o for d, o in overrides.items() if d.month == month),
                                           key=lambda o: o.date)})
    return months


def _deadline(cal: WorkingCalendar, form: DeadlineForm) -> dict[str, Any] | None:
    if not form.is_bound or not form.is_valid():
        return None
    data = form.cleaned_data
    start = data["start"]
    try:
        if data["unit"] == DeadlineForm.UNIT_DAYS:
            end = cal.deadline_after_days(start, int(data["amount"]))
        else:
            end = cal.add_working_hours(start, float(data["amount"]))
    except ValueError:
        form.add_error("amount", _("时限过长，超出可计算范围"))
        return None
    return {"start": start, "end": end, "amount": data["amount"], "unit": data["unit"],
            "calendar_days": (end.astimezone(cal.tz).date() - start.astimezone(cal.tz).date()).days}


def _calendar_context(request: HttpRequest, year: int, override_form: CalendarOverrideForm) -> dict[str, Any]:
    cal = get_calendar()
    overrides = {o.date: o for o in CalendarOverride.objects.filter(date__year=year)}
    months = _months(cal, year, overrides)
    cells = [cell for month in months for week in month["weeks"] for cell in week if cell]
    calc_data = request.GET if "calc-start" in request.GET else None
    if calc_data is None:
        now = timezone.localtime().replace(second=0, microsecond=0)
        deadline_form = DeadlineForm(prefix="calc", initial={"start": now, "amount": 5, "unit": "days"})
    else:
        deadline_form = DeadlineForm(calc_data, prefix="calc")
    return {
        "year": year,
        "months": months,
        "weekdays": WEEKDAY_LABELS,
        "known": year in known_years(),
        "overrides": sorted(overrides.values(), key=lambda o: o.date),
        "counts": {kind: sum(1 for c in cells if c["kind"] == kind) for kind in ("workday", "makeup", "holiday")},
        "working_days": sum(1 for c in cells if c["kind"] in ("workday", "makeup")),
        "can_manage": access.has_perm(request.user, "core.manage_calendar", CITY_CODE),
        "override_form": override_form,
        "deadline_form": deadline_form,
        "deadline": _deadline(cal, deadline_form),
        "working_periods": cal.periods,
        "years": range(max(YEAR_RANGE[0], year - 5), min(YEAR_RANGE[1], year + 5) + 1),
    }


@staff_required
@require_GET
def calendar_page(request: HttpRequest) -> HttpResponse:
    year = _year(request.GET.get("year"))
    form = CalendarOverrideForm(initial={"date": dt.date(year, 1, 1), "is_workday": "0"})
    context = _calendar_context(request, year, form)
    status = 400 if context["deadline_form"].is_bound and context["deadline_form"].errors else 200
    return render(request, "core/calendar.html", context, status=status)


def _calendar_url(year: int) -> str:
    return f"{reverse('core:calendar')}?year={year}"


@staff_required
@require_POST
def calendar_override_add(request: HttpRequest) -> HttpResponse:
    form = CalendarOverrideForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.set_calendar_override(acting_user=request.user, date=data["date"],
                                           is_workday=data["is_workday"], note=data["note"].strip())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存 %(date)s 的调整。") % {"date": data["date"].isoformat()})
            return redirect(_calendar_url(data["date"].year))
    elif not access.has_perm(request.user, "core.manage_calendar", CITY_CODE):
        raise PermissionDenied(_("无权维护工作日历"))
    year = form.cleaned_data["date"].year if form.cleaned_data.get("date") else _year(request.POST.get("year"))
    return render(request, "core/calendar.html", _calendar_context(request, year, form), status=400)


@staff_required
@require_POST
def calendar_override_remove(request: HttpRequest, day: str) -> HttpResponse:
    try:
        date = dt.date.fromisoformat(day)
    except ValueError as exc:
        raise Http404(_("日期格式应为 YYYY-MM-DD")) from exc
    try:
        services.remove_calendar_override(acting_user=request.user, date=date)
    except DomainError as exc:
        messages.error(request, domain_message(exc))
    else:
        messages.success(request, _("已删除 %(date)s 的调整。") % {"date": date.isoformat()})
    return redirect(_calendar_url(date.year))
