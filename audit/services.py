"""The one way every app writes to the audit log."""

from django.conf import settings
from django.db import models
from django.utils import translation

from .models import AuditEvent


def client_address(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _acting_as(request) -> str:
    if request is None:
        return ""
    impersonation = getattr(request, "impersonation", None)
    if impersonation is not None:
        # The log is written in one language whoever reads or writes it.
        with translation.override(settings.LANGUAGE_CODE):
            return str(impersonation.describe())
    return ""


def audit_record(
    *,
    action: str,
    request=None,
    actor=None,
    tenant=None,
    obj: models.Model | None = None,
    changes: dict | None = None,
    acting_as: str | None = None,
) -> AuditEvent:
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    if tenant is None and obj is not None:
        tenant = getattr(obj, "tenant", None)
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        acting_as=acting_as if acting_as is not None else _acting_as(request),
        action=action,
        tenant=tenant,
        tenant_name=str(tenant) if tenant is not None else "",
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes or {},
        ip_address=client_address(request),
    )
