"""Building and sending email with the standard library, or capturing it locally.

With ``MAIL_SERVER`` set, mail goes out over SMTP (``MAIL_USE_TLS`` for
STARTTLS, ``MAIL_USE_SSL`` for SMTPS). Without it, every message is written
as an ``.eml`` file under ``instance/mail/`` so that a local run loses nothing.
"""

from __future__ import annotations

import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from . import clock


def build_message(
    *,
    sender: str,
    sender_name: str,
    to: str,
    to_name: str,
    subject: str,
    text: str,
    html: str,
    message_id: str | None = None,
) -> EmailMessage:
    """A multipart (plain text + HTML) message; Thai headers are RFC 2047-encoded on the way out."""
    message = EmailMessage()
    _, sender_address = parseaddr(sender)
    message["From"] = Address(display_name=sender_name, addr_spec=sender_address or sender)
    message["To"] = Address(display_name=to_name, addr_spec=to)
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now())
    # One id per notification: a mail system that sees it twice can tell it is the same message.
    message["Message-ID"] = message_id or make_msgid(domain="saraban.local")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(config: Any, message: EmailMessage) -> None:
    """Send ``message`` by SMTP, or capture it under instance/mail/ when no server is configured."""
    server = config.get("MAIL_SERVER")
    if not server:
        _capture(Path(config["INSTANCE_DIR"]) / "mail", message)
        return
    port = int(config.get("MAIL_PORT") or 25)
    timeout = float(config.get("MAIL_TIMEOUT", 30))
    smtp: smtplib.SMTP
    if config.get("MAIL_USE_SSL"):
        smtp = smtplib.SMTP_SSL(server, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(server, port, timeout=timeout)
    with smtp:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        smtp.send_message(message)


def _capture(folder: Path, message: EmailMessage) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
    token = "".join(ch for ch in str(message["Message-ID"]) if ch.isalnum())[:40]
    path = folder / f"{stamp}-{token}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(bytes(message))
    tmp.rename(path)  # readers never see half a file


def captured(folder: Path, limit: int = 200) -> list[Path]:
    """The captured messages, newest first."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.eml"), reverse=True)[:limit]
