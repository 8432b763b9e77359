"""`make bench` section: the Admin Users list with 10,000 users in one tenant.

Runs inside the bench's throw-away database (see bcp_project/bench.py). The tenant is made by the
scale generator (bulk writes, one password hash), then its administrator asks for the list.
"""

from django.test import Client
from django.urls import reverse

USERS = 10_000


def users_list(out) -> None:
    """First page, a search, a page in the middle, and a role filter as the page's htmx paginator asks."""
    from accounts.models import Role, User
    from accounts.roles import ADMINISTRATOR, AGENT

    from .scale import Plan, generate, scale_tenant_create

    users = out.options.get("users", USERS)
    tenant = scale_tenant_create(name="Bench users list")
    generate(tenant=tenant, plan=Plan.for_users(users - 1), password=None, username_prefix="agent")
    admin = User.objects.create(username="bench.admin", tenant=tenant,
                                role=Role.objects.get(tenant=tenant, name=ADMINISTRATOR))
    total = User.objects.filter(tenant=tenant).count()
    out.title = f"Admin users list, {total:,} users in the tenant"

    client = Client()
    client.force_login(admin)
    url = reverse("contactcenter:user_list")
    agent_role = Role.objects.get(tenant=tenant, name=AGENT)
    out.measure(client, "first page", url)
    out.measure(client, "search by username", f"{url}?q=agent00421")
    out.measure(client, "page in the middle", f"{url}?page={max(1, total // 25 // 2)}")
    out.measure(client, "role filter, page 3 (htmx)", f"{url}?role={agent_role.pk}&page=3", htmx=True)
