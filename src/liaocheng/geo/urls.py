from django.urls import include, path

from . import views

app_name = "geo"

urlpatterns = [
    path("map/", views.map_page, name="map"),
    path("divisions/", views.division_list, name="divisions"),
    path("divisions/<str:code>/", views.division_detail, name="division"),
    path("ogcapi/", include("liaocheng.geo.ogcapi")),
]
