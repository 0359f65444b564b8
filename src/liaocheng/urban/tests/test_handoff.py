"""Hand-off of an emergency to the emergency module through the published interface (fake receiver)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import AuditRecord
from liaocheng.urban import handoff, services
from liaocheng.urban.models import CaseEvent, CaseState, EmergencyHandoff

from . import test_cases
from .test_cases import report

urban = test_cases.urban  # the fixture


class FakeEmergencyCentre:
    """Stands in for the emergency module: keeps what it received, dedupes on referral_id."""

    name = "fake-emergency"

    def __init__(self, fail: bool = False) -> None:
        self.received: dict[str, handoff.EmergencyReferral] = {}
        self.fail = fail

    def receive(self, referral: handoff.EmergencyReferral) -> str:
        if self.fail:
            raise handoff.ReceiverUnavailable()
        self.received[referral.referral_id] = referral
        return f"YJ-{len(self.received):04d}"


@pytest.fixture
def centre() -> Iterator[FakeEmergencyCentre]:
    previous = handoff.current_receiver()  # the emergency app's own receiver, restored for later tests
    fake = FakeEmergencyCentre()
    handoff.register_receiver(fake)
    yield fake
    if previous is None:
        handoff.unregister_receiver()
    else:
        handoff.register_receiver(previous)


def test_collapse_with_injuries_is_handed_over_and_recorded(urban: dict[str, Any], centre: FakeEmergencyCentre) -> None:
    case = report(urban, code="E0401", description="人行道塌陷，有行人受伤").case
    services.transition(case, "file", acting_user=urban["intake"])
    case = services.transition(case, "hand_to_emergency", acting_user=urban["lead"],
                               reason="塌陷处有人受伤，需要120和消防")
    assert case.state == CaseState.FILED  # the repair still goes on in the urban cycle
    [referral] = centre.received.values()
    assert referral.case_number == case.number
    assert referral.class_code == "E0401"
    assert referral.reason == "塌陷处有人受伤，需要120和消防"
    assert (referral.lon, referral.lat, referral.grid_code) == (case.lon, case.lat, case.grid_code)
    assert referral.county_code == "371522"
    row = EmergencyHandoff.objects.get(case=case)
    assert (row.receiver, row.reference) == ("fake-emergency", "YJ-0001")
    event = CaseEvent.objects.get(case=case, action="hand_to_emergency")
    assert event.data["reference"] == "YJ-0001"
    assert AuditRecord.objects.filter(action="urban.hand_to_emergency", object_id=str(case.pk)).exists()


def test_refusals_write_nothing(urban: dict[str, Any], centre: FakeEmergencyCentre) -> None:
    case = report(urban, code="E0401").case
    with pytest.raises(InvalidInput) as exc:
        services.transition(case, "hand_to_emergency", acting_user=urban["intake"], reason="  ")
    assert exc.value.field == "reason"
    with pytest.raises(PermissionDenied):  # department staff cannot hand over
        services.transition(case, "hand_to_emergency", acting_user=urban["dept"], reason="燃气泄漏")
    centre.fail = True
    with pytest.raises(handoff.ReceiverUnavailable):
        services.transition(case, "hand_to_emergency", acting_user=urban["intake"], reason="燃气泄漏")
    handoff.unregister_receiver()
    with pytest.raises(handoff.NoReceiver):
        services.transition(case, "hand_to_emergency", acting_user=urban["intake"], reason="燃气泄漏")
    assert not centre.received
    assert not EmergencyHandoff.objects.exists()
    assert not CaseEvent.objects.filter(action="hand_to_emergency").exists()
    assert not AuditRecord.objects.filter(action="urban.hand_to_emergency").exists()


def test_closed_case_cannot_be_handed_over(urban: dict[str, Any], centre: FakeEmergencyCentre) -> None:
    case = report(urban, code="E0401").case
    services.transition(case, "not_file", acting_user=urban["intake"], reason="重复上报")
    with pytest.raises(services.InvalidTransition):
        services.transition(case, "hand_to_emergency", acting_user=urban["intake"], reason="燃气泄漏")


def test_clerk_hands_over_from_the_case_page(urban: dict[str, Any], centre: FakeEmergencyCentre) -> None:
    case = report(urban, code="E0401").case
    client = Client()
    client.force_login(urban["intake"])
    page = client.get(f"/urban/cases/{case.pk}/")
    assert 'data-action="hand_to_emergency"' in page.content.decode()
    resp = client.post(f"/urban/cases/{case.pk}/act/", {"action": "hand_to_emergency", "reason": "闻到燃气味"},
                       follow=True)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "YJ-0001" in html and "闻到燃气味" in html
    handoff.unregister_receiver()
    resp = client.post(f"/urban/cases/{case.pk}/act/", {"action": "hand_to_emergency", "reason": "再次移交"})
    assert resp.status_code == 409
    assert "应急联动模块未接入" in resp.content.decode()
