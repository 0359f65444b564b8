from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rich.table import Table

from liaocheng.core.demo import DEMO_PASSWORD
from liaocheng.core.progress import console
from liaocheng.setup import prepare_demo  # project-level assembly of every app's demo data

from .serve import serve


class Command(BaseCommand):
    help = "Migrate, load the city profile and demo data (idempotent), then serve on 127.0.0.1:8000."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-serve", action="store_true", help="prepare the data and exit")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo data is not loaded in production (LIAOCHENG_ENV=production)")
        accounts = prepare_demo()
        self._print_accounts(accounts, options["host"], options["port"])
        if not options["no_serve"]:
            serve(options["host"], options["port"], threads=8)

    def _print_accounts(self, accounts: list[Any], host: str, port: int) -> None:
        table = Table(title=f"演示账号 / demo accounts (密码 password: {DEMO_PASSWORD})")
        table.add_column("用户名 username")
        table.add_column("类型 kind")
        table.add_column("说明 note")
        for acc, _secret in accounts:
            table.add_row(acc.username, acc.kind, acc.note)
        console.print(table)
        console.print("TOTP 密钥 / secrets:")
        for acc, secret in accounts:
            if secret:
                console.print(f"  {acc.username:<16} {secret}", soft_wrap=True)
        console.print("工作人员登录需动态口令：把密钥加入验证器应用，或运行 `liaocheng totp 用户名` 查看当前口令。")
        console.print("Staff log in with a one-time code: add the secret to an authenticator app, or run "
                      "`liaocheng totp USERNAME` for the current code.")
        console.print(f"[bold green]http://{host}:{port}/[/bold green]  API: http://{host}:{port}/api/docs")
