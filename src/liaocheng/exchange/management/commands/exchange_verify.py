from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from liaocheng.core.progress import console, progress_reporter
from liaocheng.exchange import chain
from liaocheng.exchange.models import ExchangeLog


class Command(BaseCommand):
    help = ("Verify the exchange log: the SM3 hash chain and every record's SM2 signature. With --evidence FILE, "
            "check one downloaded evidence document instead.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--evidence", metavar="FILE", help="an evidence JSON document to check on its own")
        parser.add_argument("--public-key", metavar="PEM_FILE",
                            help="with --evidence: trust this public key instead of the one in the document")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["evidence"]:
            try:
                doc = json.loads(Path(options["evidence"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read {options['evidence']}: {exc}") from exc
            trusted = Path(options["public_key"]).read_text(encoding="ascii") if options["public_key"] else None
            ok, message = chain.verify_evidence(doc, trusted)
            if not ok:
                raise CommandError(f"EVIDENCE INVALID: {message}")
            console.print(f"[green]OK[/green] {message}")
            return
        total = ExchangeLog.objects.count()
        with progress_reporter() as report:
            result = chain.verify(progress=lambda done: report("交换日志校验 / verifying", done, total))
        if result.ok:
            console.print(f"[green]OK[/green] {result.message}")
            return
        raise CommandError(f"EXCHANGE LOG BROKEN at record #{result.seq} ({result.problem}): {result.message}")
