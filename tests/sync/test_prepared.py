"""The reads compiled once per process (sync/engine/prepared.py) return what the ORM's queryset returns, with each
call's own values; a read they cannot prepare is left to the ORM."""

import pytest
from django.db import connections

from accounts.models import User
from contactcenter.models import Skill
from sync.engine.prepared import Read
from sync.engine.registry import ENTITIES
from sync.engine.types import db_for
from tests.sync.conftest import run_sync


def _every_read(tenant):
    """(label, prepared read, database, the ids it reads) of every registered type and child on `tenant`."""
    for entity in ENTITIES:
        ids = list(entity.rows(tenant.pk).values_list("pk", flat=True))
        yield entity.key, entity.by_ids, entity.db(tenant.pk), entity.rows, ids
        for child in entity.children:
            yield f"{entity.key}.{child.key}", child.by_parents, db_for(child.model, tenant.pk), child.rows, ids


@pytest.mark.parametrize("side", ["primary", "copy"])
def test_every_read_returns_what_the_orm_returns_for_each_tenant_and_ids(configured, bcp_tenant, side):
    run_sync(configured)
    tenant = configured if side == "primary" else bcp_tenant
    compared = 0
    for label, read, alias, rows, ids in _every_read(tenant):
        for wanted in (ids, ids[:1], []):
            expected = sorted(rows(tenant.pk, wanted), key=repr)
            assert sorted(read.rows(alias, tenant=tenant.pk, ids=frozenset(wanted)), key=repr) == expected, label
            compared += bool(expected)
    assert compared > 20


def test_on_postgresql_the_types_own_reads_are_compiled_once(configured):
    alias = db_for(Skill, configured.pk)
    if connections[alias].vendor != "postgresql":
        pytest.skip("SQLite's IN list changes with the number of ids: its reads go through the ORM")
    for entity in ENTITIES:
        assert entity.by_ids.statement(entity.db(configured.pk), tenant=configured.pk, ids={1}) is not None, entity.key
    # The text is the same for other values; only the parameters change.
    skill = next(entity for entity in ENTITIES if entity.model is Skill)
    first = skill.by_ids.statement(alias, tenant=configured.pk, ids={1, 2})
    second = skill.by_ids.statement(alias, tenant=configured.pk, ids={3})
    assert first[0] == second[0] and first[1] != second[1]


def test_a_read_that_cannot_be_prepared_goes_through_the_orm(configured):
    # `__in` (not sync_in) sends each id as a parameter of its own: no single place for the ids.
    read = Read(lambda using, tenant, ids: User.objects.using(using).filter(tenant_id=tenant, pk__in=ids)
                .values_list("username").order_by("username"))
    alice = User.objects.get(tenant=configured, username="alice")
    assert read.statement("default", tenant=configured.pk, ids={alice.pk}) is None
    assert read.rows("default", tenant=configured.pk, ids={alice.pk}) == [("alice",)]
