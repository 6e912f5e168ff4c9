"""Backups: `flask backup PATH` while bookings are being written, then `flask restore` finds every
booking and every uploaded image; restore refuses to overwrite by mistake; rotation keeps the newest."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import tarfile
import threading
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from booking import create_app
from booking.models import Booking, Exhibition, Slot
from booking.services.bookings import VisitRequest, book_visit
from tests.conftest import SECRET, local
from tests.test_whatson import PNG, exhibition_form


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


def _empty_database(backend: str, database_url: str, tmp_path) -> str:
    """A database with nothing in it to restore into: a new SQLite file, or a scratch PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    url = sa.make_url(database_url)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    scratch = f"{url.database}_restore"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{scratch}"')
    admin.dispose()
    return url.set(database=scratch).render_as_string(hide_password=False)


def _drop_postgres(url: str) -> None:
    url = sa.make_url(url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    admin.dispose()


@contextmanager
def restored(backend, database_url, tmp_path, archive, *extra_args):
    """An app on an empty database into which `flask restore ARCHIVE` put the backup back, with its
    own instance folder; yields (app, the command's result)."""
    target = _empty_database(backend, database_url, tmp_path)
    app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": target, "INSTANCE_PATH": str(tmp_path / "restored"),
                      "CHECK_SCHEMA": False})  # empty until restored, as under `flask restore`
    try:
        with app.app_context():  # its own, even inside a test that holds the first app's context
            result = app.test_cli_runner().invoke(args=["restore", str(archive), *extra_args])
        yield app, result
    finally:
        app.extensions["booking"].engine.dispose()
        if backend == "postgresql":
            _drop_postgres(target)


def test_a_backup_taken_while_bookings_are_written_restores_every_committed_booking(
        app, runner, clock, backend, database_url, tmp_path):
    engine = app.extensions["booking"].engine
    writer = Writer(app, clock)
    writer.start()
    try:
        while writer.committed < 30 and writer.is_alive():
            writer.join(0.01)
        before = _references(engine)  # committed before the backup starts
        archive = tmp_path / "backup.tar"
        result = runner.invoke(args=["backup", str(archive)])
        during = writer.committed
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output
    after = _references(engine)

    with restored(backend, database_url, tmp_path, archive) as (restored_app, restore):
        assert restore.exit_code == 0, restore.output
        restored_engine = restored_app.extensions["booking"].engine
        found = _references(restored_engine)
        bookings, people, taken = _consistent(restored_engine)
    print(f"\nbackup ({backend}): {len(before)} bookings committed before it started, {len(found)} in the copy, "
          f"{len(after)} at the end ({during - len(before)} written during the backup)")
    assert before <= found <= after  # every booking committed before; nothing that never existed
    assert bookings == len(found)
    assert people == taken  # one consistent moment: the slots' counts match the bookings
    assert len(after) > len(before)  # bookings were really being written while the backup ran


def test_the_sqlite_copy_in_a_backup_is_a_complete_database(tmp_path):
    """The database file in a backup opens as the app's database, schema and all."""
    source = tmp_path / "live.sqlite3"
    app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{source}", "CHECK_SCHEMA": False})
    with app.app_context():
        from booking.cli import upgrade_database

        upgrade_database(app)
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.tar")])
    assert result.exit_code == 0, result.output
    with tarfile.open(tmp_path / "copy.tar") as archive:
        assert json.loads(archive.extractfile("backup.json").read())["database"] == "sqlite"
        (tmp_path / "copy.sqlite3").write_bytes(archive.extractfile("database.sqlite3").read())
    copy = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'copy.sqlite3'}"})
    with copy.extensions["booking"].engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    app.extensions["booking"].engine.dispose()
    copy.extensions["booking"].engine.dispose()


@pytest.fixture
def instance(config_overrides, tmp_path):
    """The app's instance folder (uploads), apart from the code as in production."""
    config_overrides["INSTANCE_PATH"] = str(tmp_path / "instance")
    return tmp_path / "instance"


def test_a_backup_holds_the_uploaded_images_and_restore_puts_them_back(
        instance, staff_client, app, runner, session, book, backend, database_url, tmp_path):
    response = staff_client.post("/staff/whats-on/exhibitions/new", data={
        **exhibition_form(), "image": (io.BytesIO(PNG), "poster.png")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    image = session.scalars(sa.select(Exhibition.image)).one()
    assert (instance / "uploads" / image).read_bytes() == PNG
    reference = book("2027-03-02T10:00").reference

    result = runner.invoke(args=["backup", str(tmp_path / "backup.tar")])
    assert result.exit_code == 0, result.output
    assert "1 uploaded images" in result.output

    with restored(backend, database_url, tmp_path, tmp_path / "backup.tar") as (restored_app, restore):
        assert restore.exit_code == 0, restore.output
        assert "Database is up to date." in restore.output
        assert (tmp_path / "restored" / "uploads" / image).read_bytes() == PNG
        engine = restored_app.extensions["booking"].engine
        assert _references(engine) == {reference}
        with engine.connect() as connection:
            assert connection.scalar(sa.select(Exhibition.image)) == image
        # The restored app serves the image, as the home page shows it.
        assert restored_app.test_client().get(f"/media/{image}").data == PNG


def test_restore_refuses_a_database_that_holds_tables_unless_forced(app, runner, book, backend, database_url,
                                                                      tmp_path):
    first = book("2027-03-02T10:00").reference
    assert runner.invoke(args=["backup", str(tmp_path / "backup.tar")]).exit_code == 0
    later = book("2027-03-02T11:00").reference  # after the backup: the restore takes it away
    app.extensions["booking"].engine.dispose()  # the test's sessions let go of the database

    refused = runner.invoke(args=["restore", str(tmp_path / "backup.tar")])
    assert refused.exit_code != 0
    assert "already holds" in refused.output and "--force" in refused.output
    assert _references(app.extensions["booking"].engine) == {first, later}  # untouched

    forced = runner.invoke(args=["restore", str(tmp_path / "backup.tar"), "--force"])
    assert forced.exit_code == 0, forced.output
    assert _references(app.extensions["booking"].engine) == {first}


def test_restore_refuses_a_file_that_is_not_a_backup(runner, tmp_path):
    (tmp_path / "notes.tar").write_bytes(b"not a tar file")
    result = runner.invoke(args=["restore", str(tmp_path / "notes.tar")])
    assert result.exit_code != 0
    assert "is not a backup this app wrote" in result.output


def test_backups_in_a_folder_keep_only_the_newest(app, runner, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    for day in (1, 2, 3):  # older backups (2023), oldest first
        old = folder / f"booking-2023-11-1{day}T023000Z.tar"
        old.write_bytes(b"")
        os.utime(old, (1_700_000_000 + day, 1_700_000_000 + day))
    (folder / "notes.txt").write_text("not a backup: rotation leaves it alone")

    result = runner.invoke(args=["backup", "--dir", str(folder), "--keep", "2"])
    assert result.exit_code == 0, result.output
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == 3 and "booking-2023-11-13T023000Z.tar" in kept and "notes.txt" in kept
    new = next(name for name in kept if name.startswith("booking-") and "2023-11" not in name)
    with tarfile.open(folder / new) as archive:
        assert archive.getnames()[0] == "backup.json"
    assert "Removed 2 older" in result.output


def test_the_backup_command_takes_a_path_or_a_folder(runner, tmp_path):
    assert runner.invoke(args=["backup"]).exit_code != 0
    assert runner.invoke(args=["backup", str(tmp_path / "a.tar"), "--dir", str(tmp_path)]).exit_code != 0
    assert runner.invoke(args=["backup", str(tmp_path / "a.tar"), "--keep", "3"]).exit_code != 0
