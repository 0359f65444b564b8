from django.urls import path

from . import views, views_admin

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
    # views_admin.workbench is views.workbench plus the administration tiles the user may open.
    path("workbench/", views_admin.workbench, name="workbench"),
    path("workbench/staff/", views_admin.staff_list, name="staff_list"),
    path("workbench/staff/new/", views_admin.staff_create, name="staff_create"),
    path("workbench/staff/<int:pk>/", views_admin.staff_detail, name="staff_detail"),
    path("workbench/staff/<int:pk>/grants/<int:grant_id>/revoke/", views_admin.staff_revoke,
         name="staff_revoke"),
    path("workbench/staff/<int:pk>/active/", views_admin.staff_set_active, name="staff_set_active"),
    path("workbench/staff/<int:pk>/reset-totp/", views_admin.staff_reset_totp, name="staff_reset_totp"),
    path("workbench/audit/", views_admin.audit_list, name="audit_list"),
    path("workbench/audit/verify/", views_admin.audit_verify, name="audit_verify"),
    path("workbench/audit/<int:seq>/", views_admin.audit_detail, name="audit_detail"),
    path("workbench/calendar/", views_admin.calendar_page, name="calendar"),
    path("workbench/calendar/overrides/", views_admin.calendar_override_add, name="calendar_override_add"),
    path("workbench/calendar/overrides/<str:day>/remove/", views_admin.calendar_override_remove,
         name="calendar_override_remove"),
    path("me/", views.me, name="me"),
]
