"""Regions are configuration: every region in the directory needs a database (settings.REGION_DATABASES).

A database check (Django runs those in `migrate`, so `make run` and `migrate_all` stop on it, and in
`manage.py check --database default`): a directory that names a region this configuration has no database for
would send that region's tenants nowhere.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError


@register(Tags.database)
def every_region_has_a_database(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    from .models import Region

    try:
        regions = list(Region.objects.using("default").values_list("code", "name"))
    except DatabaseError:
        return []  # not migrated yet: nothing to check
    return [
        Error(f"Region {code!r} ({name}) is in the tenant directory but has no database.",
              hint=f"Add it to REGION_DATABASE_URLS, such as {code}=postgres://host/bcp (this configuration has "
                   f"{', '.join(settings.REGION_DATABASES)}).", id="tenants.E001")
        for code, name in regions if code not in settings.REGION_DATABASES
    ]
