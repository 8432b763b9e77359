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
    # The email to everyone of the pair (enablement.notices): set when it has gone to everyone. While a copy of the
    # task sends it, that copy holds the claim (its token; "" when nobody does), renewing claimed_at after each
    # email: a second copy finds it held and mails nobody, and the beat dispatcher lets another copy take over a
    # claim not renewed for a while (its worker died) or given back (the mail server took no email).
    everyone_mailed_at = models.DateTimeField(_("everyone emailed"), null=True, blank=True)
    everyone_mail_claim = models.CharField(_("emailing everyone, by"), max_length=32, blank=True)
    everyone_mail_claimed_at = models.DateTimeField(_("emailing everyone, last sign of life"), null=True,
                                                    blank=True)
    # The switch's row in the audit log (never deleted): a drill made of this switch points at it.
    audit_event = models.OneToOneField("audit.AuditEvent", on_delete=models.PROTECT, related_name="+",
                                       verbose_name=_("audit event"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("switch")
        verbose_name_plural = _("switches")
        indexes = [models.Index(fields=["primary", "to_side", "at"], name="switch_primary_to_at_idx"),
                   # The beat dispatcher's look for switches whose email to everyone has not gone yet.
                   models.Index(fields=["at"], condition=models.Q(everyone_mailed_at__isnull=True),
                                name="switch_unmailed_idx")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(from_side=models.F("to_side")), name="switch_changes_side"),
            models.CheckConstraint(condition=models.Q(to_side__in=["primary", "secondary"])
                                   & models.Q(from_side__in=["primary", "secondary"]), name="switch_sides_valid"),
        ]

    def __str__(self):
        return f"{self.mapping or self.primary} → {self.to_side} · {self.at:%Y-%m-%d %H:%M:%S}"


class PairMessage(models.Model):
    """A message an administrator of either tenant writes for everyone in the pair: shown as a banner on every page
    to the users of both tenants, and on the sign-in page of a browser signed out by the pair's switch, until an
    administrator removes it (which deletes the row). Kept with the pair in the control plane."""

    mapping = models.OneToOneField(BcpMapping, on_delete=models.CASCADE, related_name="message",
                                   verbose_name=_("BCP mapping"))
    text = models.TextField(_("message"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+", verbose_name=_("written by"))
    set_by_name = models.CharField(_("written by"), max_length=200, blank=True)
    set_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("message for the pair")
        verbose_name_plural = _("messages for the pair")

    def __str__(self):
        return self.text[:60]


class SwitchNoticeShown(models.Model):
    """This account was shown, after a sign-in, the notice of this switch: each person sees it once per switch
    (the unique pair decides when two sign-ins race)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    switch = models.ForeignKey(Switch, on_delete=models.CASCADE, related_name="+", verbose_name=_("switch"))
    at = models.DateTimeField(_("shown"), default=timezone.now)

    class Meta:
        verbose_name = _("switch notice shown")
        verbose_name_plural = _("switch notices shown")
        constraints = [models.UniqueConstraint(fields=["user", "switch"], name="switch_notice_once_per_user")]

    def __str__(self):
        return f"{self.user} · {self.switch}"


class SwitchEmailSent(models.Model):
    """The email to everyone of a switch went to this address (lower-cased), recorded right after the mail server
    took it: a copy of the task that takes over from one that died mid-way sends only to the addresses not
    recorded."""

    switch = models.ForeignKey(Switch, on_delete=models.CASCADE, related_name="+", verbose_name=_("switch"))
    address = models.CharField(_("email address"), max_length=254)
    at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("switch email sent")
        verbose_name_plural = _("switch emails sent")
        constraints = [models.UniqueConstraint(fields=["switch", "address"], name="switch_email_once_per_address")]

    def __str__(self):
        return f"{self.address} · {self.switch}"
