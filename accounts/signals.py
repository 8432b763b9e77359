from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.services import Actor, audit_record

from .services import tenant_roles_create_defaults


def tenant_given_default_roles(sender, tenant, actor: Actor, **kwargs):
    """tenants.signals.tenant_created: a new tenant starts with Administrator, Supervisor and Agent. Connected in
    AccountsConfig.ready(); it runs inside the tenant's creation, so a failure here undoes the tenant."""
    tenant_roles_create_defaults(tenant=tenant, actor=actor)


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    if request is not None and user.language:
        request.session["_language"] = user.language
    audit_record(action="auth.sign_in", by=Actor.from_request(request, user=user), tenant=user.tenant, obj=user)


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action="auth.sign_out", by=Actor.from_request(request, user=user), tenant=user.tenant,
                     obj=user)


@receiver(user_login_failed)
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password with asterisks; only the username is kept.
    audit_record(action="auth.sign_in_failed", by=Actor.from_anonymous_request(request),
                 changes={"username": str(credentials.get("username", ""))[:150]})
