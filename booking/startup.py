"""What the app refuses to start without: a real SECRET_KEY, compiled catalogs, a schema at head.

A half-installed app would otherwise run and misbehave quietly (every page in English, links
signed with a guessable key, a query on a column that does not exist yet). Each refusal is one
sentence that says what to run.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa

MIN_SECRET_KEY_LENGTH = 32
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class StartupRefused(RuntimeError):
    """The app is not installed completely; the message says what is missing and what to run."""


def missing_catalogs(translation_dir: str | Path, languages: tuple[str, ...]) -> list[str]:
    """The languages whose compiled catalog (messages.mo) is missing; English needs none."""
    root = Path(translation_dir)
    return [code for code in languages
            if code != "en" and not (root / code / "LC_MESSAGES" / "messages.mo").is_file()]


@cache
def head_revision() -> str:
    """The newest Alembic revision of the code (read once per process)."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {', '.join(heads)}")
    return heads[0]


def database_revision(connection: sa.Connection) -> str | None:
    """The revision the database is at, or None when Alembic has never run there."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.scalar(sa.text("SELECT version_num FROM alembic_version"))


def check_config(config) -> None:
    """Refuse a short SECRET_KEY and missing catalogs (no database needed)."""
    key = config.get("SECRET_KEY") or ""
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise StartupRefused(
            f"SECRET_KEY is {len(key)} characters long, and at least {MIN_SECRET_KEY_LENGTH} are needed: "
            "set it to the output of `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`.")
    missing = missing_catalogs(config["BABEL_TRANSLATION_DIRECTORIES"], tuple(config["LANGUAGES"]))
    if missing:
        raise StartupRefused(
            f"The compiled translations for {', '.join(missing)} are missing, so every page would be in "
            "English: run `pybabel compile -d translations` (deploy/install.sh and `make` do).")


def check_schema(engine: sa.Engine) -> None:
    """Refuse a database behind (or ahead of) the code's migrations."""
    with engine.connect() as connection:
        current = database_revision(connection)
    head = head_revision()
    if current != head:
        raise StartupRefused(
            f"The database schema is at revision {current or 'none'} and this code needs {head}: "
            "run `flask --app wsgi init-db` before starting the app.")
