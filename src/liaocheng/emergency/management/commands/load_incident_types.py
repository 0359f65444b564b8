from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from liaocheng.emergency import intake


class Command(BaseCommand):
    help = ("Load the shipped GB/T 35561 incident types with leading departments, priorities and default response "
            "plans (idempotent: creates what is missing, never overwrites edited types or plans).")

    def handle(self, *args: Any, **options: Any) -> None:
        created = intake.load_incident_types()
        if created:
            self.stdout.write(f"已载入 {created} 个突发事件分类 / {created} incident types loaded")
        else:
            self.stdout.write("突发事件分类已存在 / incident types already loaded")
