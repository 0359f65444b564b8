"""SM2 signatures (with SM3, GM/T 0003 / GM/T 0009) over data-exchange log records.

The platform signing key is an SM2 private key in PKCS#8 PEM, read from ``LIAOCHENG_SIGNING_KEY``
(environment; outside production generated once into ``$LIAOCHENG_VAR_DIR/secrets.env``, where the
PEM's newlines are written as ``\\n``). Signing uses ``tongsuopy`` (C, about 0.25 ms a signature);
signatures are DER ``SEQUENCE { r, s }`` and use the default signer id ``1234567812345678`` in the
Z value, so any conforming SM2 implementation verifies them (checked against gmssl's pure-Python
``CryptSM2.verify_with_sm3``; see ``tests/test_signing.py`` and ADR 0005).

Every public key that has signed is remembered by its key id (``SigningKey`` rows), so records
signed before a key rotation still verify.
"""

from __future__ import annotations

import base64
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec

from liaocheng.core.crypto import sm3_hex

SIGNER_ID = "1234567812345678"  # GM/T 0009 default user id, used in the Z value
ALGORITHM = "SM2-with-SM3"
ENV_NAME = "LIAOCHENG_SIGNING_KEY"


class SignatureError(Exception):
    pass


def _pem_from_setting(value: str) -> bytes:
    """Accept real newlines, ``\\n`` escapes (the secrets file) or base64 of the whole PEM."""
    text = value.strip().replace("\\n", "\n")
    if not text.startswith("-----BEGIN"):
        try:
            text = base64.b64decode(text, validate=True).decode("ascii")
        except ValueError as exc:
            raise SignatureError(f"{ENV_NAME} is neither PEM nor base64 of PEM") from exc
    return text.encode("ascii")


def _configured_value() -> str:
    value = os.environ.get(ENV_NAME) or getattr(settings, ENV_NAME, "")
    if not value:
        # settings/__init__ loads the secrets (and generates this one outside production) but does not
        # export it; read it the same way.
        from liaocheng.settings.env import load_secrets

        value = load_secrets(settings.VAR_DIR, settings.PRODUCTION)[ENV_NAME]
    return value


@dataclass(frozen=True)
class Signer:
    private_key: Any
    public_pem: str
    key_id: str

    def sign(self, data: bytes) -> str:
        """Base64 of the DER signature."""
        signature = self.private_key.sign(data, ec.ECDSA(hashes.SM3()))
        return base64.b64encode(signature).decode("ascii")


def public_key_pem(public_key: Any) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id_for(public_pem: str) -> str:
    """A short, stable name for a public key: SM3 of its DER encoding, first 16 hex digits."""
    der = serialization.load_pem_public_key(public_pem.encode("ascii")).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return sm3_hex(der)[:16]


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _signer_for(value: str) -> Signer:
    key = serialization.load_pem_private_key(_pem_from_setting(value), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name.lower() != "sm2":
        raise SignatureError(f"{ENV_NAME} must be an SM2 private key")
    public_pem = public_key_pem(key.public_key())
    return Signer(key, public_pem, key_id_for(public_pem))


def signer() -> Signer:
    with _lock:
        return _signer_for(_configured_value())


def verify(public_pem: str, data: bytes, signature_b64: str) -> bool:
    try:
        public_key = _public_key(public_pem)
        public_key.verify(base64.b64decode(signature_b64), data, ec.ECDSA(hashes.SM3()))
    except Exception:  # invalid signature, malformed key or signature: not verified
        return False
    return True


@lru_cache(maxsize=16)
def _public_key(public_pem: str) -> Any:
    return serialization.load_pem_public_key(public_pem.encode("ascii"))
