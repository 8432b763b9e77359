from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import BcpMapping, Tenant


class PasskeyAttempt(models.Model):
    """One passkey entered on BC Enablement (or in a rehearsal). The throttle counts the wrong ones in the
    database, so a restart or a second web process does not reset it."""

    mapping = models.ForeignKey(BcpMapping, on_delete=models.CASCADE, related_name="passkey_attempts",
                                verbose_name=_("BCP mapping"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    succeeded = models.BooleanField(_("right passkey"))

    class Meta:
        verbose_name = _("passkey attempt")
        verbose_name_plural = _("passkey attempts")
        indexes = [models.Index(fields=["user", "mapping", "at"], name="passkey_attempt_window_idx")]

    def __str__(self):
        return f"{self.user} · {self.mapping} · {self.at:%Y-%m-%d %H:%M:%S}"


class Switch(models.Model):
    """One real switch of a BCP pair to its BCP tenant, or back (a revert), written by tenant_switch in the
    transaction that flips the pair. The audit log keeps its own row; this is what other apps read (continuity
    makes a drill of each switch and its revert) through selectors.switch_*, instead of parsing audit JSON."""

    # The pair, and its primary: the pair's row goes when BCP is turned off, the history of its switches stays.
    mapping = models.ForeignKey(BcpMapping, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="switches", verbose_name=_("BCP mapping"))
    primary = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("primary tenant"))
    from_side = models.CharField(_("from"), max_length=10, choices=BcpMapping.Side.choices)
    to_side = models.CharField(_("to"), max_length=10, choices=BcpMapping.Side.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           related_name="+", verbose_name=_("switched by"))
    # Copied like the audit log's, so that the record still reads after the user is deleted.
    by_name = models.CharField(_("switched by"), max_length=200, blank=True)
    acting_as = models.CharField(_("acting as"), max_length=200, blank=True)
    # An account representative switched from Tenant Management, on the tenant's behalf.
    on_behalf = models.BooleanField(_("on the tenant's behalf"), default=False)
    at = models.DateTimeField(_("when (UTC)"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    # "Switch anyway": the keys of the readiness checks that had failed, and the reason given.
    switched_anyway = models.JSONField(_("switched anyway despite"), default=list, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    routing_epoch = models.PositiveBigIntegerField(_("routing epoch after"))
    # The switch's row in the audit log (never deleted): a drill made of this switch points at it.
    audit_event = models.OneToOneField("audit.AuditEvent", on_delete=models.PROTECT, related_name="+",
                                       verbose_name=_("audit event"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("switch")
        verbose_name_plural = _("switches")
        indexes = [models.Index(fields=["primary", "to_side", "at"], name="switch_primary_to_at_idx")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(from_side=models.F("to_side")), name="switch_changes_side"),
            models.CheckConstraint(condition=models.Q(to_side__in=["primary", "secondary"])
                                   & models.Q(from_side__in=["primary", "secondary"]), name="switch_sides_valid"),
        ]

    def __str__(self):
        return f"{self.mapping or self.primary} → {self.to_side} · {self.at:%Y-%m-%d %H:%M:%S}"
