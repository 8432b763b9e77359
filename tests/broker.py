"""Helpers for tests that point Celery at a queue or broker folder of their own, then put it back."""

import socket
from contextlib import contextmanager

from kombu import Exchange, Queue, pools

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


@contextmanager
def own_queue(tmp_path, name: str, tasks=("sync.run",)):
    """`tasks` go to queue `name` of the test's own, so that another worker on the same Redis (a `make run`, a
    second CI run) can neither take the test's messages nor hand it one; the filesystem broker also gets a folder
    of its own. The queue is deleted afterwards."""
    original_routes, original_options = app.conf.task_routes, app.conf.broker_transport_options
    app.conf.task_routes = {task: {"queue": name} for task in tasks}
    filesystem = app.conf.broker_url.startswith("filesystem")
    if filesystem:
        folder = tmp_path / "broker"
        for sub in ("processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        app.conf.broker_transport_options = {
            **original_options, "data_folder_in": str(folder), "data_folder_out": str(folder),
            "processed_folder": str(folder / "processed"), "control_folder": str(folder / "control"),
        }
    forget_routing()
    try:
        yield name
    finally:
        if not filesystem:
            with app.connection_for_write() as conn:
                bound = Queue(name, Exchange(name), routing_key=name)(conn.default_channel)
                bound.declare()
                bound.delete()
        app.conf.task_routes, app.conf.broker_transport_options = original_routes, original_options
        forget_routing()


def take_messages(name: str) -> list[tuple[str, tuple]]:
    """Every message waiting in queue `name`, taken off it: (task name, args), oldest first. The test then does
    what a worker would, when it chooses (a message's countdown is the test's to honour)."""
    taken = []
    with app.connection_for_read() as conn, conn.SimpleQueue(name, no_ack=False) as queue:
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                return taken
            args, _kwargs, _embed = message.decode()
            taken.append((message.headers["task"], tuple(args)))
            message.ack()
