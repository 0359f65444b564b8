"""Run the electronic supervision sweep once (the worker runs it every 10 minutes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from liaocheng.egov import supervision


def _moment(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"时间格式应为 YYYY-MM-DDTHH:MM / expected YYYY-MM-DDTHH:MM, got {value!r}") from exc
    return moment if moment.tzinfo else timezone.make_aware(moment)


class Command(BaseCommand):
    help = ("电子监察：立即检查所有在办办件和依申请公开，发出预警、黄牌、红牌和异常提示，解除已消除的 / run the "
            "electronic supervision sweep now (warnings, yellow and red cards, flags; resolves cleared ones)")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--at", type=_moment, default=None,
                            help="检查时刻（默认现在）/ the moment to check at (default: now), YYYY-MM-DDTHH:MM")

    def handle(self, *args: Any, **options: Any) -> None:
        result = supervision.sweep(now=options["at"])
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(result.created.items()) if n) or "—"
        self.stdout.write(f"新发监察牌 {result.total} 张（{kinds}），解除 {result.resolved} 张 / "
                          f"{result.total} cards written ({kinds}), {result.resolved} resolved")
