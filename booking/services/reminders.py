"""Reminders: visitors the day before their visit, teachers before the deadline for their final numbers.

Each reminder goes out once, even when the job runs twice or two workers run it at the same time:
a run claims a row with one conditional UPDATE (`reminder_sent_at` still empty for this start) in the
same transaction that queues the email, and only the run whose UPDATE changed the row sends it.
PostgreSQL re-checks the condition after a concurrent claim commits; SQLite runs writers one by one.

A reminder sent for an earlier time of the same visit (before it was moved) does not count: a
reminder belongs to the current start when it was sent inside that start's reminder window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking.db import atomic
from booking.models import Booking, TourRequest, enqueue_email
from booking.tour_rules import TourRules, numbers_deadline


@dataclass(frozen=True)
class ReminderRules:
    visit_hours: int = 24  # a visitor is reminded this many hours before the visit
    tour_days: int = 10  # a teacher is asked for the final numbers this many days before

    @classmethod
    def from_config(cls, config) -> ReminderRules:
        return cls(visit_hours=int(config["VISIT_REMINDER_HOURS"]), tour_days=int(config["TOUR_REMINDER_DAYS"]))

    @property
    def visit_window(self) -> dt.timedelta:
        return dt.timedelta(hours=self.visit_hours)

    @property
    def tour_window(self) -> dt.timedelta:
        return dt.timedelta(days=self.tour_days)


def _not_reminded(column, start: dt.datetime, window: dt.timedelta):
    """No reminder yet for a visit starting at `start` (one sent before its window was for another time)."""
    return sa.or_(column.is_(None), column < start - window)


def due_visit_reminders(session: Session, rules: ReminderRules, now: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """(id, start) of the visits to remind now: confirmed, with an email, starting within the window,
    not yet reminded for that start, and booked before the window opened (a visit booked two hours
    ahead has just had its confirmation)."""
    window = rules.visit_window
    rows = session.execute(
        sa.select(Booking.id, Booking.start, Booking.created_at, Booking.reminder_sent_at)
        .where(Booking.status == "confirmed", Booking.start > now, Booking.start <= now + window,
               Booking.email.is_not(None), Booking.email != "")
        .order_by(Booking.start, Booking.id)
    ).all()
    session.commit()
    return [(row.id, row.start) for row in rows
            if row.created_at <= row.start - window
            and (row.reminder_sent_at is None or row.reminder_sent_at < row.start - window)]


def due_tour_reminders(session: Session, rules: ReminderRules, cancel_days_before: int,
                       now: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """(id, start) of the group visits whose teacher to ask now: confirmed, with an email, starting
    within the window, not yet asked for that start, and still before the deadline for changes."""
    window = rules.tour_window
    deadline_margin = dt.timedelta(days=cancel_days_before)
    rows = session.execute(
        sa.select(TourRequest.id, TourRequest.start, TourRequest.reminder_sent_at)
        .where(TourRequest.status == "confirmed", TourRequest.start >= now + deadline_margin,
               TourRequest.start <= now + window, TourRequest.email.is_not(None), TourRequest.email != "")
        .order_by(TourRequest.start, TourRequest.id)
    ).all()
    session.commit()
    return [(row.id, row.start) for row in rows
            if row.reminder_sent_at is None or row.reminder_sent_at < row.start - window]


def _claim(session: Session, model, row_id: int, start: dt.datetime, window: dt.timedelta,
           now: dt.datetime) -> bool:
    """Mark the row reminded if nobody did for this start meanwhile; True for the one run that did."""
    result = session.execute(
        sa.update(model)
        .where(model.id == row_id, model.start == start, model.status == "confirmed",
               _not_reminded(model.reminder_sent_at, start, window))
        # A reminder is not a change of the visit: updated_at keeps its value.
        .values(reminder_sent_at=now, updated_at=model.updated_at)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def send_visit_reminders(session: Session, rules: ReminderRules, now: dt.datetime) -> list[str]:
    """Queue the due visit reminders, each once; returns the references reminded by this run."""
    sent = []
    for booking_id, start in due_visit_reminders(session, rules, now):
        def operation(booking_id=booking_id, start=start) -> Booking | None:
            if not _claim(session, Booking, booking_id, start, rules.visit_window, now):
                return None
            booking = session.get(Booking, booking_id, populate_existing=True)
            enqueue_email(session, "visit_reminder", booking=booking, recipient=booking.email,
                          language=booking.language, now=now)
            return booking

        booking = atomic(session, operation)
        if booking is not None:
            sent.append(booking.reference)
    return sent


def send_tour_reminders(session: Session, rules: ReminderRules, tour_rules: TourRules,
                        now: dt.datetime) -> list[str]:
    """Ask each due teacher, once, to confirm the final numbers; returns the references asked."""
    sent = []
    for tour_id, start in due_tour_reminders(session, rules, tour_rules.cancel_days_before, now):
        def operation(tour_id=tour_id, start=start) -> TourRequest | None:
            if not _claim(session, TourRequest, tour_id, start, rules.tour_window, now):
                return None
            tour = session.get(TourRequest, tour_id, populate_existing=True)
            enqueue_email(session, "tour_reminder", tour=tour, recipient=tour.email, language=tour.language,
                          now=now, payload={"deadline": numbers_deadline(tour.start, tour_rules).isoformat()})
            return tour

        tour = atomic(session, operation)
        if tour is not None:
            sent.append(tour.reference)
    return sent

