"""Continuous mode: any save of a synced record marks its tenant's configuration as having changes waiting, once
the transaction that saved it commits (services.sync_note_change), and the first such change asks for its run.

One receiver, connected to every registered type's model and its children's (and to the tombstones), including
the types registered after the sync's app is ready. A deleted top-level record leaves a tombstone (Deletion),
whose save counts; the children a service deletes without saving their parent say so (`deleted_alone`), and
their deletes count too. Bulk writes send no signals; every service that writes children in bulk also saves the
parent record (hours and their days, an agent and their skills), so the mark is set all the same.
"""

from django.db import router
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from accounts.models import User
from contactcenter.models import Deletion
from tenants.models import BcpMapping

from .engine.registry import on_register
from .engine.types import Entity
from .services import sync_note_change, sync_pair_forget


def _changed(sender, instance, **kwargs):
    if sender is User and set(kwargs.get("update_fields") or ()) <= {"last_login"} and kwargs.get("update_fields"):
        return  # signing in is not a change of configuration
    tenant_id = getattr(instance, "tenant_id", None) or getattr(instance, "content_object_id", None)
    if tenant_id is not None:
        using = kwargs.get("using") or instance._state.db or router.db_for_write(sender, instance=instance)
        sync_note_change(tenant_id=tenant_id, using=using)


def _related_changed(sender, instance, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        _changed(sender, instance, using=kwargs.get("using"))


def _connect(model, *, deletes: bool) -> None:
    label = model._meta.label
    if model._meta.auto_created:  # a many-to-many table: its rows change through add(), remove(), clear()
        m2m_changed.connect(_related_changed, sender=model, dispatch_uid=f"sync-continuous-m2m-{label}")
        return
    post_save.connect(_changed, sender=model, dispatch_uid=f"sync-continuous-{label}")
    if deletes:
        post_delete.connect(_changed, sender=model, dispatch_uid=f"sync-continuous-delete-{label}")


def _connect_type(entity: Entity) -> None:
    _connect(entity.model, deletes=False)
    for child in entity.children:
        _connect(child.model, deletes=child.deleted_alone)


def _pair_deleted(sender, instance, **kwargs):
    """A BCP pair's runs, correlations and fence live in the backup's region: they go first, by hand."""
    sync_pair_forget(mapping=instance)


def connect() -> None:
    pre_delete.connect(_pair_deleted, sender=BcpMapping, dispatch_uid="sync-pair-forget")
    _connect(Deletion, deletes=False)
    on_register(_connect_type)
