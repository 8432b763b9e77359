from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContinuityConfig(AppConfig):
    name = "continuity"
    verbose_name = _("Continuity Plan")

    def ready(self):
        from enablement.signals import tenant_switched

        from . import entities
        from .signals import switch_back_recorded_as_drill, user_deleted_leaves_no_dangling_reference

        entities.register()
        from accounts.menu import MenuEntry
        from accounts.menu import register as register_menu
        from bcp_project.permissions import ACCESS_ADMIN

        register_menu(MenuEntry(label=_("Continuity Plan"), url_name="continuity:plan", permission=ACCESS_ADMIN,
                                order=97, section="continuity:"))
        tenant_switched.connect(switch_back_recorded_as_drill, dispatch_uid="continuity.switch_back_drill")
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete

        post_delete.connect(user_deleted_leaves_no_dangling_reference, sender=get_user_model(),
                            dispatch_uid="continuity.user_deleted")
