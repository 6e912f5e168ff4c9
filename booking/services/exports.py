"""What leaves the back office: CSV for Excel, everything held about one email, the staff calendar feed."""

from __future__ import annotations

import csv
import datetime as dt
import hmac
import io
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import icalendar
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from booking import schedule
from booking.db import atomic
from booking.models import AuditEntry, Booking, Closure, GuideAssignment, OutboxMessage, Setting, StaffUser, TourRequest
from booking.schedule import Rules
from booking.services import audit
from booking.services.settings import get_setting, put_setting

# ---------------------------------------------------------------------------------------------------
# CSV that a Belgian Excel opens as it is: ";" between cells (the comma is the decimal mark there),
# UTF-8 with a byte-order mark (else Excel reads the file as Windows-1252 and breaks the accents),
# CRLF line ends.

# A cell Excel would read as a formula (OWASP's "CSV injection"): these first characters.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell that starts like a formula gets a leading quote, so Excel shows it as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def excel_csv(rows: Iterable[Sequence[Any]]) -> bytes:
    """The rows as CSV bytes for Excel: None becomes an empty cell, numbers stay numbers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow(["" if value is None else neutralise(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------------------------------------------
# The bookings of some days, individual and group visits together.


@dataclass(frozen=True)
class ExportItem:
    """One visit of the export: an individual booking or a group visit."""

    booking: Booking | None = None
    tour: TourRequest | None = None

    @property
    def start(self) -> dt.datetime:
        return (self.booking or self.tour).start

    @property
    def reference(self) -> str:
        return (self.booking or self.tour).reference


def visits_between(session: Session, rules: Rules, first_day: dt.date, last_day: dt.date) -> list[ExportItem]:
    """Every individual and group visit starting on these local days (both included), whatever its
    status, in time order. Three statements: visits, group visits, and the groups' guides."""
    low = schedule.to_utc(schedule.local_datetime(first_day, dt.time.min, rules))
    high = schedule.to_utc(schedule.local_datetime(last_day + dt.timedelta(days=1), dt.time.min, rules))
    bookings = session.scalars(
        sa.select(Booking).where(Booking.start >= low, Booking.start < high)).all()
    tours = session.scalars(
        sa.select(TourRequest).where(TourRequest.start >= low, TourRequest.start < high)
        .options(selectinload(TourRequest.assignments).selectinload(GuideAssignment.guide))).all()
    items = [ExportItem(booking=b) for b in bookings] + [ExportItem(tour=t) for t in tours]
    # Same start: individual visits first, each kind in the order it was booked.
    return sorted(items, key=lambda item: (item.start, item.booking is None, (item.booking or item.tour).id))


# ---------------------------------------------------------------------------------------------------
# Everything held about one email address (the visitor's right of access).

# Internal values that say nothing about the person and would help forge or replay a link or request.
_INTERNAL = {"token_version", "request_key"}


def _json_value(value: Any, rules: Rules) -> Any:
    if isinstance(value, dt.datetime):
        return schedule.to_local(value, rules).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _columns(row: Any, rules: Rules) -> dict[str, Any]:
    return {column.key: _json_value(getattr(row, column.key), rules)
            for column in sa.inspect(type(row)).columns if column.key not in _INTERNAL}


def person_data(session: Session, rules: Rules, email: str) -> dict[str, Any]:
    """Every visit and group visit made with `email` (any case), the emails sent to it, and the audit
    entries about those visits. Staff who acted are named by role only: they are not the subject."""
    address = email.strip().lower()
    bookings = session.scalars(
        sa.select(Booking).where(sa.func.lower(Booking.email) == address).order_by(Booking.start)).all()
    tours = session.scalars(
        sa.select(TourRequest).where(sa.func.lower(TourRequest.email) == address).order_by(TourRequest.start)
        .options(selectinload(TourRequest.assignments).selectinload(GuideAssignment.guide))).all()
    messages = session.scalars(
        sa.select(OutboxMessage).where(sa.func.lower(OutboxMessage.recipient) == address)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)).all()
    booking_ids = [b.id for b in bookings]
    tour_ids = [t.id for t in tours]
    entries = session.scalars(
        sa.select(AuditEntry).where(sa.or_(AuditEntry.booking_id.in_(booking_ids), AuditEntry.tour_id.in_(tour_ids)))
        .order_by(AuditEntry.at, AuditEntry.id)).all() if booking_ids or tour_ids else []
    references = {("booking", b.id): b.reference for b in bookings} | {("tour", t.id): t.reference for t in tours}

    def reference(kind: str, key: int | None) -> str | None:
        return references.get((kind, key)) if key is not None else None

    return {
        "email": address,
        "bookings": [_columns(b, rules) for b in bookings],
        "group_visits": [_columns(t, rules) | {"guides": [g.name for g in t.guides]} for t in tours],
        "emails": [{"kind": m.kind, "status": m.status, "language": m.language, "recipient": m.recipient,
                    "booking": reference("booking", m.booking_id), "group_visit": reference("tour", m.tour_id),
                    "queued_at": _json_value(m.created_at, rules), "sent_at": _json_value(m.sent_at, rules),
                    "attempts": m.attempts} for m in messages],
        "audit": [{"at": _json_value(e.at, rules), "action": e.action,
                   "by": "system" if e.actor == "system" else "staff",
                   "booking": reference("booking", e.booking_id), "group_visit": reference("tour", e.tour_id),
                   "details": e.details} for e in entries],
    }


def record_person_export(session: Session, now: dt.datetime, staff: StaffUser, data: dict[str, Any]) -> None:
    """The log names what was exported by the visits' references, not by the address: an entry of no
    one visit would keep the address once its visits are anonymised."""
    references = [row["reference"] for row in data["bookings"] + data["group_visits"]]
    atomic(session, lambda: audit.record(
        session, now, staff, "privacy.export", bookings=len(data["bookings"]),
        group_visits=len(data["group_visits"]), references=references))


def record_bookings_export(session: Session, now: dt.datetime, staff: StaffUser, first_day: dt.date,
                           last_day: dt.date, rows: int) -> None:
    """Who took a list of visitors home, and which days: the log keeps it like any staff action."""
    atomic(session, lambda: audit.record(
        session, now, staff, "export.bookings", first_day=first_day.isoformat(), last_day=last_day.isoformat(),
        rows=rows))


# ---------------------------------------------------------------------------------------------------
# The private calendar feed: a secret URL that calendar apps poll without signing in.

FEED_SECRET_SETTING = "calendar_feed_secret"  # noqa: S105 (the key of the setting, not a secret)


def _stored_secret(session: Session) -> str | None:
    return get_setting(session, FEED_SECRET_SETTING)


def feed_secret(session: Session, now: dt.datetime) -> str:
    """The feed's secret, made (secrets.token_urlsafe(32), 256 bits) the first time it is needed."""
    secret = _stored_secret(session)
    if secret:
        return secret

    def operation() -> str:
        setting = session.get(Setting, FEED_SECRET_SETTING)
        if setting is None:
            setting = Setting(key=FEED_SECRET_SETTING, value=secrets.token_urlsafe(32), updated_at=now)
            session.add(setting)
        return setting.value

    try:
        return atomic(session, operation)
    except IntegrityError:  # another request made it at the same moment: use theirs
        return _stored_secret(session)


def feed_secret_matches(session: Session, given: str) -> bool:
    """Compared in constant time, so response times tell nothing about the secret."""
    stored = _stored_secret(session) or ""
    matches = hmac.compare_digest(given.encode(), stored.encode())
    return bool(stored) and matches


def rotate_feed_secret(session: Session, now: dt.datetime, staff: StaffUser) -> str:
    """A new secret: the old URL stops working at once (calendars subscribed to it must be updated)."""

    def operation() -> str:
        secret = secrets.token_urlsafe(32)
        put_setting(session, FEED_SECRET_SETTING, secret, now)
        audit.record(session, now, staff, "feed.rotate")
        return secret

    return atomic(session, operation)


@dataclass(frozen=True)
class FeedWindow:
    start: dt.datetime
    end: dt.datetime


def feed_window(now: dt.datetime, rules: Rules, days_ahead: int, days_back: int = 30) -> FeedWindow:
    """From `days_back` days ago to the furthest day anyone can book (local midnights)."""
    today = schedule.local_today(now, rules)
    return FeedWindow(
        start=schedule.to_utc(schedule.local_datetime(today - dt.timedelta(days=days_back), dt.time.min, rules)),
        end=schedule.to_utc(schedule.local_datetime(today + dt.timedelta(days=days_ahead + 1), dt.time.min, rules)))


def feed_contents(session: Session, window: FeedWindow) -> tuple[list[TourRequest], list[Closure]]:
    """Confirmed group visits (with their guides) and closures that fall in the window."""
    tours = session.scalars(
        sa.select(TourRequest).where(TourRequest.status == "confirmed", TourRequest.start >= window.start,
                                     TourRequest.start < window.end)
        .options(selectinload(TourRequest.assignments).selectinload(GuideAssignment.guide))
        .order_by(TourRequest.start)).all()
    closures = session.scalars(
        sa.select(Closure).where(Closure.kind == "closed", Closure.end_at > window.start,
                                 Closure.start_at < window.end).order_by(Closure.start_at)).all()
    return list(tours), list(closures)


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    start: dt.datetime | dt.date  # a date: an all-day event, `end` the day after (exclusive)
    end: dt.datetime | dt.date
    summary: str
    description: str = ""
    sequence: int = 0


def whole_days(start: dt.datetime, end: dt.datetime, rules: Rules) -> tuple[dt.date, dt.date] | None:
    """The local days [first, after) when a period runs from midnight to midnight, else None."""
    local_start, local_end = schedule.to_local(start, rules), schedule.to_local(end, rules)
    if local_start.time() == dt.time.min and local_end.time() == dt.time.min:
        return local_start.date(), local_end.date()
    return None


def feed_calendar(events: Iterable[FeedEvent], *, name: str, now: dt.datetime, timezone: str) -> bytes:
    """A published calendar (no METHOD: a subscription, not an invitation); times in UTC."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Musee national de la Resistance//Staff calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", timezone)
    # Ask subscribed calendars to look again every hour.
    calendar.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for item in events:
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("sequence", item.sequence)
        event.add("dtstamp", now)
        event.add("dtstart", item.start)
        event.add("dtend", item.end)
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
