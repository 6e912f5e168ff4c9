"""Group visits: the rules without an app, then the operations on every database."""

import datetime as dt

import pytest
import sqlalchemy as sa

from booking import tour_rules
from booking.models import GuideAssignment, OutboxMessage, TourRequest
from booking.schedule import Rules
from booking.services import SlotFull
from booking.services.inbox import requests_inbox
from booking.services.tours import (
    NoTimeFits,
    TourInputError,
    TourStateError,
    answer_proposal,
    cancel_tour,
    confirm_tour,
    decline_tour,
    expire_proposals,
    propose_time,
)
from tests.conftest import local, slot_booked

RULES = Rules()
TOUR_RULES = tour_rules.TourRules()


# --- rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pupils", "guides"), [(1, 1), (19, 1), (20, 1), (21, 2), (40, 2), (41, 3)])
def test_one_guide_per_twenty_pupils(pupils, guides):
    assert tour_rules.guides_needed(pupils, TOUR_RULES) == guides


@pytest.mark.parametrize(("kind", "pupils", "adults"), [
    ("primary", 1, 1), ("primary", 15, 1), ("primary", 16, 2), ("secondary", 40, 3),
    ("higher", 40, 0), ("adults", 30, 0),
])
def test_school_classes_need_one_adult_per_fifteen_pupils_and_never_zero(kind, pupils, adults):
    assert tour_rules.adults_required(kind, pupils, TOUR_RULES) == adults


def test_group_size_problems_by_field():
    assert tour_rules.group_problems("secondary", 40, 3, True, 50, TOUR_RULES) == {}
    assert tour_rules.group_problems("secondary", 41, 3, True, 50, TOUR_RULES) == {"pupils": "pupils_max_guided"}
    assert tour_rules.group_problems("secondary", 0, 1, True, 50, TOUR_RULES) == {"pupils": "pupils_min"}
    assert tour_rules.group_problems("primary", 20, 1, True, 50, TOUR_RULES) == {"adults": "adults_ratio"}
    assert tour_rules.group_problems("primary", 20, 0, False, 50, TOUR_RULES) == {"adults": "adults_ratio"}
    assert tour_rules.group_problems("adults", 400, 0, False, 50, TOUR_RULES) == {"pupils": "group_too_large"}
    assert tour_rules.group_problems("adults", 45, 0, False, 50, TOUR_RULES) == {}


def test_a_guided_tour_spans_two_hourly_slots():
    start = local("2027-03-16T10:00")
    assert tour_rules.spanned_slots(start, 120, RULES) == [start, local("2027-03-16T11:00")]
    assert tour_rules.spanned_slots(start, 60, RULES) == [start]


NOW = local("2027-03-01T09:00")


@pytest.mark.parametrize(("start", "minutes", "problem"), [
    ("2027-03-16T10:00", 120, None),
    ("2027-03-16T15:00", 120, None),
    ("2027-03-16T16:00", 120, "ends_after_closing"),  # a guided tour cannot start at 16:00
    ("2027-03-16T16:00", 60, None),                   # a one-hour self-guided visit can
    ("2027-03-16T10:30", 120, "not_a_slot"),
    ("2027-03-20T10:00", 120, "weekend"),
    ("2027-03-29T10:00", 120, "holiday"),
    ("2027-03-12T10:00", 120, "too_soon"),            # 11 days ahead
    ("2027-03-15T09:00", 120, None),                  # exactly 14 days ahead
    ("2027-08-30T10:00", 120, "too_far"),             # 182 days ahead
])
def test_when_a_group_can_start(start, minutes, problem):
    assert tour_rules.start_problem(local(start), minutes, NOW, RULES, TOUR_RULES) == problem


def test_lead_time_counts_brussels_dates_around_midnight():
    start = local("2027-03-15T09:00")
    just_before_midnight = local("2027-03-01T23:59")  # 22:59 UTC, still 1 March in Brussels
    just_after_midnight = local("2027-03-02T00:01")   # 23:01 UTC on 1 March, but 2 March in Brussels
    assert tour_rules.start_problem(start, 120, just_before_midnight, RULES, TOUR_RULES) is None
    assert tour_rules.start_problem(start, 120, just_after_midnight, RULES, TOUR_RULES) == "too_soon"


def test_teachers_can_cancel_until_seven_days_before():
    start = local("2027-03-16T10:00")
    assert tour_rules.can_cancel(start, start - dt.timedelta(days=7), TOUR_RULES)
    assert not tour_rules.can_cancel(start, start - dt.timedelta(days=7) + dt.timedelta(minutes=1), TOUR_RULES)


def test_working_days_skip_weekends_and_holidays():
    assert tour_rules.working_days_between(dt.date(2027, 3, 1), dt.date(2027, 3, 8), RULES) == 5
    assert tour_rules.working_days_between(dt.date(2027, 3, 26), dt.date(2027, 4, 2), RULES) == 4  # Easter Monday


def _application(**changes) -> tour_rules.TourApplication:
    values = {"guided": True, "starts": [local("2027-03-16T10:00")], "organisation": "Athénée Royal",
              "contact_name": "Els Peeters", "email": "els@school.example", "phone": "+32 470 12 34 56",
              "pupils": 20, "adults": 2, "group_kind": "secondary", "language": "nl", "tour_language": "fr"}
    return tour_rules.TourApplication(**{**values, **changes})


def test_an_application_that_fits_has_no_problem():
    assert tour_rules.validate_application(_application(), RULES, TOUR_RULES, local("2027-03-01T09:00")) == {}


@pytest.mark.parametrize(("changes", "problems"), [
    ({"starts": []}, {"start_1": "start_missing"}),
    ({"group_kind": "kindergarten"}, {"group_kind": "group_kind"}),
    ({"tour_language": "es"}, {"tour_language": "tour_language"}),
    ({"guided": False, "tour_language": None, "duration_minutes": 90}, {"duration_minutes": "duration"}),
    ({"starts": [local("2027-03-16T10:00"), local("2027-03-20T10:00")]}, {"start_2": "weekend"}),
    ({"starts": [local("2027-03-05T10:00")]}, {"start_1": "too_soon"}),
    ({"starts": [local("2027-03-16T16:00")]}, {"start_1": "ends_after_closing"}),
])
def test_an_application_is_refused_by_field_with_one_code_each(changes, problems):
    found = tour_rules.validate_application(_application(**changes), RULES, TOUR_RULES, local("2027-03-01T09:00"))
    assert found == problems


def test_a_holiday_staff_opened_is_open_to_groups():
    easter_monday = local("2027-03-29T10:00")
    application = _application(starts=[easter_monday])
    now = local("2027-03-01T09:00")
    assert tour_rules.validate_application(application, RULES, TOUR_RULES, now) == {"start_1": "holiday"}
    assert tour_rules.validate_application(application, RULES, TOUR_RULES, now, {easter_monday.date()}) == {}


def test_the_final_numbers_may_change_until_the_cancellation_limit():
    start = local("2027-03-16T10:00")
    assert tour_rules.numbers_deadline(start, TOUR_RULES) == local("2027-03-09T10:00")

    class Tour:
        status, start = "confirmed", local("2027-03-16T10:00")

    assert tour_rules.can_change_numbers(Tour, local("2027-03-09T10:00"), TOUR_RULES)
    assert not tour_rules.can_change_numbers(Tour, local("2027-03-09T10:01"), TOUR_RULES)
    Tour.status = "pending"
    assert not tour_rules.can_change_numbers(Tour, local("2027-03-01T10:00"), TOUR_RULES)


# --- operations ----------------------------------------------------------------------------------

def held_guides(session, tour):
    names = session.scalars(sa.select(GuideAssignment).where(GuideAssignment.tour_id == tour.id)).all()
    result = sorted({a.guide.name for a in names})
    session.commit()
    return result


def kinds(session):
    result = list(session.scalars(sa.select(OutboxMessage.kind).order_by(OutboxMessage.id)))
    session.commit()
    return result


def test_a_request_holds_its_places_in_both_hours_and_its_guide(request_tour, guides, session):
    tour = request_tour("2027-03-16T10:00", pupils=20, adults=2)
    assert tour.status == "pending" and tour.reference.startswith("GRP-")
    assert slot_booked(session, "2027-03-16T10:00") == 22
    assert slot_booked(session, "2027-03-16T11:00") == 22
    assert slot_booked(session, "2027-03-16T12:00") == 0
    assert held_guides(session, tour) == ["Pieter Janssens"]  # the German speaker stays free
    assert kinds(session) == ["tour_received", "museum_tour_update"]


def test_a_class_of_40_needs_both_guides(request_tour, guides, session):
    tour = request_tour("2027-03-16T10:00", pupils=40, adults=3)
    assert held_guides(session, tour) == ["Marie Dubois", "Pieter Janssens"]


def test_a_german_tour_takes_the_guide_who_speaks_german(request_tour, guides, session):
    tour = request_tour("2027-03-16T10:00", tour_language="de")
    assert held_guides(session, tour) == ["Marie Dubois"]


def test_the_first_alternative_that_fits_is_held(request_tour, guides, session):
    request_tour("2027-03-16T10:00", pupils=40, adults=3)  # both guides busy 10:00–12:00
    tour = request_tour("2027-03-16T11:00", "2027-03-16T13:00", pupils=10, adults=1)
    assert tour.start == local("2027-03-16T13:00")
    assert [s[:16] for s in tour.requested_starts] == ["2027-03-16T10:00", "2027-03-16T12:00"]  # UTC


def test_when_nothing_fits_each_time_says_why_and_nothing_is_stored(request_tour, book, guides, session, policy):
    request_tour("2027-03-16T10:00", pupils=40, adults=3)
    from booking.services.closures import add_closure

    add_closure(session, policy.rules, dt.date(2027, 3, 17), {"en": "Works"})
    for _ in range(6):
        book("2027-03-18T10:00", party_size=8)
    with pytest.raises(NoTimeFits) as refused:
        request_tour("2027-03-16T11:00", "2027-03-17T10:00", "2027-03-18T10:00", pupils=10, adults=1,
                     tour_language="de")
    assert refused.value.reasons == ["no_guide", "closed", "capacity"]
    assert refused.value.reason == "no_guide"
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(TourRequest)) == 1


def test_a_language_nobody_on_duty_speaks_is_its_own_reason(request_tour, guides, session):
    guides[1].active = False  # the German speaker is away
    session.commit()
    with pytest.raises(NoTimeFits) as refused:
        request_tour("2027-03-16T10:00", tour_language="de")
    assert refused.value.reasons == ["language"]


def test_a_tour_and_individual_visitors_share_the_hours(request_tour, book, guides, session):
    for _ in range(5):
        book("2027-03-16T11:00", party_size=8)  # 40 of 50 at 11:00
    with pytest.raises(NoTimeFits) as refused:
        request_tour("2027-03-16T10:00", pupils=20, adults=2)
    assert refused.value.reasons == ["capacity"]
    assert slot_booked(session, "2027-03-16T10:00") == 0  # the 10:00 take was rolled back
    tour = request_tour("2027-03-16T10:00", pupils=9, adults=1)
    assert tour.status == "pending"
    assert slot_booked(session, "2027-03-16T11:00") == 50
    with pytest.raises(SlotFull):
        book("2027-03-16T11:00", party_size=1)


def test_self_guided_visits_need_no_guide(request_tour, session):
    tour = request_tour("2027-03-16T16:00", guided=False, duration_minutes=60, pupils=25, adults=2)
    assert tour.status == "pending" and tour.duration_minutes == 60
    assert held_guides(session, tour) == []
    assert slot_booked(session, "2027-03-16T16:00") == 27


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"pupils": 0}, "pupils", "pupils_min"),
    ({"pupils": 400}, "pupils", "pupils_max_guided"),
    ({"pupils": 41, "adults": 3}, "pupils", "pupils_max_guided"),
    ({"pupils": 20, "adults": 1, "group_kind": "primary"}, "adults", "adults_ratio"),
    ({"tour_language": "es"}, "tour_language", "tour_language"),
])
def test_groups_that_can_never_fit_are_refused_by_field(request_tour, guides, session, changes, field, code):
    with pytest.raises(TourInputError) as refused:
        request_tour("2027-03-16T10:00", **changes)
    assert refused.value.errors[field] == code
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(TourRequest)) == 0


def test_each_requested_time_is_checked(request_tour, guides):
    with pytest.raises(TourInputError) as refused:
        request_tour("2027-03-05T10:00", "2027-03-20T10:00", "2027-03-16T16:00")
    assert refused.value.errors == {"start_1": "too_soon", "start_2": "weekend", "start_3": "ends_after_closing"}


def test_confirming_keeps_the_hold_and_emails_the_teacher(request_tour, guides, session, policy, clock):
    tour = request_tour("2027-03-16T10:00")
    confirmed = confirm_tour(session, policy, clock.now(), tour.id)
    assert confirmed.status == "confirmed"
    assert slot_booked(session, "2027-03-16T10:00") == 22
    assert kinds(session)[-1] == "tour_confirmed"
    with pytest.raises(TourStateError):
        confirm_tour(session, policy, clock.now(), tour.id)


def test_staff_can_confirm_with_another_free_guide_who_speaks_the_language(request_tour, guides, session, policy,
                                                                           clock):
    tour = request_tour("2027-03-16T10:00")
    confirm_tour(session, policy, clock.now(), tour.id, guide_ids=[guides[1].id])
    assert held_guides(session, tour) == ["Marie Dubois"]


def test_staff_cannot_assign_a_busy_guide(request_tour, guides, session, policy, clock):
    first = request_tour("2027-03-16T10:00")
    second = request_tour("2027-03-16T11:00")  # takes the other guide
    with pytest.raises(TourStateError) as refused:
        confirm_tour(session, policy, clock.now(), second.id, guide_ids=[g.id for g in first.guides])
    assert refused.value.code == "guide_unavailable"


def test_declining_frees_the_hold(request_tour, guides, session, policy, clock):
    tour = request_tour("2027-03-16T10:00")
    decline_tour(session, policy, clock.now(), tour.id, "The museum is fully booked by a festival.")
    assert slot_booked(session, "2027-03-16T10:00") == 0
    assert held_guides(session, tour) == []
    assert kinds(session)[-1] == "tour_declined"


def test_a_proposal_moves_the_hold_and_acceptance_confirms(request_tour, guides, session, policy, clock):
    tour = request_tour("2027-03-16T10:00")
    proposed = propose_time(session, policy, clock.now(), tour.id, local("2027-03-16T11:00"))
    assert proposed.status == "proposed" and proposed.start == local("2027-03-16T11:00")
    assert [slot_booked(session, f"2027-03-16T{h}:00") for h in (10, 11, 12)] == [0, 22, 22]
    assert held_guides(session, tour) == ["Pieter Janssens"]
    accepted = answer_proposal(session, policy, clock.now(), tour.id, accept=True)
    assert accepted.status == "confirmed"
    with pytest.raises(TourStateError):
        answer_proposal(session, policy, clock.now(), tour.id, accept=True)
    assert kinds(session)[-2:] == ["tour_confirmed", "museum_tour_update"]


def test_refusing_a_proposal_frees_the_hold(request_tour, guides, session, policy, clock):
    tour = request_tour("2027-03-16T10:00")
    propose_time(session, policy, clock.now(), tour.id, local("2027-03-17T10:00"))
    refused = answer_proposal(session, policy, clock.now(), tour.id, accept=False)
    assert refused.status == "refused"
    assert slot_booked(session, "2027-03-17T10:00") == 0


def test_a_proposal_that_does_not_fit_changes_nothing(request_tour, guides, session, policy, clock):
    tour = request_tour("2027-03-16T10:00", pupils=40, adults=3)
    with pytest.raises(TourStateError) as refused:
        propose_time(session, policy, clock.now(), tour.id, local("2027-03-20T10:00"))
    assert refused.value.code == "weekend"
    other = request_tour("2027-03-17T10:00", pupils=10, adults=1)
    with pytest.raises(TourStateError) as refused:
        propose_time(session, policy, clock.now(), tour.id, local("2027-03-17T11:00"))
    assert refused.value.code == "no_guide"
    session.expire_all()
    assert session.get(TourRequest, tour.id).start == local("2027-03-16T10:00")
    assert held_guides(session, tour) == ["Marie Dubois", "Pieter Janssens"]
    assert other.status == "pending"


def test_an_unanswered_proposal_expires_and_frees_its_hold(request_tour, guides, session, policy, clock):
    tour = request_tour("2027-03-16T10:00")
    propose_time(session, policy, clock.now(), tour.id, local("2027-03-17T10:00"))
    clock.set(local("2027-03-08T23:59"))  # the end of the seventh day
    assert expire_proposals(session, policy, clock.now()) == [tour.reference]
    assert slot_booked(session, "2027-03-17T10:00") == 0
    assert expire_proposals(session, policy, clock.now()) == []
    with pytest.raises(TourStateError):
        answer_proposal(session, policy, clock.now(), tour.id, accept=True)


def test_accepting_after_the_deadline_but_before_the_job_expires_it(request_tour, guides, session, policy, clock):
    tour = request_tour("2027-03-16T10:00")
    propose_time(session, policy, clock.now(), tour.id, local("2027-03-17T10:00"))
    clock.set(local("2027-03-09T00:01"))
    with pytest.raises(TourStateError) as refused:
        answer_proposal(session, policy, clock.now(), tour.id, accept=True)
    assert refused.value.code == "proposal_expired"
    session.expire_all()
    assert session.get(TourRequest, tour.id).status == "expired"
    assert slot_booked(session, "2027-03-17T10:00") == 0


def test_teachers_cancel_until_seven_days_before(request_tour, guides, session, policy, clock):
    early = request_tour("2027-03-16T10:00")
    late = request_tour("2027-03-17T10:00")
    clock.set(local("2027-03-09T10:00"))
    assert cancel_tour(session, policy, clock.now(), early.id).status == "cancelled"
    assert slot_booked(session, "2027-03-16T10:00") == 0
    with pytest.raises(TourStateError) as refused:
        cancel_tour(session, policy, local("2027-03-10T10:01"), late.id)
    assert refused.value.code == "too_late_to_cancel"


def test_requests_waiting_more_than_five_working_days_are_flagged(request_tour, guides, session, policy, clock):
    request_tour("2027-03-16T10:00")
    clock.advance(days=7)  # Monday to the next Monday: 5 working days
    assert [card.flagged for card in requests_inbox(session, policy, clock.now()).cards] == [False]
    clock.advance(days=1)
    entry = requests_inbox(session, policy, clock.now()).cards[0]
    assert entry.flagged and entry.waiting_working_days == 6
