from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from guardian.shortcuts import assign_perm, get_group_perms, remove_perm

from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.permissions import APP_LABEL, MANAGE_ROLES, ROLE_PERMISSIONS, TM_ADMIN, qualified
from bcp_project.regions import CONTROL
from tenants.models import Tenant, TenantGroupObjectPermission

from .models import Role, User, username_key
from .roles import DEFAULT_ROLES, with_implied
from .selectors import switch_emails_wanted


class RoleError(ApplicationError):
    pass


def role_group_name(tenant, name: str) -> str:
    return f"tenant:{tenant.pk}:{name.lower()}"


def _clean_role_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise RoleError(_("A role needs a name."), field="name")
    return name


def _name_taken_error(name: str) -> RoleError:
    return RoleError(_("This tenant already has a role named “%(name)s”. Choose another name.") % {"name": name},
                     field="name")


def _lock_tenant_roles(tenant) -> None:
    """Serialises role changes within one tenant, so two administrators cannot each remove the other's
    last way to manage roles at the same moment."""
    Tenant.objects.select_for_update().filter(pk=tenant.pk).values_list("pk", flat=True).first()


def _roles_that_manage_roles(tenant):
    group_ids = TenantGroupObjectPermission.objects.filter(
        content_object=tenant, permission__codename=MANAGE_ROLES, permission__content_type__app_label=APP_LABEL
    ).values("group_id")
    return Role.objects.filter(tenant=tenant, group_id__in=group_ids)


def _ensure_roles_stay_manageable(*, role: Role) -> None:
    """`role` is about to lose Manage roles (or be deleted). Refuse when that would leave nobody able to
    manage roles: no other role with the permission, or (when someone active could manage roles before)
    no other role with the permission that an active user holds."""
    holders = _roles_that_manage_roles(role.tenant)
    others = holders.exclude(pk=role.pk)
    if not others.exists():
        raise RoleError(_("“%(role)s” is the only role that can manage roles. Give Manage roles to another "
                          "role first, so that someone can still change roles afterwards.") % {"role": role.name})
    active_before = holders.filter(users__is_active=True).exists()
    if active_before and not others.filter(users__is_active=True).exists():
        raise RoleError(_("No active user would be left who can manage roles. Give Manage roles to a role that "
                          "an active user holds first, then change “%(role)s”.") % {"role": role.name})


@transaction.atomic(using=CONTROL)
def role_create(*, tenant, name: str, description: str = "", permissions=(), actor: Actor) -> Role:
    name = _clean_role_name(name)
    description = (description or "").strip()
    if Role.objects.filter(tenant=tenant, name__iexact=name).exists():
        raise _name_taken_error(name)
    try:
        with transaction.atomic(using=CONTROL):
            group = Group.objects.create(name=role_group_name(tenant, name))
            role = Role.objects.create(tenant=tenant, name=name, description=description, group=group)
    except IntegrityError:
        # Two administrators creating the same name at once: the constraint decides.
        raise _name_taken_error(name) from None
    for codename in sorted(with_implied(permissions)):
        assign_perm(qualified(codename), group, tenant)
    audit_record(action="role.create", by=actor, tenant=tenant, obj=role,
                 changes={"permissions": sorted(with_implied(permissions))})
    return role


@transaction.atomic(using=CONTROL)
def role_update(*, role: Role, name: str, description: str = "", actor: Actor) -> Role:
    name = _clean_role_name(name)
    description = (description or "").strip()
    if Role.objects.filter(tenant=role.tenant, name__iexact=name).exclude(pk=role.pk).exists():
        raise _name_taken_error(name)
    changes = {}
    if role.name != name:
        changes["name"] = {"from": role.name, "to": name}
    if role.description != description:
        changes["description"] = {"from": role.description, "to": description}
    if not changes:
        return role
    try:
        with transaction.atomic(using=CONTROL):
            role.name, role.description = name, description
            role.save(update_fields=["name", "description", "updated_at"])
            # The group keeps following the name, so that a new role may take the old name later.
            Group.objects.filter(pk=role.group_id).update(name=role_group_name(role.tenant, name))
    except IntegrityError:
        raise _name_taken_error(name) from None
    audit_record(action="role.update", by=actor, tenant=role.tenant, obj=role, changes=changes)
    return role


@transaction.atomic(using=CONTROL)
def role_delete(*, role: Role, actor: Actor) -> None:
    _lock_tenant_roles(role.tenant)
    users = role.users.count()
    if users:
        raise RoleError(ngettext(
            "%(count)d user has the role “%(role)s”. Give them another role first, then delete it.",
            "%(count)d users have the role “%(role)s”. Give them another role first, then delete it.",
            users,
        ) % {"count": users, "role": role.name})
    if MANAGE_ROLES in role_permissions(role=role):
        _ensure_roles_stay_manageable(role=role)
    audit_record(action="role.delete", by=actor, tenant=role.tenant, obj=role,
                 changes={"permissions": sorted(role_permissions(role=role))})
    group = role.group
    role.delete()
    group.delete()  # its object permissions go with it (foreign keys)


def role_permissions(*, role: Role) -> set[str]:
    return set(get_group_perms(role.group, role.tenant).values_list("codename", flat=True))


@transaction.atomic(using=CONTROL)
def role_set_permissions(*, role: Role, permissions, actor: Actor, scope=None) -> set[str]:
    """Gives the role exactly `permissions` (plus what they imply). With `scope`, only the codenames in
    it change (one section of the Permissions tab); the others stay as they are. Returns the result."""
    _lock_tenant_roles(role.tenant)
    current = role_permissions(role=role)
    requested = set(permissions) & set(ROLE_PERMISSIONS)
    if scope is not None:
        scope = set(scope)
        requested = (current - scope) | (requested & scope)
    wanted = with_implied(requested) & set(ROLE_PERMISSIONS)
    if MANAGE_ROLES in current and MANAGE_ROLES not in wanted:
        _ensure_roles_stay_manageable(role=role)
    for codename in sorted(wanted - current):
        assign_perm(qualified(codename), role.group, role.tenant)
    for codename in sorted(current - wanted):
        remove_perm(qualified(codename), role.group, role.tenant)
    if wanted != current:
        audit_record(action="role.permissions_change", by=actor, tenant=role.tenant, obj=role,
                     changes={"added": sorted(wanted - current), "removed": sorted(current - wanted)})
    return wanted


@transaction.atomic(using=CONTROL)
def tenant_roles_create_defaults(*, tenant, actor: Actor) -> dict[str, Role]:
    roles = {}
    for name, (description, permissions) in DEFAULT_ROLES.items():
        existing = Role.objects.filter(tenant=tenant, name__iexact=name).first()
        roles[name] = existing or role_create(
            tenant=tenant, name=name, description=str(description), permissions=permissions, actor=actor
        )
    return roles


def username_taken_error(username: str) -> ApplicationError:
    return ApplicationError(_("The username “%(username)s” is already taken. Usernames are unique across the "
                              "platform, because everyone signs in on the same page; choose another one.")
                            % {"username": username}, field="username")


def usernames_taken(usernames, *, exclude_pk=None) -> set[str]:
    """The keys (username_key: NFKC, case-folded) of the usernames among `usernames` that a person on the platform
    already has, as sign-in compares them: "ａｇｅｎｔ" is taken when "agent" is. The BCP tenant's copies do not
    count: they are the same person."""
    wanted = sorted({username_key(name) for name in usernames if name})
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):
        rows = User.objects.filter(is_bcp_copy=False, username_key__in=wanted[start:start + 500])
        if exclude_pk is not None:
            rows = rows.exclude(pk=exclude_pk)
        taken |= set(rows.values_list("username_key", flat=True))
    return taken


def username_check_free(*, username: str, user: User | None = None) -> None:
    """Raises unless `username` is free for `user` (a new person when None). An account keeping its username is
    never refused: a copy on a BCP tenant shares it with the person it copies (an administrator there may change
    the copy's password or role during an emergency)."""
    if user is not None and user.username_key and username_key(username) == user.username_key:
        return
    if usernames_taken([username], exclude_pk=user.pk if user is not None else None):
        raise username_taken_error(username)


@transaction.atomic(using=CONTROL)
def user_create(*, username: str, password: str | None, tenant=None, role: Role | None = None,
                first_name: str = "", last_name: str = "", email: str = "", actor: Actor,
                is_staff_rep: bool = False) -> User:
    if role is not None and role.tenant_id != getattr(tenant, "pk", None):
        raise ApplicationError(_("The role belongs to another tenant."), field="role")
    username_check_free(username=username)
    user = User(username=username, tenant=tenant, role=role, first_name=first_name, last_name=last_name,
                email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic(using=CONTROL):
            user.save()
    except IntegrityError:
        # Two administrators taking the same username at once: the constraint decides.
        raise username_taken_error(username) from None
    if is_staff_rep:
        user.user_permissions.add(Permission.objects.get(codename=TM_ADMIN, content_type__app_label=APP_LABEL))
    audit_record(action="user.create", by=actor, tenant=tenant, obj=user,
                 changes={"role": role.name if role else None})
    return user


@transaction.atomic(using=CONTROL)
def user_set_password(*, user: User, password: str, actor: Actor) -> bool:
    """Gives `user` this password. Returns whether it changed: the password they already have writes nothing."""
    if user.check_password(password):
        return False
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(action="user.password_set", by=actor, tenant=user.tenant, obj=user)
    return True


@transaction.atomic(using=CONTROL)
def user_set_language(*, user: User, language: str, actor: Actor) -> User:
    """The person's language, set on every account of the person (their own and the sync's copies of it share the
    username) in one UPDATE, like the switch emails: a person who chooses it after the last sync keeps it on the
    BCP tenant after a switch, while the sync is paused. Audited when any account changed."""
    if language not in dict(settings.LANGUAGES):
        raise ApplicationError(_("Choose one of the offered languages."), field="language")
    old = user.language
    changed = User.objects.filter(username_key=user.username_key).exclude(language=language).update(language=language)
    user.language = language
    if changed:
        audit_record(action="user.language_change", by=actor, tenant=user.tenant, obj=user,
                     changes={"from": old, "to": language})
    return user


@transaction.atomic(using=CONTROL)
def user_set_switch_emails(*, user: User, on: bool, actor: Actor) -> bool:
    """Whether the person is emailed when their organization switches between its primary and its BCP tenant. Set
    on every account of the person (their own and the sync's copies of it share the username), so the choice
    holds whichever tenant they are signed in to when they make it. Audited when it changes; returns whether it
    did."""
    before = switch_emails_wanted(user=user)
    if before == on:
        return False
    User.objects.filter(username_key=user.username_key).update(switch_emails=on)
    user.switch_emails = on
    audit_record(action="user.switch_emails_change", by=actor, tenant=user.tenant, obj=user,
                 changes={"from": before, "to": on})
    return True
