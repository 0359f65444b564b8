from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from liaocheng.economy import services


class Command(BaseCommand):
    help = ("Create the indicator catalogue and synthetic demo values 2015–2024 for the city and its counties "
            "(marked generated; idempotent, never overwrites existing values).")

    def handle(self, *args: Any, **options: Any) -> None:
        created = services.ensure_demo_economy()
        if created:
            self.stdout.write(f"已生成 {created} 个演示数值（合成数据，非统计数据） / {created} demo values created")
        else:
            self.stdout.write("演示经济数据已存在 / demo economy data already loaded")
