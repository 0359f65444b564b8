from __future__ import annotations

from ._import import ImportCommand


class Command(ImportCommand):
    help = "Import legal entities into the legal-entity base database (法人单位基础库) from CSV or XLSX."
    kind = "entities"
