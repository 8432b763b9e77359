"""Reads scoped to a tenant. A role of another tenant does not exist for the caller (404)."""

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404

from bcp_project.permissions import APP_LABEL, MANAGE_ROLES
from tenants.models import TenantGroupObjectPermission

from .models import Role, User


def role_list(*, tenant, search: str = "") -> QuerySet[Role]:
    qs = Role.objects.filter(tenant=tenant).annotate(user_count=Count("users")).order_by(Lower("name"), "pk")
    search = " ".join((search or "").split())
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return qs


def role_get(*, tenant, role_id) -> Role:
    try:
        return role_list(tenant=tenant).select_related("tenant", "group").get(pk=int(role_id))
    except (Role.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def switch_emails_wanted(*, user: User) -> bool:
    """Whether the person wants the email about a switch: not when any of their accounts (their own, the sync's
    copies of it, which share the username) has it turned off. A copy the sync made later starts on; this is what
    My Profile shows and what the email obeys."""
    return not User.objects.filter(username_key=user.username_key, switch_emails=False).exists()


def role_managers(*, tenant, exclude=None, limit: int = 3) -> list[User]:
    """Up to `limit` active people of the tenant whose role may manage roles: who can grant a permission. One query."""
    group_ids = TenantGroupObjectPermission.objects.filter(
        content_object=tenant, permission__codename=MANAGE_ROLES, permission__content_type__app_label=APP_LABEL
    ).values("group_id")
    qs = User.objects.filter(tenant=tenant, is_active=True, role__group_id__in=group_ids)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs.order_by(Lower("first_name"), Lower("last_name"), "username")[:limit])
