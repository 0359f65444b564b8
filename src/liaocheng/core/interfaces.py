"""Published cross-domain interfaces: one receiver per process behind a typed protocol.

An app that publishes an interface (``urban.handoff`` to the emergency module, ``egov.credit`` to the
credit module) keeps a ``ReceiverSlot``; the implementing app registers its receiver from its
``AppConfig.ready()``. No Django signals: the dependency is explicit and typed.
"""

from __future__ import annotations

import threading
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ReceiverSlot(Generic[T]):
    def __init__(self, protocol: Any, requirement: str) -> None:
        self._protocol = protocol  # a runtime_checkable Protocol class (abstract: typed Any for mypy)
        self._requirement = requirement  # said when a wrong object is registered
        self._lock = threading.Lock()
        self._receiver: T | None = None

    def register(self, receiver: T) -> None:
        """Install ``receiver`` (a second registration replaces the first)."""
        if not isinstance(receiver, self._protocol):
            raise TypeError(self._requirement)
        with self._lock:
            self._receiver = receiver

    def unregister(self) -> None:
        with self._lock:
            self._receiver = None

    def current(self) -> T | None:
        return self._receiver
