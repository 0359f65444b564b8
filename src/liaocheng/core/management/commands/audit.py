from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from liaocheng.core import audit
from liaocheng.core.models import AuditRecord
from liaocheng.core.progress import console, progress_reporter


class Command(BaseCommand):
    help = "Audit trail: `audit verify` checks the SM3 hash chain and names the first broken record."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        total = AuditRecord.objects.count()
        with progress_reporter() as report:
            result = audit.verify(progress=lambda done: report("审计链校验 / verifying", done, total))
        if result.ok:
            console.print(f"[green]OK[/green] {result.message}")
            return
        raise CommandError(f"AUDIT CHAIN BROKEN at record #{result.seq} ({result.problem}): {result.message}")
