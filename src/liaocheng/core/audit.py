"""The tamper-evident audit trail: every state change appends one record to an SM3 hash chain.

``record(...)`` must be called inside the transaction of the change it records (services do this),
so the change and its audit record commit or roll back together. Appends are serialised by locking
the single ``AuditHead`` row, which also remembers the tip, so that deleting the newest records is
detected too.

Each record's hash is SM3(prev_hash ‖ canonical JSON of its fields). ``verify()`` walks the chain
and names the first record that was altered, inserted or deleted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from .context import current_request_id
from .crypto import canonical_json, sm3_hex
from .models import AuditHead, AuditRecord

GENESIS = "0" * 64


def _payload(rec: AuditRecord) -> dict[str, Any]:
    return {
        "seq": rec.seq,
        "at": rec.at.isoformat(timespec="microseconds"),
        "actor_id": rec.actor_id,
        "actor_label": rec.actor_label,
        "action": rec.action,
        "object_type": rec.object_type,
        "object_id": rec.object_id,
        "division_code": rec.division_code,
        "before": rec.before,
        "after": rec.after,
        "request_id": rec.request_id,
    }


def compute_hash(prev_hash: str, rec: AuditRecord) -> str:
    return sm3_hex((prev_hash + canonical_json(_payload(rec))).encode("utf-8"))


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so that what is hashed equals what the database returns."""
    if value is None:
        return None
    return json.loads(canonical_json(value))


def record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    division_code: str = "",
) -> AuditRecord:
    """Append one audit record. Call inside the transaction that makes the change."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction of the change it records")
    head, _ = AuditHead.objects.select_for_update().get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS})
    actor_id = getattr(actor, "pk", None)
    actor_label = actor.get_username() if actor_id is not None else str(actor or "system")
    rec = AuditRecord(
        seq=head.seq + 1,
        at=timezone.now(),
        actor_id=actor_id,
        actor_label=actor_label[:150],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        division_code=division_code,
        before=_jsonable(before),
        after=_jsonable(after),
        request_id=current_request_id(),
        prev_hash=head.hash,
    )
    rec.hash = compute_hash(head.hash, rec)
    rec.save(force_insert=True)
    head.seq, head.hash = rec.seq, rec.hash
    head.save(update_fields=["seq", "hash"])
    return rec


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""       # "altered" | "inserted" | "deleted" | "truncated"
    seq: int | None = None  # the first record concerned
    record_id: int | None = None
    message: str = ""


def verify(progress: Callable[[int], None] | None = None, batch_size: int = 5000) -> VerifyResult:
    """Walk the whole chain in order; report the first record that breaks it."""
    prev_hash = GENESIS
    prev_prev_hash: str | None = None
    prev_rec: AuditRecord | None = None
    expected_seq = 1
    checked = 0
    last_seq = 0
    queryset = AuditRecord.objects.order_by("seq")
    after_seq = 0
    while True:
        batch = list(queryset.filter(seq__gt=after_seq)[:batch_size])
        if not batch:
            break
        for rec in batch:
            if rec.seq != expected_seq:
                if rec.seq > expected_seq and rec.prev_hash != prev_hash:
                    return VerifyResult(
                        False, checked, "deleted", expected_seq, None,
                        f"record #{expected_seq} is missing (deleted); chain resumes at #{rec.seq} (id {rec.pk})",
                    )
                return VerifyResult(
                    False, checked, "inserted", rec.seq, rec.pk,
                    f"record #{rec.seq} (id {rec.pk}) is out of sequence: expected #{expected_seq} (inserted)",
                )
            if rec.prev_hash != prev_hash:
                if prev_rec is not None and rec.prev_hash == prev_prev_hash:
                    return VerifyResult(
                        False, checked - 1, "inserted", prev_rec.seq, prev_rec.pk,
                        f"record #{prev_rec.seq} (id {prev_rec.pk}) was inserted: the record after it links"
                        " to the one before it",
                    )
                return VerifyResult(
                    False, checked, "inserted", rec.seq, rec.pk,
                    f"record #{rec.seq} (id {rec.pk}) does not link to the record before it (inserted or"
                    " replaced)",
                )
            if compute_hash(prev_hash, rec) != rec.hash:
                return VerifyResult(
                    False, checked, "altered", rec.seq, rec.pk,
                    f"record #{rec.seq} (id {rec.pk}, {rec.action} {rec.object_type} {rec.object_id}) was"
                    " altered: its content no longer matches its hash",
                )
            prev_prev_hash, prev_hash, prev_rec = prev_hash, rec.hash, rec
            last_seq = rec.seq
            expected_seq += 1
            checked += 1
        after_seq = batch[-1].seq
        if progress:
            progress(checked)
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and (head.seq != last_seq or head.hash != prev_hash):
        if head.seq > last_seq:
            return VerifyResult(
                False, checked, "deleted", last_seq + 1, None,
                f"records #{last_seq + 1}..#{head.seq} are missing (deleted from the end of the chain)",
            )
        return VerifyResult(
            False, checked, "inserted", head.seq + 1, None,
            f"records after #{head.seq} were appended outside the audit service (inserted)",
        )
    return VerifyResult(True, checked, message=f"{checked} records verified, chain intact")


def snapshot(instance: Any, fields: list[str]) -> dict[str, Any]:
    """The given fields of a model instance, for before/after (never pass personal data in clear)."""
    return {name: getattr(instance, name) for name in fields}
