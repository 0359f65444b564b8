"""``{% registry_rights user as reg %}``: which base-database pages a user may open (main nav, workbench)."""

from __future__ import annotations

from typing import Any

from django import template

from liaocheng.core import access

register = template.Library()


@register.simple_tag
def registry_rights(user: Any) -> dict[str, bool]:
    if not access.is_staff_user(user):
        return {"population": False, "entities": False, "imports": False, "any": False}
    rights = {
        "population": access.has_perm(user, "registry.view_population"),
        "entities": access.has_perm(user, "registry.view_entities"),
        "imports": access.has_perm(user, "registry.import"),
    }
    rights["any"] = rights["population"] or rights["entities"]
    return rights
