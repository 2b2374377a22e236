"""``flask --app wsgi …`` commands: migrate the database and seed the demo office."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app

from config import BASE_DIR


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
def db_upgrade_command() -> None:
    """Migrate the database to the latest schema."""
    upgrade_database()
    click.echo("ฐานข้อมูลเป็นรุ่นล่าสุดแล้ว (database is at the latest schema)")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Migrate, then create the demo office of the seed memo (safe to run again)."""
    from .services.demo import PEOPLE, seed_demo

    upgrade_database()
    ids = seed_demo()
    click.echo(f"สำนักงานตัวอย่างพร้อมแล้ว: memo #{ids['memo_id']}")
    click.echo("Demo logins (password: demo): " + ", ".join(p[0] for p in PEOPLE))


def init_app(app: Flask) -> None:
    """Register the commands."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.cli.add_command(db_upgrade_command)
    app.cli.add_command(seed_demo_command)
