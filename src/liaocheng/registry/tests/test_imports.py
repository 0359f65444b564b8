"""Importing the population and legal-entity files as a data clerk would: encodings, bad rows reported by
row and field, all-or-nothing batches, refusals before any write, resuming a killed import."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from liaocheng.core.crypto import blind_index
from liaocheng.core.errors import InvalidInput
from liaocheng.core.models import AuditRecord
from liaocheng.registry import importers, services
from liaocheng.registry.generator import ENTITY_HEADER, RESIDENT_HEADER
from liaocheng.registry.models import (
    ChangeEvent,
    ImportBatch,
    ImportJob,
    ImportRowError,
    LegalEntity,
    Person,
)

from .conftest import Place, entity_code, make_id, people_rows, person_row, write_csv

pytestmark = pytest.mark.django_db


def _errors(job: ImportJob) -> list[tuple[int | None, str, str]]:
    return [(e.row, e.field, e.code) for e in ImportRowError.objects.filter(job=job).order_by("row", "pk")]


def test_import_derives_grid_and_encrypts_personal_data(tmp_path: Path, police: Any, shenxian: Place) -> None:
    rows = people_rows(5, place_=shenxian)
    job = importers.run_import("population", write_csv(tmp_path / "p.csv", rows), acting_user=police)
    assert job.status == "completed" and job.rows_committed == 5
    person = Person.objects.get(id_number_bidx=blind_index("id_number", rows[0][0]))
    assert person.grid_code == shenxian.grid and person.community_code == shenxian.village
    assert person.id_number == rows[0][0] and person.phone == "13800000000"
    assert person.source_department == "371522-public_security" and person.import_job == job.pk
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT id_number, phone FROM registry_person WHERE id = %s", [person.pk])
        stored_id, stored_phone = cur.fetchone()
    assert stored_id.startswith("v1:") and rows[0][0] not in stored_id and "13800000000" not in stored_phone
    # one audit record per committed batch, not per row
    assert AuditRecord.objects.filter(action="registry.import_population_batch").count() == 1


def test_bad_id_and_credit_codes_name_row_and_field(tmp_path: Path, police: Any, city_admin: Any,
                                                    shenxian: Place) -> None:
    rows = people_rows(3, place_=shenxian)
    rows[1][0] = rows[1][0][:-1] + ("0" if rows[1][0][-1] != "0" else "1")  # wrong check digit
    rows[2][0] = "37152219800101"  # too short
    job = importers.run_import("population", write_csv(tmp_path / "p.csv", rows), acting_user=police)
    errs = ImportRowError.objects.filter(job=job).order_by("row")
    assert [(e.row, e.field) for e in errs] == [(3, "id_number"), (4, "id_number")]
    assert errs[0].message_zh == "身份证号校验位错误" and errs[0].message_en == "ID number check digit is wrong"
    assert "18" in errs[1].message_zh
    assert Person.objects.count() == 0 and job.status == "completed_with_errors"

    good, bad = entity_code(seed=1), "91371522MA3C4XX"
    legacy = entity_code(seed=2, bad=True)
    path = tmp_path / "e.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "名称", "行业代码"])
        w.writerows([[good, "莘县甲有限公司", "C13"], [bad, "莘县乙有限公司", "52"], [legacy, "莘县丙有限公司", "Z99"]])
    job = importers.run_import("entities", path, acting_user=city_admin)
    assert _errors(job) == [(3, "credit_code", "invalid"), (4, "industry_code", "invalid")]
    assert LegalEntity.objects.count() == 0


def test_legacy_credit_code_is_accepted_with_a_warning(tmp_path: Path, city_admin: Any) -> None:
    legacy = entity_code(seed=5, bad=True)
    path = tmp_path / "e.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["credit_code", "name", "industry_code", "registered_capital"])
        w.writerow([legacy, "莘县历史赋码有限公司", "1310", "12.5"])
    job = importers.run_import("entities", path, acting_user=city_admin)
    assert job.status == "completed"
    entity = LegalEntity.objects.get(credit_code=legacy)
    assert "legacy" in entity.credit_code_warning and entity.industry_code == "C1310"
    assert entity.entity_type == "enterprise" and entity.entity_type_derived
    assert str(entity.registered_capital) == "12.5000"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_chinese_encodings_import(tmp_path: Path, police: Any, shenxian: Place, encoding: str) -> None:
    rows = people_rows(2, place_=shenxian)
    rows[0][1] = "欧阳娟"
    if encoding == "gb18030":
        rows[1][1] = "王䶮"  # a CJK Extension A character: in GB18030, not in GBK
    path = write_csv(tmp_path / "p.csv", rows, encoding=encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeEncodeError):
            "王䶮".encode("gbk")
    job = importers.run_import("population", path, acting_user=police)
    assert job.status == "completed", _errors(job)
    names = set(Person.objects.values_list("name", flat=True))
    assert names == {"欧阳娟", rows[1][1]}
    assert job.encoding == ("utf-8-sig" if encoding == "utf-8-sig" else "gb18030")


def test_truncated_file_reports_the_bad_row(tmp_path: Path, police: Any, shenxian: Place) -> None:
    rows = people_rows(4, place_=shenxian)
    path = write_csv(tmp_path / "p.csv", rows)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # cut in the middle of the last line
    job = importers.run_import("population", path, acting_user=police, batch_size=2)
    errs = list(ImportRowError.objects.filter(job=job))
    assert [(e.row, e.field, e.code) for e in errs] == [(5, "row", "short_row")]
    assert "截断" in errs[0].message_zh and "truncated" in errs[0].message_en
    # the first batch (rows 2-3) committed; the batch holding the truncated row did not
    assert job.rows_committed == 2 and Person.objects.count() == 2


def test_wrong_columns_are_refused_before_any_write(tmp_path: Path, police: Any, shenxian: Place) -> None:
    header = [h for h in RESIDENT_HEADER if h not in ("户号", "与户主关系")]
    rows = [r[:6] + r[8:] for r in people_rows(2, place_=shenxian)]
    path = write_csv(tmp_path / "p.csv", rows, header=header)
    with pytest.raises(InvalidInput) as exc:
        importers.run_import("population", path, acting_user=police)
    assert "户号" in exc.value.message_zh and "与户主关系" in exc.value.message_zh
    assert "household_number" in exc.value.message_en and exc.value.row == 1
    assert ImportJob.objects.count() == 0 and Person.objects.count() == 0


def test_english_headers_are_mapped(tmp_path: Path, police: Any, shenxian: Place) -> None:
    header = ["ID Number", "Name", "hukou", "Household", "relationship", "Longitude", "Latitude"]
    number = make_id("19750505", 3)
    path = write_csv(tmp_path / "p.csv", [[number, "李四", shenxian.village, "H1", "户主", str(shenxian.lon),
                                            str(shenxian.lat)]], header=header)
    job = importers.run_import("population", path, acting_user=police)
    assert job.status == "completed", _errors(job)
    p = Person.objects.get()
    assert (p.sex, str(p.birth_date), p.relationship, p.grid_code) == ("1", "1975-05-05", "02", shenxian.grid)


def test_a_batch_with_one_bad_row_writes_nothing_of_that_batch(tmp_path: Path, police: Any,
                                                               shenxian: Place) -> None:
    rows = people_rows(9, place_=shenxian)
    right = rows[4][2]
    rows[4][2] = "1" if right == "2" else "2"  # row 6 (batch 2 of rows 5-7): sex does not match the ID number
    job = importers.run_import("population", write_csv(tmp_path / "p.csv", rows), acting_user=police, batch_size=3)
    assert _errors(job) == [(6, "sex", "invalid")]
    assert job.rows_committed == 6 and job.rows_failed == 3 and Person.objects.count() == 6
    assert not Person.objects.filter(id_number_bidx__in=[blind_index("id_number", r[0]) for r in rows[3:6]]).exists()
    assert list(job.batches.values_list("index", "status")) == [(0, "committed"), (1, "failed"), (2, "committed")]
    # fix the file and resume the job: only the failed batch is written now
    rows[4][2] = right
    job = importers.run_import("population", write_csv(tmp_path / "p.csv", rows), acting_user=police,
                               resume_job=job.pk)
    assert job.status == "completed" and job.rows_committed == 9 and Person.objects.count() == 9
    assert ImportRowError.objects.filter(job=job).count() == 0


def test_killed_import_resumes_without_duplicates(tmp_path: Path, police: Any, shenxian: Place,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "p.csv", people_rows(10, place_=shenxian))
    calls = {"n": 0}

    def killed(job: ImportJob, index: int) -> None:
        calls["n"] += 1
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(importers, "_after_batch_commit", killed)
    with pytest.raises(KeyboardInterrupt):
        importers.run_import("population", path, acting_user=police, batch_size=4)
    job = ImportJob.objects.get()
    assert job.status == "running" and Person.objects.count() == 4
    monkeypatch.undo()
    job = importers.run_import("population", path, acting_user=police, resume_job=job.pk)
    assert job.status == "completed" and job.rows_committed == 10
    assert Person.objects.count() == 10 and ImportRowError.objects.count() == 0
    # one outbox event per batch, seqs 1..10 without gaps
    events = list(ChangeEvent.objects.filter(resource="population.person").order_by("seq_first"))
    assert [(e.seq_first, e.seq_last) for e in events] == [(1, 4), (5, 8), (9, 10)]


def test_reimporting_the_same_file_adds_nothing(tmp_path: Path, police: Any, shenxian: Place) -> None:
    path = write_csv(tmp_path / "p.csv", people_rows(6, place_=shenxian))
    first = importers.run_import("population", path, acting_user=police, batch_size=4)
    again = importers.run_import("population", path, acting_user=police, batch_size=4)
    assert again.pk == first.pk and again.status == "completed" and Person.objects.count() == 6
    # the same people in another file are reported as duplicates (by blind index), not inserted twice
    other = write_csv(tmp_path / "other.csv", people_rows(2, place_=shenxian))
    job = importers.run_import("population", other, acting_user=police)
    assert _errors(job) == [(2, "id_number", "duplicate"), (3, "id_number", "duplicate")]
    assert Person.objects.count() == 6


def test_duplicates_inside_a_file_are_reported(tmp_path: Path, police: Any, shenxian: Place) -> None:
    rows = people_rows(3, place_=shenxian)
    rows.append(list(rows[0]))
    job = importers.run_import("population", write_csv(tmp_path / "p.csv", rows), acting_user=police, batch_size=2)
    # row 5 repeats row 2, which an earlier batch committed: found against the database
    assert _errors(job) == [(5, "id_number", "duplicate")]
    assert Person.objects.count() == 2


def test_rows_outside_the_clerks_county_are_errors(tmp_path: Path, police: Any, guanxian: Place) -> None:
    number = make_id("19800101", 9, area="372526")  # a Guanxian person, living in Guanxian
    path = write_csv(tmp_path / "p.csv", [person_row(number, village=guanxian.village, lon=guanxian.lon,
                                                     lat=guanxian.lat)])
    job = importers.run_import("population", path, acting_user=police)
    assert _errors(job) == [(2, "hukou_division", "out_of_scope")]


def test_non_authoritative_department_cannot_import(tmp_path: Path, staff_factory: Any, shenxian: Place) -> None:
    from .conftest import clerk

    civil = clerk(staff_factory, "sx_civil", "371522", "civil_affairs")
    path = write_csv(tmp_path / "p.csv", people_rows(1, place_=shenxian))
    with pytest.raises(services.NotAuthoritative) as exc:
        importers.run_import("population", path, acting_user=civil)
    assert "莘县民政局" in exc.value.message_zh and "公安局" in exc.value.message_zh
    assert ImportJob.objects.count() == 0
    # market regulation may import enterprises but not social organisations
    market = clerk(staff_factory, "sx_market", "371522", "market_regulation")
    e_path = tmp_path / "e.csv"
    with e_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ENTITY_HEADER)
        w.writerow([entity_code("91", seed=3), "莘县丁有限公司", "", "王五", "100", "52", "莘县某路1号", "", "", "存续",
                    "莘县市场监督管理局", "2020-01-01"])
        w.writerow([entity_code("51", seed=4), "莘县戊协会", "", "赵六", "3", "95", "莘县某路2号", "", "", "存续",
                    "莘县民政局", "2020-01-01"])
    job = importers.run_import("entities", e_path, acting_user=market)
    assert _errors(job) == [(3, "entity_type", "not_authoritative")]


def test_user_without_import_right_is_refused(tmp_path: Path, staff_factory: Any, shenxian: Place) -> None:
    viewer = staff_factory("viewer1", roles=(("viewer", "371522"),))
    path = write_csv(tmp_path / "p.csv", people_rows(1, place_=shenxian))
    with pytest.raises(PermissionDenied):
        importers.run_import("population", path, acting_user=viewer)


def test_xlsx_import(tmp_path: Path, city_admin: Any, shenxian: Place) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(RESIDENT_HEADER)
    for r in people_rows(3, place_=shenxian):
        ws.append(r)
    ws.append(["123", "坏行"])  # short row
    path = tmp_path / "p.xlsx"
    wb.save(path)
    job = importers.run_import("population", path, acting_user=city_admin,
                               source_department="371522-public_security", batch_size=3)
    assert job.file_format == "xlsx" and job.rows_committed == 3
    assert _errors(job) == [(5, "row", "short_row")]


def test_worker_processes_give_the_same_result(tmp_path: Path, police: Any, shenxian: Place) -> None:
    rows = people_rows(12, place_=shenxian)
    rows[7][4] = "99"  # unknown ethnic code, in the third batch
    job = importers.run_import("population", write_csv(tmp_path / "p.csv", rows), acting_user=police, batch_size=3,
                               workers=2)
    assert _errors(job) == [(9, "ethnic", "invalid")]
    assert job.rows_committed == 9 and Person.objects.count() == 9
    assert list(ImportBatch.objects.filter(job=job).values_list("status", flat=True)) == [
        "committed", "committed", "failed", "committed"]


def test_cli_import_prints_errors(tmp_path: Path, police: Any, shenxian: Place, capsys: Any) -> None:
    rows = people_rows(2, place_=shenxian)
    rows[1][4] = "火星族"
    call_command("import_population", str(write_csv(tmp_path / "p.csv", rows)), "--as-user", police.username)
    out = capsys.readouterr().out
    assert "completed_with_errors" in out and "民族" in out and "GB/T 3304" in out and "--resume" in out


def test_changes_to_committed_rows_are_reported_not_reimported(tmp_path: Path, police: Any, shenxian: Place) -> None:
    rows = people_rows(4, place_=shenxian)
    rows[3][4] = "xx"  # batch 2 fails
    path = write_csv(tmp_path / "p.csv", rows)
    job = importers.run_import("population", path, acting_user=police, batch_size=2)
    assert job.rows_committed == 2
    rows[3][4] = "01"
    rows[0][1] = "改名"  # an edit inside the committed batch 1
    job = importers.run_import("population", write_csv(path, rows), acting_user=police, resume_job=job.pk)
    assert job.rows_committed == 4
    assert _errors(job) == [(2, "row", "committed_batch_changed")]
    assert not Person.objects.filter(name="改名").exists()
