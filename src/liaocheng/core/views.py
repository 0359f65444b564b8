"""Core pages (thin adapters over ``core.services``): portal, login with TOTP, registration,
workbench, account page, health.

Views only read, shape input and show results; every change goes through a service, which checks
permission and writes the audit record. ``DomainError`` is shown next to the field it names;
``PermissionDenied`` propagates to Django's 403 page.
"""

from __future__ import annotations

import time
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import access, services
from .departments import CITY, COUNTIES
from .errors import DomainError
from .forms import (
    CitizenRegistrationForm,
    EnterpriseRegistrationForm,
    LoginForm,
    TotpConfirmForm,
    add_domain_error,
    in_active_language,
    split_bilingual,
)
from .models import User, UserKind, WorkerHeartbeat
from .permissions import PERMISSIONS
from .web import role_label

# The half-logged-in state of a staff member who passed the password check but has no authenticator
# yet: only the TOTP setup page accepts it, and only for a few minutes.
PENDING_USER = "liaocheng_pending_totp_user"
PENDING_SINCE = "liaocheng_pending_totp_since"
PENDING_NEXT = "liaocheng_pending_next"
PENDING_MAX_AGE_SECONDS = 10 * 60

SCOPE_NAMES = dict([CITY, *COUNTIES])


def healthz(request: HttpRequest) -> JsonResponse:
    status = 200
    checks: dict[str, object] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
        status = 503
    beat = WorkerHeartbeat.objects.order_by("-at").first() if status == 200 else None
    checks["worker_last_seen_seconds"] = (
        round((timezone.now() - beat.at).total_seconds()) if beat is not None else None
    )
    return JsonResponse({"status": "ok" if status == 200 else "error", **checks}, status=status)


# --- helpers -------------------------------------------------------------------------------------

def _safe_next(request: HttpRequest, value: str | None) -> str:
    """``value`` if it is a local URL that is safe to redirect to, else ''."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def home_url(user: Any) -> str:
    return reverse("core:workbench") if access.is_staff_user(user) else reverse("core:me")


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _clear_pending(request: HttpRequest) -> None:
    for key in (PENDING_USER, PENDING_SINCE, PENDING_NEXT):
        request.session.pop(key, None)


def _pending_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(PENDING_USER)
    since = float(request.session.get(PENDING_SINCE, 0))
    if user_id is None or time.time() - since > PENDING_MAX_AGE_SECONDS:
        _clear_pending(request)
        return None
    return User.objects.filter(pk=user_id, is_active=True, kind=UserKind.STAFF).first()


def _qr_svg(uri: str) -> str:
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#1b2a41", light="#ffffff")


# --- public pages ---------------------------------------------------------------------------------

def portal(request: HttpRequest) -> HttpResponse:
    return render(request, "core/portal.html", {"home_url": home_url(request.user)})


@sensitive_post_parameters("password", "totp")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    status = 200
    if request.method == "POST":
        form = LoginForm(request.POST)
        if form.is_valid():
            try:
                result = services.authenticate(
                    username=form.cleaned_data["username"], password=form.cleaned_data["password"],
                    totp_code=form.cleaned_data["totp"], ip=_client_ip(request),
                )
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                if result.needs_totp_setup:
                    # Not logged in yet: remember who passed the password check, in a fresh session.
                    if request.user.is_authenticated:
                        auth_logout(request)
                    request.session.cycle_key()
                    request.session[PENDING_USER] = result.user.pk
                    request.session[PENDING_SINCE] = time.time()
                    request.session[PENDING_NEXT] = next_url
                    return redirect("core:totp_setup")
                _clear_pending(request)
                auth_login(request, result.user)
                return redirect(next_url or home_url(result.user))
        else:
            status = 400
    else:
        if request.user.is_authenticated:
            return redirect(next_url or home_url(request.user))
        form = LoginForm()
    return render(request, "core/login.html", {"form": form, "next": next_url}, status=status)


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def totp_setup(request: HttpRequest) -> HttpResponse:
    """Binding an authenticator, for a staff member who has passed the password check only."""
    user = _pending_user(request)
    if user is None:
        messages.info(request, _("请先用用户名和密码登录。"))
        return redirect("core:login")
    if user.totp_confirmed:
        _clear_pending(request)
        messages.info(request, _("已绑定动态口令，请登录。"))
        return redirect("core:login")
    status = 200
    if request.method == "POST":
        form = TotpConfirmForm(request.POST)
        if form.is_valid():
            try:
                services.confirm_totp(acting_user=user, code=form.cleaned_data["code"])
            except DomainError as exc:
                add_domain_error(form, exc, {"totp": "code"})
                status = exc.status
            else:
                next_url = _safe_next(request, request.session.get(PENDING_NEXT))
                _clear_pending(request)
                auth_login(request, user)
                messages.success(request, _("动态口令绑定成功。今后登录时请输入身份验证器中的动态口令。"))
                return redirect(next_url or reverse("core:workbench"))
        else:
            status = 400
    else:
        form = TotpConfirmForm()
    # One secret per setup: a reload shows the pending secret again instead of replacing it.
    uri = services.totp_uri(user) if user.totp_secret else services.begin_totp_setup(acting_user=user)
    secret = user.totp_secret
    context = {
        "form": form,
        "pending_user": user,
        "qr_svg": _qr_svg(uri),
        "otpauth_uri": uri,
        "secret_groups": [secret[i:i + 4] for i in range(0, len(secret), 4)],
    }
    return render(request, "core/totp_setup.html", context, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponseRedirect:
    auth_logout(request)
    return redirect("core:portal")


@sensitive_post_parameters("password", "password2", "id_number", "phone")
@require_http_methods(["GET", "POST"])
def register_citizen(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = CitizenRegistrationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                registered = services.register_citizen(
                    username=data["username"], password=data["password"], real_name=data["real_name"],
                    id_number=data["id_number"], phone=data["phone"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                return _registered(request, registered)
        else:
            status = 400
    else:
        form = CitizenRegistrationForm()
    return render(request, "core/register_citizen.html", {"form": form}, status=status)


@sensitive_post_parameters("password", "password2", "phone")
@require_http_methods(["GET", "POST"])
def register_enterprise(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = EnterpriseRegistrationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                registered = services.register_enterprise(
                    username=data["username"], password=data["password"],
                    organisation_name=data["organisation_name"], credit_code=data["credit_code"],
                    contact_name=data["contact_name"], phone=data["phone"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                return _registered(request, registered)
        else:
            status = 400
    else:
        form = EnterpriseRegistrationForm()
    return render(request, "core/register_enterprise.html", {"form": form}, status=status)


def _registered(request: HttpRequest, registered: services.Registered) -> HttpResponseRedirect:
    auth_login(request, registered.user)
    for warning in registered.warnings:
        messages.warning(request, split_bilingual(warning))
    return redirect("core:registered")


@login_required
def registered(request: HttpRequest) -> HttpResponse:
    return render(request, "core/registered.html", {"home_url": home_url(request.user)})


# --- signed-in pages ------------------------------------------------------------------------------

def _account_context(user: User) -> dict[str, Any]:
    # The account page shows the holder's own personal data masked (what an unprivileged viewer
    # sees), so that it is safe on a shared screen; the full values stay behind the API.
    pdata = services.personal_data_for(AnonymousUser(), user)
    return {"account": user, "masked": pdata}


@login_required
def me(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    return render(request, "core/me.html", _account_context(user))


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.is_staff_user(user):
        return redirect("core:me")
    assert isinstance(user, User)
    grants = []
    for grant in user.grants.select_related("role").order_by("role__code", "scope_division"):
        grants.append({
            "role_code": grant.role.code,
            "role_name": role_label(grant.role),
            "scope": grant.scope_division,
            "scope_name": SCOPE_NAMES.get(grant.scope_division, ""),
            "permissions": [
                in_active_language(*PERMISSIONS[p]) for p in grant.role.permissions if p in PERMISSIONS
            ],
            "granted_at": grant.granted_at,
        })
    context = {
        **_account_context(user),
        "grants": grants,
        "can_view_divisions": access.has_perm(user, "geo.view_divisions"),
    }
    return render(request, "core/workbench.html", context)
