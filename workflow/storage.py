"""Where uploaded files live on disk: outside the web root, under ATTACHMENT_DIR (by default
instance/attachments). Attachments and the office's Garuda are kept there by random name."""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app


def anchor_folder() -> Path:
    """Where the audit chains' daily heads are written: AUDIT_ANCHOR_DIR, or
    instance/anchors. Copy it off the server: it is worth most where the database is not."""
    configured = current_app.config.get("AUDIT_ANCHOR_DIR")
    return Path(configured or os.path.join(current_app.instance_path, "anchors"))


def folder() -> Path:
    """The folder for stored uploads: ATTACHMENT_DIR, or instance/attachments."""
    configured = current_app.config.get("ATTACHMENT_DIR")
    return Path(configured or os.path.join(current_app.instance_path, "attachments"))
