"""The published interface between grid urban management and the emergency module (应急联动).

A case that turns out to be an emergency (a road collapse with people hurt, a smell of gas) is handed
over with ``services.transition(case, "hand_to_emergency", acting_user=..., reason=...)``. The transition
builds an ``EmergencyReferral`` (plain data, no model instances), passes it to the registered
``EmergencyReceiver`` and records the incident reference the receiver returns (``EmergencyHandoff`` row,
case event, audit record) in the same transaction: if the receiver refuses or is unreachable, nothing is
written on our side and the clerk sees why.

The emergency app registers its receiver from its ``AppConfig.ready()``::

    from liaocheng.urban import handoff
    handoff.register_receiver(MyReceiver())

Receivers must be idempotent on ``referral.referral_id`` (the same referral delivered twice creates one
incident), because a delivery can succeed on their side and our commit still fail. Until a receiver is
registered the hand-off is refused with a clear "no emergency receiver" error. No Django signals: the
receiver is an explicit, typed dependency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from liaocheng.core.errors import Conflict
from liaocheng.core.interfaces import ReceiverSlot

__all__ = [
    "EmergencyReceiver",
    "EmergencyReferral",
    "NoReceiver",
    "ReceiverUnavailable",
    "current_receiver",
    "deliver",
    "register_receiver",
    "unregister_receiver",
]


@dataclass(frozen=True)
class EmergencyReferral:
    """What the emergency module receives about an urban case (GCJ-02 coordinates, aware datetimes)."""

    referral_id: str  # stable: "<case number>/<sequence>"; receivers dedupe on it
    case_number: str
    class_code: str  # GB/T 30428 class, e.g. E0401 路面塌陷
    class_name: str
    description: str
    reason: str  # why it is an emergency (injuries, gas smell ...)
    lon: float
    lat: float
    address: str
    grid_code: str
    community_code: str
    township_code: str
    county_code: str
    reported_at: dt.datetime
    handed_at: dt.datetime
    handed_by: str
    photo_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reported_at"] = self.reported_at.isoformat()
        data["handed_at"] = self.handed_at.isoformat()
        return data


@runtime_checkable
class EmergencyReceiver(Protocol):
    """Implemented by the emergency module. ``receive`` returns the incident reference it created (or
    found, for a repeated ``referral_id``) and raises ``ReceiverUnavailable`` when it cannot take it."""

    name: str

    def receive(self, referral: EmergencyReferral) -> str: ...


class NoReceiver(Conflict):
    code = "no_emergency_receiver"

    def __init__(self) -> None:
        super().__init__("应急联动模块未接入，无法移交", "no emergency receiver is registered", field="action")


class ReceiverUnavailable(Conflict):
    """Raised by a receiver that cannot take the referral now (the hand-off is refused, nothing written)."""

    code = "emergency_receiver_unavailable"
    status = 503

    def __init__(self, detail_zh: str = "应急联动模块暂不可用", detail_en: str = "the emergency module is unavailable"):
        super().__init__(detail_zh, detail_en, field="action")


_slot: ReceiverSlot[EmergencyReceiver] = ReceiverSlot(
    EmergencyReceiver, "an EmergencyReceiver needs a name and a receive(referral) method")


def register_receiver(receiver: EmergencyReceiver) -> None:
    """Install the receiver of hand-offs (one per process; a second registration replaces the first)."""
    _slot.register(receiver)


def unregister_receiver() -> None:
    _slot.unregister()


def current_receiver() -> EmergencyReceiver | None:
    return _slot.current()


def deliver(referral: EmergencyReferral) -> tuple[str, str]:
    """Hand ``referral`` to the receiver; returns (receiver name, incident reference)."""
    receiver = _slot.current()
    if receiver is None:
        raise NoReceiver()
    reference = receiver.receive(referral)
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 64:
        raise ReceiverUnavailable("应急联动模块返回的事件编号无效", "the emergency module returned no valid reference")
    return receiver.name[:100], reference.strip()
