"""Guides as people: their private link, their unavailability, their share of tours, the emails they get."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import RetryTransaction, atomic
from booking.guide_rules import PARTS, Candidate, part_covers, part_hours
from booking.models import Closure, Guide, GuideAssignment, GuideUnavailability, OutboxMessage, StaffUser, TourRequest
from booking.schedule import Rules
from booking.services import BookingError, audit
from booking.services.closed_times import opened_days
from booking.services.roster import unavailable_guide_ids
from booking.tokens import manage_token, token_matches

GUIDE_EMAILS = ("guide_assigned", "guide_changed", "guide_withdrawn")


class UnavailabilityError(BookingError):
    """An unavailability that cannot be entered: past, closed_day (detail: why), already, part."""

    field = "day"


# --- the private link ---------------------------------------------------------------------------

def guide_token(secret_key: str, guide: Guide) -> str:
    """The guide's private token: their id, then an HMAC of it and the link's version (never stored)."""
    return f"{guide.id}-{manage_token(secret_key, 'guide', guide.id, guide.token_version)}"


def find_guide_by_token(session: Session, secret_key: str, token: str) -> Guide | None:
    """The guide a token from a URL opens, or None (forged, revoked, unknown)."""
    guide_id, _, digest = token.partition("-")
    if not guide_id.isdigit() or len(guide_id) > 12 or not digest:
        return None
    guide = session.get(Guide, int(guide_id))
    if guide is None or not token_matches(secret_key, "guide", guide.id, guide.token_version, digest):
        return None
    return guide


def find_guide_by_name(session: Session, name: str) -> Guide | None:
    return session.scalars(sa.select(Guide).where(sa.func.lower(Guide.name) == name.strip().lower())).first()


def reissue_link(session: Session, now: dt.datetime, staff: StaffUser | None, guide_id: int) -> Guide:
    """A new private link for the guide; the old one opens nothing from now on."""

    def operation() -> Guide:
        guide = session.get(Guide, guide_id, with_for_update=True, populate_existing=True)
        if guide is None:
            raise BookingError("not_found")
        guide.token_version += 1
        audit.record(session, now, staff, "guide.link_reissue", guide_id=guide.id, name=guide.name)
        return guide

    return atomic(session, operation)


# --- what guides hold: their tours, their share ---------------------------------------------------

def week_bounds(day: dt.date, rules: Rules) -> tuple[dt.datetime, dt.datetime]:
    monday = day - dt.timedelta(days=day.weekday())
    return schedule.day_bounds(monday, rules)[0], schedule.day_bounds(monday + dt.timedelta(days=6), rules)[1]


def month_bounds(day: dt.date, rules: Rules) -> tuple[dt.datetime, dt.datetime]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return schedule.day_bounds(first, rules)[0], schedule.day_bounds(following, rules)[0]


def candidates(session: Session, rules: Rules, start: dt.datetime, guides: list[Guide],
               tour_id: int | None = None) -> list[Candidate]:
    """`guides` with what they already guide around `start`: hours that week and that month, tours
    that day and that week (held requests and confirmed visits; `tour_id` itself left out). One SELECT."""
    if not guides:
        return []
    day = schedule.to_local(start, rules).date()
    week, month, today = week_bounds(day, rules), month_bounds(day, rules), schedule.day_bounds(day, rules)
    first, last = min(week[0], month[0]), max(week[1], month[1])

    def within(bounds):
        return sa.and_(GuideAssignment.start >= bounds[0], GuideAssignment.start < bounds[1])

    query = (
        sa.select(GuideAssignment.guide_id,
                  sa.func.count(sa.case((within(week), 1))).label("week_hours"),
                  sa.func.count(sa.case((within(month), 1))).label("month_hours"),
                  sa.func.count(sa.distinct(sa.case((within(today), GuideAssignment.tour_id)))).label("day_tours"),
                  sa.func.count(sa.distinct(sa.case((within(week), GuideAssignment.tour_id)))).label("week_tours"))
        .join(TourRequest, TourRequest.id == GuideAssignment.tour_id)
        .where(GuideAssignment.guide_id.in_([g.id for g in guides]), TourRequest.status.in_(TourRequest.HOLDING),
               GuideAssignment.start >= first, GuideAssignment.start < last)
        .group_by(GuideAssignment.guide_id)
    )
    if tour_id is not None:
        query = query.where(GuideAssignment.tour_id != tour_id)
    load = {row.guide_id: row for row in session.execute(query)}
    return [Candidate(g.id, tuple(g.languages), *(
        (load[g.id].week_hours, load[g.id].month_hours, load[g.id].day_tours, load[g.id].week_tours)
        if g.id in load else (0, 0, 0, 0))) for g in guides]


def lock_and_check(session: Session, rules: Rules, tour: TourRequest, guide_ids: Iterable[int]) -> None:
    """Before a tour holds these guides: lock their rows (in order, so two operations never wait on
    each other in a circle) and check again that none said meanwhile they are away then. One who
    did makes the operation start again and choose others. The unavailability takes the same lock
    (add_unavailability), so of the two, whichever is second sees the first."""
    ids = sorted(set(guide_ids))
    if not ids:
        return
    session.execute(sa.select(Guide.id).where(Guide.id.in_(ids)).order_by(Guide.id).with_for_update())
    if unavailable_guide_ids(session, rules, tour.start, tour.end, ids):
        raise RetryTransaction()


def coming_tours(session: Session, now: dt.datetime, guide_id: int) -> list[TourRequest]:
    """The requests and visits to come that hold the guide, soonest first."""
    held = sa.select(GuideAssignment.tour_id).where(GuideAssignment.guide_id == guide_id)
    return list(session.scalars(
        sa.select(TourRequest).where(TourRequest.id.in_(held), TourRequest.status.in_(TourRequest.HOLDING),
                                     TourRequest.start >= now - dt.timedelta(hours=4))
        .order_by(TourRequest.start)))


def hours_now(session: Session, rules: Rules, now: dt.datetime) -> dict[int, tuple[int, int]]:
    """Each guide's guided hours this week and this month: {guide id: (week, month)}."""
    today = schedule.local_today(now, rules)
    guides = list(session.scalars(sa.select(Guide)))
    return {c.id: (c.week_hours, c.month_hours)
            for c in candidates(session, rules, schedule.day_bounds(today, rules)[0], guides)}


# --- unavailability -------------------------------------------------------------------------------

@dataclass
class Conflict:
    """A guide away when they hold a tour: it stands until staff reassign it."""

    entry: GuideUnavailability
    tour: TourRequest


def _tours_during(session: Session, rules: Rules, guide_id: int, day: dt.date, part: str) -> list[TourRequest]:
    first, last = schedule.day_bounds(day, rules)
    rows = session.scalars(
        sa.select(TourRequest).join(GuideAssignment, GuideAssignment.tour_id == TourRequest.id)
        .where(GuideAssignment.guide_id == guide_id, GuideAssignment.start >= first, GuideAssignment.start < last,
               TourRequest.status.in_(TourRequest.HOLDING))
        .order_by(TourRequest.start)).unique().all()
    found = {}
    for tour in rows:
        start, end = schedule.to_local(tour.start, rules), schedule.to_local(tour.end, rules)
        if part_covers(part, start.time(), end.time()):
            found[tour.id] = tour
    return list(found.values())


def _closed_reason(session: Session, rules: Rules, day: dt.date, part: str) -> str | None:
    start_time, end_time = part_hours(part, rules.opening_time, rules.closing_time)
    start, end = (schedule.local_datetime(day, start_time, rules), schedule.local_datetime(day, end_time, rules))
    closure = schedule.calendar_closure(day, rules, opened=opened_days(session, rules, [start]))
    if closure:
        return closure[0]
    covering = session.scalar(sa.select(sa.func.count()).select_from(Closure).where(
        Closure.kind == "closed", Closure.start_at <= start, Closure.end_at >= end))
    return "closed" if covering else None


def add_unavailability(session: Session, rules: Rules, now: dt.datetime, guide_id: int, day: dt.date, part: str,
                       note: str = "", staff: StaffUser | None = None) -> tuple[GuideUnavailability, list[TourRequest]]:
    """The guide is away on `day` (or its morning or afternoon), entered by the guide (staff None)
    or by staff. Returns the entry and the tours the guide holds then: those stand, the entry is
    marked as a conflict for staff to reassign them. Raises UnavailabilityError: past, closed_day
    (detail: weekend, holiday, closed), already, part."""
    note = (note or "").strip()[:500]
    if part not in PARTS:
        raise UnavailabilityError("part", field="part")
    today = schedule.local_today(now, rules)
    _start, part_end = part_hours(part, rules.opening_time, rules.closing_time)
    if day < today or (day == today and schedule.local_datetime(day, part_end, rules) <= now):
        raise UnavailabilityError("past")

    def operation() -> tuple[GuideUnavailability, list[TourRequest]]:
        # The guide's row is the lock a request takes before holding them (lock_and_check).
        guide = session.get(Guide, guide_id, with_for_update=True, populate_existing=True)
        if guide is None:
            raise BookingError("not_found")
        reason = _closed_reason(session, rules, day, part)
        if reason:
            raise UnavailabilityError("closed_day", detail=reason)
        existing = session.scalars(sa.select(GuideUnavailability.part).where(
            GuideUnavailability.guide_id == guide_id, GuideUnavailability.day == day)).all()
        if part in existing or "day" in existing:
            raise UnavailabilityError("already")
        tours = _tours_during(session, rules, guide_id, day, part)
        entry = GuideUnavailability(guide_id=guide_id, day=day, part=part, note=note, conflict=bool(tours),
                                    entered_by_id=staff.id if staff else None, created_at=now)
        session.add(entry)
        session.flush()
        audit.record(session, now, staff, "guide.unavailable", guide_id=guide_id, name=guide.name,
                     day=day.isoformat(), part=part, by="staff" if staff else "guide",
                     conflicts=[tour.reference for tour in tours])
        return entry, tours

    return atomic(session, operation)


def remove_unavailability(session: Session, rules: Rules, now: dt.datetime, guide_id: int, entry_id: int,
                          staff: StaffUser | None = None) -> GuideUnavailability:
    """The guide is available again then (an entry of theirs to come). Raises BookingError not_found."""

    def operation() -> GuideUnavailability:
        entry = session.get(GuideUnavailability, entry_id, with_for_update=True)
        if entry is None or entry.guide_id != guide_id or entry.day < schedule.local_today(now, rules):
            raise BookingError("not_found")
        audit.record(session, now, staff, "guide.available", guide_id=guide_id, name=entry.guide.name,
                     day=entry.day.isoformat(), part=entry.part, by="staff" if staff else "guide")
        session.delete(entry)
        return entry

    return atomic(session, operation)


def coming_unavailability(session: Session, rules: Rules, now: dt.datetime,
                          guide_id: int | None = None) -> list[GuideUnavailability]:
    query = sa.select(GuideUnavailability).where(GuideUnavailability.day >= schedule.local_today(now, rules))
    if guide_id is not None:
        query = query.where(GuideUnavailability.guide_id == guide_id)
    return list(session.scalars(query.order_by(GuideUnavailability.day, GuideUnavailability.part)))


def conflicts(session: Session, rules: Rules, now: dt.datetime, guide_id: int | None = None) -> list[Conflict]:
    """The tours to come held by a guide who is away then: flagged until staff reassign them.
    Two SELECTs, whatever the number of absences."""
    entries = coming_unavailability(session, rules, now, guide_id)
    if not entries:
        return []
    first = schedule.day_bounds(min(entry.day for entry in entries), rules)[0]
    last = schedule.day_bounds(max(entry.day for entry in entries), rules)[1]
    held: dict[tuple[int, dt.date], dict[int, TourRequest]] = {}
    rows = session.execute(
        sa.select(GuideAssignment.guide_id, TourRequest).join(TourRequest, TourRequest.id == GuideAssignment.tour_id)
        .where(GuideAssignment.guide_id.in_({entry.guide_id for entry in entries}),
               GuideAssignment.start >= first, GuideAssignment.start < last,
               TourRequest.status.in_(TourRequest.HOLDING))
        .order_by(TourRequest.start))
    for away_guide, tour in rows:
        held.setdefault((away_guide, schedule.to_local(tour.start, rules).date()), {})[tour.id] = tour
    found = []
    for entry in entries:
        for tour in held.get((entry.guide_id, entry.day), {}).values():
            start, end = schedule.to_local(tour.start, rules), schedule.to_local(tour.end, rules)
            if part_covers(entry.part, start.time(), end.time()):
                found.append(Conflict(entry, tour))
    return found


# --- telling the guides ---------------------------------------------------------------------------

def _sequence(session: Session, tour: TourRequest, guide: Guide) -> int:
    """The calendar entry's SEQUENCE for this email: how many the guide had about the tour before."""
    return session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.tour_id == tour.id, OutboxMessage.guide_id == guide.id,
        OutboxMessage.kind.in_(GUIDE_EMAILS))) or 0


def tell_guides(session: Session, now: dt.datetime, tour: TourRequest, before: list[Guide],
                changed: bool = False) -> None:
    """Email the guides what the operation did to them: the ones it gave the tour (assigned), took
    off it (withdrawn, with a CANCEL), and, when `changed`, the ones it kept (changed). Guides
    without an email address get nothing."""
    from booking.models import enqueue_email

    after = {guide.id: guide for guide in tour.guides} if tour.holds else {}
    previous = {guide.id: guide for guide in before}
    told = [(guide, "guide_withdrawn") for guide_id, guide in previous.items() if guide_id not in after]
    for guide_id, guide in after.items():
        if guide_id not in previous:
            told.append((guide, "guide_assigned"))
        elif changed:
            told.append((guide, "guide_changed"))
    for guide, kind in told:
        if guide.email:
            enqueue_email(session, kind, recipient=guide.email, language=guide.language, now=now, tour=tour,
                          guide=guide, payload={"sequence": _sequence(session, tour, guide)})


def feed_sequences(session: Session, guide_id: int) -> dict[int, int]:
    """{tour id: the SEQUENCE of the last email the guide had about it} for the feed."""
    rows = session.execute(sa.select(OutboxMessage.tour_id, sa.func.count()).where(
        OutboxMessage.guide_id == guide_id, OutboxMessage.kind.in_(GUIDE_EMAILS)).group_by(OutboxMessage.tour_id))
    return {tour_id: count - 1 for tour_id, count in rows}
