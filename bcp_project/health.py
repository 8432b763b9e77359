"""Checks behind /healthz: what a monitoring system needs to know, each with a short reason."""

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import Heartbeat
from .regions import health as region_health


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down", and the reason is reported
        return False, type(exc).__name__
    return True, "ok"


# Every step of the broker check is bounded: a broker that accepts the connection but never answers
# must make /healthz say "down" quickly, not hang the monitoring system's request.
BROKER_CHECK_TIMEOUT_SECONDS = 1.0


def check_broker() -> tuple[bool, str]:
    from .celery import app

    timeout = BROKER_CHECK_TIMEOUT_SECONDS
    socket_timeouts = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    try:
        with app.connection_for_write(connect_timeout=timeout, transport_options=socket_timeouts) as conn:
            conn.ensure_connection(max_retries=0, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return False, type(exc).__name__
    return True, "ok"


def heartbeat_age_seconds() -> float | None:
    try:
        beat = Heartbeat.objects.filter(name="celery").only("beat_at").first()
    except Exception:  # noqa: BLE001 - the database check reports the cause
        return None
    if beat is None:
        return None
    return (timezone.now() - beat.beat_at).total_seconds()


def region_report() -> dict:
    """Each region's database as the probe (or a drill) last marked it. A region down does not make the web "down":
    the other regions and the control plane still serve, and BC Enablement is how a tenant carries on."""
    try:
        states = region_health.states()
    except Exception as exc:  # noqa: BLE001 - the database check reports the cause
        return {"error": type(exc).__name__}
    # Anyone may read /healthz: the detail is the error's class, never its message (which names hosts).
    return {s.alias: {"ok": not s.is_down, "detail": ("forced" if s.forced else s.reason.split(":", 1)[0]) or "ok",
                      "forced": s.forced,
                      "down_since": s.down_since.isoformat() if s.down_since else None} for s in states}


def health_report() -> tuple[bool, dict]:
    db_ok, db_detail = check_database()
    broker_ok, broker_detail = check_broker()
    age = heartbeat_age_seconds()
    beat_ok = age is not None and age <= settings.HEARTBEAT_MAX_AGE.total_seconds()
    report = {
        "status": "ok" if (db_ok and broker_ok and beat_ok) else "down",
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
        "heartbeat": {
            "ok": beat_ok,
            "age_seconds": None if age is None else round(age, 1),
            "max_age_seconds": settings.HEARTBEAT_MAX_AGE.total_seconds(),
        },
        "regions": region_report(),
    }
    return report["status"] == "ok", report
