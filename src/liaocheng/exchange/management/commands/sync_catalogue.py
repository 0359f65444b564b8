from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from liaocheng.core import providers
from liaocheng.core.progress import console
from liaocheng.exchange import services


class Command(BaseCommand):
    help = "Create a catalogue entry for every registered data provider (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = services.sync_catalogue(acting_user=services.SYSTEM)
        console.print(f"providers: {len(providers.all_providers())}  created: {len(result.created)}  "
                      f"updated: {len(result.updated)}  skipped: {len(result.skipped)}")
        for code in result.created:
            console.print(f"  + {code}")
        for code in result.updated:
            console.print(f"  ~ {code}")
        for code, reason in result.skipped:
            console.print(f"  [yellow]! {code}: {reason}[/yellow]")
