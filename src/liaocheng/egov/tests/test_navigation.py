"""The service hall in the staff navigation: the main nav link and the workbench tiles follow the user's rights."""

from __future__ import annotations

from typing import Any

from django.test import Client

from liaocheng.core.departments import department_code

SX = "371522"


def _workbench(client: Client, user: Any) -> str:
    client.force_login(user)
    response = client.get("/workbench/")
    assert response.status_code == 200
    return response.content.decode()


def test_tiles_and_nav_follow_rights(client: Client, staff_factory: Any) -> None:
    window = staff_factory("nav_window", department_code=department_code(SX, "administrative_approval"),
                           roles=(("egov_intake", SX), ("egov_issuer", SX)))
    page = _workbench(client, window)
    assert 'href="/egov/cases/"' in page and "政务服务办件" in page and "电子证照" in page
    assert "电子监察" not in page and "政务服务事项维护" not in page

    supervisor = staff_factory("nav_sup", department_code=department_code(SX, "party_government_office"),
                               roles=(("egov_supervisor", SX),))
    page = _workbench(client, supervisor)
    assert "电子监察" in page and ">政务服务</a>" in page and 'href="/egov/supervision/"' in page
    assert "政务服务办件" not in page

    urban_clerk = staff_factory("nav_urban", roles=(("clerk", SX),))
    page = _workbench(client, urban_clerk)
    assert ">政务服务</a>" not in page and "政务服务办件" not in page and "电子监察" not in page
