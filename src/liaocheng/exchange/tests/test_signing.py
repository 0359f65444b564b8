"""SM2 signing of the exchange log: tongsuopy signs; an independent pure-Python implementation
(gmssl) verifies the same signature when it uses the default signer id 1234567812345678 in the Z value."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.core.management import call_command
from django.core.management.base import CommandError
from gmssl import sm2
from tongsuopy.crypto import serialization

from liaocheng.exchange import chain, signing
from liaocheng.exchange.models import ExchangeLog, SigningKey


def _public_hex(public_pem: str) -> str:
    key = serialization.load_pem_public_key(public_pem.encode("ascii"))
    numbers = key.public_numbers()
    return f"{numbers.x:064x}{numbers.y:064x}"


def test_gmssl_verifies_tongsuopy_sm2_signatures() -> None:
    signer = signing.signer()
    data = b"a" * 64
    der = base64.b64decode(signer.sign(data))
    r, s = decode_dss_signature(der)
    verifier = sm2.CryptSM2(private_key="", public_key=_public_hex(signer.public_pem))
    assert verifier.verify_with_sm3(f"{r:064x}{s:064x}", data)  # Z value with id 1234567812345678
    assert not verifier.verify_with_sm3(f"{r:064x}{s:064x}", b"b" * 64)
    assert signing.verify(signer.public_pem, data, signer.sign(data))
    assert not signing.verify(signer.public_pem, b"other", signer.sign(data))


def test_the_key_is_read_from_pem_escaped_pem_or_base64(monkeypatch: pytest.MonkeyPatch) -> None:
    pem = signing.signer().private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    one_line = pem.strip().replace("\n", "\\n")
    b64 = base64.b64encode(pem.encode()).decode()
    ids = set()
    for value in (pem, one_line, b64):
        monkeypatch.setenv(signing.ENV_NAME, value)
        ids.add(signing.signer().key_id)
    assert len(ids) == 1
    monkeypatch.setenv(signing.ENV_NAME, "not a key")
    with pytest.raises(signing.SignatureError):
        signing.signer()


def test_records_signed_with_an_earlier_key_still_verify(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from tongsuopy.crypto.asymciphers import ec

    chain.append(chain.Entry(request_id="r1", consumer_code="c", end_user_id="u", operation="listProviders"))
    new_key = ec.generate_private_key(ec.SM2()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    monkeypatch.setenv(signing.ENV_NAME, new_key)
    chain.append(chain.Entry(request_id="r2", consumer_code="c", end_user_id="u", operation="listProviders"))
    assert SigningKey.objects.count() == 2
    assert len(set(ExchangeLog.objects.values_list("key_id", flat=True))) == 2
    assert chain.verify().ok


def test_exchange_verify_command(db: None, tmp_path: Path, capsys: Any) -> None:
    for n in range(3):
        chain.append(chain.Entry(request_id=f"r{n}", consumer_code="c", end_user_id="u", operation="get",
                                 resource_code="test.people", fields_returned=["status"], record_count=1))
    call_command("exchange_verify")
    assert "3 exchange records verified" in capsys.readouterr().out
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(chain.evidence(ExchangeLog.objects.get(seq=2))), encoding="utf-8")
    call_command("exchange_verify", evidence=str(path))
    assert "record #2 verified" in capsys.readouterr().out
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["record"]["end_user_id"] = "someone else"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(CommandError, match="EVIDENCE INVALID"):
        call_command("exchange_verify", evidence=str(path))
    ExchangeLog.objects.filter(seq=2).update(status=500)
    with pytest.raises(CommandError, match="#2 \\(altered\\)"):
        call_command("exchange_verify")


CONCURRENT_SCRIPT = """
import threading
import django
django.setup()
from django.db import connection
from liaocheng.exchange import chain
errors = []
def worker(n):
    try:
        for i in range(10):
            chain.append(chain.Entry(request_id=f"t{n}-{i}", consumer_code="c", end_user_id="u", operation="get"))
    except BaseException as exc:
        errors.append(repr(exc))
    finally:
        connection.close()
threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join()
result = chain.verify()
print(errors, result.ok, result.checked)
"""


def test_concurrent_appends_keep_one_chain(tmp_path: Path) -> None:
    """Eight threads appending at once on a real (file) SQLite database: one unbroken chain."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "LIAOCHENG_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "liaocheng.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "LIAOCHENG_SIGNING_KEY": signing.signer()
           .private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()}
    subprocess.run([sys.executable, "-m", "liaocheng.cli", "migrate", "-v0"], env=env, check=True, timeout=120)
    done = subprocess.run([sys.executable, "-c", CONCURRENT_SCRIPT], env=env, check=True, timeout=120,
                          capture_output=True, text=True)
    assert done.stdout.strip() == "[] True 80", done.stdout + done.stderr
