"""Impersonate & Support: an account representative works in a tenant's Admin application for a while.

The session remembers which tenant and since when; `ImpersonationMiddleware` turns that into
`request.impersonation` on every request and drops it once `settings.IMPERSONATION_MAX_AGE` has passed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.permissions import is_account_representative

from .models import Tenant

SESSION_KEY = "impersonation"


class ImpersonationError(ApplicationError):
    pass


class EndReason:
    MANUAL = "manual"
    EXPIRED = "expired"
    TENANT_UNAVAILABLE = "tenant_unavailable"
    REPLACED = "replaced"
    SIGNED_OUT = "signed_out"
    SWITCHED = "switched"  # its BCP pair switched, and this tenant is no longer the active one


@dataclass(frozen=True)
class Impersonation:
    representative: object  # the signed-in account representative (accounts.User)
    tenant: Tenant
    started_at: datetime

    @property
    def expires_at(self) -> datetime:
        return self.started_at + settings.IMPERSONATION_MAX_AGE

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.expires_at

    @property
    def remaining(self) -> timedelta:
        return max(self.expires_at - timezone.now(), timedelta(0))

    def describe(self) -> str:
        return _("%(representative)s acting in tenant %(tenant)s") % {
            "representative": self.representative.get_username(),
            "tenant": self.tenant.name,
        }


def impersonation_from_session(*, request) -> tuple[Impersonation | None, str | None]:
    """Reads the session: (the running impersonation, None), or (what has just stopped, why), or (None, None).

    Nothing is written here; the middleware ends a stopped impersonation through `impersonation_end`.
    """
    data = request.session.get(SESSION_KEY)
    if not data:
        return None, None
    user = request.user
    started_at = parse_datetime(str(data.get("started_at", "")))
    tenant = None
    if is_account_representative(user) and started_at is not None:
        tenant = Tenant.objects.select_related("region").filter(pk=data.get("tenant_id")).first()
    if tenant is None:
        # Not a representative any more, or the tenant is gone: forget it without ceremony.
        request.session.pop(SESSION_KEY, None)
        return None, None
    impersonation = Impersonation(representative=user, tenant=tenant, started_at=started_at)
    if impersonation.is_expired():
        return impersonation, EndReason.EXPIRED
    if not tenant.is_active:
        return impersonation, EndReason.TENANT_UNAVAILABLE
    return impersonation, None


@transaction.atomic
def impersonation_start(*, request, tenant: Tenant) -> Impersonation:
    """Starts supporting `tenant` as the signed-in representative; a running impersonation ends first."""
    user = request.user
    if not is_account_representative(user):
        raise ImpersonationError(_("Only account representatives can impersonate a tenant."))
    tenant = Tenant.objects.select_related("region").get(pk=tenant.pk)
    if not tenant.is_active:
        raise ImpersonationError(
            _("“%(tenant)s” is inactive, so it cannot be impersonated. Set it to active first.")
            % {"tenant": tenant.name}
        )
    current = getattr(request, "impersonation", None)
    if current is not None:
        impersonation_end(request=request, reason=EndReason.REPLACED)
    impersonation = Impersonation(representative=user, tenant=tenant, started_at=timezone.now())
    request.session[SESSION_KEY] = {"tenant_id": str(tenant.pk), "started_at": impersonation.started_at.isoformat()}
    # Set before auditing, so that the start itself is recorded as acting in the tenant.
    request.impersonation = impersonation
    audit_record(action="impersonation.start", by=Actor.from_request(request), tenant=tenant, obj=tenant,
                 changes={"expires_at": impersonation.expires_at.isoformat()})
    return impersonation


@transaction.atomic
def impersonation_end(*, request, reason: str = EndReason.MANUAL) -> Impersonation | None:
    """Ends the running impersonation (if any) and records why. Returns what was ended."""
    impersonation = getattr(request, "impersonation", None)
    request.session.pop(SESSION_KEY, None)
    if impersonation is None:
        return None
    request.impersonation = impersonation  # Actor.from_request reads "acting as" from here
    audit_record(action="impersonation.end", by=Actor.from_request(request), tenant=impersonation.tenant,
                 obj=impersonation.tenant,
                 changes={"reason": reason, "started_at": impersonation.started_at.isoformat()})
    request.impersonation = None
    return impersonation


@receiver(user_logged_out, dispatch_uid="tenants.support.end_on_sign_out")
def _end_on_sign_out(sender, request, user, **kwargs):
    # Signing out throws the session away; record that the support session ended with it.
    if request is not None and getattr(request, "impersonation", None) is not None:
        impersonation_end(request=request, reason=EndReason.SIGNED_OUT)
