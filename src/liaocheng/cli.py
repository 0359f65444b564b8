"""The ``liaocheng`` command: Django's management commands under the platform's settings.

    liaocheng demo [--no-serve]     migrate, load the city profile and demo data, then serve
    liaocheng serve [--host H] [--port P]
    liaocheng worker
    liaocheng audit verify
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liaocheng.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["liaocheng", *argv])
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
