"""What a process loads when it starts the app: not the libraries only some of its work
needs. Every web process, Celery worker and ``flask`` command pays for what is imported at
start-up; pyHanko (0.5-0.6 s), Alembic (0.45 s) and WeasyPrint (0.9 s) are imported by the
code that signs, migrates and renders, or in the sandbox's forkserver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pyhanko", "pyhanko_certvalidator", "alembic", "weasyprint", "aiohttp")


def test_starting_the_app_imports_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    env = {**os.environ, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
           "REDIS_URL": "", "SARABAN_INSTANCE": str(tmp_path)}
    script = ("import json, sys, wsgi, celery_worker; "
              f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
