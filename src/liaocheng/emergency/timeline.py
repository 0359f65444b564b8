"""The incident timeline: one helper every emergency service uses to time-stamp what happened.

Called inside the service's own transaction, next to ``core.audit.record``; it never opens one itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from liaocheng.core import audit

from .models import Incident, IncidentEvent

SYSTEM = "system"


def actor_label(user: Any) -> str:
    if user is None or isinstance(user, str):
        return user or SYSTEM
    return getattr(user, "get_full_name", lambda: "")() or getattr(user, "username", "") or str(user)


def record_event(incident: Incident, action: str, *, actor: Any, note: str = "", data: dict[str, Any] | None = None,
                 at: dt.datetime | None = None) -> IncidentEvent:
    """Append one timeline entry (``actor`` a user, a principal or None/"system" for background work)."""
    user = actor if getattr(actor, "pk", None) is not None else None
    return IncidentEvent.objects.create(
        incident=incident, at=at or timezone.now(), actor=user, actor_label=actor_label(actor)[:150],
        action=action, note=note, data=audit._jsonable(data or {}) or {},
    )
