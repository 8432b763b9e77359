"""What the sync copies, declared once per entity type, in dependency order.

Each type reads its rows on either tenant as plain tuples ("values") and writes them in bulk. A row's
values hold its links as ids; `links` names the fields that point at another synced type, so that the
engine can express them in primary ids (for hashing and comparing) or BCP ids (for writing). Child
rows (opening days, skill assignments ...) have no correlation of their own: they travel with their
parent, inside its hash, and are rewritten with it.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User, username_key
from accounts.services import role_group_name
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

CHUNK = 2000
_PREPARE = (datetime, date, time, uuid.UUID)


def insert_rows(model: type[Model], rows: list[dict], *, returning: bool = True) -> list[int]:
    """One multi-row INSERT … RETURNING id, without building model instances: the sync writes tens of
    thousands of plain rows, and Django's per-object work would cost more than the database's. Fields a
    row does not name get their model default (now() for auto_now fields), as a save would give them."""
    if not rows:
        return []
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = set(rows[0])
    defaults = {}
    for f in fields:
        if f.attname not in given:
            defaults[f.attname] = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) \
                else f.get_default()
    columns = [f.attname for f in fields]
    if connection.vendor == "postgresql":
        return _copy_rows(model, rows, columns, defaults, returning=returning)
    by_name = {f.attname: f for f in fields}
    quote = connection.ops.quote_name
    ids: list[int] = []
    per_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for chunk in _chunks(rows, max(1, min(CHUNK, 30000 // len(columns)))):
        params = []
        for row in chunk:
            for name in columns:
                value = row[name] if name in row else defaults[name]
                if isinstance(value, _PREPARE):
                    value = by_name[name].get_db_prep_save(value, connection)
                params.append(value)
        # Only quoted names from the model's own metadata go into the text; every value is a parameter.
        returning_sql = f" RETURNING {quote(model._meta.pk.column)}" if returning else ""
        sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
               f"VALUES {', '.join([per_row] * len(chunk))}{returning_sql}")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if returning:
                ids.extend(row[0] for row in cursor.fetchall())
    return ids


def _copy_rows(model, rows: list[dict], columns: list[str], defaults: dict, *, returning: bool) -> list[int]:
    """PostgreSQL: COPY, the bulk path the database is built for, with ids taken from the table's sequence
    first (COPY returns nothing), so that the correlations can be written in the same transaction."""
    quote = connection.ops.quote_name
    table, pk = model._meta.db_table, model._meta.pk.column
    ids: list[int] = []
    with connection.cursor() as cursor:
        if returning:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [quote(table), pk, len(rows)])
            ids = [row[0] for row in cursor.fetchall()]
        names = ([pk] if returning else []) + columns
        statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in names)}) FROM STDIN"
        with cursor.cursor.copy(statement) as copy:
            for index, row in enumerate(rows):
                values = [row[name] if name in row else defaults[name] for name in columns]
                copy.write_row([ids[index], *values] if returning else values)
    return ids


def update_rows(model: type[Model], rows: dict[int, dict]) -> None:
    """Sets each row's values by primary key. PostgreSQL: COPY into a temporary table of the same column types,
    then one UPDATE … FROM it; elsewhere Django's bulk_update. An `updated_at` column gets now()."""
    if not rows:
        return
    columns = list(next(iter(rows.values())))
    if any(f.attname == "updated_at" for f in model._meta.concrete_fields):
        now = timezone.now()
        rows = {pk: {**values, "updated_at": now} for pk, values in rows.items()}
        columns.append("updated_at")
    if connection.vendor != "postgresql":
        objects = [model(pk=pk, **values) for pk, values in rows.items()]
        model.objects.bulk_update(objects, columns, batch_size=500)
        return
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        # Names come quoted from the model's metadata; the values travel through COPY.
        cursor.execute(f"CREATE TEMPORARY TABLE sync_staging AS SELECT {pk}, {names} FROM {table} WITH NO DATA")  # noqa: S608
        with cursor.cursor.copy(f"COPY sync_staging ({pk}, {names}) FROM STDIN") as copy:
            for key, values in rows.items():
                copy.write_row([key, *(values[c] for c in columns)])
        assignments = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in columns)
        cursor.execute(f"UPDATE {table} SET {assignments} FROM sync_staging s WHERE {table}.{pk} = s.{pk}")  # noqa: S608
        cursor.execute("DROP TABLE sync_staging")


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass(frozen=True)
class Child:
    """Rows that belong to one parent record. `parent` is the lookup from the child to its parent's id."""

    key: str
    model: type[Model]
    parent: str
    fields: tuple[str, ...]
    links: dict[str, str] = field(default_factory=dict)  # field -> entity type it points at
    has_tenant: bool = True
    # Deleting these rows deletes the children after them too (the agent profile takes its assignments).
    cascades: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return self.fields + tuple(self.links)

    def rows(self, tenant_id, parent_ids=None):
        """(parent id, *columns) of this child's rows on a tenant, as a queryset: read() runs it, and the engine
        compares both tenants' inside PostgreSQL through its SQL."""
        rows = self.model.objects.filter(**{self._tenant_lookup(): tenant_id})
        if parent_ids is not None:
            rows = rows.filter(**{f"{self.parent}__in": parent_ids})
        return rows.values_list(self.parent, *self.columns).order_by()

    def read(self, tenant_id, parent_ids=None) -> dict[int, list[tuple]]:
        result: dict[int, list[tuple]] = defaultdict(list)
        for parent_id, *values in self.rows(tenant_id, parent_ids):
            result[parent_id].append(tuple(values))
        return result

    def _tenant_lookup(self) -> str:
        return "tenant_id" if self.has_tenant else f"{self.parent.rsplit('_id', 1)[0]}__tenant_id"

    def delete_for(self, parent_ids: list[int]) -> None:
        for chunk in _chunks(parent_ids):
            self.model.objects.filter(**{f"{self.parent}__in": chunk}).delete()

    def write_parent(self, parent_ids: list[int]) -> dict[int, int]:
        """The value of the child's own parent column for each parent id (the same id, mostly)."""
        return {pk: pk for pk in parent_ids}

    def insert(self, tenant_id, rows: dict[int, list[tuple]]) -> None:
        owner = self.write_parent(list(rows))
        attname = self.parent
        objects = []
        for parent_id, children in rows.items():
            for values in children:
                data = dict(zip(self.columns, values, strict=True))
                data[attname] = owner[parent_id]
                if self.has_tenant:
                    data["tenant_id"] = tenant_id
                objects.append(data)
        insert_rows(self.model, objects, returning=False)


class AssignmentChild(Child):
    """Skill assignments hang off the agent profile, whose parent is the user."""

    def write_parent(self, parent_ids):
        return dict(AgentProfile.objects.filter(user_id__in=parent_ids).values_list("user_id", "id"))

    def insert(self, tenant_id, rows):
        owner = self.write_parent(list(rows))
        objects = []
        for user_id, children in rows.items():
            for values in children:
                data = dict(zip(self.columns, values, strict=True))
                objects.append({"tenant_id": tenant_id, "agent_id": owner[user_id], **data})
        insert_rows(SkillAssignment, objects, returning=False)

    def delete_for(self, parent_ids):
        for chunk in _chunks(parent_ids):
            SkillAssignment.objects.filter(agent__user_id__in=chunk).delete()


class PermissionChild(Child):
    """A role's permissions: guardian rows of its group on its own tenant, compared by codename."""

    def rows(self, tenant_id, parent_ids=None):
        rows = TenantGroupObjectPermission.objects.filter(content_object_id=tenant_id, group__role__isnull=False)
        if parent_ids is not None:
            rows = rows.filter(group__role__in=parent_ids)
        return rows.values_list("group__role__id", "permission__codename").order_by()

    def delete_for(self, parent_ids):
        for chunk in _chunks(parent_ids):
            TenantGroupObjectPermission.objects.filter(group__role__in=chunk).delete()

    def insert(self, tenant_id, rows):
        groups = dict(Role.objects.filter(pk__in=list(rows)).values_list("pk", "group_id"))
        permissions = dict(Permission.objects.filter(content_type__app_label="tenants")
                           .values_list("codename", "pk"))
        objects = [TenantGroupObjectPermission(group_id=groups[role_id], permission_id=permissions[codename],
                                               content_object_id=tenant_id)
                   for role_id, children in rows.items() for (codename,) in children if codename in permissions]
        for chunk in _chunks(objects):
            TenantGroupObjectPermission.objects.bulk_create(chunk)


@dataclass(frozen=True)
class Entity:
    """A top-level type with a correlation per record."""

    key: str
    label: object  # plural, for headings
    item: object  # singular, inside sentences
    model: type[Model]
    fields: tuple[str, ...]
    links: dict[str, str] = field(default_factory=dict)
    children: tuple[Child, ...] = ()
    # Groups of fields unique per tenant (case-insensitive for text): a rename may need a placeholder first.
    unique: tuple[tuple[str, ...], ...] = (("name",),)
    # Values every copy gets on the BCP tenant and never takes from the primary.
    fixed: dict = field(default_factory=dict)
    describe_field: str = "name"
    # A record made on the BCP tenant with the same unique values is taken over instead of refused.
    adopt_by_name: bool = False
    # Unique text fields whose constraint holds a stored key rather than lower(): {field: (key column, the function
    # that makes the key)}. Every write of the field writes the key too.
    unique_keys: dict = field(default_factory=dict)

    def fold(self, name: str, value: str) -> str:
        """A unique text value as the database's constraint compares it."""
        keyed = self.unique_keys.get(name)
        return keyed[1](value) if keyed else value.lower()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.fields + tuple(self.links)

    @property
    def depends_on(self) -> set[str]:
        keys = set(self.links.values())
        for child in self.children:
            keys |= set(child.links.values())
        return keys - {self.key}

    def queryset(self, tenant_id):
        return self.model.objects.filter(tenant_id=tenant_id)

    def rows(self, tenant_id, ids=None):
        """(id, *columns) of this type's rows on a tenant, as a queryset: read() runs it, and the engine compares
        both tenants' inside PostgreSQL through its SQL."""
        rows = self.queryset(tenant_id)
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        return rows.values_list("pk", *self.columns).order_by()

    def read(self, tenant_id, ids=None) -> dict[int, tuple]:
        return {pk: tuple(values) for pk, *values in self.rows(tenant_id, ids)}

    @property
    def compares_in_sql(self) -> bool:
        """The engine may compare this type inside the database: its rows and its children's come from rows()
        (a subclass that overrides read() alone is compared in Python), and no column is JSON, which has no
        equality in PostgreSQL."""
        parts = [(self, Entity), *((child, Child) for child in self.children)]
        if any(type(part).read is not base.read and type(part).rows is base.rows for part, base in parts):
            return False
        for part, _base in parts:
            for name in part.columns:
                try:
                    model_field = part.model._meta.get_field(name)
                except FieldDoesNotExist:  # a lookup across a relation (permission__codename)
                    continue
                if model_field.get_internal_type() == "JSONField":
                    return False
        return True

    def read_children(self, tenant_id, ids=None) -> dict[str, dict[int, list[tuple]]]:
        return {child.key: child.read(tenant_id, ids) for child in self.children}

    def create(self, tenant_id, rows: list[tuple]) -> list[int]:
        return insert_rows(self.model, [{"tenant_id": tenant_id, **self.fixed,
                                         **dict(zip(self.columns, values, strict=True))} for values in rows])

    def update(self, tenant_id, rows: dict[int, tuple]) -> None:
        update_rows(self.model, {pk: dict(zip(self.columns, values, strict=True)) for pk, values in rows.items()})

    def set_placeholders(self, tenant_id, ids: list[int]) -> None:
        """Moves the unique values of these records out of the way, so that renames can swap names."""
        targets = {group[-1] for group in self.unique}
        objects = [self.model(pk=pk, **{name: f"~sync~{pk}~" for name in targets}) for pk in ids]
        if objects:
            self.model.objects.bulk_update(objects, list(targets), batch_size=500)

    def delete(self, tenant_id, ids: list[int]) -> None:
        self.model.objects.filter(tenant_id=tenant_id, pk__in=ids).delete()

    def describe(self, values: tuple) -> str:
        return str(values[self.columns.index(self.describe_field)])


class RoleEntity(Entity):
    """Roles own a Django group; the group's name follows the role's name."""

    def create(self, tenant_id, rows):
        tenant = Tenant(pk=tenant_id)
        names = [dict(zip(self.columns, values, strict=True))["name"] for values in rows]
        groups = Group.objects.bulk_create([Group(name=role_group_name(tenant, name)) for name in names])
        objects = [Role(tenant_id=tenant_id, group_id=group.pk, **dict(zip(self.columns, values, strict=True)))
                   for group, values in zip(groups, rows, strict=True)]
        return [role.pk for role in Role.objects.bulk_create(objects)]

    def update(self, tenant_id, rows):
        super().update(tenant_id, rows)
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

    def delete(self, tenant_id, ids):
        group_ids = list(Role.objects.filter(tenant_id=tenant_id, pk__in=ids).values_list("group_id", flat=True))
        Role.objects.filter(tenant_id=tenant_id, pk__in=ids).delete()
        Group.objects.filter(pk__in=group_ids).delete()


class UserEntity(Entity):
    """The sign-in of a person, as a copy: same username and password hash, never staff or superuser."""

    def queryset(self, tenant_id):
        # Platform staff have no tenant; on the BCP tenant only copies are ever compared or written.
        return User.objects.filter(tenant_id=tenant_id)

    def _with_key(self, values: tuple) -> dict:
        row = dict(zip(self.columns, values, strict=True))
        return {**row, "username_key": username_key(row["username"])}  # the raw writes skip the model's save

    def create(self, tenant_id, rows):
        return insert_rows(User, [{"tenant_id": tenant_id, **self.fixed, **self._with_key(values)} for values in rows])

    def update(self, tenant_id, rows):
        update_rows(User, {pk: self._with_key(values) for pk, values in rows.items()})

    def set_placeholders(self, tenant_id, ids):
        objects = [User(pk=pk, username=f"~sync~{pk}~", username_key=f"~sync~{pk}~") for pk in ids]
        User.objects.bulk_update(objects, ["username", "username_key"], batch_size=500)

    def delete(self, tenant_id, ids):
        User.objects.filter(tenant_id=tenant_id, is_bcp_copy=True, pk__in=ids).delete()


_HOURS_FIELDS = ("closed", "opens_at", "closes_at")

ENTITIES: list[Entity] = [
    RoleEntity(key="role", label=_("Roles"), item=_("role"), model=Role, fields=("name", "description"),
               children=(PermissionChild(key="permissions", model=TenantGroupObjectPermission, parent="group__role",
                                         fields=("codename",), has_tenant=False),),
               adopt_by_name=True),
    Entity(key="team", label=_("Teams"), item=_("team"), model=Team, fields=("name", "description")),
    Entity(key="skill", label=_("Skills"), item=_("skill"), model=Skill,
           fields=("name", "channel", "direction", "description")),
    Entity(key="hours", label=_("Hours of Operation"), item=_("hours of operation"), model=HoursOfOperation,
           fields=("name", "timezone", "description"),
           children=(Child(key="days", model=HoursDay, parent="hours_id", fields=("day", *_HOURS_FIELDS)),
                     Child(key="exceptions", model=HoursException, parent="hours_id",
                           fields=("date", "name", *_HOURS_FIELDS)))),
    UserEntity(key="user", label=_("Users"), item=_("user"), model=User,
               fields=("username", "password", "first_name", "last_name", "email", "is_active", "language"),
               links={"role_id": "role"}, unique=(("username",),), describe_field="username",
               unique_keys={"username": ("username_key", username_key)},
               fixed={"is_bcp_copy": True, "is_staff": False, "is_superuser": False},
               children=(Child(key="profile", model=AgentProfile, parent="user_id", fields=("active",),
                               links={"team_id": "team"}, cascades=True),
                         AssignmentChild(key="assignments", model=SkillAssignment, parent="agent__user_id",
                                         fields=("proficiency",), links={"skill_id": "skill"}))),
    Entity(key="point_of_contact", label=_("Points of Contact"), item=_("point of contact"), model=PointOfContact,
           fields=("name", "channel", "address"), links={"skill_id": "skill", "hours_id": "hours"},
           unique=(("name",), ("channel", "address"))),
    Entity(key="disposition", label=_("Dispositions"), item=_("disposition"), model=Disposition,
           fields=("name", "classification"),
           children=(Child(key="skills", model=Disposition.skills.through, parent="disposition_id", fields=(),
                           links={"skill_id": "skill"}, has_tenant=False),)),
    Entity(key="unavailable_code", label=_("Unavailable Codes"), item=_("unavailable code"), model=UnavailableCode,
           fields=("name", "after_contact_work")),
    Entity(key="tag", label=_("Tags"), item=_("tag"), model=Tag, fields=("name", "description")),
]

BY_KEY: dict[str, Entity] = {entity.key: entity for entity in ENTITIES}
ALL_KEYS: list[str] = [entity.key for entity in ENTITIES]


def register(entity: Entity) -> None:
    """Adds a type declared by an app above the sync (the continuity plan), after the types it links to.
    ENTITIES, BY_KEY and ALL_KEYS are changed in place: every module that imported them sees the new type.
    Called from that app's AppConfig.ready(); registering the same key twice changes nothing."""
    if entity.key in BY_KEY:
        return
    unknown = entity.depends_on - set(BY_KEY)
    if unknown:
        raise ValueError(f"sync type {entity.key!r} links to types not registered before it: {sorted(unknown)}")
    ENTITIES.append(entity)
    BY_KEY[entity.key] = entity
    ALL_KEYS.append(entity.key)
    from . import signals  # the continuous mode listens to saves of the new type too

    signals.connect_model(entity.model)
    for child in entity.children:
        signals.connect_model(child.model)


def entity_choices() -> list[tuple[str, object]]:
    return [(entity.key, entity.label) for entity in ENTITIES]


def missing_dependencies(keys: Iterable[str]) -> dict[str, set[str]]:
    """For a custom selection: {chosen type: the types it needs that are not chosen}."""
    chosen = set(keys)
    return {key: BY_KEY[key].depends_on - chosen for key in ALL_KEYS
            if key in chosen and BY_KEY[key].depends_on - chosen}
