"""Development only: the emails captured under instance/mail/ when no SMTP server is set."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template
from flask_login import login_required

from .. import mail

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")


def _folder() -> Path:
    if not current_app.config["DEVELOPMENT"] or current_app.config.get("MAIL_SERVER"):
        abort(404)
    return Path(current_app.config["INSTANCE_DIR"]) / "mail"


def _read(path: Path) -> Any:
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)


@bp.route("/")
@login_required
def index() -> str:
    """The captured emails, newest first."""
    messages = [(p.name, _read(p)) for p in mail.captured(_folder())]
    return render_template("devmail.html", messages=messages, current=None)


@bp.route("/<name>")
@login_required
def show(name: str) -> str:
    """One captured email, as its plain-text part."""
    folder = _folder()
    path = folder / name
    if path.parent != folder or not path.name.endswith(".eml") or not path.is_file():
        abort(404)
    message = _read(path)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body else ""
    return render_template("devmail.html", messages=[], current=(name, message, text))
