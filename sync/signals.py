"""Continuous mode: any save of a synced record marks its tenant's configuration as having changes waiting.

Bulk writes send no signals; every service that writes in bulk also saves the parent record (hours and
their days, an agent and their skills) or writes a Deletion, so the mark is set all the same.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from accounts.models import Role, User
from contactcenter.models import AgentProfile, Deletion, Disposition
from tenants.models import TenantGroupObjectPermission

from .entities import ENTITIES
from .services import sync_note_change


def _changed(sender, instance, **kwargs):
    if sender is User and set(kwargs.get("update_fields") or ()) <= {"last_login"} and kwargs.get("update_fields"):
        return  # signing in is not a change of configuration
    tenant_id = getattr(instance, "tenant_id", None) or getattr(instance, "content_object_id", None)
    if tenant_id is not None:
        sync_note_change(tenant_id=tenant_id)


def _skills_changed(sender, instance, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        sync_note_change(tenant_id=instance.tenant_id)


def connect_model(model) -> None:
    post_save.connect(_changed, sender=model, dispatch_uid=f"sync-continuous-{model._meta.label}")
    post_delete.connect(_changed, sender=model, dispatch_uid=f"sync-continuous-delete-{model._meta.label}")


def connect() -> None:
    models = {entity.model for entity in ENTITIES} | {AgentProfile, Deletion, Role, User}
    for model in models:
        post_save.connect(_changed, sender=model, dispatch_uid=f"sync-continuous-{model._meta.label}")
    # Guardian rows: granting saves one, taking away deletes one.
    post_save.connect(_changed, sender=TenantGroupObjectPermission, dispatch_uid="sync-continuous-perm-save")
    post_delete.connect(_changed, sender=TenantGroupObjectPermission, dispatch_uid="sync-continuous-perm-delete")
    m2m_changed.connect(_skills_changed, sender=Disposition.skills.through, dispatch_uid="sync-continuous-skills")
