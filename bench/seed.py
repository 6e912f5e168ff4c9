"""The benchmark's databases: a fresh schema through Alembic, then years of history in bulk SQL.

Seeding never goes through HTTP or the services: it plans slot, booking and outbox rows in Python
(deterministic, from a seeded RNG) and inserts them with executemany through booking.models'
tables. Slot rows' `booked` always equals the places of their confirmed bookings.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy as sa

from booking import schedule
from booking.db import create_engine, normalise_url
from booking.models import Booking, OutboxMessage, Slot, StaffUser
from booking.references import ALPHABET, LENGTH, PREFIX
from booking.schedule import Rules

REPO = Path(__file__).resolve().parent.parent
UTC = dt.UTC

# Party sizes 1–8: couples most often, large families rarely (mean ≈ 3.4).
PARTY_SIZES = (1, 2, 3, 4, 5, 6, 7, 8)
PARTY_WEIGHTS = (13, 30, 13, 19, 9, 8, 4, 4)
LANGUAGE_CHOICES = ("fr", "nl", "en", "de")
LANGUAGE_WEIGHTS = (42, 36, 15, 7)
FIRST_NAMES = ("Anne", "Luc", "Sofie", "Mohamed", "Julie", "Pieter", "Fatima", "Marc", "Emma", "Jan",
               "Nadia", "Thomas", "Lotte", "Karim", "Claire", "Wouter", "Ines", "Hans", "Léa", "Bram")
LAST_NAMES = ("Martin", "Peeters", "Janssens", "Dubois", "Maes", "Lambert", "El Amrani", "Jacobs",
              "Dupont", "Willems", "Claes", "Mertens", "Renard", "Goossens", "Wouters", "Lejeune")
NOTES = ("", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "Wheelchair user",
         "We come with a pushchair", "One visitor is hard of hearing")
CANCELLED_SHARE = 0.07  # bookings cancelled later (their places were freed)
MOVED_SHARE = 0.03  # confirmed bookings that were moved once (sequence 1)
BATCH = 5000


def load_rules() -> Rules:
    """The museum's rules as the app builds them, from config.Config and the environment."""
    from flask import Config

    config = Config(str(REPO))
    config.from_object("config.Config")
    return Rules.from_config(config)


# --- schema -------------------------------------------------------------------------------------

def ensure_postgres_database(url: str) -> None:
    """Create the URL's database on its server if it does not exist."""
    target = sa.make_url(normalise_url(url))
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                       {"n": target.database})
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    finally:
        admin.dispose()


def drop_everything(url: str) -> None:
    """An empty database: PostgreSQL's public schema dropped and recreated, SQLite's file removed."""
    if url.startswith("sqlite"):
        path = Path(sa.make_url(url).database)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    ensure_postgres_database(url)
    engine = sa.create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


def init_db(url: str, env: dict[str, str]) -> None:
    """`flask --app wsgi init-db` with DATABASE_URL set: the schema through the Alembic migrations."""
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=REPO,
                   env={**env, "DATABASE_URL": url}, check=True, stdout=subprocess.DEVNULL)


def fresh_schema(url: str, env: dict[str, str]) -> None:
    drop_everything(url)
    init_db(url, env)


# --- planning rows ------------------------------------------------------------------------------

def open_slot_starts(rules: Rules, first: dt.date, last: dt.date) -> list[dt.datetime]:
    """Every slot start (UTC) of the days from `first` to `last` that the calendar keeps open."""
    starts = []
    day = first
    while day <= last:
        if schedule.calendar_closure(day, rules) is None:
            starts.extend(schedule.to_utc(schedule.local_datetime(day, time_, rules))
                          for time_ in schedule.slot_starts(day, rules))
        day += dt.timedelta(days=1)
    return starts


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass
class Plan:
    slots: list[dict] = field(default_factory=list)
    bookings: list[dict] = field(default_factory=list)
    outbox: list[dict] = field(default_factory=list)


class Planner:
    """Plans slot rows with their bookings (and the emails they caused) from one seeded RNG."""

    def __init__(self, rules: Rules, now: dt.datetime, rng: random.Random, *, first_booking_id: int = 1,
                 taken_references: set[str] | None = None):
        self.rules = rules
        self.now = now
        self.rng = rng
        self.next_id = first_booking_id
        self.references = set(taken_references or ())
        self.plan = Plan()

    def _reference(self) -> str:
        while True:
            reference = PREFIX + "".join(self.rng.choices(ALPHABET, k=LENGTH))
            if reference not in self.references:
                self.references.add(reference)
                return reference

    def _message_id(self) -> str:
        return f"<{self.rng.getrandbits(128):032x}@museumresistance.be>"

    def _booking(self, start: dt.datetime, party_size: int, status: str) -> dict:
        rng = self.rng
        # Booked between a few hours and two months ahead, never after "now".
        created = start - dt.timedelta(minutes=rng.randint(180, 60 * 24 * 60))
        created = min(created, self.now - dt.timedelta(minutes=rng.randint(1, 60 * 24 * 7)))
        cancelled = None
        sequence = 0
        if status == "cancelled":
            latest = min(start, self.now)
            cancelled = created + (latest - created) * rng.random()
            sequence = 1
        elif rng.random() < MOVED_SHARE:
            sequence = 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        booking_id = self.next_id
        self.next_id += 1
        language = rng.choices(LANGUAGE_CHOICES, LANGUAGE_WEIGHTS)[0]
        email = f"{first.lower()}.{last.lower().replace(' ', '')}{booking_id}@example.be"
        row = {
            "id": booking_id, "reference": self._reference(), "status": status, "start": start,
            "party_size": party_size, "name": f"{first} {last}", "email": email, "language": language,
            "note": rng.choice(NOTES), "token_version": 1, "sequence": sequence, "request_key": None,
            "created_at": created, "updated_at": cancelled or created, "cancelled_at": cancelled,
        }
        self.plan.bookings.append(row)
        self._email("visit_confirmed", row, created)
        if cancelled:
            self._email("visit_cancelled", row, cancelled)
        return row

    def _email(self, kind: str, booking: dict, at: dt.datetime) -> None:
        self.plan.outbox.append({
            "kind": kind, "booking_id": booking["id"], "language": booking["language"],
            "recipient": booking["email"], "payload": {}, "message_id": self._message_id(), "status": "sent",
            "attempts": 1, "next_attempt_at": at, "last_error": None, "created_at": at,
            "sent_at": at + dt.timedelta(seconds=2),
        })

    def fill(self, starts: list[dt.datetime], low: float, high: float, max_bookings: int | None = None) -> None:
        """Fill each slot to a share of its capacity drawn from [low, high]; stop at max_bookings."""
        rng = self.rng
        capacity = self.rules.slot_capacity
        for start in starts:
            if max_bookings is not None and len(self.plan.bookings) >= max_bookings:
                return
            target = min(capacity, round(capacity * rng.uniform(low, high)))
            booked = 0
            while booked < target:
                if max_bookings is not None and len(self.plan.bookings) >= max_bookings:
                    break
                party = rng.choices(PARTY_SIZES, PARTY_WEIGHTS)[0]
                if rng.random() < CANCELLED_SHARE:
                    self._booking(start, party, "cancelled")
                    continue
                if booked + party > target and booked:
                    break  # the next party would not fit the slot's share: it stays as it is
                party = min(party, capacity - booked)
                self._booking(start, party, "confirmed")
                booked += party
            self.plan.slots.append({"start": start, "capacity": capacity, "capacity_custom": False,
                                    "booked": booked})


def insert_plan(connection: sa.Connection, plan: Plan) -> None:
    """executemany inserts through booking.models' tables, in batches; then PostgreSQL's sequence."""
    for table, rows in ((Slot.__table__, plan.slots), (Booking.__table__, plan.bookings),
                        (OutboxMessage.__table__, plan.outbox)):
        for i in range(0, len(rows), BATCH):
            connection.execute(table.insert(), rows[i:i + BATCH])
    if connection.dialect.name == "postgresql" and plan.bookings:
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('booking', 'id'), (SELECT max(id) FROM booking))")


def seed_slots(connection: sa.Connection, rules: Rules, now: dt.datetime, starts: list[dt.datetime],
               low: float, high: float, rng: random.Random, max_bookings: int | None = None) -> Plan:
    """Fill the given slots that have no row yet, next to whatever the database already holds."""
    existing = set(connection.scalars(sa.select(Slot.start)))
    planner = Planner(rules, now, rng,
                      first_booking_id=(connection.scalar(sa.select(sa.func.max(Booking.id))) or 0) + 1,
                      taken_references=set(connection.scalars(sa.select(Booking.reference))))
    planner.fill([start for start in starts if start not in existing], low, high, max_bookings)
    insert_plan(connection, planner.plan)
    return planner.plan


def seed_tour_requests(connection: sa.Connection, rules: Rules, now: dt.datetime, rng: random.Random) -> int:
    """Group tour requests of the history: none yet, so the history holds individual visits only.

    The change that brings tours into the benchmark fills this in: tour_request rows (with the
    places they hold counted in their slots' `booked`, and their guide_assignment rows) spread over
    the same past and future slots, returning how many it inserted.
    """
    return 0


@dataclass
class SeedReport:
    slots: int
    bookings: int
    confirmed: int
    cancelled: int
    outbox: int
    tour_requests: int
    past_slots: int
    past_fill: float  # booked places / capacity, over every open past slot
    future_slots: int
    future_fill: float
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def seed_history(url: str, rules: Rules, now: dt.datetime, *, years: int = 3, past_fill: float = 0.8,
                 future_fill: float = 0.3, seed: int = 20270301) -> SeedReport:
    """Three years of open slots about 80 % full, and the next months' slots about 30 % taken."""
    began = time.perf_counter()
    rng = random.Random(seed)
    today = schedule.local_today(now, rules)
    past = [s for s in open_slot_starts(rules, years_before(today, years), today) if s <= now]
    future = [s for s in open_slot_starts(rules, today, schedule.last_bookable_day(now, rules)) if s > now]
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            past_plan = seed_slots(connection, rules, now, past, past_fill - 0.12, min(past_fill + 0.18, 1.0), rng)
            future_plan = seed_slots(connection, rules, now, future, future_fill - 0.08, future_fill + 0.16, rng)
            tours = seed_tour_requests(connection, rules, now, rng)
        vacuum_analyze(engine)
    finally:
        engine.dispose()
    bookings = past_plan.bookings + future_plan.bookings

    def fill_of(plan: Plan) -> float:
        return sum(s["booked"] for s in plan.slots) / max(1, sum(s["capacity"] for s in plan.slots))

    return SeedReport(
        slots=len(past_plan.slots) + len(future_plan.slots),
        bookings=len(bookings),
        confirmed=sum(1 for b in bookings if b["status"] == "confirmed"),
        cancelled=sum(1 for b in bookings if b["status"] == "cancelled"),
        outbox=len(past_plan.outbox) + len(future_plan.outbox),
        tour_requests=tours,
        past_slots=len(past_plan.slots), past_fill=round(fill_of(past_plan), 3),
        future_slots=len(future_plan.slots), future_fill=round(fill_of(future_plan), 3),
        seconds=round(time.perf_counter() - began, 2),
    )


def vacuum_analyze(engine: sa.Engine) -> None:
    """What autovacuum would have done to a production database by now: fresh planner statistics."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def seed_staff(url: str, email: str, password: str) -> None:
    """The staff account the staff scenarios sign in with."""
    from werkzeug.security import generate_password_hash

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(StaffUser.__table__.insert(), [{
                "email": email, "name": "Bench desk", "role": "staff", "active": True, "failed_logins": 0,
                "password_hash": generate_password_hash(password), "created_at": dt.datetime.now(UTC)}])
    finally:
        engine.dispose()


def sqlite_url(directory: str | os.PathLike) -> str:
    return f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
