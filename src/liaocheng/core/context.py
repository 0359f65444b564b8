"""The request id of the work in progress (a web request, a CLI command or a task)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("liaocheng_request_id", default=None)


def new_request_id(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex}"


def current_request_id() -> str:
    """The id of the current request; work outside any request gets a fresh one per call."""
    return _request_id.get() or new_request_id("adhoc-")


@contextmanager
def request_context(request_id: str) -> Iterator[str]:
    token = _request_id.set(request_id)
    try:
        yield request_id
    finally:
        _request_id.reset(token)
