"""The published interface between data owners and the data-exchange centre.

A domain app that owns data (the base databases in ``registry``, later ``credit``, ``social``...)
implements ``DataProvider`` for each resource it offers and registers it in its ``AppConfig.ready()``.
The exchange centre (``exchange``) lists, reads and subscribes to resources only through this module,
so neither app imports the other. Providers return values in clear; the exchange applies grants and
masking (``FieldSpec.personal``) before anything leaves the platform.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label_zh: str
    label_en: str
    # "" for ordinary data; otherwise the kind of personal data, which decides the mask:
    # "id_number" | "phone" | "name" | "address"
    personal: str = ""
    description: str = ""


@dataclass(frozen=True)
class ResourceSpec:
    code: str                      # stable, e.g. "population.person"
    name_zh: str
    name_en: str
    description: str
    owner_department_kind: str     # core.departments.KINDS key of the authoritative owner, e.g. "public_security"
    key_field: str                 # the field a record is looked up by, e.g. "id_number"
    fields: tuple[FieldSpec, ...]
    update_frequency: str          # "realtime" | "daily" | "weekly" | "monthly" | "quarterly" | "yearly"
    default_sharing: str           # "unconditional" | "conditional" | "none"
    open: bool = False             # may be published as open data
    division_field: str | None = None  # field with a GB/T 2260-based division code, for scoping
    tags: tuple[str, ...] = field(default_factory=tuple)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class Change:
    seq: int                       # strictly increasing per resource: the subscription cursor
    key: str                       # the record's key value
    kind: str                      # "created" | "updated" | "deceased" | "moved_out" | "deregistered" | ...
    changed_fields: tuple[str, ...]
    effective_date: dt.date | None
    recorded_at: dt.datetime


@runtime_checkable
class DataProvider(Protocol):
    spec: ResourceSpec

    def get(self, key: str, fields: Sequence[str]) -> dict[str, Any] | None:
        """One record by key, only the named fields; None when there is no such record."""

    def query(self, fields: Sequence[str], filters: Mapping[str, str], limit: int, offset: int
              ) -> tuple[int, list[dict[str, Any]]]:
        """Records matching exact-value filters on the named fields: (total count, page)."""

    def changes(self, after: int, limit: int) -> list[Change]:
        """Changes with seq > ``after``, oldest first."""


_providers: dict[str, DataProvider] = {}


def register(provider: DataProvider) -> None:
    code = provider.spec.code
    existing = _providers.get(code)
    if existing is not None and existing is not provider and type(existing) is not type(provider):
        raise ValueError(f"resource {code} already has a provider")
    _providers[code] = provider


def unregister(code: str) -> None:
    _providers.pop(code, None)


def get(code: str) -> DataProvider | None:
    return _providers.get(code)


def all_providers() -> list[DataProvider]:
    return [_providers[c] for c in sorted(_providers)]
