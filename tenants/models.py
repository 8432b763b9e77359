import uuid

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Region(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=20, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.name


class Tenant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    # The tenant ID people copy between screens is the primary key itself.
    id = models.UUIDField(_("tenant ID"), primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=120)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="tenants", verbose_name=_("region"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        constraints = [
            models.UniqueConstraint(Lower("name"), name="tenant_name_unique_ci"),
        ]
        indexes = [models.Index(fields=["region", "name"])]
        # Object permissions a tenant's roles receive on their own tenant (django-guardian), plus the
        # global permission of account representatives.
        permissions = [
            ("tm_admin", _("Tenant Management (account representative)")),
            ("access_admin", _("Open the Admin application")),
            ("manage_roles", _("Manage roles and permissions")),
            ("view_configuration", _("View the contact-center configuration")),
            ("change_configuration", _("Change the contact-center configuration")),
            ("view_bcp_configurations", _("BCP Configurations: View")),
            ("change_bcp_configurations", _("BCP Configurations: Edit")),
            ("view_bcp_enablement", _("BCP Tenant Enablement: View")),
            ("change_bcp_enablement", _("BCP Tenant Enablement: Edit")),
        ]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class TenantUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Tenant, on_delete=models.CASCADE)


class TenantGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Tenant, on_delete=models.CASCADE)
