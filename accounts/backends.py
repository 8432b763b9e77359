from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class TenantUserBackend(ModelBackend):
    """Signs in by username and password when exactly one active account matches.

    A username may exist in several tenants (a BCP tenant holds copies of its primary's users);
    which of those copies a sign-in reaches is decided by the enablement app's routing backend,
    which takes this one's place in AUTHENTICATION_BACKENDS.
    """

    def candidates(self, username):
        User = get_user_model()
        return list(
            User.objects.filter(username__iexact=username, is_active=True)
            .select_related("tenant", "role")
            .order_by("pk")
        )

    def choose(self, request, matches):
        return matches[0] if len(matches) == 1 else None

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        matches = [user for user in self.candidates(username) if user.check_password(password)]
        if not matches:
            # Spend the same time as a real check so that timing does not reveal usernames.
            get_user_model()().set_password(password)
            return None
        user = self.choose(request, matches)
        if user is not None and user.tenant_id is not None and not user.tenant.is_active:
            return None
        return user
