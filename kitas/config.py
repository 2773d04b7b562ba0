"""Configuration: the only module that reads the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'kitas.db'}"


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration from defaults, ``KITAS_*`` environment variables and overrides."""
    env = os.environ
    config: dict[str, Any] = {
        "SECRET_KEY": env.get("KITAS_SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": env.get("KITAS_DATABASE_URL") or _default_database_url(instance_path),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "KITAS_BPMN_DIR": env.get("KITAS_BPMN_DIR", str(PROJECT_ROOT / "bpmn")),
        "KITAS_FORMS_DIR": env.get("KITAS_FORMS_DIR", str(PROJECT_ROOT / "forms" / "schemas")),
        # Seconds between two scans for due timers, and how long a claimed timer stays leased.
        "KITAS_TIMER_INTERVAL": float(env.get("KITAS_TIMER_INTERVAL", "5")),
        "KITAS_TIMER_LEASE": float(env.get("KITAS_TIMER_LEASE", "60")),
        "KITAS_TIMER_BATCH": int(env.get("KITAS_TIMER_BATCH", "50")),
        # The embedded default runs the scheduler inside the web process.
        "KITAS_EMBEDDED_SCHEDULER": env.get("KITAS_EMBEDDED_SCHEDULER", "1") == "1",
        "KITAS_SQLITE_BUSY_TIMEOUT_MS": int(env.get("KITAS_SQLITE_BUSY_TIMEOUT_MS", "15000")),
    }
    config.update(overrides or {})
    url = config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(instance_path)
    return config


def _instance_secret(instance_path: Path) -> str:
    """A random secret kept in the instance folder, so development needs no setup and no secret is committed."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    secret = os.urandom(32).hex()
    path.write_text(secret)
    path.chmod(0o600)
    return secret
