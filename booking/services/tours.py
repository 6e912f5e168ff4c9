"""Group visits: request (holding places and guides), confirm, decline, propose, answer, cancel, expire."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import atomic, flush_or_retry
from booking.guide_rules import GuideLimits, fair_order, within_limits
from booking.models import Guide, GuideAssignment, StaffUser, TourRequest, enqueue_email
from booking.policy import Policy
from booking.references import GROUP_PREFIX, new_reference
from booking.schedule import Rules
from booking.services import BookingError, audit
from booking.services.capacity import change_places, moving_changes
from booking.services.closed_times import closed_by_staff, opened_days
from booking.services.guides import candidates, lock_and_check, tell_guides
from booking.services.roster import guides_available, guides_on_duty
from booking.tour_rules import (
    TourApplication,
    TourRules,
    can_cancel,
    can_change_numbers,
    duration,
    group_problems,
    guides_needed,
    spanned_slots,
    start_problem,
    validate_application,
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


def _reassign(session: Session, policy: Policy, tour: TourRequest, guide_ids: list[int]) -> None:
    needed = guides_needed(tour.pupils, policy.tour_rules)
    if len(set(guide_ids)) != needed:
        raise TourStateError("guide_count", field="guides", detail=str(needed))
    free = {g.id: g for g in free_guides(session, policy.rules, tour.start, tour.duration_minutes,
                                          tour.tour_language, tour.id)}  # staff may go past the limits
    if not set(guide_ids) <= set(free):
        raise TourStateError("guide_unavailable", field="guides")
    _assign(session, tour, [free[i] for i in guide_ids], policy.rules)


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


def _expire(session, policy: Policy, now, tour: TourRequest) -> None:
    _end_hold(session, policy, now, tour, "expired")
    _email(session, policy, now, tour, "tour_expired")
    _notify_museum(session, policy, now, tour, "expired")


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


# --- the back office: group visits staff enter, cancel or re-staff for the teacher ----------------

def create_confirmed_tour(session: Session, policy: Policy, now: dt.datetime, app: TourApplication,
                          staff: StaffUser | None, guide_ids: list[int] | None = None,
                          audit_details: dict | None = None) -> tuple[TourRequest, bool]:
    """A group visit staff enter for a caller or a walk-in group: held at `app.starts[0]` and confirmed.

    The caller has checked the application (validate_application, with the rules staff chose to
    override). Places and guides are taken as for a request (the chosen `guide_ids`, or free ones);
    raises TourStateError with the reason when the time does not fit. The teacher is emailed the
    confirmation only if an email address was given. Returns (tour, created).
    """
    if app.request_key:
        existing = find_tour_by_request_key(session, app.request_key)
        if existing:
            return existing, False
    minutes = duration(app.guided, app.duration_minutes, policy.tour_rules)
    start = app.starts[0].astimezone(schedule.UTC)

    def operation() -> TourRequest:
        try:
            guides = _try_hold(session, policy, start, minutes, app.pupils + app.adults, app.guided, app.pupils,
                               app.tour_language)
        except _Unfit as unfit:
            raise TourStateError(unfit.reason, field="start") from None
        tour = TourRequest(
            reference=new_reference(GROUP_PREFIX), status="confirmed", guided=app.guided, start=start,
            duration_minutes=minutes, requested_starts=[start.isoformat()], organisation=app.organisation,
            address=app.address, postcode=app.postcode, contact_name=app.contact_name,
            contact_role=app.contact_role, email=app.email or None, phone=app.phone or "",
            leader_name=app.leader_name, pupils=app.pupils, adults=app.adults, group_kind=app.group_kind,
            tour_language=app.tour_language if app.guided else None, needs=app.needs, topic=app.topic,
            notes=app.notes, language=app.language, request_key=app.request_key, source="staff",
            created_by_id=staff.id if staff else None, created_at=now, updated_at=now, decided_at=now,
            **app.access_needs.columns(),
        )
        session.add(tour)
        flush_or_retry(session, "reference")
        if app.guided and guide_ids:
            _reassign(session, policy, tour, guide_ids)
        else:
            _assign(session, tour, guides, policy.rules)
        tell_guides(session, now, tour, [])
        audit.record(session, now, staff, "tour.create", tour=tour, source="staff", start=start.isoformat(),
                     pupils=app.pupils, adults=app.adults, guides=[g.name for g in tour.guides],
                     **(audit_details or {}))
        _email(session, policy, now, tour, "tour_confirmed")
        return tour

    return _once(session, operation, app.request_key)


def cancel_tour_by_staff(session: Session, policy: Policy, now: dt.datetime, tour_id: int,
                         staff: StaffUser | None, message: str = "") -> TourRequest:
    """Staff cancel a group visit for the teacher (at any time before it starts): places and guides
    are freed, the audit log keeps who and why, and the teacher gets the cancellation with the message."""

    def operation() -> TourRequest:
        tour = _locked(session, tour_id, TourRequest.HOLDING)
        if tour.start <= now:
            raise TourStateError("started")
        previous = _cancel(session, policy, now, tour)
        audit.record(session, now, staff, "tour.cancel", tour=tour, message=message, previous_status=previous)
        _email(session, policy, now, tour, "tour_cancelled",
               {"was_confirmed": previous == "confirmed", "by_museum": True, "message": message})
        return tour

    return atomic(session, operation)


def change_guides(session: Session, policy: Policy, now: dt.datetime, tour_id: int, guide_ids: list[int],
                  staff: StaffUser | None) -> TourRequest:
    """Give a confirmed guided visit other guides, as many as it needs, free and speaking its language."""

    def operation() -> TourRequest:
        tour = _locked_guided_to_come(session, tour_id, ("confirmed",), now)
        held = tour.guides
        before = [guide.name for guide in held]
        if set(guide_ids) == {guide.id for guide in tour.guides}:
            return tour
        _reassign(session, policy, tour, guide_ids)
        tell_guides(session, now, tour, held)
        tour.updated_at = now
        audit.record(session, now, staff, "tour.guides", tour=tour, previous=before,
                     guides=[guide.name for guide in tour.guides])
        return tour

    return atomic(session, operation)


# --- final numbers ---------------------------------------------------------------------------------

def _by_versatility(guides: list[Guide]) -> list[Guide]:
    return sorted(guides, key=lambda g: (len(g.languages), g.id))


def _resize_guides(session: Session, policy: Policy, tour: TourRequest, pupils: int) -> tuple[list[Guide], list[Guide]]:
    """One guide per `pupils_per_guide` pupils for the new size: (guides added, guides released).

    Fewer: the most versatile guides are released first (they are the likeliest to be wanted
    elsewhere). More: free guides who speak the tour's language, least versatile first; none free
    refuses the whole change. A concurrent holder of the same guide makes the operation retry.
    """
    session.refresh(tour, ["assignments"])
    needed = guides_needed(pupils, policy.tour_rules)
    current = _by_versatility(tour.guides)
    if needed < len(current):
        released = current[needed:]
        released_ids = {guide.id for guide in released}
        for assignment in [a for a in tour.assignments if a.guide_id in released_ids]:
            tour.assignments.remove(assignment)
        session.flush()
        return [], released
    if needed == len(current):
        return [], []
    held = {guide.id for guide in current}
    free = [guide for guide in free_guides(session, policy.rules, tour.start, tour.duration_minutes,
                                           tour.tour_language, tour.id, policy.guide_limits) if guide.id not in held]
    if len(free) < needed - len(current):
        raise TourStateError("numbers_no_guide", field="pupils")
    added = free[:needed - len(current)]
    lock_and_check(session, policy.rules, tour, [guide.id for guide in added])
    for guide in added:
        for slot in spanned_slots(tour.start, tour.duration_minutes, policy.rules):
            tour.assignments.append(GuideAssignment(guide=guide, start=slot))
    flush_or_retry(session)
    return added, []


def change_group_size(session: Session, policy: Policy, now: dt.datetime, tour_id: int, pupils: int,
                      adults: int) -> TourRequest:
    """The teacher's final numbers for a confirmed group visit, until the cancellation limit.

    Fewer people give their places back at once, and a guide no longer needed is released. More
    are taken in every hour the visit spans and, for a guided tour, with the extra guides needed:
    all or nothing (TourStateError "numbers_capacity" or "numbers_no_guide"). Sizes that can never
    fit (adult ratio, the largest guided group) raise TourInputError by field. The teacher gets a
    confirmation and the museum is told, with the old and new numbers.
    """

    def operation() -> TourRequest:
        tour = _locked(session, tour_id, ("confirmed",))
        if not can_change_numbers(tour, now, policy.tour_rules):
            raise TourStateError("too_late_to_change")
        errors = group_problems(tour.group_kind, pupils, adults, tour.guided, policy.rules.slot_capacity,
                                      policy.tour_rules)
        if errors:
            raise TourInputError(errors)
        if (pupils, adults) == (tour.pupils, tour.adults):
            raise TourStateError("numbers_unchanged", field="pupils")
        old = {"pupils": tour.pupils, "adults": tour.adults}
        delta = pupils + adults - tour.people
        slots = spanned_slots(tour.start, tour.duration_minutes, policy.rules)
        if delta and not change_places(session, {slot: delta for slot in slots}, policy.rules.slot_capacity):
            raise TourStateError("numbers_capacity", field="pupils")  # the transaction is rolled back
        before = tour.guides
        added, released = _resize_guides(session, policy, tour, pupils) if tour.guided else ([], [])
        tour.pupils, tour.adults = pupils, adults
        tell_guides(session, now, tour, before, changed=True)
        tour.updated_at = now
        payload = {"event": "numbers_changed", "old": old, "new": {"pupils": pupils, "adults": adults},
                   "guides_added": [g.name for g in added], "guides_released": [g.name for g in released]}
        if tour.email:
            _email(session, policy, now, tour, "tour_numbers_changed", payload)
        if policy.museum_email:
            enqueue_email(session, "museum_tour_update", tour=tour, recipient=policy.museum_email,
                          language=policy.museum_language, now=now, payload=payload)
        return tour

    return atomic(session, operation)
def cancel_tour_for_closure(session: Session, policy: Policy, now: dt.datetime, tour_id: int, staff,
                            reasons: dict[str, str], message: str = "") -> TourRequest:
    """The museum closes while a group visit holds its time: cancel it, inside the caller's transaction.

    Frees the places and guides, and sends the teacher the tour_cancelled email with the reason in
    the teacher's language (a group entered by staff without an email gets none). Audited.
    """
    from booking.services import audit

    tour = _locked(session, tour_id, TourRequest.HOLDING)
    was_confirmed = _cancel(session, policy, now, tour) == "confirmed"
    audit.record(session, now, staff, "tour.cancel", tour=tour, message=message, reasons=reasons,
                 was_confirmed=was_confirmed)
    if tour.email:
        _email(session, policy, now, tour, "tour_cancelled",
               {"was_confirmed": was_confirmed, "by_museum": True, "reasons": reasons, "message": message})
    return tour


def reassign_guide(session: Session, policy: Policy, now: dt.datetime, tour_id: int, from_guide_id: int,
                   to_guide_id: int, staff: StaffUser | None) -> TourRequest:
    """One guide of a tour to come for another, in one step: the old guide gets a cancellation, the
    new one the assignment. The new guide must be free, available and speak the tour's language.
    Two members of staff at once: the second finds `from_guide_id` no longer on the tour and is
    told so (TourStateError "guides_changed"), nothing else changes."""

    def operation() -> TourRequest:
        tour = _locked_guided_to_come(session, tour_id, TourRequest.HOLDING, now)
        held = tour.guides
        ids = [guide.id for guide in held]
        if from_guide_id not in ids:
            raise TourStateError("guides_changed", field="guide")
        if to_guide_id in ids:
            raise TourStateError("guide_unavailable", field="guide")
        _reassign(session, policy, tour, [to_guide_id if i == from_guide_id else i for i in ids])
        tell_guides(session, now, tour, held)
        tour.updated_at = now
        audit.record(session, now, staff, "tour.guides", tour=tour, previous=[guide.name for guide in held],
                     guides=[guide.name for guide in tour.guides])
        return tour

    return atomic(session, operation)
