"""The routing cache of this test process, emptied without touching another's."""

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def clear_routing_cache() -> None:
    """Deletes this process's keys of the routing cache. Django's RedisCache.clear() empties the whole Redis
    database (FLUSHDB), which the other pytest-xdist worker shares: its cached epochs and pair messages would vanish
    in the middle of a test, and a page whose queries it counts would make a query or two more or fewer. Each
    test process's keys have a prefix of their own (bcp_project/settings_test.py)."""
    cache = caches["routing"]
    if not isinstance(cache, RedisCache):
        cache.clear()
        return
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
