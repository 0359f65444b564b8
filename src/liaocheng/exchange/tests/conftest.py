"""Fixtures of the exchange tests: fake data providers registered through ``core.providers`` (the real
ones live in other apps), the catalogue synchronised from them, and data-sharing officers of an owner
department (公安局) and a consumer department (人社局)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from liaocheng.core import providers
from liaocheng.core.departments import department_code
from liaocheng.core.providers import Change, FieldSpec, ResourceSpec

OWNER_DEPT = department_code("371500", "public_security")
CONSUMER_DEPT = department_code("371500", "human_resources_social_security")
MARKET_DEPT = department_code("371500", "market_regulation")

PEOPLE = ResourceSpec(
    code="test.people", name_zh="测试人口信息", name_en="Test people", description="测试用人口基础信息",
    owner_department_kind="public_security", key_field="id_number",
    fields=(
        FieldSpec("id_number", "身份证号", "ID number", personal="id_number"),
        FieldSpec("name", "姓名", "Name", personal="name"),
        FieldSpec("phone", "手机号", "Phone", personal="phone"),
        FieldSpec("status", "人口状态", "Status"),
        FieldSpec("division", "户籍地区划", "Division"),
    ),
    update_frequency="daily", default_sharing="conditional", open=False, division_field="division",
    tags=("人口",),
)

ENTERPRISES = ResourceSpec(
    code="test.enterprises", name_zh="测试市场主体名录", name_en="Test enterprises",
    description="测试用市场主体登记信息（企业名称、行业、所在区划）",
    owner_department_kind="market_regulation", key_field="credit_code",
    fields=(
        FieldSpec("credit_code", "统一社会信用代码", "Credit code"),
        FieldSpec("name", "名称", "Name"),
        FieldSpec("industry", "行业", "Industry"),
        FieldSpec("division", "所在区划", "Division"),
        FieldSpec("legal_rep", "法定代表人", "Legal representative", personal="name"),
    ),
    update_frequency="daily", default_sharing="unconditional", open=True, tags=("企业", "市场主体"),
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

PEOPLE_RECORDS = {
    "371502199001011234": {"id_number": "371502199001011234", "name": "张三丰", "phone": "13812345678",
                           "status": "正常", "division": "371502"},
    "371522198512120021": {"id_number": "371522198512120021", "name": "李四", "phone": "13900001111",
                           "status": "死亡", "division": "371522"},
    "371525200002020047": {"id_number": "371525200002020047", "name": "王五", "phone": "13700002222",
                           "status": "正常", "division": "371525"},
}
PEOPLE_CHANGES = [
    Change(1, "371502199001011234", "updated", ("phone",), None, T0),
    Change(2, "371522198512120021", "deceased", ("status",), dt.date(2026, 3, 1), T0 + dt.timedelta(hours=1)),
    Change(3, "371525200002020047", "moved_out", ("division", "status"), dt.date(2026, 3, 2),
           T0 + dt.timedelta(hours=2)),
]
ENTERPRISE_RECORDS = {
    f"91371500MA3C{n:06d}": {"credit_code": f"91371500MA3C{n:06d}", "name": f"=聊城测试企业{n}有限公司" if n == 1
                              else f"聊城测试企业{n}有限公司", "industry": "制造业" if n % 2 else "批发和零售业",
                              "division": "371502", "legal_rep": "赵六"}
    for n in range(1, 8)
}


class MemoryProvider:
    """A DataProvider over a dict, as a data owner would implement it."""

    def __init__(self, spec: ResourceSpec, records: Mapping[str, dict[str, Any]],
                 changes: Sequence[Change] = ()) -> None:
        self.spec = spec
        self.records = dict(records)
        self.change_list = list(changes)
        self.gets: list[tuple[str, tuple[str, ...]]] = []

    def get(self, key: str, fields: Sequence[str]) -> dict[str, Any] | None:
        self.gets.append((key, tuple(fields)))
        record = self.records.get(key)
        return None if record is None else {f: record.get(f) for f in fields}

    def query(self, fields: Sequence[str], filters: Mapping[str, str], limit: int, offset: int
              ) -> tuple[int, list[dict[str, Any]]]:
        rows = [r for _, r in sorted(self.records.items()) if all(str(r.get(k)) == v for k, v in filters.items())]
        return len(rows), [{f: r.get(f) for f in fields} for r in rows[offset:offset + limit]]

    def changes(self, after: int, limit: int) -> list[Change]:
        return [c for c in self.change_list if c.seq > after][:limit]


@pytest.fixture
def fake_providers() -> Iterator[dict[str, MemoryProvider]]:
    people = MemoryProvider(PEOPLE, PEOPLE_RECORDS, PEOPLE_CHANGES)
    enterprises = MemoryProvider(ENTERPRISES, ENTERPRISE_RECORDS)
    for p in (people, enterprises):
        providers.register(p)
    yield {"people": people, "enterprises": enterprises}
    for p in (people, enterprises):
        providers.unregister(p.spec.code)


@pytest.fixture
def catalogue(fake_providers: dict[str, MemoryProvider], db: None) -> dict[str, Any]:
    from liaocheng.exchange import services
    from liaocheng.exchange.models import CatalogueResource

    services.sync_catalogue(acting_user=services.SYSTEM)
    return {"people": CatalogueResource.objects.get(code="test.people"),
            "enterprises": CatalogueResource.objects.get(code="test.enterprises")}


@pytest.fixture
def owner(staff_factory: Any) -> Any:
    return staff_factory("gaj_officer", department_code=OWNER_DEPT, roles=(("data_sharing_officer", "371500"),),
                         real_name="公安数据专员")


@pytest.fixture
def consumer_officer(staff_factory: Any) -> Any:
    return staff_factory("rsj_officer", department_code=CONSUMER_DEPT, roles=(("data_sharing_officer", "371500"),),
                         real_name="人社数据专员")


def api_headers(token: str, client: str, user_id: str = "rsj-clerk-007", request_id: str | None = None
                ) -> dict[str, str]:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_X_ROAD_CLIENT": client, "HTTP_X_ROAD_USERID": user_id}
    if request_id:
        headers["HTTP_X_ROAD_ID"] = request_id
    return headers
