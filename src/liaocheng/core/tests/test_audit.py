import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from liaocheng.core import audit
from liaocheng.core.demo import ensure_demo_accounts
from liaocheng.core.models import AuditRecord


def test_record_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError):
        audit.record(actor="system", action="x", object_type="y", object_id=1)


@pytest.mark.django_db
def test_audit_record_rolls_back_with_the_change() -> None:
    before = AuditRecord.objects.count()
    with pytest.raises(ValueError), transaction.atomic():
        audit.record(actor="system", action="test.change", object_type="t", object_id=1, after={"a": 1})
        raise ValueError("the change failed")
    assert AuditRecord.objects.count() == before
    assert audit.verify().ok


@pytest.mark.django_db
def test_chain_links_records_with_sm3() -> None:
    ensure_demo_accounts()
    records = list(AuditRecord.objects.order_by("seq"))
    assert len(records) >= 6
    assert records[0].prev_hash == audit.GENESIS
    for prev, rec in itertools.pairwise(records):
        assert rec.prev_hash == prev.hash and rec.seq == prev.seq + 1
    result = audit.verify()
    assert result.ok and result.checked == len(records)


def _verify_cli() -> str:
    with pytest.raises(CommandError) as err:
        call_command("audit", "verify")
    return str(err.value)


@pytest.mark.django_db
def test_cli_verify_passes_on_demo_data_and_names_an_edited_record() -> None:
    ensure_demo_accounts()
    call_command("audit", "verify")  # passes
    victim = AuditRecord.objects.filter(action="core.create_demo_account").order_by("seq")[2]
    with connection.cursor() as cur:  # an edit made directly in the database, bypassing the platform
        cur.execute("UPDATE core_auditrecord SET actor_label = %s WHERE id = %s", ["mallory", victim.pk])
    message = _verify_cli()
    assert f"#{victim.seq}" in message and "altered" in message


@pytest.mark.django_db
def test_verify_detects_a_deleted_record_in_the_middle_and_at_the_end() -> None:
    ensure_demo_accounts()
    records = list(AuditRecord.objects.order_by("seq"))
    AuditRecord.objects.filter(pk=records[3].pk).delete()
    result = audit.verify()
    assert not result.ok and result.problem == "deleted" and result.seq == records[3].seq
    AuditRecord.objects.filter(pk=records[3].pk).delete()


@pytest.mark.django_db
def test_verify_detects_truncation_and_insertion() -> None:
    ensure_demo_accounts()
    last = AuditRecord.objects.order_by("-seq").first()
    assert last is not None
    last.delete()
    result = audit.verify()
    assert not result.ok and result.problem == "deleted" and result.seq == last.seq


@pytest.mark.django_db
def test_verify_detects_a_forged_insertion() -> None:
    ensure_demo_accounts()
    records = list(AuditRecord.objects.order_by("seq"))
    forged = records[2]
    # shift the later records up and slip a forged one in with a recomputed hash of its own
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditrecord SET seq = seq + 1000000 WHERE seq > %s", [forged.seq])
        cur.execute("UPDATE core_auditrecord SET seq = seq - 1000000 + 1 WHERE seq > %s", [forged.seq + 999999])
    fake = AuditRecord(seq=forged.seq + 1, at=forged.at, actor_id=None, actor_label="mallory", action="x",
                       object_type="y", object_id="1", before=None, after=None, request_id="r",
                       prev_hash=forged.hash)
    fake.hash = audit.compute_hash(forged.hash, fake)
    fake.save()
    result = audit.verify()
    assert not result.ok and result.seq == forged.seq + 1 and result.problem == "inserted"
    assert result.record_id == fake.pk
