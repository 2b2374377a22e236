"""Where uploaded files live on disk: outside the web root, under ATTACHMENT_DIR (by default
instance/attachments). Attachments and the office's Garuda are kept there by random name."""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app


def folder() -> Path:
    """The folder for stored uploads: ATTACHMENT_DIR, or instance/attachments."""
    configured = current_app.config.get("ATTACHMENT_DIR")
    return Path(configured or os.path.join(current_app.instance_path, "attachments"))
