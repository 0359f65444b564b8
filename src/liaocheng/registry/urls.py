from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "registry"

urlpatterns: list[URLPattern | URLResolver] = [
    path("registry/people/", views.people, name="people"),
    path("registry/people/residents/", views.residents, name="residents"),
    path("registry/people/<int:pk>/", views.person_detail, name="person"),
    path("registry/people/<int:pk>/change/", views.person_change, name="person_change"),
    path("registry/entities/", views.entities, name="entities"),
    path("registry/entities/<str:credit_code>/", views.entity_detail, name="entity"),
    path("registry/entities/<str:credit_code>/change/", views.entity_change, name="entity_change"),
    path("registry/imports/", views.imports, name="imports"),
    path("registry/imports/<int:pk>/", views.import_job, name="import_job"),
    path("registry/imports/<int:pk>/resume/", views.import_resume, name="import_resume"),
    path("registry/imports/uploads/<str:token>/", views.upload_status, name="upload"),
]
