"""The waiting list: freed places are offered in order, held for the offer, booked on acceptance,
passed on when an offer expires or is declined; never more than the slot's capacity."""

from __future__ import annotations

import datetime as dt
import re
from functools import partial

import pytest
import sqlalchemy as sa

from booking.models import Booking, OutboxMessage, WaitlistEntry
from booking.services import BookingClosed, BookingError, NotBookable
from booking.services.bookings import cancel_booking, move_booking
from booking.services.waitlist import (
    WaitRequest,
    accept_offer,
    join_waitlist,
    leave_waitlist,
    offer_places,
    run_waitlist_jobs,
)
from tests.conftest import NOW, local, slot_booked
from tests.racing import race

SLOT = "2027-03-02T10:00"  # Tuesday, the day after NOW
CAPACITY = 4


@pytest.fixture
def config_overrides(config_overrides):
    config_overrides["SLOT_CAPACITY"] = CAPACITY
    return config_overrides


@pytest.fixture
def join(session, rules, clock):
    def _join(people: int, name: str, email: str, language: str = "en", start: str = SLOT) -> WaitlistEntry:
        return join_waitlist(session, rules, clock.now(), WaitRequest(start=local(start), people=people, name=name,
                                                                      email=email, language=language))
    return _join


@pytest.fixture
def full_slot(book):
    """The 10:00 slot full: two bookings of two."""
    return [book(SLOT, party_size=2, name="Anne Martin", email="anne@example.be"),
            book(SLOT, party_size=2, name="Bart Peeters", email="bart@example.be")]


def entry_of(session, entry_id: int) -> WaitlistEntry:
    session.expire_all()
    entry = session.get(WaitlistEntry, entry_id)
    session.commit()
    return entry


def emails(session, kind: str) -> list[OutboxMessage]:
    rows = list(session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))
    session.commit()
    return rows


def test_a_cancellation_offers_the_places_to_the_first_who_fits_and_holds_them(session, rules, clock, full_slot,
                                                                               join):
    first = join(2, "Chloé Dupont", "chloe@example.be", "fr")
    second = join(1, "Dirk Maes", "dirk@example.be", "nl")

    cancel_booking(session, rules, clock.now(), full_slot[0].id)

    assert entry_of(session, first.id).status == "offered"
    assert entry_of(session, second.id).status == "waiting"  # nothing left for them
    assert slot_booked(session, SLOT) == CAPACITY  # the offered places are held, not free
    offer = entry_of(session, first.id)
    assert offer.offer_expires_at == NOW + dt.timedelta(hours=12)
    assert [m.recipient for m in emails(session, "waitlist_offer")] == ["chloe@example.be"]


def test_accepting_an_offer_books_the_held_places_without_taking_them_twice(session, rules, clock, full_slot, join):
    entry = join(2, "Chloé Dupont", "chloe@example.be", "fr")
    cancel_booking(session, rules, clock.now(), full_slot[0].id)

    booking = accept_offer(session, rules, clock.now(), entry.id)

    assert booking.status == "confirmed" and booking.party_size == 2 and booking.email == "chloe@example.be"
    assert booking.language == "fr"
    assert entry_of(session, entry.id).status == "accepted"
    assert entry_of(session, entry.id).booking_id == booking.id
    assert slot_booked(session, SLOT) == CAPACITY
    assert [m.booking_id for m in emails(session, "visit_confirmed")][-1] == booking.id
    with pytest.raises(BookingClosed):
        accept_offer(session, rules, clock.now(), entry.id)


def test_an_expired_offer_passes_to_the_next_entry(session, rules, clock, full_slot, join):
    first = join(2, "Chloé Dupont", "chloe@example.be")
    second = join(1, "Dirk Maes", "dirk@example.be")
    cancel_booking(session, rules, clock.now(), full_slot[0].id)

    clock.set(NOW + dt.timedelta(hours=12, minutes=1))
    with pytest.raises(BookingClosed) as error:
        accept_offer(session, rules, clock.now(), first.id)
    assert error.value.code == "offer_expired"
    result = run_waitlist_jobs(session, rules, clock.now())

    assert result["offers expired"] == [first.reference]
    assert entry_of(session, first.id).status == "expired"
    assert entry_of(session, second.id).status == "offered"
    assert slot_booked(session, SLOT) == CAPACITY - 1  # one of the two places is free again
    # Run again: nothing more happens.
    assert run_waitlist_jobs(session, rules, clock.now()) == {"offers expired": [], "offers made": [],
                                                              "entries closed": []}


def test_an_offer_never_runs_past_two_hours_before_the_slot(session, rules, clock, full_slot, join):
    entry = join(1, "Chloé Dupont", "chloe@example.be")
    clock.set(local("2027-03-02T03:00"))
    cancel_booking(session, rules, clock.now(), full_slot[0].id)
    assert entry_of(session, entry.id).offer_expires_at == local("2027-03-02T08:00")

    clock.set(local("2027-03-02T08:30"))
    with pytest.raises(NotBookable) as error:
        join(1, "Late Comer", "late@example.be")
    assert error.value.code == "waitlist_too_late"


def test_a_declined_offer_goes_to_the_next_and_a_smaller_party_can_overtake(session, rules, clock, full_slot, join):
    big = join(3, "Groot Gezin", "groot@example.be")
    small = join(2, "Chloé Dupont", "chloe@example.be")
    smallest = join(1, "Dirk Maes", "dirk@example.be")

    cancel_booking(session, rules, clock.now(), full_slot[0].id)  # 2 places free: too few for 3
    assert [entry_of(session, e.id).status for e in (big, small, smallest)] == ["waiting", "offered", "waiting"]

    leave_waitlist(session, rules, clock.now(), small.id)  # declines the offer
    assert entry_of(session, small.id).status == "declined"
    assert entry_of(session, smallest.id).status == "offered"
    assert entry_of(session, big.id).status == "waiting"
    assert slot_booked(session, SLOT) == CAPACITY - 1


def test_a_move_out_of_the_slot_offers_its_places(session, rules, clock, full_slot, join):
    entry = join(2, "Chloé Dupont", "chloe@example.be")
    move_booking(session, rules, clock.now(), full_slot[1].id, local("2027-03-02T11:00"))
    assert entry_of(session, entry.id).status == "offered"


def test_joining_is_refused_when_places_are_free_or_twice_with_one_email(session, rules, clock, book, join):
    with pytest.raises(BookingError) as error:
        join(2, "Chloé Dupont", "chloe@example.be")
    assert error.value.code == "waitlist_places_free"
    book(SLOT, party_size=4)
    join(2, "Chloé Dupont", "chloe@example.be")
    with pytest.raises(BookingError) as error:
        join(1, "Chloé Dupont", "CHLOE@example.be")
    assert error.value.code == "waitlist_already" and error.value.field == "email"


def test_a_capacity_raise_is_offered_by_the_periodic_job(session, rules, clock, full_slot, join):
    from booking.models import Slot

    entry = join(2, "Chloé Dupont", "chloe@example.be")
    session.execute(sa.update(Slot).values(capacity=CAPACITY + 2, capacity_custom=True))
    session.commit()
    assert run_waitlist_jobs(session, rules, clock.now())["offers made"] == [entry.reference]
    assert entry_of(session, entry.id).status == "offered"
    assert slot_booked(session, SLOT) == CAPACITY + 2


def test_no_offer_in_a_slot_closed_after_the_visitor_joined(session, rules, clock, full_slot, join):
    from booking.services.closures import add_closure

    entry = join(2, "Chloé Dupont", "chloe@example.be")
    add_closure(session, rules, dt.date(2027, 3, 2), {"en": "Works"})
    cancel_booking(session, rules, clock.now(), full_slot[0].id)
    assert entry_of(session, entry.id).status == "waiting"
    assert offer_places(session, rules, clock.now(), local(SLOT)) == []


# --- pages -------------------------------------------------------------------------------------------

def test_the_day_page_offers_the_waiting_list_under_a_full_slot(client, full_slot):
    page = client.get("/en/visit/2027-03-02").get_data(as_text=True)
    assert "Join the waiting list" in page
    assert "/en/waitlist?start=2027-03-02T10%3A00" in page or "/en/waitlist?start=2027-03-02T10:00" in page


def test_join_from_the_form_then_leave_from_the_link(client, session, full_slot):
    form = client.get("/en/waitlist?start=2027-03-02T10:00")
    assert form.status_code == 200 and "Join the waiting list" in form.get_data(as_text=True)
    response = client.post("/en/waitlist", data={"start": "2027-03-02T10:00", "party_size": "2",
                                                 "name": "Chloé Dupont", "email": "chloe@example.be", "consent": "y"})
    assert response.status_code == 302
    link = response.headers["Location"]
    assert re.fullmatch(r"/w/WL-[A-Z0-9]{6}/[\w-]{32}", link)
    page = client.get(link).get_data(as_text=True)
    assert "You are on the waiting list" in page
    assert client.post(link + "/leave").status_code == 302
    assert "You are no longer on the waiting list" in client.get(link).get_data(as_text=True)
    assert client.get(link[:-3] + "xyz").status_code == 404


def test_the_form_keeps_what_was_typed_and_explains_errors(client, full_slot):
    response = client.post("/en/waitlist", data={"start": "2027-03-02T10:00", "party_size": "12",
                                                 "name": "Chloé Dupont", "email": "not-an-email", "consent": "y"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Chloé Dupont" in page and "not-an-email" in page
    assert "valid email address" in page


def test_the_form_sends_to_booking_when_places_are_free(client):
    response = client.post("/en/waitlist", data={"start": "2027-03-02T10:00", "party_size": "2",
                                                 "name": "Chloé Dupont", "email": "chloe@example.be", "consent": "y"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/en/book")


def test_accept_from_the_link_books_and_shows_the_booking(client, session, rules, clock, full_slot, join):
    entry = join(2, "Chloé Dupont", "chloe@example.be", "fr")
    cancel_booking(session, rules, clock.now(), full_slot[0].id)
    with client.application.app_context():
        from booking.links import waitlist_path

        link = waitlist_path(entry_of(session, entry.id))
    page = client.get(link).get_data(as_text=True)
    assert "Réserver ces places" in page or "Book these places" in page
    response = client.post(link + "/accept")
    assert response.status_code == 302 and response.headers["Location"].startswith("/b/NMR-")
    booking = session.scalars(sa.select(Booking).where(Booking.email == "chloe@example.be")).one()
    assert booking.party_size == 2


def test_an_offer_is_not_accepted_while_the_address_holds_its_most_bookings_that_day(
        client, session, rules, clock, full_slot, join, book):
    """The cap of bookings per email a day (3) holds on the waiting list's link as on the booking form:
    refused in the visitor's language, the offer still open and its places still held for them."""
    held = [book(f"2027-03-02T{hour}:00", party_size=1, name="Chloé Dupont", email=email)
            for hour, email in (("09", "chloe@example.be"), ("11", "Chloe@Example.be"), ("14", "CHLOE@example.be"))]
    entry = join(2, "Chloé Dupont", "chloe@example.be", "fr")
    cancel_booking(session, rules, clock.now(), full_slot[0].id)
    with client.application.app_context():
        from booking.links import waitlist_path

        link = waitlist_path(entry_of(session, entry.id))
    confirmations = len(emails(session, "visit_confirmed"))
    response = client.post(link + "/accept", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == link
    assert "Cette adresse e-mail a déjà 3 réservations ce jour-là, le maximum que nous acceptons." in page
    assert entry_of(session, entry.id).status == "offered" and entry_of(session, entry.id).booking_id is None
    assert slot_booked(session, SLOT) == CAPACITY  # still held for the offer
    at_the_slot = sa.select(Booking.name).where(Booking.start == local(SLOT), Booking.status == "confirmed")
    assert session.scalars(at_the_slot).all() == ["Bart Peeters"]  # no booking for Chloé
    session.commit()
    assert len(emails(session, "visit_confirmed")) == confirmations
    # With one of those visits cancelled, the offer can be taken.
    cancel_booking(session, rules, clock.now(), held[0].id)
    response = client.post(link + "/accept")
    assert response.status_code == 302 and response.headers["Location"].startswith("/b/NMR-")
    assert entry_of(session, entry.id).status == "accepted"


def test_offer_email_in_the_visitors_language_through_smtp(smtp_server, smtp_config, app, session, rules, clock,
                                                          book):
    from tests.smtp import plain_text

    booked = [book(SLOT, party_size=2), book(SLOT, party_size=2)]
    join_waitlist(session, rules, clock.now(), WaitRequest(start=local(SLOT), people=2, name="Dirk Maes",
                                                           email="dirk@example.be", language="nl"))
    cancel_booking(session, rules, clock.now(), booked[0].id)
    with app.app_context():
        from booking.notifications import deliver

        deliver(session, clock.now())
    offers = [m for m in smtp_server.messages if m["To"] == "dirk@example.be" and "WL-" in m["Subject"]]
    assert len(offers) == 2  # joined, then the offer
    body = plain_text(offers[-1])
    assert "http://museum.test/w/WL-" in body
    assert "dinsdag" in body.lower()


@pytest.mark.parametrize(("language", "people", "subject", "offer", "joined"), [
    ("en", 1, "A place is free for you on", "Good news: 1 place is free for you on", "for 1 person."),
    ("en", 2, "Places are free for you on", "Good news: 2 places are free for you on", "for 2 people."),
    ("fr", 1, "Une place s’est libérée pour vous", "Bonne nouvelle\u202f: 1 place s’est libérée pour vous",
     "pour 1 personne."),
    ("fr", 2, "Des places se sont libérées pour vous", "Bonne nouvelle\u202f: 2 places se sont libérées pour vous",
     "pour 2 personnes."),
    ("nl", 1, "Er is een plaats voor u vrij", "Goed nieuws: er is 1 plaats voor u vrij", "voor 1 persoon."),
    ("de", 2, "sind Plätze für Sie frei", "Uhr sind 2 Plätze für Sie frei", "für 2 Personen."),
])
def test_the_waiting_list_emails_say_one_place_or_several(app, session, rules, clock, full_slot, join, language,
                                                          people, subject, offer, joined):
    from booking.notifications.emails import render

    entry = join(people, "Dirk Maes", "dirk@example.be", language)
    cancel_booking(session, rules, clock.now(), full_slot[0].id)
    rows = {row.kind: row for row in emails(session, "waitlist_offer") + emails(session, "waitlist_joined")
            if row.waitlist_id == entry.id}
    with app.app_context():
        offered, welcome = render(rows["waitlist_offer"]), render(rows["waitlist_joined"])
    assert subject in offered.subject
    assert offer in offered.body
    assert joined in welcome.body
    if language == "en":
        assert ("We hold it for you until" if people == 1 else "We hold them for you until") in offered.body
        assert ("confirm it (" if people == 1 else "confirm them (") in offered.subject


@pytest.fixture
def one_hour_offers(config_overrides):
    config_overrides["WAITLIST_OFFER_HOURS"] = 1


def test_the_form_says_an_offer_holds_for_1_hour_in_the_singular(one_hour_offers, client, full_slot):
    page = client.get("/en/waitlist?start=2027-03-02T10:00").get_data(as_text=True)
    assert "hold them for you for up to 1 hour. Nothing is booked" in page
    assert "pendant 1 heure au maximum" in client.get("/fr/waitlist?start=2027-03-02T10:00").get_data(as_text=True)


def test_the_offer_page_for_one_person_speaks_of_one_place(client, session, rules, clock, full_slot, join):
    entry = join(1, "Dirk Maes", "dirk@example.be")
    cancel_booking(session, rules, clock.now(), full_slot[0].id)
    with client.application.app_context():
        from booking.links import waitlist_path

        link = waitlist_path(entry_of(session, entry.id))
    page = client.get(link).get_data(as_text=True)
    assert "A place is free for you. We hold it until" in page
    assert "Book this place" in page and "give it to the next person" in page


# --- races -------------------------------------------------------------------------------------------

def _accept(entry_id: int, state, session) -> tuple[str, int | None]:
    try:
        booking = accept_offer(session, state.rules, state.clock.now(), entry_id)
    except BookingClosed as error:
        return error.code, None
    return "booked", booking.id


def _offer(start: str, state, session) -> tuple[str, list[int]]:
    return "offered", [entry.id for entry in offer_places(session, state.rules, state.clock.now(), local(start))]


def test_two_acceptances_of_one_offer_make_one_booking(database_url, session, rules, clock, full_slot, join):
    entry = join(2, "Chloé Dupont", "chloe@example.be")
    cancel_booking(session, rules, clock.now(), full_slot[0].id)
    session.commit()

    results = race(database_url, [(i, partial(_accept, entry.id)) for i in range(4)], {"SLOT_CAPACITY": CAPACITY})

    outcomes = sorted(outcome for _, outcome, _ in results)
    assert "error" not in outcomes, results
    assert outcomes.count("booked") == 1 and len(outcomes) == 4
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking).where(
        Booking.email == "chloe@example.be")) == 1
    assert slot_booked(session, SLOT) == CAPACITY


def test_concurrent_offer_runs_never_offer_a_place_twice(database_url, session, rules, clock, full_slot, join):
    from booking.models import Slot

    entries = [join(1, f"Visitor {i}", f"v{i}@example.be") for i in range(4)]
    # Two places free up behind the waiting list's back (a capacity raise), then four runs race to offer them.
    session.execute(sa.update(Slot).values(capacity=CAPACITY + 2, capacity_custom=True))
    session.commit()

    results = race(database_url, [(i, partial(_offer, SLOT)) for i in range(4)], {"SLOT_CAPACITY": CAPACITY})

    assert all(outcome == "offered" for _, outcome, _ in results), results
    offered_ids = [entry_id for _, _, ids in results for entry_id in ids]
    assert len(offered_ids) == len(set(offered_ids)) == 2
    assert sorted(offered_ids) == sorted(e.id for e in entries[:2])  # the first two in line
    assert slot_booked(session, SLOT) == CAPACITY + 2


def test_run_jobs_passes_an_expired_offer_on(runner, session, rules, clock, full_slot, join):
    first = join(2, "Chloé Dupont", "chloe@example.be")
    second = join(2, "Dirk Maes", "dirk@example.be")
    cancel_booking(session, rules, clock.now(), full_slot[0].id)

    early = runner.invoke(args=["run-jobs", "--now", "2027-03-01T20:00"])
    assert early.exit_code == 0 and "waiting list, offers expired: 0" in early.output
    result = runner.invoke(args=["run-jobs", "--now", "2027-03-01T21:30"])
    assert result.exit_code == 0, result.output
    assert f"waiting list, offers expired: 1 ({first.reference})" in result.output
    assert entry_of(session, first.id).status == "expired"
    assert entry_of(session, second.id).status == "offered"


def test_staff_see_each_slots_waiting_list_in_the_day_view(app, session, rules, clock, full_slot, join):
    from tests.conftest import signed_in

    first = join(2, "Chloé Dupont", "chloe@example.be")
    join(1, "Dirk Maes", "dirk@example.be")
    cancel_booking(session, rules, clock.now(), full_slot[0].id)
    from booking.services.staff import create_staff
    from tests.conftest import STAFF_PASSWORD

    staff = create_staff(session, "desk@museum.example", STAFF_PASSWORD)
    page = signed_in(app, staff).get("/staff/day/2027-03-02?lang=en").get_data(as_text=True)
    assert "Waiting list: 2" in page
    assert "Chloé Dupont" in page and "Dirk Maes" in page and first.reference in page
    assert "offered until" in page
