"""The exchange write path: catalogue sync and edits, consumer systems, applications, per-field
decisions and grants — permissions and audit records included."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from liaocheng.core.errors import Conflict, InvalidInput
from liaocheng.core.models import AuditRecord, Department
from liaocheng.exchange import services
from liaocheng.exchange.models import (
    ApplicationStatus,
    CatalogueResource,
    ConsumerSystem,
    Decision,
    Grant,
    SharingClass,
)

from .conftest import CONSUMER_DEPT, OWNER_DEPT

pytestmark = pytest.mark.django_db


def _system(user: Any, code: str = "rsj-shebao") -> tuple[ConsumerSystem, str]:
    return services.create_consumer_system(acting_user=user, department=Department.objects.get(code=CONSUMER_DEPT),
                                           code=code, name="社保待遇核查系统")


def test_sync_creates_one_entry_per_provider_owned_by_the_city_department(catalogue: dict[str, Any]) -> None:
    people, enterprises = catalogue["people"], catalogue["enterprises"]
    assert people.department.code == OWNER_DEPT
    assert enterprises.department.code == "371500-market_regulation"
    assert people.fields_offered == ["id_number", "name", "phone", "status", "division"]
    assert people.sharing_class == SharingClass.CONDITIONAL and not people.is_open
    # Unconditional resource: its personal field is conditional; open data takes non-personal fields only.
    assert enterprises.field_sharing == {"legal_rep": SharingClass.CONDITIONAL}
    assert enterprises.is_open and enterprises.open_fields == ["credit_code", "name", "industry", "division"]
    assert enterprises.slug == "test-enterprises" and enterprises.theme == "market"
    assert AuditRecord.objects.filter(action="exchange.catalogue_created").count() >= 2


def test_sync_is_idempotent_and_keeps_department_choices(catalogue: dict[str, Any], owner: Any,
                                                         fake_providers: Any) -> None:
    people = catalogue["people"]
    services.update_resource(acting_user=owner, resource=people, description="经公安局审定", fields_offered=[
        "id_number", "name", "status"])
    audits = AuditRecord.objects.count()
    result = services.sync_catalogue()
    assert result.created == [] and result.updated == []
    assert AuditRecord.objects.count() == audits
    people.refresh_from_db()
    assert people.description == "经公安局审定" and people.fields_offered == ["id_number", "name", "status"]
    assert CatalogueResource.objects.filter(provider_code="test.people").count() == 1


def test_owner_edits_own_entry_but_not_another_departments(catalogue: dict[str, Any], owner: Any,
                                                           consumer_officer: Any) -> None:
    people = catalogue["people"]
    services.update_resource(acting_user=owner, resource=people, sharing_class=SharingClass.UNCONDITIONAL,
                             field_sharing={"phone": SharingClass.NONE}, tags=["人口", "户籍"])
    people.refresh_from_db()
    assert people.field_sharing == {"phone": SharingClass.NONE}
    assert services.effective_sharing(people, "phone") == SharingClass.NONE
    assert services.effective_sharing(people, "status") == SharingClass.UNCONDITIONAL
    record = AuditRecord.objects.filter(action="exchange.update_resource").last()
    assert record is not None and record.after["tags"] == ["人口", "户籍"]
    with pytest.raises(PermissionDenied):
        services.update_resource(acting_user=consumer_officer, resource=people, description="越权")


def test_personal_fields_can_never_be_opened(catalogue: dict[str, Any], owner: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        services.update_resource(acting_user=owner, resource=catalogue["people"], is_open=True,
                                 open_fields=["status", "name"])
    assert exc.value.field == "open_fields" and "name" in exc.value.message_en
    with pytest.raises(InvalidInput):
        services.update_resource(acting_user=owner, resource=catalogue["people"], is_open=True, open_fields=[])
    services.update_resource(acting_user=owner, resource=catalogue["people"], is_open=True, open_fields=["status"])
    assert CatalogueResource.objects.get(code="test.people").is_open


def test_consumer_system_keeps_only_the_token_hash(consumer_officer: Any) -> None:
    system, token = _system(consumer_officer)
    assert token.startswith("lcx_") and len(token) > 40
    assert system.token_hash == services.hash_token(token) and token not in system.token_hash
    stored = ConsumerSystem.objects.values_list("token_hash", "token_hint").get(pk=system.pk)
    assert token not in "".join(stored)
    new = services.rotate_token(acting_user=consumer_officer, system=system)
    assert new != token and ConsumerSystem.objects.get(pk=system.pk).token_hash == services.hash_token(new)
    with pytest.raises(Conflict):
        _system(consumer_officer)  # same code
    with pytest.raises(InvalidInput):
        _system(consumer_officer, code="Bad Code!")
    services.revoke_consumer_system(acting_user=consumer_officer, system=system)
    assert not ConsumerSystem.objects.get(pk=system.pk).active
    assert AuditRecord.objects.filter(action__in=["exchange.create_system", "exchange.rotate_token",
                                                  "exchange.revoke_system"]).count() == 3


def test_staff_cannot_create_systems_for_another_department(owner: Any) -> None:
    with pytest.raises(PermissionDenied):
        _system(owner)


def test_apply_then_owner_approves_some_fields_and_rejects_others(catalogue: dict[str, Any], owner: Any,
                                                                  consumer_officer: Any) -> None:
    people = catalogue["people"]
    system, _ = _system(consumer_officer)
    app = services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=people,
                                    fields=["name", "status", "phone"], want_clear=["name"],
                                    purpose="核查养老金领取人生存状态", legal_basis="《社会保险法》第十六条")
    assert app.status == ApplicationStatus.PENDING
    assert not Grant.objects.exists()
    with pytest.raises(PermissionDenied):  # the applicant's department cannot decide
        services.decide_application(acting_user=consumer_officer, application=app,
                                    decisions={"status": services.FieldDecision(approve=True)})
    with pytest.raises(InvalidInput):  # rejection needs a reason
        services.decide_application(acting_user=owner, application=app,
                                    decisions={"phone": services.FieldDecision(approve=False)})
    app = services.decide_application(acting_user=owner, application=app, decisions={
        "name": services.FieldDecision(approve=True, allow_clear=False),
        "status": services.FieldDecision(approve=True),
        "phone": services.FieldDecision(approve=False, reason="与核查用途无关"),
    })
    assert app.status == ApplicationStatus.PARTIAL
    assert services.active_grants(system, people) == {"name": False, "status": False}
    items = {i.field_name: i for i in app.items.all()}
    assert items["phone"].decision == Decision.REJECTED and items["phone"].reason == "与核查用途无关"
    record = AuditRecord.objects.filter(action="exchange.decide").last()
    assert record is not None and record.after["rejected"] == {"phone": "与核查用途无关"}
    with pytest.raises(Conflict):  # already decided
        services.decide_application(acting_user=owner, application=app,
                                    decisions={"status": services.FieldDecision(approve=True)})
    with pytest.raises(Conflict):  # already granted
        services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=people, fields=["status"],
                                  purpose="再次申请", legal_basis="同上")


def test_not_shared_fields_cannot_be_requested(catalogue: dict[str, Any], owner: Any, consumer_officer: Any) -> None:
    people = catalogue["people"]
    services.update_resource(acting_user=owner, resource=people, field_sharing={"phone": SharingClass.NONE})
    system, _ = _system(consumer_officer)
    with pytest.raises(InvalidInput) as exc:
        services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=people,
                                  fields=["status", "phone"], purpose="核查", legal_basis="依据")
    assert exc.value.field == "fields" and "phone" in exc.value.message_en
    with pytest.raises(InvalidInput):
        services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=people,
                                  fields=["status"], purpose="核查", legal_basis="  ")


def test_unconditional_fields_are_approved_at_once(catalogue: dict[str, Any], consumer_officer: Any) -> None:
    enterprises = catalogue["enterprises"]
    system, _ = _system(consumer_officer)
    app = services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=enterprises,
                                    fields=["credit_code", "name", "legal_rep"], purpose="就业补贴审核",
                                    legal_basis="《就业促进法》")
    # legal_rep is personal, hence conditional: it waits; the others are granted at once.
    assert app.status == ApplicationStatus.PENDING
    assert services.active_grants(system, enterprises) == {"credit_code": False, "name": False}
    auto = {i.field_name for i in app.items.all() if i.auto}
    assert auto == {"credit_code", "name"}


def test_grants_can_be_revoked_by_the_owner_with_a_reason(catalogue: dict[str, Any], owner: Any,
                                                          consumer_officer: Any) -> None:
    people = catalogue["people"]
    system, _ = _system(consumer_officer)
    app = services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=people,
                                    fields=["status"], purpose="核查", legal_basis="依据")
    services.decide_application(acting_user=owner, application=app,
                                decisions={"status": services.FieldDecision(approve=True)})
    grant = Grant.objects.get(consumer=system, field_name="status")
    with pytest.raises(InvalidInput):
        services.revoke_grant(acting_user=owner, grant=grant)
    services.revoke_grant(acting_user=owner, grant=grant, reason="用途已结束")
    assert services.active_grants(system, people) == {}
    with pytest.raises(Conflict):
        services.revoke_grant(acting_user=owner, grant=grant, reason="再次")
    # The field can be applied for again after revocation.
    services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=people, fields=["status"],
                              purpose="核查", legal_basis="依据")


def test_fields_withdrawn_from_the_catalogue_stop_grants_at_once(catalogue: dict[str, Any], owner: Any,
                                                                 consumer_officer: Any) -> None:
    people = catalogue["people"]
    system, _ = _system(consumer_officer)
    app = services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=people,
                                    fields=["status", "division"], purpose="核查", legal_basis="依据")
    services.decide_application(acting_user=owner, application=app, decisions={
        "status": services.FieldDecision(approve=True), "division": services.FieldDecision(approve=True)})
    services.update_resource(acting_user=owner, resource=people, fields_offered=["id_number", "name", "status"])
    people.refresh_from_db()
    assert services.active_grants(system, people) == {"status": False}


def test_county_officer_acts_for_own_county_department_only(catalogue: dict[str, Any], staff_factory: Any) -> None:
    county = staff_factory("shen_rsj", department_code="371522-human_resources_social_security",
                           roles=(("data_sharing_officer", "371522"),))
    system, _ = services.create_consumer_system(
        acting_user=county, department=Department.objects.get(code="371522-human_resources_social_security"),
        code="shenxian-shebao", name="莘县社保")
    assert system.department.division_code == "371522"
    with pytest.raises(PermissionDenied):
        services.create_consumer_system(acting_user=county, department=Department.objects.get(code=CONSUMER_DEPT),
                                        code="city-shebao", name="市社保")
    assert [d.code for d in services.departments_for(county, "exchange.apply")] == [
        "371522-human_resources_social_security"]


def test_sync_catalogue_command_and_staff_json_api(client: Any, fake_providers: Any, consumer_officer: Any,
                                                   capsys: Any) -> None:
    from django.core.management import call_command

    call_command("sync_catalogue")
    assert "+ test.people" in capsys.readouterr().out
    call_command("sync_catalogue")
    assert "created: 0" in capsys.readouterr().out
    client.force_login(consumer_officer)
    listed = client.get("/api/exchange/catalogue", {"q": "测试"}).json()
    assert {r["code"] for r in listed} == {"test.people", "test.enterprises"}
    people = client.get("/api/exchange/catalogue/test.people").json()
    assert people["department"] == OWNER_DEPT and {f["name"] for f in people["fields"]} >= {"status"}
    assert client.get("/api/exchange/catalogue/nope").status_code == 404
