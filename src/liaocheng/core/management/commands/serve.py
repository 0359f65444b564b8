from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand

from liaocheng.core.progress import console


def serve(host: str, port: int, threads: int, with_worker: bool = True) -> None:
    """Web server (waitress) in this process, background worker in a child process."""
    from waitress import serve as waitress_serve

    from liaocheng.wsgi import application

    worker = None
    if with_worker:
        worker = subprocess.Popen(
            [sys.executable, "-m", "liaocheng.cli", "worker"], env=os.environ.copy()
        )
    console.print(f"[bold]数字聊城 Digital Liaocheng[/bold] http://{host}:{port}/  (Ctrl+C 停止 / to stop)")

    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        waitress_serve(application, host=host, port=port, threads=threads, ident="liaocheng")
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()


class Command(BaseCommand):
    help = "Serve the platform: web server and background worker together."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-worker", action="store_true", help="web server only")

    def handle(self, *args: Any, **options: Any) -> None:
        serve(options["host"], options["port"], options["threads"], with_worker=not options["no_worker"])
