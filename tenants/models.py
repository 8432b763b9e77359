import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from bcp_project.permissions import TENANT_PERMISSIONS
from bcp_project.regions import region_name


class Region(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=20, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """The name to show: the seeded regions in the reader's language (bcp_project.regions.region_name)."""
        return region_name(self.code, self.name)


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
        # The tenants list orders by (name, id); the region filter adds region first.
        indexes = [
            models.Index(fields=["region", "name"]),
            models.Index(fields=["name", "id"], name="tenant_name_id_idx"),
        ]
        # Object permissions a tenant's roles receive on their own tenant (django-guardian), plus the
        # global permission of account representatives.
        permissions = TENANT_PERMISSIONS

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class TenantUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Tenant, on_delete=models.CASCADE)


class TenantGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Tenant, on_delete=models.CASCADE)


class BcpMappingQuerySet(models.QuerySet):
    """The one place that says which pair a tenant belongs to and how a switch and a sync lock a pair."""

    def of_tenant(self, tenant, *, side: str | None = None):
        """The pair `tenant` (a Tenant or its id) belongs to, on either side; with `side`, only the pair in
        which it is on that side ("primary": the pair it is the primary of; "secondary": the pair it backs up)."""
        tenant_id = getattr(tenant, "pk", tenant)
        if side == BcpMapping.Side.PRIMARY:
            return self.filter(primary_id=tenant_id)
        if side == BcpMapping.Side.SECONDARY:
            return self.filter(secondary_id=tenant_id)
        if side is not None:
            raise ValueError(f"not a side of a BCP pair: {side!r}")
        return self.filter(models.Q(primary_id=tenant_id) | models.Q(secondary_id=tenant_id))

    # The pair's lock is on its own row only (of=self: never the tenant rows a select_related joins, so a switch
    # does not hold up role changes or a plan being started in either tenant).
    #
    # locked() is FOR UPDATE: a switch or revert, a passkey attempt (so two at once cannot both slip under
    # the throttle), a sync request (so it sees a switch, or the switch waits for it) and every change to the
    # pair's set-up (BCP on for the BCP tenant, a new passkey, BCP off, which deletes the row).
    #
    # A sync run does not lock the pair: it writes the backup's region and is fenced there (sync.engine.snapshot;
    # docs/architecture.md, "The sync across regions"), so a switch never waits for a run.

    def locked(self):
        """Rows locked FOR UPDATE until the transaction ends: what a switch and the pair's set-up take."""
        return self.select_for_update(of=("self",))


class BcpMapping(models.Model):
    """A primary tenant paired with its BCP (backup) tenant in another region.

    Saved only when the representative clicks Save after the wizard; the passkey both tenants share
    is kept as a Django password hash, never as text.
    """

    class Side(models.TextChoices):
        PRIMARY = "primary", _("Primary")
        SECONDARY = "secondary", _("BCP tenant")

    primary = models.OneToOneField(Tenant, on_delete=models.PROTECT, related_name="bcp_as_primary",
                                   verbose_name=_("primary tenant"))
    secondary = models.OneToOneField(Tenant, on_delete=models.PROTECT, related_name="bcp_as_secondary",
                                     verbose_name=_("BCP tenant"))
    active_side = models.CharField(_("active tenant"), max_length=10, choices=Side.choices, default=Side.PRIMARY)
    passkey_hash = models.CharField(_("passkey hash"), max_length=256)
    passkey_generated_at = models.DateTimeField(_("passkey generated"))
    # Every switch increments it; sessions signed in under an older epoch must sign in again.
    routing_epoch = models.PositiveBigIntegerField(_("routing epoch"), default=0)
    # The last switch (or revert): when the active side took over and who submitted it.
    active_since = models.DateTimeField(_("active since"), null=True, blank=True)
    switched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("switched by"))
    primary_configurations_enabled = models.BooleanField(_("BCP Configurations on the primary"), default=True)
    primary_enablement_enabled = models.BooleanField(_("BCP Tenant Enablement on the primary"), default=True)
    secondary_configurations_enabled = models.BooleanField(_("BCP Configurations on the BCP tenant"), default=False)
    secondary_enablement_enabled = models.BooleanField(_("BCP Tenant Enablement on the BCP tenant"), default=False)
    # Set when a representative saves BCP on the BCP tenant's own Applications & Features tab.
    secondary_enabled_at = models.DateTimeField(_("BCP turned on for the BCP tenant"), null=True, blank=True)
    secondary_enabled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                             blank=True, related_name="+", verbose_name=_("BCP tenant turned on by"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = BcpMappingQuerySet.as_manager()

    class Meta:
        verbose_name = _("BCP mapping")
        verbose_name_plural = _("BCP mappings")
        constraints = [
            models.CheckConstraint(condition=~models.Q(primary=models.F("secondary")),
                                   name="bcp_mapping_primary_is_not_secondary"),
            models.CheckConstraint(condition=models.Q(active_side__in=["primary", "secondary"]),
                                   name="bcp_mapping_active_side_valid"),
        ]

    def __str__(self):
        return f"{self.primary} → {self.secondary}"

    def side_of(self, tenant) -> str | None:
        if tenant.pk == self.primary_id:
            return self.Side.PRIMARY
        if tenant.pk == self.secondary_id:
            return self.Side.SECONDARY
        return None

    def partner_of(self, tenant) -> Tenant:
        return self.secondary if tenant.pk == self.primary_id else self.primary

    @property
    def active_tenant(self) -> Tenant:
        """The tenant people sign in to now."""
        return self.secondary if self.active_side == self.Side.SECONDARY else self.primary

    @property
    def active_tenant_id(self):
        return self.secondary_id if self.active_side == self.Side.SECONDARY else self.primary_id

    @property
    def inactive_tenant(self) -> Tenant:
        """The other one: where a switch (or a revert) would take people."""
        return self.primary if self.active_side == self.Side.SECONDARY else self.secondary

    @property
    def secondary_enabled(self) -> bool:
        return self.secondary_enabled_at is not None


class BcpMembership(models.Model):
    """One row per tenant of a mapping. The unique tenant column is what stops a tenant from being
    primary of one pair and backup of another: two representatives racing are decided here."""

    mapping = models.ForeignKey(BcpMapping, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.OneToOneField(Tenant, on_delete=models.PROTECT, related_name="bcp_membership")
    side = models.CharField(max_length=10, choices=BcpMapping.Side.choices)

    class Meta:
        verbose_name = _("BCP membership")
        verbose_name_plural = _("BCP memberships")
        constraints = [
            models.UniqueConstraint(fields=["mapping", "side"], name="bcp_membership_one_tenant_per_side"),
            models.CheckConstraint(condition=models.Q(side__in=["primary", "secondary"]),
                                   name="bcp_membership_side_valid"),
        ]

    def __str__(self):
        return f"{self.tenant} ({self.side})"
