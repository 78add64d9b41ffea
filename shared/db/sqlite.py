"""SQLite connection settings, shared by the application's engines and the migrations'."""

from __future__ import annotations

import sqlite3
import time


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
