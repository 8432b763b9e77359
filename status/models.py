from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import Region, Tenant


class StatusLevel(models.TextChoices):
    """How the platform is doing for a region or a tenant; later members are worse."""

    OPERATIONAL = "operational", _("Operational")
    DEGRADED = "degraded", _("Degraded")
    OUTAGE = "outage", _("Outage")

    @property
    def severity(self) -> int:
        return list(StatusLevel).index(self)


class PlatformStatus(models.Model):
    """The status an account representative set for one region or one tenant. No row means operational.
    A tenant is as well as the worse of its own row and its region's."""

    MESSAGE_MAX_LENGTH = 500

    region = models.OneToOneField(Region, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="platform_status", verbose_name=_("region"))
    tenant = models.OneToOneField(Tenant, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="platform_status", verbose_name=_("tenant"))
    level = models.CharField(_("status"), max_length=12, choices=StatusLevel.choices,
                             default=StatusLevel.OPERATIONAL)
    message = models.CharField(_("message"), max_length=MESSAGE_MAX_LENGTH, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("updated by"))

    class Meta:
        # The table was made when platform status lived in enablement; its name stays, and so do its rows.
        db_table = "enablement_platformstatus"
        verbose_name = _("platform status")
        verbose_name_plural = _("platform statuses")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(region__isnull=False, tenant__isnull=True)
                           | models.Q(region__isnull=True, tenant__isnull=False)),
                name="platform_status_region_xor_tenant"),
            models.CheckConstraint(condition=models.Q(level__in=StatusLevel.values),
                                   name="platform_status_level_valid"),
        ]
        # The TM list shows the rows that are not operational, worst and newest first.
        indexes = [models.Index(fields=["level", "-updated_at"], name="platform_status_level_idx")]

    def __str__(self):
        return f"{self.region or self.tenant}: {self.get_level_display()}"


class StatusSubscription(models.Model):
    """A user who wants an email whenever their tenant's status (or its region's) changes, and on every
    switch to the BCP tenant or back."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", verbose_name=_("tenant"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "enablement_statussubscription"
        verbose_name = _("status alert subscription")
        verbose_name_plural = _("status alert subscriptions")
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="status_subscription_unique"),
        ]

    def __str__(self):
        return f"{self.user} · {self.tenant}"
