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
    someone not signed in (a failed sign-in), or the system for scheduled work and seeds. Only code that
    holds the request builds one from it: views, the sign-in signals, Impersonate & Support."""

    user: object = None
    acting_as: str = ""
    ip_address: str | None = None
    anonymous: bool = False

    @classmethod
    def system(cls) -> "Actor":
        return cls()

    @classmethod
    def from_request(cls, request, *, user=None) -> "Actor":
        """`user` names the person while Django signs them in or out (the request may not carry them)."""
        user = user if user is not None else request.user
        if not user.is_authenticated:
            return cls.from_anonymous_request(request)
        return cls(user=user, acting_as=_acting_as(request), ip_address=client_address(request))

    @classmethod
    def from_anonymous_request(cls, request) -> "Actor":
        """Whoever sent the request, without a name: a failed sign-in says only where it came from."""
        return cls(acting_as=_acting_as(request), ip_address=client_address(request), anonymous=True)

    @property
    def is_system(self) -> bool:
        return self.user is None and not self.anonymous

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return "" if self.anonymous else SYSTEM_NAME


def audit_record(*, action: str, by: Actor, tenant=None, obj: models.Model | None = None,
                 changes: dict | None = None, using: str | None = None) -> AuditEvent:
    """Records one change. The row is written in the database of the change (`obj`'s, or `using`; the control
    plane otherwise), so that the two commit or roll back together."""
    if tenant is None and obj is not None:
        tenant = getattr(obj, "tenant", None)
    if using is None:
        using = obj._state.db if obj is not None and obj._state.db else "default"
    return AuditEvent.objects.using(using).create(
        actor=by.user,
        actor_name=by.name,
        acting_as=by.acting_as,
        action=action,
        tenant=tenant,
        tenant_name=str(tenant) if tenant is not None else "",
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes or {},
        ip_address=by.ip_address,
    )
