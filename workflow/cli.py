"""``flask --app wsgi …`` commands: migrate the database and seed the demo office."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from config import BASE_DIR

from .admin import setup
from .demo.seed import DEMO_CODE, demo_logins, seed_demo
from .errors import WorkflowError
from .extensions import db
from .office.tenants import PLATFORM_CODE, checked_code
from .platform import health, offices
from .storage import anchor_folder
from .trail.anchors import anchor_heads, check_anchors, read_anchors
from .trail.verify import Verdict, chains, office_codes, verify_chain, verify_memo

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig


# Alembic is imported by the commands that migrate, not with the app: it took 0.45 s, which
# every web process, Celery worker and other command paid at start-up.
def alembic_config(url: str) -> AlembicConfig:
    """Alembic's configuration for this project, pointed at ``url``."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig(str(BASE_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(BASE_DIR / "migrations"))
    cfg.attributes["database_url"] = url
    return cfg


def upgrade_database(url: str | None = None, to: str = "head") -> None:
    """Bring the database to the latest schema, or to the revision ``to``."""
    from alembic import command

    command.upgrade(alembic_config(url or current_app.config["DATABASE_URL"]), to)


@click.command("db-upgrade")
@click.option("--to", "to", default="head", metavar="REVISION",
              help="Stop at this revision (e.g. 0026), for an upgrade in two steps while "
                   "serving: see the README.")
@with_appcontext
def db_upgrade_command(to: str) -> None:
    """Migrate the database to the latest schema."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    if not to.strip():
        raise click.BadParameter("ต้องระบุรุ่นของฐานข้อมูล (a revision is required)",
                                 param_hint="--to")
    before = _revision_or_none()
    try:
        upgrade_database(to=to)
    except (CommandError, RevisionError) as exc:
        # An unknown revision, or one the history cannot reach: Alembic says which.
        raise click.ClickException(
            f"ปรับฐานข้อมูลเป็นรุ่น {to} ไม่ได้ (cannot upgrade to revision {to}): {exc}") from None
    at = health.database_revision()
    if at == before:
        click.echo(f"ฐานข้อมูลอยู่ที่รุ่น {at} อยู่แล้ว ไม่มีอะไรเปลี่ยน "
                   f"(database already at revision {at}: nothing changed)")
    else:
        click.echo(f"ฐานข้อมูลเป็นรุ่น {at} แล้ว (database is now at revision {at})")


def _revision_or_none() -> str | None:
    """The database's revision, or None when it has no schema yet."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return health.database_revision()
    except SQLAlchemyError:
        return None


@click.command("seed-demo")
@click.option("--office", "code", default=None,
              help=f"Seed a demo office under this code (default {DEMO_CODE}); several may "
                   "stand side by side, each with the same logins.")
@with_appcontext
def seed_demo_command(code: str | None) -> None:
    """Migrate, then create the demo office of the seed memo (safe to run again)."""
    upgrade_database()
    try:
        ids = seed_demo(checked_code(code) if code is not None else None)
    except WorkflowError as exc:
        raise click.ClickException(f"{exc.message} ({exc.message_en})") from None
    click.echo(f"สำนักงานตัวอย่างพร้อมแล้ว: memo #{ids['memo_id']}")
    click.echo(demo_logins(code or DEMO_CODE))


@click.command("create-office")
@click.option("--code", required=True, help="The code people sign in with, e.g. thatoom.")
@click.option("--name", required=True, help="The office's name, e.g. องค์การบริหารส่วนตำบล…")
@click.option("--admin-username", required=True)
@click.option("--admin-email", required=True)
@click.option("--admin-full-name", default="ผู้ดูแลระบบ", show_default=True)
@with_appcontext
def create_office_command(code: str, name: str, admin_username: str, admin_email: str,
                          admin_full_name: str) -> None:
    """Create an office and its first administrator. The password comes from
    ADMIN_PASSWORD; without it the administrator is emailed an invitation."""
    upgrade_database()
    try:
        org = offices.create_office(
            principal=None, code=code, name=name, admin_username=admin_username,
            admin_full_name=admin_full_name, admin_email=admin_email,
            admin_password=os.environ.get("ADMIN_PASSWORD", ""))
    except WorkflowError as exc:
        raise click.ClickException(f"{exc.message} ({exc.message_en})") from None
    click.echo(f"สร้างหน่วยงาน {org.name} (รหัส {org.code}) แล้ว (office created)")


@click.command("create-platform-admin")
@click.option("--username", prompt="ชื่อผู้ใช้ (username)", default="platform",
              show_default=True)
@click.option("--full-name", prompt="ชื่อ-สกุล (full name)")
@click.option("--email", prompt="อีเมล (email)")
@with_appcontext
def create_platform_admin_command(username: str, full_name: str, email: str) -> None:
    """Create a platform administrator (signs in with office code "platform"); the
    password comes from ADMIN_PASSWORD or a prompt."""
    upgrade_database()
    password = os.environ.get("ADMIN_PASSWORD") or click.prompt(
        "รหัสผ่าน (password)", hide_input=True, confirmation_prompt=True)
    try:
        offices.create_platform_admin(username=username, full_name=full_name, email=email,
                                      password=password)
    except WorkflowError as exc:
        raise click.ClickException(f"{exc.message} ({exc.message_en})") from None
    click.echo(f"สร้างผู้ดูแลระบบกลาง {username} แล้ว: เข้าสู่ระบบด้วยรหัสหน่วยงาน "
               f"{PLATFORM_CODE} (platform administrator created)")


@click.command("create-admin")
@click.option("--username", prompt="ชื่อผู้ใช้ (username)", default="admin", show_default=True)
@click.option("--full-name", prompt="ชื่อ-สกุล (full name)")
@click.option("--email", prompt="อีเมล (email)")
@click.option("--office", default="สำนักงานใหม่", show_default=True,
              help="The office's name, used only when the database has none yet.")
@click.option("--code", default="",
              help="The office's code; may be left out while there is one office.")
@with_appcontext
def create_admin_command(username: str, full_name: str, email: str, office: str,
                         code: str) -> None:
    """Create the first administrator; the password comes from ADMIN_PASSWORD or a prompt."""
    upgrade_database()
    password = os.environ.get("ADMIN_PASSWORD") or click.prompt(
        "รหัสผ่าน (password)", hide_input=True, confirmation_prompt=True)
    try:
        setup.create_admin(username=username, full_name=full_name, email=email,
                           password=password, office=office, code=code)
    except WorkflowError as exc:
        raise click.ClickException(f"{exc.message} ({exc.message_en})") from None
    click.echo(f"สร้างผู้ดูแลระบบ {username} แล้ว (admin created)")


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option("--office", "code", default=None,
              help="Check this office's chain only (its code; 'platform' for the platform's).")
@click.option("--memo", "memo_id", type=int, default=None, help="Check one memo's trail only.")
@click.option("--against", "anchor_file", type=click.Path(exists=True, dir_okay=False),
              default=None, help="Also check the heads anchored in this file of heads.")
def audit_verify_command(code: str | None, memo_id: int | None,
                         anchor_file: str | None) -> None:
    """Check the hash chains (every office's, or one); exit 1 naming the first broken event."""
    session = db.session
    if memo_id:
        if not _report(f"memo {memo_id}", verify_memo(session, memo_id)):
            raise SystemExit(1)
        return
    if code:
        try:
            wanted = [offices.office_by_code(code).id or 0]
        except WorkflowError as exc:
            raise click.ClickException(f"{exc.message} ({exc.message_en})") from None
    else:
        wanted = chains(session)
    try:
        anchors = read_anchors(Path(anchor_file)) if anchor_file else []
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    codes = office_codes(session)
    broken = False
    for chain in wanted:
        verdict = verify_chain(session, chain)
        if verdict.ok and anchor_file:
            verdict = check_anchors(session, chain, anchors)
        label = f"office {codes[chain]}" if chain in codes else f"chain {chain} (installation)"
        broken |= not _report(label, verdict)
    if broken:
        raise SystemExit(1)


def _report(what: str, verdict: Verdict) -> bool:
    if verdict.ok:
        click.echo(f"OK: {verdict.checked} events verified, the chain is intact "
                   f"(ตรวจสอบแล้ว ไม่มีการแก้ไข) [{what}]")
        return True
    where = f"event #{verdict.seq}" if verdict.seq else "the memo's trail"
    click.echo(f"BROKEN at {where}: {verdict.reason_en} ({verdict.reason}); "
               f"{verdict.checked} events verified before it [{what}]", err=True)
    return False


@click.command("health")
@with_appcontext
def health_command() -> None:
    """What GET /healthz answers, as JSON; exit 1 when failing (for a container's check)."""
    found = health.check(current_app.config)
    click.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
    if found.status == health.FAILING:
        raise SystemExit(1)


@audit_cli.command("anchor")
def audit_anchor_command() -> None:
    """Append every chain's head to this month's file of heads now (the beat does it daily)."""
    path = anchor_heads(db.session, anchor_folder())
    click.echo(f"บันทึกยืนยันท้ายสายแล้วที่ {path} (heads anchored)")


def init_app(app: Flask) -> None:
    """Register the commands."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.cli.add_command(db_upgrade_command)
    app.cli.add_command(health_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(audit_cli)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(create_office_command)
    app.cli.add_command(create_platform_admin_command)
