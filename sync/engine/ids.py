"""Primary ids and BCP ids: the correlation maps of a run, the translation of a row's links from one tenant's ids
to the other's, and the hash of a row expressed in primary ids."""

import hashlib
from collections.abc import Callable

from bcp_project.regions import alias_for_mapping

from ..models import Correlation
from .prepared import Read


def content_hash(values: tuple, children: dict[str, list[tuple]]) -> str:
    """The hash of a record's values and its child rows (in any order: they are sorted by their text first)."""
    payload = repr((values, tuple((key, sorted(rows, key=repr) if len(rows) > 1 else list(rows))
                                  for key, rows in sorted(children.items()))))
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


# Every correlation of a type of the pair: primary id, BCP id (compiled once, prepared.py).
_ALL_OF_TYPE = Read(lambda using, mapping, kind: Correlation.objects.using(using).filter(
    mapping_id=mapping, entity_type=kind).values_list("source_id", "target_id").order_by())


class _Maps(dict):
    """Correlation maps per entity type, loaded from the database the first time a type is asked for."""

    def __init__(self, load: Callable[[str], None]):
        super().__init__()
        self._load = load

    def __missing__(self, kind: str) -> dict[int, int]:
        self._load(kind)
        return dict.__getitem__(self, kind)


class IdMaps:
    """primary id -> BCP id (`forward`) and back (`reverse`), per type, loaded when a run first needs a type's
    links; links to a type that is not part of the run still resolve through its correlations."""

    def __init__(self, mapping):
        self.mapping = mapping
        self.forward: dict[str, dict[int, int]] = _Maps(self._load)
        self.reverse: dict[str, dict[int, int]] = _Maps(self._load)
        self._link_positions: dict[tuple[int, int], list[tuple[int, str]]] = {}

    def _load(self, key: str) -> None:
        if key not in self.forward:
            # Fetched at once (a map of every correlation of the type is kept anyway), not through a server-side
            # cursor, whose DECLARE, FETCH and CLOSE cost more than reading a few thousand pairs.
            forward = dict(_ALL_OF_TYPE.rows(alias_for_mapping(self.mapping), mapping=self.mapping.pk, kind=key))
            dict.__setitem__(self.forward, key, forward)
            dict.__setitem__(self.reverse, key, {target: source for source, target in forward.items()})

    def remember(self, key: str, pairs) -> None:
        """New correlations, in the maps already loaded (one loaded later reads them from the database)."""
        if key in self.forward:
            for pk, target_id in pairs:
                self.forward[key][pk] = target_id
                self.reverse[key][target_id] = pk

    def forget(self, key: str, pairs) -> None:
        """Correlations deleted with their copies."""
        if key in self.forward:
            for pk, target_id in pairs:
                self.forward[key].pop(pk, None)
                self.reverse[key].pop(target_id, None)

    def _positions(self, columns: tuple[str, ...], links: dict[str, str]) -> list[tuple[int, str]]:
        """(index, linked type) of the link columns: a row's other columns are left alone without a look."""
        key = (id(links), len(columns))
        found = self._link_positions.get(key)
        if found is None:
            found = self._link_positions[key] = [(index, links[column]) for index, column in enumerate(columns)
                                                 if column in links]
        return found

    def to_source(self, columns: tuple[str, ...], links: dict[str, str], values: tuple) -> tuple:
        """A BCP row's values with its links in primary ids; ("bcp", id) for a link to an uncorrelated record."""
        if not links:
            return values
        out = list(values)
        for index, kind in self._positions(columns, links):
            value = out[index]
            if value is not None:
                out[index] = self.reverse[kind].get(value, ("bcp", value))
        return tuple(out)

    def to_target(self, columns: tuple[str, ...], links: dict[str, str], values: tuple):
        """(values in BCP ids, None) or (None, (entity type, primary id) of the first link not on the BCP tenant)."""
        if not links:
            return values, None
        out = list(values)
        for index, kind in self._positions(columns, links):
            value = out[index]
            if value is not None:
                target = self.forward[kind].get(value)
                if target is None:
                    return None, (kind, value)
                out[index] = target
        return tuple(out), None

    def children_to_source(self, entity, children: dict[str, dict[int, list[tuple]]], pk, kinds=None) -> dict:
        """A BCP record's child rows (`children`: per child key, per parent id) with their links in primary ids: of
        every child of the type, or of these `kinds`."""
        out = {}
        for child in entity.children if kinds is None else kinds:
            rows = children[child.key].get(pk)
            if not rows:
                out[child.key] = []
                continue
            positions = [(index, self.reverse[kind]) for index, kind in self._positions(child.columns, child.links)]
            if not positions:
                out[child.key] = list(rows)
                continue
            translated = []
            for row in rows:
                row = list(row)
                for index, reverse in positions:
                    value = row[index]
                    if value is not None:
                        row[index] = reverse.get(value, ("bcp", value))
                translated.append(tuple(row))
            out[child.key] = translated
        return out
