"""The back office's group visits: entered by staff for a caller, cancelled for the teacher or by a
closure, given other guides, resized to the teacher's final numbers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from booking import schedule
from booking.db import atomic, flush_or_retry
from booking.models import Guide, GuideAssignment, StaffUser, TourRequest, enqueue_email
from booking.policy import Policy
from booking.references import GROUP_PREFIX, new_reference
from booking.services import audit
from booking.services.capacity import change_places
from booking.services.guides import lock_and_check, tell_guides
from booking.services.tours.holds import (
    TourInputError,
    TourStateError,
    _assign,
    _cancel,
    _email,
    _locked,
    _locked_guided_to_come,
    _once,
    _reassign,
    _try_hold,
    _Unfit,
    find_tour_by_request_key,
    free_guides,
)
from booking.tour_rules import (
    TourApplication,
    can_change_numbers,
    duration,
    group_problems,
    guides_needed,
    spanned_slots,
)

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
