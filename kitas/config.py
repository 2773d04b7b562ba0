"""Configuration: the only module that reads the environment."""

from __future__ import annotations

import os
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# An S3 bucket name (the rules S3 itself applies) and an optional prefix under it.
_S3_URL = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>[^?#]*))?$")


class ConfigurationError(RuntimeError):
    """A setting is missing, malformed or unsafe; the service refuses to start and the message says why."""


def parse_document_store(url: str | None) -> tuple[str, str, str]:
    """``KITAS_DOCUMENT_STORE`` as (kind, bucket, prefix): ``("local", "", "")`` when unset, or
    ``("s3", bucket, "prefix/")`` for ``s3://bucket/prefix``; anything else is a ConfigurationError."""
    if not url or url == "local":
        return "local", "", ""
    match = _S3_URL.match(url)
    if match is None:
        raise ConfigurationError(
            f"KITAS_DOCUMENT_STORE={url!r} is not understood: leave it unset to keep documents on the local disk "
            "(KITAS_UPLOAD_DIR), or give an S3-compatible bucket as s3://bucket or s3://bucket/prefix"
        )
    prefix = (match.group("prefix") or "").strip("/")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise ConfigurationError(f"KITAS_DOCUMENT_STORE={url!r}: the prefix has an empty, '.' or '..' part")
    return "s3", match.group("bucket"), f"{prefix}/" if prefix else ""


# Below this, the sweep could remove the file of an upload whose row is about to be written.
MIN_SWEEP_GRACE_MINUTES = 10


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
        # Further KITAS types, each a folder with its catalog entries (kitas_types.json and its .id.json), its
        # diagrams and their forms (forms/), separated like PATH (README, "Adding a KITAS type").
        "KITAS_EXTRA_TYPES": [path for path in env.get("KITAS_EXTRA_TYPES", "").split(os.pathsep) if path.strip()],
        # The scheduler wakes when the next timer or outbox row falls due, at least every MAX_SLEEP
        # seconds, and reads the next due time every POLL seconds (rows other processes wrote; rows of its
        # own process wake it at once). Every HEARTBEAT seconds it records that it is alive.
        "KITAS_SCHEDULER_MAX_SLEEP": float(env.get("KITAS_SCHEDULER_MAX_SLEEP", "60")),
        "KITAS_SCHEDULER_POLL": float(env.get("KITAS_SCHEDULER_POLL", "1")),
        "KITAS_SCHEDULER_HEARTBEAT": float(env.get("KITAS_SCHEDULER_HEARTBEAT", "10")),
        # How long a claimed timer stays leased, and how many timers one claim takes.
        "KITAS_TIMER_LEASE": float(env.get("KITAS_TIMER_LEASE", "60")),
        "KITAS_TIMER_BATCH": int(env.get("KITAS_TIMER_BATCH", "50")),
        # Runtimes of recently changed cases kept in memory for their next step (0: restore every time).
        "KITAS_RUNTIME_CACHE": int(env.get("KITAS_RUNTIME_CACHE", "512")),
        # Every script, condition, timer and decision-table expression runs in a worker process with these
        # limits: CPU seconds per piece of code, MB of memory it may add, worker processes per web process.
        "KITAS_SCRIPT_CPU_SECONDS": float(env.get("KITAS_SCRIPT_CPU_SECONDS", "1")),
        "KITAS_SCRIPT_MEMORY_MB": int(env.get("KITAS_SCRIPT_MEMORY_MB", "256")),
        "KITAS_SCRIPT_WORKERS": int(env.get("KITAS_SCRIPT_WORKERS", "2")),
        # Seconds between two passes over the outboxes (e-mail, SMS, provider webhooks).
        "KITAS_OUTBOX_INTERVAL": float(env.get("KITAS_OUTBOX_INTERVAL", "2")),
        # Seconds between two seals of the audit chains (the digest of every chain head that moved).
        "KITAS_AUDIT_SEAL_INTERVAL": float(env.get("KITAS_AUDIT_SEAL_INTERVAL", "300")),
        # The embedded default runs the scheduler inside the web process.
        "KITAS_EMBEDDED_SCHEDULER": env.get("KITAS_EMBEDDED_SCHEDULER", "1") == "1",
        "KITAS_SQLITE_BUSY_TIMEOUT_MS": int(env.get("KITAS_SQLITE_BUSY_TIMEOUT_MS", "15000")),
        # Where people reach the service: links in e-mails and the payment provider's callback.
        # None: links and callbacks follow the address the service serves on (services/public_address.py).
        "KITAS_PUBLIC_URL": (env.get("KITAS_PUBLIC_URL") or "").rstrip("/") or None,
        # Reverse proxies in front of the service (their X-Forwarded-* headers are trusted): per-address
        # login limits need the client's real address.
        "KITAS_PROXY_HOPS": int(env.get("KITAS_PROXY_HOPS", "0")),
        # Sessions: idle timeout; cookies are Secure whenever the public URL is https (or when forced).
        "KITAS_SESSION_IDLE_MINUTES": int(env.get("KITAS_SESSION_IDLE_MINUTES", "30")),
        "KITAS_SECURE_COOKIES": env.get("KITAS_SECURE_COOKIES"),
        # Failed sign-ins allowed for one account from one address, and from one address over all accounts,
        # within the window; then that address waits (services/accounts/login_limits.py).
        "KITAS_LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS": int(
            env.get("KITAS_LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS", "5")
        ),
        "KITAS_LOGIN_MAX_FAILURES_PER_ADDRESS": int(env.get("KITAS_LOGIN_MAX_FAILURES_PER_ADDRESS", "20")),
        "KITAS_LOGIN_WINDOW_MINUTES": int(env.get("KITAS_LOGIN_WINDOW_MINUTES", "15")),
        # Failed sign-ins for one account from every address within the hours: then only an e-mailed
        # one-time sign-in link lets the owner in.
        "KITAS_LOGIN_ACCOUNT_CEILING": int(env.get("KITAS_LOGIN_ACCOUNT_CEILING", "100")),
        "KITAS_LOGIN_CEILING_HOURS": int(env.get("KITAS_LOGIN_CEILING_HOURS", "24")),
        # Wrong one-time codes (second factor) allowed per account within the login window.
        "KITAS_MFA_MAX_FAILURES": int(env.get("KITAS_MFA_MAX_FAILURES", "5")),
        # Refusals at a blueprint's role check: one audit row per user (or anonymous address) and area per window.
        "KITAS_REFUSAL_AUDIT_WINDOW_MINUTES": int(env.get("KITAS_REFUSAL_AUDIT_WINDOW_MINUTES", "15")),
        # Uploaded documents: stored outside the web root; the size limit of one file.
        "KITAS_UPLOAD_DIR": env.get("KITAS_UPLOAD_DIR", str(instance_path / "uploads")),
        "KITAS_MAX_UPLOAD_BYTES": int(env.get("KITAS_MAX_UPLOAD_BYTES", str(5 * 1024 * 1024))),
        # PDF pages rendered as pictures for the officers, cached by document hash (safe to delete).
        "KITAS_PREVIEW_DIR": env.get("KITAS_PREVIEW_DIR", str(instance_path / "previews")),
        # Documents in an S3-compatible bucket (s3://bucket/prefix) instead of KITAS_UPLOAD_DIR. Endpoint,
        # region and keys: ours first, then the usual AWS_* variables; unset keys leave boto3 its own
        # lookup (a profile, an instance role).
        "KITAS_DOCUMENT_STORE": env.get("KITAS_DOCUMENT_STORE") or None,
        "KITAS_S3_ENDPOINT_URL": env.get("KITAS_S3_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL_S3") or None,
        "KITAS_S3_REGION": env.get("KITAS_S3_REGION") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        "KITAS_S3_ACCESS_KEY_ID": env.get("KITAS_S3_ACCESS_KEY_ID") or env.get("AWS_ACCESS_KEY_ID"),
        "KITAS_S3_SECRET_ACCESS_KEY": env.get("KITAS_S3_SECRET_ACCESS_KEY") or env.get("AWS_SECRET_ACCESS_KEY"),
        "KITAS_S3_SESSION_TOKEN": env.get("KITAS_S3_SESSION_TOKEN") or env.get("AWS_SESSION_TOKEN"),
        # "path" (bucket in the URL path, what most S3-compatible servers want) or "virtual"; default:
        # path with an endpoint URL, boto3's choice without.
        "KITAS_S3_ADDRESSING_STYLE": env.get("KITAS_S3_ADDRESSING_STYLE"),
        # Files a crash left without a document row are removed once older than the grace period
        # (an upload in progress is seconds old); the scheduler sweeps every KITAS_SWEEP_INTERVAL seconds.
        "KITAS_SWEEP_GRACE_MINUTES": float(env.get("KITAS_SWEEP_GRACE_MINUTES", "60")),
        "KITAS_SWEEP_INTERVAL": float(env.get("KITAS_SWEEP_INTERVAL", str(6 * 3600))),
        # Payments: the provider adapter and the secret that signs its webhooks (else one kept in the instance).
        "KITAS_PAYMENT_PROVIDER": env.get("KITAS_PAYMENT_PROVIDER", "sandbox"),
        # The sandbox bank is a demo; on an https public address it runs only when allowed in so many words.
        "KITAS_ALLOW_SANDBOX_PAYMENTS": env.get("KITAS_ALLOW_SANDBOX_PAYMENTS", "0") == "1",
        "KITAS_PAYMENT_WEBHOOK_SECRET": env.get("KITAS_PAYMENT_WEBHOOK_SECRET"),
        # Mail: SMTP when a host is set, else messages are written to the log (development).
        "KITAS_SMTP_HOST": env.get("KITAS_SMTP_HOST"),
        "KITAS_SMTP_PORT": int(env.get("KITAS_SMTP_PORT", "25")),
        "KITAS_SMTP_USER": env.get("KITAS_SMTP_USER"),
        "KITAS_SMTP_PASSWORD": env.get("KITAS_SMTP_PASSWORD"),
        "KITAS_SMTP_STARTTLS": env.get("KITAS_SMTP_STARTTLS", "0") == "1",
        "KITAS_MAIL_FROM": env.get("KITAS_MAIL_FROM", "KITAS Online <no-reply@kitas.invalid>"),
        "KITAS_SMS_PROVIDER": env.get("KITAS_SMS_PROVIDER", "sandbox"),
        # The e-permit: the issuing office when the case recorded none; public verification lookups allowed
        # per client address within the window (then a 429 page says when to try again).
        # The offices, the domicile rule (province -> office) and the default office: workflows/offices.json
        # unless this names another file; synced into the database by `kitas init` / `kitas offices sync`.
        "KITAS_OFFICES_FILE": env.get("KITAS_OFFICES_FILE") or None,
        "KITAS_PERMIT_DEFAULT_OFFICE": env.get("KITAS_PERMIT_DEFAULT_OFFICE", "Direktorat Jenderal Imigrasi"),
        "KITAS_VERIFY_MAX_PER_ADDRESS": int(env.get("KITAS_VERIFY_MAX_PER_ADDRESS", "30")),
        "KITAS_VERIFY_WINDOW_MINUTES": int(env.get("KITAS_VERIFY_WINDOW_MINUTES", "10")),
    }
    config.update(overrides or {})
    # Settings that refuse to start are checked before anything is written to the instance folder.
    parse_document_store(config.get("KITAS_DOCUMENT_STORE"))  # a malformed store refuses to start here
    if float(config["KITAS_SWEEP_GRACE_MINUTES"]) < MIN_SWEEP_GRACE_MINUTES:
        raise ConfigurationError(
            f"KITAS_SWEEP_GRACE_MINUTES={config['KITAS_SWEEP_GRACE_MINUTES']} is too short: files of uploads "
            f"still in progress could be removed; give at least {MIN_SWEEP_GRACE_MINUTES} minutes"
        )
    url = config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url[len("postgresql://") :]
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # After a database restart every pooled connection is dead: test each one as it is taken from the
        # pool (one short round trip), so the first request after the restart does not fail on a dead one.
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(instance_path, "secret_key")
    if not config.get("KITAS_PAYMENT_WEBHOOK_SECRET"):
        config["KITAS_PAYMENT_WEBHOOK_SECRET"] = _instance_secret(instance_path, "payment_webhook_secret")
    _session_settings(config)
    return config


def _session_settings(config: dict[str, Any]) -> None:
    """Cookie and session settings derived from the public URL and the idle timeout."""
    forced = config.get("KITAS_SECURE_COOKIES")
    secure = forced == "1" if forced in ("0", "1") else str(config["KITAS_PUBLIC_URL"] or "").startswith("https://")
    config.setdefault("SESSION_COOKIE_SECURE", secure)
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("REMEMBER_COOKIE_SECURE", secure)
    config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(minutes=int(config["KITAS_SESSION_IDLE_MINUTES"])))
    config.setdefault("SESSION_REFRESH_EACH_REQUEST", True)
    # The CSRF token lives as long as the session; a page left open for hours still submits.
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Several documents may be posted at once; each is checked against KITAS_MAX_UPLOAD_BYTES on its own.
    config.setdefault("MAX_CONTENT_LENGTH", int(config["KITAS_MAX_UPLOAD_BYTES"]) * 8 + 1024 * 1024)


def _instance_secret(instance_path: Path, name: str) -> str:
    """A random secret kept in the instance folder, so development needs no setup and no secret is committed.

    Created with owner-only permissions and O_EXCL: two processes starting together agree on one secret.
    """
    path = instance_path / name
    instance_path.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the other process may still be writing it
            secret = path.read_text().strip()
            if secret:
                return secret
            time.sleep(0.01)
        raise RuntimeError(f"the secret file {path} is empty; delete it and start again") from None
    secret = os.urandom(32).hex()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret)
    return secret
