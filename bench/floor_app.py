"""The floor: a minimal Flask app doing only the SQL that a booking and an availability read need.

POST /book: one conditional UPDATE of the slot (booked + n <= capacity) and one INSERT into a
booking-like table, in one transaction; 201, or 409 when the slot is full.
GET /slots?month=YYYY-MM: one SELECT of the month's slot rows, returned as JSON.

It uses the app's own engine setup (booking.db.create_engine: psycopg 3 and its pool, or SQLite
with WAL and BEGIN IMMEDIATE for writes), so the difference to the app is everything else: routing,
forms, sessions, templates, ORM, calendar rules, extra statements. Its tables are copies of slot
and booking (see copy_tables). Served as `gunicorn 'bench.floor_app:create_app()'`.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, jsonify, request

from booking.db import UTCDateTime, create_engine

BRUSSELS = ZoneInfo("Europe/Brussels")
UTC = dt.UTC

metadata = sa.MetaData()
floor_slot = sa.Table(
    "floor_slot", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("start", UTCDateTime, nullable=False, unique=True),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("booked", sa.Integer, nullable=False),
    sa.CheckConstraint("booked <= capacity", name="floor_slot_not_overbooked"),
)
floor_booking = sa.Table(
    "floor_booking", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("reference", sa.String(12), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start", UTCDateTime, nullable=False),
    sa.Column("party_size", sa.Integer, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_floor_booking_start_status", "start", "status"),
    sa.Index("ix_floor_booking_email", "email"),
)
COPIED = ("id", "reference", "status", "start", "party_size", "name", "email", "language", "created_at")


def copy_tables(url: str) -> None:
    """(Re)create the floor's tables as copies of the app's slot and booking rows."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            metadata.drop_all(connection)
            metadata.create_all(connection)
            connection.exec_driver_sql(
                "INSERT INTO floor_slot (id, start, capacity, booked) SELECT id, start, capacity, booked FROM slot")
            columns = ", ".join(COPIED)
            connection.exec_driver_sql(f"INSERT INTO floor_booking ({columns}) SELECT {columns} FROM booking")
            if connection.dialect.name == "postgresql":
                for table in ("floor_slot", "floor_booking"):
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE floor_slot")
                connection.exec_driver_sql("VACUUM ANALYZE floor_booking")
    finally:
        engine.dispose()


def create_app() -> Flask:
    app = Flask(__name__)
    engine = create_engine(os.environ["DATABASE_URL"])

    @app.get("/slots")
    def slots():
        first = dt.date.fromisoformat(request.args["month"] + "-01")
        following = (first + dt.timedelta(days=32)).replace(day=1)
        start = dt.datetime.combine(first, dt.time.min, tzinfo=BRUSSELS).astimezone(UTC)
        end = dt.datetime.combine(following, dt.time.min, tzinfo=BRUSSELS).astimezone(UTC)
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(floor_slot.c.start, floor_slot.c.capacity, floor_slot.c.booked)
                .where(floor_slot.c.start >= start, floor_slot.c.start < end)
                .order_by(floor_slot.c.start)
            ).all()
        return jsonify([{"start": row.start.astimezone(BRUSSELS).isoformat(), "capacity": row.capacity,
                         "remaining": max(row.capacity - row.booked, 0)} for row in rows])

    @app.post("/book")
    def book():
        body = request.get_json()
        start = dt.datetime.fromisoformat(body["start"]).astimezone(UTC)
        places = int(body["party_size"])
        reference = "FLR-" + secrets.token_hex(4).upper()
        with engine.connect() as connection:
            connection.execution_options(write=True)  # BEGIN IMMEDIATE on SQLite, as the app does
            with connection.begin() as transaction:
                taken = connection.execute(
                    sa.update(floor_slot)
                    .where(floor_slot.c.start == start, floor_slot.c.booked + places <= floor_slot.c.capacity)
                    .values(booked=floor_slot.c.booked + places)
                ).rowcount
                if taken != 1:
                    transaction.rollback()
                    return jsonify({"error": "slot_full"}), 409
                connection.execute(floor_booking.insert().values(
                    reference=reference, status="confirmed", start=start, party_size=places,
                    name=str(body["name"])[:100], email=str(body["email"])[:254],
                    language=str(body.get("language", "en"))[:2], created_at=dt.datetime.now(UTC),
                ))
        return jsonify({"reference": reference, "start": body["start"], "party_size": places}), 201

    return app
