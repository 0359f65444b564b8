"""Model fields for personal data: encrypted at rest (SM4) with a keyed blind index."""

from __future__ import annotations

from typing import Any

from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """A text column whose value is stored SM4-encrypted; Python code sees plain text.

    Exact lookups are impossible on the ciphertext: store a blind index beside it
    (``crypto.blind_index``) and query that.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def to_python(self, value: Any) -> str | None:
        return value

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))
