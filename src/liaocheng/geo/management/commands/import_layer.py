from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from liaocheng.core.errors import DomainError
from liaocheng.core.models import User
from liaocheng.geo import layers


class Command(BaseCommand):
    help = ("Import a layer's features from a GeoJSON FeatureCollection, validated against the layer's schema "
            "(all or nothing; every bad feature is listed).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("layer", help="layer code, e.g. schools")
        parser.add_argument("file", type=Path, help="GeoJSON FeatureCollection (UTF-8)")
        parser.add_argument("--as-user", required=True, help="username of the acting staff member")
        parser.add_argument("--datum", choices=["gcj02", "wgs84"], default="gcj02",
                            help="datum of the file's coordinates (wgs84 is converted to GCJ-02)")
        parser.add_argument("--replace", action="store_true",
                            help="also delete the layer's features that are not in the file (city-wide right)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["as_user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['as_user']}")
        path: Path = options["file"]
        try:
            data = path.read_bytes()
            if data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            result = layers.import_features(acting_user=user, layer_code=options["layer"], data=data,
                                            input_datum=options["datum"], replace=options["replace"],
                                            source=path.name)
        except layers.LayerImportError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(exc.problems)} problem(s), nothing imported / 有错误，未导入") from exc
        except (DomainError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{result.layer.code}: {result.total} features — created {result.created}, updated {result.updated}, "
            f"unchanged {result.unchanged}, deleted {result.deleted}"
        )
