"""The one-way copy of a primary tenant's configuration to its BCP tenant.

For each entity type, in dependency order, the engine compares every record on both tenants, with the BCP rows'
links (and their children's) expressed in primary ids through the correlations: an equal record costs no write
(and no hash; written records keep theirs on the correlation). On PostgreSQL one query per type does the
comparing inside the database and sends only the records that need work, which are then read; elsewhere (SQLite)
both tenants are read as plain tuples and compared in Python. What differs is written in bulk, in chunks, each in
one transaction. Deletions follow in reverse order. Afterwards every type is reconciled.

Records made on the BCP tenant itself have no correlation and are never written, except the default roles, which
are adopted by name.

The files, from the top (each imports only those below it; pyproject.toml holds that as a contract):
  run.py          Engine: one run, type by type
  writer.py       the plan written in fenced chunks; deletes         reconcile.py  the check after every run
  planning.py     Planner: picks a comparer, completes the plan (links in BCP ids, unique values, hashes)
  compare_sql.py  SqlComparer: compared inside PostgreSQL            compare_python.py  PythonComparer
  comparing.py    Plan and the Comparer interface
  state.py        what a run knows and reports: tenants, id maps, names, counts, errors, progress
  ids.py          correlation maps, links from one tenant's ids to the other's, the content hash
  registry.py     the registered types, keyed by their model's ENTITY_TYPE; the custom-selection rule
  catalogue.py    the sync's own types (roles, users, the contact-center configuration)
  types.py        Entity and Child: how a type reads and writes its rows
  bulk.py         the bulk writers                                   failpoints.py  test hooks
  sql.py          every SQL string of the engine
"""

from .failpoints import SyncCrash
from .run import Engine
from .writer import SyncInterrupted

__all__ = ["Engine", "SyncCrash", "SyncInterrupted"]
