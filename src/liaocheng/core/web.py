"""Helpers shared by the apps' page views (the web layer only; domain code never imports this)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from . import access


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in staff only: anonymous users go to the login page, other accounts get 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access.is_staff_user(request.user):
            raise PermissionDenied(_("仅限工作人员访问"))
        return view(request, *args, **kwargs)

    return wrapper


def role_label(role: Any) -> str:
    """A role's name in the active language (built-in role names are in the translation catalogue)."""
    return gettext(role.name)
