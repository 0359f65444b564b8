"""Geo services through the API a client uses: locating points (GCJ-02 and WGS84 GPS fixes, one and
many), outside-the-city answers, loading the profile idempotently, division history."""

import json

import numpy as np
import pytest

from liaocheng.core.models import AuditRecord
from liaocheng.geo import datum, services
from liaocheng.geo.models import Division, Grid, ProfileLoad
from liaocheng.geo.profile import load_profile

SEATS = {"371502": (115.985, 36.457), "371522": (115.671, 36.234), "371581": (115.705, 36.839)}


@pytest.mark.django_db
@pytest.mark.parametrize("county", sorted(SEATS))
def test_locate_a_county_seat(client, county: str) -> None:
    lon, lat = SEATS[county]
    data = client.get(f"/api/geo/locate?lon={lon}&lat={lat}").json()
    assert data["county_code"] == county
    grid = Grid.objects.get(code=data["grid_code"])
    assert grid.size_class == "urban" and grid.community_code == data["community_code"]
    assert data["grid_code"].startswith(data["community_code"]) and len(data["grid_code"]) == 15
    assert data["township_name"] and data["community_name"]


@pytest.mark.django_db
def test_wgs84_gps_fix_is_converted_before_locating(client) -> None:
    gcj_lon, gcj_lat = 115.98, 36.45
    # the GPS fix of the same place, found by inverting the offset
    wgs_lon, wgs_lat = datum.gcj02_to_wgs84(gcj_lon, gcj_lat)
    direct = client.get(f"/api/geo/locate?lon={gcj_lon}&lat={gcj_lat}").json()
    via_gps = client.get(f"/api/geo/locate?lon={wgs_lon}&lat={wgs_lat}&datum=wgs84").json()
    assert via_gps["grid_code"] == direct["grid_code"]
    assert via_gps["lon"] == pytest.approx(gcj_lon, abs=1e-5)
    # without conversion the raw GPS coordinates land a few hundred metres away, in another grid
    raw = client.get(f"/api/geo/locate?lon={wgs_lon}&lat={wgs_lat}").json()
    assert raw["grid_code"] != direct["grid_code"]


@pytest.mark.django_db
@pytest.mark.parametrize("lon,lat", [(117.0, 36.65), (0.0, 0.0), (116.0, 35.0)])
def test_outside_liaocheng_is_a_clear_400(client, lon: float, lat: float) -> None:
    response = client.get(f"/api/geo/locate?lon={lon}&lat={lat}")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "outside_liaocheng" and "聊城" in body["message_zh"] and "outside" in body["message_en"]


@pytest.mark.django_db
def test_malformed_coordinates_are_rejected(client) -> None:
    assert client.get("/api/geo/locate?lon=abc&lat=36").status_code == 422
    response = client.get("/api/geo/locate?lon=200&lat=36")
    assert response.status_code == 400 and response.json()["field"] == "lon"
    assert client.get("/api/geo/locate?lon=115.9&lat=36.4&datum=bd09").status_code == 422


@pytest.mark.django_db
def test_bulk_locate_agrees_with_single_points(client) -> None:
    rng = np.random.default_rng(7)
    pts = np.column_stack([rng.uniform(115.3, 116.6, 300), rng.uniform(35.8, 37.1, 300)])
    response = client.post(
        "/api/geo/locate/bulk", data=json.dumps({"points": pts.tolist()}), content_type="application/json"
    )
    codes = response.json()["grid_codes"]
    assert len(codes) == 300 and any(c is None for c in codes) and sum(c is not None for c in codes) > 100
    for (lon, lat), code in list(zip(pts, codes, strict=True))[:60]:
        single = client.get(f"/api/geo/locate?lon={lon}&lat={lat}")
        assert (single.json()["grid_code"] if single.status_code == 200 else None) == code


@pytest.mark.django_db
def test_loading_the_same_profile_again_changes_nothing() -> None:
    audits, grids = AuditRecord.objects.count(), Grid.objects.count()
    assert services.load_city_profile(load_profile()) is False
    assert AuditRecord.objects.count() == audits and Grid.objects.count() == grids
    assert ProfileLoad.objects.count() == 1


@pytest.mark.django_db
def test_chiping_history_is_kept() -> None:
    old = Division.objects.get(code="371523")
    new = Division.objects.get(code="371503", valid_to__isnull=True)
    assert old.name == "茌平县" and old.valid_to is not None and old.successor_id == new.pk
    assert new.name == "茌平区" and new.valid_from is not None and new.valid_from > old.valid_to
    assert Division.objects.filter(parent=new, level="township").count() == 14
    assert not Division.objects.filter(parent=old).exists()


@pytest.mark.django_db
def test_generated_and_local_data_is_marked() -> None:
    assert not Division.objects.filter(level="county", code_is_local=True).exists()
    assert not Division.objects.filter(level__in=["township", "village"], code_is_local=False).exists()
    assert not Division.objects.filter(level="township", geometry_generated=False).exists()
    assert not Division.objects.filter(level="county", geometry_generated=True).exists()
    assert not Grid.objects.filter(generated=False).exists()


def _township(county: str = "371525") -> Division:
    div = Division.objects.filter(level="township", code__startswith=county).order_by("code").first()
    assert div is not None
    return div


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload,needle",
    [
        ({"type": "Point", "coordinates": [115.4, 36.4]}, "Polygon"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[115.4, 36.4], [115.5, 36.5], [115.5, 36.4], [115.4, 36.5], [115.4, 36.4]]],
            },
            "invalid boundary geometry",
        ),
        ({"coordinates": []}, "no type"),
        ({"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.1, 30.0], [120.1, 30.1], [120.0, 30.0]]]}, "outside"),
    ],
)
def test_malformed_or_foreign_boundaries_are_rejected_and_nothing_changes(
    client, staff_factory, payload, needle
) -> None:
    clerk = staff_factory("bnd_clerk", roles=(("clerk", "371525"),))
    client.force_login(clerk)
    town = _township()
    before, audits = town.geometry, AuditRecord.objects.count()
    response = client.put(
        f"/api/geo/divisions/{town.code}/boundary",
        data=json.dumps({"geometry": payload}),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert needle in response.json()["message_en"] and response.json()["field"] == "geometry"
    town.refresh_from_db()
    assert town.geometry == before and AuditRecord.objects.count() == audits


@pytest.mark.django_db
def test_official_boundary_replaces_the_generated_one(client, staff_factory) -> None:
    clerk = staff_factory("bnd_ok", roles=(("clerk", "371525"),))
    client.force_login(clerk)
    town = _township()
    square = {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[115.40, 36.45], [115.42, 36.45], [115.42, 36.47], [115.40, 36.47], [115.40, 36.45]]],
        },
    }
    response = client.put(
        f"/api/geo/divisions/{town.code}/boundary",
        data=json.dumps({"geometry": square}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["geometry_generated"] is False
    town.refresh_from_db()
    assert (town.minx, town.maxy) == pytest.approx((115.40, 36.47))
    assert AuditRecord.objects.order_by("-seq").first().action == "geo.import_boundary"
    other = _township("371522")
    assert (
        client.put(
            f"/api/geo/divisions/{other.code}/boundary",
            data=json.dumps({"geometry": square}),
            content_type="application/json",
        ).status_code
        == 403
    )


@pytest.mark.django_db
def test_unknown_division_code_is_a_clear_404(client, staff_factory) -> None:
    client.force_login(staff_factory("unk", roles=(("viewer", "371500"),)))
    response = client.get("/api/geo/divisions/999999")
    assert response.status_code == 404 and "unknown division code" in response.json()["message_en"]
    assert client.get("/api/geo/divisions/abc").status_code == 400
