"""Background work of the urban app (huey). Tasks stay thin and call services."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import public, services

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
def escalate_overdue_cases() -> services.EscalationResult:
    """Every five minutes: warn cases near their working-time deadline, escalate (督办) overdue ones."""
    result = services.escalate_overdue()
    if result.warned or result.escalated:
        log.info("urban escalation: %d warned, %d escalated", result.warned, result.escalated)
    return result


@db_periodic_task(crontab(minute="7"))
def send_subscription_digests() -> public.DigestResult:
    """Every hour: mail each confirmed area subscription the new reports and closures since its last mail."""
    result = public.send_digests()
    if result.sent or result.failed:
        log.info("urban digests: %d sent, %d failed", result.sent, result.failed)
    return result
