"""Engine, sessions and transactions: one place that knows SQLite from PostgreSQL."""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.functions import FunctionElement

from booking.folding import fold_or_null

UTC = dt.UTC
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Use psycopg 3 for any PostgreSQL URL, whichever form the user gives."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class UTCDateTime(sa.types.TypeDecorator):
    """An aware datetime stored in UTC; SQLite keeps no offset, so it is added back on the way out."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_param(name: str) -> sa.BindParameter:
    """A bound UTC datetime for a statement built once and run with values (see availability.py)."""
    return sa.bindparam(name, type_=UTCDateTime())


def rendered_as(**templates: str):
    """Compile an SQL function of one argument (a FunctionElement class) from a template per
    dialect, `{}` standing for the argument as compiled."""

    def register(element_class):
        for dialect, template in templates.items():
            compiles(element_class, dialect)(functools.partial(_render_template, template))
        return element_class

    return register


def _render_template(template: str, element, compiler, **kw) -> str:
    return template.format(compiler.process(element.clauses, **kw))


@rendered_as(sqlite="CAST(strftime('%s', {}) AS INTEGER)", postgresql="CAST(EXTRACT(EPOCH FROM {}) AS BIGINT)")
class epoch_seconds(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """A UTCDateTime as whole seconds since 1970, computed by the database: reading an integer
    costs a fraction of reading a datetime, and a month's availability reads 180 of them."""

    type = sa.Integer()
    inherit_cache = True


@rendered_as(sqlite="fold({})", postgresql="lower(unaccent({}))")
class folded(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """A text folded without case and accents by the database, like `booking.folding.fold` (its
    docstring says why): SQLite calls that function, PostgreSQL the unaccent extension."""

    type = sa.String()
    inherit_cache = True


class Base(DeclarativeBase):
    pass


def create_engine(url: str) -> sa.Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        _make_sqlite_transactional(engine)
        _register_sqlite_functions(engine)
    else:
        engine = sa.create_engine(url, pool_pre_ping=True)
    return engine


def _make_sqlite_transactional(engine: sa.Engine) -> None:
    """Let SQLAlchemy issue BEGIN itself, IMMEDIATE for writes, so two writers never interleave.

    pysqlite starts transactions lazily and never with IMMEDIATE; a write transaction that began as
    a reader would fail with "database is locked" instead of waiting its turn.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        immediate = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _register_sqlite_functions(engine: sa.Engine) -> None:
    """The SQL functions SQLite lacks, in Python on each new connection (no statement is sent)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.create_function("fold", 1, fold_or_null, deterministic=True)


def make_session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# PostgreSQL SQLSTATEs worth a retry: serialization failure, deadlock.
_RETRYABLE_SQLSTATES = {"40001", "40P01"}


class RetryTransaction(Exception):
    """Raised inside an operation to start it again in a new transaction (e.g. a reference clash)."""


def _is_retryable(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error.orig)


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One write transaction: BEGIN IMMEDIATE on SQLite, committed on success, rolled back on error."""
    if session.in_transaction():
        session.commit()  # end any read transaction so the write one starts with the right BEGIN
    session.connection(execution_options={"write": True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def retry_on_clash(clash: str | None = None) -> Iterator[None]:
    """An integrity error inside makes `atomic` run the whole operation again (a random reference
    drawn twice, a guide another transaction held first). With `clash`, only an error naming that
    column does; any other (a repeated request key) is the caller's to handle."""
    try:
        yield
    except IntegrityError as error:
        if clash is not None and clash not in str(error.orig):
            raise
        raise RetryTransaction() from error


def flush_or_retry(session: Session, clash: str | None = None) -> None:
    """Flush, under retry_on_clash."""
    with retry_on_clash(clash):
        session.flush()


def atomic(session: Session, operation: Callable[[], T], attempts: int = 5) -> T:
    """Run `operation` in one write transaction, again when the database asks for a retry."""
    for attempt in range(1, attempts + 1):
        try:
            with write_transaction(session):
                return operation()
        except RetryTransaction:
            if attempt == attempts:
                raise
        except IntegrityError:
            raise
        except DBAPIError as error:
            if attempt == attempts or not _is_retryable(error):
                raise
        time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")
