"""The types the sync declares itself, in dependency order: roles with their permissions, users with their agent
settings, and the contact-center configuration. Other apps above the sync add theirs through the registry."""

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User, username_key
from accounts.services import role_group_name
from bcp_project.permissions import TENANT_PERMISSIONS
from contactcenter.models import (
    AgentProfile,
    Disposition,
    HoursDay,
    HoursException,
    HoursOfOperation,
    PointOfContact,
    Skill,
    SkillAssignment,
    Tag,
    Team,
    UnavailableCode,
)
from tenants.models import Tenant, TenantGroupObjectPermission

from .bulk import chunks, insert_rows, update_rows
from .types import Child, Entity, db_for, ids_of


class AssignmentChild(Child):
    """Skill assignments hang off the agent profile, whose parent is the user."""

    def write_parent(self, tenant_id, parent_ids):
        return dict(AgentProfile.objects.filter(tenant_id=tenant_id, user_id__sync_in=ids_of(parent_ids))
                    .values_list("user_id", "id"))

    def insert(self, tenant_id, rows):
        owner = self.write_parent(tenant_id, list(rows))
        objects = []
        for user_id, children in rows.items():
            for values in children:
                data = dict(zip(self.columns, values, strict=True))
                objects.append({"tenant_id": tenant_id, "agent_id": owner[user_id], **data})
        insert_rows(SkillAssignment, objects, returning=False, using=db_for(SkillAssignment, tenant_id))

    def delete_for(self, tenant_id, parent_ids):
        for chunk in chunks(parent_ids):
            SkillAssignment.objects.filter(tenant_id=tenant_id, agent__user_id__sync_in=ids_of(chunk)).delete()


class PermissionChild(Child):
    """A role's permissions: guardian rows of its group on its own tenant, compared by codename."""

    def value_label(self, column, value):
        return str(dict(TENANT_PERMISSIONS).get(value, value))

    def rows(self, tenant_id, parent_ids=None, using=None):
        rows = TenantGroupObjectPermission.objects.filter(content_object_id=tenant_id, group__role__isnull=False)
        if parent_ids is not None:
            rows = rows.filter(group__role__in=parent_ids)
        return rows.values_list("group__role__id", "permission__codename").order_by()

    def delete_for(self, tenant_id, parent_ids):
        for chunk in chunks(parent_ids):
            TenantGroupObjectPermission.objects.filter(group__role__in=chunk).delete()

    def insert(self, tenant_id, rows):
        groups = dict(Role.objects.filter(pk__in=list(rows)).values_list("pk", "group_id"))
        permissions = dict(Permission.objects.filter(content_type__app_label="tenants")
                           .values_list("codename", "pk"))
        objects = [TenantGroupObjectPermission(group_id=groups[role_id], permission_id=permissions[codename],
                                               content_object_id=tenant_id)
                   for role_id, children in rows.items() for (codename,) in children if codename in permissions]
        for chunk in chunks(objects):
            TenantGroupObjectPermission.objects.bulk_create(chunk)


class RoleEntity(Entity):
    """Roles own a Django group; the group's name follows the role's name."""

    def create(self, tenant_id, rows, *, own=False):
        tenant = Tenant(pk=tenant_id)
        names = [dict(zip(self.columns, values, strict=True))["name"] for values in rows]
        groups = Group.objects.bulk_create([Group(name=role_group_name(tenant, name)) for name in names])
        objects = [Role(tenant_id=tenant_id, group_id=group.pk, **dict(zip(self.columns, values, strict=True)))
                   for group, values in zip(groups, rows, strict=True)]
        return [role.pk for role in Role.objects.bulk_create(objects)]

    def update(self, tenant_id, rows, columns=None):
        super().update(tenant_id, rows, columns)
        if columns is not None and "name" not in columns:
            return
        tenant = Tenant(pk=tenant_id)
        groups = dict(Role.objects.filter(pk__in=list(rows)).values_list("pk", "group_id"))
        name_at = self.columns.index("name")
        objects = [Group(pk=groups[pk], name=role_group_name(tenant, values[name_at])) for pk, values in rows.items()]
        Group.objects.bulk_update(objects, ["name"], batch_size=500)

    def set_placeholders(self, tenant_id, ids):
        super().set_placeholders(tenant_id, ids)
        groups = dict(Role.objects.filter(pk__in=ids).values_list("pk", "group_id"))
        Group.objects.bulk_update([Group(pk=groups[pk], name=f"tenant:{tenant_id}:~sync~{pk}~") for pk in ids],
                                  ["name"], batch_size=500)

    def delete(self, tenant_id, ids, *, own=False):
        group_ids = list(Role.objects.filter(tenant_id=tenant_id, pk__in=ids).values_list("group_id", flat=True))
        Role.objects.filter(tenant_id=tenant_id, pk__in=ids).delete()
        Group.objects.filter(pk__in=group_ids).delete()


class UserEntity(Entity):
    """The sign-in of a person, as a copy: same username and password hash, never staff or superuser."""

    def queryset(self, tenant_id, using=None):
        # Platform staff have no tenant; on the BCP tenant only copies are ever compared or written.
        return User.objects.using(using or self.db(tenant_id)).filter(tenant_id=tenant_id)

    def _with_key(self, values: tuple, columns=None) -> dict:
        row = self.chosen(values, columns)
        if "username" in row:  # the raw writes skip the model's save
            row["username_key"] = username_key(row["username"])
        return row

    def create(self, tenant_id, rows, *, own=False):
        fixed = self.own if own else self.fixed
        return insert_rows(User, [{"tenant_id": tenant_id, **fixed, **self._with_key(values)} for values in rows],
                           using=self.db(tenant_id))

    def update(self, tenant_id, rows, columns=None):
        update_rows(User, {pk: self._with_key(values, columns) for pk, values in rows.items()},
                    using=self.db(tenant_id))

    def set_placeholders(self, tenant_id, ids):
        objects = [User(pk=pk, username=f"~sync~{pk}~", username_key=f"~sync~{pk}~") for pk in ids]
        User.objects.bulk_update(objects, ["username", "username_key"], batch_size=500)

    def delete(self, tenant_id, ids, *, own=False):
        # Copies only, or with `own` (a carry-back deleting people on the primary) only the tenant's own people.
        found = list(User.objects.filter(tenant_id=tenant_id, is_bcp_copy=not own, pk__in=ids)
                     .values_list("pk", flat=True))
        # The agent settings live in the tenant's region: no cascade reaches them from the control plane.
        AgentProfile.objects.filter(tenant_id=tenant_id, user_id__in=found).delete()
        User.objects.filter(pk__in=found).delete()

    def mark_copies(self, tenant_id, ids):
        # A person made on the BCP tenant and carried back is the primary's person from now on, and this account
        # its copy: a username names one person (user_username_unique_person counts no copies).
        User.objects.filter(tenant_id=tenant_id, pk__in=ids).update(is_bcp_copy=True, is_staff=False,
                                                                    is_superuser=False)

    def taken_elsewhere(self, wanted):
        # A username names one person on the whole platform: whoever else holds it, on any tenant, but the records
        # the item is (the account on the BCP tenant, the person on the primary) and copies.
        by_name: dict[str, list[tuple[str, set[int]]]] = {}
        for key, (values, mine) in wanted.items():
            name = values[self.columns.index("username")]
            by_name.setdefault(username_key(name), []).append((key, mine))
        if not by_name:
            return set()
        holders = User.objects.filter(is_bcp_copy=False, username_key__in=list(by_name)).values_list(
            "username_key", "pk")
        taken = set()
        for name, pk in holders:
            taken |= {key for key, mine in by_name[name] if pk not in mine}
        return taken


_HOURS_FIELDS = ("closed", "opens_at", "closes_at")

CONTACT_CENTER: list[Entity] = [
    RoleEntity(label=_("Roles"), item=_("role"), model=Role, fields=("name", "description"),
               children=(PermissionChild(key="permissions", model=TenantGroupObjectPermission, parent="group__role",
                                         fields=("codename",), has_tenant=False, deleted_alone=True,
                                         label=_("Permissions")),),
               adopt_by_name=True),
    Entity(label=_("Teams"), item=_("team"), model=Team, fields=("name", "description")),
    Entity(label=_("Skills"), item=_("skill"), model=Skill,
           fields=("name", "channel", "direction", "description")),
    Entity(label=_("Hours of Operation"), item=_("hours of operation"), model=HoursOfOperation,
           fields=("name", "timezone", "description"),
           children=(Child(key="days", model=HoursDay, parent="hours_id", fields=("day", *_HOURS_FIELDS)),
                     Child(key="exceptions", model=HoursException, parent="hours_id",
                           fields=("date", "name", *_HOURS_FIELDS)))),
    UserEntity(label=_("Users"), item=_("user"), model=User,
               fields=("username", "password", "first_name", "last_name", "email", "is_active", "language"),
               links={"role_id": "role"}, unique=(("username",),), describe_field="username",
               unique_keys={"username": ("username_key", username_key)},
               fixed={"is_bcp_copy": True, "is_staff": False, "is_superuser": False},
               own={"is_bcp_copy": False, "is_staff": False, "is_superuser": False},
               created_field="date_joined", hidden=frozenset({"password"}),
               # An uncorrelated account with the person's username on the BCP tenant can only be a copy of that
               # person (a username names one person: the constraint user_username_unique_person): one given
               # there during an emergency whose correlation was lost in a crash. The run takes it over.
               adopt_by_name=True,
               children=(Child(key="profile", model=AgentProfile, parent="user_id", fields=("active",),
                               links={"team_id": "team"}, cascades=True, label=_("Agent settings")),
                         AssignmentChild(key="assignments", model=SkillAssignment, parent="agent__user_id",
                                         fields=("proficiency",), links={"skill_id": "skill"}))),
    Entity(label=_("Points of Contact"), item=_("point of contact"), model=PointOfContact,
           fields=("name", "channel", "address"), links={"skill_id": "skill", "hours_id": "hours"},
           unique=(("name",), ("channel", "address"))),
    Entity(label=_("Dispositions"), item=_("disposition"), model=Disposition,
           fields=("name", "classification"),
           children=(Child(key="skills", model=Disposition.skills.through, parent="disposition_id", fields=(),
                           links={"skill_id": "skill"}, has_tenant=False, label=_("Skills")),)),
    Entity(label=_("Unavailable Codes"), item=_("unavailable code"), model=UnavailableCode,
           fields=("name", "after_contact_work")),
    Entity(label=_("Tags"), item=_("tag"), model=Tag, fields=("name", "description")),
]
