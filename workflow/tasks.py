"""Celery tasks. Each takes ids, never objects, and calls a service."""

from __future__ import annotations

import logging

from celery import shared_task

from . import storage
from .circulation import notices as circulation_notices
from .extensions import db
from .memos import attachments, reminders
from .outbox import delivery, queue
from .seal import sealing
from .trail import anchors


@shared_task(name="workflow.tasks.deliver_notification")
def deliver_notification(notification_id: int) -> str:
    """Send one queued email (a no-op if it was sent already or is not due)."""
    return delivery.deliver(notification_id)


@shared_task(name="workflow.tasks.sweep_outbox")
def sweep_outbox() -> int:
    """Queue every email that is due: never handed over, due for a retry, or orphaned."""
    due = delivery.sweep()
    queue.dispatch(due)
    return len(due)


@shared_task(name="workflow.tasks.queue_reminders")
def queue_reminders() -> int:
    """Queue the reminders (and escalations) that have fallen due."""
    queued = reminders.queue_reminders()
    queue.dispatch(queued)
    return len(queued)


@shared_task(name="workflow.tasks.queue_circulation_reminders")
def queue_circulation_reminders() -> int:
    """Queue the reminders of circulated memos not yet acknowledged that have fallen due."""
    queued = circulation_notices.queue_reminders()
    queue.dispatch(queued)
    return len(queued)


@shared_task(name="workflow.tasks.anchor_audit_heads")
def anchor_audit_heads() -> str:
    """Write every audit chain's head outside the database (once a day)."""
    return str(anchors.anchor_heads(db.session, storage.anchor_folder()))


@shared_task(name="workflow.tasks.purge_removed_attachments")
def purge_removed_attachments() -> int:
    """Delete the files of attachments removed long enough ago (once a day)."""
    return attachments.purge_removed()


@shared_task(name="workflow.tasks.send_digests")
def send_digests() -> int:
    """Queue the morning digest for everyone who chose it."""
    queued = reminders.queue_digests()
    queue.dispatch(queued)
    return len(queued)


@shared_task(name="workflow.tasks.seal_memo")
def seal_memo(memo_id: int) -> str:
    """Render, seal and store an approved memo's final PDF (once; a no-op after that)."""
    return sealing.seal_memo(memo_id)


@shared_task(name="workflow.tasks.seal_pending")
def seal_pending() -> int:
    """Seal the approved memos whose sealing task was lost or failed."""
    done = 0
    for memo_id in sealing.unsealed_approvals():
        try:
            sealing.seal_memo(memo_id)
            done += 1
        except Exception:  # noqa: BLE001 - one memo's failure (the TSA down) must not stop the rest
            logging.getLogger(__name__).warning("sealing memo %s failed; retried on the next "
                                                "sweep", memo_id, exc_info=True)
    return done
