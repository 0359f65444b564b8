"""The base-database pages as staff use them: county scope (403), masking by right, history after a move,
who lived where on a past date, the change form refusing a non-authoritative department next to the field,
entity search and the legacy-code warning, and an uploaded GBK file imported by the background task with its
bad row listed (then resumed with the corrected file)."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from liaocheng.core.departments import department_code
from liaocheng.core.models import User
from liaocheng.registry import importers, services, tasks
from liaocheng.registry.models import ImportJob, Person

from .conftest import Place, clerk, entity_code, people_rows, place, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(tmp_path: Path, police: Any, shenxian: Place) -> list[list[str]]:
    rows = people_rows(3, place_=shenxian)
    rows[0][1] = "张三丰"
    importers.run_import("population", write_csv(tmp_path / "p.csv", rows), acting_user=police)
    return rows


def _pk(id_number: str) -> int:
    from liaocheng.core.crypto import blind_index

    return Person.objects.get(id_number_bidx=blind_index("id_number", id_number)).pk


def test_id_lookup_is_scoped_and_masked_by_right(client: Client, staff_factory: Any, loaded: list[list[str]],
                                                 shenxian: Place) -> None:
    number = loaded[0][0]
    client.force_login(clerk(staff_factory, "sx_clerk", "371522", "public_security"))
    response = client.post("/registry/people/", {"id_number": number})
    assert response.status_code == 302 and response["Location"] == f"/registry/people/{_pk(number)}/"
    page = client.get(response["Location"]).content.decode()
    assert number[:6] + "********" + number[-4:] in page and number not in page
    assert "张**" in page and "张三丰" not in page and "138****0000" in page and "13800000000" not in page
    assert "测试地址1号" not in page  # the address is masked too
    # by name within the county: masked rows, linked by row id (never by ID number)
    listing = client.get("/registry/people/", {"county": "371522", "name": "张"}).content.decode()
    assert listing.count('data-person="') == 3 and "张三丰" not in listing and number not in listing
    grid = client.get("/registry/people/", {"code": shenxian.grid}).content.decode()
    assert grid.count('data-person="') == 3
    unknown = client.post("/registry/people/", {"id_number": "371522198001010000"})
    assert unknown.status_code == 400 and "id_number_error" in unknown.content.decode()

    client.force_login(staff_factory("sx_full", department_code=department_code("371522", "public_security"),
                                     roles=(("registry_clerk", "371522"), ("data_admin", "371522"))))
    page = client.get(f"/registry/people/{_pk(number)}/").content.decode()
    assert number in page and "张三丰" in page and "13800000000" in page and "测试地址1号" in page

    client.force_login(clerk(staff_factory, "gx_clerk", "371525", "public_security"))
    assert client.post("/registry/people/", {"id_number": number}).status_code == 403
    assert client.get(f"/registry/people/{_pk(number)}/").status_code == 403
    assert client.get(f"/registry/people/{_pk(number)}/change/").status_code == 403
    assert client.get("/registry/people/", {"code": shenxian.grid}).content.decode().count('data-person="') == 0


def test_change_form_records_a_move_and_history_shows_two_versions(client: Client, staff_factory: Any,
                                                                   police: Any, loaded: list[list[str]]) -> None:
    pk = _pk(loaded[1][0])
    new_home = place("371522", 5)
    client.force_login(police)
    response = client.post(f"/registry/people/{pk}/change/", {
        "effective_date": "2025-06-01", "residence_address": "莘县新地址8号", "grid_code": new_home.grid,
        "reason": "迁居"})
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(f"/registry/people/{pk}/").content.decode()
    assert re.findall(r'data-version="(\d+)"', page) == ["2", "1"]
    assert "居住网格" in page and new_home.grid in page and "2025-06-01" in page and "莘县公安局" in page
    person = Person.objects.get(pk=pk)
    assert person.version == 2 and person.grid_code == new_home.grid and person.lon is None

    # civil affairs is not the authority for names: the service's error is shown next to the field, nothing changed
    client.force_login(clerk(staff_factory, "sx_civil", "371522", "civil_affairs"))
    response = client.post(f"/registry/people/{pk}/change/", {"effective_date": "2025-07-01", "name": "李四"})
    body = response.content.decode()
    assert response.status_code == 403 and 'id="id_name_error"' in body and "公安局" in body
    assert Person.objects.get(pk=pk).version == 2
    # ... but records a marriage
    response = client.post(f"/registry/people/{pk}/change/", {"effective_date": "2025-07-01", "marital_status": "40"})
    assert response.status_code == 302 and Person.objects.get(pk=pk).version == 3


def test_residents_on_a_past_date(client: Client, police: Any, loaded: list[list[str]], shenxian: Place) -> None:
    new_home = place("371522", 5)
    services.change_residence(acting_user=police, id_number=loaded[0][0], effective_date=dt.date(2025, 6, 1),
                              residence_address="莘县新地址8号", grid_code=new_home.grid)
    client.force_login(police)

    def count(code: str, day: str) -> int:
        response = client.get("/registry/people/residents/", {"code": code, "date": day})
        assert response.status_code == 200
        found = re.search(r'id="result-count">共 (\d+) 人', response.content.decode())
        assert found, response.content.decode()[-3000:]
        return int(found.group(1))

    assert count(shenxian.grid, "2025-01-01") == 3
    assert count(shenxian.grid, "2025-07-01") == 2
    assert count(new_home.grid, "2025-01-01") == 0
    assert count(new_home.grid, "2025-07-01") == 1
    assert count(shenxian.village, "2025-01-01") + count(new_home.village, "2025-01-01") >= 3
    assert client.get("/registry/people/residents/", {"code": "371525", "date": "2025-01-01"}).status_code == 403
    bad = client.get("/registry/people/residents/", {"code": "12345", "date": "2025-01-01"})
    assert bad.status_code == 400 and "id_code_error" in bad.content.decode()


def test_entity_search_detail_and_legacy_warning(client: Client, staff_factory: Any, city_admin: Any,
                                                 tmp_path: Path) -> None:
    codes_ = [entity_code("91", seed=31), entity_code("91", seed=34, bad=True), entity_code("91", "371525", seed=33)]
    path = tmp_path / "e.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "名称", "法定代表人", "行业代码"])
        w.writerows([[codes_[0], "聊城鑫达机械有限公司", "王大", "C34"],
                     [codes_[1], "莘县老字号餐饮有限公司", "王二", "62"],
                     [codes_[2], "聊城鑫达商贸有限公司", "李三", "51"]])
    assert importers.run_import("entities", path, acting_user=city_admin).status == "completed"
    market = clerk(staff_factory, "sx_market", "371522", "market_regulation")
    client.force_login(market)
    listing = client.get("/registry/entities/").content.decode()
    assert codes_[0] in listing and codes_[1] in listing and codes_[2] not in listing
    found = client.get("/registry/entities/", {"industry": "H"}).content.decode()
    assert codes_[1] in found and codes_[0] not in found
    response = client.get("/registry/entities/", {"credit_code": codes_[1].lower()})
    assert response.status_code == 302 and response["Location"] == f"/registry/entities/{codes_[1]}/"
    page = client.get(response["Location"]).content.decode()
    assert 'id="legacy-warning"' in page and "王*" in page and "餐饮业" in page
    assert client.get(f"/registry/entities/{codes_[2]}/").status_code == 403
    # a change by the authority for enterprises
    response = client.post(f"/registry/entities/{codes_[0]}/change/", {
        "effective_date": "2025-03-01", "name": "聊城鑫达重工有限公司", "status": "revoked"})
    assert response.status_code == 302
    page = client.get(f"/registry/entities/{codes_[0]}/").content.decode()
    assert re.findall(r'data-version="(\d+)"', page) == ["2", "1"] and "吊销" in page
    # civil affairs may not change an enterprise: 403 with the reason on the form, nothing changed
    client.force_login(clerk(staff_factory, "sx_civil", "371522", "civil_affairs"))
    response = client.post(f"/registry/entities/{codes_[0]}/change/", {"effective_date": "2025-04-01",
                                                                        "name": "别的名称"})
    assert response.status_code == 403 and "市场监督管理局" in response.content.decode()


def _gbk_file(tmp_path: Path, rows: list[list[str]], name: str = "人口.csv") -> Path:
    return write_csv(tmp_path / name, rows, encoding="gbk")


def test_upload_imports_in_the_background_and_lists_the_bad_row(
        client: Client, police: Any, shenxian: Place, tmp_path: Path, settings: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    settings.VAR_DIR = tmp_path / "var"
    rows = people_rows(4, place_=shenxian)
    rows[0][1] = "欧阳娟"
    right = rows[3][2]
    rows[3][2] = "1" if right == "2" else "2"  # file row 5: sex does not match the ID number
    client.force_login(police)
    with _gbk_file(tmp_path, rows).open("rb") as fh, django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/registry/imports/", {"kind": "population", "batch_size": "2", "file": fh})
    assert response.status_code == 302, response.content.decode()[-3000:]
    # queued: the upload page waits for the task and polls
    waiting = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in waiting and "排队等待" in waiting and not ImportJob.objects.exists()
    assert len(callbacks) == 1
    callbacks[0]()  # the transaction committed: the task runs (immediately in tests)
    job = ImportJob.objects.get()
    assert job.encoding == "gb18030" and job.file_name.startswith("uploads/")
    assert (settings.VAR_DIR / job.file_name).is_file()
    # the upload page turns into the job page
    assert client.get(response["Location"])["Location"] == f"/registry/imports/{job.pk}/"
    assert job.rows_committed == 2 and Person.objects.count() == 2 and Person.objects.filter(name="欧阳娟").exists()
    page = client.get(f"/registry/imports/{job.pk}/").content.decode()
    assert 'data-row="5" data-field="sex"' in page and "性别与身份证号不符" in page
    assert 'id="rows-committed">2<' in page and 'data-state="completed_with_errors"' in page
    assert 'id="resume-form"' in page and "hx-trigger" not in page.split('id="job-live"')[1][:200]
    client.cookies["django_language"] = "en"
    assert "sex does not match the ID number" in client.get(f"/registry/imports/{job.pk}/").content.decode()
    del client.cookies["django_language"]
    # the corrected file resumes the job: only the failed batch is written now
    rows[3][2] = right
    with _gbk_file(tmp_path, rows, "fixed.csv").open("rb") as fh, django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/registry/imports/{job.pk}/resume/", {"file": fh})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "completed" and job.rows_committed == 4 and Person.objects.count() == 4
    assert tasks.read_manifest(tasks.token_for_job(job.pk, job.file_name))["state"] == tasks.DONE
    listing = client.get("/registry/imports/").content.decode()
    assert f'data-job="{job.pk}"' in listing and "人口.csv" in listing


def test_upload_refused_before_queueing(client: Client, staff_factory: Any, shenxian: Place, tmp_path: Path,
                                        settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.VAR_DIR = tmp_path / "var"
    # a health clerk may not import the population register (public security's)
    client.force_login(clerk(staff_factory, "sx_health", "371522", "health"))
    path = write_csv(tmp_path / "p.csv", people_rows(1, place_=shenxian))
    with path.open("rb") as fh, django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/registry/imports/", {"kind": "population", "batch_size": "100", "file": fh})
    assert response.status_code == 403 and "公安局" in response.content.decode() and not callbacks
    # a file without the required columns is refused at once, naming them
    client.force_login(clerk(staff_factory, "sx_police2", "371522", "public_security"))
    bad = write_csv(tmp_path / "bad.csv", [["a", "b"]], header=["姓名", "性别"])
    with bad.open("rb") as fh, django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/registry/imports/", {"kind": "population", "batch_size": "100", "file": fh})
    assert response.status_code == 400 and "公民身份号码" in response.content.decode() and not callbacks
    assert not ImportJob.objects.exists()


def test_pages_need_staff_and_rights(client: Client, staff_factory: Any, loaded: list[list[str]]) -> None:
    pk = _pk(loaded[0][0])
    urls = ["/registry/people/", f"/registry/people/{pk}/", "/registry/people/residents/", "/registry/entities/",
            "/registry/imports/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login"), url
    citizen = User.objects.create_user("citizen1", password="Pw-citizen-2026!", kind="citizen")
    client.force_login(citizen)
    assert all(client.get(url).status_code == 403 for url in urls)
    client.force_login(staff_factory("plain", roles=(("viewer", "371500"),)))
    assert all(client.get(url).status_code == 403 for url in urls)
    workbench = client.get("/workbench/").content.decode()
    assert "/registry/people/" not in workbench
    client.force_login(clerk(staff_factory, "sx_clerk", "371522", "public_security"))
    workbench = client.get("/workbench/").content.decode()
    assert workbench.count('href="/registry/people/"') == 2 and 'href="/registry/imports/"' in workbench
