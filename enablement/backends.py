from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .routing import sign_in_route


class ActiveTenantBackend(ModelBackend):
    """One login URL: the username names a person, the person's pair decides which tenant is active (routing.py),
    and the password is checked once, against the account there. No password is tried on several accounts."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        route = sign_in_route(username)
        person, account = route.person, route.account
        if account is None and person is not None:
            # Their pair is on the BCP tenant, which has no copy of them yet (made after the last sync). The one
            # password checked is their own; if it is right, the sign-in page says why they cannot get in.
            if person.check_password(password) and self.user_can_authenticate(person) and request is not None:
                request.sign_in_problem = {"code": "no_account_on_active_tenant",
                                           "tenant": route.active_tenant_name}
            return None
        if account is None:
            # Spend the same time as a real check so that timing does not reveal usernames.
            get_user_model()().set_password(password)
            return None
        if not account.check_password(password) or not self.user_can_authenticate(account):
            return None
        if account.tenant_id is not None and not account.tenant.is_active:
            return None
        return account
