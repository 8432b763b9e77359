"""The registry of the types the sync copies: one dict keyed by each model's ENTITY_TYPE, in dependency order.

The sync's own types (catalogue.py) are registered when this module is first imported; an app above the sync
(the continuity plan) registers its types from its AppConfig.ready(). `BY_KEY` is the registry; `ENTITIES`
and `ALL_KEYS` are live views of it, so a module that imported them sees every type registered later. Whoever
must act on every type, including those registered later (the continuous mode's signal receivers), subscribes
with on_register(): the registry itself connects no signals.
"""

from collections.abc import Callable, Iterable

from django.core.exceptions import FieldDoesNotExist

from .catalogue import CONTACT_CENTER
from .types import Entity

BY_KEY: dict[str, Entity] = {}
ENTITIES = BY_KEY.values()
ALL_KEYS = BY_KEY.keys()

_subscribers: list[Callable[[Entity], None]] = []


def register(entity: Entity) -> None:
    """Adds a type after the types it links to. Registering a key again changes nothing."""
    if entity.key in BY_KEY:
        return
    unknown = entity.depends_on - set(BY_KEY)
    if unknown:
        raise ValueError(f"sync type {entity.key!r} links to types not registered before it: {sorted(unknown)}")
    if entity.compares_in_sql and _json_columns(entity):
        raise ValueError(f"sync type {entity.key!r} has JSON columns {_json_columns(entity)}, which PostgreSQL "
                         "cannot compare: declare it with compares_in_sql=False")
    BY_KEY[entity.key] = entity
    for subscriber in _subscribers:
        subscriber(entity)


def on_register(subscriber: Callable[[Entity], None]) -> None:
    """Calls subscriber(type) for every registered type, now and whenever one is registered later."""
    _subscribers.append(subscriber)
    for entity in list(ENTITIES):
        subscriber(entity)


def selected_keys(*, custom: bool, chosen: Iterable[str]) -> list[str]:
    """The types a sync copies: with a custom selection the chosen ones that are registered, otherwise all; in
    dependency order either way."""
    if not custom:
        return list(ALL_KEYS)
    chosen = set(chosen)
    return [key for key in ALL_KEYS if key in chosen]


def missing_dependencies(keys: Iterable[str]) -> dict[str, set[str]]:
    """For a custom selection: {chosen type: the types it needs that are not chosen}."""
    chosen = set(keys)
    return {key: BY_KEY[key].depends_on - chosen for key in ALL_KEYS
            if key in chosen and BY_KEY[key].depends_on - chosen}


def entity_choices() -> list[tuple[str, object]]:
    return [(entity.key, entity.label) for entity in ENTITIES]


def _json_columns(entity: Entity) -> list[str]:
    found = []
    for part in (entity, *entity.children):
        for name in part.columns:
            try:
                model_field = part.model._meta.get_field(name)
            except FieldDoesNotExist:  # a lookup across a relation (permission__codename)
                continue
            if model_field.get_internal_type() == "JSONField":
                found.append(name)
    return found


for _entity in CONTACT_CENTER:
    register(_entity)
