"""``{% emergency_rights user as em %}``: which emergency pages a user may open (main nav, app nav)."""

from __future__ import annotations

from typing import Any

from django import template

from liaocheng.core import access

register = template.Library()


@register.simple_tag
def emergency_rights(user: Any) -> dict[str, bool]:
    perms = ("view", "take_calls", "dispatch", "update_units", "manage_resources", "view_metrics")
    if not access.is_staff_user(user):
        return dict.fromkeys(perms, False)
    return {p: access.has_perm(user, f"emergency.{p}") for p in perms}
