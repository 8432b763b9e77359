from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time a periodic task ran through beat and a worker: proof both are alive."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    beat_at = models.DateTimeField(_("last beat"))

    class Meta:
        verbose_name = _("heartbeat")

    def __str__(self):
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class RegionHealth(models.Model):
    """Whether a region's database answers, as the probe last found it, or as the drill command forces it
    (bcp_project.regions.health). Kept in the control plane, which outlives any one region, so that BC Enablement
    can say which region is down and since when; every process reads it through a short cache."""

    code = models.CharField(_("region code"), max_length=20, unique=True)
    answering = models.BooleanField(_("answering"), default=True)
    down_since = models.DateTimeField(_("down since"), null=True, blank=True)
    checked_at = models.DateTimeField(_("last checked"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Set by `manage.py region down`: the probe leaves the region down until `manage.py region up`.
    forced = models.BooleanField(_("forced down"), default=False)

    class Meta:
        verbose_name = _("region health")
        verbose_name_plural = _("region health")
        constraints = [
            models.CheckConstraint(condition=models.Q(answering=True, down_since__isnull=True, forced=False)
                                   | models.Q(answering=False, down_since__isnull=False),
                                   name="region_health_down_has_since"),
        ]

    def __str__(self):
        return f"{self.code}: {'answering' if self.answering else 'down'}"
