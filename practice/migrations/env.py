"""Alembic environment for practice.db, configured in code (no alembic.ini needed).

``practice.migrate`` passes an open connection in ``config.attributes["connection"]``;
without one, the database is ``sqlalchemy.url`` or else ``DATABASE_URL`` (or the default
SQLite file from ``practice.settings``)::

    python -m practice.migrate upgrade                  # the usual way
    python -m practice.migrate revision -m "add x"      # autogenerate a new migration
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from practice.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE via copy on SQLite
        compare_type=True,
    )


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from practice.settings import load_settings

    url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
