"""Shared helpers for tabular imports (CSV / Excel headers): any app's importer maps a file's header row to
its canonical field names with the same rules and the same bilingual errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import InvalidInput


def normalise_header(value: Any) -> str:
    """Header cell → comparison key: BOM dropped, case folded, runs of spaces, ``_`` and ``-`` as one space."""
    return re.sub(r"[\s_\-]+", " ", str(value or "").replace("\ufeff", "").strip().lower())


def map_header(header: list[str], columns: dict[str, tuple[str, ...]], required: tuple[str, ...],
               label: Callable[[str], str] | None = None) -> dict[str, int]:
    """Canonical field name -> column index (``columns``: field -> accepted header names). Refuses, naming
    them, missing required or duplicated columns (row 1, field ``header``). ``label(field)`` is the
    Chinese name shown for a missing column (default: the first alias)."""
    by_alias = {normalise_header(alias): fld for fld, aliases in columns.items() for alias in aliases}
    index: dict[str, int] = {}
    duplicated: list[str] = []
    for i, name in enumerate(header):
        fld = by_alias.get(normalise_header(name))
        if fld is None:
            continue
        if fld in index:
            duplicated.append(str(name))
        index[fld] = i
    if duplicated:
        raise InvalidInput(f"列重复：{'、'.join(duplicated)}", f"duplicated columns: {', '.join(duplicated)}",
                           field="header", row=1)
    missing = [f for f in required if f not in index]
    if missing:
        name_of = label or (lambda f: columns[f][0])
        zh = "、".join(f"{name_of(f)}（{f}）" for f in missing)
        raise InvalidInput(f"缺少必需的列：{zh}", f"missing required columns: {', '.join(missing)}", field="header",
                           row=1, code="missing_columns")
    return index
