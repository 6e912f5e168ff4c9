"""Is the service healthy? The database, its schema, the outbox backlog and the worker's heartbeat.

Read in one SELECT, so a monitor may ask every few seconds. Nothing personal is read: counts,
ages and a revision.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking.db import UTCDateTime, atomic, flush_or_retry
from booking.models import OutboxMessage, Setting

HEARTBEAT = "worker_heartbeat"
_alembic_version = sa.table("alembic_version", sa.column("version_num", sa.String))


@dataclass(frozen=True)
class HealthLimits:
    worker_heartbeat_max: dt.timedelta | None  # None: no worker expected (cron runs the jobs)
    outbox_oldest_max: dt.timedelta

    @classmethod
    def from_config(cls, config) -> HealthLimits:
        heartbeat = int(config["WORKER_HEARTBEAT_MAX_SECONDS"])
        return cls(worker_heartbeat_max=dt.timedelta(seconds=heartbeat) if heartbeat > 0 else None,
                   outbox_oldest_max=dt.timedelta(seconds=int(config["HEALTH_OUTBOX_MAX_AGE_SECONDS"])))


@dataclass
class Health:
    checks: dict[str, dict] = field(default_factory=dict)
    failing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failing

    def add(self, name: str, ok: bool, **details) -> None:
        self.checks[name] = {"ok": ok, **details}
        if not ok:
            self.failing.append(name)

    def as_json(self) -> dict:
        return {"status": "ok" if self.ok else "failing", "failing": self.failing, "checks": self.checks}


def _pending():
    return OutboxMessage.status == "pending"


_READ = sa.select(
    sa.select(_alembic_version.c.version_num).limit(1).scalar_subquery().label("revision"),
    sa.select(sa.func.count()).select_from(OutboxMessage).where(_pending()).scalar_subquery().label("pending"),
    sa.type_coerce(sa.select(sa.func.min(OutboxMessage.created_at)).where(_pending()).scalar_subquery(),
                   UTCDateTime()).label("oldest"),
    sa.type_coerce(sa.select(Setting.updated_at).where(Setting.key == HEARTBEAT).scalar_subquery(),
                   UTCDateTime()).label("heartbeat"),
)


def _seconds(delta: dt.timedelta) -> int:
    return max(int(delta.total_seconds()), 0)


def check(session: Session, now: dt.datetime, limits: HealthLimits, head: str,
          missing_catalogs: list[str]) -> Health:
    """Every check, each with ok and its figures; `failing` names those that are not ok."""
    health = Health()
    health.add("catalogs", not missing_catalogs, missing=missing_catalogs)
    try:
        row = session.execute(_READ).one()
    except sa.exc.DBAPIError as error:
        session.rollback()
        health.add("database", False, error=type(error.orig).__name__ if error.orig else type(error).__name__)
        return health
    finally:
        if session.in_transaction():
            session.rollback()  # a read: nothing to keep, and no transaction left open
    health.add("database", True)
    health.add("schema", row.revision == head, revision=row.revision, expected=head)
    oldest = _seconds(now - row.oldest) if row.oldest is not None else None
    health.add("outbox", oldest is None or oldest <= _seconds(limits.outbox_oldest_max),
               pending=row.pending, oldest_pending_seconds=oldest)
    if limits.worker_heartbeat_max is None:
        health.checks["worker"] = {"ok": True, "expected": False}
    else:
        age = _seconds(now - row.heartbeat) if row.heartbeat is not None else None
        health.add("worker", age is not None and age <= _seconds(limits.worker_heartbeat_max),
                   last_heartbeat_seconds=age)
    return health


def beat(session: Session, now: dt.datetime) -> None:
    """The worker is alive at `now`: one row, rewritten at every pass of every worker."""

    def operation() -> None:
        value = {"host": socket.gethostname(), "pid": os.getpid()}
        updated = session.execute(sa.update(Setting).where(Setting.key == HEARTBEAT)
                                  .values(value=value, updated_at=now)
                                  .execution_options(synchronize_session=False))
        if updated.rowcount == 0:  # the first beat; two workers' first beats at once: one retries
            session.add(Setting(key=HEARTBEAT, value=value, updated_at=now))
            flush_or_retry(session)

    atomic(session, operation)
