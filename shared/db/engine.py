"""Engine and session handling: one engine per process, short sessions per unit of work."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` (SQLite file or PostgreSQL), ready for use from several threads."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"check_same_thread": False, "timeout": 30}
        connect_args.update(kwargs.pop("connect_args", {}))
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", configure_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # Wait for another connection's lock instead of failing at once (concurrent start-ups,
    # a worker beside the API).
    cursor.execute("PRAGMA busy_timeout=60000")
    # WAL lets readers proceed while a writer commits (service threads + a worker process).
    # Switching needs the database to itself and SQLite answers "locked" at once instead of
    # waiting, so retry for a while; the file stays in WAL mode once one connection switched.
    for attempt in range(200):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] not in ("memory", "wal"):
                cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == 199:
                raise
            time.sleep(0.05)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def init_db(engine: Engine) -> str:
    """Create or upgrade the schema with the migrations (``shared.db.migrate``); returns the
    schema revision."""
    from shared.db.migrate import upgrade_database

    return upgrade_database(engine)
