"""Alembic environment: uses the app's connection when the app runs it, else DATABASE_URL."""

from alembic import context

from booking import models  # noqa: F401  (registers the tables)
from booking.db import Base, create_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from config import Config

    with create_engine(Config.DATABASE_URL).begin() as connection:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
