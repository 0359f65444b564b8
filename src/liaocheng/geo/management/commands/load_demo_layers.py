from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from liaocheng.geo import layers


class Command(BaseCommand):
    help = ("Create the shipped spatial layers (schools, hospitals, shelters, fire stations, land parcels, rivers, "
            "lakes) with generated demo features where a layer is missing or empty (idempotent).")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = layers.ensure_demo_layers()
        if not counts:
            self.stdout.write("演示图层已存在 / demo layers already loaded")
            return
        for code, n in counts.items():
            self.stdout.write(f"{code}: {n} generated features / 生成的演示要素")
