"""Open data: the catalogue entries marked open, as CKAN-shaped datasets, and their search.

One search engine serves the public portal (``/open/``), the CKAN Action API (``ckan.py``) and the
DCAT-AP catalogue (``dcat.py``). The open catalogue is small (hundreds of entries), so search runs
in memory over the open entries: free text (substring, suitable for Chinese), Solr-style ``fq``
terms, sorting and facets, with CKAN's defaults.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.utils import timezone

from liaocheng.core import providers
from liaocheng.core.models import Department

from .models import CatalogueResource, Theme, UpdateFrequency

NAMESPACE = uuid.UUID("5b0f3c1e-6d1a-4f7e-9a53-3715000000a1")  # uuid5 namespace of derived CKAN ids
MAX_ROWS = 1000
DEFAULT_ROWS = 10
DEFAULT_FACET_LIMIT = 50
DEFAULT_SORT = "score desc, metadata_modified desc"
CSV_MAX_ROWS = 100_000

LICENSES = {
    "cc-by": ("Creative Commons Attribution", "http://www.opendefinition.org/licenses/cc-by",
              "http://creativecommons.org/licenses/by/4.0/"),
    "cc-zero": ("Creative Commons CCZero", "http://www.opendefinition.org/licenses/cc-zero",
                "http://creativecommons.org/publicdomain/zero/1.0/"),
    "odc-by": ("Open Data Commons Attribution License", "http://www.opendefinition.org/licenses/odc-by",
               "http://opendatacommons.org/licenses/by/1.0/"),
}
FACET_FIELDS = ("organization", "groups", "tags", "res_format", "license_id")
LIST_FIELDS = {"tags", "groups", "res_format"}
SORT_FIELDS = {"score", "metadata_modified", "metadata_created", "name", "title_string", "num_resources",
               "num_tags"}


class SearchQueryError(Exception):
    """A query the engine cannot parse (CKAN: "Search Query Error", 400)."""


def ckan_time(value: dt.datetime) -> str:
    """CKAN's timestamps: UTC, ISO 8601 without an offset."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat()


def org_id(code: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "organization:" + code))


def group_id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "group:" + name))


def tag_id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "tag:" + name))


def distribution_id(resource: CatalogueResource) -> str:
    return str(uuid.uuid5(resource.uid, "distribution:csv"))


def open_resources() -> list[CatalogueResource]:
    return list(CatalogueResource.objects.filter(is_open=True).exclude(open_fields=[])
                .select_related("department").order_by("slug"))


def get_open(name_or_id: str) -> CatalogueResource | None:
    qs = CatalogueResource.objects.filter(is_open=True).select_related("department")
    try:
        return qs.filter(uid=uuid.UUID(str(name_or_id))).first()
    except ValueError:
        return qs.filter(slug=str(name_or_id)).first()


@dataclass(frozen=True)
class OpenField:
    name: str
    label_zh: str
    label_en: str
    description: str


def open_fields(resource: CatalogueResource) -> list[OpenField]:
    """The fields published as open data: the chosen open fields, never personal ones."""
    provider = providers.get(resource.provider_code)
    if provider is None:
        return []
    out = []
    for f in provider.spec.fields:
        if f.name in resource.open_fields and not f.personal:
            out.append(OpenField(f.name, f.label_zh, f.label_en, f.description))
    return out


def theme_title(name: str) -> str:
    return str(Theme(name).label) if name in Theme.values else name


# --- CKAN dictionaries --------------------------------------------------------------------------------

def organization_dict(dept: Department, created: dt.datetime | None = None, package_count: int | None = None
                      ) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": org_id(dept.code), "name": dept.code, "title": dept.name, "display_name": dept.name,
        "type": "organization", "description": "", "image_url": "", "image_display_url": "",
        "created": ckan_time(created or timezone.now()), "is_organization": True, "approval_status": "approved",
        "state": "active",
    }
    if package_count is not None:
        data["package_count"] = package_count
    return data


def group_dict(name: str, package_count: int | None = None) -> dict[str, Any]:
    title = theme_title(name)
    data: dict[str, Any] = {
        "id": group_id(name), "name": name, "title": title, "display_name": title, "description": "",
        "image_url": "", "image_display_url": "", "type": "group", "is_organization": False,
        "approval_status": "approved", "state": "active",
    }
    if package_count is not None:
        data["package_count"] = package_count
    return data


def download_path(resource: CatalogueResource) -> str:
    return f"/open/datasets/{resource.slug}/download.csv"


def package_dict(resource: CatalogueResource, base_url: str) -> dict[str, Any]:
    """One open dataset in CKAN's package schema."""
    base = base_url.rstrip("/")
    title, url, license_url = LICENSES.get(resource.license_id, (resource.license_id, "", ""))
    fields = open_fields(resource)
    created, modified = ckan_time(resource.created_at), ckan_time(resource.modified_at)
    tags = [{"id": tag_id(t), "name": t, "display_name": t, "state": "active", "vocabulary_id": None}
            for t in resource.tags]
    groups = [group_dict(resource.theme)] if resource.theme else []
    distribution = {
        "id": distribution_id(resource), "package_id": str(resource.uid), "name": f"{resource.name}（CSV）",
        "description": "字段 / fields: " + ", ".join(f.name for f in fields), "url": base + download_path(resource),
        "format": "CSV", "mimetype": "text/csv", "state": "active", "created": created, "last_modified": modified,
        "metadata_modified": modified, "position": 0, "url_type": None, "size": None, "hash": "",
        "cache_url": None, "datastore_active": False, "resource_type": None,
    }
    frequency = UpdateFrequency(resource.update_frequency).label if resource.update_frequency in \
        UpdateFrequency.values else resource.update_frequency
    return {
        "id": str(resource.uid), "name": resource.slug, "title": resource.name, "type": "dataset",
        "notes": resource.description, "url": base + f"/open/datasets/{resource.slug}/", "version": None,
        "state": "active", "private": False, "license_id": resource.license_id, "license_title": title,
        "license_url": license_url or url, "isopen": True, "author": resource.department.name, "author_email": None,
        "maintainer": resource.department.name, "maintainer_email": None,
        "owner_org": org_id(resource.department.code),
        "organization": organization_dict(resource.department, resource.created_at),
        "metadata_created": created, "metadata_modified": modified, "creator_user_id": None,
        "tags": tags, "num_tags": len(tags), "groups": groups,
        "resources": [distribution], "num_resources": 1,
        "extras": [
            {"key": "catalogue_code", "value": resource.code},
            {"key": "update_frequency", "value": str(frequency)},
            {"key": "fields", "value": ",".join(f.name for f in fields)},
        ],
        "relationships_as_object": [], "relationships_as_subject": [],
    }


# --- search ----------------------------------------------------------------------------------------

@dataclass
class _Doc:
    resource: CatalogueResource
    values: dict[str, list[str]]
    texts: dict[str, str]


def _doc(resource: CatalogueResource) -> _Doc:
    values = {
        "id": [str(resource.uid)], "name": [resource.slug], "title": [resource.name],
        "organization": [resource.department.code], "owner_org": [org_id(resource.department.code)],
        "tags": list(resource.tags), "groups": [resource.theme] if resource.theme else [],
        "res_format": ["CSV"], "license_id": [resource.license_id], "state": ["active"], "type": ["dataset"],
        "capacity": ["public"], "metadata_modified": [ckan_time(resource.modified_at)],
        "metadata_created": [ckan_time(resource.created_at)],
    }
    texts = {
        "title": f"{resource.name} {resource.name_en}".lower(), "name": resource.slug.lower(),
        "tags": " ".join(resource.tags).lower(), "notes": resource.description.lower(),
        "organization": f"{resource.department.name} {resource.department.code}".lower(),
        "groups": theme_title(resource.theme).lower() if resource.theme else "",
    }
    return _Doc(resource, values, texts)


_TERM = re.compile(r'([+-]?)([A-Za-z_][\w.]*):(\([^)]*\)|"[^"]*"|\S+)|("[^"]*"|\S+)')
_WEIGHTS = {"title": 5.0, "tags": 3.0, "name": 2.0, "groups": 1.5, "organization": 1.0, "notes": 1.0}


@dataclass(frozen=True)
class _Clause:
    negate: bool
    field: str      # "" for free text
    values: tuple[str, ...]


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def parse_query(text: str) -> list[_Clause]:
    clauses: list[_Clause] = []
    text = (text or "").strip()
    if text in ("", "*:*", "*"):
        return clauses
    for match in _TERM.finditer(text):
        sign, field_name, value, free = match.groups()
        if free is not None:
            if free.upper() in ("AND", "&&"):
                continue
            if free.upper() in ("OR", "NOT", "||"):
                raise SearchQueryError(f"unsupported operator {free}")
            negate = free.startswith("-")
            word = _unquote(free.lstrip("+-")).strip().lower()
            if word:
                clauses.append(_Clause(negate, "", (word,)))
            continue
        if value.startswith("("):
            parts = [p for p in re.split(r"\s+OR\s+|\s+", value[1:-1].strip()) if p]
            values = tuple(_unquote(p) for p in parts)
        else:
            values = (_unquote(value),)
        clauses.append(_Clause(sign == "-", field_name, values))
    return clauses


def _known_field(name: str) -> bool:
    return name in {"id", "name", "title", "organization", "owner_org", "tags", "groups", "res_format",
                    "license_id", "state", "type", "capacity", "metadata_modified", "metadata_created", "text"}


def _match(doc: _Doc, clause: _Clause) -> tuple[bool, float]:
    if not clause.field or clause.field == "text":
        word = clause.values[0].lower()
        score = sum(weight for key, weight in _WEIGHTS.items() if word in doc.texts[key])
        return score > 0, score
    if not _known_field(clause.field):
        raise SearchQueryError(f"undefined field {clause.field}")
    have = doc.values.get(clause.field, [])
    for value in clause.values:
        if value == "*" and have:
            return True, 0.0
        if clause.field == "res_format":
            if value.upper() in (v.upper() for v in have):
                return True, 0.0
        elif clause.field == "title":
            if value.lower() in doc.texts["title"]:
                return True, 1.0
        elif value in have:
            return True, 0.0
    return False, 0.0


def _parse_sort(sort: str) -> list[tuple[str, bool]]:
    keys: list[tuple[str, bool]] = []
    for part in (sort or DEFAULT_SORT).split(","):
        bits = part.split()
        if not bits:
            continue
        if len(bits) != 2 or bits[1].lower() not in ("asc", "desc") or bits[0] not in SORT_FIELDS:
            raise SearchQueryError(f"cannot sort by {part.strip()!r}")
        keys.append((bits[0], bits[1].lower() == "desc"))
    return keys


def _sort_value(doc: _Doc, score: float, key: str) -> Any:
    r = doc.resource
    return {
        "score": score, "metadata_modified": r.modified_at, "metadata_created": r.created_at, "name": r.slug,
        "title_string": r.name, "num_resources": 1, "num_tags": len(r.tags),
    }[key]


def _sort_key(key: str, item: tuple[_Doc, float]) -> Any:
    return _sort_value(item[0], item[1], key)


@dataclass
class SearchResult:
    count: int
    resources: list[CatalogueResource]
    facets: dict[str, list[tuple[str, str, int]]]   # field -> [(name, display_name, count)]
    sort: str


def _display(field_name: str, value: str, depts: dict[str, str]) -> str:
    if field_name == "organization":
        return depts.get(value, value)
    if field_name == "groups":
        return theme_title(value)
    if field_name == "license_id":
        return LICENSES.get(value, (value,))[0]
    return value


def search(
    *, q: str = "", fq: str | Sequence[str] = "", rows: int = DEFAULT_ROWS, start: int = 0, sort: str = "",
    facet_fields: Sequence[str] = (), facet_limit: int = DEFAULT_FACET_LIMIT, facet_mincount: int = 1,
) -> SearchResult:
    """CKAN ``package_search`` over the open datasets."""
    query = parse_query(q)
    filters: list[_Clause] = []
    for part in [fq] if isinstance(fq, str) else list(fq):
        filters.extend(parse_query(part))
    sort_keys = _parse_sort(sort)
    matched: list[tuple[_Doc, float]] = []
    for resource in open_resources():
        doc = _doc(resource)
        score, ok = 0.0, True
        for clause in [*query, *filters]:
            hit, points = _match(doc, clause)
            if hit == clause.negate:
                ok = False
                break
            if not clause.negate:
                score += points
        if ok:
            matched.append((doc, score if query else 1.0))
    for key, desc in reversed(sort_keys):
        matched.sort(key=partial(_sort_key, key), reverse=desc)
    depts = {d.resource.department.code: d.resource.department.name for d, _ in matched}
    facets: dict[str, list[tuple[str, str, int]]] = {}
    for field_name in facet_fields:
        counts: dict[str, int] = {}
        for doc, _ in matched:
            for value in doc.values.get(field_name, []):
                counts[value] = counts.get(value, 0) + 1
        items = sorted(((name, n) for name, n in counts.items() if n >= facet_mincount), key=lambda x: (-x[1], x[0]))
        if facet_limit >= 0:
            items = items[:facet_limit]
        facets[field_name] = [(name, _display(field_name, name, depts), n) for name, n in items]
    page = [doc.resource for doc, _ in matched[start:start + rows]]
    return SearchResult(len(matched), page, facets, sort or DEFAULT_SORT)


def organizations() -> list[tuple[Department, int, dt.datetime]]:
    """Departments publishing open data: (department, dataset count, first publication)."""
    seen: dict[int, list[Any]] = {}
    for resource in open_resources():
        item = seen.setdefault(resource.department_id, [resource.department, 0, resource.created_at])
        item[1] += 1
        item[2] = min(item[2], resource.created_at)
    return [(d, n, c) for d, n, c in seen.values()]


def groups() -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for resource in open_resources():
        if resource.theme:
            counts[resource.theme] = counts.get(resource.theme, 0) + 1
    return sorted(counts.items())


# --- the CSV distribution ---------------------------------------------------------------------------

_FORMULA = re.compile(r"^[=+@\t\r]|^-(?![\d.])")
CSV_BATCH = 2000


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if _FORMULA.match(text) else text  # no spreadsheet formulas from open data


def csv_rows(resource: CatalogueResource, max_rows: int = CSV_MAX_ROWS) -> Iterator[list[str]]:
    """Header then up to ``max_rows`` records of the open, non-personal fields, read page by page."""
    provider = providers.get(resource.provider_code)
    fields = [f.name for f in open_fields(resource)]
    yield fields
    if provider is None or not fields:
        return
    offset = 0
    while offset < max_rows:
        total, page = provider.query(fields, {}, min(CSV_BATCH, max_rows - offset), offset)
        if not page:
            return
        for record in page:
            yield [_cell(record.get(name)) for name in fields]
        offset += len(page)
        if offset >= total:
            return
