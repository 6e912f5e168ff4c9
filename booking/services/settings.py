"""Values staff change from the back office, kept in the `setting` table (key -> JSON value)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking.models import Setting

DEFAULT_CAPACITY = "default_capacity"
DEFAULT_KEPT_BACK = "default_kept_back"


def get_setting(session: Session, key: str, default: Any = None) -> Any:
    value = session.scalar(sa.select(Setting.value).where(Setting.key == key))
    return default if value is None else value


def put_setting(session: Session, key: str, value: Any, now: dt.datetime) -> None:
    """Store `value` under `key` inside the caller's transaction."""
    setting = session.get(Setting, key)
    if setting is None:
        session.add(Setting(key=key, value=value, updated_at=now))
    else:
        setting.value = value
        setting.updated_at = now


def default_capacity(session: Session, configured: int) -> int:
    """The capacity of a slot that has none of its own: staff's setting, else configuration."""
    return int(get_setting(session, DEFAULT_CAPACITY, configured))


def default_kept_back(session: Session) -> int:
    """Places kept back in a slot that has no number of its own: staff's setting, else none."""
    return int(get_setting(session, DEFAULT_KEPT_BACK, 0))


def _integer_setting_sql(key: str, fallback) -> sa.ColumnElement[int]:
    stored = sa.select(sa.cast(sa.cast(Setting.value, sa.Text), sa.Integer)).where(Setting.key == key).scalar_subquery()
    return sa.func.coalesce(stored, fallback)


def default_capacity_sql(configured: int) -> sa.ColumnElement[int]:
    """The same as default_capacity(), as an SQL expression to put inside another statement.

    The booking statement and the availability read use it, so staff's default costs them no
    statement of their own. JSON is read as text, then as an integer: SQLite and PostgreSQL alike.
    """
    return _integer_setting_sql(DEFAULT_CAPACITY, configured)


def default_kept_back_sql() -> sa.ColumnElement[int]:
    """default_kept_back() as an SQL expression, like default_capacity_sql()."""
    return _integer_setting_sql(DEFAULT_KEPT_BACK, 0)
