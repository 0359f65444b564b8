"""The one write path for core state: every change checks permission, changes state and writes
its audit record in one transaction. Pages, API, CLI and tasks call these functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import access, audit
from .crypto import blind_index, mask_id_number, mask_phone
from .departments import all_departments
from .errors import Conflict, InvalidInput, NotFound, Throttled
from .identity import clean_credit_code, clean_id_number, clean_phone
from .models import (
    CalendarOverride,
    Department,
    LoginFailure,
    Role,
    RoleGrant,
    User,
    UserKind,
    WorkerHeartbeat,
)
from .permissions import BUILTIN_ROLES, CITY_CODE

SYSTEM = "system"
TOTP_ISSUER = "数字聊城"


def _user_snapshot(user: User) -> dict[str, Any]:
    # Personal data appears in the audit trail only masked.
    return {
        "username": user.username,
        "kind": user.kind,
        "real_name": user.real_name,
        "department": user.department.code if user.department_id and user.department else None,
        "id_number": mask_id_number(user.id_number),
        "phone": mask_phone(user.phone),
        "credit_code": user.credit_code,
        "is_active": user.is_active,
        "totp_confirmed": user.totp_confirmed,
    }


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput("密码不符合要求：" + "；".join(exc.messages), "password rejected: " + "; ".join(
            exc.messages), field="password") from exc


def _set_personal_data(user: User, id_number: str = "", phone: str = "") -> None:
    if id_number:
        user.id_number = clean_id_number(id_number)
        user.id_number_bidx = blind_index("id_number", user.id_number)
    if phone:
        user.phone = clean_phone(phone)
        user.phone_bidx = blind_index("phone", user.phone)


def _save_new_user(user: User) -> None:
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict("账号、身份证号或信用代码已被注册", "username, ID number or credit code is already registered",
                       field="username") from exc


# --- registration --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Registered:
    user: User
    warnings: list[str]


def register_citizen(*, username: str, password: str, real_name: str, id_number: str, phone: str) -> Registered:
    """Real-name registration of a citizen (GB 11643 ID number checked)."""
    if not real_name.strip():
        raise InvalidInput("姓名不能为空", "name is required", field="real_name")
    user = User(username=username.strip(), kind=UserKind.CITIZEN, real_name=real_name.strip())
    if not user.username:
        raise InvalidInput("用户名不能为空", "username is required", field="username")
    if not id_number:
        raise InvalidInput("身份证号不能为空", "ID number is required", field="id_number")
    _set_personal_data(user, id_number=id_number, phone=phone)
    _check_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        if User.objects.filter(id_number_bidx=user.id_number_bidx).exists():
            raise Conflict("该身份证号已注册", "this ID number is already registered", field="id_number")
        _save_new_user(user)
        audit.record(actor=user, action="core.register_citizen", object_type="core.User", object_id=user.pk,
                     after=_user_snapshot(user), division_code=user.id_number[:6])
    return Registered(user, [])


def register_enterprise(
    *, username: str, password: str, organisation_name: str, credit_code: str, contact_name: str, phone: str
) -> Registered:
    """Registration of an enterprise account (GB 32100 credit code checked)."""
    if not organisation_name.strip():
        raise InvalidInput("单位名称不能为空", "organisation name is required", field="organisation_name")
    code = clean_credit_code(credit_code)
    user = User(
        username=username.strip(), kind=UserKind.ENTERPRISE, real_name=contact_name.strip(),
        organisation_name=organisation_name.strip(), credit_code=code.code,
    )
    if not user.username:
        raise InvalidInput("用户名不能为空", "username is required", field="username")
    _set_personal_data(user, phone=phone)
    _check_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        if User.objects.filter(credit_code=code.code).exists():
            raise Conflict("该信用代码已注册", "this credit code is already registered", field="credit_code")
        _save_new_user(user)
        audit.record(actor=user, action="core.register_enterprise", object_type="core.User", object_id=user.pk,
                     after=_user_snapshot(user), division_code=code.code[2:8])
    return Registered(user, [code.warning] if code.warning else [])


# --- staff, roles ----------------------------------------------------------------------------------

def ensure_builtin_roles() -> None:
    for code, (name, perms) in BUILTIN_ROLES.items():
        Role.objects.update_or_create(code=code, defaults={"name": name, "permissions": perms})


def create_staff(
    *, acting_user: Any, username: str, password: str, real_name: str, department: Department,
    phone: str = "", id_number: str = "",
) -> User:
    access.require(acting_user, "core.manage_users", department.division_code)
    user = User(username=username.strip(), kind=UserKind.STAFF, real_name=real_name.strip(),
                department=department, is_staff=False)
    _set_personal_data(user, id_number=id_number, phone=phone)
    _check_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        _save_new_user(user)
        audit.record(actor=acting_user, action="core.create_staff", object_type="core.User", object_id=user.pk,
                     after=_user_snapshot(user), division_code=department.division_code)
    return user


def grant_role(*, acting_user: Any, user: User, role_code: str, scope_division: str) -> RoleGrant:
    access.require(acting_user, "core.manage_users", scope_division)
    try:
        role = Role.objects.get(code=role_code)
    except Role.DoesNotExist as exc:
        raise NotFound("角色不存在", "unknown role", field="role") from exc
    if not (scope_division.isdigit() and len(scope_division) in (6, 9, 12)):
        raise InvalidInput("授权范围应为区划代码", "scope must be a division code", field="scope_division")
    # No escalation: one can hand out only rights one holds oneself in that scope.
    missing = [perm for perm in role.permissions if not access.has_perm(acting_user, perm, scope_division)]
    if missing:
        raise PermissionDenied(
            f"不能授予本人在该范围内不具备的权限：{', '.join(missing)} / cannot grant rights you do not hold there"
        )
    with transaction.atomic():
        grant, created = RoleGrant.objects.get_or_create(user=user, role=role, scope_division=scope_division)
        if created:
            audit.record(actor=acting_user, action="core.grant_role", object_type="core.User", object_id=user.pk,
                         after={"role": role_code, "scope_division": scope_division}, division_code=scope_division)
    access.clear_cache(user)
    return grant


# --- login: password + TOTP, throttled -----------------------------------------------------------

def _throttle_check(username: str, ip: str) -> None:
    since = timezone.now() - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    recent = LoginFailure.objects.filter(at__gte=since)
    if (
        recent.filter(username=username).count() >= settings.LOGIN_MAX_FAILURES
        or recent.filter(ip=ip).count() >= settings.LOGIN_MAX_FAILURES * 4
    ):
        minutes = settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
        raise Throttled(
            f"登录失败次数过多，请{minutes}分钟后再试", f"too many failed logins, try again in {minutes} minutes",
            field="username",
        )


def _fail(username: str, ip: str) -> None:
    with transaction.atomic():
        LoginFailure.objects.create(username=username, ip=ip, at=timezone.now())


class LoginError(InvalidInput):
    status = 401
    code = "login_failed"


@dataclass(frozen=True)
class LoginResult:
    user: User
    needs_totp_setup: bool  # staff without a confirmed authenticator must bind one first


def verify_totp(user: User, code: str) -> bool:
    """Check a 6-digit code (±30 s) and refuse a code that was already used."""
    if not user.totp_secret or not code or not code.strip().isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = timezone.now()
    for offset in (0, -1, 1):
        at = now + dt.timedelta(seconds=30 * offset)
        step = int(at.timestamp()) // 30
        if step <= user.totp_last_step:
            continue
        if totp.verify(code.strip(), for_time=at, valid_window=0):
            updated = User.objects.filter(pk=user.pk, totp_last_step__lt=step).update(totp_last_step=step)
            if updated:
                user.totp_last_step = step
                return True
    return False


def authenticate(*, username: str, password: str, totp_code: str = "", ip: str = "") -> LoginResult:
    """Password plus (for staff) TOTP. Failures are counted; too many lock the account for a while."""
    username = username.strip()
    _throttle_check(username, ip)
    user = User.objects.filter(username=username, is_active=True).select_related("department").first()
    if user is None or not user.check_password(password):
        _fail(username, ip)
        raise LoginError("用户名或密码错误", "wrong username or password", field="password")
    if user.kind == UserKind.STAFF:
        if not user.totp_confirmed:
            return LoginResult(user, needs_totp_setup=True)
        if not verify_totp(user, totp_code):
            _fail(username, ip)
            raise LoginError("动态口令错误或已使用", "wrong or reused one-time code", field="totp")
    LoginFailure.objects.filter(username=username).delete()
    return LoginResult(user, needs_totp_setup=False)


def begin_totp_setup(*, acting_user: User) -> str:
    """Give the user a new (unconfirmed) TOTP secret; returns the otpauth:// provisioning URI."""
    if acting_user.totp_confirmed:
        raise Conflict("已绑定动态口令", "an authenticator is already bound", field="totp")
    secret = pyotp.random_base32()
    with transaction.atomic():
        acting_user.totp_secret = secret
        acting_user.save(update_fields=["totp_secret"])
        audit.record(actor=acting_user, action="core.totp_setup_started", object_type="core.User",
                     object_id=acting_user.pk)
    return totp_uri(acting_user)


def totp_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def confirm_totp(*, acting_user: User, code: str) -> None:
    if not verify_totp(acting_user, code):
        raise InvalidInput("动态口令错误", "wrong one-time code", field="totp")
    with transaction.atomic():
        acting_user.totp_confirmed = True
        acting_user.save(update_fields=["totp_confirmed"])
        audit.record(actor=acting_user, action="core.totp_confirmed", object_type="core.User",
                     object_id=acting_user.pk, after={"totp_confirmed": True})


# --- personal data shown to people ---------------------------------------------------------------

def personal_data_for(viewer: Any, user: User) -> dict[str, str]:
    """ID and phone numbers in full for viewers with the right in that division, masked otherwise."""
    division = user.department.division_code if user.department_id and user.department else user.id_number[:6]
    if access.can_see_personal_data(viewer, division or None) or viewer == user:
        return {"id_number": user.id_number, "phone": user.phone}
    return {"id_number": mask_id_number(user.id_number), "phone": mask_phone(user.phone)}


def find_user_by_id_number(*, acting_user: Any, id_number: str) -> User | None:
    access.require(acting_user, "core.view_personal_data")
    return User.objects.filter(id_number_bidx=blind_index("id_number", clean_id_number(id_number))).first()


# --- calendar ----------------------------------------------------------------------------------

def set_calendar_override(*, acting_user: Any, date: dt.date, is_workday: bool, note: str = "") -> CalendarOverride:
    access.require(acting_user, "core.manage_calendar", CITY_CODE)
    with transaction.atomic():
        existing = CalendarOverride.objects.filter(date=date).first()
        before = {"is_workday": existing.is_workday, "note": existing.note} if existing else None
        override, _ = CalendarOverride.objects.update_or_create(
            date=date, defaults={"is_workday": is_workday, "note": note}
        )
        audit.record(actor=acting_user, action="core.calendar_override", object_type="core.CalendarOverride",
                     object_id=date.isoformat(), before=before, after={"is_workday": is_workday, "note": note})
    return override


def remove_calendar_override(*, acting_user: Any, date: dt.date) -> None:
    access.require(acting_user, "core.manage_calendar", CITY_CODE)
    with transaction.atomic():
        existing = CalendarOverride.objects.filter(date=date).first()
        if existing is None:
            raise NotFound("该日期没有调整", "no override for this date", field="date")
        before = {"is_workday": existing.is_workday, "note": existing.note}
        existing.delete()
        audit.record(actor=acting_user, action="core.calendar_override_removed",
                     object_type="core.CalendarOverride", object_id=date.isoformat(), before=before)


# --- worker ------------------------------------------------------------------------------------

def record_heartbeat(name: str) -> None:
    """Liveness of a background worker (not a business state change, so not audited)."""
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


# --- organisation chart ---------------------------------------------------------------------------

def ensure_departments() -> int:
    """Create or update the built-in departments (idempotent). Returns how many were created."""
    created = 0
    with transaction.atomic():
        by_code = {d.code: d for d in Department.objects.all()}
        for spec in all_departments():
            parent = by_code.get(spec.parent_code) if spec.parent_code else None
            dept = by_code.get(spec.code)
            if dept is None:
                dept = Department.objects.create(
                    code=spec.code, name=spec.name, kind=spec.kind, level=spec.level,
                    division_code=spec.division_code, parent=parent,
                )
                by_code[spec.code] = dept
                created += 1
            elif (dept.name, dept.parent_id) != (spec.name, parent.pk if parent else None):
                dept.name, dept.parent = spec.name, parent
                dept.save(update_fields=["name", "parent"])
        if created:
            audit.record(actor=SYSTEM, action="core.ensure_departments", object_type="core.Department",
                         object_id="*", after={"created": created})
    return created


# --- staff accounts: grants, activation, authenticator -----------------------------------------------

def home_division(user: User) -> str:
    """The division that decides who may manage an account: its department's, else the city's."""
    if user.department_id and user.department:
        return user.department.division_code
    return CITY_CODE


def revoke_role(*, acting_user: Any, grant_id: int) -> None:
    """Withdraw one grant. Needs ``core.manage_users`` both for the holder's department and for the
    grant's scope, so that a county administrator cannot withdraw a city-wide grant."""
    grant = RoleGrant.objects.select_related("role", "user", "user__department").filter(pk=grant_id).first()
    if grant is None:
        raise NotFound("授权不存在", "no such grant", field="grant")
    user = grant.user
    access.require(acting_user, "core.manage_users", home_division(user))
    access.require(acting_user, "core.manage_users", grant.scope_division)
    with transaction.atomic():
        deleted, _ = RoleGrant.objects.filter(pk=grant.pk).delete()
        if not deleted:
            raise NotFound("授权不存在", "no such grant", field="grant")
        audit.record(actor=acting_user, action="core.revoke_role", object_type="core.User", object_id=user.pk,
                     before={"role": grant.role.code, "scope_division": grant.scope_division},
                     division_code=grant.scope_division)
    access.clear_cache(user)


def set_user_active(*, acting_user: Any, user: User, active: bool) -> User:
    """Deactivate (the account can no longer sign in; open sessions end) or reactivate an account."""
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        division = home_division(current)
        access.require(acting_user, "core.manage_users", division)
        if not active and getattr(acting_user, "pk", None) == current.pk:
            raise Conflict("不能停用自己的账号", "you cannot deactivate your own account", field="active")
        if current.is_active == active:
            user.is_active = active
            return user
        before = _user_snapshot(current)
        current.is_active = active
        current.save(update_fields=["is_active"])
        audit.record(actor=acting_user, action="core.activate_user" if active else "core.deactivate_user",
                     object_type="core.User", object_id=current.pk, before=before,
                     after=_user_snapshot(current), division_code=division)
    user.is_active = active
    access.clear_cache(user)
    return user


def reset_totp(*, acting_user: Any, user: User) -> User:
    """Unbind a staff member's authenticator: at the next login they must bind a new one."""
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        division = home_division(current)
        access.require(acting_user, "core.manage_users", division)
        if current.kind != UserKind.STAFF:
            raise InvalidInput("只有工作人员账号使用动态口令", "only staff accounts use one-time codes",
                               field="totp")
        if not (current.totp_secret or current.totp_confirmed or current.totp_last_step):
            return user  # nothing bound, nothing to reset: no change, no record
        before = _user_snapshot(current)
        current.totp_secret, current.totp_confirmed, current.totp_last_step = "", False, 0
        current.save(update_fields=["totp_secret", "totp_confirmed", "totp_last_step"])
        audit.record(actor=acting_user, action="core.reset_totp", object_type="core.User", object_id=current.pk,
                     before=before, after=_user_snapshot(current), division_code=division)
    user.totp_secret, user.totp_confirmed, user.totp_last_step = "", False, 0
    return user
