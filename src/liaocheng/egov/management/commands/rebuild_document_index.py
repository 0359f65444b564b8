"""Rebuild the full-text index of public government documents (after a bulk import or a restore)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from liaocheng.egov import search


class Command(BaseCommand):
    help = ("重建政府信息全文检索索引（一个事务内完成，检索不中断）/ rebuild the full-text index of public government "
            "documents in one transaction (searches keep working meanwhile)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        with transaction.atomic():
            total = search.rebuild_index()
        self.stdout.write(f"已索引 {total} 份公开文件 / {total} public documents indexed in "
                          f"{time.perf_counter() - started:.1f} s")
