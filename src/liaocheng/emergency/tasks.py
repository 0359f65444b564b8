"""Background work of the emergency app (huey). Tasks stay thin: they deliver what the services decided."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from huey.contrib.djhuey import db_task

from liaocheng.core.models import User

log = logging.getLogger(__name__)


@db_task(retries=3, retry_delay=60)
def send_duty_leader_notice(number: str, usernames: list[str], subject: str, body: str) -> int:
    """E-mail the duty leaders named by ``intake._notify_leaders`` (those with an address); returns the
    number of mails sent. Retried when the mail server is unreachable."""
    recipients = list(User.objects.filter(username__in=usernames, is_active=True).exclude(email="")
                      .values_list("email", flat=True))
    if not recipients:
        return 0
    link = f"{settings.PUBLIC_BASE_URL}/emergency/incidents/{number}/"
    with get_connection() as connection:
        messages = [EmailMessage(subject, f"{body}\n\n{link}\n", settings.DEFAULT_FROM_EMAIL, [to],
                                 connection=connection) for to in recipients]
        sent = connection.send_messages(messages) or 0
    log.info("duty-leader notice for %s: %d of %d sent", number, sent, len(recipients))
    return sent
