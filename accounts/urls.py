from django.urls import path

from . import role_views, views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("profile/switch-emails/", views.profile_switch_emails, name="profile_switch_emails"),
    path("admin/", views.admin_home, name="admin_home"),
    # Roles and Permissions (Admin application)
    path("admin/roles/", role_views.role_list_view, name="role_list"),
    path("admin/roles/new/", role_views.role_create_view, name="role_create"),
    path("admin/roles/<int:role_id>/", role_views.role_permissions_view, name="role_detail"),
    path("admin/roles/<int:role_id>/permissions/<slug:section>/", role_views.role_permissions_view,
         name="role_permissions"),
    path("admin/roles/<int:role_id>/details/", role_views.role_details_view, name="role_details"),
    path("admin/roles/<int:role_id>/delete/", role_views.role_delete_view, name="role_delete"),
]
