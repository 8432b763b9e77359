"""Whether each region's database answers: the down-marker every process sees (docs/architecture.md, "When a region
does not answer").

A region is marked down when connecting to it fails or a round trip runs past the deadline (the region backends,
bcp_project.regions.backends), by the probe (every few seconds, from beat), or by a person for a drill
(`manage.py region down`). While it is marked down nothing touches it: the router and the region backends refuse
at once with RegionNotAnswering, which names the region.

Where the marker lives: in the control plane (`RegionHealth`, durable, with since-when, what BC Enablement shows)
and, when Redis is there, in the "regions" cache, which every process reads. Without Redis each process reads the
control plane, at most once a second per region (the local memo). A mark that the probe does not refresh ages out
after REGION_DOWN_TTL: with no probe running, a region is tried again now and then rather than refused forever;
a mark forced by a person never ages out.
"""

from __future__ import annotations

import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.db import OperationalError, connections, transaction
from django.db.utils import load_backend
from django.utils import timezone

from . import CONTROL, RegionUnavailable, aliases
from .deadline import within

logger = logging.getLogger(__name__)

CACHE_ALIAS = "regions"
MEMO_SECONDS = 1.0  # how stale a process's own view of the marker may be


class RegionNotAnswering(RegionUnavailable, OperationalError):
    """Raised instead of touching a region that is down. Also a database error, so that Django's own clean-up
    (rolling back, closing the connection) runs as for any other, and code that handles database errors handles
    this one."""


@dataclass(frozen=True)
class RegionState:
    alias: str
    answering: bool = True
    down_since: datetime | None = None
    checked_at: datetime | None = None
    reason: str = ""
    forced: bool = False

    def as_entry(self) -> dict:
        return {"answering": self.answering, "down_since": self.down_since, "checked_at": self.checked_at,
                "reason": self.reason, "forced": self.forced}

    @property
    def is_down(self) -> bool:
        """Down, as far as requests go: forced down, or found down recently enough (the probe refreshes it)."""
        if self.answering:
            return False
        if self.forced or self.checked_at is None:
            return True
        return timezone.now() - self.checked_at < timedelta(seconds=settings.REGION_DOWN_TTL)


_memo: dict[str, tuple[float, bool]] = {}  # alias -> (monotonic expiry, down)
# Marks made inside a transaction of the control plane would be rolled back with it: written when it is over.
_pending: dict[str, RegionState] = {}


def _model():
    return apps.get_model("bcp_project", "RegionHealth")


def _shared_cache():
    """The cache every process reads, or None without one (no Redis)."""
    cache = caches[CACHE_ALIAS]
    return None if isinstance(cache, DummyCache) else cache


def _key(alias: str) -> str:
    return f"region-health:{alias}"


def _state_from_row(alias: str, row) -> RegionState:
    if row is None:
        return RegionState(alias=alias)
    return RegionState(alias=alias, answering=row.answering, down_since=row.down_since, checked_at=row.checked_at,
                       reason=row.reason, forced=row.forced)


# --- reading ---------------------------------------------------------------------------------------------------


def state(alias: str) -> RegionState:
    """The region's health as the control plane records it (with since-when), or as this process has just found
    it when that is not written yet."""
    if alias in _pending:
        return _pending[alias]
    row = _model().objects.using(CONTROL).filter(code=alias).first()
    return _state_from_row(alias, row)


def states() -> list[RegionState]:
    rows = {row.code: row for row in _model().objects.using(CONTROL).filter(code__in=aliases())}
    return [_pending.get(alias) or _state_from_row(alias, rows.get(alias)) for alias in aliases()]


def _read_marker(alias: str) -> bool:
    cache = _shared_cache()
    if cache is not None:
        try:
            entry = cache.get(_key(alias))
        except Exception:  # noqa: BLE001 - Redis not answering: the control plane says it
            logger.warning("region health: the cache does not answer; reading the control plane", exc_info=True)
        else:
            return entry is not None and RegionState(alias=alias, **entry).is_down
    try:
        return state(alias).is_down
    except Exception:  # noqa: BLE001 - the marker only saves time: when it cannot be read, the region is tried
        return False


def is_down(alias: str) -> bool:
    """Cheap enough for every query: this process's memo, else the shared cache, else the control plane."""
    now = time.monotonic()
    memo = _memo.get(alias)
    if memo is not None and memo[0] > now:
        return memo[1]
    down = _read_marker(alias)
    _memo[alias] = (now + MEMO_SECONDS, down)
    return down


def ensure_answering(alias: str) -> None:
    """Raises RegionNotAnswering when the region is marked down, so that it is not touched."""
    if is_down(alias):
        raise RegionNotAnswering(alias)


# --- writing ---------------------------------------------------------------------------------------------------


def _in_transaction_of_control_plane() -> bool:
    # A test's own transaction is not one: a test runs as if in autocommit.
    return any(not getattr(block, "_from_testcase", False) for block in connections[CONTROL].atomic_blocks)


def _publish(new: RegionState) -> None:
    _memo[new.alias] = (time.monotonic() + MEMO_SECONDS, new.is_down)
    cache = _shared_cache()
    if cache is not None:
        try:
            cache.set(_key(new.alias), new.as_entry(), timeout=None)
        except Exception:  # noqa: BLE001 - the control plane has it; processes read it there meanwhile
            logger.warning("region health: could not write the cache", exc_info=True)


def _store(alias: str, *, answering: bool, reason: str = "", forced: bool | None = None,
           leave_forced: bool = False) -> RegionState:
    """Writes the region's health to the control plane and publishes it. `forced` None keeps the forced flag;
    `leave_forced` (the probe) changes nothing on a region a person forced down."""
    now = timezone.now()
    Model = _model()
    with transaction.atomic(using=CONTROL):
        Model.objects.using(CONTROL).get_or_create(code=alias, defaults={"checked_at": now})
        row = Model.objects.using(CONTROL).select_for_update().get(code=alias)
        if leave_forced and row.forced:
            return _state_from_row(alias, row)
        if answering != row.answering or (forced and not row.forced):
            logger.warning("region %s %s%s%s", alias, "answers again" if answering else "marked down",
                           " (forced)" if forced else "", "" if answering else f": {reason}")
        if answering:
            row.answering, row.down_since, row.reason, row.forced = True, None, "", False
        else:
            row.down_since = row.down_since if not row.answering else now
            row.answering, row.reason = False, reason[:300]
            row.forced = row.forced if forced is None else forced
        row.checked_at = now
        row.save()
    new = _state_from_row(alias, row)
    _pending.pop(alias, None)
    _publish(new)
    return new


def mark_down(alias: str, reason: str, *, forced: bool = False) -> RegionState:
    """Marks the region down (since the first time it was found down). Inside a transaction of the control plane
    the mark takes effect at once in this process and the shared cache, and is written to the control plane when
    that transaction is over (flush_pending) or by the probe, whichever comes first."""
    if forced or not _in_transaction_of_control_plane():
        try:
            return _store(alias, answering=False, reason=reason, forced=True if forced else None)
        except Exception:  # noqa: BLE001 - the control plane not answering must not hide the region's failure
            if forced:
                raise
            logger.warning("region health: could not write the control plane", exc_info=True)
    earlier = _pending.get(alias)
    if earlier is None:
        logger.warning("region %s marked down: %s", alias, reason)
    since = earlier.down_since if earlier is not None else timezone.now()
    new = RegionState(alias=alias, answering=False, down_since=since, checked_at=timezone.now(), reason=reason)
    _pending[alias] = new
    _publish(new)
    return new


def mark_up(alias: str, *, unforce: bool = True) -> RegionState:
    """Marks the region answering. `unforce=False` (the probe) leaves a region a person forced down as it is."""
    _pending.pop(alias, None)
    return _store(alias, answering=True, leave_forced=not unforce)


def flush_pending() -> None:
    """Writes the marks made inside a transaction of the control plane, once outside one."""
    if not _pending or _in_transaction_of_control_plane():
        return
    for alias, pending in list(_pending.items()):
        try:
            _store(alias, answering=False, reason=pending.reason)
        except Exception:  # noqa: BLE001 - the probe writes it later
            logger.warning("region health: could not write the control plane", exc_info=True)


def forget() -> None:
    """Forgets this process's memo, pending marks and the shared cache's entries (tests, and after a drill)."""
    known = {*settings.DATABASES, *_memo, *_pending}
    _memo.clear()
    _pending.clear()
    cache = _shared_cache()
    if cache is not None:
        try:
            cache.delete_many([_key(alias) for alias in known])
        except Exception:  # noqa: BLE001 - a cache that does not answer has nothing to forget
            logger.warning("region health: could not clear the cache", exc_info=True)


# --- the probe -------------------------------------------------------------------------------------------------


def describe(exc) -> str:
    """One line for the log and the control plane: the error's class and its first line."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]


def _settings_of(alias: str) -> dict:
    if alias in connections.settings:
        return connections.settings[alias]
    return connections[alias].settings_dict  # a connection made at run time (the tests' own servers)


def probe(alias: str, settings_dict: dict | None = None) -> str:
    """Tries the region with a fresh connection and `SELECT 1`, bounded by REGION_PROBE_TIMEOUT whichever way it
    is gone. Returns "" when it answers, else the reason. Touches the region even when it is marked down (that is
    what it is for), and marks nothing itself."""
    timeout = settings.REGION_PROBE_TIMEOUT
    settings_dict = dict(settings_dict or _settings_of(alias))
    if "sqlite3" not in settings_dict["ENGINE"]:
        # libpq's connect_timeout has a floor of 2 s.
        settings_dict["OPTIONS"] = {**settings_dict.get("OPTIONS", {}), "connect_timeout": max(2, int(timeout))}
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    wrapper.probing = True
    try:
        with within(timeout), wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure is "down", and the reason is recorded
        return describe(exc)
    finally:
        with contextlib.suppress(Exception):  # a connection that never opened, or broke, closes as it can
            wrapper.close()
    return ""


def probe_all() -> dict[str, str]:
    """Probes every region at once (a hung one does not delay the others) and marks each up or down, except a
    region forced down by a person. Returns alias -> reason ("" when answering)."""
    flush_pending()
    names = aliases()
    with ThreadPoolExecutor(max_workers=max(1, len(names)), thread_name_prefix="region-probe") as pool:
        results = dict(zip(names, pool.map(probe, names, [_settings_of(alias) for alias in names]), strict=True))
    for alias, reason in results.items():
        if reason:
            current = state(alias)
            if not current.forced:
                mark_down(alias, reason)
        else:
            mark_up(alias, unforce=False)
    return results
