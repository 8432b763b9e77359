"""The way home: what changed on the BCP tenant while it was active, and carrying it back to the primary.

While the BCP tenant is active the sync is paused, and the first forward run after the switch back makes every
copy the primary's again. Before that, `bcp_changes` lists, per type, what the BCP tenant changed since the
switch, each with the primary's side of the same record:

- **created** there: a record of the BCP tenant with no correlation, created after the switch to it (records
  made on the BCP tenant itself before the switch are its own; the sync never touches them and they are not
  listed; nor is an account that is a copy, `fixed`, such as one given there to a person of the primary);
- **edited** there: a copy whose content, its links expressed in primary ids, no longer has the hash the sync
  last wrote (the correlation's);
- **deleted** there: a correlation whose copy is gone.

The primary's side: unchanged (its hash is the correlation's), changed meanwhile, or deleted meanwhile. A record
both sides changed is a conflict and says so. Every type is listed, roles and users (in the control plane) too; a
password is never shown, only that it differs.

`carry_back` writes the chosen records to the primary, in the reverse direction of the sync: new ids on the
primary for records created on the BCP tenant, links remapped (through the correlations, and to the new ids of
the records carried back with them), and a correlation kept for each, so that the next forward run sees the two
as one record and writes nothing. A person created on the BCP tenant becomes the primary's person, and the
account there its copy. The primary's records are in two databases: roles and users in the control plane, the
rest (a user's agent settings too) in the primary's region. The writes, in this order:

1. a `CarryBack` row (`pending`, the chosen records) in the backup's region, committed;
2. the primary's region, in one transaction: its records, and one audit row per record (a user's: for its agent
   settings) naming the carry-back, the BCP id, the primary id and the content hash;
3. the control plane, in one transaction that holds the pair's lock from the listing on: roles and users, and
   one audit row per record;
4. the backup's region, in one transaction: the correlations (new ones for created records, the hash for edited
   ones, none left for deleted ones) and the carry-back set `done`.

The control plane commits after the region, so that the lock covers both commits and no repair runs between them.
A crash between 1 and 2 leaves a pending carry-back with no audit rows on the primary: it is dropped. A crash
between 3 and 4 leaves one with audit rows in both: its correlations are written from them. A crash between 2 and
3 leaves the region's records without the control plane's: those records get their correlations; of the users,
nothing but their agent settings reached the primary, so a created one's are deleted there again (it is offered
again), and an edited or deleted one's correlation takes the primary's record as it is now (it is offered again,
with what is still missing); roles are offered again as they were. All is done by `carry_back_repair`, which
the next carry-back, the next listing and the next forward run call first, under the pair's lock. Correlations
are written only for primary records that exist, so no forward run deletes a BCP record because of a carry-back.
`carry_back` commits by itself: call it outside any transaction of the control plane (a switch back calls it
before its own).
"""

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.models import AuditEvent
from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.regions import CONTROL, RegionUnavailable, alias_for_mapping, alias_for_tenant, region_label
from contactcenter.models import Deletion
from tenants.models import BcpMapping

from .engine import failpoints
from .engine.ids import IdMaps, content_hash
from .engine.registry import BY_KEY, ENTITIES
from .engine.types import Child, Entity, db_for
from .models import CarryBack, Correlation

AUDIT_ACTION = "sync.carried_back"
# The audit row a user's agent settings get in the primary's region (its own row is in the control plane).
REGION_PART = "region"
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
# At most this many child rows are named per side; the rest are counted.
NAMED = 5


def _verbose(model, column: str) -> str | None:
    try:
        return str(model._meta.get_field(column).verbose_name)
    except FieldDoesNotExist:  # a lookup across a relation (permission__codename)
        return None


def _shown(part: Entity | Child, column: str, value, names: dict) -> str | None:
    """A value of a record (an Entity) or of a child row (a Child) as the page shows it: short, choices and yes/no in
    the reader's language, a link by the linked record's name (None when that name is not at hand: the link is left
    out)."""
    kind = part.links.get(column)
    if kind is not None and value is not None:
        side, pk = ("bcp", value[1]) if isinstance(value, tuple) else ("primary", value)
        return names.get((side, kind), {}).get(pk)
    if value is None or value == "":
        return "—"
    label = part.value_label(column, value)
    if label is not None:
        return Truncator(label).chars(SHORT)
    try:
        model_field = part.model._meta.get_field(column)
    except FieldDoesNotExist:
        model_field = None
    if model_field is not None and model_field.choices:
        value = dict(model_field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return Truncator(str(value)).chars(SHORT)


def _child_row(child: Child, row: tuple, names: dict) -> str:
    """A child row in a few words: what it links to by name (or its first value), then its other values by their
    field's name: "Web Chat (proficiency: 5)"."""
    links, others = [], []
    for column, value in zip(child.columns, row, strict=True):
        shown = _shown(child, column, value, names)
        if column in child.links:
            if value is not None:
                links.append(shown if shown is not None else str(value[1] if isinstance(value, tuple) else value))
            continue
        others.append((column, shown))
    if not child.links and others:  # a row named by its first value: a permission, a day
        links.append(others.pop(0)[1])
    details = ", ".join(f"{_verbose(child.model, column) or column}: {shown}" for column, shown in others)
    lead = ", ".join(links)
    return f"{lead} ({details})" if lead and details else lead or details


def _only_here(rows: list[str]) -> str:
    """Child rows one side has and the other has not, at most NAMED of them by name."""
    if not rows:
        return "—"
    rows = sorted(rows)
    named = ", ".join(rows[:NAMED])
    rest = len(rows) - NAMED
    if rest > 0:
        named = ngettext("%(named)s and %(count)d more", "%(named)s and %(count)d more", rest) % {
            "named": named, "count": rest}
    return _("only here: %(rows)s") % {"rows": named}


def _differences(entity: Entity, bcp_values: tuple, primary_values: tuple, bcp_children: dict,
                 primary_children: dict, names: dict) -> list[tuple[str, str, str]]:
    """What differs between the BCP tenant's record and the primary's (both in primary ids): the fields (a hidden
    one, a password, only as different), then one line per kind of child rows that differ, naming the rows only
    one side has (a few, then how many more)."""
    found = []
    for column, mine, theirs in zip(entity.columns, bcp_values, primary_values, strict=True):
        if mine == theirs:
            continue
        label = str(capfirst(_verbose(entity.model, column) or column))
        if column in entity.hidden:
            found.append((label, _("different (not shown)"), _("different (not shown)")))
            continue
        shown = (_shown(entity, column, mine, names), _shown(entity, column, theirs, names))
        if None not in shown:
            found.append((label, *shown))
    for child in entity.children:
        mine, theirs = bcp_children.get(child.key, []), primary_children.get(child.key, [])
        only_mine, only_theirs = _rows_only_in(mine, theirs), _rows_only_in(theirs, mine)
        if only_mine or only_theirs:
            found.append((str(capfirst(child.heading)),
                          _only_here([_child_row(child, row, names) for row in only_mine]),
                          _only_here([_child_row(child, row, names) for row in only_theirs])))
    return found


def _rows_only_in(rows: list[tuple], others: list[tuple]) -> list[tuple]:
    """The rows of `rows` that `others` has not (as many times), compared as the hash compares them (repr: a JSON
    value is no key)."""
    left = Counter(repr(row) for row in others)
    found = []
    for row in rows:
        key = repr(row)
        if left[key]:
            left[key] -= 1
        else:
            found.append(row)
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
        correlations = {source: (target, digest) for source, target, digest in Correlation.objects.filter(
            mapping=mapping, entity_type=entity.key).values_list("source_id", "target_id", "content_hash")}
        copies = {target for target, _digest in correlations.values()}
        rows = entity.read(bcp)
        names[entity.key] = {pk: entity.describe(values) for pk, values in rows.items()}
        made = entity.queryset(bcp).filter(**{f"{entity.created_field}__gte": since})
        if entity.fixed:
            # A copy made there (an account given to a person of the primary whose correlation a crash lost) is the
            # primary's person: the next forward run adopts it. Only what someone created there is listed.
            made = made.exclude(**entity.fixed)
        new_ids = set(made.values_list("pk", flat=True)) - copies
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
        elsewhere = entity.taken_elsewhere({
            item.key: (item.values, {item.bcp_id, item.primary_id}) for item in type_items
            if item.kind != DELETED and not item.blocked})
        for item in type_items:
            if item.key in elsewhere:
                item.blocked = _("Someone else on the platform has the username “%(name)s”: a username names one "
                                 "person everywhere, because everyone signs in on the same page.") % {
                    "name": item.name}
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
    Refused, with nothing written, if the list is not the one behind `token` or a choice is missing or wrong.
    Commits by itself: never call it inside a transaction of the control plane."""
    with transaction.atomic(using=CONTROL):
        # The pair's lock, held until the control plane commits: after the primary's region, before the correlations.
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
        failpoints.failpoint("carryback:control")  # the primary's region committed, the control plane not yet
    failpoints.failpoint("carryback:between")
    with transaction.atomic(using=CONTROL):
        BcpMapping.objects.locked().filter(pk=mapping.pk).values_list("pk").first()
        _finish(mapping, intent)
    return result


def _in_control(entity: Entity, tenant_id) -> bool:
    """The type's own rows are in the control plane (roles, users)."""
    return entity.db(tenant_id) == CONTROL


def _split(entity: Entity, tenant_id) -> bool:
    """The type's rows are in the control plane and its child rows in the tenant's region (a user and its agent
    settings): a record is written in both, with an audit row in each."""
    return _in_control(entity, tenant_id) and any(db_for(child.model, tenant_id) != CONTROL
                                                  for child in entity.children)


def _write_primary(mapping: BcpMapping, carried: list[Item], *, intent: CarryBack, actor: Actor) -> None:
    """The primary's writes: created records inserted (links to records created on the BCP tenant remapped to their
    new ids), edited ones overwritten, deleted ones deleted; one audit row per record in the database of its row,
    and for a user one more in the region for its agent settings. The region's transaction commits here; the
    control plane's writes are in the caller's transaction (which holds the pair's lock) and commit with it."""
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
        databases = [item.entity.db(primary)]
        if _split(item.entity, primary):
            databases.append(alias)
        for using in databases:
            obj = item.entity.model(pk=primary_id, tenant_id=primary, **{item.entity.describe_field: item.name})
            obj._state.db = using
            part = {"part": REGION_PART} if using != databases[0] else {}
            audit_record(action=AUDIT_ACTION, by=actor, tenant=mapping.primary, obj=obj, using=using,
                         changes={"carry_back": intent.pk, "type": item.entity.key, "kind": item.kind,
                                  "bcp_id": item.bcp_id, "primary_id": primary_id, "hash": digest,
                                  "name": item.name, "primary_state": item.primary_state, **part})

    # Savepoints in the control plane's transaction, so that a refusal (IntegrityError) leaves it usable.
    with transaction.atomic(using=alias), transaction.atomic(using=CONTROL):
        for entity in ENTITIES:
            mine = [item for item in carried if item.entity.key == entity.key and item.kind != DELETED]
            # The accounts made on the BCP tenant become copies before the primary's people take their usernames.
            entity.mark_copies(mapping.secondary_id, [item.bcp_id for item in mine if item.kind == CREATED])
            for item in mine:
                values = remap(entity.columns, entity.links, item.values)
                children = {child.key: [remap(child.columns, child.links, row) for row in item.children[child.key]]
                            for child in entity.children}
                if item.kind == CREATED:
                    (primary_id,) = entity.create(primary, [values], own=True)
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
            entity.delete(primary, [item.primary_id for item in gone], own=True)
            for item in gone:
                Deletion.objects.using(alias).create(tenant_id=primary, entity_type=entity.key,
                                                     object_id=item.primary_id, natural_key=item.name[:255])
                audit(item, item.primary_id, "")
        failpoints.failpoint("carryback:primary")  # a crash here rolls both back


def _audit_rows(mapping: BcpMapping, intent: CarryBack, using: str):
    return AuditEvent.objects.using(using).filter(action=AUDIT_ACTION, tenant_id=mapping.primary_id,
                                                  changes__carry_back=intent.pk)


def _expects_control(intent: CarryBack, tenant_id) -> bool:
    """Whether the carry-back wrote roles or users, which have their audit rows in the control plane."""
    kinds = {key.split(":", 1)[0] for key in intent.items}
    return any(_in_control(BY_KEY[kind], tenant_id) for kind in kinds if kind in BY_KEY)


def _finish(mapping: BcpMapping, intent: CarryBack) -> None:
    """The backup's transaction, from the primary's audit rows of the carry-back: the correlations, and the
    carry-back done. Runs after the primary's databases committed (both, or after a crash only the region's: see
    the module's docstring), under the pair's lock; a carry-back finished already is left alone."""
    backup = intent._state.db or alias_for_mapping(mapping)
    if not CarryBack.objects.using(backup).filter(pk=intent.pk, status=CarryBack.Status.PENDING).exists():
        return
    primary = mapping.primary_id
    region = alias_for_tenant(primary)
    in_region = list(_audit_rows(mapping, intent, region).values_list("changes", flat=True))
    in_control = list(_audit_rows(mapping, intent, CONTROL).values_list("changes", flat=True))
    # No control-plane rows where some were due: a crash came between the region's commit and the control plane's.
    complete = bool(in_control) or not _expects_control(intent, primary)
    hashes = {}  # (type, primary id) -> the hash a half-written user's correlation takes
    if not complete:
        hashes = _undo_half_written(mapping, intent, [change for change in in_region if change.get("part")])
    now = timezone.now()
    with transaction.atomic(using=backup):
        correlations = Correlation.objects.using(backup)
        for (key, primary_id), digest in hashes.items():
            correlations.filter(mapping_id=mapping.pk, entity_type=key, source_id=primary_id).update(
                content_hash=digest, synced_at=now)
        for change in [*in_region, *in_control]:
            if change.get("part"):
                continue  # a user's agent settings: its correlation follows its row in the control plane
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


def _undo_half_written(mapping: BcpMapping, intent: CarryBack, parts: list[dict]) -> dict[tuple[str, int], str]:
    """After a crash between the region's commit and the control plane's: the records written in both (users) have
    only their region's part on the primary. A created one's is deleted again (its row was never written); an edited
    or deleted one keeps it, and its correlation takes the primary's record as it is now (returned: {(type, primary
    id): hash}), so that the listing offers it again with what is still missing."""
    primary = mapping.primary_id
    region = alias_for_tenant(primary)
    hashes = {}
    with transaction.atomic(using=region):
        for change in parts:
            entity, primary_id = BY_KEY[change["type"]], change["primary_id"]
            exists = entity.queryset(primary).filter(pk=primary_id).exists()
            if change["kind"] == CREATED:
                if not exists:
                    for child in entity.children:
                        if db_for(child.model, primary) == region:
                            child.delete_for(primary, [primary_id])
                continue
            if change["kind"] == DELETED:
                Deletion.objects.using(region).filter(tenant_id=primary, entity_type=entity.key,
                                                      object_id=primary_id, deleted_at__gte=intent.started_at).delete()
            if exists:
                values = entity.read(primary, [primary_id])[primary_id]
                children = {child.key: child.read(primary, [primary_id]).get(primary_id, [])
                            for child in entity.children}
                hashes[(entity.key, primary_id)] = content_hash(values, children)
    return hashes


def carry_back_repair(*, mapping: BcpMapping) -> int:
    """Finishes or drops the pair's carry-backs left pending by a crash: one whose records reached the primary
    (its audit rows are there, in its region or the control plane) gets its correlations; one whose did not is
    dropped. Returns how many it found."""
    backup = alias_for_mapping(mapping)
    pending = list(CarryBack.objects.using(backup).filter(mapping_id=mapping.pk, status=CarryBack.Status.PENDING))
    if not pending:
        return 0
    with transaction.atomic(using=CONTROL):
        BcpMapping.objects.locked().filter(pk=mapping.pk).values_list("pk").first()
        primary = alias_for_tenant(mapping.primary_id)
        for intent in pending:
            written = (_audit_rows(mapping, intent, primary).exists()
                       or _audit_rows(mapping, intent, CONTROL).exists())
            if written:
                _finish(mapping, intent)
            else:
                CarryBack.objects.using(backup).filter(pk=intent.pk, status=CarryBack.Status.PENDING).update(
                    status=CarryBack.Status.DROPPED, finished_at=timezone.now())
    return len(pending)
