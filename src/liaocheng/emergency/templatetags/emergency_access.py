"""``{% emergency_rights user as em %}``: which emergency pages a user may open (main nav, app nav)."""

from __future__ import annotations

from typing import Any

from django import template

from liaocheng.core import access

register = template.Library()


@register.simple_tag
def emergency_rights(user: Any) -> dict[str, bool]:
    if not access.is_staff_user(user):
        return {"view": False, "take_calls": False}
    return {"view": access.has_perm(user, "emergency.view"),
            "take_calls": access.has_perm(user, "emergency.take_calls")}
