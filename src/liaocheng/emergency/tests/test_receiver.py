"""The urban hand-off received by the emergency module (``urban.handoff`` → ``emergency.receiver``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from liaocheng.core.models import AuditRecord
from liaocheng.emergency.models import Call, Incident
from liaocheng.emergency.receiver import UrbanCaseReceiver
from liaocheng.urban import handoff, services
from liaocheng.urban.models import EmergencyHandoff
from liaocheng.urban.tests import test_cases
from liaocheng.urban.tests.test_cases import report

urban = test_cases.urban  # the fixture


@pytest.fixture
def receiver() -> Iterator[UrbanCaseReceiver]:
    """The real receiver (as ``EmergencyConfig.ready`` registers it), whatever an earlier test left."""
    previous = handoff.current_receiver()
    real = UrbanCaseReceiver()
    handoff.register_receiver(real)
    yield real
    if previous is None:
        handoff.unregister_receiver()
    else:
        handoff.register_receiver(previous)


def test_the_app_registers_its_receiver() -> None:
    from django.apps import apps

    handoff.unregister_receiver()
    apps.get_app_config("emergency").ready()
    assert isinstance(handoff.current_receiver(), UrbanCaseReceiver)


def test_a_road_collapse_handed_over_becomes_one_incident(urban: dict[str, Any], receiver: UrbanCaseReceiver) -> None:
    case = report(urban, code="E0401", description="人行道塌陷，有行人跌落受伤").case
    services.transition(case, "file", acting_user=urban["intake"])
    services.transition(case, "hand_to_emergency", acting_user=urban["lead"], reason="塌陷处有人受伤，需要120")
    row = EmergencyHandoff.objects.get(case=case)
    assert row.receiver == "liaocheng.emergency"
    incident = Incident.objects.get()
    assert row.reference == incident.number and incident.number.startswith("YJ371522")
    assert incident.incident_type.code == "12P12"  # 城市生命线
    assert (incident.referral_id, incident.urban_case_number) == (f"{case.number}/1", case.number)
    assert (incident.grid_code, incident.county_code, incident.centre_code) == (case.grid_code, "371522", "371522")
    assert (incident.lon, incident.lat) == (case.lon, case.lat)
    assert incident.owning_department is not None and incident.owning_department.code == "371522-housing_construction"
    c = Call.objects.get(incident=incident)
    assert c.line == "urban" and c.taker is None
    assert "人行道塌陷，有行人跌落受伤" in c.narrative and "塌陷处有人受伤，需要120" in c.narrative
    assert case.number in c.narrative
    assert list(incident.events.values_list("action", flat=True)) == ["create", "call"]
    assert AuditRecord.objects.filter(action="emergency.receive_referral", object_id=incident.number).exists()

    # the same referral delivered again (the urban commit failed after delivery): the same incident
    referral = handoff.EmergencyReferral(**{
        **{f.name: row.payload[f.name] for f in dataclasses.fields(handoff.EmergencyReferral)
           if f.name not in ("reported_at", "handed_at")},
        "reported_at": case.reported_at, "handed_at": row.at})
    assert receiver.receive(referral) == incident.number
    assert receiver.receive(referral) == incident.number
    assert Incident.objects.count() == 1 and Call.objects.count() == 1


def test_gas_smell_maps_to_oil_and_gas_and_a_refusal_writes_nothing(urban: dict[str, Any],
                                                                    receiver: UrbanCaseReceiver) -> None:
    case = report(urban, code="E0102", description="垃圾堆旁闻到很浓的燃气味").case
    services.transition(case, "hand_to_emergency", acting_user=urban["intake"], reason="疑似燃气泄漏")
    incident = Incident.objects.get()
    assert incident.incident_type.code == "12P09"
    assert incident.owning_department is not None and incident.owning_department.code == "371522-gas"
    # an unrecognised class falls back to 12Y00
    other = report(urban, code="E0505", description="机动车堵住消防通道").case
    services.transition(other, "hand_to_emergency", acting_user=urban["intake"], reason="影响救援")
    assert Incident.objects.get(urban_case_number=other.number).incident_type.code == "12Y00"
    # a referral without a grid is refused by the receiver: the urban side writes nothing either
    bad = dataclasses.replace(handoff.EmergencyReferral(**{
        **{f.name: EmergencyHandoff.objects.get(case=case).payload[f.name]
           for f in dataclasses.fields(handoff.EmergencyReferral) if f.name not in ("reported_at", "handed_at")},
        "reported_at": case.reported_at, "handed_at": case.reported_at}), referral_id="X/1", grid_code="")
    with pytest.raises(handoff.ReceiverUnavailable):
        receiver.receive(bad)
    assert Incident.objects.count() == 2
