"""What every group-visit operation shares: the refusals, holding places and guides and freeing
them, the locked read of a request, its emails, and the transitions (the one way into "confirmed",
the one way out of a hold)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import atomic, flush_or_retry
from booking.guide_rules import GuideLimits, fair_order, within_limits
from booking.models import Guide, GuideAssignment, TourRequest, enqueue_email
from booking.policy import Policy
from booking.schedule import Rules
from booking.services import BookingError
from booking.services.capacity import change_places, moving_changes
from booking.services.closed_times import closed_by_staff
from booking.services.guides import candidates, lock_and_check, tell_guides
from booking.services.roster import guides_available, guides_on_duty
from booking.tour_rules import (
    guides_needed,
    spanned_slots,
)


class TourInputError(BookingError):
    """Input that can never fit, by field (e.g. {"start_1": "weekend", "adults": "adults_ratio"})."""

    code = "invalid"

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("invalid", field=next(iter(errors)))


class NoTimeFits(BookingError):
    """None of the requested times fits now; `reasons` has one code per time, in order."""

    code = "no_time_fits"

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("no_time_fits", field="start_1", detail=reasons[0] if reasons else None)

    @property
    def reason(self) -> str:
        return self.reasons[0]


class TourStateError(BookingError):
    """The request is not in a state that allows this (e.g. accepting a proposal twice)."""


class _Unfit(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def _busy_guide_ids(session: Session, slots: list[dt.datetime], tour_id: int | None) -> set[int]:
    query = sa.select(GuideAssignment.guide_id).where(GuideAssignment.start.in_(slots))
    if tour_id is not None:
        query = query.where(GuideAssignment.tour_id != tour_id)
    return set(session.scalars(query))


def free_guides(session: Session, rules: Rules, start: dt.datetime, minutes: int, language: str,
                tour_id: int | None = None, limits: GuideLimits = GuideLimits()) -> list[Guide]:
    """Guides on duty, not away then, who speak `language`, hold nothing in those hours and are
    within `limits`: the least versatile first, then the fewest guided hours that week, then that
    month (booking/guide_rules.py)."""
    slots = spanned_slots(start, minutes, rules)
    busy = _busy_guide_ids(session, slots, tour_id)
    end = start + dt.timedelta(minutes=minutes)
    speaking = {g.id: g for g in guides_available(session, rules, start, end)
                if g.speaks(language) and g.id not in busy}
    fitting = [c for c in candidates(session, rules, start, list(speaking.values()), tour_id)
               if within_limits(c, limits)]
    return [speaking[c.id] for c in fair_order(fitting)]


def _pick_guides(session, rules, tour_rules, start, minutes, pupils, language, tour_id=None,
                 limits: GuideLimits = GuideLimits()) -> list[Guide]:
    needed = guides_needed(pupils, tour_rules)
    day = schedule.to_local(start, rules).date()
    speakers = [g for g in guides_on_duty(session, day) if g.speaks(language)]
    if len(speakers) < needed:
        raise _Unfit("language")
    free = free_guides(session, rules, start, minutes, language, tour_id, limits)
    if len(free) < needed:
        raise _Unfit("no_guide")
    return free[:needed]


def _try_hold(session, policy: Policy, start, minutes, people, guided, pupils, language,
              old_slots=(), tour_id=None) -> list[Guide]:
    """Take the places (and pick the guides) for one start inside a savepoint; _Unfit if it does not fit."""
    rules = policy.rules
    if closed_by_staff(session, start, minutes):
        raise _Unfit("closed")
    guides = (_pick_guides(session, rules, policy.tour_rules, start, minutes, pupils, language, tour_id,
                           policy.guide_limits) if guided else [])
    new_slots = spanned_slots(start, minutes, rules)
    savepoint = session.begin_nested()
    if not change_places(session, moving_changes(list(old_slots), new_slots, people), rules.slot_capacity):
        savepoint.rollback()
        raise _Unfit("capacity")
    savepoint.commit()
    return guides


def _assign(session: Session, tour: TourRequest, guides: list[Guide], rules: Rules) -> None:
    """Hold `guides` for every hour of `tour`; a concurrent holder makes the whole operation retry."""
    tour.assignments.clear()
    session.flush()
    lock_and_check(session, rules, tour, [guide.id for guide in guides])
    for guide in guides:
        for slot in spanned_slots(tour.start, tour.duration_minutes, rules):
            tour.assignments.append(GuideAssignment(guide=guide, start=slot))
    flush_or_retry(session)


def _release(session: Session, tour: TourRequest, rules: Rules) -> None:
    slots = spanned_slots(tour.start, tour.duration_minutes, rules)
    change_places(session, moving_changes(slots, [], tour.people), rules.slot_capacity)
    tour.assignments.clear()


def find_tour_by_request_key(session: Session, request_key: str) -> TourRequest | None:
    return session.scalars(sa.select(TourRequest).where(TourRequest.request_key == request_key)).first()


def _once(session: Session, operation, request_key: str | None) -> tuple[TourRequest, bool]:
    """Run `operation` in a transaction: (its tour, True); or, when a request with the same one-time
    key won the race to the unique index, (that request, False) — the same request sent twice."""
    try:
        return atomic(session, operation), True
    except IntegrityError:
        existing = find_tour_by_request_key(session, request_key) if request_key else None
        if existing is None:
            raise
        return existing, False


def _email(session, policy: Policy, now, tour: TourRequest, kind: str, payload: dict | None = None) -> None:
    if not tour.email:  # a group staff entered without an email address
        return
    enqueue_email(session, kind, tour=tour, recipient=tour.email, language=tour.language, now=now,
                  payload=payload)


def _notify_museum(session, policy: Policy, now, tour: TourRequest, event: str) -> None:
    if policy.museum_email:
        enqueue_email(session, "museum_tour_update", tour=tour, recipient=policy.museum_email,
                      language=policy.museum_language, now=now, payload={"event": event})


def _locked(session: Session, tour_id: int, allowed: tuple[str, ...]) -> TourRequest:
    tour = session.get(TourRequest, tour_id, with_for_update=True, populate_existing=True)
    if tour is None:
        raise TourStateError("not_found")
    if tour.status not in allowed:
        raise TourStateError(f"already_{tour.status}")
    return tour


def _locked_guided_to_come(session: Session, tour_id: int, allowed: tuple[str, ...], now: dt.datetime) -> TourRequest:
    """A guided visit still to come, locked, whose guides staff are changing."""
    tour = _locked(session, tour_id, allowed)
    if not tour.guided:
        raise TourStateError("not_guided")
    if tour.start <= now:
        raise TourStateError("started")
    return tour


def _reassign(session: Session, policy: Policy, tour: TourRequest, guide_ids: list[int]) -> None:
    needed = guides_needed(tour.pupils, policy.tour_rules)
    if len(set(guide_ids)) != needed:
        raise TourStateError("guide_count", field="guides", detail=str(needed))
    free = {g.id: g for g in free_guides(session, policy.rules, tour.start, tour.duration_minutes,
                                          tour.tour_language, tour.id)}  # staff may go past the limits
    if not set(guide_ids) <= set(free):
        raise TourStateError("guide_unavailable", field="guides")
    _assign(session, tour, [free[i] for i in guide_ids], policy.rules)


# --- the transitions: every way into "confirmed", and out of a hold --------------------------------

def _confirm(session: Session, policy: Policy, now: dt.datetime, tour: TourRequest,
             before: list[Guide] | None = None) -> None:
    """The one way into "confirmed" (staff confirm a request, the teacher accepts a proposal).
    `before`: the guides it held before the operation changed them (else the ones it holds)."""
    tour.status = "confirmed"
    tour.proposal_expires_at = None
    tour.decided_at = tour.updated_at = now
    tell_guides(session, now, tour, tour.guides if before is None else before, changed=True)
    _email(session, policy, now, tour, "tour_confirmed")


def _end_hold(session: Session, policy: Policy, now: dt.datetime, tour: TourRequest, status: str) -> None:
    """The one way out of a hold: declined (staff), refused (the teacher), expired (the clock) or
    cancelled; its places and guides freed, the guides told. The caller says why to whom."""
    before = tour.guides
    _release(session, tour, policy.rules)
    tell_guides(session, now, tour, before)
    tour.status = status
    tour.proposal_expires_at = None
    tour.updated_at = now


def _cancel(session: Session, policy: Policy, now: dt.datetime, tour: TourRequest) -> str:
    """The one cancellation of a tour holding its time (the teacher's, staff's, a closure's), its
    calendar entry's sequence raised. Returns the status it had."""
    previous = tour.status
    _end_hold(session, policy, now, tour, "cancelled")
    tour.sequence += 1
    return previous


def _expire(session, policy: Policy, now, tour: TourRequest) -> None:
    _end_hold(session, policy, now, tour, "expired")
    _email(session, policy, now, tour, "tour_expired")
    _notify_museum(session, policy, now, tour, "expired")
