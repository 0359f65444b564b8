"""``{% urban_rights user as urb %}``: which urban-management pages a user may open (main nav)."""

from __future__ import annotations

from typing import Any

from django import template

from liaocheng.core import access

register = template.Library()


@register.simple_tag
def urban_rights(user: Any) -> dict[str, bool]:
    if not access.is_staff_user(user):
        return {"view": False, "report": False, "components": False, "manage_components": False}
    view = access.has_perm(user, "urban.view_cases")
    return {"view": view, "report": access.has_perm(user, "urban.report"),
            "components": view,  # the component census (部件) pages
            "manage_components": access.has_perm(user, "urban.manage_components")}
