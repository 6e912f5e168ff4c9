"""The waiting list of a full slot: join, offers that hold freed places, accept, decline, leave.

An offer takes the freed places in the slot (the same atomic statement as a booking), so they are
no longer free to anyone else; accepting turns them into a booking without taking them again;
an offer that expires or is declined gives them back and offers them to the next in line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import atomic, flush_or_retry
from booking.models import Booking, Slot, WaitlistEntry, enqueue_email
from booking.references import new_reference
from booking.schedule import Rules
from booking.services import BookingClosed, BookingError, NotBookable
from booking.services.availability import check_bookable
from booking.services.capacity import release_places, take_places
from booking.services.email_cap import email_day_limits, under_email_day_cap
from booking.services.settings import default_capacity, default_kept_back

PREFIX = "WL-"
ACTIVE = ("waiting", "offered")


@dataclass(frozen=True)
class WaitRequest:
    start: dt.datetime  # aware
    people: int
    name: str
    email: str
    language: str


def join_waitlist(session: Session, rules: Rules, now: dt.datetime, request: WaitRequest) -> WaitlistEntry:
    """Put a visitor on the slot's waiting list; only while the slot lacks the places and an offer can still come."""
    if not rules.party_min <= request.people <= rules.party_max:
        raise BookingError("party_size", field="party_size")
    start = request.start.astimezone(schedule.UTC)
    email = request.email.strip()

    def operation() -> WaitlistEntry:
        check_bookable(session, rules, now, start, request.language)
        if schedule.offer_expiry(start, now, rules) is None:
            raise NotBookable("waitlist_too_late")
        row = session.execute(sa.select(Slot.capacity, Slot.booked, Slot.kept_back).where(Slot.start == start)).first()
        capacity, booked, kept_back = row or (default_capacity(session, rules.slot_capacity), 0,
                                              default_kept_back(session))
        if capacity - kept_back - booked >= request.people:
            raise BookingError("waitlist_places_free")
        duplicate = session.scalar(sa.select(WaitlistEntry.id).where(
            WaitlistEntry.start == start, sa.func.lower(WaitlistEntry.email) == email.lower(),
            WaitlistEntry.status.in_(ACTIVE)))
        if duplicate:
            raise BookingError("waitlist_already", field="email")
        entry = WaitlistEntry(reference=new_reference(PREFIX), start=start, people=request.people,
                              name=request.name.strip(), email=email, language=request.language, created_at=now)
        session.add(entry)
        flush_or_retry(session)
        enqueue_email(session, "waitlist_joined", waitlist=entry, recipient=entry.email, language=entry.language,
                      now=now)
        return entry

    return atomic(session, operation)


def offer_freed_places(session: Session, rules: Rules, now: dt.datetime, start: dt.datetime) -> list[WaitlistEntry]:
    """Offer the slot's free places to the first waiting entries that fit, in the order they joined.

    Runs inside the caller's transaction (a cancellation, a move, the periodic job). Each offer
    takes its places with the atomic statement and claims its entry with a conditional UPDATE, so
    two concurrent runs can neither offer one place twice nor offer one entry twice.
    """
    expiry = schedule.offer_expiry(start, now, rules)
    if expiry is None:
        return []
    try:
        check_bookable(session, rules, now, start)
    except NotBookable:
        return []  # closed meanwhile, or out of the window: nothing to offer
    waiting = session.scalars(
        sa.select(WaitlistEntry).where(WaitlistEntry.start == start, WaitlistEntry.status == "waiting")
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    offered = []
    for entry in waiting:
        if not take_places(session, start, entry.people, rules.slot_capacity):
            continue  # too many for what is free; a smaller party further down may fit
        claimed = session.execute(
            sa.update(WaitlistEntry)
            .where(WaitlistEntry.id == entry.id, WaitlistEntry.status == "waiting")
            .values(status="offered", offered_at=now, offer_expires_at=expiry)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            release_places(session, start, entry.people)
            continue
        session.refresh(entry)
        enqueue_email(session, "waitlist_offer", waitlist=entry, recipient=entry.email, language=entry.language,
                      now=now)
        offered.append(entry)
    return offered


def offer_places(session: Session, rules: Rules, now: dt.datetime, start: dt.datetime) -> list[WaitlistEntry]:
    """offer_freed_places in a transaction of its own."""
    return atomic(session, lambda: offer_freed_places(session, rules, now, start))


def _give_back(session: Session, rules: Rules, now: dt.datetime, entry_id: int, status: str,
               from_statuses: tuple[str, ...]) -> WaitlistEntry | None:
    """Close an entry; if it held an offer, give its places back and offer them to the next in line."""
    entry = session.get(WaitlistEntry, entry_id, populate_existing=True)
    if entry is None or entry.status not in from_statuses:
        return None
    was_offered = entry.status == "offered"
    closed = session.execute(
        sa.update(WaitlistEntry).where(WaitlistEntry.id == entry_id, WaitlistEntry.status == entry.status)
        .values(status=status, closed_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if not closed:
        return None
    if was_offered:
        release_places(session, entry.start, entry.people)
        offer_freed_places(session, rules, now, entry.start)
    session.refresh(entry)
    return entry


def leave_waitlist(session: Session, rules: Rules, now: dt.datetime, entry_id: int) -> WaitlistEntry:
    """The visitor leaves the list (or turns down an offer): held places go to the next in line."""

    def operation() -> WaitlistEntry:
        entry = session.get(WaitlistEntry, entry_id, populate_existing=True)
        status = "declined" if entry is not None and entry.status == "offered" else "left"
        closed = _give_back(session, rules, now, entry_id, status, ACTIVE)
        if closed is None:
            raise BookingClosed("waitlist_closed")
        return closed

    return atomic(session, operation)


def accept_offer(session: Session, rules: Rules, now: dt.datetime, entry_id: int,
                 email_day_cap: int | None = None) -> Booking:
    """Turn a valid offer into a booking of the places it holds; raises BookingClosed otherwise.

    `email_day_cap` (the visitor's link): refused with BookingError("email_day_cap") while the address
    already holds that many active bookings on the slot's day, as a booking would be; the offer stays
    open, its places held, until it is declined or expires.
    """

    def operation() -> Booking:
        entry = session.get(WaitlistEntry, entry_id, populate_existing=True)
        if entry is None or entry.status != "offered":
            raise BookingClosed("waitlist_closed")
        if entry.offer_expires_at <= now:
            raise BookingClosed("offer_expired")
        # Two clicks at once: only one UPDATE finds the entry still offered. The cap is counted in it too.
        claim = (sa.update(WaitlistEntry)
                 .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == "offered",
                        WaitlistEntry.offer_expires_at > now)
                 .values(status="accepted", closed_at=now).execution_options(synchronize_session=False))
        capped = email_day_cap is not None and bool(entry.email)
        if capped:
            claim = claim.where(under_email_day_cap())
        limits = email_day_limits(rules, entry.start, entry.email, email_day_cap) if capped else {}
        if not session.execute(claim, limits).rowcount:
            session.refresh(entry)  # only now: was it the cap, or the other click?
            if capped and entry.status == "offered" and entry.offer_expires_at > now:
                raise BookingError("email_day_cap", field="email", detail=str(email_day_cap))
            raise BookingClosed("waitlist_closed")
        booking = Booking(reference=new_reference(), start=entry.start, party_size=entry.people, name=entry.name,
                          email=entry.email, language=entry.language, created_at=now, updated_at=now)
        session.add(booking)
        flush_or_retry(session)
        session.execute(sa.update(WaitlistEntry).where(WaitlistEntry.id == entry_id)
                        .values(booking_id=booking.id).execution_options(synchronize_session=False))
        enqueue_email(session, "visit_confirmed", booking=booking, recipient=booking.email,
                      language=booking.language, now=now)
        return booking

    return atomic(session, operation)


def expire_offers(session: Session, rules: Rules, now: dt.datetime) -> list[str]:
    """Close the offers whose time is up, each in its own transaction, passing their places on."""
    due = session.scalars(sa.select(WaitlistEntry.id).where(
        WaitlistEntry.status == "offered", WaitlistEntry.offer_expires_at <= now)).all()
    session.commit()
    expired = []
    for entry_id in due:
        entry = atomic(session, lambda entry_id=entry_id: _give_back(
            session, rules, now, entry_id, "expired", ("offered",)))
        if entry is not None:
            expired.append(entry.reference)
    return expired


def offer_all(session: Session, rules: Rules, now: dt.datetime) -> list[str]:
    """Offer free places in every slot that has people waiting (after capacity raises, group cancellations...)."""
    cutoff = now + dt.timedelta(minutes=rules.offer_cutoff_minutes)
    starts = session.scalars(sa.select(WaitlistEntry.start).where(
        WaitlistEntry.status == "waiting", WaitlistEntry.start > cutoff).distinct()).all()
    session.commit()
    return [entry.reference for start in starts for entry in offer_places(session, rules, now, start)]


def close_past_entries(session: Session, now: dt.datetime) -> list[str]:
    """Entries still waiting when no offer can come any more end as expired."""
    def operation() -> list[str]:
        rows = session.execute(
            sa.update(WaitlistEntry).where(WaitlistEntry.status == "waiting", WaitlistEntry.start <= now)
            .values(status="expired", closed_at=now).returning(WaitlistEntry.reference)
            .execution_options(synchronize_session=False)
        ).scalars().all()
        return list(rows)

    return atomic(session, operation)


def run_waitlist_jobs(session: Session, rules: Rules, now: dt.datetime) -> dict[str, list[str]]:
    """What run-jobs does for the waiting list: expire offers, offer what is free, close past entries."""
    return {"offers expired": expire_offers(session, rules, now),
            "offers made": offer_all(session, rules, now),
            "entries closed": close_past_entries(session, now)}


def slot_lists(session: Session, starts: list[dt.datetime]) -> dict[dt.datetime, list[WaitlistEntry]]:
    """The active waiting lists of some slots, for the staff day view."""
    rows = session.scalars(sa.select(WaitlistEntry).where(
        WaitlistEntry.start.in_(starts), WaitlistEntry.status.in_(ACTIVE))
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)).all()
    lists: dict[dt.datetime, list[WaitlistEntry]] = {}
    for entry in rows:
        lists.setdefault(entry.start, []).append(entry)
    return lists
