"""Tenants made before the continuity plan existed: their Administrator role may edit the plan, as a new
tenant's does."""

from django.db import migrations

CODENAME = "change_continuity_plan"


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Role = apps.get_model("accounts", "Role")
    Grant = apps.get_model("tenants", "TenantGroupObjectPermission")
    content_type, _ = ContentType.objects.get_or_create(app_label="tenants", model="tenant")
    permission, _ = Permission.objects.get_or_create(content_type=content_type, codename=CODENAME,
                                                     defaults={"name": "Continuity Plan: Edit"})
    for role in Role.objects.filter(name="Administrator"):
        Grant.objects.get_or_create(group_id=role.group_id, permission=permission, content_object_id=role.tenant_id)


class Migration(migrations.Migration):
    dependencies = [
        ("continuity", "0001_initial"),
        ("tenants", "0005_alter_tenant_options"),
        ("accounts", "0003_usernames_unique_per_person"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    # Roles and permissions live in the control plane (bcp_project.routers).
    operations = [migrations.RunPython(grant, migrations.RunPython.noop, hints={"control_plane": True})]
