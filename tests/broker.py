"""Helpers for tests that point Celery at a queue or broker folder of their own, then put it back."""

from kombu import pools

from bcp_project.celery import app


def reset_producer_pools():
    """Close every pooled broker connection and forget the pools, so that the next `delay()` connects with the
    configuration of the moment.

    Celery's connection pool is kombu's process-wide pool for that broker: closing it without removing it from
    kombu's registry would leave a closed pool behind that every later `delay()` fails on ("Acquire on closed
    pool"). `kombu.pools.reset()` closes and removes them together."""
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def forget_routing():
    """Celery caches its queues, exchange, router and producers on first use; drop them so that the next
    `delay()` and the next worker read `task_default_queue` and `task_routes` again."""
    for name in ("queues", "default_queue", "default_exchange", "router", "send_task_message"):
        app.amqp.__dict__.pop(name, None)
    app.amqp._rtable = None
    reset_producer_pools()
