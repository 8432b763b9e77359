"""What the signed-in person can reach: computed once per request and shared by views and templates."""

from functools import cached_property

from guardian.shortcuts import get_group_perms

from bcp_project.permissions import ACCESS_ADMIN, ROLE_PERMISSIONS, is_account_representative


class Navigation:
    def __init__(self, request):
        self.request = request
        self.user = request.user

    @cached_property
    def can_tm(self) -> bool:
        return is_account_representative(self.user)

    @cached_property
    def impersonation(self):
        return getattr(self.request, "impersonation", None)

    @cached_property
    def tenant(self):
        """The tenant whose data this person works on: their own, or the one a representative supports."""
        if self.impersonation is not None:
            return self.impersonation.tenant
        if self.user.is_authenticated:
            return self.user.tenant
        return None

    @cached_property
    def permissions(self) -> frozenset[str]:
        """Codenames of the tenant permissions held here. A representative who impersonates holds all."""
        if self.impersonation is not None:
            return frozenset(ROLE_PERMISSIONS)
        user = self.user
        if not user.is_authenticated or user.tenant is None or user.role is None or not user.tenant.is_active:
            return frozenset()
        return frozenset(get_group_perms(user.role.group, user.tenant).values_list("codename", flat=True))

    def has(self, codename: str) -> bool:
        return codename in self.permissions

    @cached_property
    def admin_tenant(self):
        """The tenant whose Admin application this person may open, or None."""
        return self.tenant if self.has(ACCESS_ADMIN) else None
