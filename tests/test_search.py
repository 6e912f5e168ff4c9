"""The staff search folds accents and case alike on SQLite and PostgreSQL, in a service of its own."""

from __future__ import annotations

import unicodedata

import pytest
import sqlalchemy as sa

from booking.db import folded
from booking.folding import fold
from booking.services.search import search_bookings
from tests.conftest import NOW
from tests.test_performance import measure


def _found(staff_client, query: str) -> str:
    response = staff_client.get("/staff/bookings", query_string={"q": query, "lang": "en"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_fold_drops_accents_and_case_and_spells_out_ligatures_and_sharp_s():
    assert fold("Zoë Dupré") == "zoe dupre"
    assert fold("ÑÚÑEZ") == fold("Ñúñez") == "nunez"
    assert fold("Straße") == "strasse"
    assert fold("Œuvre Ærø Łódź Søren") == "oeuvre aero lodz soren"
    assert fold("ｆｕｌｌｗｉｄｔｈ ％") == "fullwidth %"


NAMES = {"dupre": "Zoë Dupré", "zoe": "ZOË", "nunez": "Ñúñez", "maria": "Maria NÚÑEZ", "zola": "Zola Martin",
         "nunes": "Nunes"}


@pytest.mark.parametrize(("query", "wanted"), [
    *[(query, {"dupre", "zoe"}) for query in ("zoe", "ZOE", "Zoë", "ZOË", " zoë ")],
    *[(query, {"nunez", "maria"}) for query in ("nunez", "NUNEZ", "ÑÚÑEZ", "ñúñez")],
    *[(query, {"dupre"}) for query in ("dupre", "Dupré", "DUPRÉ")],
])
def test_search_finds_names_whatever_the_accents_and_case_on_either_side(staff_client, book, query, wanted):
    made = {key: book(f"2027-03-02T{10 + hour}:00", name=name, email=f"{key}@example.be")
            for hour, (key, name) in enumerate(NAMES.items())}
    page = _found(staff_client, query)
    assert {key for key, visit in made.items() if visit.reference in page} == wanted


def test_a_groups_organisation_and_contact_are_found_without_accents(staff_client, request_tour, guides):
    tour = request_tour("2027-03-16T10:00", organisation="École Européenne d'Uccle")
    other = request_tour("2027-03-17T10:00", organisation="Sint-Jozefscollege")
    for query in ("ecole europeenne", "ÉCOLE", "els peeters"):
        page = _found(staff_client, query)
        assert tour.reference in page, query
        if query != "els peeters":
            assert other.reference not in page, query


def test_percent_and_underscore_in_the_search_match_only_themselves(staff_client, book):
    percent = book("2027-03-02T10:00", name="Zoë 100% Dupré", email="a@example.be")
    digits = book("2027-03-02T11:00", name="Zoë 1000 Dupré", email="b@example.be")
    underscore = book("2027-03-02T12:00", name="Zoë_Dupré", email="c@example.be")
    space = book("2027-03-02T13:00", name="Zoë Dupre", email="d@example.be")
    page = _found(staff_client, "0%")
    assert percent.reference in page and digits.reference not in page
    page = _found(staff_client, "0％")  # a fullwidth percent sign folds to "%", and is escaped after
    assert percent.reference in page and digits.reference not in page
    page = _found(staff_client, "zoe_dupre")
    assert underscore.reference in page and space.reference not in page
    assert "No booking matches." in _found(staff_client, "%%")


def test_the_search_service_takes_plain_inputs_and_needs_no_request(app, session, rules, book):
    dupre = book("2027-03-02T10:00", name="Zoë Dupré", email="zoe@example.be")
    later = book("2027-03-05T10:00", name="Zoe Dupre", email="zoe2@example.be")
    rows, more = search_bookings(session, rules, "ZOE DUPRE", limit=1)
    assert [row.reference for row in rows] == [later.reference] and more
    rows, more = search_bookings(session, rules, "zoë", date_from=NOW.date(), date_to=NOW.date().replace(day=3),
                                 status="confirmed")
    assert [(row.kind, row.reference, row.name) for row in rows] == [("visit", dupre.reference, "Zoë Dupré")]
    assert not more
    assert search_bookings(session, rules, "dupré", status="cancelled") == ([], False)


def test_the_database_folds_every_letter_of_european_names_as_python_does(session):
    """Latin-1 and Latin Extended-A: the stored side (SQLite's registered function, PostgreSQL's
    unaccent) must fold each letter as the typed side does, or a name could not find itself."""
    letters = [chr(code) for code in range(0xC0, 0x180) if unicodedata.category(chr(code)).startswith("L")]
    letters.remove("ŉ")  # deprecated in Unicode: it folds to "ʼn" here, to "'n" in unaccent
    in_database = session.execute(sa.select(*[folded(sa.literal(letter)) for letter in letters])).one()
    assert {letter: value for letter, value in zip(letters, in_database, strict=True) if value != fold(letter)} == {}


def test_a_folded_search_costs_the_same_statements_as_one_without_text(app, staff_client, book):
    book("2027-03-02T10:00", name="Zoë Dupré", email="zoe@example.be")
    staff_client.get("/staff/bookings?lang=en")  # the first one stores the staff member's language
    folded_search = measure(app, lambda: staff_client.get("/staff/bookings?q=ZO%C3%8B&lang=en"), 200)
    plain = measure(app, lambda: staff_client.get("/staff/bookings?status=confirmed&lang=en"), 200)
    assert len(folded_search) == len(plain)
    assert len([s for s in folded_search if s.startswith(("SELECT booking.", "SELECT tour_request."))]) == 2
