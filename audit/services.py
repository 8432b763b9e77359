"""The one way every app writes to the audit log."""

from dataclasses import dataclass

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


SYSTEM_NAME = "system"


@dataclass(frozen=True)
class Actor:
    """Who acts, handed to a service explicitly: a person (perhaps a representative acting in a tenant),
    or the system for scheduled work. Only views build one from a request."""

    user: object = None
    acting_as: str = ""
    ip_address: str | None = None

    @classmethod
    def system(cls) -> "Actor":
        return cls()

    @classmethod
    def from_request(cls, request) -> "Actor":
        user = request.user if request.user.is_authenticated else None
        return cls(user=user, acting_as=_acting_as(request), ip_address=client_address(request))

    @property
    def is_system(self) -> bool:
        return self.user is None

    @property
    def name(self) -> str:
        return self.user.get_username() if self.user is not None else SYSTEM_NAME


def audit_record(
    *,
    action: str,
    request=None,
    actor=None,
    tenant=None,
    obj: models.Model | None = None,
    changes: dict | None = None,
    acting_as: str | None = None,
    by: Actor | None = None,
) -> AuditEvent:
    if by is not None:
        return _write(action=action, actor=by.user, actor_name=by.name, acting_as=by.acting_as, tenant=tenant,
                      obj=obj, changes=changes, ip_address=by.ip_address)
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return _write(action=action, actor=actor, actor_name=actor.get_username() if actor is not None else "",
                  acting_as=acting_as if acting_as is not None else _acting_as(request), tenant=tenant, obj=obj,
                  changes=changes, ip_address=client_address(request))


def _write(*, action, actor, actor_name, acting_as, tenant, obj, changes, ip_address) -> AuditEvent:
    if tenant is None and obj is not None:
        tenant = getattr(obj, "tenant", None)
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor_name,
        acting_as=acting_as,
        action=action,
        tenant=tenant,
        tenant_name=str(tenant) if tenant is not None else "",
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes or {},
        ip_address=ip_address,
    )
