"""The SQLAlchemy engine and the per-app-context session."""

from __future__ import annotations

import re
import time

from flask import Flask, current_app, g
from sqlalchemy import Engine, MetaData, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

EXTENSION_KEY = "switchboard.database"
AUTOCOMMIT_KEY = "switchboard.database.autocommit"
# A pooled server connection is checked before use only after this long unused (see ping_when_idle).
IDLE_PING_SECONDS = 10.0
# libpq waits forever for a server that accepts TCP and then says nothing (or drops packets): a request, a worker's
# job or `db upgrade` would hang with it. `?connect_timeout=N` in SWITCHBOARD_DATABASE_URL overrides this.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10
# Once connected, a server host that goes silent (a network partition, a machine gone without closing its sockets)
# would hold a statement for the kernel's TCP limits: about 15 minutes for a query sent and never acknowledged, and
# forever for one waiting on an answer over an idle socket. Keepalive probes start after 20 s without traffic, every
# 5 s, and 4 unanswered ones end the connection; data unacknowledged for 30 s ends it too (tcp_user_timeout, in ms,
# which on Linux also bounds the keepalive probing). A dead peer is noticed within about 30-40 s; a live server's
# kernel answers the probes, so a long query is never cut. Each one set in the URL's query is used as written.
POSTGRES_KEEPALIVE_OPTIONS = {
    "keepalives": 1,
    "keepalives_idle": 20,
    "keepalives_interval": 5,
    "keepalives_count": 4,
    "tcp_user_timeout": 30_000,
}


# Named constraints: SQLite migrations (batch mode) can only drop or alter constraints that have a name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every Switchboard table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Database:
    """Binds one engine per app; hands out one session per app context, closed at teardown."""

    def init_app(self, app: Flask) -> None:
        """Create the app's engine (lazily connecting) and register session teardown."""
        url, echo = app.config["DATABASE_URL"], bool(app.config.get("SQLALCHEMY_ECHO"))
        try:
            engine = build_engine(url, echo=echo)
        except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
            from backend.config import ConfigurationError

            # The message names the problem (no driver for a scheme, a port that is no number, no URL at all), never
            # the URL itself, which may hold a password.
            raise ConfigurationError(f"SWITCHBOARD_DATABASE_URL cannot be used: {exc}") from None
        app.extensions[EXTENSION_KEY] = sessionmaker(bind=engine, expire_on_commit=False)
        app.extensions[AUTOCOMMIT_KEY] = build_engine(url, echo=echo, autocommit=True)
        app.teardown_appcontext(self._remove_session)

    @property
    def engine(self) -> Engine:
        """The current app's engine."""
        return self._sessionmaker().kw["bind"]

    @property
    def autocommit_engine(self) -> Engine:
        """The current app's engine whose statements each commit on their own: for the shared counters and run
        records written on every call (backend/metering), where a transaction would keep a row every request
        needs locked across a round trip. A pool of its own, so no checkout switches a connection's mode."""
        return current_app.extensions[AUTOCOMMIT_KEY]

    @property
    def session(self) -> Session:
        """The session of the current app context, created on first use."""
        if "db_session" not in g:
            g.db_session = self._sessionmaker()()
        return g.db_session

    def commit_if_open(self) -> None:
        """Commit the current app context's session if one was made; a request that read everything from caches
        has none, and making one only to commit it cost more than the rest of its database work."""
        session = g.get("db_session")
        if session is not None:
            session.commit()

    @staticmethod
    def _sessionmaker() -> sessionmaker:
        return current_app.extensions[EXTENSION_KEY]

    @staticmethod
    def _remove_session(exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


# `postgresql://` means psycopg (version 3) to SQLAlchemy 2.1; Switchboard ships psycopg2, which gevent workers make
# cooperative (gunicorn_conf.post_worker_init), so a URL that names no driver gets that one.
_POSTGRES_WITHOUT_DRIVER = re.compile(r"^(db\+|sqla\+)?(postgresql|postgres)://")


def with_installed_driver(url: str) -> str:
    """A PostgreSQL URL (also Celery's `db+` and `sqla+` forms) without a driver, given the installed psycopg2."""
    return _POSTGRES_WITHOUT_DRIVER.sub(r"\1postgresql+psycopg2://", url, count=1)


def postgres_connect_args(url: str) -> dict:
    """The libpq options of every PostgreSQL connection Switchboard opens (connect timeout, keepalives, TCP user
    timeout), less those the URL's own query sets: an operator's `?keepalives_idle=60` is used as written. Empty for
    other databases. `url` is a SQLAlchemy URL (without Celery's `db+` or `sqla+` prefix)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    defaults = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS, **POSTGRES_KEEPALIVE_OPTIONS}
    # create_engine lets connect_args override the URL's query: leave out what the operator wrote there.
    return {name: value for name, value in defaults.items() if name not in parsed.query}


def build_engine(url: str, echo: bool = False, autocommit: bool = False) -> Engine:
    """Create an engine with the settings each backend needs for many threads and processes; with autocommit,
    every statement commits on its own and a returned connection needs no rollback."""
    options: dict = {"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None} if autocommit else {}
    # Statement parameters hold job inputs and outputs (document text): never in SQLALCHEMY_ECHO's log lines nor in
    # the messages of database errors.
    options["hide_parameters"] = True
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}, **options)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    # The autocommit pool only ever holds a connection for one short statement: a third of the main pool's size, so
    # a worker opens at most 45 server connections (PostgreSQL's default limit is 100 for the whole server).
    size, overflow = (5, 10) if autocommit else (10, 20)
    options["connect_args"] = postgres_connect_args(url)
    engine = create_engine(url, echo=echo, pool_size=size, max_overflow=overflow, **options)
    ping_when_idle(engine, IDLE_PING_SECONDS)
    return engine


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection with a ping before use, but only when it sat unused for `idle_seconds` or more.

    SQLAlchemy's `pool_pre_ping` pings on every checkout: a second round trip for each accounting statement of every
    call (measured on PostgreSQL at 100 clients: 178 requests/s with it, 194 without; docs/performance.md). Under
    load a connection comes back to work within milliseconds, so the ping is skipped; after a quiet spell, when a
    database restart or an idle timeout would have dropped it, the ping runs, and a failed ping makes the pool
    replace the connection and try again (SQLAlchemy's documented `checkout` event with DisconnectionError), so the
    request never sees it. Left uncovered: connections that die while the pool is busy (a restart under load). The
    first statement on one fails (that request answers 500) and SQLAlchemy then replaces every older pooled
    connection of the engine, so about one request per process and engine fails, where pinging every checkout
    would have hidden it.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection, record) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("returned_at", 0.0) < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure means the connection is unusable
            raise DisconnectionError("a pooled database connection was closed while idle") from exc


def _configure_sqlite(dbapi_connection, _record) -> None:
    """WAL lets readers and one writer work at once; foreign keys are off in SQLite unless asked for."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL skips the fsync of every commit (the WAL is synced at checkpoints): still crash-safe, and a
    # power cut can lose only the last commits. FULL made every request wait for several disk flushes.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
