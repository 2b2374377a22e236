"""Celery bound to the Flask app (the pattern of Flask's own Celery example).

``create_app`` calls ``celery_init_app`` so that the web process can queue
tasks; ``celery_worker.py`` exposes the same Celery app to the worker and beat.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask, current_app

_LOGGER = logging.getLogger(__name__)


def broker_url(redis_url: str) -> str:
    """``REDIS_URL`` as kombu spells it: a unix socket is ``redis+socket:///path``."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url[len("unix://"):]
    return redis_url


def limiter_url(redis_url: str) -> str:
    """``REDIS_URL`` as the rate limiter (limits) spells it: ``redis+unix:///path``."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


class BrokerCircuit:
    """After the broker fails, skip it for a while: one slow connect per outage, not one per
    click. One per app (so per process in production, per test in the tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until = 0.0

    def is_open(self) -> bool:
        with self._lock:
            return time.monotonic() < self._open_until

    def trip(self, seconds: float) -> None:
        with self._lock:
            self._open_until = time.monotonic() + seconds

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0


def send(task_name: str, *args: Any) -> bool:
    """Hand a task to the worker by name after commit; False if there is no broker or it is
    down (the caller's periodic sweep then does the work). Named, not imported, so that a
    lower package never imports ``workflow.tasks``."""
    config = current_app.config
    if not config.get("REDIS_URL"):
        return False
    circuit: BrokerCircuit = current_app.extensions["broker_circuit"]
    if circuit.is_open():
        return False
    try:
        current_app.extensions["celery"].send_task(task_name, args=list(args))
    except Exception:  # noqa: BLE001 - any broker failure: the sweep picks it up
        circuit.trip(float(config["BROKER_CIRCUIT_SECONDS"]))
        _LOGGER.warning("broker unavailable; %s left for the sweep", task_name, exc_info=True)
        return False
    circuit.reset()
    return True


def celery_init_app(app: Flask) -> Celery:
    """A Celery app whose tasks run inside ``app``'s context, with Redis from ``REDIS_URL``."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    config = app.config
    broker = broker_url(config.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=broker,
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        # Acknowledge a task only once it has run, and hand it back if its worker dies;
        # the outbox claim makes the second run harmless.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Publishing must not hold up a signer's click when Redis is down: fail fast,
        # the periodic sweep sends what could not be queued.
        task_publish_retry=False,
        broker_connection_timeout=float(config["BROKER_CONNECT_TIMEOUT"]),
        broker_transport_options={
            "socket_connect_timeout": float(config["BROKER_CONNECT_TIMEOUT"]),
            "socket_timeout": 5,
        },
        broker_connection_retry_on_startup=True,
        timezone=config["TIMEZONE"],
        enable_utc=True,
        imports=("workflow.tasks",),
        beat_schedule={
            "sweep-outbox": {
                "task": "workflow.tasks.sweep_outbox",
                "schedule": timedelta(seconds=int(config["OUTBOX_SWEEP_SECONDS"])),
            },
            "queue-reminders": {
                "task": "workflow.tasks.queue_reminders",
                "schedule": timedelta(seconds=int(config["REMINDER_SWEEP_SECONDS"])),
            },
            "queue-circulation-reminders": {
                "task": "workflow.tasks.queue_circulation_reminders",
                "schedule": timedelta(seconds=int(config["REMINDER_SWEEP_SECONDS"])),
            },
            "anchor-audit-heads": {
                "task": "workflow.tasks.anchor_audit_heads",
                "schedule": crontab(hour=0, minute=5),  # just after midnight, Bangkok time
            },
            "purge-removed-attachments": {
                "task": "workflow.tasks.purge_removed_attachments",
                "schedule": crontab(hour=1, minute=15),
            },
            "seal-pending": {
                "task": "workflow.tasks.seal_pending",
                "schedule": timedelta(seconds=int(config["SEAL_SWEEP_SECONDS"])),
            },
            "daily-digest": {
                "task": "workflow.tasks.send_digests",
                "schedule": crontab(hour=8, minute=30),  # in TIMEZONE, i.e. Bangkok time
            },
        },
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    app.extensions["broker_circuit"] = BrokerCircuit()
    return celery_app
