"""A worker's health, for the container healthcheck: ``python -m trainer.healthcheck``.

Healthy (exit 0) when what a job needs is there: the database answers and the bundle root is
a writable folder. Otherwise exit 1 with the reason on one line. Imports no torch, so that a
check every few seconds costs a fraction of a second.
"""

from __future__ import annotations

import os
import sys

from sqlalchemy import text

from shared.db import create_db_engine
from shared.settings import get_settings


def problems() -> list[str]:
    """Why a worker with these settings could not run a job now (empty: healthy)."""
    settings = get_settings()
    found = []
    engine = create_db_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means the same: no database
        found.append(f"database {engine.url.render_as_string(hide_password=True)}: {error}")
    finally:
        engine.dispose()
    root = settings.bundle_root
    if not root.is_dir() or not os.access(root, os.W_OK):
        found.append(f"bundle root {root} is not a writable folder")
    return found


def main() -> int:
    found = problems()
    if found:
        print("unhealthy: " + "; ".join(found).replace("\n", " "), file=sys.stderr)
        return 1
    print("healthy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
