"""Helpers for tests that point Celery at a queue or broker folder of their own, then put it back."""

import socket
from contextlib import contextmanager

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


@contextmanager
def broker_down():
    """Celery pointed at a Redis address where nothing listens (a port just freed on this machine): every
    `delay()` fails to connect, at once, as when the broker is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = {name: app.conf[name] for name in ("broker_url", "broker_transport_options", "broker_write_url")}
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    app.conf.broker_write_url = None
    app.conf.broker_transport_options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    reset_producer_pools()
    try:
        yield
    finally:
        for name, value in saved.items():
            app.conf[name] = value
        reset_producer_pools()
