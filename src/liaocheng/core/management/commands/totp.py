from __future__ import annotations

from typing import Any

import pyotp
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from liaocheng.core.models import User


class Command(BaseCommand):
    help = "Print the current one-time code of a demo staff account (not available in production)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("not available in production")
        user = User.objects.filter(username=options["username"]).first()
        if user is None or not user.totp_secret:
            raise CommandError("no such user with a TOTP secret")
        self.stdout.write(pyotp.TOTP(user.totp_secret).now())
