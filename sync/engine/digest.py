"""Digests: proof that the copies hold what the primary holds, without reading every row into Python.

A record's digest is the sum of its rows' hashes (its own row and its children's, each hash the first 40 bits of
the MD5 of the row's values as text, with its table and record id), computed by the database that holds the rows
(sql.digest_rows; SQLite gets the same function registered on each connection). A run stores the digest of every
record it writes on its correlation: what the backup holds, in primary ids. A digest check sums both per range of
WIDTH primary ids (the primary's rows in its region, the correlations in the backup's) and compares the records of
the ranges that differ: a change whose log entry was lost, or a correlation written before digests, is found there
and compared like a logged change. A run checks by digests when no run of the pair did (or compared everything)
within SYNC_DIGEST_EVERY seconds (an hour by default): it costs a pass over the primary's rows inside its database,
too much for every run when nothing changed.
"""

import hashlib
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, Sum
from django.utils import timezone

from ..models import Correlation, SyncRun
from . import sql
from .types import READ_ALL_ABOVE, Entity, db_for, ids_of

WIDTH = 1024  # primary ids per range
# More differing ranges than this: the records of the whole type are compared in one pass per table.
RANGES_ONE_BY_ONE = 16


def sqlite_function(sender, connection, **kwargs) -> None:
    """connection_created: sync_digest() on every SQLite connection, the same hash PostgreSQL computes in SQL
    (over SQLite's own text of the values)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("sync_digest", -1, _row_hash, deterministic=True)


def _row_hash(*values) -> int:
    text = "\x1f".join("\x1e" if value is None else str(value) for value in values)
    return int(hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:sql.DIGEST_BITS // 4], 16)


def _parts(entity: Entity, tenant_id, lo: int | None = None, hi: int | None = None, ids=None):
    """(table tag, rows queryset, database) of a type's own rows and each child's, of one tenant."""
    rows = entity.rows(tenant_id, ids)
    if lo is not None:
        rows = rows.filter(pk__gte=lo, pk__lt=hi)
    yield "", rows, entity.db(tenant_id)
    for child in entity.children:
        rows = child.rows(tenant_id, ids)
        if lo is not None:
            rows = rows.filter(**{f"{child.parent}__gte": lo, f"{child.parent}__lt": hi})
        yield child.key, rows, db_for(child.model, tenant_id)


def of_records(entity: Entity, tenant_id, ids=None, lo: int | None = None, hi: int | None = None) -> dict[int, int]:
    """{record id: digest} of a tenant's records: all, these ids, or those in [lo, hi)."""
    total: dict[int, int] = defaultdict(int)
    for tag, rows, using in _parts(entity, tenant_id, lo, hi, ids):
        for pk, value in sql.digest_rows(rows, tag=tag, width=None, using=using):
            total[pk] += value
    return dict(total)


def read_with_digests(entity: Entity, tenant_id, ids: list[int]) -> tuple[dict, dict, dict[int, int]]:
    """What entity.read and read_children return for these records, and their digests, read together: one statement
    per table, as many as reading them alone."""
    values: dict[int, tuple] = {}
    children: dict[str, dict[int, list[tuple]]] = {child.key: defaultdict(list) for child in entity.children}
    total: dict[int, int] = defaultdict(int)
    wanted = ids_of(ids)
    parts = [("", entity.by_ids, entity.db(tenant_id), entity.rows)]
    parts += [(child.key, child.by_parents, db_for(child.model, tenant_id), child.rows) for child in entity.children]
    for tag, read, using, rows in parts:
        statement = read.statement(using, tenant=tenant_id, ids=wanted)
        found = sql.rows_hashed(rows(tenant_id, wanted) if statement is None else statement, tag=tag, using=using)
        # Each row is (id or parent id, *values, hash), read in one pass.
        if tag:
            rows_of = children[tag]
            for row in found:
                total[row[0]] += row[-1]
                rows_of[row[0]].append(row[1:-1])
        else:
            for row in found:
                total[row[0]] += row[-1]
                values[row[0]] = row[1:-1]
    return values, children, {pk: total[pk] for pk in values}


def for_writes(entity: Entity, tenant_id, ids: list[int]) -> dict[int, int]:
    """The digests of the primary records a run writes (the whole type read when they are many)."""
    if not ids:
        return {}
    if len(ids) <= READ_ALL_ABOVE:
        return of_records(entity, tenant_id, ids)
    wanted = set(ids)
    return {pk: value for pk, value in of_records(entity, tenant_id).items() if pk in wanted}


def _ranges(entity: Entity, tenant_id) -> dict[int, int]:
    total: dict[int, int] = defaultdict(int)
    for tag, rows, using in _parts(entity, tenant_id):
        for bucket, value in sql.digest_rows(rows, tag=tag, width=WIDTH, using=using):
            total[bucket] += value
    return dict(total)


def _expected_ranges(mapping, key: str) -> dict[int, int | None]:
    """Per range, the sum of the digests stored on the correlations (None when one has none yet)."""
    rows = (Correlation.objects.filter(mapping=mapping, entity_type=key).annotate(bucket=F("source_id") / WIDTH)
            .values("bucket").annotate(total=Sum("digest"), count=Count("pk"), known=Count("digest"))
            .values_list("bucket", "total", "count", "known").order_by())
    return {bucket: (int(total) if count == known else None) for bucket, total, count, known in rows}


def _expected(mapping, key: str, lo: int | None = None, hi: int | None = None) -> dict[int, int | None]:
    rows = Correlation.objects.filter(mapping=mapping, entity_type=key)
    if lo is not None:
        rows = rows.filter(source_id__gte=lo, source_id__lt=hi)
    return dict(rows.values_list("source_id", "digest").iterator(chunk_size=5000))


def differing(state, entity: Entity) -> tuple[set[int], dict[int, int]]:
    """The primary ids whose rows differ from what their correlations say the backup holds (a record on one side
    only included), and the primary's digests of those records."""
    have, want = _ranges(entity, state.source_tenant), _expected_ranges(state.mapping, entity.key)
    buckets = sorted(bucket for bucket in have.keys() | want.keys() if have.get(bucket) != want.get(bucket))
    found: set[int] = set()
    digests: dict[int, int] = {}
    if len(buckets) > RANGES_ONE_BY_ONE:
        spans = [(None, None)]
    else:
        spans = [(bucket * WIDTH, (bucket + 1) * WIDTH) for bucket in buckets]
    for lo, hi in spans:
        source = of_records(entity, state.source_tenant, lo=lo, hi=hi)
        expected = _expected(state.mapping, entity.key, lo, hi)
        differ = {pk for pk in source.keys() | expected.keys() if source.get(pk) != expected.get(pk)}
        found |= differ
        digests.update((pk, source[pk]) for pk in differ if pk in source)
    return found, digests


def last_check(state):
    """The pair's latest succeeded run that compared everything or checked by digests (None: a first sync)."""
    return (SyncRun.objects.using(state.target_alias)
            .filter(mapping_id=state.mapping.pk, status=SyncRun.Status.SUCCEEDED, checked=True)
            .only("finished_at", "entity_types").order_by("-finished_at").first())


def due(last) -> bool:
    """Whether this run checks by digests: the last check is older than SYNC_DIGEST_EVERY seconds."""
    every = getattr(settings, "SYNC_DIGEST_EVERY", 3600)
    return last is not None and (last.finished_at is None or
                                 last.finished_at <= timezone.now() - timedelta(seconds=every))
