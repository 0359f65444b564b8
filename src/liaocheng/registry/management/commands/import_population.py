from __future__ import annotations

from ._import import ImportCommand


class Command(ImportCommand):
    help = "Import persons into the population base database (人口基础库) from CSV or XLSX, in resumable batches."
    kind = "population"
