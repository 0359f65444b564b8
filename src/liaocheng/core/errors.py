"""Errors the domain raises for bad input; the web and API layers turn them into 4xx answers."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A clear, bilingual error: which field, why, and (for imports) which row."""

    status = 400
    code = "invalid"

    def __init__(
        self, message_zh: str, message_en: str, *, field: str | None = None, row: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(f"{message_zh} / {message_en}")
        self.message_zh = message_zh
        self.message_en = message_en
        self.field = field
        self.row = row
        if code:
            self.code = code

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"error": self.code, "message": str(self), "message_zh": self.message_zh,
                                "message_en": self.message_en}
        if self.field is not None:
            data["field"] = self.field
        if self.row is not None:
            data["row"] = self.row
        return data


class InvalidInput(DomainError):
    status = 400


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Throttled(DomainError):
    status = 429
    code = "throttled"
