"""OGC API – Features endpoint (geo.ogcapi).

The test data lives in a fake province (codes 99xxxx) around lon 100, lat 10, far from Liaocheng,
so the assertions hold whether or not the real city profile is loaded into the test database.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from liaocheng.geo.models import Division, Grid

BASE = "/ogcapi"
AREA = "99.9,9.9,100.3,10.2"  # a bbox around the whole fake area
CELL = 0.01
COLS, ROWS = 6, 5


def _square(minx: float, miny: float, maxx: float, maxy: float) -> str:
    ring = [[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _division(
    code: str,
    name: str,
    level: str,
    parent: Division | None,
    bbox: tuple[float, ...] | None = None,
    **fields: Any,
) -> Division:
    extra: dict[str, Any] = {}
    if bbox is not None:
        minx, miny, maxx, maxy = bbox
        extra = {"geometry": _square(*bbox), "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}
    return Division.objects.create(code=code, name=name, level=level, parent=parent, **extra, **fields)


def make_area() -> dict[str, Any]:
    """A city, two counties and a historical one, a township, villages and 30 unit grids."""
    city = _division("990100", "测试市", "city", None, (99.95, 9.95, 100.25, 10.15), kind="地级市")
    county = _division(
        "990101", "甲区", "county", city, (100.0, 10.0, 100.1, 10.1), kind="市辖区", valid_from=date(1990, 1, 1)
    )
    new_county = _division(
        "990102", "乙区", "county", city, (100.1, 10.0, 100.2, 10.1), kind="市辖区", valid_from=date(2019, 6, 1)
    )
    _division(
        "990103",
        "乙县",
        "county",
        city,
        (100.1, 10.0, 100.2, 10.1),
        kind="县",
        valid_from=date(1990, 1, 1),
        valid_to=date(2019, 6, 1),
        successor=new_county,
    )
    township = _division("990101001", "甲街道", "township", county, (100.0, 10.0, 100.06, 10.05), kind="街道")
    village1 = _division("990101001001", "一社区", "village", township, kind="居委会", lon=100.015, lat=10.025)
    village2 = _division(
        "990101001002",
        "二社区",
        "village",
        township,
        kind="居委会",
        lon=100.045,
        lat=10.025,
        valid_from=date(2010, 1, 1),
    )
    # an earlier record with the same code: served as 990101001002@2000-01-01
    _division(
        "990101001002",
        "二村",
        "village",
        township,
        kind="村委会",
        lon=100.046,
        lat=10.026,
        valid_from=date(2000, 1, 1),
        valid_to=date(2010, 1, 1),
    )
    grids = []
    seq = 0
    for i in range(COLS):
        for j in range(ROWS):
            seq += 1
            community = village1 if i < 3 else village2
            minx, miny = round(100.0 + CELL * i, 6), round(10.0 + CELL * j, 6)
            maxx, maxy = round(minx + CELL, 6), round(miny + CELL, 6)
            grids.append(
                Grid(
                    code=f"{community.code}{seq:03d}",
                    community=community,
                    county_code="990101",
                    township_code="990101001",
                    community_code=community.code,
                    size_class="urban",
                    area_m2=1_200_000.0,
                    geometry=_square(minx, miny, maxx, maxy),
                    generated=True,
                    minx=minx,
                    miny=miny,
                    maxx=maxx,
                    maxy=maxy,
                )
            )
    Grid.objects.bulk_create(grids)
    return {"city": city, "county": county, "township": township, "grids": grids}


@pytest.fixture
def area(db: None) -> dict[str, Any]:
    return make_area()


def _get(client: Client, url: str, **extra: Any) -> Any:
    response = client.get(url, **extra)
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == "*"
    return response


def _error(client: Client, url: str, status: int, code: str) -> None:
    response = client.get(url)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["description"]


# --- capabilities -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_landing_page_links_are_absolute(client: Client) -> None:
    response = _get(client, f"{BASE}/")
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["title"] and body["description"]
    links = {link["rel"]: link for link in body["links"]}
    assert links["self"]["href"] == "http://testserver/ogcapi/"
    assert links["service-desc"]["href"] == "http://testserver/ogcapi/api"
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert links["conformance"]["href"] == "http://testserver/ogcapi/conformance"
    assert links["data"]["href"] == "http://testserver/ogcapi/collections"
    assert all(link["type"] and link["title"] for link in body["links"])
    assert _get(client, f"{BASE}/?f=json").json() == body


@pytest.mark.django_db
def test_conformance_classes(client: Client) -> None:
    conforms = _get(client, f"{BASE}/conformance").json()["conformsTo"]
    prefix = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    assert {prefix + "core", prefix + "geojson", prefix + "oas30"} <= set(conforms)


@pytest.mark.django_db
def test_openapi_document(client: Client) -> None:
    response = _get(client, f"{BASE}/api")
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = response.json()
    assert doc["openapi"].startswith("3.0.")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["servers"][0]["url"] == "http://testserver/ogcapi"
    for path in (
        "/",
        "/conformance",
        "/api",
        "/collections",
        "/collections/{collectionId}",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
        "/collections/grids/items",
    ):
        assert "get" in doc["paths"][path], path
    limit = doc["components"]["parameters"]["limit"]
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10}
    # every local $ref resolves
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/')[1:]}:
        node: Any = doc
        for key in ref.split("/"):
            node = node[key]


@pytest.mark.django_db
def test_unknown_format_and_accept(client: Client, area: dict[str, Any]) -> None:
    _error(client, f"{BASE}/?f=xml", 400, "InvalidParameterValue")
    _error(client, f"{BASE}/collections/grids/items?f=html", 400, "InvalidParameterValue")
    url = f"{BASE}/collections/grids/items?bbox={AREA}"
    assert _get(client, url)["Content-Type"] == "application/geo+json"
    assert _get(client, url, HTTP_ACCEPT="application/geo+json")["Content-Type"] == "application/geo+json"
    assert _get(client, url, HTTP_ACCEPT="application/json")["Content-Type"] == "application/json"
    assert _get(client, url + "&f=json")["Content-Type"] == "application/geo+json"


@pytest.mark.django_db
def test_read_only(client: Client) -> None:
    response = client.post(f"{BASE}/collections")
    assert response.status_code == 405
    assert response.json()["code"] == "MethodNotAllowed"
    assert client.options(f"{BASE}/collections").status_code == 204


# --- collections --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_collections(client: Client, area: dict[str, Any]) -> None:
    body = _get(client, f"{BASE}/collections").json()
    assert body["links"][0]["rel"] == "self"
    by_id = {c["id"]: c for c in body["collections"]}
    assert {"city", "counties", "townships", "villages", "grids"} <= set(by_id)
    for cid, coll in by_id.items():
        assert coll["itemType"] == "feature"
        assert coll["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
        assert "GCJ-02" in coll["description"] and coll["datum"] == "GCJ-02"
        assert coll["title"]
        links = {link["rel"]: link for link in coll["links"]}
        assert links["self"]["href"] == f"http://testserver/ogcapi/collections/{cid}"
        assert links["items"]["href"] == f"http://testserver/ogcapi/collections/{cid}/items"
        assert links["items"]["type"] == "application/geo+json"
        minx, miny, maxx, maxy = coll["extent"]["spatial"]["bbox"][0]
        assert coll["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        assert minx <= 100.015 and miny <= 10.025 and maxx >= 100.045 and maxy >= 10.025
    assert by_id["counties"]["extent"]["temporal"]["interval"][0][1] is None


@pytest.mark.django_db
def test_single_collection_and_unknown(client: Client, area: dict[str, Any]) -> None:
    coll = _get(client, f"{BASE}/collections/grids").json()
    assert coll["id"] == "grids"
    assert "单元网格" in coll["title"]
    _error(client, f"{BASE}/collections/nope", 404, "NotFound")
    _error(client, f"{BASE}/collections/nope/items", 404, "NotFound")
    _error(client, f"{BASE}/collections/nope/items/1", 404, "NotFound")


@pytest.mark.django_db
def test_queryables(client: Client) -> None:
    response = _get(client, f"{BASE}/collections/grids/queryables")
    assert response["Content-Type"] == "application/schema+json"
    assert "county_code" in response.json()["properties"]


# --- items --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_items_paging_returns_every_grid_once(client: Client, area: dict[str, Any]) -> None:
    expected = sorted(g.code for g in area["grids"])
    url: str | None = f"{BASE}/collections/grids/items?bbox={AREA}&limit=7&unknown=ignored"
    seen: list[str] = []
    pages = 0
    while url:
        response = _get(client, url)
        assert response["Content-Type"] == "application/geo+json"
        body = response.json()
        assert body["type"] == "FeatureCollection"
        assert body["numberMatched"] == len(expected)
        assert body["numberReturned"] == len(body["features"]) <= 7
        assert body["timeStamp"].endswith("Z")
        links = {link["rel"]: link for link in body["links"]}
        assert links["self"]["type"] == "application/geo+json"
        assert links["collection"]["href"] == "http://testserver/ogcapi/collections/grids"
        seen += [f["id"] for f in body["features"]]
        if pages:
            assert "prev" in links
        url = links["next"]["href"] if "next" in links else None
        if url:
            assert url.startswith("http://testserver/ogcapi/collections/grids/items?")
            query = parse_qs(urlsplit(url).query)
            assert query["offset"] == [str(len(seen))] and query["bbox"] == [AREA]
        pages += 1
    assert pages == 5
    assert seen == expected


@pytest.mark.django_db
def test_offset_beyond_the_end(client: Client, area: dict[str, Any]) -> None:
    body = _get(client, f"{BASE}/collections/grids/items?bbox={AREA}&offset=100").json()
    assert body["numberMatched"] == 30 and body["numberReturned"] == 0 and body["features"] == []
    assert "next" not in {link["rel"] for link in body["links"]}


@pytest.mark.django_db
def test_default_limit(client: Client, area: dict[str, Any]) -> None:
    body = _get(client, f"{BASE}/collections/grids/items?bbox={AREA}").json()
    assert body["numberReturned"] == 10


@pytest.mark.django_db
def test_bbox_filter_returns_exactly_the_intersecting_grids(client: Client, area: dict[str, Any]) -> None:
    qminx, qminy, qmaxx, qmaxy = 100.015, 10.015, 100.035, 10.025
    expected = sorted(
        g.code for g in area["grids"] if g.maxx >= qminx and g.minx <= qmaxx and g.maxy >= qminy and g.miny <= qmaxy
    )
    assert len(expected) == 6  # 3 columns x 2 rows
    body = _get(
        client,
        f"{BASE}/collections/grids/items?bbox={qminx},{qminy},{qmaxx},{qmaxy}&limit=100"
        "&bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    ).json()
    assert [f["id"] for f in body["features"]] == expected
    assert body["numberMatched"] == 6
    # the 3D form is accepted, heights ignored
    body3d = _get(client, f"{BASE}/collections/grids/items?bbox={qminx},{qminy},0,{qmaxx},{qmaxy},10&limit=100").json()
    assert [f["id"] for f in body3d["features"]] == expected


@pytest.mark.django_db
def test_attribute_filters(client: Client, area: dict[str, Any]) -> None:
    body = _get(client, f"{BASE}/collections/grids/items?community_code=990101001002&limit=100").json()
    assert body["numberMatched"] == 15
    assert all(f["properties"]["community_code"] == "990101001002" for f in body["features"])
    by_county = _get(client, f"{BASE}/collections/grids/items?county_code=990101&limit=1").json()
    assert by_county["numberMatched"] == 30
    counties = _get(client, f"{BASE}/collections/counties/items?parent_code=990100").json()
    assert [f["id"] for f in counties["features"]] == ["990101", "990102", "990103"]
    historical = counties["features"][2]["properties"]
    assert historical["valid_to"] == "2019-06-01" and historical["successor_code"] == "990102"
    _error(client, f"{BASE}/collections/grids/items?generated=maybe", 400, "InvalidParameterValue")


@pytest.mark.django_db
def test_datetime_selects_valid_records(client: Client, area: dict[str, Any]) -> None:
    def ids(query: str) -> list[str]:
        body = _get(client, f"{BASE}/collections/counties/items?parent_code=990100&{query}").json()
        return [f["id"] for f in body["features"]]

    assert ids("datetime=2018-01-01") == ["990101", "990103"]
    assert ids("datetime=2020-01-01T00:00:00Z") == ["990101", "990102"]
    assert ids("datetime=2018-01-01/2020-01-01") == ["990101", "990102", "990103"]
    assert ids("datetime=../2000-01-01") == ["990101", "990103"]
    assert ids("datetime=2019-06-01/..") == ["990101", "990102"]


@pytest.mark.django_db
def test_villages_are_points_and_duplicate_codes_get_own_ids(client: Client, area: dict[str, Any]) -> None:
    body = _get(client, f"{BASE}/collections/villages/items?parent_code=990101001").json()
    by_id = {f["id"]: f for f in body["features"]}
    assert set(by_id) == {"990101001001", "990101001002", "990101001002@2000-01-01"}
    assert by_id["990101001001"]["geometry"] == {"type": "Point", "coordinates": [100.015, 10.025]}
    assert by_id["990101001002"]["properties"]["name"] == "二社区"
    assert by_id["990101001002@2000-01-01"]["properties"]["name"] == "二村"
    old = _get(client, f"{BASE}/collections/villages/items/990101001002@2000-01-01").json()
    assert old["properties"]["valid_to"] == "2010-01-01"
    current = _get(client, f"{BASE}/collections/villages/items/990101001002").json()
    assert current["properties"]["valid_to"] is None
    inside = _get(client, f"{BASE}/collections/villages/items?bbox=100.01,10.02,100.02,10.03").json()
    assert [f["id"] for f in inside["features"]] == ["990101001001"]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=10001",
        "limit=abc",
        "limit=1.5",
        "offset=-1",
        "offset=x",
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "bbox=100,10.1,100.1,10",
        "bbox=",
        "bbox=1,2,3,4,5",
        "bbox=0,0,nan,1",
        "bbox=100,10,100.1,10.1&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326",
        "crs=http://www.opengis.net/def/crs/EPSG/0/3857",
        "datetime=yesterday",
        "datetime=2020-01-01/2019-01-01",
    ],
)
@pytest.mark.django_db
def test_invalid_parameters(client: Client, query: str) -> None:
    _error(client, f"{BASE}/collections/grids/items?{query}", 400, "InvalidParameterValue")


@pytest.mark.django_db
def test_single_feature(client: Client, area: dict[str, Any]) -> None:
    grid = area["grids"][7]
    response = _get(client, f"{BASE}/collections/grids/items/{grid.code}")
    assert response["Content-Type"] == "application/geo+json"
    feature = response.json()
    assert feature["type"] == "Feature" and feature["id"] == grid.code
    assert feature["geometry"] == json.loads(Grid.objects.get(code=grid.code).geometry)
    assert feature["properties"] == {
        "code": grid.code,
        "community_code": "990101001001",
        "township_code": "990101001",
        "county_code": "990101",
        "size_class": "urban",
        "area_m2": 1_200_000.0,
        "generated": True,
    }
    links = {link["rel"]: link["href"] for link in feature["links"]}
    assert links["self"] == f"http://testserver/ogcapi/collections/grids/items/{grid.code}"
    assert links["collection"] == "http://testserver/ogcapi/collections/grids"

    county = _get(client, f"{BASE}/collections/counties/items/990101").json()
    assert county["geometry"] == json.loads(area["county"].geometry)
    assert county["properties"]["parent_code"] == "990100" and county["properties"]["name"] == "甲区"
    assert county["properties"]["valid_from"] == "1990-01-01" and county["properties"]["level"] == "county"


@pytest.mark.django_db
def test_unknown_feature(client: Client, area: dict[str, Any]) -> None:
    _error(client, f"{BASE}/collections/grids/items/990101001001999", 404, "NotFound")
    _error(client, f"{BASE}/collections/counties/items/990101001", 404, "NotFound")  # a township code
    _error(client, f"{BASE}/collections/villages/items/990101001002@1999-01-01", 404, "NotFound")


@pytest.mark.django_db
def test_large_page(client: Client, area: dict[str, Any]) -> None:
    village = Division.objects.get(code="990101001001")
    Grid.objects.bulk_create(
        Grid(
            code=f"990199{n:09d}",
            community=village,
            county_code="990199",
            township_code="990199001",
            community_code="990199001001",
            size_class="rural",
            area_m2=1.0,
            geometry=_square(101.0, 11.0, 101.001, 11.001),
            minx=101.0,
            miny=11.0,
            maxx=101.001,
            maxy=11.001,
        )
        for n in range(5000)
    )
    body = _get(client, f"{BASE}/collections/grids/items?county_code=990199&limit=5000").json()
    assert body["numberMatched"] == body["numberReturned"] == 5000
    assert len({f["id"] for f in body["features"]}) == 5000


# --- an unchanged standard client ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_owslib_reads_the_api(live_server: Any) -> None:
    from owslib.ogcapi.features import Features

    area = make_area()
    api = Features(live_server.url + "/ogcapi/")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    assert api.api()["openapi"].startswith("3.0")
    ids = {c["id"] for c in api.collections()["collections"]}
    assert {"city", "counties", "townships", "villages", "grids"} <= ids
    assert set(api.feature_collections()) >= {"city", "counties", "townships", "villages", "grids"}
    grids = api.collection("grids")
    assert grids["id"] == "grids" and grids["itemType"] == "feature"

    result = api.collection_items("grids", bbox=[100.015, 10.015, 100.035, 10.025], limit=4)
    assert result["type"] == "FeatureCollection"
    assert result["numberMatched"] == 6 and result["numberReturned"] == 4
    assert all(f["properties"]["county_code"] == "990101" for f in result["features"])
    rest = api.collection_items("grids", bbox=[100.015, 10.015, 100.035, 10.025], limit=4, offset=4)
    codes = [f["id"] for f in result["features"] + rest["features"]]
    assert len(set(codes)) == 6

    grid = area["grids"][0]
    feature = api.collection_item("grids", grid.code)
    assert feature["geometry"] == json.loads(grid.geometry)
    assert api.collection_queryables("grids")["properties"]["county_code"]["type"] == "string"
