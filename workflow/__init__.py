"""Saraban Workflow: drafting official Thai memos and taking them up their route of signers."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from config import BASE_DIR, Config


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, nothing else."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=Config.INSTANCE_DIR,
    )
    app.config.from_object(Config)
    if test_config:
        app.config.from_mapping(test_config)
    _check_config(app)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # transitions narrates every callback at INFO; our own routing logger says what matters.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    # Imported here, not at the top: ``import workflow`` must stay cheap and free of the
    # app's parts, because every module below imports the ``workflow`` package first.
    from . import cli, web
    from .api import bp as api_bp
    from .extensions import csrf, db, limiter, login_manager
    from .jobs import celery_init_app
    from .views import (
        account,
        admin,
        audit,
        auth,
        circulation,
        devmail,
        documents,
        health,
        inbox,
        memos,
        platform,
        register,
        staff,
    )
    from .views.password_reset import bp as password_reset_bp

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    celery_init_app(app)

    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(memos.bp)
    app.register_blueprint(circulation.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(platform.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(devmail.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(register.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(password_reset_bp)
    app.register_blueprint(api_bp)
    # The API authenticates with bearer tokens, which browsers never send by themselves.
    csrf.exempt(api_bp)
    return app


def _check_config(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        if app.config["DEVELOPMENT"] or app.config.get("TESTING"):
            app.config["SECRET_KEY"] = _development_secret(app)
        else:
            raise RuntimeError(
                "SECRET_KEY is not set. Set it in the environment, or SARABAN_ENV=development "
                "for a local run."
            )
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        from .jobs import limiter_url  # here for the same reason as create_app's imports

        redis_url = app.config.get("REDIS_URL")
        app.config["RATELIMIT_STORAGE_URI"] = limiter_url(redis_url) if redis_url else "memory://"
    # If Redis is down, limit in memory for the moment rather than fail the login page.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)


def _development_secret(app: Flask) -> str:
    """A per-checkout secret kept under instance/, so development sessions survive restarts."""
    path = Path(app.instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
