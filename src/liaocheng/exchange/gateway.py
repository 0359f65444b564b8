"""The exchange gateway: what a consumer system may read, shaped to its grants.

Called by the X-Road-style HTTP layer (``xroad.py``) for each request; every function fills in the
log ``Entry`` as far as it gets, so that refused requests are logged with what they asked for.
Values leave only for granted fields, masked by personal-data kind unless the grant allows clear
values for that field.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from liaocheng.core import providers
from liaocheng.core.crypto import blind_index, mask_address, mask_id_number, mask_name, mask_phone
from liaocheng.core.errors import DomainError, InvalidInput, NotFound

from . import services
from .chain import Entry
from .models import CatalogueResource, ConsumerSystem, Grant, SharingClass, Subscription

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
RESERVED_PARAMS = {"fields", "limit", "offset"}
OPERATIONS = ["records/{key}", "records", "changes"]


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unavailable(DomainError):
    status = 503
    code = "provider_unavailable"


# --- masking ------------------------------------------------------------------------------------------

def mask_value(kind: str, value: Any) -> Any:
    if value is None or value == "":
        return value
    text = str(value)
    if kind == "id_number":
        return mask_id_number(text)
    if kind == "phone":
        return mask_phone(text)
    if kind == "name":
        return mask_name(text)
    if kind == "address":
        return mask_address(text)
    return "*" * min(len(text), 8)  # a personal kind without its own mask: hide it all


# --- authentication ---------------------------------------------------------------------------------

def authenticate(client_code: str, authorization: str) -> ConsumerSystem:
    """The calling system from ``X-Road-Client`` and ``Authorization: Bearer <token>``."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("缺少访问凭证（Authorization: Bearer）", "missing bearer token", field="Authorization")
    if not client_code:
        raise Unauthorized("缺少 X-Road-Client 请求头", "missing X-Road-Client header", field="X-Road-Client")
    consumer = ConsumerSystem.objects.select_related("department").filter(code=client_code).first()
    expected = consumer.token_hash if consumer is not None else "0" * 64
    ok = hmac.compare_digest(expected, services.hash_token(token.strip()))
    if consumer is None or not ok or not consumer.active:
        raise Unauthorized("接入系统或凭证无效", "unknown client or invalid token", field="Authorization")
    return consumer


# --- helpers -----------------------------------------------------------------------------------------

def _resource(code: str, entry: Entry, resource: CatalogueResource | None = None
              ) -> tuple[CatalogueResource, providers.DataProvider]:
    entry.resource_code = code
    if resource is None:
        resource = CatalogueResource.objects.select_related("department").filter(code=code).first()
    if resource is None or resource.sharing_class == SharingClass.NONE:
        raise NotFound("资源不存在或不予共享", "no such shared resource", field="resource")
    entry.owner_department = resource.department.code
    provider = providers.get(resource.provider_code)
    if provider is None:
        raise Unavailable("数据提供方暂不可用", "the data provider is not available", field="resource")
    return resource, provider


def _access(consumer: ConsumerSystem, code: str, entry: Entry
            ) -> tuple[CatalogueResource, providers.DataProvider, dict[str, bool]]:
    """The resource, its provider and the consumer's grants in force on it (one query when granted)."""
    rows = list(Grant.objects.filter(consumer=consumer, resource__code=code, revoked_at__isnull=True)
                .select_related("resource__department"))
    resource, provider = _resource(code, entry, rows[0].resource if rows else None)
    grants = {g.field_name: g.allow_clear for g in rows
              if services.effective_sharing(resource, g.field_name) != SharingClass.NONE}
    return resource, provider, grants


def _require_grants(grants: Mapping[str, bool]) -> None:
    if not grants:
        raise Forbidden("本系统未获该资源的授权", "this system holds no grant on the resource", field="resource",
                        code="not_granted")


def _split(values: Sequence[str]) -> list[str]:
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part and part not in names:
                names.append(part)
    return names


def _select_fields(requested: Sequence[str], grants: Mapping[str, bool], resource: CatalogueResource,
                   entry: Entry) -> list[str]:
    names = _split(requested)
    entry.fields_requested = names
    if not names:
        return [n for n in resource.fields_offered if n in grants]
    refused = [n for n in names if n not in grants]
    if refused:
        raise Forbidden("请求了未获授权的信息项：" + "、".join(refused),
                        "fields not granted: " + ", ".join(refused), field="fields", code="field_not_granted")
    return names


def _kinds(provider: providers.DataProvider) -> dict[str, str]:
    return {f.name: f.personal for f in provider.spec.fields}


def _shape(record: Mapping[str, Any], fields: Sequence[str], grants: Mapping[str, bool],
           kinds: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = record.get(name)
        kind = kinds.get(name, "")
        out[name] = mask_value(kind, value) if kind and not grants.get(name) else value
    return out


def _masked(fields: Sequence[str], grants: Mapping[str, bool], kinds: Mapping[str, str]) -> list[str]:
    return [n for n in fields if kinds.get(n) and not grants.get(n)]


def _log_key(provider: providers.DataProvider, key: str, entry: Entry) -> None:
    kind = _kinds(provider).get(provider.spec.key_field, "")
    entry.record_key = mask_value(kind, key) if kind else key
    entry.record_key_index = blind_index("exchange_key", key) if key else ""


def _last(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _int_param(value: str | None, default: int, name: str, maximum: int | None = None) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise InvalidInput(f"参数 {name} 应为整数", f"parameter {name} must be an integer", field=name) from exc
    if number < 0:
        raise InvalidInput(f"参数 {name} 不能为负数", f"parameter {name} must not be negative", field=name)
    return min(number, maximum) if maximum is not None else number


# --- reads -------------------------------------------------------------------------------------------

def read_record(consumer: ConsumerSystem, resource_code: str, key: str, fields: Sequence[str],
                entry: Entry) -> dict[str, Any]:
    resource, provider, grants = _access(consumer, resource_code, entry)
    _log_key(provider, key, entry)
    _require_grants(grants)
    names = _select_fields(fields, grants, resource, entry)
    record = provider.get(key, names)
    if record is None:
        raise NotFound("没有该记录", "no such record", field="key", code="record_not_found")
    kinds = _kinds(provider)
    entry.fields_returned, entry.record_count = names, 1
    return {"resource": resource.code, "key": key, "fields": names, "masked": _masked(names, grants, kinds),
            "record": _shape(record, names, grants, kinds)}


def query_records(consumer: ConsumerSystem, resource_code: str, params: Mapping[str, list[str]],
                  entry: Entry) -> dict[str, Any]:
    resource, provider, grants = _access(consumer, resource_code, entry)
    kinds = _kinds(provider)
    filters = {k: v[-1] for k, v in params.items() if k not in RESERVED_PARAMS and v}
    entry.filters = {k: (mask_value(kinds[k], v) if kinds.get(k) else v) for k, v in filters.items()}
    _require_grants(grants)
    names = _select_fields(params.get("fields", []), grants, resource, entry)
    refused = [k for k in filters if k not in grants]
    if refused:
        raise Forbidden("不能按未获授权的信息项查询：" + "、".join(refused),
                        "filtering on fields not granted: " + ", ".join(refused), field="filters",
                        code="field_not_granted")
    limit = _int_param(_last(params, "limit"), DEFAULT_LIMIT, "limit", MAX_LIMIT)
    offset = _int_param(_last(params, "offset"), 0, "offset")
    total, rows = provider.query(names, filters, limit, offset)
    entry.fields_returned, entry.record_count = names, len(rows)
    return {"resource": resource.code, "count": total, "limit": limit, "offset": offset, "fields": names,
            "masked": _masked(names, grants, kinds), "records": [_shape(r, names, grants, kinds) for r in rows]}


def change_feed(consumer: ConsumerSystem, resource_code: str, params: Mapping[str, list[str]],
                entry: Entry) -> tuple[dict[str, Any], Subscription, int]:
    """Changes after the cursor: kind, granted changed fields and the record's granted fields (masked)."""
    resource, provider, grants = _access(consumer, resource_code, entry)
    _require_grants(grants)
    subscription = Subscription.objects.filter(consumer=consumer, resource=resource, active=True).first()
    if subscription is None:
        raise Forbidden("本系统未订阅该资源", "this system has not subscribed to the resource", field="resource",
                        code="not_subscribed")
    after = _int_param(_last(params, "after"), subscription.cursor, "after")
    limit = _int_param(_last(params, "limit"), 100, "limit", MAX_LIMIT)
    entry.filters = {"after": str(after), "limit": str(limit)}
    kinds = _kinds(provider)
    names = [n for n in resource.fields_offered if n in grants]
    key_kind = kinds.get(provider.spec.key_field, "")
    key_clear = not key_kind or grants.get(provider.spec.key_field, False)
    changes = provider.changes(after, limit)
    items: list[dict[str, Any]] = []
    for change in changes:
        changed = [f for f in change.changed_fields if f in grants]
        if change.changed_fields and not changed:
            continue
        record = provider.get(change.key, names)
        items.append({
            "seq": change.seq,
            "key": change.key if key_clear else mask_value(key_kind, change.key),
            "kind": change.kind,
            "changed_fields": changed,
            "effective_date": change.effective_date.isoformat() if change.effective_date else None,
            "recorded_at": change.recorded_at.isoformat(),
            "record": _shape(record, names, grants, kinds) if record is not None else None,
        })
    cursor = changes[-1].seq if changes else after
    entry.fields_returned, entry.record_count = names, len(items)
    return ({"resource": resource.code, "after": after, "next": cursor, "more": len(changes) >= limit,
             "fields": names, "masked": _masked(names, grants, kinds), "changes": items}, subscription, cursor)


# --- service discovery --------------------------------------------------------------------------------

def list_providers() -> dict[str, Any]:
    counts: dict[str, dict[str, Any]] = {}
    for resource in services.shared_catalogue().order_by("department__code", "code"):
        dept = resource.department
        item = counts.setdefault(dept.code, {"code": dept.code, "name": dept.name, "services": 0})
        item["services"] += 1
    return {"providers": list(counts.values())}


def _service(resource: CatalogueResource) -> dict[str, Any]:
    provider = providers.get(resource.provider_code)
    return {
        "code": resource.code,
        "name": resource.name,
        "name_en": resource.name_en,
        "description": resource.description,
        "provider": resource.department.code,
        "update_frequency": resource.update_frequency,
        "sharing_class": resource.sharing_class,
        "key_field": provider.spec.key_field if provider else None,
        "available": provider is not None,
        "operations": OPERATIONS,
        "fields": [
            {"name": f.name, "label_zh": f.label_zh, "label_en": f.label_en, "personal": f.personal or None,
             "sharing_class": f.sharing_class}
            for f in services.resource_fields(resource) if f.offered and f.sharing_class != SharingClass.NONE
        ],
    }


def list_services(provider_code: str | None) -> dict[str, Any]:
    qs = services.shared_catalogue().order_by("code")
    if provider_code:
        qs = qs.filter(department__code=provider_code)
        if not qs.exists():
            raise NotFound("没有该提供方的共享资源", "no shared resources for this provider", field="provider")
    return {"provider": provider_code or None, "services": [_service(r) for r in qs]}


def allowed_services(consumer: ConsumerSystem) -> dict[str, Any]:
    subscribed = set(Subscription.objects.filter(consumer=consumer, active=True).values_list("resource_id", flat=True))
    by_resource: dict[int, CatalogueResource] = {}
    for grant in consumer.grants.filter(revoked_at__isnull=True).select_related("resource__department"):
        by_resource.setdefault(grant.resource_id, grant.resource)
    services_out = []
    for resource in sorted(by_resource.values(), key=lambda r: r.code):
        grants = services.active_grants(consumer, resource)
        if not grants:
            continue
        services_out.append({
            "code": resource.code, "name": resource.name, "provider": resource.department.code,
            "fields": [{"name": n, "clear": grants[n]} for n in resource.fields_offered if n in grants],
            "subscribed": resource.pk in subscribed,
        })
    return {"client": consumer.code, "services": services_out}
