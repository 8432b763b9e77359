"""The one-way copy of a primary tenant's configuration to its BCP tenant, from the primary's region database into
the backup's.

A run is a point-in-time copy (snapshot.py): the primary's region is read in one snapshot, the backup's region and
the control plane (the copies of roles and users) are written in one transaction each, and both commit at the end,
after the fence is checked, or neither does. For each entity type, in dependency order, the engine compares the
records the change log names (capture.py; every record on a first sync or --full) on both tenants in Python (the
two tenants are in two databases that no query can join), with the BCP rows' links (and their children's)
expressed in primary ids through the correlations: an equal record costs no write (and no hash; written records
keep theirs, and their digest, on the correlation). What differs is written in bulk. Deletions follow in reverse
order. Afterwards every type is reconciled, then the run commits, then the log rows it read are deleted. Once an
hour a run also compares digests the databases compute (digest.py), which find what a lost log row hid.

Records made on the BCP tenant itself have no correlation and are never written, except the default roles, which
are adopted by name.

The files, from the top (each imports only those below it; pyproject.toml holds that as a contract):
  run.py          Engine: one run, type by type, inside its transactions
  snapshot.py     the run's transactions: the source's snapshot, the fenced commit, deadlines, regions down
  writer.py       the plan written; deletes                          reconcile.py  the check after every run
  planning.py     Planner: compares, then completes the plan (links in BCP ids, unique values, hashes)
  compare_python.py  PythonComparer: both tenants read and compared here
  comparing.py    Plan and the Comparer interface
  state.py        what a run knows and reports: tenants, regions, id maps, names, counts, errors, progress (written
                  on a connection of its own)
  ids.py          correlation maps, links from one tenant's ids to the other's, the content hash
  capture.py      the change log's triggers; what a run reads of the log and deletes
  digest.py       per-record and per-range digests, computed by each database
  registry.py     the registered types, keyed by their model's ENTITY_TYPE; the custom-selection rule
  catalogue.py    the sync's own types (roles, users, the contact-center configuration)
  types.py        Entity and Child: how a type reads and writes its rows, each on its own database
  bulk.py         the bulk writers                                   failpoints.py  test hooks
  sql.py          every SQL string of the engine
"""

from .failpoints import SyncCrash
from .run import Engine
from .writer import SyncInterrupted

__all__ = ["Engine", "SyncCrash", "SyncInterrupted"]
