"""What the multi-process benchmarks share: a fresh PostgreSQL schema, scheduler and gunicorn processes.

Every process runs this checkout's code (started from the repository root with this Python), logs
to its own file, and is stopped (or killed) by the benchmark that started it.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# `kitas scheduler` of this checkout (the console script may belong to another install).
SCHEDULER_COMMAND = [sys.executable, "-c", "from kitas.cli import main; main()", "scheduler"]


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries the JSON report only."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of an ascending list (0 when empty)."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fresh_postgres_app(url: str, settings: dict[str, Any] | None = None) -> Any:
    """An application on ``url`` whose public schema was dropped and rebuilt by the real migrations."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from kitas.extensions import db
    from kitas.services.accounts.roles import ensure_roles
    from kitas.services.offices.directory import sync_offices

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "KITAS_EMBEDDED_SCHEDULER": False, **(settings or {})})
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            raise SystemExit(f"this benchmark needs PostgreSQL, not {db.engine.dialect.name}")
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
        upgrade()
        sync_offices()  # as `kitas init` does: people and cases need the offices
        ensure_roles()
        db.session.remove()
    return app


def start(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``command`` from the repository root with ``env`` added, output appended to ``log_path``."""
    with log_path.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)


def start_scheduler(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A ``kitas scheduler`` process."""
    return start(SCHEDULER_COMMAND, env, log_path)


def start_gunicorn(port: int, workers: int, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """gunicorn with ``workers`` sync workers on 127.0.0.1:``port``; returns once ``/ping`` answers."""
    import http.client

    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "app:create_app()"]
    server = start(command, env, log_path)

    def answers() -> bool:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/ping")
            return connection.getresponse().status == 200
        except OSError:
            return False

    if not wait_for(answers, 60):
        stop(server)
        raise RuntimeError(f"gunicorn did not answer /ping in 60 s:\n{log_path.read_text()[-2000:]}")
    return server


def wait_for(condition: Callable[[], bool], seconds: float, step: float = 0.2) -> bool:
    """Poll ``condition`` until it holds (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def stop(process: subprocess.Popen[bytes] | None, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if it does not end within ``timeout``."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL: the process gets no chance to clean up (leases and its heartbeat stay behind)."""
    process.send_signal(signal.SIGKILL)
    process.wait()


def machine() -> dict[str, Any]:
    """What the figures depend on: CPUs and how busy the shared machine is."""
    import platform

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def timer_firings() -> Counter[int]:
    """How many times the audit trail says a timer fired, per case (inside an application context)."""
    from sqlalchemy import func, select

    from kitas.extensions import db
    from kitas.models import AuditEvent

    query = (
        select(AuditEvent.application_id, func.count())
        .where(AuditEvent.action == "timer_fired", AuditEvent.application_id.is_not(None))
        .group_by(AuditEvent.application_id)
    )
    return Counter({int(case_id): count for case_id, count in db.session.execute(query).all() if case_id is not None})
