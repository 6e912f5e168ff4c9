"""The guides: who is on duty each day (the roster, decided here only), adding a guide, deactivating one."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import atomic
from booking.guide_rules import part_covers
from booking.models import Guide, GuideAssignment, GuideDuty, GuideUnavailability, StaffUser, TourRequest
from booking.schedule import Rules
from booking.services import BookingError, audit


class GuideBusy(BookingError):
    """A guide who holds group visits cannot leave them; `tours` lists (guide, tour, start)."""

    code = "guide_busy"

    def __init__(self, busy: list[tuple[Guide, TourRequest, dt.datetime]]):
        self.busy = busy
        super().__init__("guide_busy", field="roster")


def week_days(any_day: dt.date, rules: Rules) -> list[dt.date]:
    """The open weekdays of the week of `any_day`, Monday first."""
    monday = any_day - dt.timedelta(days=any_day.weekday())
    return [monday + dt.timedelta(days=i) for i in range(7) if (monday + dt.timedelta(days=i)).weekday()
            in rules.open_weekdays]


def active_guides(session: Session) -> list[Guide]:
    return list(session.scalars(sa.select(Guide).where(Guide.active.is_(True)).order_by(Guide.name)))


def any_active_guide(session: Session) -> bool:
    """Can a guided tour be asked for at all? Not before staff have one active guide."""
    return session.scalar(sa.select(sa.exists().where(Guide.active.is_(True)))) is True


def all_guides(session: Session) -> list[Guide]:
    return list(session.scalars(sa.select(Guide).order_by(Guide.active.desc(), Guide.name)))


# --- who is on duty: the one place that decides it ----------------------------------------------

def _on_duty(active: Iterable[int], marks: Mapping[int, bool] | None) -> list[int]:
    """The roster's rule: a day staff set has exactly the active guides they marked on duty; a day
    they did not set (no rows) has every active guide."""
    return [guide for guide in active if not marks or marks.get(guide, False)]


def guides_on_duty(session: Session, day: dt.date) -> list[Guide]:
    """The active guides working on `day`, in order of id."""
    marks = dict(session.execute(sa.select(GuideDuty.guide_id, GuideDuty.on_duty).where(GuideDuty.day == day)).all())
    guides = {g.id: g for g in session.scalars(sa.select(Guide).where(Guide.active.is_(True)).order_by(Guide.id))}
    return [guides[guide_id] for guide_id in _on_duty(guides, marks)]


def on_duty(session: Session, days: list[dt.date]) -> dict[dt.date, set[int]]:
    """For each day, the ids of the active guides on duty."""
    guides = [guide.id for guide in active_guides(session)]
    rows = session.execute(sa.select(GuideDuty.day, GuideDuty.guide_id, GuideDuty.on_duty)
                           .where(GuideDuty.day.in_(days))).all()
    rostered: dict[dt.date, dict[int, bool]] = {}
    for row in rows:
        rostered.setdefault(row.day, {})[row.guide_id] = row.on_duty
    return {day: set(_on_duty(guides, rostered.get(day))) for day in days}


def unavailable_guide_ids(session: Session, rules: Rules, start: dt.datetime, end: dt.datetime,
                          guide_ids: Iterable[int] | None = None) -> set[int]:
    """The guides who said they are away for some of [start, end) (one local day)."""
    local_start, local_end = schedule.to_local(start, rules), schedule.to_local(end, rules)
    query = sa.select(GuideUnavailability.guide_id, GuideUnavailability.part).where(
        GuideUnavailability.day == local_start.date())
    if guide_ids is not None:
        query = query.where(GuideUnavailability.guide_id.in_(list(guide_ids)))
    return {row.guide_id for row in session.execute(query)
            if part_covers(row.part, local_start.time(), local_end.time())}


def guides_available(session: Session, rules: Rules, start: dt.datetime, end: dt.datetime) -> list[Guide]:
    """The guides a tour from `start` to `end` may hold: active, on the roster that day and not away
    then (whether they already hold something then is the tour's business)."""
    on_roster = guides_on_duty(session, schedule.to_local(start, rules).date())
    away = unavailable_guide_ids(session, rules, start, end, [guide.id for guide in on_roster])
    return [guide for guide in on_roster if guide.id not in away]


@dataclass(frozen=True)
class GuideRef:
    """A guide as the day views show them (services/occupancy.py), without loading the row."""

    id: int
    name: str
    languages: tuple[str, ...]


_GUIDES = (
    sa.select(Guide.id, Guide.name, Guide.language_codes, Guide.active, GuideDuty.day, GuideDuty.on_duty)
    .outerjoin(GuideDuty, sa.and_(GuideDuty.guide_id == Guide.id,
                                  GuideDuty.day >= sa.bindparam("first", type_=GuideDuty.day.type),
                                  GuideDuty.day <= sa.bindparam("last", type_=GuideDuty.day.type)))
    .order_by(Guide.id)
)


def guides_on_duty_between(session: Session, first: dt.date, last: dt.date) -> tuple[dict, dict[int, GuideRef]]:
    """Each day's guides on duty, as guides_on_duty decides them, in one SELECT (for the day views).

    Returns ({day: [GuideRef]}, every guide by id, inactive ones included).
    """
    rows = session.connection().execute(_GUIDES, {"first": first, "last": last}).all()
    guides: dict[int, GuideRef] = {}
    active: list[int] = []
    roster: dict[dt.date, dict[int, bool]] = defaultdict(dict)
    for row in rows:
        if row.id not in guides:
            guides[row.id] = GuideRef(row.id, row.name, tuple(c for c in row.language_codes.split(",") if c))
            if row.active:
                active.append(row.id)
        if row.day is not None:
            roster[row.day][row.id] = row.on_duty
    duty = {}
    day = first
    while day <= last:
        duty[day] = [guides[i] for i in _on_duty(active, roster.get(day))]
        day += dt.timedelta(days=1)
    return duty, guides


def _assignments(session: Session, rules: Rules, day: dt.date, guide_ids: set[int]):
    start, end = schedule.day_bounds(day, rules)
    return session.execute(
        sa.select(GuideAssignment.guide_id, TourRequest)
        .join(TourRequest, TourRequest.id == GuideAssignment.tour_id)
        .where(GuideAssignment.guide_id.in_(guide_ids), GuideAssignment.start >= start,
               GuideAssignment.start < end, TourRequest.status.in_(TourRequest.HOLDING))
        .order_by(TourRequest.start)
    ).all()


def set_roster(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
               duty: dict[dt.date, set[int]]) -> list[dt.date]:
    """Set who is on duty on each day of `duty` (the ticked active guides); returns the days changed.

    A changed day gets a row for every active guide (on duty or not), so a day with nobody ticked
    stays with nobody. Taking a guide off a day where they hold a group visit is refused, naming it.
    """

    def operation() -> list[dt.date]:
        guides = {guide.id: guide for guide in active_guides(session)}
        current = on_duty(session, list(duty))
        changed, busy = [], []
        for day in sorted(duty):
            wanted = {g for g in duty[day] if g in guides}
            if wanted == current[day]:
                continue
            removed = current[day] - wanted
            if removed:
                held = {(guide_id, tour.id): tour for guide_id, tour in _assignments(session, rules, day, removed)}
                busy += [(guides[guide_id], tour, tour.start) for (guide_id, _id), tour in held.items()]
            changed.append(day)
            session.execute(sa.delete(GuideDuty).where(GuideDuty.day == day))
            session.add_all(GuideDuty(day=day, guide_id=g, on_duty=g in wanted) for g in guides)
            audit.record(session, now, staff, "roster.set", day=day.isoformat(),
                         on_duty=sorted(guides[g].name for g in wanted),
                         added=sorted(guides[g].name for g in wanted - current[day]),
                         removed=sorted(guides[g].name for g in removed))
        if busy:
            raise GuideBusy(busy)
        return changed

    return atomic(session, operation)


def add_guide(session: Session, now: dt.datetime, staff: StaffUser | None, name: str,
              languages: list[str], email: str | None = None, language: str = "fr") -> Guide:
    """A new active guide; on duty every day that has no roster yet. `email` (optional) and
    `language` are where and how the guide is told of their tours."""
    name = name.strip()
    email = (email or "").strip() or None

    def operation() -> Guide:
        if session.scalar(sa.select(Guide.id).where(sa.func.lower(Guide.name) == name.lower())):
            raise BookingError("guide_exists", field="name")
        guide = Guide(name=name, language_codes=",".join(languages), email=email, language=language)
        session.add(guide)
        session.flush()
        audit.record(session, now, staff, "guide.add", guide_id=guide.id, name=name, languages=languages,
                     email=email, language=language)
        return guide

    return atomic(session, operation)


def set_guide_active(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                     guide_id: int, active: bool) -> Guide:
    """Deactivate a guide (refused while they hold group visits to come) or bring one back."""

    def operation() -> Guide:
        guide = session.get(Guide, guide_id, with_for_update=True)
        if guide is None:
            raise BookingError("not_found")
        if not active:
            holding = sa.select(GuideAssignment.tour_id).where(GuideAssignment.guide_id == guide.id,
                                                               GuideAssignment.start > now)
            held = session.scalars(
                sa.select(TourRequest).where(TourRequest.id.in_(holding), TourRequest.status.in_(TourRequest.HOLDING))
                .order_by(TourRequest.start)
            ).all()
            if held:
                raise GuideBusy([(guide, tour, tour.start) for tour in held])
        if guide.active != active:
            guide.active = active
            audit.record(session, now, staff, "guide.activate" if active else "guide.deactivate",
                         guide_id=guide.id, name=guide.name)
        return guide

    return atomic(session, operation)


def update_guide(session: Session, now: dt.datetime, staff: StaffUser | None, guide_id: int, name: str,
                 languages: list[str], email: str | None = None, language: str | None = None) -> Guide:
    """Rename a guide, change their languages, email address or the language they read. Tours
    already held keep their guide, even one who no longer speaks the tour's language: staff see it
    on the tour and change the guide there."""
    name = name.strip()
    email = (email or "").strip() or None

    def operation() -> Guide:
        guide = session.get(Guide, guide_id, with_for_update=True)
        if guide is None:
            raise BookingError("not_found")
        if session.scalar(sa.select(Guide.id).where(sa.func.lower(Guide.name) == name.lower(),
                                                    Guide.id != guide_id)):
            raise BookingError("guide_exists", field="name")
        before = {"name": guide.name, "languages": guide.languages, "email": guide.email, "language": guide.language}
        guide.name, guide.language_codes, guide.email = name, ",".join(languages), email
        guide.language = language or guide.language
        after = {"name": guide.name, "languages": languages, "email": guide.email, "language": guide.language}
        if before != after:
            audit.record(session, now, staff, "guide.edit", guide_id=guide.id, name=name,
                         before=before, after=after)
        return guide

    return atomic(session, operation)


# The roster a new installation starts with (DESIGN.md): two guides speaking French, Dutch and
# English, one of them German too. Staff rename them to the real guides.
DEFAULT_GUIDES = (("Guide 1", ["fr", "nl", "en"]), ("Guide 2", ["fr", "nl", "en", "de"]))


def add_default_guides(session: Session, now: dt.datetime) -> list[Guide]:
    """On a database that never had a guide, the default roster; else nothing (returns what it added)."""
    if session.scalar(sa.select(sa.func.count()).select_from(Guide)):
        return []
    session.rollback()
    return [add_guide(session, now, None, name, languages) for name, languages in DEFAULT_GUIDES]
