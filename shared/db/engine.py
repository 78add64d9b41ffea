"""Engine and session handling: one engine per process, short sessions per unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from shared.db.sqlite import configure_sqlite


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


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)
