"""The one write path of the data-exchange centre.

Every state change is a function here taking ``acting_user=``: it checks permission through
``core.access`` (division-scoped, and on behalf of the user's own department unless the user holds
``exchange.administer``), changes state and writes the audit record in one transaction.

Data owners are reached only through ``core.providers``: the catalogue is synchronised from the
registered ``ResourceSpec``s, and field names, labels and personal-data kinds come from them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from liaocheng.core import access, audit, providers
from liaocheng.core.crypto import sm3_hex
from liaocheng.core.departments import department_code
from liaocheng.core.errors import Conflict, InvalidInput, NotFound
from liaocheng.core.models import Department, User
from liaocheng.core.permissions import CITY_CODE

from .models import (
    Application,
    ApplicationField,
    ApplicationStatus,
    CatalogueResource,
    ConsumerSystem,
    Decision,
    Grant,
    SharingClass,
    Subscription,
    Theme,
    UpdateFrequency,
)

SYSTEM = "system"
TOKEN_PREFIX = "lcx_"  # noqa: S105 (a marker that makes leaked tokens easy to scan for, not a secret)
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
TAG_MAX = 20
TAG_LEN = 30
TEXT_MAX = 2000

# Default open-data theme of a new entry, by the owner department's kind (editable afterwards).
THEME_BY_KIND = {
    "public_security": Theme.PUBLIC_SAFETY, "traffic_police": Theme.TRANSPORT, "fire_rescue": Theme.PUBLIC_SAFETY,
    "health": Theme.HEALTH, "emergency_medical": Theme.HEALTH, "urban_management": Theme.HOUSING,
    "housing_construction": Theme.HOUSING, "water": Theme.ENVIRONMENT, "power": Theme.ECONOMY,
    "gas": Theme.HOUSING, "market_regulation": Theme.MARKET, "tax": Theme.FINANCE,
    "human_resources_social_security": Theme.SOCIAL_SECURITY, "civil_affairs": Theme.SOCIETY,
    "agriculture_rural": Theme.AGRICULTURE, "culture_tourism": Theme.CULTURE, "big_data": Theme.GOVERNMENT,
    "development_reform": Theme.ECONOMY, "emergency_management": Theme.PUBLIC_SAFETY,
    "ecology_environment": Theme.ENVIRONMENT, "natural_resources": Theme.ENVIRONMENT,
    "statistics": Theme.ECONOMY, "housing_provident_fund": Theme.FINANCE,
    "administrative_approval": Theme.GOVERNMENT, "hotline_12345": Theme.SOCIETY,
    "education_sports": Theme.EDUCATION, "transport": Theme.TRANSPORT,
    "party_government_office": Theme.GOVERNMENT,
}


# --- permission helpers ------------------------------------------------------------------------------

def _is_user(actor: Any) -> bool:
    return isinstance(actor, User)


def can_act_for(user: Any, perm: str, department: Department) -> bool:
    """``perm`` within the department's division, for one's own department (or as an administrator)."""
    if not access.has_perm(user, perm, department.division_code):
        return False
    if getattr(user, "is_superuser", False) or access.has_perm(user, "exchange.administer", CITY_CODE):
        return True
    return getattr(user, "department_id", None) == department.pk


def require_for(user: Any, perm: str, department: Department) -> None:
    access.require(user, perm, department.division_code)
    if not can_act_for(user, perm, department):
        raise PermissionDenied(
            f"只能代表本部门（{getattr(getattr(user, 'department', None), 'name', '—')}）办理 / "
            "you may act only for your own department"
        )


def departments_for(user: Any, perm: str) -> QuerySet[Department]:
    """The departments ``user`` may act for with ``perm``."""
    qs = Department.objects.filter(active=True)
    if not access.has_perm(user, perm):
        return qs.none()
    if getattr(user, "is_superuser", False) or access.has_perm(user, "exchange.administer", CITY_CODE):
        return access.filter_by_scope(qs, user, perm, "division_code")
    if not getattr(user, "department_id", None):
        return qs.none()
    return access.filter_by_scope(qs.filter(pk=user.department_id), user, perm, "division_code")


# --- fields of a resource ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldInfo:
    name: str
    label_zh: str
    label_en: str
    personal: str
    description: str
    offered: bool
    sharing_class: str       # effective class ("none" when not offered)
    open: bool


def spec_for(resource: CatalogueResource) -> providers.ResourceSpec | None:
    provider = providers.get(resource.provider_code)
    return provider.spec if provider is not None else None


def effective_sharing(resource: CatalogueResource, name: str) -> str:
    if resource.sharing_class == SharingClass.NONE or name not in resource.fields_offered:
        return SharingClass.NONE
    return str(resource.field_sharing.get(name, resource.sharing_class))


def resource_fields(resource: CatalogueResource) -> list[FieldInfo]:
    spec = spec_for(resource)
    specs = list(spec.fields) if spec else [providers.FieldSpec(n, n, n) for n in resource.fields_offered]
    return [
        FieldInfo(f.name, f.label_zh, f.label_en, f.personal, f.description, f.name in resource.fields_offered,
                  effective_sharing(resource, f.name), f.name in resource.open_fields and not f.personal)
        for f in specs
    ]


def shareable_fields(resource: CatalogueResource) -> list[str]:
    return [n for n in resource.fields_offered if effective_sharing(resource, n) != SharingClass.NONE]


def _resource_snapshot(resource: CatalogueResource) -> dict[str, Any]:
    return {
        "code": resource.code, "department": resource.department.code, "fields_offered": resource.fields_offered,
        "field_sharing": resource.field_sharing, "sharing_class": resource.sharing_class,
        "update_frequency": resource.update_frequency, "is_open": resource.is_open,
        "open_fields": resource.open_fields, "tags": resource.tags, "theme": resource.theme,
        "description": resource.description,
    }


# --- catalogue ------------------------------------------------------------------------------------------

@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _unique_slug(code: str, exclude_pk: int | None = None) -> str:
    base = slugify(code.replace(".", "-").replace("_", "-"))[:90] or "dataset"
    slug, n = base, 2
    taken = CatalogueResource.objects.filter(slug=slug)
    while (taken.exclude(pk=exclude_pk) if exclude_pk else taken).exists():
        slug, n = f"{base}-{n}", n + 1
        taken = CatalogueResource.objects.filter(slug=slug)
    return slug


def _valid_sharing(value: str) -> str:
    return value if value in SharingClass.values else SharingClass.CONDITIONAL


def sync_catalogue(*, acting_user: Any = SYSTEM) -> SyncResult:
    """Create a catalogue entry for every registered provider (idempotent).

    The owner is the city-level department of ``spec.owner_department_kind``. New entries offer all
    fields; personal fields are conditional even when the resource is unconditional; open data
    takes the non-personal fields. A re-run only follows the spec (names, removed fields) and keeps
    the department's own choices.
    """
    if _is_user(acting_user):
        access.require(acting_user, "exchange.administer", CITY_CODE)
    result = SyncResult()
    with transaction.atomic():
        for provider in providers.all_providers():
            spec = provider.spec
            dept = Department.objects.filter(code=department_code(CITY_CODE, spec.owner_department_kind)).first()
            if dept is None:
                result.skipped.append((spec.code, f"no department for kind {spec.owner_department_kind}"))
                continue
            names = [f.name for f in spec.fields]
            existing = CatalogueResource.objects.filter(provider_code=spec.code).first()
            if existing is None:
                sharing = _valid_sharing(spec.default_sharing)
                resource = CatalogueResource.objects.create(
                    code=spec.code, slug=_unique_slug(spec.code), name=spec.name_zh, name_en=spec.name_en,
                    description=spec.description, department=dept, provider_code=spec.code,
                    fields_offered=names,
                    field_sharing={f.name: SharingClass.CONDITIONAL for f in spec.fields
                                   if f.personal and sharing == SharingClass.UNCONDITIONAL},
                    update_frequency=spec.update_frequency if spec.update_frequency in UpdateFrequency.values
                    else UpdateFrequency.DAILY,
                    sharing_class=sharing, is_open=bool(spec.open),
                    open_fields=[f.name for f in spec.fields if not f.personal] if spec.open else [],
                    tags=list(spec.tags), theme=THEME_BY_KIND.get(spec.owner_department_kind, ""),
                )
                audit.record(actor=acting_user, action="exchange.catalogue_created",
                             object_type="exchange.CatalogueResource", object_id=resource.code,
                             after=_resource_snapshot(resource), division_code=dept.division_code)
                result.created.append(spec.code)
                continue
            before = _resource_snapshot(existing)
            changed = False
            if (existing.name, existing.name_en) != (spec.name_zh, spec.name_en):
                existing.name, existing.name_en = spec.name_zh, spec.name_en
                changed = True
            offered = [n for n in existing.fields_offered if n in names]
            opened = [n for n in existing.open_fields if n in names and not spec.field(n).personal]
            sharing_map = {k: v for k, v in existing.field_sharing.items() if k in offered}
            if (offered, opened, sharing_map) != (existing.fields_offered, existing.open_fields,
                                                  existing.field_sharing):
                existing.fields_offered, existing.open_fields, existing.field_sharing = offered, opened, sharing_map
                if existing.is_open and not opened:
                    existing.is_open = False
                changed = True
            if changed:
                existing.modified_at = timezone.now()
                existing.save()
                audit.record(actor=acting_user, action="exchange.catalogue_synced",
                             object_type="exchange.CatalogueResource", object_id=existing.code, before=before,
                             after=_resource_snapshot(existing), division_code=existing.department.division_code)
                result.updated.append(spec.code)
    return result


def _clean_field_list(value: Iterable[str], allowed: Sequence[str], what_zh: str, what_en: str,
                      field_name: str) -> list[str]:
    names: list[str] = []
    for raw in value:
        name = str(raw).strip()
        if not name or name in names:
            continue
        if name not in allowed:
            raise InvalidInput(f"{what_zh}中有未知信息项：{name}", f"unknown field in {what_en}: {name}",
                               field=field_name)
        names.append(name)
    return [n for n in allowed if n in names]  # spec order


def _clean_tags(value: Iterable[str]) -> list[str]:
    tags: list[str] = []
    for raw in value:
        tag = str(raw).strip()
        if not tag or tag in tags:
            continue
        if len(tag) > TAG_LEN or not re.fullmatch(r"[\w\u4e00-\u9fff .-]+", tag):
            raise InvalidInput(f"标签“{tag[:TAG_LEN]}”不合规：最多{TAG_LEN}个字，只能含文字、数字、空格、点和连字符",
                               f"tag {tag[:TAG_LEN]!r} is invalid: at most {TAG_LEN} characters, letters, digits,"
                               " spaces, dots and hyphens", field="tags")
        tags.append(tag)
    if len(tags) > TAG_MAX:
        raise InvalidInput(f"标签最多{TAG_MAX}个", f"at most {TAG_MAX} tags", field="tags")
    return tags


def update_resource(
    *, acting_user: Any, resource: CatalogueResource, description: str | None = None,
    sharing_class: str | None = None, field_sharing: Mapping[str, str] | None = None,
    fields_offered: Sequence[str] | None = None, update_frequency: str | None = None,
    is_open: bool | None = None, open_fields: Sequence[str] | None = None, tags: Sequence[str] | None = None,
    theme: str | None = None,
) -> CatalogueResource:
    """The owner department edits its entry: description, sharing, fields offered, open data."""
    require_for(acting_user, "exchange.manage_catalogue", resource.department)
    spec = spec_for(resource)
    with transaction.atomic():
        resource = CatalogueResource.objects.select_for_update().select_related("department").get(pk=resource.pk)
        before = _resource_snapshot(resource)
        touches_fields = fields_offered is not None or open_fields is not None or field_sharing is not None
        if touches_fields and spec is None:
            raise InvalidInput("数据提供方当前不可用，暂不能修改信息项", "the data provider is not available; fields"
                               " cannot be changed now", field="fields_offered")
        all_names = [f.name for f in spec.fields] if spec else list(resource.fields_offered)
        if description is not None:
            if len(description) > TEXT_MAX:
                raise InvalidInput(f"摘要最多{TEXT_MAX}字", f"description: at most {TEXT_MAX} characters",
                                   field="description")
            resource.description = description.strip()
        if sharing_class is not None:
            if sharing_class not in SharingClass.values:
                raise InvalidInput("共享类型无效", "invalid sharing class", field="sharing_class")
            resource.sharing_class = sharing_class
        if fields_offered is not None:
            resource.fields_offered = _clean_field_list(fields_offered, all_names, "提供的信息项", "fields offered",
                                                        "fields_offered")
        if field_sharing is not None:
            cleaned: dict[str, str] = {}
            for name, cls in field_sharing.items():
                if name not in resource.fields_offered:
                    continue
                if cls not in SharingClass.values:
                    raise InvalidInput(f"信息项 {name} 的共享类型无效", f"invalid sharing class for field {name}",
                                       field="field_sharing")
                if cls != resource.sharing_class:
                    cleaned[name] = cls
            resource.field_sharing = cleaned
        else:
            resource.field_sharing = {k: v for k, v in resource.field_sharing.items() if k in resource.fields_offered}
        if update_frequency is not None:
            if update_frequency not in UpdateFrequency.values:
                raise InvalidInput("更新周期无效", "invalid update frequency", field="update_frequency")
            resource.update_frequency = update_frequency
        if open_fields is not None:
            chosen = _clean_field_list(open_fields, all_names, "开放的信息项", "open fields", "open_fields")
            personal = [n for n in chosen if spec and spec.field(n).personal]
            if personal:
                raise InvalidInput("个人信息不得作为开放数据：" + "、".join(personal),
                                   "personal data may not be opened: " + ", ".join(personal), field="open_fields")
            resource.open_fields = chosen
        if is_open is not None:
            resource.is_open = is_open
        if resource.is_open and not resource.open_fields:
            raise InvalidInput("向社会开放须至少选择一个开放信息项", "choose at least one open field to publish"
                               " the resource as open data", field="open_fields")
        if tags is not None:
            resource.tags = _clean_tags(tags)
        if theme is not None:
            if theme and theme not in Theme.values:
                raise InvalidInput("主题无效", "invalid theme", field="theme")
            resource.theme = theme
        after = _resource_snapshot(resource)
        if after == before:
            return resource
        resource.modified_at = timezone.now()
        resource.save()
        audit.record(actor=acting_user, action="exchange.update_resource", object_type="exchange.CatalogueResource",
                     object_id=resource.code, before=before, after=after,
                     division_code=resource.department.division_code)
    return resource


# --- consumer systems ------------------------------------------------------------------------------------

def hash_token(token: str) -> str:
    return sm3_hex(token.encode("utf-8"))


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _system_snapshot(system: ConsumerSystem) -> dict[str, Any]:
    return {"code": system.code, "name": system.name, "department": system.department.code,
            "active": system.active, "token_hint": system.token_hint}


def create_consumer_system(
    *, acting_user: Any, department: Department, code: str, name: str
) -> tuple[ConsumerSystem, str]:
    """A new consumer system and its API token; the token is returned once and only its hash is kept."""
    require_for(acting_user, "exchange.manage_systems", department)
    code = code.strip().lower()
    if not CODE_RE.match(code):
        raise InvalidInput("系统编码为3–64位小写字母、数字、点、下划线或连字符，以字母或数字开头",
                           "system code: 3-64 lowercase letters, digits, dots, underscores or hyphens, starting"
                           " with a letter or digit", field="code")
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("系统名称不能为空，最多100字", "system name is required (at most 100 characters)",
                           field="name")
    token = _new_token()
    system = ConsumerSystem(code=code, name=name, department=department, token_hash=hash_token(token),
                            token_hint=token[:10], created_by=acting_user if _is_user(acting_user) else None)
    try:
        with transaction.atomic():
            system.save()
            audit.record(actor=acting_user, action="exchange.create_system", object_type="exchange.ConsumerSystem",
                         object_id=system.code, after=_system_snapshot(system),
                         division_code=department.division_code)
    except IntegrityError as exc:
        raise Conflict("系统编码已被使用", "this system code is already taken", field="code") from exc
    return system, token


def rotate_token(*, acting_user: Any, system: ConsumerSystem) -> str:
    """A new token for the system; the old one stops working at once."""
    require_for(acting_user, "exchange.manage_systems", system.department)
    if not system.active:
        raise Conflict("系统已停用", "the system is revoked", field="code")
    token = _new_token()
    with transaction.atomic():
        before = _system_snapshot(system)
        system.token_hash, system.token_hint, system.token_rotated_at = hash_token(token), token[:10], timezone.now()
        system.save(update_fields=["token_hash", "token_hint", "token_rotated_at"])
        audit.record(actor=acting_user, action="exchange.rotate_token", object_type="exchange.ConsumerSystem",
                     object_id=system.code, before=before, after=_system_snapshot(system),
                     division_code=system.department.division_code)
    return token


def revoke_consumer_system(*, acting_user: Any, system: ConsumerSystem) -> ConsumerSystem:
    """Stop a system: its token no longer authenticates (grants stay on record)."""
    require_for(acting_user, "exchange.manage_systems", system.department)
    if not system.active:
        return system
    with transaction.atomic():
        before = _system_snapshot(system)
        system.active, system.revoked_at = False, timezone.now()
        system.save(update_fields=["active", "revoked_at"])
        audit.record(actor=acting_user, action="exchange.revoke_system", object_type="exchange.ConsumerSystem",
                     object_id=system.code, before=before, after=_system_snapshot(system),
                     division_code=system.department.division_code)
    return system


# --- applications and grants ----------------------------------------------------------------------------

def _application_status(items: Sequence[ApplicationField]) -> str:
    decisions = {i.decision for i in items}
    if Decision.PENDING in decisions:
        return ApplicationStatus.PENDING
    if decisions == {Decision.APPROVED}:
        return ApplicationStatus.APPROVED
    if decisions == {Decision.REJECTED}:
        return ApplicationStatus.REJECTED
    return ApplicationStatus.PARTIAL


def _grant_field(consumer: ConsumerSystem, resource: CatalogueResource, name: str, allow_clear: bool,
                 application: Application, by: User | None) -> Grant:
    grant = Grant.objects.select_for_update().filter(consumer=consumer, resource=resource, field_name=name,
                                                     revoked_at__isnull=True).first()
    if grant is not None:
        grant.allow_clear = grant.allow_clear or allow_clear
        grant.application = application
        grant.save(update_fields=["allow_clear", "application"])
        return grant
    return Grant.objects.create(consumer=consumer, resource=resource, field_name=name, allow_clear=allow_clear,
                                application=application, granted_by=by)


def _is_personal(resource: CatalogueResource, name: str) -> bool:
    spec = spec_for(resource)
    if spec is None:
        return True  # unknown: treat as personal (masked, never auto-approved)
    try:
        return bool(spec.field(name).personal)
    except KeyError:
        return True


def apply_for_fields(
    *, acting_user: Any, consumer: ConsumerSystem, resource: CatalogueResource, fields: Sequence[str],
    purpose: str, legal_basis: str, want_clear: Sequence[str] = (),
) -> Application:
    """A consuming department applies for named fields, for one of its systems.

    Not-shared fields cannot be requested. Unconditional fields are approved at once (masked if
    personal); a personal field asked for in clear, and every conditional field, waits for the owner.
    """
    require_for(acting_user, "exchange.apply", consumer.department)
    resource = CatalogueResource.objects.select_related("department").get(pk=resource.pk)  # current state
    if not consumer.active:
        raise Conflict("接入系统已停用", "the consumer system is revoked", field="consumer")
    if resource.sharing_class == SharingClass.NONE:
        raise InvalidInput("该资源不予共享", "this resource is not shared", field="fields")
    purpose, legal_basis = purpose.strip(), legal_basis.strip()
    if not purpose:
        raise InvalidInput("请说明用途", "the purpose is required", field="purpose")
    if not legal_basis:
        raise InvalidInput("请填写依据（法律法规或政策文件）", "the legal basis is required", field="legal_basis")
    if len(purpose) > TEXT_MAX or len(legal_basis) > TEXT_MAX:
        raise InvalidInput(f"用途和依据各不超过{TEXT_MAX}字", f"purpose and legal basis: at most {TEXT_MAX}"
                           " characters each", field="purpose")
    names: list[str] = []
    for raw in fields:
        name = str(raw).strip()
        if name and name not in names:
            names.append(name)
    if not names:
        raise InvalidInput("请至少选择一个信息项", "choose at least one field", field="fields")
    for name in names:
        if name not in resource.fields_offered:
            raise InvalidInput(f"资源未提供信息项 {name}", f"the resource does not offer field {name}",
                               field="fields")
        if effective_sharing(resource, name) == SharingClass.NONE:
            raise InvalidInput(f"信息项 {name} 不予共享，不能申请", f"field {name} is not shared and cannot be"
                               " requested", field="fields")
    clear = {n for n in want_clear if n in names and _is_personal(resource, n)}
    with transaction.atomic():
        active = {g.field_name: g for g in Grant.objects.filter(consumer=consumer, resource=resource,
                                                                  field_name__in=names, revoked_at__isnull=True)}
        for name in names:
            grant = active.get(name)
            if grant is not None and (grant.allow_clear or name not in clear):
                raise Conflict(f"信息项 {name} 已获授权", f"field {name} is already granted", field="fields")
        pending = ApplicationField.objects.filter(
            application__consumer=consumer, application__resource=resource, field_name__in=names,
            decision=Decision.PENDING,
        ).values_list("field_name", flat=True)
        if pending:
            raise Conflict("信息项已在审批中：" + "、".join(sorted(set(pending))),
                           "already awaiting approval: " + ", ".join(sorted(set(pending))), field="fields")
        application = Application.objects.create(
            consumer=consumer, resource=resource, purpose=purpose, legal_basis=legal_basis, applicant=acting_user,
        )
        now = timezone.now()
        items: list[ApplicationField] = []
        auto: list[str] = []
        for name in names:
            item = ApplicationField(application=application, field_name=name, want_clear=name in clear)
            if effective_sharing(resource, name) == SharingClass.UNCONDITIONAL and name not in clear:
                item.decision, item.auto, item.decided_at = Decision.APPROVED, True, now
                item.reason = "无条件共享，自动批准 / unconditional sharing, approved automatically"
                auto.append(name)
            items.append(item)
        ApplicationField.objects.bulk_create(items)
        for name in auto:
            _grant_field(consumer, resource, name, False, application, None)
        application.status = _application_status(items)
        if application.status != ApplicationStatus.PENDING:
            application.decided_at = now
        application.save(update_fields=["status", "decided_at"])
        audit.record(actor=acting_user, action="exchange.apply", object_type="exchange.Application",
                     object_id=application.pk, after={
                         "consumer": consumer.code, "resource": resource.code, "fields": names,
                         "want_clear": sorted(clear), "auto_approved": auto, "purpose": purpose,
                         "legal_basis": legal_basis,
                     }, division_code=consumer.department.division_code)
    return application


@dataclass(frozen=True)
class FieldDecision:
    approve: bool
    allow_clear: bool = False
    reason: str = ""


def decide_application(
    *, acting_user: Any, application: Application, decisions: Mapping[str, FieldDecision]
) -> Application:
    """The owner decides field by field: approve some (clear values only where granted explicitly),
    reject others with a reason. Fields left out stay pending."""
    resource = application.resource
    require_for(acting_user, "exchange.approve", resource.department)
    if not decisions:
        raise InvalidInput("请至少对一个信息项作出决定", "decide on at least one field", field="decisions")
    with transaction.atomic():
        application = Application.objects.select_for_update().select_related(
            "consumer__department", "resource__department").get(pk=application.pk)
        resource = application.resource
        items = {i.field_name: i for i in ApplicationField.objects.select_for_update().filter(application=application)}
        now = timezone.now()
        approved: dict[str, bool] = {}
        rejected: dict[str, str] = {}
        for name, decision in decisions.items():
            item = items.get(name)
            if item is None:
                raise InvalidInput(f"申请中没有信息项 {name}", f"the application has no field {name}",
                                   field="decisions")
            if item.decision != Decision.PENDING:
                raise Conflict(f"信息项 {name} 已审批", f"field {name} has already been decided", field="decisions")
            reason = decision.reason.strip()[:TEXT_MAX]
            if decision.approve:
                if effective_sharing(resource, name) == SharingClass.NONE:
                    raise InvalidInput(f"信息项 {name} 现为不予共享，不能批准", f"field {name} is now not shared and"
                                       " cannot be approved", field="decisions")
                allow_clear = decision.allow_clear and _is_personal(resource, name)
                item.decision, item.allow_clear = Decision.APPROVED, allow_clear
                _grant_field(application.consumer, resource, name, allow_clear, application, acting_user)
                approved[name] = allow_clear
            else:
                if not reason:
                    raise InvalidInput(f"驳回信息项 {name} 须说明理由", f"give a reason for rejecting field {name}",
                                       field="reason")
                item.decision = Decision.REJECTED
                rejected[name] = reason
            item.reason, item.decided_by, item.decided_at = reason, acting_user, now
            item.save(update_fields=["decision", "allow_clear", "reason", "decided_by", "decided_at"])
        application.status = _application_status(list(items.values()))
        if application.status != ApplicationStatus.PENDING:
            application.decided_at = now
        application.save(update_fields=["status", "decided_at"])
        audit.record(actor=acting_user, action="exchange.decide", object_type="exchange.Application",
                     object_id=application.pk, after={
                         "consumer": application.consumer.code, "resource": resource.code,
                         "approved": approved, "rejected": rejected, "status": application.status,
                     }, division_code=resource.department.division_code)
    return application


def revoke_grant(*, acting_user: Any, grant: Grant, reason: str = "") -> Grant:
    """The owner withdraws a grant (with a reason), or the consumer's department gives it up."""
    grant = Grant.objects.select_related("resource__department", "consumer__department").get(pk=grant.pk)
    owner_side = can_act_for(acting_user, "exchange.approve", grant.resource.department)
    if not owner_side:
        require_for(acting_user, "exchange.manage_systems", grant.consumer.department)
    reason = reason.strip()[:TEXT_MAX]
    if owner_side and not reason:
        raise InvalidInput("撤销授权须说明理由", "give a reason for revoking the grant", field="reason")
    with transaction.atomic():
        updated = Grant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=acting_user, revoke_reason=reason)
        if not updated:
            raise Conflict("授权已撤销", "the grant is already revoked", field="grant")
        audit.record(actor=acting_user, action="exchange.revoke_grant", object_type="exchange.Grant",
                     object_id=grant.pk, before={"consumer": grant.consumer.code, "resource": grant.resource.code,
                                                 "field": grant.field_name, "allow_clear": grant.allow_clear},
                     after={"reason": reason}, division_code=grant.resource.department.division_code)
    grant.refresh_from_db()
    return grant


def active_grants(consumer: ConsumerSystem, resource: CatalogueResource) -> dict[str, bool]:
    """Field -> clear values allowed, for grants in force (field still offered and shared)."""
    rows = Grant.objects.filter(consumer=consumer, resource=resource, revoked_at__isnull=True).values_list(
        "field_name", "allow_clear")
    return {name: clear for name, clear in rows if effective_sharing(resource, name) != SharingClass.NONE}


# --- subscriptions ----------------------------------------------------------------------------------

def _actor_label(acting_user: Any) -> Any:
    return f"consumer:{acting_user.code}" if isinstance(acting_user, ConsumerSystem) else acting_user


def _require_system_actor(acting_user: Any, consumer: ConsumerSystem) -> None:
    """A consumer system acts for itself; staff act for their department's systems."""
    if isinstance(acting_user, ConsumerSystem):
        if acting_user.pk != consumer.pk or not acting_user.active:
            raise PermissionDenied("接入系统只能为自己订阅 / a system may subscribe only for itself")
        return
    require_for(acting_user, "exchange.manage_systems", consumer.department)


def subscribe(
    *, acting_user: Any, consumer: ConsumerSystem, resource: CatalogueResource, callback_url: str = ""
) -> Subscription:
    """Follow a granted resource's change feed (``GET /exchange/r1/<code>/changes``)."""
    _require_system_actor(acting_user, consumer)
    if not active_grants(consumer, resource):
        raise InvalidInput("须先获得该资源的授权才能订阅", "a grant on the resource is needed to subscribe",
                           field="resource")
    with transaction.atomic():
        sub, created = Subscription.objects.select_for_update().get_or_create(
            consumer=consumer, resource=resource, defaults={"callback_url": callback_url})
        if not created and sub.active and sub.callback_url == callback_url:
            return sub
        sub.active, sub.callback_url = True, callback_url
        sub.save(update_fields=["active", "callback_url"])
        audit.record(actor=_actor_label(acting_user), action="exchange.subscribe",
                     object_type="exchange.Subscription", object_id=sub.pk,
                     after={"consumer": consumer.code, "resource": resource.code, "callback_url": callback_url},
                     division_code=consumer.department.division_code)
    return sub


def unsubscribe(*, acting_user: Any, subscription: Subscription) -> Subscription:
    consumer = subscription.consumer
    _require_system_actor(acting_user, consumer)
    with transaction.atomic():
        if not Subscription.objects.filter(pk=subscription.pk, active=True).update(active=False):
            return subscription
        audit.record(actor=_actor_label(acting_user), action="exchange.unsubscribe",
                     object_type="exchange.Subscription", object_id=subscription.pk,
                     before={"consumer": consumer.code, "resource": subscription.resource.code},
                     division_code=consumer.department.division_code)
    subscription.active = False
    return subscription


def advance_cursor(subscription: Subscription, cursor: int) -> None:
    """Remember how far a subscriber has read (bookkeeping, not audited: every pull is in the exchange log)."""
    Subscription.objects.filter(pk=subscription.pk, cursor__lt=cursor).update(cursor=cursor)


# --- lookups used by pages and the API ----------------------------------------------------------------

def get_resource(code: str) -> CatalogueResource:
    resource = CatalogueResource.objects.select_related("department").filter(code=code).first()
    if resource is None:
        raise NotFound("资源不存在", "no such resource", field="resource")
    return resource


def shared_catalogue() -> QuerySet[CatalogueResource]:
    """Entries other departments may see and apply for."""
    return CatalogueResource.objects.exclude(sharing_class=SharingClass.NONE).select_related("department")


def visible_catalogue(user: Any) -> QuerySet[CatalogueResource]:
    """The shared catalogue plus the user's own departments' entries (whatever their class)."""
    own = departments_for(user, "exchange.manage_catalogue")
    return CatalogueResource.objects.filter(
        ~Q(sharing_class=SharingClass.NONE) | Q(department__in=own)
    ).select_related("department")
