"""Demo people: an account representative, and the staff of Classics Inc."""

from .models import Role, User
from .roles import ADMINISTRATOR, AGENT, SUPERVISOR
from .services import tenant_roles_create_defaults, user_create

# (username, first, last, role); the tenant is Classics Inc.
CLASSICS_PEOPLE = [
    ("admin", "Alice", "Admin", ADMINISTRATOR),
    ("supervisor", "Sam", "Supervisor", SUPERVISOR),
    ("agent", "Andy", "Agent", AGENT),
    ("agent2", "Bea", "Agent", AGENT),
]
OTHER_ADMIN = ("northwind.admin", "Nora", "West", ADMINISTRATOR)


def _ensure(username, tenant, password, **fields):
    existing = User.objects.filter(username__iexact=username, tenant=tenant).first()
    return existing or user_create(username=username, password=password, tenant=tenant, **fields)


def seed(*, tenants, password: str) -> dict[str, User]:
    people = {"rep": _ensure("rep", None, password, first_name="Riley", last_name="Rep", is_staff_rep=True,
                             email="riley.rep@example.com")}
    classics = tenants["Classics Inc."]
    roles = tenant_roles_create_defaults(tenant=classics)
    for username, first, last, role_name in CLASSICS_PEOPLE:
        people[username] = _ensure(username, classics, password, first_name=first, last_name=last,
                                   role=roles[role_name], email=f"{username}@classics.example.com")
    northwind = tenants["Northwind Support"]
    username, first, last, role_name = OTHER_ADMIN
    role = Role.objects.get(tenant=northwind, name=role_name)
    people[username] = _ensure(username, northwind, password, first_name=first, last_name=last, role=role)
    return people
