from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from liaocheng.core.errors import DomainError
from liaocheng.urban import services


class Command(BaseCommand):
    help = "Register an Open311 GeoReport v2 client and print its API key (shown once; only its hash is kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--contact", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client, key = services.create_open311_client(name=options["name"], contact=options["contact"])
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Open311 客户端 {client.name} 已创建 / client created. api_key (shown once):")
        self.stdout.write(key)
