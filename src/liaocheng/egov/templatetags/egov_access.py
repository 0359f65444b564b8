"""``{% egov_rights user as eg %}``: which service-hall staff pages a user may open (main nav, workbench)."""

from __future__ import annotations

from typing import Any

from django import template

from liaocheng.core import access
from liaocheng.egov import workflow

register = template.Library()

NONE = {"cases": False, "items": False, "issue": False, "supervise": False, "documents": False,
        "requests": False, "any": False}


@register.simple_tag
def egov_rights(user: Any) -> dict[str, bool]:
    if not access.is_staff_user(user):
        return dict(NONE)
    rights = {
        "cases": bool(workflow.user_queues(user)),
        "items": access.has_perm(user, "egov.manage_items"),
        "issue": access.has_perm(user, "egov.issue"),
        "supervise": access.has_perm(user, "egov.supervise"),
        "documents": access.has_perm(user, "egov.publish_documents"),
        "requests": access.has_perm(user, "egov.answer_requests"),
    }
    rights["any"] = any(rights.values())
    return rights
