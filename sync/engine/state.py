"""What one run knows and reports while it goes: the pair of tenants, the id maps, the primary's names of the
records it read (for messages), the counts per type and the errors, saved on the run as its progress."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from ..models import SyncRun
from .ids import IdMaps
from .registry import BY_KEY
from .types import Entity


@dataclass
class TypeCounts:
    total: int = 0
    done: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class RunState:
    def __init__(self, run: SyncRun, *, keys: list[str], full: bool = False,
                 on_progress: Callable[[SyncRun], None] | None = None):
        self.run = run
        self.mapping = run.mapping
        self.source_tenant = self.mapping.primary_id
        self.target_tenant = self.mapping.secondary_id
        self.full = full
        self.ids = IdMaps(self.mapping)
        self.names: dict[str, dict[int, str]] = {}
        self.counts = {key: TypeCounts() for key in keys}
        self.errors: list[dict] = []
        self.on_progress = on_progress

    def error(self, code: str, entity: Entity, **params) -> None:
        self.errors.append({"code": code, "type": entity.key, **params})

    def name(self, key: str, pk: int) -> str:
        """A primary record's name for a message: from this run's reads, or read now."""
        known = self.names.setdefault(key, {})
        if pk not in known:
            values = BY_KEY[key].read(self.source_tenant, [pk]).get(pk) if key in BY_KEY else None
            known[pk] = BY_KEY[key].describe(values) if values else str(pk)
        return known[pk]

    def save_progress(self, current: str = "") -> None:
        run = self.run
        run.counts = {key: counts.as_dict() for key, counts in self.counts.items()}
        run.current_type = current
        run.heartbeat_at = timezone.now()
        SyncRun.objects.filter(pk=run.pk).update(counts=run.counts, current_type=current,
                                                 heartbeat_at=run.heartbeat_at)
        if self.on_progress is not None:
            self.on_progress(run)
