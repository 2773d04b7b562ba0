"""The application factory: configuration, extensions, blueprints, CLI. Nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from engine import Clock, ScriptLimits, SystemClock, configure_scripts


def create_app(config: dict[str, Any] | None = None, clock: Clock | None = None) -> Flask:
    """Create the KITAS Online application; ``config`` overrides settings (tests pass their own)."""
    from kitas.config import load_config
    from kitas.extensions import csrf, db, login_manager, migrate
    from kitas.transactions import configure_engine, release_sessions_quietly

    app = Flask("kitas", instance_relative_config=True)
    app.config.update(load_config(Path(app.instance_path), config))
    app.extensions["kitas_clock"] = clock or SystemClock()
    from workflows import use_extra_catalogs

    # The catalog of this process: the shipped types, then those of every folder of KITAS_EXTRA_TYPES.
    use_extra_catalogs(Path(folder) / "kitas_types.json" for folder in app.config["KITAS_EXTRA_TYPES"])
    configure_scripts(
        ScriptLimits(
            cpu_seconds=float(app.config["KITAS_SCRIPT_CPU_SECONDS"]),
            memory_mb=int(app.config["KITAS_SCRIPT_MEMORY_MB"]),
            workers=int(app.config["KITAS_SCRIPT_WORKERS"]),
        )
    )
    hops = int(app.config["KITAS_PROXY_HOPS"])
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from kitas import models  # noqa: F401  (register the tables with the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).with_name("migrations")))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    from kitas.web.access import SIGN_IN_FIRST

    # A lazy text, flashed as a plain string in the language of the request that needed the sign-in.
    login_manager.login_message = SIGN_IN_FIRST
    login_manager.localize_callback = str
    login_manager.login_message_category = "info"
    with app.app_context():
        configure_engine(db.engine, app.config["KITAS_SQLITE_BUSY_TIMEOUT_MS"])
    release_sessions_quietly(app)

    from kitas.i18n import current_language, in_language, init_i18n, local_value, translate
    from kitas.services import notifications, reminders  # noqa: F401  (reminders registers its words)
    from kitas.web import register_web

    init_i18n(app)
    # E-mails, SMS and in-app messages are written in their reader's language by kitas.i18n, which
    # services do not import: the outbox is handed its functions here.
    notifications.use_localizer(
        notifications.Localizer(scope=in_language, text=translate, language=current_language, value=local_value)
    )

    register_web(app)

    from kitas.cli import register_commands

    register_commands(app)
    return app
