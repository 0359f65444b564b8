"""The registry API as staff use it: lookup by ID number masked or not by right, county scope (403),
residents of a grid on a date, entity lookup and search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from liaocheng.core.departments import department_code
from liaocheng.registry import importers

from .conftest import Place, clerk, entity_code, people_rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(tmp_path: Path, police: Any, shenxian: Place) -> list[list[str]]:
    rows = people_rows(3, place_=shenxian)
    importers.run_import("population", write_csv(tmp_path / "p.csv", rows), acting_user=police)
    return rows


def test_lookup_is_masked_without_personal_data_right(client: Client, staff_factory: Any,
                                                      loaded: list[list[str]]) -> None:
    number = loaded[0][0]
    plain = clerk(staff_factory, "sx_clerk", "371522", "public_security")
    client.force_login(plain)
    data = client.post("/api/registry/persons/lookup", {"id_number": number}, content_type="application/json").json()
    assert data["masked"] is True
    assert data["id_number"] == number[:6] + "********" + number[-4:]
    assert data["phone"] == "138****0000" and data["name"] == "张*"
    assert data["relationship_label"] == "户主" and data["ethnic_label"] == "汉族"
    assert data["residence_address"].endswith("****") and data["lon"] is None and data["lat"] is None

    full = staff_factory("sx_full", department_code=department_code("371522", "public_security"),
                         roles=(("registry_clerk", "371522"), ("data_admin", "371522")))
    client.force_login(full)
    data = client.post("/api/registry/persons/lookup", {"id_number": number}, content_type="application/json").json()
    assert data["masked"] is False and data["id_number"] == number and data["phone"] == "13800000000"
    assert data["name"] == "张三"
    assert "****" not in data["residence_address"]


def test_county_clerk_gets_403_outside_the_county(client: Client, staff_factory: Any,
                                                  loaded: list[list[str]]) -> None:
    gx = clerk(staff_factory, "gx_clerk", "371525", "public_security")
    client.force_login(gx)
    response = client.post("/api/registry/persons/lookup", {"id_number": loaded[0][0]},
                           content_type="application/json")
    assert response.status_code == 403 and response.json()["error"] == "permission_denied"
    assert client.post("/api/registry/persons/history", {"id_number": loaded[0][0]},
                       content_type="application/json").status_code == 403
    # unknown number: 404; malformed: 400 naming the field
    sx = clerk(staff_factory, "sx_clerk2", "371522", "public_security")
    client.force_login(sx)
    response = client.post("/api/registry/persons/lookup", {"id_number": "371522198001010000"},
                           content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "id_number"


def test_anonymous_is_refused(client: Client, loaded: list[list[str]]) -> None:
    response = client.post("/api/registry/persons/lookup", {"id_number": loaded[0][0]},
                           content_type="application/json")
    assert response.status_code == 401


def test_residents_and_history_api(client: Client, police: Any, shenxian: Place, loaded: list[list[str]]) -> None:
    client.force_login(police)
    data = client.get(f"/api/registry/residents?code={shenxian.grid}&date=2025-01-01").json()
    assert data["total"] == 3 and {r["household_number"] for r in data["residents"]} == {r[6] for r in loaded}
    history = client.post("/api/registry/persons/history", {"id_number": loaded[1][0]},
                          content_type="application/json").json()
    assert len(history) == 1 and history[0]["change_kind"] == "created"
    assert client.get("/api/registry/residents?code=371525&date=2025-01-01").status_code == 403


def test_entity_lookup_and_search(client: Client, staff_factory: Any, city_admin: Any, tmp_path: Path) -> None:
    import csv

    codes = [entity_code("91", seed=31), entity_code("92", seed=32), entity_code("91", "371525", seed=33)]
    path = tmp_path / "e.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "名称", "法定代表人", "行业代码"])
        w.writerows([[codes[0], "聊城鑫达机械有限公司", "王大", "C34"], [codes[1], "莘县王记餐饮店", "王二", "62"],
                     [codes[2], "聊城鑫达商贸有限公司", "李三", "51"]])
    assert importers.run_import("entities", path, acting_user=city_admin).status == "completed"
    market = clerk(staff_factory, "sx_market", "371522", "market_regulation")
    client.force_login(market)
    data = client.get(f"/api/registry/entities/{codes[0]}").json()
    assert data["name"] == "聊城鑫达机械有限公司" and data["industry_label"] == "通用设备制造业"
    assert data["legal_representative"] == "王*" and data["entity_type"] == "enterprise"
    assert client.get(f"/api/registry/entities/{codes[2]}").status_code == 403  # a Guanxian entity
    found = client.get("/api/registry/entities?name=聊城鑫达").json()
    assert found["total"] == 1 and found["entities"][0]["credit_code"] == codes[0]
    found = client.get("/api/registry/entities?industry=H").json()
    assert [e["credit_code"] for e in found["entities"]] == [codes[1]]
    client.force_login(city_admin)
    found = client.get("/api/registry/entities?name=聊城鑫达&county=371525").json()
    assert [e["credit_code"] for e in found["entities"]] == [codes[2]]
    assert found["entities"][0]["legal_representative"] == "李三"
