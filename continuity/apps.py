from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContinuityConfig(AppConfig):
    name = "continuity"
    verbose_name = _("Continuity Plan")

    def ready(self):
        from . import entities

        entities.register()
