"""The exchange log: an append-only SM3 hash chain of every exchange request and answer, each record's
hash signed with the platform's SM2 key.

``append`` runs in its own transaction and serialises appends by locking the single ``ExchangeHead``
row (which also holds the tip, so deletions at the end are detected), exactly like ``core.audit``.
A record's hash is SM3(prev_hash ‖ canonical JSON of its payload); the signature is SM2-with-SM3
over the ASCII hex of that hash. ``verify`` walks the chain and checks every hash and signature;
``evidence`` gives one record as a self-contained JSON document that anyone can check with the
public key it carries (``verify_evidence``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from liaocheng.core.crypto import canonical_json, sm3_hex

from . import signing
from .models import ExchangeHead, ExchangeLog, SigningKey

GENESIS = "0" * 64
EVIDENCE_FORMAT = "liaocheng-exchange-evidence/1"

PAYLOAD_FIELDS = (
    "seq", "at", "request_id", "consumer_code", "consumer_department", "end_user_id", "operation",
    "resource_code", "owner_department", "record_key", "record_key_index", "filters", "fields_requested",
    "fields_returned", "record_count", "status", "error", "request_hash", "response_hash", "key_id",
)


canonical = canonical_json  # the same canonical form as the audit chain


def payload(rec: ExchangeLog) -> dict[str, Any]:
    data = {name: getattr(rec, name) for name in PAYLOAD_FIELDS}
    data["at"] = rec.at.isoformat(timespec="microseconds")
    return data


def compute_hash(prev_hash: str, data: dict[str, Any]) -> str:
    return sm3_hex((prev_hash + canonical(data)).encode("utf-8"))


@dataclass
class Entry:
    """What the gateway learnt about one request, filled in as far as it got."""

    request_id: str
    consumer_code: str
    end_user_id: str
    operation: str
    consumer_department: str = ""
    resource_code: str = ""
    owner_department: str = ""
    record_key: str = ""
    record_key_index: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    fields_requested: list[str] = field(default_factory=list)
    fields_returned: list[str] = field(default_factory=list)
    record_count: int = 0
    status: int = 200
    error: str = ""
    request_hash: str = ""
    response_hash: str = ""


_known_keys: set[str] = set()


def _remember_key(signer: signing.Signer) -> None:
    if signer.key_id in _known_keys:
        return
    SigningKey.objects.get_or_create(key_id=signer.key_id, defaults={"public_pem": signer.public_pem})
    _known_keys.add(signer.key_id)


def _jsonable(value: Any) -> Any:
    return json.loads(canonical(value))


def _record(entry: Entry, key_id: str) -> ExchangeLog:
    return ExchangeLog(
        request_id=entry.request_id[:64],
        consumer_code=entry.consumer_code[:64],
        consumer_department=entry.consumer_department[:64],
        end_user_id=entry.end_user_id[:128],
        operation=entry.operation[:32],
        resource_code=entry.resource_code[:100],
        owner_department=entry.owner_department[:64],
        record_key=entry.record_key[:200],
        record_key_index=entry.record_key_index,
        filters=_jsonable(entry.filters),
        fields_requested=_jsonable(entry.fields_requested),
        fields_returned=_jsonable(entry.fields_returned),
        record_count=entry.record_count,
        status=entry.status,
        error=entry.error[:64],
        request_hash=entry.request_hash,
        response_hash=entry.response_hash,
        key_id=key_id,
    )


class _Slot:
    __slots__ = ("error", "record", "written")

    def __init__(self, record: ExchangeLog) -> None:
        self.record = record
        self.written = False
        self.error: BaseException | None = None


# Group commit. Each request queues its record and then waits for the writer lock; whoever holds it
# appends everything queued so far in one transaction (chained and signed one by one, in queue order)
# under the locked head row. A request returns only once its own record is committed, so no answer leaves
# unlogged, and concurrent requests share one transaction instead of queueing for the database one by
# one (on SQLite, contending writers would otherwise also sleep in the busy handler's growing steps).
_queue: list[_Slot] = []
_queue_lock = threading.Lock()
_writer_lock = threading.Lock()
MAX_BATCH = 500


def _write(slots: list[_Slot]) -> None:
    signer = signing.signer()
    with transaction.atomic():
        _remember_key(signer)
        head, _ = ExchangeHead.objects.select_for_update().get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS})
        seq, prev = head.seq, head.hash
        now = timezone.now()
        for slot in slots:
            rec = slot.record
            seq += 1
            rec.seq, rec.at, rec.prev_hash, rec.key_id = seq, now, prev, signer.key_id
            rec.hash = compute_hash(prev, payload(rec))
            rec.signature = signer.sign(rec.hash.encode("ascii"))
            prev = rec.hash
        ExchangeLog.objects.bulk_create([slot.record for slot in slots])
        head.seq, head.hash = seq, prev
        head.save(update_fields=["seq", "hash"])
    if transaction.get_connection().in_atomic_block:
        # Inside an outer transaction (tests): _known_keys must not outlive a rollback of the key row.
        _known_keys.discard(signer.key_id)


def append(entry: Entry) -> ExchangeLog:
    """Append one record and return it once committed (call after the answer is computed, before sending it)."""
    slot = _Slot(_record(entry, ""))
    if transaction.get_connection().in_atomic_block:
        # Inside the caller's transaction: write only this record, which commits or rolls back with it.
        with _writer_lock:
            _write([slot])
        return slot.record
    with _queue_lock:
        _queue.append(slot)
    while True:
        with _writer_lock:
            if slot.written or slot.error is not None:
                break
            with _queue_lock:
                batch = _queue[:MAX_BATCH]
                del _queue[:MAX_BATCH]
            try:
                _write(batch)
            except BaseException as exc:
                for queued in batch:
                    queued.error = exc
            else:
                for queued in batch:
                    queued.written = True
    if slot.error is not None:
        raise slot.error
    return slot.record


def public_keys() -> dict[str, str]:
    return dict(SigningKey.objects.values_list("key_id", "public_pem"))


# --- verification ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""       # "altered" | "inserted" | "deleted" | "signature" | "unknown_key"
    seq: int | None = None
    message: str = ""


def verify(progress: Callable[[int], None] | None = None, batch_size: int = 5000) -> VerifyResult:
    """Walk the whole chain: sequence, links, hashes, signatures, and the tip held by the head row."""
    keys = public_keys()
    prev_hash = GENESIS
    expected = 1
    checked = 0
    after = 0
    while True:
        batch = list(ExchangeLog.objects.filter(seq__gt=after).order_by("seq")[:batch_size])
        if not batch:
            break
        for rec in batch:
            if rec.seq != expected:
                return VerifyResult(False, checked, "deleted" if rec.seq > expected else "inserted", expected,
                                    f"record #{expected} is missing or out of sequence (found #{rec.seq})")
            if rec.prev_hash != prev_hash:
                return VerifyResult(False, checked, "inserted", rec.seq,
                                    f"record #{rec.seq} does not link to the record before it")
            if compute_hash(prev_hash, payload(rec)) != rec.hash:
                return VerifyResult(False, checked, "altered", rec.seq,
                                    f"record #{rec.seq} was altered: its content no longer matches its hash")
            public_pem = keys.get(rec.key_id)
            if public_pem is None:
                return VerifyResult(False, checked, "unknown_key", rec.seq,
                                    f"record #{rec.seq} names an unknown signing key {rec.key_id}")
            if not signing.verify(public_pem, rec.hash.encode("ascii"), rec.signature):
                return VerifyResult(False, checked, "signature", rec.seq,
                                    f"record #{rec.seq}: the SM2 signature does not verify")
            prev_hash = rec.hash
            expected += 1
            checked += 1
        after = batch[-1].seq
        if progress:
            progress(checked)
    head = ExchangeHead.objects.filter(id=1).first()
    last = expected - 1
    if head is not None and (head.seq != last or head.hash != prev_hash):
        if head.seq > last:
            return VerifyResult(False, checked, "deleted", last + 1,
                                f"records #{last + 1}..#{head.seq} are missing (deleted from the end)")
        return VerifyResult(False, checked, "inserted", head.seq + 1,
                            f"records after #{head.seq} were appended outside the exchange log")
    return VerifyResult(True, checked, message=f"{checked} exchange records verified: chain and signatures intact")


# --- evidence -------------------------------------------------------------------------------------

def evidence(rec: ExchangeLog) -> dict[str, Any]:
    """A self-contained, checkable statement of one exchange: record, hash, signature, public key."""
    key = SigningKey.objects.filter(key_id=rec.key_id).first()
    return {
        "format": EVIDENCE_FORMAT,
        "record": payload(rec),
        "prev_hash": rec.prev_hash,
        "hash": rec.hash,
        "hash_algorithm": "SM3(prev_hash || canonical_json(record))",
        "canonical_json": "UTF-8 JSON, keys sorted, no whitespace, non-ASCII unescaped",
        "signature": rec.signature,
        "signature_algorithm": signing.ALGORITHM,
        "signature_encoding": "base64 DER SEQUENCE{r,s} over the ASCII hex of hash",
        "signer_id": signing.SIGNER_ID,
        "key_id": rec.key_id,
        "public_key_pem": key.public_pem if key else "",
    }


def verify_evidence(doc: dict[str, Any], trusted_public_pem: str | None = None) -> tuple[bool, str]:
    """Check an evidence document on its own (optionally against a trusted public key)."""
    try:
        record, prev_hash, claimed = doc["record"], doc["prev_hash"], doc["hash"]
        public_pem = trusted_public_pem or doc["public_key_pem"]
        signature = doc["signature"]
    except (KeyError, TypeError):
        return False, "not an exchange evidence document"
    if compute_hash(prev_hash, record) != claimed:
        return False, "the record does not match its hash"
    if signing.key_id_for(public_pem) != record.get("key_id"):
        return False, "the public key is not the one named in the record"
    if not signing.verify(public_pem, claimed.encode("ascii"), signature):
        return False, "the signature does not verify"
    return True, f"record #{record.get('seq')} verified: hash and SM2 signature intact"
