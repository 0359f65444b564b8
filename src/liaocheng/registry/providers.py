"""The base databases as data-exchange resources (``core.providers``): population.person and
legal_entity.entity.

Providers return values in clear and JSON-ready (dates ISO 8601, capital as a decimal string); the
exchange centre applies grants and masks the fields marked personal. ``changes`` reads the outbox
(``ChangeEvent``): an imported batch is one event whose ids expand to one change per record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from liaocheng.core.crypto import blind_index
from liaocheng.core.errors import InvalidInput
from liaocheng.core.providers import Change, DataProvider, FieldSpec, ResourceSpec

from .models import ChangeEvent, LegalEntity, Person
from .services import ENTITY_RESOURCE, PERSON_RESOURCE
from .validation import clean_id

PERSON_SPEC = ResourceSpec(
    code=PERSON_RESOURCE,
    name_zh="人口基础信息",
    name_en="Population base data",
    description="人口基础库：身份证号、姓名、性别、出生日期、民族、户籍、户、居住地与网格、婚姻状况、人口状态。"
                " / Population base database: identity, household registration, residence, marital status, status.",
    owner_department_kind="public_security",
    key_field="id_number",
    fields=(
        FieldSpec("id_number", "公民身份号码", "ID number", personal="id_number"),
        FieldSpec("name", "姓名", "name", personal="name"),
        FieldSpec("sex", "性别", "sex", description="GB/T 2261.1"),
        FieldSpec("birth_date", "出生日期", "birth date"),
        FieldSpec("ethnic", "民族", "ethnic group", description="GB/T 3304"),
        FieldSpec("hukou_division", "户籍地区划代码", "household registration division"),
        FieldSpec("household_number", "户号", "household number"),
        FieldSpec("relationship", "与户主关系", "relationship to the head of household", description="GB/T 4761"),
        FieldSpec("residence_address", "居住地址", "residence address", personal="address"),
        FieldSpec("community_code", "居住社区/村代码", "community of residence"),
        FieldSpec("grid_code", "居住网格编码", "grid of residence"),
        FieldSpec("marital_status", "婚姻状况", "marital status", description="GB/T 2261.2"),
        FieldSpec("status", "人口状态", "status", description="resident / moved_out / deceased"),
        FieldSpec("phone", "联系电话", "phone", personal="phone"),
        FieldSpec("valid_from", "生效日期", "in force since"),
    ),
    update_frequency="realtime",
    default_sharing="conditional",
    open=False,
    division_field="hukou_division",
    tags=("人口", "population", "基础库"),
)

ENTITY_SPEC = ResourceSpec(
    code=ENTITY_RESOURCE,
    name_zh="法人单位基础信息",
    name_en="Legal-entity base data",
    description="法人单位基础库：统一社会信用代码、名称、类型、法定代表人、注册资本、行业、住所、登记状态。"
                " / Legal-entity base database: credit code, name, type, representative, capital, industry, status.",
    owner_department_kind="market_regulation",
    key_field="credit_code",
    fields=(
        FieldSpec("credit_code", "统一社会信用代码", "unified social credit code"),
        FieldSpec("name", "名称", "name"),
        FieldSpec("entity_type", "单位类型", "type"),
        FieldSpec("legal_representative", "法定代表人", "legal representative", personal="name"),
        FieldSpec("registered_capital", "注册资本（万元）", "registered capital (10,000 yuan)"),
        FieldSpec("industry_code", "行业代码", "industry", description="GB/T 4754-2017"),
        FieldSpec("address", "住所", "address"),
        FieldSpec("county_code", "所在县（市、区）", "county"),
        FieldSpec("grid_code", "所在网格", "grid"),
        FieldSpec("status", "登记状态", "status", description="active / revoked / deregistered"),
        FieldSpec("registering_authority", "登记机关", "registering authority"),
        FieldSpec("established_date", "成立日期", "established"),
        FieldSpec("changed_date", "变更日期", "last changed"),
    ),
    update_frequency="realtime",
    default_sharing="unconditional",
    open=True,
    division_field="county_code",
    tags=("法人", "legal entity", "基础库"),
)


def _json(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _check_fields(spec: ResourceSpec, fields: Sequence[str]) -> list[str]:
    names = {f.name for f in spec.fields}
    unknown = [f for f in fields if f not in names]
    if unknown:
        raise InvalidInput(f"未知字段：{unknown[0]}", f"unknown field: {unknown[0]}", field="fields")
    return list(fields)


def _expand(events: Sequence[ChangeEvent], after: int, limit: int) -> list[tuple[ChangeEvent, int, int]]:
    """(event, seq, object id) for seqs > after, oldest first, at most ``limit``."""
    out: list[tuple[ChangeEvent, int, int]] = []
    for ev in events:
        seq = ev.seq_first
        for first, count in ev.object_runs:
            if seq + count - 1 <= after:
                seq += count
                continue
            start = max(0, after + 1 - seq)
            for k in range(start, count):
                out.append((ev, seq + k, first + k))
                if len(out) >= limit:
                    return out
            seq += count
    return out


def _changes(resource: str, after: int, limit: int, keys: Any) -> list[Change]:
    limit = max(1, min(limit, 10_000))
    events = list(ChangeEvent.objects.filter(resource=resource, seq_last__gt=after).order_by("seq_first")[:limit])
    items = _expand(events, after, limit)
    key_of = keys([oid for _, _, oid in items])
    return [Change(seq=seq, key=key_of.get(oid, ""), kind=ev.kind, changed_fields=tuple(ev.changed_fields),
                   effective_date=ev.effective_date, recorded_at=ev.recorded_at) for ev, seq, oid in items]


class PersonProvider:
    spec = PERSON_SPEC
    _filterable = ("id_number", "phone", "hukou_division", "household_number", "community_code", "grid_code",
                   "status", "sex", "ethnic", "marital_status", "name")

    def _row(self, p: Person, fields: Sequence[str]) -> dict[str, Any]:
        return {f: _json(getattr(p, f)) for f in fields}

    def get(self, key: str, fields: Sequence[str]) -> dict[str, Any] | None:
        fields = _check_fields(self.spec, fields)
        try:
            number, _ = clean_id(key)
        except InvalidInput:
            return None
        p = Person.objects.filter(id_number_bidx=blind_index("id_number", number)).first()
        return self._row(p, fields) if p else None

    def query(self, fields: Sequence[str], filters: Mapping[str, str], limit: int, offset: int
              ) -> tuple[int, list[dict[str, Any]]]:
        fields = _check_fields(self.spec, fields)
        qs = Person.objects.all()
        for name, value in filters.items():
            if name not in self._filterable:
                raise InvalidInput(f"不支持按该字段筛选：{name}", f"cannot filter on {name}", field=name)
            if name == "id_number":
                try:
                    value = clean_id(value)[0]
                except InvalidInput:
                    return 0, []
                qs = qs.filter(id_number_bidx=blind_index("id_number", value))
            elif name == "phone":
                qs = qs.filter(phone_bidx=blind_index("phone", value.strip()))
            else:
                qs = qs.filter(**{name: value})
        total = qs.count()
        page = qs.order_by("pk")[offset: offset + max(0, limit)]
        return total, [self._row(p, fields) for p in page]

    def changes(self, after: int, limit: int) -> list[Change]:
        def keys(ids: list[int]) -> dict[int, str]:
            return {p.pk: p.id_number for p in Person.objects.filter(pk__in=ids).only("id", "id_number")}

        return _changes(self.spec.code, after, limit, keys)


class EntityProvider:
    spec = ENTITY_SPEC
    _filterable = ("credit_code", "name", "entity_type", "industry_code", "county_code", "grid_code", "status")

    def _row(self, e: LegalEntity, fields: Sequence[str]) -> dict[str, Any]:
        return {f: _json(getattr(e, f)) for f in fields}

    def get(self, key: str, fields: Sequence[str]) -> dict[str, Any] | None:
        fields = _check_fields(self.spec, fields)
        e = LegalEntity.objects.filter(credit_code=key.strip().upper()).first()
        return self._row(e, fields) if e else None

    def query(self, fields: Sequence[str], filters: Mapping[str, str], limit: int, offset: int
              ) -> tuple[int, list[dict[str, Any]]]:
        fields = _check_fields(self.spec, fields)
        qs = LegalEntity.objects.all()
        for name, value in filters.items():
            if name not in self._filterable:
                raise InvalidInput(f"不支持按该字段筛选：{name}", f"cannot filter on {name}", field=name)
            qs = qs.filter(**{name: value.strip().upper() if name == "credit_code" else value})
        total = qs.count()
        page = qs.order_by("pk")[offset: offset + max(0, limit)]
        return total, [self._row(e, fields) for e in page]

    def changes(self, after: int, limit: int) -> list[Change]:
        def keys(ids: list[int]) -> dict[int, str]:
            return dict(LegalEntity.objects.filter(pk__in=ids).values_list("id", "credit_code"))

        return _changes(self.spec.code, after, limit, keys)


def register_all() -> None:
    from liaocheng.core import providers

    person: DataProvider = PersonProvider()
    entity: DataProvider = EntityProvider()
    providers.register(person)
    providers.register(entity)
