"""Where uploaded files live on disk: outside the web root, under ATTACHMENT_DIR (by default
instance/attachments). Attachments and the office's Garuda are kept there by random name."""

from __future__ import annotations

import os
import secrets
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


def write_whole(target: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``target/name`` all at once: to a partial file first, then renamed,
    so that no reader ever sees half a file."""
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f"{name}.{secrets.token_hex(4)}.part"
    try:
        partial.write_bytes(data)
        os.replace(partial, target / name)
    finally:
        partial.unlink(missing_ok=True)
    return target / name
