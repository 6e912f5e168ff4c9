"""Backups: `flask backup PATH` while bookings are being written, then a restore finds every booking."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import threading

import sqlalchemy as sa

from booking import create_app
from booking.models import Booking, Slot
from booking.services.bookings import VisitRequest, book_visit
from tests.conftest import SECRET, local


def _slots() -> list[dt.datetime]:
    """Bookable starts from 2 to 12 March 2027 (weekdays, 9:00 to 16:00)."""
    starts = []
    day = dt.date(2027, 3, 2)
    while day <= dt.date(2027, 3, 12):
        if day.weekday() < 5:
            starts += [local(f"{day.isoformat()}T{hour:02d}:00") for hour in range(9, 17)]
        day += dt.timedelta(days=1)
    return starts


class Writer(threading.Thread):
    """Books one visit after another, each in its own transaction, until told to stop."""

    def __init__(self, app, clock):
        super().__init__(daemon=True)
        self.app, self.clock = app, clock
        self.stop = threading.Event()
        self.committed = 0
        self.error: BaseException | None = None

    def run(self):
        try:
            with self.app.app_context():
                state = self.app.extensions["booking"]
                session = state.sessions()
                starts = _slots()
                while not self.stop.is_set() and self.committed < 2000:
                    start = starts[self.committed % len(starts)]
                    book_visit(session, state.rules, self.clock.now(), VisitRequest(
                        start=start, party_size=1 + self.committed % 3, name=f"Visitor {self.committed}",
                        email=f"v{self.committed}@example.be", language="en"))
                    self.committed += 1
                session.close()
        except BaseException as error:  # reported by the test
            self.error = error


def _references(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(sa.select(Booking.reference)))


def _consistent(engine) -> tuple[int, int, int]:
    """Bookings, people booked, and places the slots count taken: the last two must agree."""
    with engine.connect() as connection:
        bookings = connection.scalar(sa.select(sa.func.count()).select_from(Booking))
        people = connection.scalar(sa.select(sa.func.coalesce(sa.func.sum(Booking.party_size), 0)))
        taken = connection.scalar(sa.select(sa.func.coalesce(sa.func.sum(Slot.booked), 0)))
    return bookings, people, taken


def _restore_postgres(database_url: str, archive) -> str:
    """pg_restore the archive into a scratch database; returns its URL."""
    url = sa.make_url(database_url)
    scratch = f"{url.database}_restore"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{scratch}"')
    admin.dispose()
    target = url.set(database=scratch)
    libpq = target.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    subprocess.run([shutil.which("pg_restore"), "--no-owner", f"--dbname={libpq}", str(archive)], check=True,
                   capture_output=True, env={"PGPASSWORD": url.password or "", "PATH": "/usr/bin:/bin"})
    return target.render_as_string(hide_password=False)


def _drop_postgres(url: str) -> None:
    url = sa.make_url(url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    admin.dispose()


def test_a_backup_taken_while_bookings_are_written_restores_every_committed_booking(
        app, runner, clock, backend, database_url, tmp_path):
    engine = app.extensions["booking"].engine
    writer = Writer(app, clock)
    writer.start()
    try:
        while writer.committed < 30 and writer.is_alive():
            writer.join(0.01)
        before = _references(engine)  # committed before the backup starts
        archive = tmp_path / ("backup.sqlite3" if backend == "sqlite" else "backup.dump")
        result = runner.invoke(args=["backup", str(archive)])
        during = writer.committed
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output
    after = _references(engine)

    restored_url = (f"sqlite:///{archive}" if backend == "sqlite"
                    else _restore_postgres(database_url, archive))
    try:
        restored = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": restored_url})
        restored_engine = restored.extensions["booking"].engine
        found = _references(restored_engine)
        bookings, people, taken = _consistent(restored_engine)
        restored_engine.dispose()
    finally:
        if backend == "postgresql":
            _drop_postgres(restored_url)
    print(f"\nbackup ({backend}): {len(before)} bookings committed before it started, {len(found)} in the copy, "
          f"{len(after)} at the end ({during - len(before)} written during the backup)")
    assert before <= found <= after  # every booking committed before; nothing that never existed
    assert bookings == len(found)
    assert people == taken  # one consistent moment: the slots' counts match the bookings
    assert len(after) > len(before)  # bookings were really being written while the backup ran


def test_the_sqlite_backup_is_a_complete_database(tmp_path):
    """A backup of a file the app uses opens as the app's database, schema and all."""
    source = tmp_path / "live.sqlite3"
    app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{source}", "CHECK_SCHEMA": False})
    with app.app_context():
        from booking.cli import upgrade_database

        upgrade_database(app)
    runner = app.test_cli_runner()
    copy = tmp_path / "copy.sqlite3"
    result = runner.invoke(args=["backup", str(copy)])
    assert result.exit_code == 0, result.output
    restored = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{copy}"})
    with restored.extensions["booking"].engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    app.extensions["booking"].engine.dispose()
    restored.extensions["booking"].engine.dispose()
