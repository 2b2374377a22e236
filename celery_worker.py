"""The Celery app, bound to the Flask app so every task runs inside an app context.

Start a worker with ``celery -A celery_worker worker`` and the scheduler with
``celery -A celery_worker beat`` (``make run`` starts both).
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

from workflow import create_app


def celery_init_app(app: Flask) -> Celery:
    """Make a Celery app whose tasks run inside ``app``'s context (Flask's own pattern)."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=broker,
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        # A task is acknowledged only once it has run, and handed back if its worker dies.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        timezone=app.config["TIMEZONE"],
        imports=("workflow.tasks",),
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


flask_app = create_app()
celery_app = celery_init_app(flask_app)
