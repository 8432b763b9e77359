from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import BcpMapping


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
