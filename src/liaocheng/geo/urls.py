from django.urls import include, path

from . import views

app_name = "geo"

urlpatterns = [
    path("map/", views.map_page, name="map"),
    path("ogcapi/", include("liaocheng.geo.ogcapi")),
]
