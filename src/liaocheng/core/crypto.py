"""Domestic cryptography for the platform (GM/T algorithms through OpenSSL via ``cryptography``).

- SM3 hashes the audit chain.
- SM4-GCM encrypts personal data at rest (ID and phone numbers): ``v1:`` + base64(nonce ‖ ciphertext ‖ tag).
- HMAC-SM3 with a separate key gives a *blind index*: an exact-match lookup column that reveals
  nothing without the key.
- Masking helpers show personal data to roles without the right to see it in full.

Keys come from settings (``LIAOCHENG_DATA_KEY``, ``LIAOCHENG_INDEX_KEY``), which read the
environment; they are never in the repository.
"""

from __future__ import annotations

import base64
import json
import os
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings

_VERSION = "v1:"
_NONCE = 12
_TAG = 16


class DecryptionError(Exception):
    pass


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


@lru_cache(maxsize=4)
def _key(hex_value: str, size: int, name: str) -> bytes:
    try:
        key = bytes.fromhex(hex_value)
    except ValueError as exc:
        raise ValueError(f"{name} must be hex") from exc
    if len(key) != size:
        raise ValueError(f"{name} must be {size} bytes ({size * 2} hex digits)")
    return key


def _data_key() -> bytes:
    return _key(settings.LIAOCHENG_DATA_KEY, 16, "LIAOCHENG_DATA_KEY")


def _index_key() -> bytes:
    return _key(settings.LIAOCHENG_INDEX_KEY, 32, "LIAOCHENG_INDEX_KEY")


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(_NONCE)
    encryptor = Cipher(algorithms.SM4(_data_key()), modes.GCM(nonce)).encryptor()
    ciphertext = encryptor.update(plaintext.encode("utf-8")) + encryptor.finalize()
    return _VERSION + base64.b64encode(nonce + ciphertext + encryptor.tag).decode("ascii")


def decrypt(token: str) -> str:
    if not token.startswith(_VERSION):
        raise DecryptionError("unknown ciphertext format")
    raw = base64.b64decode(token[len(_VERSION):])
    nonce, ciphertext, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    decryptor = Cipher(algorithms.SM4(_data_key()), modes.GCM(nonce, tag)).decryptor()
    try:
        return (decryptor.update(ciphertext) + decryptor.finalize()).decode("utf-8")
    except InvalidTag as exc:
        raise DecryptionError("ciphertext was altered or the key is wrong") from exc


def blind_index(kind: str, value: str) -> str:
    """Keyed HMAC-SM3 of a normalised value, namespaced by kind ("id_number", "phone", ...)."""
    if not value:
        return ""
    mac = hmac.HMAC(_index_key(), hashes.SM3())
    mac.update(kind.encode("ascii") + b"\x00" + value.strip().upper().encode("utf-8"))
    return mac.finalize().hex()


def mask_id_number(value: str) -> str:
    """371502199001011234 -> 371502********1234 (region kept, birth date hidden)."""
    if not value:
        return ""
    if len(value) <= 10:
        return value[:2] + "*" * max(len(value) - 2, 0)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """13812345678 -> 138****5678."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """张三丰 -> 张**."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)


def mask_address(value: str) -> str:
    """莘县燕店镇后杨村12号 -> 莘县燕店镇****: the place stays readable, the house does not."""
    if not value:
        return ""
    keep = min(6, max(len(value) // 2, 1))
    return value[:keep] + "****"


def canonical_json(value: Any) -> str:
    """The one JSON form that is hashed and signed: sorted keys, no spaces, UTF-8 text kept."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
