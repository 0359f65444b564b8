from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.table import Table

from liaocheng.core import access
from liaocheng.core.errors import DomainError
from liaocheng.core.models import User
from liaocheng.core.progress import console, progress_reporter
from liaocheng.urban import components


class Command(BaseCommand):
    help = ("Import the component census (部件普查) from CSV or GeoJSON, upserting by the 16-digit code in "
            "transactional batches (a batch with a bad row writes nothing; re-run the fixed file to resume). "
            "Columns: see liaocheng.urban.components.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV (UTF-8 / GBK) or GeoJSON FeatureCollection of Points")
        parser.add_argument("--format", choices=["csv", "geojson"], default=None,
                            help="default: from the file name (.csv / .geojson / .json) and content")
        parser.add_argument("--user", "--as-user", dest="user", default=None,
                            help="acting staff account (needs urban.manage_components); default: the system")
        parser.add_argument("--datum", choices=["gcj02", "wgs84"], default="gcj02",
                            help="datum of the coordinates (wgs84 is converted to GCJ-02)")
        parser.add_argument("--batch-size", type=int, default=components.BATCH_SIZE)
        parser.add_argument("--show-errors", type=int, default=50, help="how many row errors to print")

    def handle(self, *args: Any, **options: Any) -> None:
        acting: Any = components.SYSTEM
        if options["user"]:
            acting = User.objects.filter(username=options["user"], is_active=True).first()
            if acting is None:
                raise CommandError(f"用户不存在 / no active user: {options['user']}")
            if not access.has_perm(acting, components.MANAGE_PERM):
                raise CommandError(f"{options['user']} 无权维护城市部件 / may not maintain city components")
        path: Path = options["file"]
        try:
            rows = components.parse_components_file(path, options["format"], path.name)
            with progress_reporter() as report:
                result = components.import_components(
                    acting_user=acting, rows=rows, source_name=path.name, batch_size=options["batch_size"],
                    progress=report, datum=options["datum"])
        except (DomainError, PermissionDenied, OSError) as exc:
            raise CommandError(str(exc)) from exc
        console.print(f"{path.name}: {result.total} 行 rows — 新增 created {result.created}, 更新 updated "
                      f"{result.updated}, 未变 unchanged {result.unchanged}, 未写入 not written {result.failed} "
                      f"({result.failed_batches}/{result.batches} 批 batches), 错误 errors {result.error_count}")
        if result.errors and options["show_errors"] > 0:
            table = Table(title="错误 / errors")
            for col in ("行 row", "字段 field", "原因 reason"):
                table.add_column(col)
            for e in result.errors[:options["show_errors"]]:
                table.add_row(str(e.row), e.field, f"{e.message_zh} / {e.message_en}")
            console.print(table)
            console.print("改正文件后重新运行即可（已写入的行不会重复）/ fix the file and run the same command again "
                          "(rows already written are not duplicated)")
