from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.regions import CONTROL

from .models import Region, Tenant
from .signals import tenant_created


def _region_has_database(code: str) -> None:
    """Regions are configuration: a region's tenants need its database (REGION_DATABASE_URLS)."""
    if code not in settings.REGION_DATABASES:
        raise ApplicationError(
            _("Region “%(code)s” has no database. An operator adds it to REGION_DATABASE_URLS (this platform has "
              "%(known)s) and restarts the application; then create it again.")
            % {"code": code, "known": ", ".join(settings.REGION_DATABASES)}, field="region")


@transaction.atomic(using=CONTROL)
def region_create(*, name: str, code: str, actor: Actor) -> Region:
    _region_has_database(code)
    region, created = Region.objects.get_or_create(code=code, defaults={"name": name})
    if created:
        audit_record(action="region.create", by=actor, obj=region)
    return region


def _duplicate_name(name: str) -> str:
    return _("A tenant named “%(name)s” already exists. Choose another name.") % {"name": name}


def tenant_create(*, name: str, region: Region, actor: Actor) -> Tenant:
    name = " ".join(name.split())
    if not name:
        raise ApplicationError(_("Give the tenant a name."), field="name")
    if Tenant.objects.filter(name__iexact=name).exists():
        raise ApplicationError(_duplicate_name(name), field="name")
    _region_has_database(region.code)
    try:
        with transaction.atomic(using=CONTROL):
            tenant = Tenant.objects.create(name=name, region=region)
            # accounts gives it the default roles; a receiver that fails undoes the tenant too.
            tenant_created.send(sender=Tenant, tenant=tenant, actor=actor)
            audit_record(action="tenant.create", by=actor, tenant=tenant, obj=tenant,
                         changes={"name": name, "region": region.code})
    except IntegrityError:
        # Two representatives creating the same name at once: the constraint decides.
        raise ApplicationError(_duplicate_name(name), field="name") from None
    return tenant
