"""The staff's requests inbox: group visits by state and visit date, each with what deciding it needs.

A read service. Whatever the history, a page costs four SELECTs: the page of requests, the count in
each state, the guides with their roster over the requests' days, and the guide hours held in the
requests' hours (which say whose guides are held, who is busy with another group then, and which
held guide said they are away then: a conflict for staff to reassign).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.guide_rules import part_covers
from booking.models import GuideAssignment, GuideUnavailability, TourRequest
from booking.services.roster import GuideRef, guides_on_duty_between
from booking.services.tours import Policy
from booking.tour_rules import guides_needed, spanned_slots, working_days_between

# The inbox's states (GET ?state=) and the request statuses each one shows.
STATES: dict[str, tuple[str, ...]] = {
    "waiting": ("pending",),
    "proposed": ("proposed",),
    "confirmed": ("confirmed",),
    "declined": ("declined", "refused"),  # by the museum, or a proposal the teacher refused
    "expired": ("expired",),
}
PAGE_SIZE = 25


@dataclass(frozen=True)
class GuideChoice:
    """A guide as the confirm form offers them for one request."""

    guide: GuideRef
    held: bool  # held for this request now
    speaks: bool  # speaks the tour's language
    busy_with: str | None  # the reference of another group holding them in one of the request's hours
    on_duty: bool = True

    @property
    def free(self) -> bool:
        """Can be chosen: held already, or on duty, speaking the language and holding nothing then."""
        return self.held or (self.on_duty and self.speaks and self.busy_with is None)


@dataclass
class InboxCard:
    tour: TourRequest
    waited: dt.timedelta  # since the request came in
    waiting_working_days: int
    flagged: bool  # pending longer than the rules allow
    guides_needed: int = 0
    guides: list[GuideRef] = field(default_factory=list)  # held now
    away: list[GuideRef] = field(default_factory=list)  # held now, but away then: reassign them
    choices: list[GuideChoice] = field(default_factory=list)  # a pending guided request's confirm form


@dataclass
class Inbox:
    state: str
    first: dt.date | None
    last: dt.date | None
    cards: list[InboxCard]
    counts: dict[str, int]
    page: int
    has_more: bool


def _visit_day_filter(first: dt.date | None, last: dt.date | None, rules) -> list:
    conditions = []
    if first is not None:
        conditions.append(TourRequest.start >= schedule.day_bounds(first, rules)[0])
    if last is not None:
        conditions.append(TourRequest.start < schedule.day_bounds(last, rules)[1])
    return conditions


_ORDER = {
    "waiting": (TourRequest.created_at, TourRequest.id),
    "proposed": (TourRequest.proposal_expires_at, TourRequest.id),
    "confirmed": (TourRequest.start, TourRequest.id),
    "declined": (TourRequest.updated_at.desc(), TourRequest.id.desc()),
    "expired": (TourRequest.updated_at.desc(), TourRequest.id.desc()),
}


def requests_inbox(session: Session, policy: Policy, now: dt.datetime, state: str = "waiting",
                   first: dt.date | None = None, last: dt.date | None = None, page: int = 1) -> Inbox:
    """The requests in `state` whose visit falls between `first` and `last` (local days, both optional),
    a page at a time, with the count of each state for the same days; four SELECTs."""
    state = state if state in STATES else "waiting"
    page = max(page, 1)
    rules = policy.rules
    days = _visit_day_filter(first, last, rules)
    tours = list(session.scalars(
        sa.select(TourRequest).where(TourRequest.status.in_(STATES[state]), *days)
        .order_by(*_ORDER[state]).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    ))
    has_more = len(tours) > PAGE_SIZE
    tours = tours[:PAGE_SIZE]
    by_status = dict(session.execute(
        sa.select(TourRequest.status, sa.func.count()).where(*days).group_by(TourRequest.status)).all())
    counts = {name: sum(by_status.get(status, 0) for status in statuses) for name, statuses in STATES.items()}

    held, busy, guides, on_duty, away = _guide_hours(session, policy, tours)
    today = schedule.local_today(now, rules)
    cards = []
    for tour in tours:
        waited_days = working_days_between(schedule.to_local(tour.created_at, rules).date(), today, rules) \
            if tour.status in ("pending", "proposed") else 0
        card = InboxCard(tour, now - tour.created_at, waited_days,
                         tour.status == "pending" and waited_days > policy.tour_rules.flag_after_working_days,
                         guides_needed(tour.pupils, policy.tour_rules) if tour.guided else 0,
                         guides=[guides[i] for i in held.get(tour.id, ()) if i in guides],
                         away=[guides[i] for i in held.get(tour.id, ()) if i in guides and (tour.id, i) in away])
        if tour.status == "pending" and tour.guided:
            card.choices = _choices(tour, rules, held.get(tour.id, ()), busy, guides, on_duty)
        cards.append(card)
    return Inbox(state, first, last, cards, counts, page, has_more)


def _guide_hours(session: Session, policy: Policy, tours: list[TourRequest]):
    """(tour id -> held guide ids, (guide id, hour) -> the holding tour's (id, reference), every guide by id,
    each day's guides on duty, the (tour id, guide id) whose guide is away then); two SELECTs, none
    without a guided request on the page. The guides' absences on those days come with their hours."""
    guided = [tour for tour in tours if tour.guided]
    if not guided:
        return {}, {}, {}, {}, set()
    hours = sorted({hour for tour in guided for hour in spanned_slots(tour.start, tour.duration_minutes, policy.rules)})
    local_days = [schedule.to_local(tour.start, policy.rules).date() for tour in guided]
    on_duty, guides = guides_on_duty_between(session, min(local_days), max(local_days))
    held: dict[int, list[int]] = {}
    busy: dict[tuple[int, dt.datetime], tuple[int, str]] = {}
    away: set[tuple[int, int]] = set()
    slot = dt.timedelta(minutes=policy.rules.slot_minutes)
    for guide_id, tour_id, hour, reference, away_day, away_part in session.execute(
        sa.select(GuideAssignment.guide_id, GuideAssignment.tour_id, GuideAssignment.start, TourRequest.reference,
                  GuideUnavailability.day, GuideUnavailability.part)
        .join(TourRequest, TourRequest.id == GuideAssignment.tour_id)
        .outerjoin(GuideUnavailability, sa.and_(GuideUnavailability.guide_id == GuideAssignment.guide_id,
                                                GuideUnavailability.day.in_(sorted(set(local_days)))))
        .where(GuideAssignment.start.in_(hours), TourRequest.status.in_(TourRequest.HOLDING))
        .order_by(GuideAssignment.guide_id)
    ):
        held.setdefault(tour_id, [])
        if guide_id not in held[tour_id]:
            held[tour_id].append(guide_id)
        busy[(guide_id, hour)] = (tour_id, reference)
        local = schedule.to_local(hour, policy.rules)
        if away_day == local.date() and part_covers(away_part, local.time(), (local + slot).time()):
            away.add((tour_id, guide_id))
    return held, busy, guides, on_duty, away


def _choices(tour: TourRequest, rules, held_ids, busy, guides, on_duty) -> list[GuideChoice]:
    """The guides on duty on the request's day, and any it holds that no longer are, in roster order."""
    hours = spanned_slots(tour.start, tour.duration_minutes, rules)
    working = on_duty.get(schedule.to_local(tour.start, rules).date(), [])
    working_ids = {guide.id for guide in working}
    choices = []
    for guide in working + [guides[i] for i in held_ids if i in guides and i not in working_ids]:
        other = next((busy[(guide.id, hour)][1] for hour in hours
                      if (guide.id, hour) in busy and busy[(guide.id, hour)][0] != tour.id), None)
        choices.append(GuideChoice(guide, guide.id in held_ids, tour.tour_language in guide.languages, other,
                                   guide.id in working_ids))
    return choices
