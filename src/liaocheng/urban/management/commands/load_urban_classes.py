from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from liaocheng.urban import services


class Command(BaseCommand):
    help = ("Load the shipped component and event classes (GB/T 30428.2 style) with departments and deadlines "
            "(idempotent: creates missing classes only, never overwrites edited ones).")

    def handle(self, *args: Any, **options: Any) -> None:
        created = services.load_classes()
        if created:
            self.stdout.write(f"已载入 {created} 个部件事件小类 / {created} classes loaded")
        else:
            self.stdout.write("部件事件分类已存在 / classes already loaded")
