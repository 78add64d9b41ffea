"""Create or upgrade the database schema with the alembic migrations in
``shared/db/migrations/``, which ship with the package (a wheel install runs them too).

    python -m shared.db.migrate            # upgrade PMTREC_DATABASE_URL to the newest schema
    python -m shared.db.migrate --current  # print the schema revision

The API and the worker call ``upgrade_database`` on start-up (unless PMTREC_AUTO_MIGRATE is
false). Concurrent start-ups are safe: on PostgreSQL the upgrade holds an advisory lock, on
SQLite an immediate (write) transaction, so one process migrates and the others then find
the schema current. A database created before migrations existed (tables, no
``alembic_version``) is adopted as revision 0001 and upgraded from there.
"""

from __future__ import annotations

import argparse
import logging
import sys
from importlib import resources

# Importing alembic sets its plugins up, one "setup plugin ..." INFO line each (seven on
# every API or worker start) that say nothing about this database: silenced before then.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text  # noqa: E402

from shared.db.sqlite import configure_sqlite  # noqa: E402

log = logging.getLogger("shared.db.migrate")

# Package data of shared.db (pyproject.toml), found where the package is installed.
MIGRATIONS_DIR = resources.files("shared.db") / "migrations"
FIRST_REVISION = "0001"
# pg_advisory_xact_lock key: "pmtrec migrate" as a number.
_LOCK_KEY = 0x706D7472656D6967


def alembic_config() -> Config:
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise RuntimeError(f"the migrations folder {MIGRATIONS_DIR} is missing")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["configure_logging"] = False  # keep the host process's logging
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _write_locked_engine(engine: Engine) -> Engine | None:
    """For a SQLite file: an engine whose transactions start with BEGIN IMMEDIATE (the
    database's write lock, taken up front), so the whole upgrade is one locked transaction."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    locked = create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(locked, "connect")
    def _no_implicit_transactions(dbapi_connection, record) -> None:
        configure_sqlite(dbapi_connection, record)  # WAL, foreign keys: as the app's engine
        dbapi_connection.isolation_level = None  # the driver's own BEGIN handling off

    @event.listens_for(locked, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return locked


def _upgrade(connection: Connection, config: Config) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    config.attributes["connection"] = connection
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables and "model_versions" in tables:
        log.info("adopting a database created before migrations as revision %s", FIRST_REVISION)
        command.stamp(config, FIRST_REVISION)
    command.upgrade(config, "head")


def upgrade_database(engine: Engine) -> str:
    """Bring the database behind ``engine`` to the newest schema; returns its revision."""
    config = alembic_config()
    locked = _write_locked_engine(engine)
    try:
        with (locked or engine).begin() as connection:
            _upgrade(connection, config)
    finally:
        if locked is not None:
            locked.dispose()
    revision = current_revision(engine)
    assert revision is not None
    return revision


def init_db(engine: Engine) -> str:
    """Create or upgrade the schema (``upgrade_database``); returns the schema revision."""
    return upgrade_database(engine)


def main(argv: list[str] | None = None) -> int:
    from shared.db.engine import create_db_engine
    from shared.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m shared.db.migrate", description=__doc__)
    parser.add_argument("--current", action="store_true", help="print the revision and stop")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    engine = create_db_engine(get_settings().database_url)
    try:
        if args.current:
            print(current_revision(engine) or "none (empty database)")
            return 0
        revision = upgrade_database(engine)
        print(f"database schema at revision {revision} (head {head_revision()})")
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
