"""Impersonate & Support: an account representative works in a tenant's Admin application for a while.

The session remembers which tenant and since when; `ImpersonationMiddleware` turns that into
`request.impersonation` on every request and drops it once `settings.IMPERSONATION_MAX_AGE` has passed.
This module reads it; services.py starts and ends it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from bcp_project.permissions import is_account_representative

from ..models import Tenant

SESSION_KEY = "impersonation"


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
