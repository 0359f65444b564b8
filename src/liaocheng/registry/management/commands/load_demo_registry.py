from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from liaocheng.core.progress import console, progress_reporter
from liaocheng.registry.services import ensure_demo_registry


class Command(BaseCommand):
    help = "Generate and import the demo sample of the base databases (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--residents", type=int, default=100_000)
        parser.add_argument("--entities", type=int, default=10_000)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo data is not loaded in production (LIAOCHENG_ENV=production)")
        with progress_reporter() as report:
            result = ensure_demo_registry(residents=options["residents"], entities=options["entities"],
                                          progress=report)
        if result["skipped"]:
            console.print("演示基础库已加载 / demo registry already loaded")
        else:
            console.print(f"已导入 {result['residents']} 人、{result['entities']} 个法人单位 / imported "
                          f"({result['seconds']} s)")
