"""Effective-dated history and the authority of source departments, through the services a page or task
would call; the providers and their change feed as the exchange centre reads them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from liaocheng.core import providers
from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import AuditRecord
from liaocheng.registry import importers, services
from liaocheng.registry.models import ChangeEvent, Person, PersonVersion

from .conftest import Place, clerk, entity_code, make_id, people_rows, place, write_csv

pytestmark = pytest.mark.django_db


def _birth(staff_factory: Any, village: Place, number: str, **extra: Any) -> Person:
    health = clerk(staff_factory, "sx_health", "371522", "health")
    data = {"id_number": number, "name": "孙小明", "hukou_division": village.village, "household_number": "H77",
            "relationship": "20", "residence_address": "莘县某村1号", "lon": village.lon, "lat": village.lat, **extra}
    return services.register_birth(acting_user=health, data=data)


def test_history_answers_who_lived_in_a_grid_after_a_move(staff_factory: Any, police: Any, shenxian: Place) -> None:
    number = make_id("20100315", 11)
    person = _birth(staff_factory, shenxian, number)
    assert person.valid_from == dt.date(2010, 3, 15) and person.grid_code == shenxian.grid
    new_home = place("371522", 5)
    assert new_home.grid != shenxian.grid
    services.change_residence(acting_user=police, id_number=number, effective_date=dt.date(2024, 6, 1),
                              residence_address="莘县新地址8号", lon=new_home.lon, lat=new_home.lat)
    # on 2024-05-01 the person lived in the old grid, now in the new one
    total, old = services.residents_at(acting_user=police, code=shenxian.grid, on=dt.date(2024, 5, 1))
    # the police clerk holds no personal-data right: the old address is shown masked
    assert total == 1 and old[0]["residence_address"] == "莘县某****" and old[0]["valid_to"] == dt.date(2024, 6, 1)
    assert services.residents_at(acting_user=police, code=new_home.grid, on=dt.date(2024, 5, 1))[0] == 0
    total, now = services.residents_at(acting_user=police, code=new_home.grid, on=dt.date(2024, 7, 1))
    assert total == 1 and now[0]["grid_code"] == new_home.grid
    assert services.residents_at(acting_user=police, code=shenxian.grid, on=dt.date(2024, 7, 1))[0] == 0
    # before the birth nobody lived there
    assert services.residents_at(acting_user=police, code=shenxian.grid, on=dt.date(2009, 1, 1))[0] == 0
    # the history records who changed what, from which department, effective when
    history = services.person_history(acting_user=police, id_number=number)
    assert [h["change_kind"] for h in history] == ["created", "updated"]
    assert history[1]["source_department"] == "371522-public_security" and history[1]["changed_by"] == "sx_police"
    assert set(history[1]["changed_fields"]) == {"residence_address", "lon", "lat", "grid_code"}
    assert history[0]["source_department"] == "371522-health"
    # a change dated before the current version began is refused
    with pytest.raises(InvalidInput) as exc:
        services.change_residence(acting_user=police, id_number=number, effective_date=dt.date(2024, 1, 1),
                                  residence_address="X", grid_code=shenxian.grid)
    assert exc.value.field == "effective_date"


def test_non_authoritative_department_is_refused(staff_factory: Any, police: Any, shenxian: Place) -> None:
    number = make_id("20150101", 21)
    _birth(staff_factory, shenxian, number)
    civil = clerk(staff_factory, "sx_civil", "371522", "civil_affairs")
    with pytest.raises(services.NotAuthoritative) as exc:
        services.change_residence(acting_user=civil, id_number=number, effective_date=dt.date(2025, 1, 1),
                                  residence_address="别处", grid_code=shenxian.grid)
    assert exc.value.status == 403 and "莘县民政局" in exc.value.message_zh and "公安局" in exc.value.message_zh
    # public security may not record a marriage, civil affairs may
    with pytest.raises(services.NotAuthoritative):
        services.set_marital_status(acting_user=police, id_number=number, marital_status="20",
                                    effective_date=dt.date(2025, 2, 1))
    services.set_marital_status(acting_user=civil, id_number=number, marital_status="已婚",
                                effective_date=dt.date(2025, 2, 1))
    # only health records a death, only public security a move out
    with pytest.raises(services.NotAuthoritative) as exc:
        services.record_death(acting_user=police, id_number=number, date_of_death=dt.date(2025, 3, 1))
    assert "卫生健康" in exc.value.message_zh
    with pytest.raises(services.NotAuthoritative):
        services.register_birth(acting_user=police, data={"id_number": make_id("20200101", 5), "name": "周一",
                                                          "hukou_division": shenxian.village,
                                                          "household_number": "H1", "relationship": "20"})
    p = Person.objects.get()
    assert p.marital_status == "20" and p.version == 2 and PersonVersion.objects.count() == 1


def test_scope_limits_changes(staff_factory: Any, shenxian: Place, guanxian: Place) -> None:
    number = make_id("20160101", 31)
    _birth(staff_factory, shenxian, number)
    gx_police = clerk(staff_factory, "gx_police", "371525", "public_security")
    with pytest.raises(PermissionDenied):
        services.record_move_out(acting_user=gx_police, id_number=number, effective_date=dt.date(2025, 1, 1))


def test_providers_return_only_requested_fields_and_feed_lists_a_death(
        tmp_path: Path, staff_factory: Any, police: Any, shenxian: Place) -> None:
    importers.run_import("population", write_csv(tmp_path / "p.csv", people_rows(3, place_=shenxian)),
                         acting_user=police)
    number = Person.objects.order_by("pk").first().id_number
    person_provider = providers.get("population.person")
    assert person_provider is not None and person_provider.spec.key_field == "id_number"
    assert not person_provider.spec.open and person_provider.spec.default_sharing == "conditional"
    assert person_provider.spec.field("phone").personal == "phone"
    assert person_provider.get(number, ["name", "grid_code"]) == {"name": "张三", "grid_code": shenxian.grid}
    assert person_provider.get(make_id("19990101", 1), ["name"]) is None
    total, page = person_provider.query(["id_number", "status"], {"grid_code": shenxian.grid}, 2, 0)
    assert total == 3 and len(page) == 2 and set(page[0]) == {"id_number", "status"}
    health = clerk(staff_factory, "sx_health2", "371522", "health")
    services.record_death(acting_user=health, id_number=number, date_of_death=dt.date(2026, 5, 4))
    changes = person_provider.changes(0, 100)
    assert [c.seq for c in changes] == [1, 2, 3, 4]
    assert [c.kind for c in changes[:3]] == ["created"] * 3
    death = changes[-1]
    assert (death.kind, death.key, death.changed_fields, death.effective_date) == (
        "deceased", number, ("status",), dt.date(2026, 5, 4))
    assert person_provider.changes(3, 10) == [death]
    # the audit trail keeps the ID number masked
    rec = AuditRecord.objects.filter(action="registry.person_deceased").get()
    assert number not in str(rec.after) and number[:6] in rec.after["id_number"]


def test_entity_provider_and_changes(staff_factory: Any, shenxian: Place) -> None:
    market = clerk(staff_factory, "sx_market", "371522", "market_regulation")
    code = entity_code("91", seed=11)
    services.register_entity(acting_user=market, data={
        "credit_code": code, "name": "莘县测试机械有限公司", "legal_representative": "钱七",
        "registered_capital": "500",
        "industry_code": "34", "address": "莘县工业园1号", "lon": shenxian.lon, "lat": shenxian.lat,
        "established_date": "2020-05-06"})
    provider = providers.get("legal_entity.entity")
    assert provider is not None and provider.spec.open and provider.spec.default_sharing == "unconditional"
    assert provider.spec.field("legal_representative").personal == "name"
    assert provider.get(code, ["name", "industry_code", "registered_capital", "county_code"]) == {
        "name": "莘县测试机械有限公司", "industry_code": "C34", "registered_capital": "500.0000",
        "county_code": "371522"}
    services.set_entity_status(acting_user=market, credit_code=code, status="deregistered",
                               effective_date=dt.date(2026, 1, 2))
    assert [c.kind for c in provider.changes(0, 10)] == ["created", "deregistered"]
    # civil affairs is not the authority for enterprises; the establishment office not either
    civil = clerk(staff_factory, "sx_civil2", "371522", "civil_affairs")
    with pytest.raises(services.NotAuthoritative):
        services.change_entity(acting_user=civil, credit_code=code, changes={"name": "改名"},
                               effective_date=dt.date(2026, 2, 1))
    history = services.entity_history(acting_user=market, credit_code=code)
    assert [h["status"] for h in history] == ["active", "deregistered"]
    assert ChangeEvent.objects.filter(resource="legal_entity.entity").count() == 2


def test_entity_type_is_derived_from_the_code_and_can_be_overridden(staff_factory: Any) -> None:
    office = clerk(staff_factory, "sx_office", "371522", "party_government_office")
    inst = services.register_entity(acting_user=office, data={"credit_code": entity_code("12", seed=21),
                                                              "name": "莘县某中心"})
    assert inst.entity_type == "institution" and inst.entity_type_derived
    gov = services.register_entity(acting_user=office, data={"credit_code": entity_code("12", seed=22),
                                                             "name": "莘县某局", "entity_type": "机关"})
    assert gov.entity_type == "government" and not gov.entity_type_derived
    with pytest.raises(services.NotAuthoritative):
        services.register_entity(acting_user=office, data={"credit_code": entity_code("91", seed=23), "name": "某公司"})


def test_demo_registry_loads_once(settings: Any) -> None:
    first = services.ensure_demo_registry(residents=300, entities=40)
    assert not first["skipped"] and first["residents"] == 300 and first["entities"] == 40
    assert Person.objects.count() == 300
    again = services.ensure_demo_registry(residents=300, entities=40)
    assert again["skipped"] and Person.objects.count() == 300
