from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from liaocheng.core.errors import DomainError
from liaocheng.core.models import User
from liaocheng.economy import services


class Command(BaseCommand):
    help = ("Import indicator values from an .xlsx workbook in the layouts statistics bureaus publish (divisions as "
            "columns, divisions as rows, or years as columns); all or nothing, every bad cell is listed.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path, help="the .xlsx workbook")
        parser.add_argument("--period", help="2024, 2024Q3 or 2024-09 (default: the year in the title)")
        parser.add_argument("--division", help="division of a time-series sheet (name or code; default: the title)")
        parser.add_argument("--source", default="", help="where the figures come from (e.g. the statistical bulletin)")
        parser.add_argument("--as-user", required=True, help="username of the acting staff member")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["as_user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['as_user']}")
        path: Path = options["file"]
        try:
            outcome = services.import_indicators(
                acting_user=user, data=path.read_bytes(), file_name=path.name, period=options["period"],
                division=options["division"], source=options["source"],
            )
        except services.IndicatorImportError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(exc.problems)} bad cell(s), nothing imported / 有错误，未导入任何数据") from exc
        except (DomainError, OSError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        for warning in outcome.warnings:
            self.stderr.write(f"warning: {warning}")
        layouts = ", ".join(f"{sheet}: {layout}" for sheet, layout in outcome.layouts.items())
        self.stdout.write(
            f"import #{outcome.job.pk} ({layouts}): {outcome.values} values — created {outcome.created}, "
            f"replaced {outcome.replaced}, unchanged {outcome.unchanged}"
        )
