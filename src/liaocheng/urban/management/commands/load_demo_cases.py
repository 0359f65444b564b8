from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from liaocheng.core.progress import progress_reporter
from liaocheng.urban.demo import ensure_demo_cases


class Command(BaseCommand):
    help = ("Load a year of synthetic historical urban-management cases across the city (idempotent: nothing "
            "when demo cases exist; load the classes first with load_urban_classes).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=None, help="number of cases (default: DEMO_CASES)")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="last day (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        count = settings.DEMO_CASES if options["count"] is None else options["count"]
        started = time.perf_counter()
        with progress_reporter() as report:
            written = ensure_demo_cases(count, seed=options["seed"], today=options["today"], progress=report)
        elapsed = time.perf_counter() - started
        if written:
            self.stdout.write(f"已载入 {written} 件演示案卷 / {written} demo cases loaded in {elapsed:.1f} s")
        else:
            self.stdout.write("演示案卷已存在或尚未载入分类 / demo cases exist or no classes loaded")
