from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from liaocheng.core.progress import console, progress_reporter
from liaocheng.geo.profile import load_profile
from liaocheng.registry.generator import generate


class Command(BaseCommand):
    help = "Write synthetic residents.csv and entities.csv (realistic, valid ID numbers and credit codes)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--residents", type=int, default=100_000)
        parser.add_argument("--entities", type=int, default=10_000)
        parser.add_argument("--out", required=True, help="output directory")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--encoding", default="utf-8", choices=["utf-8", "utf-8-sig", "gbk", "gb18030"])
        parser.add_argument("--cache-dir", default=str(Path(settings.VAR_DIR) / "cache"))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["residents"] < 0 or options["entities"] < 0:
            raise CommandError("counts must not be negative")
        started = time.perf_counter()
        with console.status("读取城市基础地理数据 / reading the city profile..."):
            profile = load_profile(Path(options["cache_dir"]))
        with progress_reporter() as report:
            files = generate(profile, Path(options["out"]), residents=options["residents"],
                             entities=options["entities"], seed=options["seed"], encoding=options["encoding"],
                             progress=report)
        console.print(f"{files.resident_count} 人 residents -> {files.residents}; {files.entity_count} 个法人单位"
                      f" entities -> {files.entities} ({time.perf_counter() - started:.1f} s)")
