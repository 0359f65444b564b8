"""The OpenAPI document and its docs page, served from our own static files (no CDN)."""

import re

import pytest


@pytest.mark.django_db
def test_openapi_docs_page_uses_only_local_assets(client) -> None:
    html = client.get("/api/docs").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in a for a in assets)
    assert all(a.startswith("/static/") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


@pytest.mark.django_db
def test_openapi_document_lists_the_platform_operations(client) -> None:
    doc = client.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/geo/locate", "/api/geo/divisions/{code}", "/api/core/me"} <= set(doc["paths"])


@pytest.mark.django_db
def test_health_endpoint(client) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok"
