"""The way home: what changed on the BCP tenant while it was active, and carrying it back to the primary.

While the BCP tenant is active the sync is paused, and the first forward run after the switch back makes every
copy the primary's again. Before that, `bcp_changes` lists, per type, what the BCP tenant changed since the
switch, each with the primary's side of the same record:

- **created** there: a record of the BCP tenant with no correlation, created after the switch to it (records
  made on the BCP tenant itself before the switch are its own; the sync never touches them and they are not
  listed);
- **edited** there: a copy whose content, its links expressed in primary ids, no longer has the hash the sync
  last wrote (the correlation's);
- **deleted** there: a correlation whose copy is gone.

The primary's side: unchanged (its hash is the correlation's), changed meanwhile, or deleted meanwhile. A record
both sides changed is a conflict and says so. Roles and users live in the control plane and are not carried back.

`carry_back` writes the chosen records to the primary, in the reverse direction of the sync: new ids on the
primary for records created on the BCP tenant, links remapped (through the correlations, and to the new ids of
the records carried back with them), and a correlation kept for each, so that the next forward run sees the two
as one record and writes nothing. The two databases are written in this order:

1. a `CarryBack` row (`pending`, the chosen records) in the backup's region, committed;
2. the primary's region, in one transaction: the records, and one audit row per record naming the carry-back,
   the BCP id, the primary id and the content hash;
3. the backup's region, in one transaction: the correlations (new ones for created records, the hash for edited
   ones, none left for deleted ones) and the carry-back set `done`.

A crash between 1 and 2 leaves a pending carry-back with no audit rows on the primary: it is dropped. A crash
between 2 and 3 leaves one with audit rows: its correlations are written from them. Either is done by
`carry_back_repair`, which the next carry-back, the next listing and the next forward run call first, under the
pair's lock. Correlations are written only for primary records that exist, so no forward run deletes a BCP
record because of a carry-back.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.regions import CONTROL, RegionUnavailable, alias_for_mapping, alias_for_tenant, region_label
from contactcenter.models import Deletion
from tenants.models import BcpMapping

from .engine import failpoints
from .engine.ids import IdMaps, content_hash
from .engine.registry import ENTITIES
from .engine.types import Entity
from .models import CarryBack, Correlation

# People and roles are in the control plane; they are not carried back.
NOT_CARRIED = frozenset({"role", "user"})
AUDIT_ACTION = "sync.carried_back"
CREATED, EDITED, DELETED = "created", "edited", "deleted"
UNCHANGED, CHANGED = "unchanged", "changed"
CARRY, KEEP = "carry", "keep"


class CarryBackError(ApplicationError):
    """Nothing was carried back; the message says why and what to do."""


class ChangesMoved(CarryBackError):
    """The list of changes is not the one the administrator was shown."""

    def __init__(self):
        super().__init__(_("The changes on the BCP tenant are not the ones you were shown: someone changed a "
                           "record since. Nothing was carried back and nothing was switched. Review the list again "
                           "and choose for each record."))


@dataclass
class Item:
    """One record the BCP tenant changed while it was active, with the primary's side of it."""

    entity: Entity
    kind: str  # CREATED, EDITED or DELETED (on the BCP tenant)
    bcp_id: int | None
    primary_id: int | None
    bcp_name: str = ""
    primary_name: str = ""
    primary_state: str = ""  # UNCHANGED, CHANGED or DELETED ("" for a record created on the BCP tenant)
    bcp_hash: str = ""
    primary_hash: str = ""
    # Why it cannot be carried back ("" if it can), and the records created on the BCP tenant it links to.
    blocked: str = ""
    needs: list[str] = field(default_factory=list)
    # The BCP row in primary ids (links to records created there as ("bcp", id)), and its children.
    values: tuple = ()
    children: dict = field(default_factory=dict)
    # For a record edited there that the primary still has: what differs, as (field's name, the BCP tenant's value,
    # the primary's value), short and in the reader's language.
    differences: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        own = self.bcp_id if self.bcp_id is not None else f"p{self.primary_id}"
        return f"{self.entity.key}:{own}"

    @property
    def name(self) -> str:
        return self.bcp_name or self.primary_name

    @property
    def conflict(self) -> bool:
        return self.primary_state in (CHANGED, DELETED)

    def fingerprint(self) -> tuple:
        return (self.key, self.kind, self.primary_state, self.bcp_hash, self.primary_hash, self.blocked,
                tuple(self.needs))


@dataclass
class BcpChanges:
    mapping: BcpMapping
    since: datetime | None
    items: list[Item]
    # The region whose database did not answer, when the changes could not be read.
    unavailable: str | None = None

    @property
    def primary_unavailable(self) -> bool:
        """The primary's region does not answer: the switch back waits (the list cannot be compared). With only the
        backup's down, nothing there can be read or carried back, and the switch back may go on."""
        return self.unavailable is not None and self.unavailable != alias_for_mapping(self.mapping)

    @property
    def unavailable_region(self) -> str:
        """The region that does not answer, named in the reader's language."""
        return region_label(self.unavailable) if self.unavailable else ""

    @property
    def groups(self) -> list[tuple[Entity, list[Item]]]:
        by_type: dict[str, list[Item]] = {}
        for item in self.items:
            by_type.setdefault(item.entity.key, []).append(item)
        return [(entity, by_type[entity.key]) for entity in ENTITIES if entity.key in by_type]

    @property
    def token(self) -> str:
        """What the administrator was shown, in 32 characters: the revert is refused if it differs."""
        payload = repr(sorted(item.fingerprint() for item in self.items))
        return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


def _unique_folds(entity: Entity, values: tuple) -> set:
    row = dict(zip(entity.columns, values, strict=True))
    return {(group, tuple(entity.fold(n, row[n]) if isinstance(row[n], str) else row[n] for n in group))
            for group in entity.unique}


def _bcp_links(entity: Entity, values: tuple, children: dict) -> list[tuple[str, int]]:
    """(type, BCP id) of every link of the row and its children to a BCP record with no correlation."""
    found = []
    parts = [(entity.columns, entity.links, [values])]
    parts += [(child.columns, child.links, children.get(child.key, [])) for child in entity.children]
    for columns, links, rows in parts:
        for row in rows:
            for index, column in enumerate(columns):
                value = row[index]
                if column in links and isinstance(value, tuple) and value[:1] == ("bcp",):
                    found.append((links[column], value[1]))
    return found


def _in_primary_ids(ids: IdMaps, entity: Entity, values: tuple, children: dict, pk: int) -> tuple[tuple, dict]:
    """A BCP row and its children with their links in primary ids (("bcp", id) for a record with no
    correlation), as the sync hashes them."""
    return ids.to_source(entity.columns, entity.links, values), ids.children_to_source(entity, children, pk)


SHORT = 60


def _shown(entity: Entity, column: str, value, names: dict) -> str | None:
    """A value as the page shows it: short, choices and yes/no in the reader's language, a link by the linked
    record's name (None when that name is not at hand: the link is left out)."""
    kind = entity.links.get(column)
    if kind is not None and value is not None:
        side, pk = ("bcp", value[1]) if isinstance(value, tuple) else ("primary", value)
        return names.get((side, kind), {}).get(pk)
    model_field = entity.model._meta.get_field(column)
    if value is None or value == "":
        return "—"
    if model_field.choices:
        value = dict(model_field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return Truncator(str(value)).chars(SHORT)


def _differences(entity: Entity, bcp_values: tuple, primary_values: tuple, bcp_children: dict,
                 primary_children: dict, names: dict) -> list[tuple[str, str, str]]:
    """What differs between the BCP tenant's record and the primary's (both in primary ids): the fields, then one
    line per kind of child rows that differ, with how many each side has."""
    found = []
    for column, mine, theirs in zip(entity.columns, bcp_values, primary_values, strict=True):
        if mine == theirs:
            continue
        shown = (_shown(entity, column, mine, names), _shown(entity, column, theirs, names))
        if None not in shown:
            found.append((str(capfirst(entity.model._meta.get_field(column).verbose_name)), *shown))
    for child in entity.children:
        mine, theirs = bcp_children.get(child.key, []), primary_children.get(child.key, [])
        if sorted(mine, key=repr) != sorted(theirs, key=repr):
            found.append((str(capfirst(child.model._meta.verbose_name_plural)), str(len(mine)), str(len(theirs))))
    return found


def bcp_changes(*, mapping: BcpMapping, repair: bool = True) -> BcpChanges:
    """What the BCP tenant changed while it has been active, per type in dependency order. Empty while the primary
    is active (the sync keeps the copies the primary's then). A fixed number of queries per type."""
    if mapping.active_side != BcpMapping.Side.SECONDARY or mapping.active_since is None:
        return BcpChanges(mapping=mapping, since=None, items=[])
    since = mapping.active_since
    try:
        if repair:
            carry_back_repair(mapping=mapping)
        items = _read_changes(mapping, since)
    except RegionUnavailable as exc:
        return BcpChanges(mapping=mapping, since=since, items=[], unavailable=exc.alias)
    return BcpChanges(mapping=mapping, since=since, items=items)


def _read_changes(mapping: BcpMapping, since: datetime) -> list[Item]:
    primary, bcp = mapping.primary_id, mapping.secondary_id
    ids = IdMaps(mapping)
    items: list[Item] = []
    created_keys: set[str] = set()
    names: dict[str, dict[int, str]] = {}  # BCP names, for the records a created one links to
    shown_names: dict[tuple[str, str], dict[int, str]] = {}  # ("bcp" or "primary", type) -> names, for links
    for entity in ENTITIES:
        if entity.key in NOT_CARRIED:
            continue
        correlations = {source: (target, digest) for source, target, digest in Correlation.objects.filter(
            mapping=mapping, entity_type=entity.key).values_list("source_id", "target_id", "content_hash")}
        copies = {target for target, _digest in correlations.values()}
        rows = entity.read(bcp)
        names[entity.key] = {pk: entity.describe(values) for pk, values in rows.items()}
        new_ids = set(entity.queryset(bcp).filter(created_at__gte=since).values_list("pk", flat=True)) - copies
        primary_rows = entity.read(primary)
        shown_names[("bcp", entity.key)] = names[entity.key]
        shown_names[("primary", entity.key)] = {pk: entity.describe(values) for pk, values in primary_rows.items()}
        if not (new_ids or correlations):
            continue
        bcp_children = entity.read_children(bcp)
        primary_children = entity.read_children(primary)
        hashes = {pk: content_hash(values, {child.key: primary_children[child.key].get(pk, [])
                                            for child in entity.children}) for pk, values in primary_rows.items()}
        taken = {}  # the primary's unique values -> its record
        for pk, values in primary_rows.items():
            for fold in _unique_folds(entity, values):
                taken[fold] = pk
        type_items = []
        for pk in sorted(new_ids):
            values, children = _in_primary_ids(ids, entity, rows[pk], bcp_children, pk)
            item = Item(entity, CREATED, pk, None, bcp_name=entity.describe(rows[pk]),
                        bcp_hash=content_hash(values, children), values=values, children=children)
            if any(fold in taken for fold in _unique_folds(entity, values)):
                item.blocked = _("The primary has another record with this name.")
            type_items.append(item)
        for source, (target, digest) in sorted(correlations.items()):
            on_primary = source in primary_rows
            p_hash = hashes.get(source, "")
            state = (UNCHANGED if p_hash == digest else CHANGED) if on_primary else DELETED
            primary_name = entity.describe(primary_rows[source]) if on_primary else ""
            if target not in rows:
                if on_primary:
                    type_items.append(Item(entity, DELETED, None, source, primary_name=primary_name,
                                           primary_state=state, primary_hash=p_hash))
                continue
            values, children = _in_primary_ids(ids, entity, rows[target], bcp_children, target)
            b_hash = content_hash(values, children)
            if b_hash == digest or b_hash == p_hash:
                continue  # not edited there, or both made the same change
            item = Item(entity, EDITED, target, source, bcp_name=entity.describe(rows[target]),
                        primary_name=primary_name, primary_state=state, bcp_hash=b_hash, primary_hash=p_hash,
                        values=values, children=children)
            if on_primary:
                item.differences = _differences(
                    entity, values, primary_rows[source], children,
                    {child.key: primary_children[child.key].get(source, []) for child in entity.children},
                    shown_names)
            if not on_primary:
                item.blocked = _("The primary deleted it meanwhile; the next sync deletes it here.")
            elif any(taken.get(fold, source) != source for fold in _unique_folds(entity, values)):
                item.blocked = _("The primary has another record with this name.")
            type_items.append(item)
        for item in type_items:
            if item.kind == DELETED or item.blocked:
                continue
            for kind, bcp_id in _bcp_links(entity, item.values, item.children):
                needed = f"{kind}:{bcp_id}"
                if needed in created_keys:
                    item.needs.append(needed)
                elif not item.blocked:
                    item.blocked = _("It links to “%(name)s”, which was on the BCP tenant before the switch and "
                                     "is not on the primary.") % {"name": names.get(kind, {}).get(bcp_id, bcp_id)}
        created_keys |= {item.key for item in type_items if item.kind == CREATED}
        items += type_items
    return items


# --- carrying back ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarryBackResult:
    carried: list[Item]
    kept: list[Item]


def decide(changes: BcpChanges, choices: dict[str, str]) -> CarryBackResult:
    """The administrator's choice per record (CARRY or KEEP; a record that cannot be carried back is kept),
    checked: every record chosen, and a record carried back with every record created there that it links to."""
    carried, kept = [], []
    for item in changes.items:
        choice = choices.get(item.key)
        if choice not in (CARRY, KEEP) and item.conflict:
            raise CarryBackError(_("“%(name)s” was changed on both sides: choose whether it is carried back (the "
                                   "primary's change is lost) or the primary's version stands (the change made on "
                                   "the BCP tenant is lost).") % {"name": item.name})
        if choice not in (CARRY, KEEP):
            raise CarryBackError(_("Choose for “%(name)s” whether it is carried back or the primary's version "
                                   "stands.") % {"name": item.name})
        if choice == CARRY and item.blocked:
            raise CarryBackError(_("“%(name)s” cannot be carried back: %(why)s") % {"name": item.name,
                                                                                     "why": item.blocked})
        (carried if choice == CARRY else kept).append(item)
    chosen = {item.key for item in carried}
    by_key = {item.key: item for item in changes.items}
    for item in carried:
        for needed in item.needs:
            if needed not in chosen:
                raise CarryBackError(_("“%(name)s” links to “%(other)s”, which was created on the BCP tenant: "
                                       "carry that back too, or let the primary's version of “%(name)s” stand.")
                                     % {"name": item.name, "other": by_key[needed].name})
    return CarryBackResult(carried=carried, kept=kept)


def carry_back(*, mapping: BcpMapping, choices: dict[str, str], token: str, actor: Actor) -> CarryBackResult:
    """Carries the chosen records back to the primary (see the module's docstring for the order of the writes).
    Refused, with nothing written, if the list is not the one behind `token` or a choice is missing or wrong."""
    with transaction.atomic(using=CONTROL):
        BcpMapping.objects.locked().filter(pk=mapping.pk).values_list("pk").first()
        changes = bcp_changes(mapping=mapping)
        if changes.unavailable:
            raise RegionUnavailable(changes.unavailable)
        if token != changes.token:
            raise ChangesMoved
        result = decide(changes, choices)
        if not result.carried:
            return result
        backup = alias_for_mapping(mapping)
        with transaction.atomic(using=backup):
            intent = CarryBack.objects.using(backup).create(mapping_id=mapping.pk, by_name=actor.name,
                                                            items=[item.key for item in result.carried])
        try:
            _write_primary(mapping, result.carried, intent=intent, actor=actor)
        except (IntegrityError, ProtectedError) as exc:
            CarryBack.objects.using(backup).filter(pk=intent.pk).update(status=CarryBack.Status.DROPPED,
                                                                        finished_at=timezone.now())
            detail = ", ".join(sorted(str(obj) for obj in list(getattr(exc, "protected_objects", ()))[:3]))
            message = (
                _("The primary refused the carry-back, so nothing was carried back and nothing was switched: a "
                  "record deleted on the BCP tenant is still used on the primary by %(detail)s. Let the primary's "
                  "version of that record stand, or carry back the change that stopped using it.")
                % {"detail": detail} if detail else
                _("The primary refused the carry-back, so nothing was carried back and nothing was switched: two "
                  "records would have the same name there. Let the primary's version of one of them stand."))
            raise CarryBackError(message) from exc
        failpoints.failpoint("carryback:between")
        _finish(mapping, intent)
    return result


def _write_primary(mapping: BcpMapping, carried: list[Item], *, intent: CarryBack, actor: Actor) -> None:
    """The primary's transaction: created records inserted (links to records created on the BCP tenant remapped
    to their new ids), edited ones overwritten, deleted ones deleted; one audit row per record."""
    primary = mapping.primary_id
    alias = alias_for_tenant(primary)
    new_ids: dict[tuple[str, int], int] = {}

    def remap(columns, links, values):
        out = list(values)
        for index, column in enumerate(columns):
            value = out[index]
            if column in links and isinstance(value, tuple) and value[:1] == ("bcp",):
                out[index] = new_ids[(links[column], value[1])]
        return tuple(out)

    def audit(item: Item, primary_id: int, digest: str) -> None:
        obj = item.entity.model(pk=primary_id, tenant_id=primary, **{item.entity.describe_field: item.name})
        obj._state.db = alias
        audit_record(action=AUDIT_ACTION, by=actor, tenant=mapping.primary, obj=obj, using=alias,
                     changes={"carry_back": intent.pk, "type": item.entity.key, "kind": item.kind,
                              "bcp_id": item.bcp_id, "primary_id": primary_id, "hash": digest,
                              "name": item.name, "primary_state": item.primary_state})

    with transaction.atomic(using=alias):
        for entity in ENTITIES:
            mine = [item for item in carried if item.entity.key == entity.key and item.kind != DELETED]
            for item in mine:
                values = remap(entity.columns, entity.links, item.values)
                children = {child.key: [remap(child.columns, child.links, row) for row in item.children[child.key]]
                            for child in entity.children}
                if item.kind == CREATED:
                    (primary_id,) = entity.create(primary, [values])
                    new_ids[(entity.key, item.bcp_id)] = primary_id
                else:
                    primary_id = item.primary_id
                    entity.update(primary, {primary_id: values})
                    for child in entity.children:
                        child.delete_for(primary, [primary_id])
                for child in entity.children:
                    if children[child.key]:
                        child.insert(primary, {primary_id: children[child.key]})
                audit(item, primary_id, content_hash(values, children))
        for entity in reversed(list(ENTITIES)):
            gone = [item for item in carried if item.entity.key == entity.key and item.kind == DELETED]
            if not gone:
                continue
            entity.delete(primary, [item.primary_id for item in gone])
            for item in gone:
                Deletion.objects.using(alias).create(tenant_id=primary, entity_type=entity.key,
                                                     object_id=item.primary_id, natural_key=item.name[:255])
                audit(item, item.primary_id, "")
        failpoints.failpoint("carryback:primary")  # a crash here rolls the primary's transaction back


def _finish(mapping: BcpMapping, intent: CarryBack) -> None:
    """The backup's transaction, from the primary's audit rows of the carry-back: the correlations, and the
    carry-back done. Runs after the primary committed, or in a repair after a crash."""
    backup = intent._state.db or alias_for_mapping(mapping)
    events = AuditEvent.objects.using(alias_for_tenant(mapping.primary_id)).filter(
        action=AUDIT_ACTION, tenant_id=mapping.primary_id, changes__carry_back=intent.pk).values_list(
        "changes", flat=True)
    now = timezone.now()
    with transaction.atomic(using=backup):
        correlations = Correlation.objects.using(backup)
        for change in events:
            kind, key = change["kind"], change["type"]
            if kind == CREATED:
                # A repair may find it made already (a crash after this transaction's commit is not possible,
                # but a second repair of the same carry-back must not fail).
                correlations.update_or_create(mapping_id=mapping.pk, entity_type=key, target_id=change["bcp_id"],
                                              defaults={
                    "source_id": change["primary_id"], "content_hash": change["hash"], "synced_at": now})
            elif kind == EDITED:
                correlations.filter(mapping_id=mapping.pk, entity_type=key, source_id=change["primary_id"]).update(
                    content_hash=change["hash"], synced_at=now)
            else:
                correlations.filter(mapping_id=mapping.pk, entity_type=key,
                                    source_id=change["primary_id"]).delete()
        CarryBack.objects.using(backup).filter(pk=intent.pk).update(status=CarryBack.Status.DONE, finished_at=now)


def carry_back_repair(*, mapping: BcpMapping) -> int:
    """Finishes or drops the pair's carry-backs left pending by a crash: one whose records reached the primary
    (its audit rows are there) gets its correlations; one whose did not is dropped. Returns how many it found."""
    backup = alias_for_mapping(mapping)
    pending = list(CarryBack.objects.using(backup).filter(mapping_id=mapping.pk, status=CarryBack.Status.PENDING))
    if not pending:
        return 0
    with transaction.atomic(using=CONTROL):
        BcpMapping.objects.locked().filter(pk=mapping.pk).values_list("pk").first()
        primary = alias_for_tenant(mapping.primary_id)
        for intent in pending:
            written = AuditEvent.objects.using(primary).filter(
                action=AUDIT_ACTION, tenant_id=mapping.primary_id, changes__carry_back=intent.pk).exists()
            if written:
                _finish(mapping, intent)
            else:
                CarryBack.objects.using(backup).filter(pk=intent.pk, status=CarryBack.Status.PENDING).update(
                    status=CarryBack.Status.DROPPED, finished_at=timezone.now())
    return len(pending)
