"""The exchange centre over the real base databases (``registry``'s providers), when they are registered:
population.person (conditional, personal fields) and legal_entity.entity (unconditional, open data)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from liaocheng.core import providers
from liaocheng.core.models import Department
from liaocheng.exchange import services

from .conftest import CONSUMER_DEPT, api_headers

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(providers.get("population.person") is None or providers.get("legal_entity.entity") is None,
                       reason="the registry's providers are not registered"),
]


def test_consumer_reads_the_population_and_entity_registers(client: Client, owner: Any,
                                                            consumer_officer: Any) -> None:
    from liaocheng.registry import services as registry

    registry.ensure_demo_registry(residents=40, entities=10)
    services.sync_catalogue()
    person = services.get_resource("population.person")
    entity = services.get_resource("legal_entity.entity")
    assert person.department.code == "371500-public_security" and person.sharing_class == "conditional"
    assert entity.department.code == "371500-market_regulation" and entity.is_open
    assert "legal_representative" not in entity.open_fields

    system, token = services.create_consumer_system(
        acting_user=consumer_officer, department=Department.objects.get(code=CONSUMER_DEPT), code="rsj-shebao",
        name="社保系统")
    app = services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=person,
                                    fields=["name", "status", "residence_address"], purpose="待遇资格认证",
                                    legal_basis="《社会保险法》")
    services.decide_application(acting_user=owner, application=app, decisions={
        "name": services.FieldDecision(approve=True), "status": services.FieldDecision(approve=True),
        "residence_address": services.FieldDecision(approve=False, reason="不需要")})
    services.apply_for_fields(acting_user=consumer_officer, consumer=system, resource=entity,
                              fields=["name", "status"], purpose="参保单位核验", legal_basis="《社会保险法》")

    _, rows = providers.get("population.person").query(["id_number", "name"], {}, 1, 0)  # type: ignore[union-attr]
    number, name = rows[0]["id_number"], rows[0]["name"]
    response = client.get(f"/exchange/r1/population.person/records/{number}", **api_headers(token, "rsj-shebao"))
    assert response.status_code == 200, response.content
    record = response.json()["record"]
    assert set(record) == {"name", "status"} and record["name"] == name[0] + "*" * (len(name) - 1)
    refused = client.get(f"/exchange/r1/population.person/records/{number}?fields=residence_address",
                         **api_headers(token, "rsj-shebao"))
    assert refused.status_code == 403

    query = client.get("/exchange/r1/legal_entity.entity/records?limit=3", **api_headers(token, "rsj-shebao"))
    assert query.status_code == 200 and query.json()["count"] == 10
    assert all(set(r) == {"name", "status"} for r in query.json()["records"])

    package = client.get("/api/3/action/package_show", {"id": "legal-entity-entity"}).json()["result"]
    assert package["organization"]["name"] == "371500-market_regulation"
    download = client.get("/open/datasets/legal-entity-entity/download.csv")
    table = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8"))))
    assert "legal_representative" not in table[0] and len(table) == 11
