"""One writing transaction per use case, safe under concurrency on SQLite and PostgreSQL.

SQLite: the driver's own transaction handling is switched off and every
transaction is begun by us, ``BEGIN IMMEDIATE`` for writing ones (a deferred
transaction that read first cannot wait for the write lock), plain ``BEGIN``
for reads. PostgreSQL: services lock the rows they change (``FOR UPDATE``).

Writing transactions do not nest: opening one inside another is an error, never a
silent commit of the outer one's half-done work. Whatever must be written although
the use case failed (a refused access, say) is written after the failed transaction
has rolled back, by the mechanism that saw the failure (``audit.audited_refusals``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from .extensions import db

_writing: ContextVar[bool] = ContextVar("kitas_writing", default=False)


class TransactionNested(RuntimeError):
    """A writing transaction was opened while another one is open (a programming error)."""


class UnsavedChanges(RuntimeError):
    """Objects were changed outside any writing transaction (a programming error)."""


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Install the SQLite connection and transaction hooks (no-op elsewhere)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _writing.get() else "BEGIN")


def release_sessions_quietly(app: Flask) -> None:
    """End each request's session without failing when the database went away meanwhile.

    Flask-SQLAlchemy closes the session when the application context ends; closing rolls back, and a
    rollback on a connection the database dropped (a restart) raises, after the page was answered, so
    the client got a bare 500 instead of the page. Registered after Flask-SQLAlchemy's own teardown,
    this one runs first: the failed rollback invalidates the connection, so closing again succeeds.
    """

    @app.teardown_appcontext
    def _release(_exc: BaseException | None) -> None:
        try:
            db.session.remove()
        except (OperationalError, InterfaceError):
            try:
                db.session.remove()
            except Exception:  # nothing more can be done for this connection; forget the session
                db.session.registry.clear()


def is_postgres() -> bool:
    """True when the application runs on PostgreSQL."""
    return bool(db.engine.dialect.name == "postgresql")


def in_write_transaction() -> bool:
    """True inside ``write_transaction``."""
    return _writing.get()


@contextmanager
def write_transaction() -> Iterator[Any]:
    """Run a block as one writing transaction: commit at the end, roll back on any error.

    Raises TransactionNested inside another writing transaction, and UnsavedChanges when the
    session holds changes made outside one (they would be committed by accident).
    """
    if _writing.get():
        raise TransactionNested("a writing transaction is already open; a use case owns exactly one")
    session = db.session()
    if session.in_transaction():
        if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
            raise UnsavedChanges("the session holds changes made outside a writing transaction")
        # A read before the write would hold a deferred SQLite transaction; end it. It wrote nothing, so
        # what it loaded (the signed-in user, say) stays loaded instead of being read again under the lock.
        session.expire_on_commit = False
        try:
            session.commit()
        finally:
            session.expire_on_commit = True
    token = _writing.set(True)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        _writing.reset(token)
