"""The schema comes from the alembic migrations, matches the models, and upgrades old
databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import zipfile
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.db import Base, FeedbackEvent, ModelVersion, create_db_engine, init_db
from shared.db.migrate import alembic_config, current_revision, head_revision
from tests.conftest import REPO


def test_migrations_build_exactly_the_models_schema(database_url):
    engine = create_db_engine(database_url)
    try:
        assert init_db(engine) == head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        assert init_db(engine) == head_revision()  # idempotent
    finally:
        engine.dispose()


def test_a_database_from_before_migrations_is_adopted_and_upgraded(database_url):
    engine = create_db_engine(database_url)
    try:
        # What the first service release created with create_all: two tables, no version.
        Base.metadata.create_all(engine, tables=[ModelVersion.__table__, FeedbackEvent.__table__])
        now = datetime.now(timezone.utc)
        with engine.begin() as connection:
            connection.execute(
                sa.insert(FeedbackEvent.__table__).values(
                    user_id="u", item_id="i", timestamp=now, received_at=now
                )
            )
        assert current_revision(engine) is None
        assert init_db(engine) == head_revision()
        tables = set(sa.inspect(engine).get_table_names())
        assert {"jobs", "evaluations", "alembic_version"} <= tables
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM feedback")).scalar() == 1
    finally:
        engine.dispose()


def test_concurrent_start_ups_migrate_once(database_url):
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def start_up() -> None:
        engine = create_db_engine(database_url)
        try:
            start.wait()
            init_db(engine)
        except BaseException as error:  # what the test looks for
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start_up) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    engine = create_db_engine(database_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_downgrade_and_upgrade_again(database_url):
    engine = create_db_engine(database_url)
    config = alembic_config()
    try:
        init_db(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        assert init_db(engine) == head_revision()
    finally:
        engine.dispose()


def test_no_production_path_creates_tables_without_migrations():
    sources = [*REPO.glob("service/**/*.py"), *REPO.glob("shared/**/*.py")]
    sources += [REPO / "trainer" / "worker.py", *REPO.glob("trainer/jobs/*.py")]
    assert [p for p in sources if "create_all" in p.read_text()] == []


def test_a_start_logs_no_alembic_plugin_lines(tmp_path):
    """Issue 18 item 10: alembic sets its plugins up (seven "setup plugin" INFO lines) the
    first time a process migrates; a fresh process, logging at INFO as the service and the
    worker do, migrates and shows none of them, while alembic's useful lines still show."""
    script = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, format='%(name)s: %(message)s')\n"
        "from shared.db import create_db_engine, init_db\n"
        "init_db(create_db_engine(sys.argv[1]))\n"
    )
    url = f"sqlite:///{tmp_path / 'start.db'}"
    done = subprocess.run(
        [sys.executable, "-c", script, url], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "alembic.runtime.migration: Running upgrade" in done.stderr
    assert "setup plugin" not in done.stderr


def test_shared_db_has_no_import_cycle():
    """engine is imported by migrate, never the other way round."""
    engine_source = (REPO / "shared" / "db" / "engine.py").read_text()
    assert "migrate" not in engine_source
    assert (
        "shared.db.engine"
        not in (REPO / "shared" / "db" / "migrate.py").read_text().split("def main(")[0]
    )


def test_a_wheel_install_runs_the_migrations(tmp_path):
    """The migrations ship inside the wheel (package data of shared.db): installed without the
    source tree, the package finds and runs them."""
    # Built from a copy of the sources: the build leaves nothing in the repository.
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("shared", "trainer", "service"):
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(source),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("pmtrec-*.whl")
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    assert (installed / "shared" / "db" / "migrations" / "versions").is_dir()
    script = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import shared\n"
        "assert shared.__file__.startswith(sys.argv[1]), shared.__file__\n"
        "from shared.db import create_db_engine, init_db\n"
        "from shared.db.migrate import head_revision\n"
        "print(init_db(create_db_engine(sys.argv[2])), head_revision())\n"
    )
    url = f"sqlite:///{tmp_path / 'wheel.db'}"
    # Run outside the repository, so that nothing is found through the source tree.
    done = subprocess.run(
        [sys.executable, "-c", script, str(installed), url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    revision, head = done.stdout.split()
    assert revision == head == head_revision()
