from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from liaocheng.core.errors import DomainError
from liaocheng.core.models import User
from liaocheng.geo import services


class Command(BaseCommand):
    help = "Import an official boundary (GeoJSON file) for a division, replacing the generated one."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("code", help="division code")
        parser.add_argument("file", type=Path, help="GeoJSON file (Polygon/MultiPolygon, Feature or FeatureCollection)")
        parser.add_argument("--as-user", required=True, help="username of the acting staff member")
        parser.add_argument("--datum", choices=["gcj02", "wgs84"], default="gcj02")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["as_user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['as_user']}")
        try:
            text = options["file"].read_text(encoding="utf-8-sig")
            div = services.import_division_boundary(acting_user=user, code=options["code"], geojson=text,
                                                    input_datum=options["datum"])
        except (DomainError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{div.code} {div.name}: boundary imported")
