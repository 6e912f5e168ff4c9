"""An unavailability entered at the same moment as a request that would hold the same guide, in real
processes on SQLite and (with TEST_DATABASE_URL) PostgreSQL: the end is always consistent. Either
the request holds the guide and the unavailability is recorded as a conflict, or the request holds
no guide (refused: no other guide) and the unavailability is clean. Never a guide held while away
without the conflict flag."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter

import sqlalchemy as sa

from booking.models import AuditEntry, Guide, GuideAssignment, GuideUnavailability, OutboxMessage, Slot, TourRequest
from tests.conftest import local
from tests.racing import race

DAY = dt.date(2027, 3, 16)
# How long the unavailability waits after the barrier, round by round: 0 is both at once; a fresh
# process's first request takes about a second (imports, the holidays table), so the longer waits
# let the request go first and hold the guide, and both orders are proven.
DELAYS = (0, 0, 0, 0.5, 2, 3)


def _request(_state, session):
    from booking.context import now, policy
    from booking.services.tours import NoTimeFits, TourApplication, request_tour

    try:
        tour, _ = request_tour(session, policy(), now(), TourApplication(
            guided=True, starts=[local("2027-03-16T10:00")], organisation="Racing school", contact_name="Claire",
            email="claire@school.example", phone="0470", pupils=15, adults=2, group_kind="secondary",
            language="fr", tour_language="fr"))
    except NoTimeFits as refused:
        return "refused", refused.reasons
    return "held", [guide.id for guide in tour.guides]


def _away(guide_id, delay, _state, session):
    import time

    from booking.context import now, rules
    from booking.services.guides import add_unavailability

    time.sleep(delay)  # 0 in most rounds: both at once; a little later in some, so the request may go first

    entry, tours = add_unavailability(session, rules(), now(), guide_id, DAY, "morning", "race")
    return ("conflict" if entry.conflict else "clean"), [tour.reference for tour in tours]


def _clear(session):
    for model in (AuditEntry, OutboxMessage, GuideAssignment, TourRequest, Slot, GuideUnavailability):
        session.execute(model.__table__.delete())
    session.commit()
    session.expunge_all()


def test_an_unavailability_and_a_request_at_once_end_consistent(database_url, session, backend):
    guide = Guide(name="Solo Guide", language_codes="fr", email=None, language="fr")
    session.add(guide)
    session.commit()
    outcomes = Counter()
    for delay in DELAYS:
        _clear(session)
        results = {key: (outcome, detail) for key, outcome, detail in race(
            database_url, [("request", _request), ("away", functools.partial(_away, guide.id, delay))])}
        session.expire_all()
        held = session.scalars(sa.select(GuideAssignment.guide_id)).all()
        entry = session.scalars(sa.select(GuideUnavailability)).one()
        session.commit()
        request, away = results["request"][0], results["away"][0]
        assert (request, away) in {("held", "conflict"), ("refused", "clean")}, results
        assert bool(held) == entry.conflict == (request == "held"), (held, entry.conflict, results)
        outcomes[f"{request}+{away}"] += 1
    print(f"\n{backend}: {len(DELAYS)} rounds: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    assert sum(outcomes.values()) == len(DELAYS)
