"""Impersonate & Support: starting and ending it, each recorded in the audit log. selectors.py reads what the
session remembers."""

from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.permissions import is_account_representative
from bcp_project.regions import CONTROL

from ..models import Tenant
from .selectors import SESSION_KEY, EndReason, Impersonation


class ImpersonationError(ApplicationError):
    pass


@transaction.atomic(using=CONTROL)
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


@transaction.atomic(using=CONTROL)
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
