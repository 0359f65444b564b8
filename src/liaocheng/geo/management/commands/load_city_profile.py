from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from liaocheng.core.progress import console, progress_reporter
from liaocheng.geo import services
from liaocheng.geo.profile import load_profile


class Command(BaseCommand):
    help = "Generate (or read from cache) and load the Liaocheng city profile: divisions, townships, grids."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--cache-dir", default=str(Path(settings.VAR_DIR) / "cache"))

    def handle(self, *args: Any, **options: Any) -> None:
        with console.status("生成城市基础地理数据 / generating the city profile..."):
            profile = load_profile(Path(options["cache_dir"]))
        with progress_reporter() as report:
            loaded = services.load_city_profile(profile, progress=report)
        if loaded:
            console.print(f"已加载 {len(profile.divisions)} 个区划、{len(profile.grids)} 个单元网格 / loaded")
        else:
            console.print("城市基础地理数据已是最新 / city profile already loaded")
