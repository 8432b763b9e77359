"""Demo people: an account representative, and the staff of Classics Inc."""

from audit.services import Actor

from .models import Role, User
from .roles import ADMINISTRATOR, AGENT, SUPERVISOR
from .services import tenant_roles_create_defaults, user_create, user_set_password

# (username, first, last, role); the tenant is Classics Inc.
CLASSICS_PEOPLE = [
    ("admin", "Alice", "Admin", ADMINISTRATOR),
    ("supervisor", "Sam", "Supervisor", SUPERVISOR),
    ("agent", "Andy", "Agent", AGENT),
    ("agent2", "Bea", "Agent", AGENT),
]
OTHER_ADMIN = ("northwind.admin", "Nora", "West", ADMINISTRATOR)
USERNAMES = ["rep", *(person[0] for person in CLASSICS_PEOPLE), OTHER_ADMIN[0]]


def existing_usernames() -> list[str]:
    """The demo sign-ins the database already has: a new seed gives them its password."""
    return sorted(User.objects.filter(is_bcp_copy=False, username__in=USERNAMES).values_list("username", flat=True))


def _ensure(username, tenant, password, **fields):
    existing = User.objects.filter(username__iexact=username, tenant=tenant).first()
    if existing is None:
        return user_create(username=username, password=password, tenant=tenant, actor=Actor.system(), **fields)
    # The command prints the password it was given: an account that was already there must have it too.
    user_set_password(user=existing, password=password, actor=Actor.system())
    return existing


def seed(*, tenants, password: str) -> dict[str, User]:
    people = {"rep": _ensure("rep", None, password, first_name="Riley", last_name="Rep", is_staff_rep=True,
                             email="riley.rep@example.com")}
    classics = tenants["Classics Inc."]
    roles = tenant_roles_create_defaults(tenant=classics, actor=Actor.system())
    for username, first, last, role_name in CLASSICS_PEOPLE:
        people[username] = _ensure(username, classics, password, first_name=first, last_name=last,
                                   role=roles[role_name], email=f"{username}@classics.example.com")
    northwind = tenants["Northwind Support"]
    username, first, last, role_name = OTHER_ADMIN
    role = Role.objects.get(tenant=northwind, name=role_name)
    people[username] = _ensure(username, northwind, password, first_name=first, last_name=last, role=role)
    return people
