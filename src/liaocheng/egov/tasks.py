"""Background work of the e-government app (huey). Tasks stay thin and call services."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import supervision

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/10"))
def supervision_sweep() -> supervision.SweepResult:
    """Every ten minutes: electronic supervision (电子监察) writes warning, yellow and red cards and flags."""
    result = supervision.sweep()
    if result.total or result.resolved:
        log.info("egov supervision: %s written, %d resolved", result.created, result.resolved)
    return result
