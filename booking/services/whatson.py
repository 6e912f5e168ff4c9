"""What's on: the exhibitions on show and the events (talks, round tables) staff announce."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking.db import atomic
from booking.models import Event, Exhibition, StaffUser
from booking.services import BookingError, audit


@dataclass(frozen=True)
class ExhibitionData:
    titles: dict[str, str]
    descriptions: dict[str, str]
    starts_on: dt.date
    ends_on: dt.date | None
    panel_languages: list[str]
    image: str | None = None  # None keeps the current image


@dataclass(frozen=True)
class EventData:
    titles: dict[str, str]
    descriptions: dict[str, str]
    start_at: dt.datetime  # aware
    end_at: dt.datetime
    place: str
    booking_needed: bool


def _texts(values: dict[str, str]) -> dict[str, str]:
    return {code: text.strip() for code, text in values.items() if text and text.strip()}


def exhibitions_on(session: Session, day: dt.date) -> list[Exhibition]:
    """The exhibitions on show on `day`: a visit that day covers all of them."""
    return list(session.scalars(sa.select(Exhibition).where(
        Exhibition.starts_on <= day, sa.or_(Exhibition.ends_on.is_(None), Exhibition.ends_on >= day))
        .order_by(Exhibition.starts_on, Exhibition.id)))


def programme(session: Session, today: dt.date, now: dt.datetime, days_ahead: int = 120,
              ) -> tuple[list[Exhibition], list[Event]]:
    """Current and coming exhibitions, and the events still to come, for the home page."""
    until = today + dt.timedelta(days=days_ahead)
    exhibitions = session.scalars(sa.select(Exhibition).where(
        Exhibition.starts_on <= until, sa.or_(Exhibition.ends_on.is_(None), Exhibition.ends_on >= today))
        .order_by(Exhibition.starts_on, Exhibition.id)).all()
    events = session.scalars(sa.select(Event).where(
        Event.end_at > now, Event.start_at < now + dt.timedelta(days=days_ahead))
        .order_by(Event.start_at).limit(20)).all()
    return list(exhibitions), list(events)


def events_from(session: Session, since: dt.datetime) -> list[Event]:
    return list(session.scalars(sa.select(Event).where(Event.end_at > since).order_by(Event.start_at)))


def save_exhibition(session: Session, now: dt.datetime, staff: StaffUser | None, data: ExhibitionData,
                    exhibition_id: int | None = None) -> Exhibition:
    titles = _texts(data.titles)
    if not titles:
        raise BookingError("title_missing", field="title_en")
    if data.ends_on is not None and data.ends_on < data.starts_on:
        raise BookingError("ends_before_start", field="ends_on")

    def operation() -> Exhibition:
        exhibition = session.get(Exhibition, exhibition_id) if exhibition_id else Exhibition(created_at=now)
        if exhibition is None:
            raise BookingError("not_found")
        exhibition.titles = titles
        exhibition.descriptions = _texts(data.descriptions)
        exhibition.starts_on, exhibition.ends_on = data.starts_on, data.ends_on
        exhibition.panel_languages = ",".join(data.panel_languages)
        if data.image is not None:
            exhibition.image = data.image
        session.add(exhibition)
        session.flush()
        audit.record(session, now, staff, "exhibition.save", exhibition_id=exhibition.id, title=titles)
        return exhibition

    return atomic(session, operation)


def save_event(session: Session, now: dt.datetime, staff: StaffUser | None, data: EventData,
               event_id: int | None = None) -> Event:
    titles = _texts(data.titles)
    if not titles:
        raise BookingError("title_missing", field="title_en")
    if data.end_at <= data.start_at:
        raise BookingError("ends_before_start", field="end_time")

    def operation() -> Event:
        event = session.get(Event, event_id) if event_id else Event(created_at=now)
        if event is None:
            raise BookingError("not_found")
        event.titles, event.descriptions = titles, _texts(data.descriptions)
        event.start_at, event.end_at = data.start_at, data.end_at
        event.place, event.booking_needed = data.place.strip(), data.booking_needed
        session.add(event)
        session.flush()
        audit.record(session, now, staff, "event.save", event_id=event.id, title=titles)
        return event

    return atomic(session, operation)


# Each action written out, so the audit log's sentences (booking/audit_sentences.py) can be checked against them.
DELETED = {Exhibition: "exhibition.delete", Event: "event.delete"}


def delete_item(session: Session, now: dt.datetime, staff: StaffUser | None, model, item_id: int) -> None:
    def operation() -> None:
        item = session.get(model, item_id)
        if item is None:
            raise BookingError("not_found")
        audit.record(session, now, staff, DELETED[model], item_id=item_id, title=item.titles)
        session.delete(item)

    atomic(session, operation)
