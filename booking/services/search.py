"""The staff search: visits and group visits by reference, name, email or organisation, with filters.

A read service with plain inputs (the typed text, two dates, a status, a limit). It costs at most
two SELECTs, one for visits and one for group visits, however many bookings there are. Names,
emails and organisations match without case and accents on both databases: the typed text is
folded by `booking.folding.fold`, the stored text by the database (`booking.db.folded`); the
folding module says why it is done that way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import folded
from booking.folding import fold
from booking.models import Booking, TourRequest
from booking.references import GROUP_PREFIX, PREFIX, normalise_reference
from booking.schedule import Rules


@dataclass
class Found:
    """One line of the search results: a visit or a group visit."""

    kind: str  # "visit" or "group"
    reference: str
    start: dt.datetime
    end: dt.datetime
    name: str
    organisation: str
    email: str | None
    people: int
    status: str
    source: str


def _day_start(day: dt.date, rules: Rules) -> dt.datetime:
    return schedule.to_utc(schedule.local_datetime(day, dt.time.min, rules))


def _matches(needle: str, *columns) -> list[sa.ColumnElement[bool]]:
    """Each column, folded, contains the folded needle; % and _ in it are plain text (autoescape)."""
    return [folded(column).contains(needle, autoescape=True) for column in columns]


def search_bookings(session: Session, rules: Rules, text: str, date_from: dt.date | None = None,
                    date_to: dt.date | None = None, status: str = "", limit: int = 100) -> tuple[list[Found], bool]:
    """Visits and group visits matching, newest first; True when more than `limit` match.

    `text` is a whole reference (with or without its prefix, in any case) or part of a name, an
    email or an organisation; `date_from` and `date_to` are Brussels days, both included; `status`
    is a visit's or a group's status, or "" for any.
    """
    text = text.strip()
    visits = sa.select(Booking)
    groups = sa.select(TourRequest)
    if text:
        needle = fold(text)
        visits = visits.where(sa.or_(
            Booking.reference == normalise_reference(text, PREFIX),
            *_matches(needle, Booking.name, Booking.email),
        ))
        groups = groups.where(sa.or_(
            TourRequest.reference == normalise_reference(text, GROUP_PREFIX),
            *_matches(needle, TourRequest.contact_name, TourRequest.leader_name, TourRequest.email,
                      TourRequest.organisation),
        ))
    if date_from:
        visits = visits.where(Booking.start >= _day_start(date_from, rules))
        groups = groups.where(TourRequest.start >= _day_start(date_from, rules))
    if date_to:
        end = _day_start(date_to + dt.timedelta(days=1), rules)
        visits = visits.where(Booking.start < end)
        groups = groups.where(TourRequest.start < end)
    found: list[Found] = []
    step = dt.timedelta(minutes=rules.slot_minutes)
    if not status or status in Booking.STATUSES:
        if status:
            visits = visits.where(Booking.status == status)
        for visit in session.scalars(visits.order_by(Booking.start.desc(), Booking.id.desc()).limit(limit + 1)):
            found.append(Found("visit", visit.reference, visit.start, visit.start + step, visit.name, "",
                               visit.email, visit.party_size, visit.status, visit.source))
    if not status or status in TourRequest.STATUSES:
        if status:
            groups = groups.where(TourRequest.status == status)
        for tour in session.scalars(groups.order_by(TourRequest.start.desc(), TourRequest.id.desc()).limit(limit + 1)):
            found.append(Found("group", tour.reference, tour.start, tour.end, tour.contact_name, tour.organisation,
                               tour.email, tour.people, tour.status, tour.source))
    found.sort(key=lambda row: row.start, reverse=True)
    return found[:limit], len(found) > limit
