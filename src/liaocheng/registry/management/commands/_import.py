"""Shared implementation of ``import_population`` and ``import_entities``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from rich.table import Table

from liaocheng.core.errors import DomainError
from liaocheng.core.progress import console, progress_reporter
from liaocheng.registry import importers


class ImportCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="CSV (UTF-8 / GBK / GB18030) or XLSX file")
        parser.add_argument("--as-user", required=True, help="the acting staff account (needs registry.import)")
        parser.add_argument("--source-department", default=None,
                            help="department code the data comes from (default: the user's own department)")
        parser.add_argument("--batch-size", type=int, default=importers.BATCH_SIZE)
        parser.add_argument("--resume", type=int, default=None, metavar="JOB",
                            help="continue job JOB (e.g. after fixing the rows of its failed batches)")
        parser.add_argument("--show-errors", type=int, default=50, help="how many row errors to print")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = importers.require_import_user(options["as_user"])
            with progress_reporter() as report:
                job = importers.run_import(
                    self.kind, Path(options["file"]), acting_user=user, source_department=options["source_department"],
                    batch_size=options["batch_size"], resume_job=options["resume"], progress=report)
        except (DomainError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        console.print(f"任务 job #{job.pk}: {job.status} — 写入 committed {job.rows_committed} 行 rows, "
                      f"未写入 not written {job.rows_failed} 行 rows, 错误 errors {job.error_count}, "
                      f"{job.seconds:.1f} s")
        errors = importers.job_errors(job, options["show_errors"])
        if errors:
            table = Table(title="错误 / errors")
            for col in ("行 row", "字段 field", "原因 reason"):
                table.add_column(col)
            for e in errors:
                table.add_row(str(e.row or ""), e.field, f"{e.message_zh} / {e.message_en}")
            console.print(table)
            console.print(f"改正文件后运行 / fix the file and run: liaocheng {self.command_name()} FILE --as-user "
                          f"{options['as_user']} --resume {job.pk}")

    def command_name(self) -> str:
        return f"import_{self.kind}" if self.kind == "entities" else "import_population"
