"""``flask --app wsgi …`` commands: migrate the database and seed the demo office."""

from __future__ import annotations

import os
from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from config import BASE_DIR

from .admin import setup
from .demo.seed import PEOPLE, seed_demo
from .errors import WorkflowError
from .extensions import db
from .trail.verify import verify_chain, verify_memo


def alembic_config(url: str) -> AlembicConfig:
    """Alembic's configuration for this project, pointed at ``url``."""
    cfg = AlembicConfig(str(BASE_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(BASE_DIR / "migrations"))
    cfg.attributes["database_url"] = url
    return cfg


def upgrade_database(url: str | None = None) -> None:
    """Bring the database to the latest schema."""
    command.upgrade(alembic_config(url or current_app.config["DATABASE_URL"]), "head")


@click.command("db-upgrade")
@with_appcontext
def db_upgrade_command() -> None:
    """Migrate the database to the latest schema."""
    upgrade_database()
    click.echo("ฐานข้อมูลเป็นรุ่นล่าสุดแล้ว (database is at the latest schema)")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Migrate, then create the demo office of the seed memo (safe to run again)."""
    upgrade_database()
    ids = seed_demo()
    click.echo(f"สำนักงานตัวอย่างพร้อมแล้ว: memo #{ids['memo_id']}")
    click.echo("Demo logins (password: demo): " + ", ".join(p[0] for p in PEOPLE))


@click.command("create-admin")
@click.option("--username", prompt="ชื่อผู้ใช้ (username)", default="admin", show_default=True)
@click.option("--full-name", prompt="ชื่อ-สกุล (full name)")
@click.option("--email", prompt="อีเมล (email)")
@click.option("--office", default="สำนักงานใหม่", show_default=True,
              help="The office's name, used only when the database has none yet.")
@with_appcontext
def create_admin_command(username: str, full_name: str, email: str, office: str) -> None:
    """Create the first administrator; the password comes from ADMIN_PASSWORD or a prompt."""
    upgrade_database()
    password = os.environ.get("ADMIN_PASSWORD") or click.prompt(
        "รหัสผ่าน (password)", hide_input=True, confirmation_prompt=True)
    try:
        setup.create_admin(username=username, full_name=full_name, email=email,
                           password=password, office=office)
    except WorkflowError as exc:
        raise click.ClickException(f"{exc.message} ({exc.message_en})") from None
    click.echo(f"สร้างผู้ดูแลระบบ {username} แล้ว (admin created)")


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option("--memo", "memo_id", type=int, default=None, help="Check one memo's trail only.")
def audit_verify_command(memo_id: int | None) -> None:
    """Check the hash chain; exit 1 naming the first broken event."""
    session = db.session
    verdict = verify_memo(session, memo_id) if memo_id else verify_chain(session)
    if verdict.ok:
        click.echo(f"OK: {verdict.checked} events verified, the chain is intact "
                   "(ตรวจสอบแล้ว ไม่มีการแก้ไข)")
        return
    where = f"event #{verdict.seq}" if verdict.seq else "the memo's trail"
    click.echo(f"BROKEN at {where}: {verdict.reason_en} ({verdict.reason}); "
               f"{verdict.checked} events verified before it", err=True)
    raise SystemExit(1)


def init_app(app: Flask) -> None:
    """Register the commands."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.cli.add_command(db_upgrade_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(audit_cli)
    app.cli.add_command(create_admin_command)
