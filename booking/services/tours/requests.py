"""A group's request and its life: the teacher's request (places and guides held), staff's
confirmation, refusal or proposal of another time, the teacher's answer or cancellation, expiry."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import atomic, flush_or_retry
from booking.models import TourRequest
from booking.policy import Policy
from booking.references import GROUP_PREFIX, new_reference
from booking.services.closed_times import opened_days
from booking.services.guides import tell_guides
from booking.services.tours.holds import (
    NoTimeFits,
    TourInputError,
    TourStateError,
    _assign,
    _cancel,
    _confirm,
    _email,
    _end_hold,
    _expire,
    _locked,
    _notify_museum,
    _once,
    _reassign,
    _try_hold,
    _Unfit,
    find_tour_by_request_key,
)
from booking.tour_rules import (
    TourApplication,
    TourRules,
    can_cancel,
    duration,
    spanned_slots,
    start_problem,
    validate_application,
)


def request_tour(session: Session, policy: Policy, now: dt.datetime, app: TourApplication) -> tuple[TourRequest, bool]:
    """Hold the first requested time that fits and store the request as pending; emails follow.

    Raises TourInputError for input that can never fit, NoTimeFits (with a reason per time) when
    nothing fits now; in both cases nothing is stored.
    """
    if app.request_key:
        existing = find_tour_by_request_key(session, app.request_key)
        if existing:
            return existing, False
    errors = validate_application(app, policy.rules, policy.tour_rules, now,
                                  opened_days(session, policy.rules, app.starts))
    if errors:
        raise TourInputError(errors)
    minutes = duration(app.guided, app.duration_minutes, policy.tour_rules)
    starts = [start.astimezone(schedule.UTC) for start in app.starts]

    def operation() -> TourRequest:
        reasons = []
        for start in starts:
            try:
                guides = _try_hold(session, policy, start, minutes, app.pupils + app.adults, app.guided,
                                   app.pupils, app.tour_language)
            except _Unfit as unfit:
                reasons.append(unfit.reason)
                continue
            tour = TourRequest(
                reference=new_reference(GROUP_PREFIX), status="pending", guided=app.guided, start=start,
                duration_minutes=minutes, requested_starts=[s.isoformat() for s in starts],
                organisation=app.organisation, address=app.address, postcode=app.postcode,
                contact_name=app.contact_name, contact_role=app.contact_role, email=app.email, phone=app.phone,
                leader_name=app.leader_name, pupils=app.pupils, adults=app.adults, group_kind=app.group_kind,
                tour_language=app.tour_language if app.guided else None, needs=app.needs, topic=app.topic,
                notes=app.notes, language=app.language, request_key=app.request_key,
                created_at=now, updated_at=now, **app.access_needs.columns(),
            )
            session.add(tour)
            flush_or_retry(session, "reference")
            _assign(session, tour, guides, policy.rules)
            tell_guides(session, now, tour, [])
            _email(session, policy, now, tour, "tour_received")
            _notify_museum(session, policy, now, tour, "requested")
            return tour
        raise NoTimeFits(reasons)

    return _once(session, operation, app.request_key)


def confirm_tour(session: Session, policy: Policy, now: dt.datetime, tour_id: int,
                 guide_ids: list[int] | None = None, message: str = "") -> TourRequest:
    """Staff confirm a pending request, with the held guides or other free ones who speak its language."""

    def operation() -> TourRequest:
        tour = _locked(session, tour_id, ("pending",))
        before = tour.guides
        if tour.guided and guide_ids is not None and set(guide_ids) != {g.id for g in tour.guides}:
            _reassign(session, policy, tour, guide_ids)
        tour.decision_message = message
        _confirm(session, policy, now, tour, before)
        return tour

    return atomic(session, operation)


def decline_tour(session: Session, policy: Policy, now: dt.datetime, tour_id: int, reason: str) -> TourRequest:
    """Staff decline: the hold is freed and the teacher told why."""

    def operation() -> TourRequest:
        tour = _locked(session, tour_id, ("pending", "proposed"))
        _end_hold(session, policy, now, tour, "declined")
        tour.decision_message = reason
        tour.decided_at = now
        _email(session, policy, now, tour, "tour_declined")
        return tour

    return atomic(session, operation)


def propose_time(session: Session, policy: Policy, now: dt.datetime, tour_id: int, new_start: dt.datetime,
                 message: str = "") -> TourRequest:
    """Staff propose another time: the hold moves there, and the teacher may accept or refuse it."""
    new_start = new_start.astimezone(schedule.UTC)

    def operation() -> TourRequest:
        tour = _locked(session, tour_id, ("pending", "proposed"))
        problem = start_problem(new_start, tour.duration_minutes, now, policy.rules,
                                      _staff_lead_rules(policy.tour_rules),
                                      opened_days(session, policy.rules, [new_start]))
        if problem:
            raise TourStateError(problem, field="start")
        if new_start == tour.start:
            raise TourStateError("same_time", field="start")
        old_slots = spanned_slots(tour.start, tour.duration_minutes, policy.rules)
        before = tour.guides
        tour.assignments.clear()
        session.flush()
        try:
            guides = _try_hold(session, policy, new_start, tour.duration_minutes, tour.people, tour.guided,
                               tour.pupils, tour.tour_language, old_slots=old_slots, tour_id=tour.id)
        except _Unfit as unfit:
            raise TourStateError(unfit.reason, field="start") from None
        tour.start = new_start
        _assign(session, tour, guides, policy.rules)
        tour.status = "proposed"
        tour.decision_message = message
        tour.proposal_expires_at = schedule.end_of_local_day(now, policy.tour_rules.proposal_days, policy.rules)
        tour.sequence += 1
        tour.updated_at = now
        tell_guides(session, now, tour, before, changed=True)
        _email(session, policy, now, tour, "tour_proposed")
        return tour

    return atomic(session, operation)


def _staff_lead_rules(tour_rules: TourRules) -> TourRules:
    """Staff may propose any future time the museum is open; the teachers' lead time is theirs."""
    from dataclasses import replace

    return replace(tour_rules, min_days_ahead=0)


def answer_proposal(session: Session, policy: Policy, now: dt.datetime, tour_id: int, accept: bool) -> TourRequest:
    """The teacher accepts (confirmed) or refuses (hold freed) the time staff proposed."""

    def operation() -> TourRequest:
        tour = _locked(session, tour_id, ("proposed",))
        if tour.proposal_expires_at is not None and tour.proposal_expires_at <= now:
            _expire(session, policy, now, tour)
            return tour
        if accept:
            _confirm(session, policy, now, tour)
            _notify_museum(session, policy, now, tour, "accepted")
        else:
            _end_hold(session, policy, now, tour, "refused")
            tour.decided_at = now
            _email(session, policy, now, tour, "tour_refused")
            _notify_museum(session, policy, now, tour, "refused")
        return tour

    tour = atomic(session, operation)
    if tour.status == "expired":
        raise TourStateError("proposal_expired")
    return tour


def cancel_tour(session: Session, policy: Policy, now: dt.datetime, tour_id: int) -> TourRequest:
    """The teacher cancels from their link, until `cancel_days_before` days before the visit."""

    def operation() -> TourRequest:
        tour = _locked(session, tour_id, TourRequest.HOLDING)
        if not can_cancel(tour.start, now, policy.tour_rules):
            raise TourStateError("too_late_to_cancel")
        was_confirmed = _cancel(session, policy, now, tour) == "confirmed"
        _email(session, policy, now, tour, "tour_cancelled", {"was_confirmed": was_confirmed})
        _notify_museum(session, policy, now, tour, "cancelled")
        return tour

    return atomic(session, operation)


def expire_proposals(session: Session, policy: Policy, now: dt.datetime) -> list[str]:
    """Free the holds of proposals left unanswered past their deadline; returns their references."""
    due = list(session.scalars(
        sa.select(TourRequest.id).where(TourRequest.status == "proposed", TourRequest.proposal_expires_at <= now)
    ))
    session.commit()
    expired = []
    for tour_id in due:
        def operation(tour_id=tour_id) -> TourRequest | None:
            tour = session.get(TourRequest, tour_id, with_for_update=True, populate_existing=True)
            if tour is None or tour.status != "proposed" or tour.proposal_expires_at > now:
                return None  # answered meanwhile
            _expire(session, policy, now, tour)
            return tour

        tour = atomic(session, operation)
        if tour is not None:
            expired.append(tour.reference)
    return expired
