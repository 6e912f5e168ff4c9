"""The benchmark's databases: a fresh schema through Alembic, then years of history in bulk SQL.

Seeding never goes through HTTP or the services: it plans slot, booking, outbox, group visit and
guide rows in Python (deterministic, from a seeded RNG) and inserts them with executemany through
booking.models' tables. Slot rows' `booked` always equals the places of their confirmed bookings
plus the people of the group visits holding them (pending, proposed, confirmed), and never exceeds
the slot's capacity.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import subprocess
import sys
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy as sa

from booking import schedule
from booking.db import create_engine, normalise_url
from booking.models import Booking, Guide, GuideAssignment, GuideDuty, OutboxMessage, Slot, StaffUser, TourRequest
from booking.references import ALPHABET, GROUP_PREFIX, LENGTH, PREFIX
from booking.schedule import Rules
from booking.tour_rules import TOUR_LANGUAGES, TourRules, adults_required, guides_needed, spanned_slots

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


def _config():
    from flask import Config

    config = Config(str(REPO))
    config.from_object("config.Config")
    return config


def load_rules() -> Rules:
    """The museum's rules as the app builds them, from config.Config and the environment."""
    return Rules.from_config(_config())


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
    slots: list[dict] = field(default_factory=list)  # new rows
    bookings: list[dict] = field(default_factory=list)
    outbox: list[dict] = field(default_factory=list)
    slot_updates: list[dict] = field(default_factory=list)  # existing rows topped up: slot_id, booked

    @property
    def all_slots(self) -> list[dict]:
        return self.slots + self.slot_updates


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

    def fill(self, starts: list[dt.datetime], low: float, high: float, max_bookings: int | None = None,
             held: dict[dt.datetime, sa.Row] | None = None) -> None:
        """Fill each slot to a share of its capacity drawn from [low, high]; stop at max_bookings.

        `held`: slot rows that exist already (with the places group visits hold): their places count
        towards the share, and their planned row carries the row's id, to be updated, not inserted.
        """
        rng = self.rng
        held = held or {}
        for start in starts:
            if max_bookings is not None and len(self.plan.bookings) >= max_bookings:
                return
            row = held.get(start)
            capacity = row.capacity if row is not None else self.rules.slot_capacity
            target = min(capacity, round(capacity * rng.uniform(low, high)))
            booked = row.booked if row is not None else 0
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
            if row is not None:
                self.plan.slot_updates.append({"slot_id": row.id, "start": start, "capacity": capacity,
                                               "booked": booked})
            else:
                self.plan.slots.append({"start": start, "capacity": capacity, "capacity_custom": False,
                                        "booked": booked})


def _set_booked(connection: sa.Connection, rows: list[dict]) -> None:
    """executemany UPDATE of existing slot rows' `booked`, from dicts with slot_id and booked."""
    table = Slot.__table__
    statement = (sa.update(table).where(table.c.id == sa.bindparam("slot_id"))
                 .values(booked=sa.bindparam("booked")))
    for i in range(0, len(rows), BATCH):
        connection.execute(statement, [{"slot_id": r["slot_id"], "booked": r["booked"]} for r in rows[i:i + BATCH]])


def insert_plan(connection: sa.Connection, plan: Plan) -> None:
    """executemany inserts through booking.models' tables, in batches; then PostgreSQL's sequence."""
    for table, rows in ((Slot.__table__, plan.slots), (Booking.__table__, plan.bookings),
                        (OutboxMessage.__table__, plan.outbox)):
        for i in range(0, len(rows), BATCH):
            connection.execute(table.insert(), rows[i:i + BATCH])
    _set_booked(connection, plan.slot_updates)
    if connection.dialect.name == "postgresql" and plan.bookings:
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('booking', 'id'), (SELECT max(id) FROM booking))")


def seed_slots(connection: sa.Connection, rules: Rules, now: dt.datetime, starts: list[dt.datetime],
               low: float, high: float, rng: random.Random, max_bookings: int | None = None, *,
               top_up: bool = False) -> Plan:
    """Fill the given slots that have no row yet, next to whatever the database already holds.

    top_up: also fill the given slots whose row holds no booking yet (only group visits' places, as
    seed_tour_requests leaves them), counting those places towards the slot's share.
    """
    rows = connection.execute(sa.select(Slot.id, Slot.start, Slot.capacity, Slot.booked)).all()
    existing = {row.start for row in rows}
    held: dict[dt.datetime, sa.Row] = {}
    if top_up:
        with_bookings = set(connection.scalars(sa.select(Booking.start).distinct()))
        held = {row.start: row for row in rows if row.start not in with_bookings}
    planner = Planner(rules, now, rng,
                      first_booking_id=(connection.scalar(sa.select(sa.func.max(Booking.id))) or 0) + 1,
                      taken_references=set(connection.scalars(sa.select(Booking.reference))))
    planner.fill([start for start in starts if start not in existing or start in held], low, high, max_bookings,
                 held=held)
    insert_plan(connection, planner.plan)
    return planner.plan


# --- group visits -------------------------------------------------------------------------------

GUIDES = (("Aline Dubois", "fr,nl,en"), ("Bart Claes", "nl,fr,en,de"), ("Chloé Renard", "fr,en"),
          ("Dirk Wouters", "nl,en"), ("Elke Schmitz", "fr,nl,en,de"), ("Farid Lambert", "fr,nl"))
TOURS_PER_DAY = (0, 1, 2, 3, 4)  # group visits a weekday brings (mean 2)
TOURS_PER_DAY_WEIGHTS = (10, 25, 30, 25, 10)
GUIDED_SHARE = 0.7
GROUP_KIND_WEIGHTS = {"primary": 35, "secondary": 40, "higher": 10, "adults": 15}
MIN_PUPILS, MAX_PUPILS = 10, 40
# Statuses by period: the past has settled (mostly confirmed), the coming weeks are still being decided.
PAST_STATUS_WEIGHTS = {"confirmed": 80, "cancelled": 7, "declined": 6, "refused": 4, "expired": 3}
FUTURE_STATUS_WEIGHTS = {"pending": 22, "proposed": 10, "confirmed": 50, "declined": 8, "cancelled": 6,
                         "refused": 2, "expired": 2}
# Where groups come from: (town, postcode, language of the form); English-speaking schools apart.
TOWNS = (("Bruxelles", "1000", "fr"), ("Brussel", "1020", "nl"), ("Liège", "4000", "fr"), ("Namur", "5000", "fr"),
         ("Charleroi", "6000", "fr"), ("Mons", "7000", "fr"), ("Tournai", "7500", "fr"), ("Wavre", "1300", "fr"),
         ("Arlon", "6700", "fr"), ("Gent", "9000", "nl"), ("Antwerpen", "2000", "nl"), ("Leuven", "3000", "nl"),
         ("Brugge", "8000", "nl"), ("Hasselt", "3500", "nl"), ("Mechelen", "2800", "nl"), ("Aalst", "9300", "nl"),
         ("Eupen", "4700", "de"), ("Sankt Vith", "4780", "de"), ("Tervuren", "3080", "en"),
         ("Waterloo", "1410", "en"), ("Woluwe-Saint-Lambert", "1200", "en"))
TOWN_WEIGHTS = (10, 6, 5, 5, 4, 3, 2, 2, 1, 6, 7, 4, 3, 3, 3, 2, 2, 1, 1, 1, 1)
ORGANISATIONS = {
    "fr": {"primary": ("École communale de {town}", "École fondamentale Sainte-Marie ({town})"),
           "secondary": ("Athénée royal de {town}", "Collège Saint-Louis ({town})", "Institut Saint-Joseph ({town})"),
           "higher": ("Haute École provinciale ({town})", "Université populaire de {town}"),
           "adults": ("Cercle d'histoire de {town}", "Amicale des pensionnés de {town}")},
    "nl": {"primary": ("Gemeentelijke Basisschool {town}", "Vrije Basisschool De Regenboog ({town})"),
           "secondary": ("Koninklijk Atheneum {town}", "Sint-Jozefscollege {town}", "GO! Campus {town}"),
           "higher": ("Hogeschool {town}", "Volkshogeschool {town}"),
           "adults": ("Heemkundige Kring {town}", "Seniorenvereniging {town}")},
    "de": {"primary": ("Gemeindeschule {town}",),
           "secondary": ("Königliches Athenäum {town}", "Bischöfliche Schule {town}"),
           "higher": ("Autonome Hochschule ({town})",), "adults": ("Geschichtsverein {town}",)},
    "en": {"primary": ("International School ({town})", "European School ({town})"),
           "secondary": ("British School ({town})", "International School ({town})", "European School ({town})"),
           "higher": ("Vesalius College Study Abroad ({town})",), "adults": ("Expat History Club ({town})",)},
}
STREETS = {"fr": ("Rue de l'École", "Avenue des Tilleuls", "Rue du Collège"),
           "nl": ("Schoolstraat", "Kerkstraat", "Collegelaan"),
           "de": ("Schulstraße", "Kirchstraße"), "en": ("Avenue de la Chasse", "Drève de Linkebeek")}
CONTACT_ROLES = {"fr": ("Enseignante", "Professeur d'histoire", "Directeur"),
                 "nl": ("Leerkracht", "Leraar geschiedenis", "Directeur"),
                 "de": ("Lehrerin", "Geschichtslehrer"), "en": ("Teacher", "Head of History")}
TOPICS = ("", "", "", "The resistance press", "Daily life under the occupation", "Hidden children",
          "The Second World War in Belgium", "Escape lines")
NEEDS = ("", "", "", "", "", "", "Two pupils use a wheelchair", "A pupil with a hearing aid",
         "Some pupils have little French or Dutch")
DECLINED_MESSAGES = {"fr": "Aucun guide n'est disponible ce jour-là.", "nl": "Er is die dag geen gids beschikbaar.",
                     "de": "An diesem Tag ist kein Führer verfügbar.", "en": "No guide is available that day."}
PROPOSED_MESSAGES = {"fr": "L'heure demandée est complète ; nous vous proposons celle-ci.",
                     "nl": "Het gevraagde uur is volzet; we stellen dit uur voor.",
                     "de": "Die gewünschte Zeit ist ausgebucht; wir schlagen diese vor.",
                     "en": "The time you asked for is full; we propose this one instead."}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _between(rng: random.Random, first: dt.datetime, last: dt.datetime) -> dt.datetime:
    """A moment drawn between two, to the second; `last` (the cap) when they are the wrong way round."""
    if last <= first:
        return last
    return (first + (last - first) * rng.random()).replace(microsecond=0)


class TourPlanner:
    """Plans group visits day by day: holding ones only where their slots have room and guides are free."""

    def __init__(self, connection: sa.Connection, rules: Rules, tour_rules: TourRules, reminder_days: int,
                 now: dt.datetime, rng: random.Random):
        self.rules, self.tour_rules, self.now, self.rng = rules, tour_rules, now, rng
        self.reminder_window = dt.timedelta(days=reminder_days)
        self.slots = {row.start: row for row in connection.execute(
            sa.select(Slot.id, Slot.start, Slot.capacity, Slot.booked))}
        self.held: dict[dt.datetime, int] = {}  # people the planned holding tours add per slot
        self.busy = set(connection.execute(sa.select(GuideAssignment.guide_id, GuideAssignment.start)).tuples())
        self.guides = [(row.id, row.language_codes.split(",")) for row in connection.execute(
            sa.select(Guide.id, Guide.language_codes).where(Guide.active.is_(True)))]
        self.guides.sort(key=lambda guide: (len(guide[1]), guide[0]))  # least versatile first, as the app
        self.roster: dict[dt.date, dict[int, bool]] = {}
        for day, guide_id, on_duty in connection.execute(sa.select(GuideDuty.day, GuideDuty.guide_id,
                                                                   GuideDuty.on_duty)):
            self.roster.setdefault(day, {})[guide_id] = on_duty
        self.references = set(connection.scalars(sa.select(TourRequest.reference)))
        self.next_id = (connection.scalar(sa.select(sa.func.max(TourRequest.id))) or 0) + 1
        self.tours: list[dict] = []
        self.assignments: list[dict] = []

    # -- capacity and guides --

    def _room(self, start: dt.datetime) -> int:
        row = self.slots.get(start)
        free = row.capacity - row.booked if row is not None else self.rules.slot_capacity
        return free - self.held.get(start, 0)

    def _free_guides(self, day: dt.date, hours: list[dt.datetime], language: str) -> list[int]:
        roster = self.roster.get(day)
        return [guide_id for guide_id, languages in self.guides
                if language in languages and (not roster or roster.get(guide_id, False))
                and not any((guide_id, hour) in self.busy for hour in hours)]

    # -- one group --

    def _reference(self) -> str:
        while True:
            reference = GROUP_PREFIX + "".join(self.rng.choices(ALPHABET, k=LENGTH))
            if reference not in self.references:
                self.references.add(reference)
                return reference

    def _hours(self, start: dt.datetime, minutes: int) -> list[dt.datetime]:
        return spanned_slots(start, minutes, self.rules)

    def plan_day(self, day: dt.date, starts: list[dt.datetime]) -> None:
        rng = self.rng
        for _ in range(rng.choices(TOURS_PER_DAY, TOURS_PER_DAY_WEIGHTS)[0]):
            guided = rng.random() < GUIDED_SHARE
            minutes = self.tour_rules.guided_minutes if guided else rng.choice(self.tour_rules.self_guided_minutes)
            span = math.ceil(minutes / self.rules.slot_minutes)
            candidates = starts[:len(starts) - span + 1]  # the tour ends by closing time
            if not candidates:
                continue
            # Mornings first: most classes come at 09:00–11:00; the others are the fallbacks, in random order.
            preferred = rng.choices(candidates, [3 if i < 3 else 1 for i in range(len(candidates))])[0]
            others = [start for start in candidates if start != preferred]
            rng.shuffle(others)
            past = preferred <= self.now
            weights = PAST_STATUS_WEIGHTS if past else FUTURE_STATUS_WEIGHTS
            status = rng.choices(list(weights), list(weights.values()))[0]
            self._tour(day, [preferred, *others], candidates, guided, minutes, status, past)

    def _tour(self, day, order, candidates, guided, minutes, status, past) -> None:
        rng, tour_rules = self.rng, self.tour_rules
        kind = rng.choices(list(GROUP_KIND_WEIGHTS), list(GROUP_KIND_WEIGHTS.values()))[0]
        pupils = round(rng.triangular(MIN_PUPILS, MAX_PUPILS, 22))
        town, postcode, language = rng.choices(TOWNS, TOWN_WEIGHTS)[0]
        tour_language = None
        if guided:
            tour_language = language if rng.random() < 0.9 else rng.choice(TOUR_LANGUAGES)
        holding = status in TourRequest.HOLDING
        chosen = guides = None
        for start in order:
            if (start <= self.now) != past:
                continue  # today: stay on the side of now the status was drawn for
            hours = self._hours(start, minutes)
            if not holding:
                chosen = start
                break
            room = min(self._room(hour) for hour in hours)
            size = pupils  # shrink the group (and the adults it needs) to the room the slots have
            while size >= MIN_PUPILS and size + max(1, adults_required(kind, size, tour_rules)) > room:
                size -= 1
            if size < MIN_PUPILS:
                continue  # the slots lack room even for a small group: try another time
            if guided:
                free = self._free_guides(day, hours, tour_language)
                if len(free) < guides_needed(size, tour_rules):
                    continue
                guides = free[:guides_needed(size, tour_rules)]
            chosen, pupils = start, size
            break
        if chosen is None:
            return  # no time of the day fits this group: it is not seeded
        required = max(1, adults_required(kind, pupils, tour_rules))
        adults = rng.randint(required, max(required, 4))
        start, hours = chosen, self._hours(chosen, minutes)
        if holding:  # the shrinking above left room for at least `required` adults
            adults = min(adults, min(self._room(hour) for hour in hours) - pupils)
        tour_id = self.next_id
        self.next_id += 1
        row = self._row(tour_id, status, guided, start, minutes, kind, pupils, adults, town, postcode, language,
                        tour_language, candidates)
        self.tours.append(row)
        if holding:
            for hour in hours:
                self.held[hour] = self.held.get(hour, 0) + pupils + adults
            for guide_id in guides or ():
                for hour in hours:
                    self.busy.add((guide_id, hour))
                    self.assignments.append({"guide_id": guide_id, "tour_id": tour_id, "start": hour})

    def _row(self, tour_id, status, guided, start, minutes, kind, pupils, adults, town, postcode, language,
             tour_language, candidates) -> dict:
        rng, now, tour_rules = self.rng, self.now, self.tour_rules
        minute = dt.timedelta(minutes=1)
        day_ = dt.timedelta(days=1)
        # Asked between two weeks and four months ahead, never after now.
        created = start - dt.timedelta(days=rng.randint(tour_rules.min_days_ahead, 120), minutes=rng.randint(0, 1439))
        created = min(created, now - dt.timedelta(minutes=rng.randint(30, 60 * 24 * 3))).replace(microsecond=0)
        requested = [start]
        decided = expires = reminder = None
        sequence = 0
        message = ""
        if status == "pending":  # waiting for staff: asked in the last days (some long enough to be flagged)
            created = min(now - dt.timedelta(minutes=rng.randint(60, 60 * 24 * 12)),
                          start - dt.timedelta(days=tour_rules.min_days_ahead)).replace(microsecond=0)
            updated = created
        elif status in ("confirmed", "declined", "cancelled"):
            decided = _between(rng, created + dt.timedelta(hours=2), min(created + 6 * day_, now - minute, start))
            decided = max(decided, created)
            updated = decided
            if status == "declined":
                message = DECLINED_MESSAGES[language]
            elif status == "cancelled":  # confirmed first, then cancelled (by the teacher or the museum)
                limit = min(now, start) - minute
                updated = max(decided, _between(rng, min(decided + dt.timedelta(hours=1), limit), limit))
                sequence = 1
            else:
                window_opens = start - self.reminder_window
                cutoff = start - dt.timedelta(days=tour_rules.cancel_days_before)
                sent = max(window_opens, decided) + dt.timedelta(minutes=rng.randint(1, 30))
                if sent <= now and sent <= cutoff:
                    reminder = sent
        else:  # proposed, refused, expired: staff proposed `start` instead of the time asked for
            others = [c for c in candidates if c != start]
            requested = [rng.choice(others)] if others else [start]
            message = PROPOSED_MESSAGES[language]
            sequence = 1
            if status == "proposed":  # still open: the deadline is ahead
                proposed_at = now - dt.timedelta(minutes=rng.randint(60, 60 * 24 * (tour_rules.proposal_days - 1)))
                expires = proposed_at + dt.timedelta(days=tour_rules.proposal_days)
                updated = proposed_at
            else:
                deadline = now - dt.timedelta(days=tour_rules.proposal_days)  # proposals made by then have closed
                proposed_at = min(_between(rng, created + dt.timedelta(hours=2), created + 5 * day_),
                                  deadline - dt.timedelta(minutes=rng.randint(60, 60 * 24 * 3)))
                if status == "expired":
                    updated = proposed_at + dt.timedelta(days=tour_rules.proposal_days, minutes=rng.randint(1, 15))
                else:
                    updated = decided = proposed_at + dt.timedelta(minutes=rng.randint(60, 60 * 24 * 6))
            proposed_at = proposed_at.replace(microsecond=0)
            created = min(created, proposed_at - dt.timedelta(minutes=rng.randint(60, 60 * 24 * 4)))
            updated = updated.replace(microsecond=0)
        if status == "pending" and rng.random() < 0.4:  # alternatives given on the form, after the preferred time
            others = [c for c in candidates if c != start]
            requested += rng.sample(others, k=min(len(others), rng.randint(1, 2)))
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        organisation = rng.choice(ORGANISATIONS[language][kind]).format(town=town)
        return {
            "id": tour_id, "reference": self._reference(), "status": status, "guided": guided, "start": start,
            "duration_minutes": minutes, "requested_starts": [s.isoformat() for s in requested],
            "organisation": organisation,
            "address": f"{rng.choice(STREETS[language])} {rng.randint(1, 180)}", "postcode": postcode,
            "contact_name": f"{first} {last}", "contact_role": rng.choice(CONTACT_ROLES[language]),
            "email": f"{_ascii(first)}.{_ascii(last)}.grp{tour_id}@example.be",
            "phone": f"+32 {rng.randint(2, 9)} {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            "leader_name": f"{first} {last}" if rng.random() < 0.5 else "", "pupils": pupils, "adults": adults,
            "group_kind": kind, "tour_language": tour_language, "needs": rng.choice(NEEDS), "topic": rng.choice(TOPICS),
            "notes": "", "language": language, "decision_message": message, "proposal_expires_at": expires,
            "token_version": 1, "sequence": sequence, "request_key": None, "created_at": created,
            "updated_at": updated, "decided_at": decided, "source": "web", "created_by_id": None,
            "attendance": None, "attendance_at": None, "reminder_sent_at": reminder, "erase_requested_at": None,
            "anonymised_at": None,
        }


def load_tour_config() -> tuple[TourRules, int]:
    """The group visits' rules and the days before a visit the teacher is asked for final numbers."""
    config = _config()
    return TourRules.from_config(config), int(config["TOUR_REMINDER_DAYS"])


def seed_tour_requests(connection: sa.Connection, rules: Rules, now: dt.datetime, rng: random.Random, *,
                       years: int = 3, days_ahead: int = 90) -> int:
    """Group visits over the past `years` and the next `days_ahead` days, about 2 an open weekday.

    Past ones mostly confirmed (some cancelled, declined, refused or expired); coming ones pending,
    proposed (deadline ahead), confirmed, declined, cancelled, refused or expired. Those holding
    (pending, proposed, confirmed) count their people in every hour they span, only where the slot has
    room (the group shrinks to fit, else tries another time of the day, else is left out), and hold
    one guide per 20 pupils for each hour, never one guide twice in an hour. Slot rows are created
    (or raised) for those places; seeding the individual bookings afterwards with seed_slots(top_up=
    True) fills the rest of those slots. Guides are created when there are none. Returns the number
    of tour_request rows inserted.
    """
    if not connection.scalar(sa.select(sa.func.count()).select_from(Guide)):
        connection.execute(Guide.__table__.insert(),
                           [{"name": name, "language_codes": codes, "active": True} for name, codes in GUIDES])
    tour_rules, reminder_days = load_tour_config()
    planner = TourPlanner(connection, rules, tour_rules, reminder_days, now, rng)
    today = schedule.local_today(now, rules)
    day, last = years_before(today, years), today + dt.timedelta(days=days_ahead)
    while day <= last:
        if schedule.calendar_closure(day, rules) is None:
            planner.plan_day(day, [schedule.to_utc(schedule.local_datetime(day, time_, rules))
                                   for time_ in schedule.slot_starts(day, rules)])
        day += dt.timedelta(days=1)

    for table, rows in ((TourRequest.__table__, planner.tours), (GuideAssignment.__table__, planner.assignments)):
        for i in range(0, len(rows), BATCH):
            connection.execute(table.insert(), rows[i:i + BATCH])
    new_slots, raised = [], []
    for start, people in sorted(planner.held.items()):
        row = planner.slots.get(start)
        if row is None:
            new_slots.append({"start": start, "capacity": rules.slot_capacity, "capacity_custom": False,
                              "booked": people})
        else:
            raised.append({"slot_id": row.id, "booked": row.booked + people})
    for i in range(0, len(new_slots), BATCH):
        connection.execute(Slot.__table__.insert(), new_slots[i:i + BATCH])
    _set_booked(connection, raised)
    if connection.dialect.name == "postgresql" and planner.tours:
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('tour_request', 'id'), (SELECT max(id) FROM tour_request))")
    return len(planner.tours)


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
            # Groups first: they take their places where the slots are still empty, then the
            # individual visits fill each slot (groups' places included) to its share.
            tour_count = seed_tour_requests(connection, rules, now, rng, years=years)
            past_plan = seed_slots(connection, rules, now, past, past_fill - 0.12, min(past_fill + 0.18, 1.0), rng,
                                   top_up=True)
            future_plan = seed_slots(connection, rules, now, future, future_fill - 0.08, future_fill + 0.16, rng,
                                     top_up=True)
        vacuum_analyze(engine)
    finally:
        engine.dispose()
    bookings = past_plan.bookings + future_plan.bookings

    def fill_of(plan: Plan) -> float:
        slots = plan.all_slots
        return sum(s["booked"] for s in slots) / max(1, sum(s["capacity"] for s in slots))

    return SeedReport(
        slots=len(past_plan.all_slots) + len(future_plan.all_slots),
        bookings=len(bookings),
        confirmed=sum(1 for b in bookings if b["status"] == "confirmed"),
        cancelled=sum(1 for b in bookings if b["status"] == "cancelled"),
        outbox=len(past_plan.outbox) + len(future_plan.outbox),
        tour_requests=tour_count,
        past_slots=len(past_plan.all_slots), past_fill=round(fill_of(past_plan), 3),
        future_slots=len(future_plan.all_slots), future_fill=round(fill_of(future_plan), 3),
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
