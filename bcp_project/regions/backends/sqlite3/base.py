"""SQLite for a region (the zero-set-up run): Django's backend, guarded as bcp_project.regions.backends says. A
file does not stop answering, so only a region forced down (`manage.py region down`) is refused."""

from django.db.backends.sqlite3 import base

from .. import RegionGuard


class DatabaseWrapper(RegionGuard, base.DatabaseWrapper):
    pass
