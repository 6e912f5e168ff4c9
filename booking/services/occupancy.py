"""What the front desk sees of a range of days: every slot's visitors, groups, places and guides.

A read service for the staff calendar, the day page and the day sheet. Whatever the range and the
amount of history, it costs three SELECTs: slots with their confirmed bookings' totals and the
closures, the groups holding places with their guides' hours, and the guides with their roster.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import utc_param
from booking.guide_rules import part_covers
from booking.models import Booking, Closure, GuideAssignment, GuideUnavailability, PlacesLeft, Slot, TourRequest
from booking.schedule import Rules
from booking.services import closed_times
from booking.services.roster import GuideRef, guides_on_duty_between
from booking.services.settings import default_capacity_sql, default_kept_back_sql


@dataclass(frozen=True)
class GroupHold:
    """A group visit as one hour sees it: it may have started in an earlier hour (`continued`)."""

    tour: TourRequest
    continued: bool
    guides: tuple[GuideRef, ...] = ()
    away: tuple[GuideRef, ...] = ()  # guides it holds who said since that they are away then: reassign them

    @property
    def people(self) -> int:
        return self.tour.people


@dataclass
class SlotOccupancy(PlacesLeft):
    start: dt.datetime  # UTC
    local_start: dt.datetime  # in the museum's time zone
    end: dt.datetime
    capacity: int
    booked: int  # every place taken: individual visitors and groups
    individuals: int  # people in confirmed individual bookings
    bookings: int  # how many confirmed individual bookings
    kept_back: int = 0  # places online bookings leave for visitors without a booking
    walk_ins: int = 0  # people the desk counted in without a booking (not in `booked`)
    groups: list[GroupHold] = field(default_factory=list)
    guides_used: list[GuideRef] = field(default_factory=list)
    guides_free: list[GuideRef] = field(default_factory=list)
    closed_kind: str | None = None  # "weekend", "holiday" or "closure"
    closed_reason: str | None = None  # the holiday's name or the reason staff gave

    @property
    def kept_back_left(self) -> int:
        """Kept-back places not yet used by walk-ins: walk-ins use the kept-back places first."""
        return max(self.kept_back - self.walk_ins, 0)

    @property
    def group_people(self) -> int:
        return sum(group.people for group in self.groups)

    @property
    def closed(self) -> bool:
        return self.closed_kind is not None

    @property
    def anchor(self) -> str:
        """The slot's fragment on the day page, e.g. "slot-1000"."""
        return "slot-" + self.local_start.strftime("%H%M")

    @property
    def fill(self) -> str:
        """How full the hour is, for the week's colours: "low" (under half), "mid", "high" (80 % and
        more) or "full" (no place left, a capacity of 0 included)."""
        return fill_level(self.booked, self.capacity)

    @property
    def fill_tenths(self) -> int:
        """The share of places taken in tenths, 1 at least once anyone is booked (the week's bar)."""
        if self.capacity <= 0 or self.booked >= self.capacity:
            return 10
        return max(self.booked * 10 // self.capacity, 1 if self.booked else 0)


def fill_level(booked: int, capacity: int) -> str:
    if capacity <= 0 or booked >= capacity:
        return "full"
    if booked * 10 >= capacity * 8:
        return "high"
    return "mid" if booked * 2 >= capacity else "low"


@dataclass
class DayOccupancy:
    date: dt.date
    slots: list[SlotOccupancy]
    guides_on_duty: list[GuideRef]
    holiday: str | None = None  # the public holiday's name, even when staff opened it
    opened_exceptionally: bool = False  # a public holiday staff opened (Closure.kind "opened")
    closed_kind: str | None = None  # set when every slot is closed: "weekend", "holiday" or "closure"
    closed_reason: str | None = None

    @property
    def open(self) -> bool:
        return self.closed_kind is None

    @property
    def individuals(self) -> int:
        return sum(slot.individuals for slot in self.slots)

    @property
    def bookings(self) -> int:
        return sum(slot.bookings for slot in self.slots)

    @property
    def walk_ins(self) -> int:
        return sum(slot.walk_ins for slot in self.slots)

    @property
    def groups(self) -> list[GroupHold]:
        """The day's groups in order of start, each once."""
        return [group for slot in self.slots for group in slot.groups if not group.continued]


def _day_bounds(first: dt.date, last: dt.date, rules: Rules) -> tuple[dt.datetime, dt.datetime]:
    start = schedule.to_utc(schedule.local_datetime(first, dt.time.min, rules))
    end = schedule.to_utc(schedule.local_datetime(last + dt.timedelta(days=1), dt.time.min, rules))
    return start, end


# The reads below are built once; a request binds its period (see availability.py).
_CONFIRMED = (
    sa.select(Booking.start.label("start"), sa.func.sum(Booking.party_size).label("people"),
              sa.func.count().label("bookings"))
    .where(Booking.status == "confirmed", Booking.start >= utc_param("start"), Booking.start < utc_param("end"))
    .group_by(Booking.start).subquery()
)
_slot = Slot.__table__
# One row per kind, each left-joined to its own table only (as in desk_day.py): the slots (kind 1)
# and the closures (2) in one SELECT, without a cross product; a row at least, so the defaults come too.
_KINDS = sa.union_all(*(sa.select(sa.literal(kind).label("kind")) for kind in (1, 2))).subquery("kinds")
_SLOT_AND_CLOSURE_ROWS = (
    sa.select(default_capacity_sql(sa.bindparam("configured", type_=sa.Integer)).label("default_capacity"),
              default_kept_back_sql().label("default_kept_back"), _slot.c.start, _slot.c.capacity, _slot.c.booked,
              _slot.c.kept_back, _slot.c.walk_ins, _CONFIRMED.c.people, _CONFIRMED.c.bookings,
              *closed_times.CLOSURE_COLUMNS)
    .select_from(_KINDS)
    .outerjoin(_slot, sa.and_(_KINDS.c.kind == 1, _slot.c.start >= utc_param("start"),
                              _slot.c.start < utc_param("end")))
    .outerjoin(_CONFIRMED, _CONFIRMED.c.start == _slot.c.start)
    .outerjoin(Closure, sa.and_(_KINDS.c.kind == 2, closed_times.overlapping(utc_param("start"), utc_param("end"))))
)
_HOLDING_TOURS = (
    sa.select(TourRequest, GuideAssignment.guide_id, GuideAssignment.start.label("hour"),
              GuideUnavailability.day.label("away_day"), GuideUnavailability.part.label("away_part"))
    .outerjoin(GuideAssignment, GuideAssignment.tour_id == TourRequest.id)
    # A held guide's absences on the range's days come with the hour they hold: a conflict to show.
    .outerjoin(GuideUnavailability, sa.and_(GuideUnavailability.guide_id == GuideAssignment.guide_id,
                                            GuideUnavailability.day >= sa.bindparam("first_day", type_=sa.Date),
                                            GuideUnavailability.day <= sa.bindparam("last_day", type_=sa.Date)))
    .where(TourRequest.status.in_(TourRequest.HOLDING), TourRequest.start >= utc_param("start"),
           TourRequest.start < utc_param("end"))
    .order_by(TourRequest.start, TourRequest.id)
)


def _slot_and_closure_rows(session: Session, start: dt.datetime, end: dt.datetime, configured: int,
                           language: str) -> tuple[dict, tuple, list[schedule.ClosurePeriod]]:
    """(start -> (capacity, booked, individual people, bookings, kept back, walk-ins), the same for a
    slot without a row: the defaults, and the closures overlapping the range in order); one SELECT."""
    rows = session.connection().execute(_SLOT_AND_CLOSURE_ROWS,
                                        {"start": start, "end": end, "configured": configured}).all()
    default = (rows[0].default_capacity, 0, 0, 0, rows[0].default_kept_back, 0)
    slots = {row.start: (row.capacity, row.booked, row.people or 0, row.bookings or 0, row.kept_back, row.walk_ins)
             for row in rows if row.start is not None}
    closures = sorted((closed_times.closure_period(row.start_at, row.end_at, row.reasons, row.kind, language)
                       for row in rows if row.start_at is not None), key=lambda closure: closure.start)
    return slots, default, closures


def _holding_tours(session: Session, rules: Rules, first: dt.date, last: dt.date, start: dt.datetime,
                   end: dt.datetime):
    """The groups holding places that start in [start, end), the guide hours they hold, and the
    (tour, guide) whose guide is away in one of those hours; one SELECT."""
    rows = session.execute(_HOLDING_TOURS, {"start": start, "end": end, "first_day": first, "last_day": last}).all()
    tours: dict[int, TourRequest] = {}
    held: dict[int, list[tuple[int, dt.datetime]]] = defaultdict(list)
    away: set[tuple[int, int]] = set()
    slot = dt.timedelta(minutes=rules.slot_minutes)
    for tour, guide_id, hour, away_day, away_part in rows:
        tours.setdefault(tour.id, tour)
        if guide_id is None:
            continue
        if (guide_id, hour) not in held[tour.id]:
            held[tour.id].append((guide_id, hour))
        local = schedule.to_local(hour, rules)
        if away_day == local.date() and part_covers(away_part, local.time(), (local + slot).time()):
            away.add((tour.id, guide_id))
    return list(tours.values()), held, away


def occupancy_between(session: Session, rules: Rules, first: dt.date, last: dt.date,
                      language: str = "en") -> list[DayOccupancy]:
    """Every day from `first` to `last`, each with all its slots; three SELECTs whatever the range."""
    range_start, range_end = _day_bounds(first, last, rules)
    stored, default, closed = _slot_and_closure_rows(session, range_start, range_end, rules.slot_capacity, language)
    tours, held, away = _holding_tours(session, rules, first, last, range_start, range_end)
    opened = schedule.opened_days(closed, rules)  # the days staff opened
    on_duty, guides = guides_on_duty_between(session, first, last)

    step = dt.timedelta(minutes=rules.slot_minutes)
    groups_by_hour: dict[dt.datetime, list[GroupHold]] = defaultdict(list)
    used_by_hour: dict[dt.datetime, list[int]] = defaultdict(list)
    for hours in held.values():
        for guide_id, hour in hours:
            used_by_hour[hour].append(guide_id)
    for tour in tours:
        tour_guides = tuple(guides[i] for i in sorted({g for g, _hour in held.get(tour.id, ())}))  # as on duty: by id
        tour_away = tuple(guide for guide in tour_guides if (tour.id, guide.id) in away)
        hour = tour.start
        while hour < tour.end:
            groups_by_hour[hour].append(GroupHold(tour, hour != tour.start, tour_guides, tour_away))
            hour += step

    days = []
    day = first
    while day <= last:
        calendar = schedule.calendar_closure(day, rules, language)
        holiday = calendar[1] if calendar and calendar[0] == "holiday" else None
        slots = []
        for time in schedule.slot_starts(day, rules):
            local_start = schedule.local_datetime(day, time, rules)
            start = schedule.to_utc(local_start)
            end = start + step
            capacity, booked, individuals, bookings, kept_back, walk_ins = stored.get(start, default)
            used_ids = sorted(set(used_by_hour.get(start, ())))
            slot = SlotOccupancy(start, local_start, end, capacity, booked, individuals, bookings, kept_back, walk_ins,
                                 groups=groups_by_hour.get(start, []),
                                 guides_used=[guides[i] for i in used_ids if i in guides],
                                 guides_free=[g for g in on_duty[day] if g.id not in used_ids])
            if calendar and calendar[0] == "weekend":
                slot.closed_kind = "weekend"
            elif holiday and day not in opened:
                slot.closed_kind, slot.closed_reason = "holiday", holiday
            else:
                closure = schedule.closure_for(start, end, closed)
                if closure:
                    slot.closed_kind, slot.closed_reason = "closure", closure.reason
            slots.append(slot)
        occupancy = DayOccupancy(day, slots, on_duty[day], holiday=holiday,
                                 opened_exceptionally=bool(holiday) and any(not s.closed for s in slots))
        if slots and all(slot.closed for slot in slots):
            kinds = [slot.closed_kind for slot in slots]
            occupancy.closed_kind = "closure" if "closure" in kinds else kinds[0]
            occupancy.closed_reason = next(s.closed_reason for s in slots if s.closed_kind == occupancy.closed_kind)
        days.append(occupancy)
        day += dt.timedelta(days=1)
    return days


def day_bookings(session: Session, rules: Rules, day: dt.date) -> dict[dt.datetime, list[Booking]]:
    """The day's confirmed individual bookings by slot start, in order of booking; one SELECT."""
    start, end = _day_bounds(day, day, rules)
    by_slot: dict[dt.datetime, list[Booking]] = defaultdict(list)
    for booking in session.scalars(
        sa.select(Booking).where(Booking.status == "confirmed", Booking.start >= start, Booking.start < end)
        .order_by(Booking.start, Booking.created_at, Booking.id)
    ):
        by_slot[booking.start].append(booking)
    return by_slot
