from django.contrib.auth.models import Group
from django.db import transaction
from guardian.shortcuts import assign_perm, get_group_perms, remove_perm

from audit.services import audit_record
from bcp_project.exceptions import ApplicationError

from .models import Role, User
from .roles import DEFAULT_ROLES, ROLE_PERMISSIONS, with_implied


def _perm(codename: str) -> str:
    return f"tenants.{codename}"


@transaction.atomic
def role_create(*, tenant, name: str, description: str = "", permissions=(), request=None) -> Role:
    name = name.strip()
    if not name:
        raise ApplicationError("A role needs a name.", field="name")
    if Role.objects.filter(tenant=tenant, name__iexact=name).exists():
        raise ApplicationError(f"This tenant already has a role named “{name}”.", field="name")
    group = Group.objects.create(name=f"tenant:{tenant.pk}:{name.lower()}")
    role = Role.objects.create(tenant=tenant, name=name, description=description, group=group)
    for codename in sorted(with_implied(permissions)):
        assign_perm(_perm(codename), group, tenant)
    audit_record(action="role.create", request=request, tenant=tenant, obj=role,
                 changes={"permissions": sorted(with_implied(permissions))})
    return role


def role_permissions(*, role: Role) -> set[str]:
    return set(get_group_perms(role.group, role.tenant).values_list("codename", flat=True))


@transaction.atomic
def role_set_permissions(*, role: Role, permissions, request=None) -> set[str]:
    wanted = with_implied(permissions) & set(ROLE_PERMISSIONS)
    current = role_permissions(role=role)
    for codename in sorted(wanted - current):
        assign_perm(_perm(codename), role.group, role.tenant)
    for codename in sorted(current - wanted):
        remove_perm(_perm(codename), role.group, role.tenant)
    if wanted != current:
        audit_record(action="role.permissions_change", request=request, tenant=role.tenant, obj=role,
                     changes={"added": sorted(wanted - current), "removed": sorted(current - wanted)})
    return wanted


@transaction.atomic
def tenant_roles_create_defaults(*, tenant, request=None) -> dict[str, Role]:
    roles = {}
    for name, (description, permissions) in DEFAULT_ROLES.items():
        existing = Role.objects.filter(tenant=tenant, name__iexact=name).first()
        roles[name] = existing or role_create(
            tenant=tenant, name=name, description=str(description), permissions=permissions, request=request
        )
    return roles


@transaction.atomic
def user_create(*, username: str, password: str | None, tenant=None, role: Role | None = None,
                first_name: str = "", last_name: str = "", email: str = "", request=None,
                is_staff_rep: bool = False) -> User:
    if role is not None and role.tenant_id != getattr(tenant, "pk", None):
        raise ApplicationError("The role belongs to another tenant.", field="role")
    if User.objects.filter(username__iexact=username, tenant=tenant).exists():
        raise ApplicationError(f"The username “{username}” is already taken in this tenant.", field="username")
    user = User(username=username, tenant=tenant, role=role, first_name=first_name, last_name=last_name,
                email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if is_staff_rep:
        from django.contrib.auth.models import Permission

        user.user_permissions.add(Permission.objects.get(codename="tm_admin", content_type__app_label="tenants"))
    audit_record(action="user.create", request=request, tenant=tenant, obj=user,
                 changes={"role": role.name if role else None})
    return user


@transaction.atomic
def user_set_language(*, user: User, language: str, request=None) -> User:
    from django.conf import settings

    if language not in dict(settings.LANGUAGES):
        raise ApplicationError("Choose one of the offered languages.", field="language")
    if user.language != language:
        old = user.language
        user.language = language
        user.save(update_fields=["language"])
        audit_record(action="user.language_change", request=request, tenant=user.tenant, obj=user,
                     changes={"from": old, "to": language})
    return user
