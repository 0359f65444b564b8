"""Background work of the core app (huey). Tasks stay thin and call services."""

from __future__ import annotations

import logging
import socket

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, on_startup

from . import audit
from .services import record_heartbeat

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def heartbeat() -> None:
    record_heartbeat(f"worker@{socket.gethostname()}")


@on_startup()
def heartbeat_on_startup() -> None:
    """A worker that just started is alive: say so at once rather than at the next full minute."""
    from django.db import close_old_connections

    close_old_connections()
    record_heartbeat(f"worker@{socket.gethostname()}")


@db_periodic_task(crontab(minute="17", hour="2"))
def nightly_audit_verify() -> None:
    result = audit.verify()
    if result.ok:
        log.info("audit chain verified: %s", result.message)
    else:
        log.error("AUDIT CHAIN BROKEN: %s", result.message)
