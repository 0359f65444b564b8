from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.portal, name="portal"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", views.login_view, name="login"),
    path("login/totp-setup/", views.totp_setup, name="totp_setup"),
    path("logout/", views.logout_view, name="logout"),
    path("register/citizen/", views.register_citizen, name="register_citizen"),
    path("register/enterprise/", views.register_enterprise, name="register_enterprise"),
    path("register/done/", views.registered, name="registered"),
    path("workbench/", views.workbench, name="workbench"),
    path("me/", views.me, name="me"),
]
