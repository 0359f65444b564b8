"""The one write path for the population and legal-entity base databases, and their scoped queries.

Every change: permission (``core.access``, scoped by division) → authority of the source department for
each changed field → close the current version into the history table, write the new one, an outbox
``ChangeEvent`` and the audit record, all in one transaction. See docs/adr/0004 for the rules.

Signatures (all keyword-only, ``acting_user=`` first):

Population
    register_birth(acting_user, data, source_department=None) -> Person          (health)
    register_move_in(acting_user, data, effective_date, source_department=None) -> Person   (public security)
    change_person(acting_user, id_number, changes, effective_date, source_department=None, reason="") -> Person
    record_death(acting_user, id_number, date_of_death, ...) / record_move_out(acting_user, id_number, effective_date)
    change_residence(acting_user, id_number, effective_date, residence_address, lon=None, lat=None, grid_code=None)
    set_marital_status(acting_user, id_number, marital_status, effective_date)
    find_person(acting_user, id_number) -> dict            person_history(acting_user, id_number) -> list[dict]
    residents_at(acting_user, code, on, limit=1000, offset=0) -> (total, list[dict])
Legal entities
    register_entity(acting_user, data, source_department=None) -> LegalEntity
    change_entity(acting_user, credit_code, changes, effective_date, source_department=None, reason="")
    set_entity_status(acting_user, credit_code, status, effective_date)
    find_entity(acting_user, credit_code) -> dict          entity_history(acting_user, credit_code) -> list[dict]
    search_entities(acting_user, name_prefix="", industry="", county="", status="", limit=50, offset=0)
Demo
    ensure_demo_registry(residents=100_000, entities=10_000, progress=None) -> dict
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from liaocheng.core import access, audit
from liaocheng.core.crypto import blind_index, mask_address, mask_id_number, mask_name, mask_phone
from liaocheng.core.departments import KINDS, department_code
from liaocheng.core.errors import Conflict, DomainError, InvalidInput, NotFound
from liaocheng.core.models import Department
from liaocheng.core.permissions import CITY_CODE

from . import codes
from .models import (
    ChangeCounter,
    ChangeEvent,
    EntityStatus,
    LegalEntity,
    LegalEntityVersion,
    Person,
    PersonStatus,
    PersonVersion,
)
from .validation import GeoContext, clean_entity_row, clean_id, clean_person_row

SYSTEM = "system"  # acting_user of internal jobs (the demo loader); never accepted from the web or the CLI

PERSON_RESOURCE = "population.person"
ENTITY_RESOURCE = "legal_entity.entity"


class NotAuthoritative(DomainError):
    """The source department is not the authority for (some of) the data it tried to record."""

    status = 403
    code = "not_authoritative"


# --- authority rules ----------------------------------------------------------------------------------------

PUBLIC_SECURITY, CIVIL_AFFAIRS, HEALTH = "public_security", "civil_affairs", "health"
MARKET_REGULATION, ESTABLISHMENT_OFFICE = "market_regulation", "party_government_office"

# person field -> department kind that is its authoritative source
PERSON_FIELD_AUTHORITY: dict[str, str] = {
    "name": PUBLIC_SECURITY, "ethnic": PUBLIC_SECURITY, "hukou_division": PUBLIC_SECURITY,
    "household_number": PUBLIC_SECURITY, "relationship": PUBLIC_SECURITY, "residence_address": PUBLIC_SECURITY,
    "lon": PUBLIC_SECURITY, "lat": PUBLIC_SECURITY, "community_code": PUBLIC_SECURITY, "grid_code": PUBLIC_SECURITY,
    "phone": PUBLIC_SECURITY, "marital_status": CIVIL_AFFAIRS,
}
# the status field: authority by the new value
PERSON_STATUS_AUTHORITY: dict[str, str] = {
    PersonStatus.MOVED_OUT: PUBLIC_SECURITY, PersonStatus.RESIDENT: PUBLIC_SECURITY, PersonStatus.DECEASED: HEALTH,
}
# creating a person: a birth (health) or a move into the city (public security)
PERSON_CREATE_AUTHORITY: dict[str, str] = {"birth": HEALTH, "move_in": PUBLIC_SECURITY}
# fields fixed by the ID number: never changed (a wrong number is a new record)
PERSON_FIXED_FIELDS = ("id_number", "sex", "birth_date")
# bulk population imports: the owner of the register (the household register is public security's)
POPULATION_IMPORT_AUTHORITY = PUBLIC_SECURITY

ENTITY_TYPE_AUTHORITY: dict[str, str] = {
    "enterprise": MARKET_REGULATION, "sole_trader": MARKET_REGULATION, "social_organisation": CIVIL_AFFAIRS,
    "institution": ESTABLISHMENT_OFFICE, "government": ESTABLISHMENT_OFFICE,
}


def kind_label(kind: str) -> str:
    city_name, county_pattern = KINDS.get(kind, (kind, None))
    return city_name + ("及各县（市、区）对应部门" if county_pattern else "")


def not_authoritative(dept: Department, what_zh: str, what_en: str, authority: str, *, field: str | None = None
                      ) -> NotAuthoritative:
    return NotAuthoritative(
        f"{dept.name}不是{what_zh}的权威来源部门，应由{kind_label(authority)}登记",
        f"{dept.name} ({dept.kind}) is not the authoritative source of {what_en}; the authority is the"
        f" {authority} department", field=field,
    )


def can_act_for_any_source(acting_user: Any) -> bool:
    return acting_user == SYSTEM or access.has_perm(acting_user, "registry.act_for_any_source", CITY_CODE)


def source_department_for(acting_user: Any, source_department: str | None) -> Department:
    """The department a change is recorded from: the acting user's own, or — for city data administrators
    (``registry.act_for_any_source``) and internal jobs — the one named."""
    own = getattr(acting_user, "department", None) if acting_user != SYSTEM else None
    if not source_department or (own is not None and own.code == source_department):
        if own is None:
            raise InvalidInput("操作人没有所属部门，请指定来源部门",
                               "the acting user has no department; name the source department",
                               field="source_department")
        return own
    if not can_act_for_any_source(acting_user):
        raise PermissionDenied("只有全市数据管理员可代其他部门录入 / only city data administrators may record data on"
                               " behalf of another department")
    dept = Department.objects.filter(code=source_department, active=True).first()
    if dept is None:
        raise NotFound(f"来源部门不存在：{source_department}", f"unknown source department: {source_department}",
                       field="source_department")
    return dept


def _label(model: Any, field: str) -> tuple[str, str]:
    try:
        zh = str(model._meta.get_field(field).verbose_name)
    except Exception:
        zh = field
    return zh, field.replace("_", " ")


def check_person_authority(dept: Department, changes: Mapping[str, Any], acting_user: Any) -> None:
    if can_act_for_any_source(acting_user) and dept.kind == "big_data":
        return
    refused: list[tuple[str, str]] = []
    for fld, value in changes.items():
        authority = PERSON_STATUS_AUTHORITY.get(value) if fld == "status" else PERSON_FIELD_AUTHORITY.get(fld)
        if authority is not None and authority != dept.kind:
            refused.append((fld, authority))
    if refused:
        fld, authority = refused[0]
        zh, en = _label(Person, fld)
        if fld == "status":
            zh, en = f"人口状态“{PersonStatus(changes['status']).label}”", f"status {changes['status']}"
        names = "、".join(_label(Person, f)[0] for f, _ in refused)
        exc = not_authoritative(dept, zh, en, authority, field=fld)
        if len(refused) > 1:
            exc.message_zh += f"（涉及字段：{names}）"
            exc.message_en += f" (fields: {', '.join(f for f, _ in refused)})"
        raise exc


def check_entity_authority(dept: Department, entity_type: str, acting_user: Any, *, field: str = "entity_type"
                           ) -> None:
    if can_act_for_any_source(acting_user) and dept.kind == "big_data":
        return
    authority = ENTITY_TYPE_AUTHORITY[entity_type]
    if authority != dept.kind:
        from .models import EntityType

        label = str(EntityType(entity_type).label)
        raise not_authoritative(dept, f"{label}登记信息", f"{entity_type} registrations", authority, field=field)


# --- geography context (cached per loaded profile) ----------------------------------------------------------

_geo_lock = threading.Lock()
_geo_cache: dict[int, GeoContext] = {}


def geo_context() -> GeoContext:
    from liaocheng.geo.models import Division, Grid, ProfileLoad

    key = ProfileLoad.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with _geo_lock:
        cached = _geo_cache.get(key)
        if cached is not None:
            return cached
    divisions = Division.objects.filter(valid_to__isnull=True, level__in=["county", "township", "village"])
    codes_by_level: dict[str, set[str]] = {"county": set(), "township": set(), "village": set()}
    for code, level in divisions.values_list("code", "level"):
        codes_by_level[level].add(code)
    ctx = GeoContext(
        divisions=frozenset(codes_by_level["county"] | codes_by_level["township"] | codes_by_level["village"]),
        communities=frozenset(codes_by_level["village"]),
        grids=frozenset(Grid.objects.values_list("code", flat=True)),
    )
    with _geo_lock:
        _geo_cache.clear()
        _geo_cache[key] = ctx
    return ctx


def locate_values(values: dict[str, Any]) -> None:
    """Derive community and grid from lon/lat (GCJ-02); check a grid code given as well."""
    if values.get("lon") is None or values.get("lat") is None:
        return
    from liaocheng.geo.services import locate

    found = locate(float(values["lon"]), float(values["lat"])).location
    if values.get("grid_code") and values["grid_code"] != found.grid_code:
        raise InvalidInput("网格编码与坐标所在网格不符", "the grid code does not match the coordinates",
                           field="grid_code")
    values["grid_code"], values["community_code"] = found.grid_code, found.community_code


# --- the change outbox ---------------------------------------------------------------------------------------

def runs_of(ids: Iterable[int]) -> list[list[int]]:
    """Sorted ids as [first, count] runs: [5, 6, 7, 10] -> [[5, 3], [10, 1]]."""
    runs: list[list[int]] = []
    for i in sorted(ids):
        if runs and runs[-1][0] + runs[-1][1] == i:
            runs[-1][1] += 1
        else:
            runs.append([i, 1])
    return runs


def emit_change(resource: str, kind: str, ids: Sequence[int], changed_fields: Sequence[str],
                effective_date: dt.date | None, *, runs: list[list[int]] | None = None) -> ChangeEvent:
    """Append to the outbox (call inside the change's transaction). The counter row is locked, so seqs are
    strictly increasing per resource and never reused."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("emit_change must run inside the transaction of the change")
    runs = runs if runs is not None else runs_of(ids)
    count = sum(n for _, n in runs)
    counter, _ = ChangeCounter.objects.select_for_update().get_or_create(resource=resource)
    first = counter.seq + 1
    counter.seq += count
    counter.save(update_fields=["seq"])
    return ChangeEvent.objects.create(
        resource=resource, seq_first=first, seq_last=counter.seq, kind=kind, object_runs=runs,
        changed_fields=list(changed_fields), effective_date=effective_date, recorded_at=timezone.now(),
    )


# --- snapshots and views -------------------------------------------------------------------------------------

PERSON_DATA_FIELDS = ("name", "sex", "birth_date", "ethnic", "hukou_division", "household_number", "relationship",
                      "residence_address", "lon", "lat", "community_code", "grid_code", "marital_status", "status",
                      "phone")
ENTITY_DATA_FIELDS = ("name", "entity_type", "entity_type_derived", "legal_representative", "registered_capital",
                      "industry_code", "address", "lon", "lat", "county_code", "community_code", "grid_code",
                      "status", "registering_authority", "established_date", "changed_date")
META_FIELDS = ("version", "valid_from", "source_department", "changed_by", "changed_by_label", "recorded_at",
               "change_kind", "changed_fields", "reason")


def _person_audit(p: Person | PersonVersion, id_number: str) -> dict[str, Any]:
    """What the audit trail keeps of a person: personal data masked."""
    data = {f: getattr(p, f) for f in PERSON_DATA_FIELDS}
    data["name"] = mask_name(p.name)
    data["phone"] = mask_phone(p.phone)
    data["id_number"] = mask_id_number(id_number)
    data["valid_from"] = p.valid_from
    return data


def person_divisions(p: Person | PersonVersion) -> list[str]:
    return [c for c in (p.hukou_division, p.community_code) if c]


def _allowed(user: Any, perm: str, divisions: Sequence[str]) -> bool:
    return user == SYSTEM or any(access.has_perm(user, perm, d) for d in divisions)


def _person_dict(p: Person | PersonVersion, id_number: str, reveal: bool) -> dict[str, Any]:
    return {
        "id_number": id_number if reveal else mask_id_number(id_number),
        "name": p.name if reveal else mask_name(p.name),
        "masked": not reveal,
        "sex": p.sex, "sex_label": codes.SEX.get(p.sex, ""),
        "birth_date": p.birth_date,
        "ethnic": p.ethnic, "ethnic_label": codes.ETHNIC_GROUPS.get(p.ethnic, ""),
        "hukou_division": p.hukou_division, "household_number": p.household_number,
        "relationship": p.relationship, "relationship_label": codes.RELATIONSHIPS.get(p.relationship, ""),
        "residence_address": p.residence_address if reveal else mask_address(p.residence_address),
        "lon": p.lon if reveal else None, "lat": p.lat if reveal else None,
        "community_code": p.community_code, "grid_code": p.grid_code,
        "marital_status": p.marital_status, "marital_status_label": codes.MARITAL_STATUS.get(p.marital_status, ""),
        "status": p.status,
        "phone": p.phone if reveal else mask_phone(p.phone),
        "version": p.version, "valid_from": p.valid_from, "valid_to": getattr(p, "valid_to", None),
        "source_department": p.source_department, "changed_by": p.changed_by_label, "recorded_at": p.recorded_at,
        "change_kind": p.change_kind, "changed_fields": list(p.changed_fields or []), "reason": p.reason,
    }


def _get_person(id_number: str, *, for_update: bool = False) -> Person:
    number, _ = clean_id(id_number)
    qs = Person.objects.select_for_update() if for_update else Person.objects
    person = qs.filter(id_number_bidx=blind_index("id_number", number)).first()
    if person is None:
        raise NotFound("人口基础库中没有该身份证号", "no person with this ID number in the register", field="id_number")
    return person


# --- population: reads -----------------------------------------------------------------------------------------

def _require_person_view(acting_user: Any, p: Person | PersonVersion) -> None:
    divisions = person_divisions(p)
    if not _allowed(acting_user, "registry.view_population", divisions):
        access.require(acting_user, "registry.view_population", divisions[0] if divisions else CITY_CODE)


def find_person(*, acting_user: Any, id_number: str) -> dict[str, Any]:
    """A person by ID number (blind index). Only within the viewer's scope (hukou or residence in it);
    ID number, name and phone are masked unless the viewer holds ``core.view_personal_data`` there."""
    person = _get_person(id_number)
    _require_person_view(acting_user, person)
    reveal = _allowed(acting_user, "core.view_personal_data", person_divisions(person))
    return _person_dict(person, person.id_number, reveal)


def person_history(*, acting_user: Any, id_number: str) -> list[dict[str, Any]]:
    """All versions of a person, oldest first, the current one last."""
    person = _get_person(id_number)
    _require_person_view(acting_user, person)
    reveal = _allowed(acting_user, "core.view_personal_data", person_divisions(person))
    versions: list[Person | PersonVersion] = [*person.versions.order_by("version"), person]
    return [_person_dict(v, person.id_number, reveal) for v in versions]


def _code_filter(code: str) -> Q:
    if len(code) == 15:
        return Q(grid_code=code)
    if len(code) == 12:
        return Q(community_code=code)
    return Q(community_code__startswith=code)


def residents_at(*, acting_user: Any, code: str, on: dt.date, limit: int = 1000, offset: int = 0
                 ) -> tuple[int, list[dict[str, Any]]]:
    """Who lived (as residents) in a grid (15 digits), community/village (12), township (9) or county (6) on
    ``on``: the versions in force that day, from the current rows and the history table."""
    code = code.strip()
    if not (code.isdigit() and len(code) in (6, 9, 12, 15)):
        raise InvalidInput("应为6/9/12位区划代码或15位网格编码", "code must be a 6/9/12-digit division or 15-digit grid"
                           " code", field="code")
    if acting_user != SYSTEM:
        access.require(acting_user, "registry.view_population", code)
    where = _code_filter(code) & Q(status=PersonStatus.RESIDENT, birth_date__lte=on) & (
        Q(valid_from__isnull=True) | Q(valid_from__lte=on))
    current = Person.objects.filter(where)
    closed = PersonVersion.objects.filter(where, valid_to__gt=on).select_related("person")
    total = current.count() + closed.count()
    rows: list[tuple[Person | PersonVersion, Person]] = [(p, p) for p in current.order_by("pk")[: offset + limit]]
    rows += [(v, v.person) for v in closed.order_by("person_id")[: offset + limit]]
    rows.sort(key=lambda pair: pair[1].pk)
    out = []
    for version, person in rows[offset: offset + limit]:
        reveal = _allowed(acting_user, "core.view_personal_data", person_divisions(version))
        out.append(_person_dict(version, person.id_number, reveal))
    return total, out


# --- population: writes ----------------------------------------------------------------------------------------

def _new_version_fields(p: Any, *, acting_user: Any, dept: Department, kind: str, changed: Sequence[str],
                        effective: dt.date | None, reason: str) -> None:
    p.source_department = dept.code
    p.changed_by = getattr(acting_user, "pk", None)
    p.changed_by_label = acting_user.get_username() if hasattr(acting_user, "get_username") else str(acting_user)
    p.recorded_at = timezone.now()
    p.change_kind = kind
    p.changed_fields = list(changed)
    p.valid_from = effective
    p.reason = reason[:200]


def _clean_or_raise(cleaned: Any) -> dict[str, Any]:
    if cleaned.problems:
        first = cleaned.problems[0]
        exc = InvalidInput(first.message_zh, first.message_en, field=first.field, code=first.code)
        raise exc
    return dict(cleaned.values)


def _create_person(*, acting_user: Any, data: Mapping[str, Any], cause: str, effective_date: dt.date | None,
                   source_department: str | None) -> Person:
    dept = source_department_for(acting_user, source_department)
    authority = PERSON_CREATE_AUTHORITY[cause]
    if dept.kind != authority and not (can_act_for_any_source(acting_user) and dept.kind == "big_data"):
        what = ("出生登记（新增人口）", "births (creating a person)") if cause == "birth" else \
            ("迁入登记（新增人口）", "moves into the city (creating a person)")
        raise not_authoritative(dept, what[0], what[1], authority, field="id_number")
    raw = {k: ("" if v is None else v) for k, v in data.items()}
    values = _clean_or_raise(clean_person_row(raw, geo_context()))
    locate_values(values)
    divisions = [c for c in (values["hukou_division"], values.get("community_code", "")) if c]
    if acting_user != SYSTEM and not any(access.has_perm(acting_user, "registry.edit_population", d)
                                         for d in divisions):
        access.require(acting_user, "registry.edit_population", values["hukou_division"])
    effective = effective_date or values.pop("effective_date", None) or (
        values["birth_date"] if cause == "birth" else timezone.localdate())
    values.pop("effective_date", None)
    id_number = values.pop("id_number")
    bidx = blind_index("id_number", id_number)
    person = Person(id_number=id_number, id_number_bidx=bidx, **values)
    person.phone_bidx = blind_index("phone", person.phone) if person.phone else ""
    _new_version_fields(person, acting_user=acting_user, dept=dept, kind="created", changed=sorted(values),
                        effective=effective, reason=cause)
    with transaction.atomic():
        if Person.objects.filter(id_number_bidx=bidx).exists():
            raise Conflict("该身份证号已在人口基础库中", "this ID number is already in the register", field="id_number")
        person.save(force_insert=True)
        emit_change(PERSON_RESOURCE, "created", [person.pk], sorted(values), effective)
        audit.record(actor=acting_user, action=f"registry.person_{cause}", object_type="registry.Person",
                     object_id=person.pk, after=_person_audit(person, id_number),
                     division_code=person.hukou_division)
    return person


def register_birth(*, acting_user: Any, data: Mapping[str, Any], source_department: str | None = None) -> Person:
    """A birth registered by the health department creates the person (effective on the birth date)."""
    return _create_person(acting_user=acting_user, data=data, cause="birth", effective_date=None,
                          source_department=source_department)


def register_move_in(*, acting_user: Any, data: Mapping[str, Any], effective_date: dt.date,
                     source_department: str | None = None) -> Person:
    """A person moving into the city, registered by public security."""
    return _create_person(acting_user=acting_user, data=data, cause="move_in", effective_date=effective_date,
                          source_department=source_department)


def _person_change_kind(before: Person, changed: dict[str, Any]) -> str:
    status = changed.get("status")
    if status == PersonStatus.DECEASED:
        return "deceased"
    if status == PersonStatus.MOVED_OUT:
        return "moved_out"
    if status == PersonStatus.RESIDENT and before.status != PersonStatus.RESIDENT:
        return "returned"
    return "updated"


def change_person(*, acting_user: Any, id_number: str, changes: Mapping[str, Any], effective_date: dt.date,
                  source_department: str | None = None, reason: str = "") -> Person:
    """Record an effective-dated change. The current version is closed on ``effective_date`` (kept in the
    history table) and the new one starts that day. Refused when the source department is not the authority
    for a changed field, or the date lies before the current version began."""
    dept = source_department_for(acting_user, source_department)
    fixed = [f for f in PERSON_FIXED_FIELDS if f in changes]
    if fixed:
        raise InvalidInput("身份证号、性别和出生日期不能修改", "ID number, sex and birth date cannot be changed",
                           field=fixed[0])
    unknown = [f for f in changes if f not in PERSON_DATA_FIELDS]
    if unknown:
        raise InvalidInput(f"未知字段：{unknown[0]}", f"unknown field: {unknown[0]}", field=unknown[0])
    raw = {k: ("" if v is None else v) for k, v in changes.items()}
    values = _clean_or_raise(clean_person_row(raw, geo_context(), partial=True))
    for fld in ("lon", "lat", "grid_code", "community_code"):
        if fld in changes and fld not in values:
            values[fld] = None if fld in ("lon", "lat") else ""
    locate_values(values)
    with transaction.atomic():
        person = _get_person(id_number, for_update=True)
        if acting_user != SYSTEM:
            divisions = person_divisions(person) + [c for c in (values.get("hukou_division"),
                                                                   values.get("community_code")) if c]
            if not any(access.has_perm(acting_user, "registry.edit_population", d) for d in divisions):
                access.require(acting_user, "registry.edit_population", divisions[0] if divisions else CITY_CODE)
        changed = {f: v for f, v in values.items() if getattr(person, f) != v}
        if not changed:
            return person
        check_person_authority(dept, changed, acting_user)
        if person.status == PersonStatus.DECEASED and "status" not in changed:
            raise Conflict("该人员已死亡，不能再变更", "the person is deceased; no further changes", field="status")
        if person.valid_from is not None and effective_date < person.valid_from:
            raise InvalidInput(
                f"生效日期早于当前版本的生效日期（{person.valid_from}）",
                f"the effective date is before the current version took effect ({person.valid_from})",
                field="effective_date")
        before = _person_audit(person, person.id_number)
        PersonVersion.objects.create(
            person=person, valid_to=effective_date,
            **{f: getattr(person, f) for f in (*PERSON_DATA_FIELDS, *META_FIELDS)},
        )
        kind = _person_change_kind(person, changed)
        for f, v in changed.items():
            setattr(person, f, v)
        if "phone" in changed:
            person.phone_bidx = blind_index("phone", person.phone) if person.phone else ""
        person.version += 1
        _new_version_fields(person, acting_user=acting_user, dept=dept, kind=kind, changed=sorted(changed),
                            effective=effective_date, reason=reason)
        person.save()
        emit_change(PERSON_RESOURCE, kind, [person.pk], sorted(changed), effective_date)
        audit.record(actor=acting_user, action=f"registry.person_{kind}", object_type="registry.Person",
                     object_id=person.pk, before=before, after=_person_audit(person, person.id_number),
                     division_code=person.hukou_division)
    return person


def record_death(*, acting_user: Any, id_number: str, date_of_death: dt.date, source_department: str | None = None,
                 reason: str = "") -> Person:
    return change_person(acting_user=acting_user, id_number=id_number, changes={"status": PersonStatus.DECEASED},
                         effective_date=date_of_death, source_department=source_department, reason=reason)


def record_move_out(*, acting_user: Any, id_number: str, effective_date: dt.date, source_department: str | None = None,
                    reason: str = "") -> Person:
    return change_person(acting_user=acting_user, id_number=id_number, changes={"status": PersonStatus.MOVED_OUT},
                         effective_date=effective_date, source_department=source_department, reason=reason)


def change_residence(*, acting_user: Any, id_number: str, effective_date: dt.date, residence_address: str,
                     lon: float | None = None, lat: float | None = None, grid_code: str | None = None,
                     source_department: str | None = None, reason: str = "") -> Person:
    """A move within the city: new address and either a point (located to its grid) or a grid code."""
    changes: dict[str, Any] = {"residence_address": residence_address, "lon": lon, "lat": lat}
    if grid_code:
        changes["grid_code"] = grid_code
    elif lon is None and lat is None:
        changes.update({"grid_code": None, "community_code": None})  # an address without a known place
    return change_person(acting_user=acting_user, id_number=id_number, changes=changes, effective_date=effective_date,
                         source_department=source_department, reason=reason)


def set_marital_status(*, acting_user: Any, id_number: str, marital_status: str, effective_date: dt.date,
                       source_department: str | None = None, reason: str = "") -> Person:
    return change_person(acting_user=acting_user, id_number=id_number, changes={"marital_status": marital_status},
                         effective_date=effective_date, source_department=source_department, reason=reason)


# --- legal entities --------------------------------------------------------------------------------------------

def entity_division(e: LegalEntity | LegalEntityVersion | Mapping[str, Any], credit_code: str = "") -> str:
    county = e.get("county_code") if isinstance(e, Mapping) else e.county_code
    if county:
        return str(county)
    region = credit_code[2:8]
    return region if region.startswith("3715") and region != CITY_CODE else CITY_CODE


def _entity_audit(e: LegalEntity | LegalEntityVersion) -> dict[str, Any]:
    data = {f: getattr(e, f) for f in ENTITY_DATA_FIELDS}
    data["legal_representative"] = mask_name(e.legal_representative)
    data["valid_from"] = e.valid_from
    return data


def _entity_dict(e: LegalEntity | LegalEntityVersion, credit_code: str, warning: str, reveal: bool
                 ) -> dict[str, Any]:
    return {
        "credit_code": credit_code, "credit_code_warning": warning, "name": e.name,
        "entity_type": e.entity_type, "entity_type_derived": e.entity_type_derived,
        "legal_representative": e.legal_representative if reveal else mask_name(e.legal_representative),
        "masked": not reveal,
        "registered_capital": e.registered_capital, "industry_code": e.industry_code,
        "industry_label": codes.industry_label(e.industry_code), "address": e.address, "lon": e.lon, "lat": e.lat,
        "county_code": e.county_code, "community_code": e.community_code, "grid_code": e.grid_code,
        "status": e.status, "registering_authority": e.registering_authority,
        "established_date": e.established_date, "changed_date": e.changed_date,
        "version": e.version, "valid_from": e.valid_from, "valid_to": getattr(e, "valid_to", None),
        "source_department": e.source_department, "changed_by": e.changed_by_label, "recorded_at": e.recorded_at,
        "change_kind": e.change_kind, "changed_fields": list(e.changed_fields or []), "reason": e.reason,
    }


def _set_entity_location(values: dict[str, Any], credit_code: str) -> None:
    locate_values(values)
    grid = values.get("grid_code") or ""
    if grid:
        values["county_code"] = grid[:6]
    elif "county_code" not in values:
        region = credit_code[2:8]
        values["county_code"] = region if region.startswith("3715") and region != CITY_CODE else ""


def register_entity(*, acting_user: Any, data: Mapping[str, Any], source_department: str | None = None
                    ) -> LegalEntity:
    """Register a legal entity; the source department must be the authority for its type."""
    dept = source_department_for(acting_user, source_department)
    raw = {k: ("" if v is None else v) for k, v in data.items()}
    values = _clean_or_raise(clean_entity_row(raw, geo_context()))
    check_entity_authority(dept, values["entity_type"], acting_user)
    credit_code = values.pop("credit_code")
    _set_entity_location(values, credit_code)
    division = entity_division(values, credit_code)
    if acting_user != SYSTEM:
        access.require(acting_user, "registry.edit_entities", division)
    effective = values.pop("effective_date", None) or values.get("established_date") or timezone.localdate()
    entity = LegalEntity(credit_code=credit_code, **values)
    _new_version_fields(entity, acting_user=acting_user, dept=dept, kind="created",
                        changed=sorted(values), effective=effective, reason="")
    with transaction.atomic():
        if LegalEntity.objects.filter(credit_code=credit_code).exists():
            raise Conflict("该统一社会信用代码已登记", "this credit code is already registered", field="credit_code")
        entity.save(force_insert=True)
        emit_change(ENTITY_RESOURCE, "created", [entity.pk], sorted(values), effective)
        audit.record(actor=acting_user, action="registry.entity_created", object_type="registry.LegalEntity",
                     object_id=credit_code, after=_entity_audit(entity), division_code=division)
    return entity


def _get_entity(credit_code: str, *, for_update: bool = False) -> LegalEntity:
    code = credit_code.strip().upper()
    qs = LegalEntity.objects.select_for_update() if for_update else LegalEntity.objects
    entity = qs.filter(credit_code=code).first()
    if entity is None:
        raise NotFound("法人单位基础库中没有该信用代码", "no legal entity with this credit code", field="credit_code")
    return entity


def change_entity(*, acting_user: Any, credit_code: str, changes: Mapping[str, Any], effective_date: dt.date,
                  source_department: str | None = None, reason: str = "") -> LegalEntity:
    dept = source_department_for(acting_user, source_department)
    if "credit_code" in changes:
        raise InvalidInput("统一社会信用代码不能修改", "the credit code cannot be changed", field="credit_code")
    unknown = [f for f in changes if f not in ENTITY_DATA_FIELDS or f == "entity_type_derived"]
    if unknown:
        raise InvalidInput(f"未知字段：{unknown[0]}", f"unknown field: {unknown[0]}", field=unknown[0])
    raw = {k: ("" if v is None else v) for k, v in changes.items()}
    values = _clean_or_raise(clean_entity_row(raw, geo_context(), partial=True))
    with transaction.atomic():
        entity = _get_entity(credit_code, for_update=True)
        if "lon" in values or "grid_code" in values:
            _set_entity_location(values, entity.credit_code)
        division = entity_division(entity, entity.credit_code)
        if acting_user != SYSTEM:
            access.require(acting_user, "registry.edit_entities", division)
        changed = {f: v for f, v in values.items() if getattr(entity, f) != v}
        if not changed:
            return entity
        check_entity_authority(dept, entity.entity_type, acting_user)
        if "entity_type" in changed:
            check_entity_authority(dept, changed["entity_type"], acting_user)
        if entity.valid_from is not None and effective_date < entity.valid_from:
            raise InvalidInput(
                f"生效日期早于当前版本的生效日期（{entity.valid_from}）",
                f"the effective date is before the current version took effect ({entity.valid_from})",
                field="effective_date")
        before = _entity_audit(entity)
        LegalEntityVersion.objects.create(
            entity=entity, valid_to=effective_date,
            **{f: getattr(entity, f) for f in (*ENTITY_DATA_FIELDS, *META_FIELDS)},
        )
        status = str(changed.get("status") or "")
        kind = {"deregistered": "deregistered", "revoked": "revoked"}.get(status, "updated")
        if status == EntityStatus.ACTIVE:
            kind = "reinstated"
        for f, v in changed.items():
            setattr(entity, f, v)
        entity.version += 1
        _new_version_fields(entity, acting_user=acting_user, dept=dept, kind=kind,
                            changed=sorted(changed), effective=effective_date, reason=reason)
        entity.save()
        emit_change(ENTITY_RESOURCE, kind, [entity.pk], sorted(changed), effective_date)
        audit.record(actor=acting_user, action=f"registry.entity_{kind}", object_type="registry.LegalEntity",
                     object_id=entity.credit_code, before=before, after=_entity_audit(entity),
                     division_code=division)
    return entity


def set_entity_status(*, acting_user: Any, credit_code: str, status: str, effective_date: dt.date,
                      source_department: str | None = None, reason: str = "") -> LegalEntity:
    return change_entity(acting_user=acting_user, credit_code=credit_code, changes={"status": status},
                         effective_date=effective_date, source_department=source_department, reason=reason)


def _require_entity_view(acting_user: Any, entity: LegalEntity) -> str:
    division = entity_division(entity, entity.credit_code)
    if acting_user != SYSTEM:
        access.require(acting_user, "registry.view_entities", division)
    return division


def find_entity(*, acting_user: Any, credit_code: str) -> dict[str, Any]:
    entity = _get_entity(credit_code)
    division = _require_entity_view(acting_user, entity)
    reveal = _allowed(acting_user, "core.view_personal_data", [division])
    return _entity_dict(entity, entity.credit_code, entity.credit_code_warning, reveal)


def entity_history(*, acting_user: Any, credit_code: str) -> list[dict[str, Any]]:
    entity = _get_entity(credit_code)
    division = _require_entity_view(acting_user, entity)
    reveal = _allowed(acting_user, "core.view_personal_data", [division])
    versions: list[LegalEntity | LegalEntityVersion] = [*entity.versions.order_by("version"), entity]
    return [_entity_dict(v, entity.credit_code, entity.credit_code_warning, reveal) for v in versions]


def search_entities(*, acting_user: Any, name_prefix: str = "", industry: str = "", county: str = "",
                    status: str = "", limit: int = 50, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """Entities by name prefix, industry (a section letter, division or finer code) and county, within the
    viewer's scope."""
    qs = LegalEntity.objects.all()
    if acting_user != SYSTEM:
        qs = access.filter_by_scope(qs, acting_user, "registry.view_entities", "county_code")
    if name_prefix.strip():
        qs = qs.filter(name__startswith=name_prefix.strip())
    if industry.strip():
        code = codes.industry_code(industry)
        if code is None:
            raise InvalidInput("行业代码无效", "invalid industry code", field="industry")
        qs = qs.filter(industry_code__startswith=code)
    if county.strip():
        qs = qs.filter(county_code=county.strip())
    if status.strip():
        qs = qs.filter(status=status.strip())
    limit = max(1, min(limit, 500))
    total = qs.count()
    out = []
    for e in qs.order_by("name", "pk")[offset: offset + limit]:
        reveal = _allowed(acting_user, "core.view_personal_data", [entity_division(e, e.credit_code)])
        out.append(_entity_dict(e, e.credit_code, e.credit_code_warning, reveal))
    return total, out


# --- demo --------------------------------------------------------------------------------------------------------

def ensure_demo_registry(residents: int = 100_000, entities: int = 10_000,
                         progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Generate and import a synthetic sample (idempotent: skipped when this sample is already loaded)."""
    from .importers import ensure_demo_import

    return ensure_demo_import(residents=residents, entities=entities, progress=progress)


def default_source_department(kind: str) -> str:
    return department_code(CITY_CODE, kind)
