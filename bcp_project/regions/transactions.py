"""One transaction for a service that changes a tenant's data: in the tenant's region database, with the control
plane's inside it (some services also write users or roles there). The control plane commits first: a crash
between the two commits leaves control-plane rows without their region side (a user without agent settings,
which the next change repairs), never region rows that point at nothing."""

from contextlib import ExitStack
from functools import wraps

from django.db import models, transaction

from . import CONTROL, RegionUnknown, alias_for_tenant, current, in_region, model_placement


def alias_for_arguments(kwargs: dict) -> str:
    """The region a service works in: its `region` (an alias), else its `tenant`, else the first model object it
    is given that lives in a region or belongs to a tenant, else the region the caller is in."""
    region = kwargs.get("region")
    if isinstance(region, str):
        return region
    tenant = kwargs.get("tenant")
    if tenant is not None:
        return alias_for_tenant(tenant)
    for value in kwargs.values():
        if isinstance(value, models.Model):
            if value._state.db and model_placement(value.__class__) != "control":
                return value._state.db
            tenant_id = getattr(value, "tenant_id", None)
            if tenant_id is not None:
                return alias_for_tenant(tenant_id)
    alias = current()
    if alias is None:
        raise RegionUnknown("a tenant service was called without a tenant, a tenant's object or a region")
    return alias


def tenant_atomic(func):
    @wraps(func)
    def wrapper(*args, **kwargs):
        alias = alias_for_arguments(kwargs)
        with ExitStack() as stack:
            stack.enter_context(in_region(alias))
            stack.enter_context(transaction.atomic(using=alias))
            stack.enter_context(transaction.atomic(using=CONTROL))
            return func(*args, **kwargs)

    return wrapper


def tenant_transaction(tenant) -> ExitStack:
    """The same transaction as `tenant_atomic`, as a `with` block for a tenant (or a region alias)."""
    alias = tenant if isinstance(tenant, str) else alias_for_tenant(tenant)
    stack = ExitStack()
    stack.enter_context(in_region(alias))
    stack.enter_context(transaction.atomic(using=alias))
    stack.enter_context(transaction.atomic(using=CONTROL))
    return stack


def everywhere_atomic() -> ExitStack:
    """One transaction in every database (the demo's seed): the regions commit first, then the control plane."""
    from django.conf import settings

    stack = ExitStack()
    for alias in [CONTROL, *settings.REGION_DATABASES]:
        stack.enter_context(transaction.atomic(using=alias))
    return stack
