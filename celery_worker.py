"""The Celery app for the worker and beat: ``celery -A celery_worker worker`` / ``beat``.

The app itself is built by ``workflow.jobs.celery_init_app`` inside ``create_app``,
so the web process and the worker share one configuration.
"""

from __future__ import annotations

from celery import Celery

from workflow import create_app

flask_app = create_app()
celery_app: Celery = flask_app.extensions["celery"]
