"""Central guard functions: every scoped read or write goes through these (tested once, here).

A user's rights are the union of their role grants. Each grant holds within a division scope:
the whole city (371500) or one county (and everything under it). A county clerk therefore sees
only that county's records unless granted wider scope.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from .models import RoleGrant, User
from .permissions import PERMISSIONS, scope_prefix


def _grants(user: Any) -> list[tuple[str, list[str]]]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_liaocheng_grants", None)
    if cached is None:
        cached = [
            (g.scope_division, list(g.role.permissions))
            for g in RoleGrant.objects.filter(user=user).select_related("role")
        ]
        user._liaocheng_grants = cached
    return cached


def clear_cache(user: Any) -> None:
    if hasattr(user, "_liaocheng_grants"):
        del user._liaocheng_grants


def scopes_for(user: Any, perm: str) -> list[str]:
    """Division code prefixes within which ``user`` holds ``perm`` (empty: nowhere)."""
    if perm not in PERMISSIONS:
        raise ValueError(f"unknown permission {perm}")
    if getattr(user, "is_superuser", False) and user.is_active:
        return [""]
    return sorted({scope_prefix(scope) for scope, perms in _grants(user) if perm in perms})


def has_perm(user: Any, perm: str, division_code: str | None = None) -> bool:
    """``division_code=None`` asks whether the user holds ``perm`` anywhere."""
    scopes = scopes_for(user, perm)
    if division_code is None:
        return bool(scopes)
    return any(division_code.startswith(prefix) for prefix in scopes)


def require(user: Any, perm: str, division_code: str | None = None) -> None:
    if not has_perm(user, perm, division_code):
        zh, en = PERMISSIONS[perm]
        where = f"（区划 {division_code}）" if division_code else ""
        raise PermissionDenied(f"无权{zh}{where} / not allowed to {en}" + (f" in {division_code}" if division_code
                                                                           else ""))


def filter_by_scope(queryset: QuerySet[Any], user: Any, perm: str, field: str) -> QuerySet[Any]:
    """Restrict ``queryset`` to rows whose ``field`` (a division code) lies in the user's scope."""
    scopes = scopes_for(user, perm)
    if not scopes:
        return queryset.none()
    if "" in scopes:
        return queryset
    condition = Q()
    for prefix in scopes:
        condition |= Q(**{f"{field}__startswith": prefix})
    return queryset.filter(condition)


def can_see_personal_data(user: Any, division_code: str | None = None) -> bool:
    return has_perm(user, "core.view_personal_data", division_code)


def is_staff_user(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and isinstance(user, User) and user.kind == "staff")
