"""Open data: the public portal, the CKAN Action API subset (checked with the unchanged ckanapi client),
the DCAT-AP catalogue and the CSV distribution (open, non-personal fields only)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import ckanapi
import pytest
from django.test import Client
from rdflib import Graph, URIRef
from rdflib import namespace as ns

from liaocheng.exchange import services
from liaocheng.exchange.models import CatalogueResource

MARKET = "371500-market_regulation"
POLICE = "371500-public_security"


@pytest.fixture
def opened(catalogue: dict[str, Any], owner: Any) -> dict[str, Any]:
    """test.enterprises is open by its spec; the owner opens two non-personal fields of test.people."""
    services.update_resource(acting_user=owner, resource=catalogue["people"], is_open=True,
                             open_fields=["status", "division"], tags=["人口", "统计"])
    return {"people": CatalogueResource.objects.get(code="test.people"),
            "enterprises": CatalogueResource.objects.get(code="test.enterprises")}


def _action(client: Client, action: str, method: str = "get", **params: Any) -> tuple[int, Any]:
    if method == "post":
        response = client.post(f"/api/3/action/{action}", data=json.dumps(params), content_type="application/json")
    else:
        response = client.get(f"/api/3/action/{action}", params)
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True)
def test_standard_ckan_client_reads_the_catalogue(live_server: Any, opened: dict[str, Any]) -> None:
    with ckanapi.RemoteCKAN(live_server.url) as ckan:  # closes its keep-alive session at the end
        names = ckan.action.package_list()
        assert {"test-people", "test-enterprises"} <= set(names)

        pkg = ckan.action.package_show(id="test-enterprises")
        assert pkg["name"] == "test-enterprises" and pkg["title"] == "测试市场主体名录"
        assert pkg["organization"]["name"] == MARKET and pkg["organization"]["title"] == "聊城市市场监督管理局"
        assert pkg["type"] == "dataset" and pkg["state"] == "active" and pkg["private"] is False
        assert [t["name"] for t in pkg["tags"]] == ["企业", "市场主体"] and pkg["num_tags"] == 2
        assert pkg["num_resources"] == 1 and pkg["resources"][0]["format"] == "CSV"
        assert pkg["resources"][0]["url"] == f"{live_server.url}/open/datasets/test-enterprises/download.csv"
        assert ckan.action.package_show(id=pkg["id"])["name"] == "test-enterprises"  # by uuid too

        found = ckan.action.package_search(q="市场主体", fq=f"organization:{MARKET}", rows=5,
                                           facet_field=["organization", "tags"])
        assert found["count"] >= 1 and "test-enterprises" in [r["name"] for r in found["results"]]
        assert all(r["organization"]["name"] == MARKET for r in found["results"])
        org_items = found["search_facets"]["organization"]
        assert org_items["title"] == "organization"
        assert org_items["items"] == [{"name": MARKET, "display_name": "聊城市市场监督管理局", "count": found["count"]}]
        assert found["facets"]["tags"]["企业"] == 1

        people = ckan.action.package_search(fq="tags:统计 res_format:CSV", rows=10)
        assert [r["name"] for r in people["results"]] == ["test-people"]

        with pytest.raises(ckanapi.NotFound):
            ckan.action.package_show(id="no-such-dataset")
        orgs = ckan.action.organization_list(all_fields=True)
        assert {o["name"] for o in orgs} >= {MARKET, POLICE}
        assert ckan.action.organization_show(id=POLICE)["package_count"] >= 1
        assert "market" in ckan.action.group_list()


@pytest.mark.django_db
def test_ckan_error_shapes(client: Client, opened: dict[str, Any]) -> None:
    status, body = _action(client, "package_show", id="nope")
    assert status == 404
    assert body == {"help": "http://testserver/api/3/action/help_show?name=package_show", "success": False,
                    "error": {"__type": "Not Found Error", "message": "Not found"}}
    status, body = _action(client, "package_show", method="post", id="nope")
    assert status == 404 and body["error"]["__type"] == "Not Found Error"
    status, body = _action(client, "package_show")
    assert status == 409 and body["error"] == {"__type": "Validation Error", "id": ["Missing value"]}
    status, body = _action(client, "package_search", rows="many")
    assert status == 409 and body["error"] == {"__type": "Validation Error", "rows": ["Invalid integer"]}
    status, body = _action(client, "package_search", sort="colour desc")
    assert status == 400 and body["error"]["__type"] == "Search Query Error"
    status, body = _action(client, "package_search", fq="nosuchfield:1")
    assert status == 400 and body["error"]["__type"] == "Search Query Error"
    response = client.get("/api/3/action/package_delete")
    assert response.status_code == 400 and response.json() == "Bad request - Action name not known: package_delete"
    # The unversioned path that standard clients use answers the same.
    assert client.get("/api/action/package_list").json()["success"] is True


@pytest.mark.django_db
def test_package_search_parameters(client: Client, opened: dict[str, Any]) -> None:
    _, body = _action(client, "package_search", fq=f'organization:"{POLICE}"')
    assert [r["name"] for r in body["result"]["results"]] == ["test-people"]
    _, body = _action(client, "package_search", q="*:*", rows=1, sort="name asc")
    result = body["result"]
    assert result["count"] >= 2 and len(result["results"]) == 1 and result["sort"] == "name asc"
    _, all_ = _action(client, "package_search", rows=100, sort="name asc")
    names = [r["name"] for r in all_["result"]["results"]]
    assert names == sorted(names)
    _, desc = _action(client, "package_search", rows=100, sort="name desc")
    assert [r["name"] for r in desc["result"]["results"]] == sorted(names, reverse=True)
    _, page2 = _action(client, "package_search", rows=1, start=1, sort="name asc")
    assert page2["result"]["results"][0]["name"] == names[1]
    _, clamp = _action(client, "package_search", rows=5000)
    assert clamp["result"]["count"] == len(all_["result"]["results"])
    _, by_title = _action(client, "package_search", sort="title_string asc", rows=100)
    titles = [r["title"] for r in by_title["result"]["results"]]
    assert titles == sorted(titles)
    _, recent = _action(client, "package_search", sort="metadata_modified desc", rows=100)
    stamps = [r["metadata_modified"] for r in recent["result"]["results"]]
    assert stamps == sorted(stamps, reverse=True)
    # facet.field as CKAN sends it over GET (a JSON list in a string), limits and minimum counts
    _, facets = _action(client, "package_search", **{"facet.field": '["tags","res_format"]', "facet.limit": "1"})
    assert len(facets["result"]["search_facets"]["tags"]["items"]) == 1
    assert facets["result"]["facets"]["res_format"] == {"CSV": facets["result"]["count"]}
    _, mincount = _action(client, "package_search", method="post", **{"facet.field": ["tags"], "facet.mincount": 2})
    assert all(i["count"] >= 2 for i in mincount["result"]["search_facets"]["tags"]["items"])
    _, negated = _action(client, "package_search", fq=f"-organization:{POLICE}", rows=100)
    assert "test-people" not in [r["name"] for r in negated["result"]["results"]]
    _, none = _action(client, "package_search", q="不存在的词语")
    assert none["result"]["count"] == 0 and none["result"]["results"] == []
    _, private = _action(client, "package_search", include_private=True, q="人口")
    assert "test-people" in [r["name"] for r in private["result"]["results"]]


@pytest.mark.django_db
def test_organization_and_group_actions(client: Client, opened: dict[str, Any]) -> None:
    _, names = _action(client, "organization_list")
    assert POLICE in names["result"] and MARKET in names["result"]
    _, full = _action(client, "organization_show", id=POLICE, include_datasets=True)
    org = full["result"]
    assert org["title"] == "聊城市公安局" and org["is_organization"] is True
    assert [p["name"] for p in org["packages"]] == ["test-people"]
    status, _ = _action(client, "organization_show", id="nobody")
    assert status == 404
    _, groups = _action(client, "group_list", all_fields=True)
    assert {"market", "public-safety"} <= {g["name"] for g in groups["result"]}
    _, help_ = _action(client, "help_show", name="package_search")
    assert "facet.field" in help_["result"]


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_dcat_ap_catalogue(client: Client, opened: dict[str, Any]) -> None:
    DCAT, DCTERMS, FOAF, RDF = ns.DCAT, ns.DCTERMS, ns.FOAF, ns.RDF
    for url, fmt in (("/open/catalog.jsonld", "json-ld"), ("/open/catalog.ttl", "turtle")):
        response = client.get(url)
        assert response.status_code == 200
        graph = Graph().parse(data=response.content.decode(), format=fmt)
        catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
        assert graph.value(catalog, DCTERMS.title) is not None
        assert graph.value(catalog, DCTERMS.description) is not None
        publisher = graph.value(catalog, DCTERMS.publisher)
        assert str(graph.value(publisher, FOAF.name)) == "聊城市大数据局"
        datasets = set(graph.objects(catalog, DCAT.dataset))
        people = URIRef("http://testserver/open/datasets/test-people")
        assert people in datasets
        for dataset in datasets:
            assert graph.value(dataset, DCTERMS.title) is not None
            assert graph.value(dataset, DCTERMS.description) is not None
            for distribution in graph.objects(dataset, DCAT.distribution):
                assert graph.value(distribution, DCAT.accessURL) is not None
            publisher = graph.value(dataset, DCTERMS.publisher)
            assert graph.value(publisher, FOAF.name) is not None
        titles = {(str(t), t.language) for t in graph.objects(people, DCTERMS.title)}
        assert titles == {("测试人口信息", "zh"), ("Test people", "en")}


@pytest.mark.django_db
def test_csv_distribution_streams_open_non_personal_fields(client: Client, opened: dict[str, Any]) -> None:
    response = client.get("/open/datasets/test-people/download.csv")
    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    assert rows[0] == ["status", "division"]
    assert len(rows) == 4 and ["死亡", "371522"] in rows
    # Even if open_fields were set to a personal field behind the service's back, it is never published.
    CatalogueResource.objects.filter(code="test.enterprises").update(open_fields=["name", "legal_rep"])
    response = client.get("/open/datasets/test-enterprises/download.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    assert rows[0] == ["name"] and all("赵六" not in r for r in rows)
    assert rows[1] == ["'=聊城测试企业1有限公司"]  # no spreadsheet formulas
    assert client.get("/open/datasets/no-such/download.csv").status_code == 404
    CatalogueResource.objects.filter(code="test.enterprises").update(is_open=False)
    assert client.get("/open/datasets/test-enterprises/download.csv").status_code == 404


@pytest.mark.django_db
def test_csv_download_stops_at_the_row_limit(opened: dict[str, Any]) -> None:
    from liaocheng.exchange import opendata

    rows = list(opendata.csv_rows(opened["enterprises"], max_rows=3))
    assert len(rows) == 4  # header + 3


@pytest.mark.django_db
def test_public_portal_pages(client: Client, opened: dict[str, Any]) -> None:
    page = client.get("/open/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-dataset="test-people"' in html and 'data-dataset="test-enterprises"' in html
    assert 'data-facet="organization"' in html and "聊城市公安局" in html
    filtered = client.get("/open/", {"organization": POLICE}).content.decode()
    assert 'data-dataset="test-people"' in filtered and 'data-dataset="test-enterprises"' not in filtered
    assert 'aria-pressed="true" data-value="371500-public_security"' in filtered
    searched = client.get("/open/", {"q": "市场主体"}).content.decode()
    assert 'data-dataset="test-enterprises"' in searched and 'data-dataset="test-people"' not in searched
    detail = client.get("/open/datasets/test-people/")
    html = detail.content.decode()
    assert detail.status_code == 200 and 'data-field="status"' in html and 'data-field="name"' not in html
    assert "/open/datasets/test-people/download.csv" in html
    assert client.get("/open/datasets/nope/").status_code == 404
    english = Client()
    english.cookies["django_language"] = "en"
    assert "Open data" in english.get("/open/").content.decode()
