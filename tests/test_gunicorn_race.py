"""No overbooking under a real server: gunicorn with 4 sync workers on loopback, on the test database
(SQLite in WAL mode, and PostgreSQL when TEST_DATABASE_URL is set), and 200 concurrent requests from
4 client processes for (a) the last places of a slot, (b) the last free guide of an hour, (c) moves
into a nearly full slot. Half of (a) and (b) are JSON API posts, half HTML form posts; (c) is the
private link's form. Every form client first GETs its page for a session cookie and a CSRF token:
the server runs as in production (CSRF on), with RATELIMIT_ENABLED=false as for a load test.

Asserted: the successes exactly fill what was left, every other answer is a clean 409 (JSON with
its reason, or the form again with the message), no 5xx and no traceback in gunicorn's log, and the
database holds exactly what was answered (bookings, places, guides, one email queued per success).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import threading
import traceback
import uuid
from collections import Counter
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from bench.server import Gunicorn
from booking import schedule
from booking.links import visit_path
from booking.models import Booking, GuideAssignment, OutboxMessage, Slot, TourRequest
from tests.conftest import NOW, SECRET, local
from tests.racing import BARRIER_TIMEOUT, run_processes
from tests.test_tour_pages import tour_form

SERVER_WORKERS = 4
CLIENT_PROCESSES = 4
REQUESTS = 200
CAPACITY = 50
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
SLOT_FULL = "Sorry, there are not enough places left at this time for your group."
NO_GUIDE = "No guide is free at this time."
TOO_FULL = "The museum is too full at this time for your group."


# --- the server ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gunicorn")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAIL_", "RATELIMIT_"))}
    env.update({
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "CLOCK_NOW": NOW.isoformat(),
        "MAIL_DELIVER_AFTER_COMMIT": "false",  # emails stay in the outbox, counted below
        "MAIL_FILE_DIR": str(tmp / "mail"),
        "RATELIMIT_ENABLED": "false",
        "SESSION_COOKIE_SECURE": "false",  # plain http on loopback
        "INSTANCE_PATH": str(tmp / "instance"),
        "PUBLIC_BASE_URL": "http://museum.test",
    })
    gunicorn = Gunicorn("wsgi:app", env, SERVER_WORKERS, tmp / "gunicorn.log")
    gunicorn.start("/api/availability?from=2027-03-02&to=2027-03-02")
    try:
        gunicorn.warm("/en/book?start=2027-03-02T09:00", 2 * SERVER_WORKERS)
        yield gunicorn
    finally:
        gunicorn.stop()


@pytest.fixture
def clean_log(server):
    yield
    log = server.log_path.read_text() if server.log_path.exists() else ""
    assert "Traceback" not in log and "[ERROR]" not in log, log[-3000:]


# --- the clients -----------------------------------------------------------------------------------

def _request(host: str, port: int, method: str, path: str, body: bytes | None = None,
             headers: dict | None = None) -> tuple[int, dict, str]:
    connection = http.client.HTTPConnection(host, port, timeout=180)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        text = response.read().decode()
        return response.status, {key.lower(): value for key, value in response.getheaders()}, text
    finally:
        connection.close()


def _prepare(host: str, port: int, job: dict) -> dict:
    """A form job GETs its page first: the session cookie and the CSRF token of that page."""
    if job["kind"] != "form":
        return job
    status, headers, page = _request(host, port, "GET", job["page"])
    if status != 200:
        raise RuntimeError(f"GET {job['page']} answered {status}")
    cookie = headers.get("set-cookie", "").split(";")[0]
    match = TOKEN.search(page)
    if not cookie.startswith("session=") or not match:
        raise RuntimeError(f"no session cookie or CSRF token in GET {job['page']}")
    return {**job, "cookie": cookie, "data": {**job["data"], "csrf_token": match.group(1)}}


def _send(host: str, port: int, job: dict) -> dict:
    try:
        if job["kind"] == "form":
            body = urlencode(job["data"]).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": job["cookie"]}
        else:
            body = json.dumps(job["json"]).encode()
            headers = {"Content-Type": "application/json"}
        status, response_headers, text = _request(host, port, "POST", job["path"], body, headers)
    except Exception as error:  # a refused or broken connection is an error of the test, reported
        return {"id": job["id"], "kind": job["kind"], "status": "exception", "detail": repr(error)}
    outcome = {"id": job["id"], "kind": job["kind"], "status": status, "location": response_headers.get("location")}
    if job["kind"] == "api":
        try:
            outcome["json"] = json.loads(text)
        except ValueError:
            outcome["json"] = None
            outcome["detail"] = text[:500]
    else:
        main = re.search(r"<main.*?</main>", text, re.S)
        outcome["page"] = main.group(0) if main else text[:2000]
    return outcome


def client_process(host: str, port: int, jobs: list[dict], index: int, barrier, results) -> None:
    """One client process: prepares its jobs, waits for the others, then sends all of its jobs at once,
    one thread and one connection each."""
    try:
        prepared = [_prepare(host, port, job) for job in jobs]
        outcomes: list[dict] = []
        lock = threading.Lock()

        def run(job: dict) -> None:
            outcome = _send(host, port, job)
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=run, args=(job,)) for job in prepared]
        barrier.wait(timeout=BARRIER_TIMEOUT)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=240)
        results.put((index, "ok", outcomes))
    except BaseException:
        results.put((index, "error", traceback.format_exc()))


def race(server, jobs: list[dict]) -> list[dict]:
    """All jobs from CLIENT_PROCESSES processes, dealt round robin; every outcome, in job order."""
    assert len(jobs) == REQUESTS
    chunks = [jobs[index::CLIENT_PROCESSES] for index in range(CLIENT_PROCESSES)]
    collected = run_processes(client_process, [(server.host, server.port, chunk, index)
                                               for index, chunk in enumerate(chunks)])
    outcomes = sorted((outcome for _index, _ok, chunk in collected for outcome in chunk), key=lambda o: o["id"])
    assert [outcome["id"] for outcome in outcomes] == [job["id"] for job in jobs]
    return outcomes


def figures(name: str, backend: str, outcomes: list[dict], successes: list[dict], record_testsuite_property) -> dict:
    statuses = Counter(outcome["status"] for outcome in outcomes)
    kinds = Counter(outcome["kind"] for outcome in outcomes)
    errors = sum(1 for outcome in outcomes if outcome["status"] == "exception" or outcome["status"] >= 500)
    result = {"requests": len(outcomes), "api": kinds["api"], "form": kinds["form"], "successes": len(successes),
              "refusals": len(outcomes) - len(successes) - errors, "errors": errors,
              "statuses": dict(sorted((str(k), v) for k, v in statuses.items()))}
    print(f"\n[{backend}] {name}: {result}")
    record_testsuite_property(f"{name} [{backend}]", json.dumps(result))
    return result


def _fresh(session, query) -> list:
    session.commit()  # end any read transaction: on SQLite it would still see the database before the race
    session.expire_all()
    rows = list(session.scalars(query))
    session.commit()
    return rows


def _slot(session, start: str) -> Slot | None:
    found = _fresh(session, sa.select(Slot).where(Slot.start == schedule.to_utc(local(start))))
    return found[0] if found else None


def _confirmed_people(session, start: str) -> int:
    return sum(b.party_size for b in _fresh(session, sa.select(Booking).where(
        Booking.start == schedule.to_utc(local(start)), Booking.status == "confirmed")))


def _reference(location: str | None) -> str | None:
    match = re.search(r"/[bg]/([A-Z]{3}-[0-9A-Z]{6})/", location or "")
    return match.group(1) if match else None


# --- (a) the last places of a slot --------------------------------------------------------------------

def test_the_last_places_of_a_slot(server, clean_log, backend, session, book, record_testsuite_property):
    start = "2027-03-02T10:00"
    for index in range(5):
        book(start, party_size=6, email=f"filler{index}@example.be")  # 30 of 50: 20 places, 10 parties of 2
    jobs = []
    for index in range(REQUESTS):
        name, email = f"Racer {index}", f"racer{index}@example.be"
        if index % 2:
            jobs.append({"id": index, "kind": "api", "path": "/api/bookings", "json": {
                "start": local(start).isoformat(), "party_size": 2, "name": name, "email": email, "language": "en"}})
        else:
            jobs.append({"id": index, "kind": "form", "page": f"/en/book?start={start}", "path": "/en/book",
                         "data": {"start": start, "party_size": "2", "name": name, "email": email, "consent": "y",
                                  "form_id": uuid.uuid4().hex}})
    outcomes = race(server, jobs)

    won = [o for o in outcomes if (o["kind"] == "api" and o["status"] == 201)
           or (o["kind"] == "form" and o["status"] == 302)]
    result = figures("last places of a slot", backend, outcomes, won, record_testsuite_property)
    assert result["errors"] == 0, [o for o in outcomes if o["status"] == "exception" or o["status"] >= 500][:3]
    assert len(won) == 10
    for outcome in outcomes:
        if outcome in won:
            continue
        assert outcome["status"] == 409, outcome
        if outcome["kind"] == "api":
            assert outcome["json"]["error"] == "slot_full", outcome
        else:
            assert SLOT_FULL in outcome["page"] and 'id="start-error"' in outcome["page"], outcome

    answered = {o["json"]["reference"] if o["kind"] == "api" else _reference(o["location"]) for o in won}
    racers = _fresh(session, sa.select(Booking).where(Booking.name.like("Racer %")))
    assert {b.reference for b in racers} == answered and len(racers) == len(won)  # no duplicate, none lost
    slot = _slot(session, start)
    assert slot.booked == slot.capacity == CAPACITY == _confirmed_people(session, start)
    queued = _fresh(session, sa.select(OutboxMessage).where(OutboxMessage.booking_id.in_([b.id for b in racers])))
    assert len(queued) == len(won)  # one confirmation each


# --- (b) the last free guide of an hour ------------------------------------------------------------------

DAY = "2027-03-16"


def test_the_last_free_guide_of_an_hour(server, clean_log, backend, session, guides, request_tour, rules,
                                        record_testsuite_property):
    first = request_tour(f"{DAY}T10:00", pupils=20, adults=2)  # holds one of the two guides 10:00-12:00
    assert len(first.guides) == 1
    session.commit()
    jobs = []
    for index in range(REQUESTS):
        hour = ("10:00", "11:00")[index // 2 % 2]  # every request overlaps the first at 11:00
        email = f"teacher{index}@school.example"
        if index % 2:
            jobs.append({"id": index, "kind": "api", "path": "/api/tour-requests", "json": {
                "kind": "guided", "starts": [local(f"{DAY}T{hour}").isoformat()], "organisation": f"School {index}",
                "postcode": "1070", "contact_name": "Claire Racine", "email": email, "phone": "+32 470 00 00 00",
                "pupils": 10, "adults": 1, "group_kind": "secondary", "tour_language": "fr", "language": "fr"}})
        else:
            jobs.append({"id": index, "kind": "form", "page": "/en/groups", "path": "/en/groups",
                         "data": tour_form(start_1_date=DAY, start_1_time=hour, organisation=f"School {index}",
                                           email=email, pupils="10", adults="1")})
    outcomes = race(server, jobs)

    won = [o for o in outcomes if (o["kind"] == "api" and o["status"] == 201)
           or (o["kind"] == "form" and o["status"] == 302)]
    result = figures("last free guide", backend, outcomes, won, record_testsuite_property)
    assert result["errors"] == 0, [o for o in outcomes if o["status"] == "exception" or o["status"] >= 500][:3]
    assert len(won) == 1
    reasons = Counter()
    for outcome in outcomes:
        if outcome in won:
            continue
        assert outcome["status"] == 409, outcome
        if outcome["kind"] == "api":
            assert outcome["json"]["error"] == "no_time_fits", outcome
            reasons[outcome["json"]["reason"]] += 1
        else:
            assert NO_GUIDE in outcome["page"] or TOO_FULL in outcome["page"], outcome
            reasons["no_guide" if NO_GUIDE in outcome["page"] else "capacity"] += 1
    assert set(reasons) <= {"no_guide", "capacity"} and reasons["no_guide"] > 0, reasons
    print(f"[{backend}] refusal reasons: {dict(reasons)}")

    winner = won[0]
    reference = winner["json"]["reference"] if winner["kind"] == "api" else _reference(winner["location"])
    holding = _fresh(session, sa.select(TourRequest).where(TourRequest.status.in_(TourRequest.HOLDING)))
    assert {t.reference for t in holding} == {first.reference, reference}
    assert len(_fresh(session, sa.select(TourRequest))) == 2  # no refused request stored
    doubles = session.execute(sa.select(GuideAssignment.guide_id, GuideAssignment.start, sa.func.count())
                              .group_by(GuideAssignment.guide_id, GuideAssignment.start)
                              .having(sa.func.count() > 1)).all()
    session.commit()
    assert doubles == []
    eleven = _fresh(session, sa.select(GuideAssignment).where(
        GuideAssignment.start == schedule.to_utc(local(f"{DAY}T11:00"))))
    assert len(eleven) == len(guides) == 2  # both guides held at 11:00, each once
    for hour in ("10:00", "11:00", "12:00"):
        slot = _slot(session, f"{DAY}T{hour}")
        assert slot is None or slot.booked <= slot.capacity
    assert _slot(session, f"{DAY}T11:00").booked == 22 + 11
    queued = _fresh(session, sa.select(OutboxMessage).where(OutboxMessage.tour_id.in_([t.id for t in holding])))
    assert Counter(m.tour_id for m in queued) == {t.id: 2 for t in holding}  # the teacher's and the museum's


# --- (c) moves into a nearly full slot ---------------------------------------------------------------------

def test_moves_into_a_nearly_full_slot(app, server, clean_log, backend, session, book, record_testsuite_property):
    target = "2027-03-02T12:00"
    for index in range(5):
        book(target, party_size=8, email=f"filler{index}@example.be")  # 40 of 50: room for 10 movers of 1
    sources = [f"2027-03-02T{hour:02d}:00" for hour in (9, 10, 11, 13, 14, 15, 16)] + \
              [f"2027-03-03T{hour:02d}:00" for hour in range(9, 17)]  # before and after the target
    movers = [book(sources[index % len(sources)], party_size=1, email=f"mover{index}@example.be")
              for index in range(REQUESTS)]
    before = {source: _slot(session, source).booked for source in sources}
    with app.test_request_context():
        paths = [visit_path(booking) for booking in movers]
    # The cancel question gives the session's CSRF token, which the move form takes too.
    jobs = [{"id": index, "kind": "form", "page": f"{path}/cancel", "path": f"{path}/move",
             "data": {"start": target}} for index, path in enumerate(paths)]
    outcomes = race(server, jobs)

    won = [o for o in outcomes if o["status"] == 302]
    result = figures("moves into a nearly full slot", backend, outcomes, won, record_testsuite_property)
    assert result["errors"] == 0, [o for o in outcomes if o["status"] == "exception" or o["status"] >= 500][:3]
    assert len(won) == 10
    for outcome in outcomes:
        if outcome not in won:
            assert outcome["status"] == 409 and SLOT_FULL in outcome["page"], outcome
    assert all(o["location"].startswith(paths[o["id"]]) for o in won)

    moved_ids = {movers[o["id"]].id for o in won}
    now_at = {b.id: b for b in _fresh(session, sa.select(Booking).where(Booking.id.in_([m.id for m in movers])))}
    assert {i for i, b in now_at.items() if b.start == schedule.to_utc(local(target))} == moved_ids
    assert all(b.status == "confirmed" for b in now_at.values())
    slot = _slot(session, target)
    assert slot.booked == slot.capacity == CAPACITY == _confirmed_people(session, target)
    for source in sources:  # each place left behind was given back, once
        gone = sum(1 for index, booking in enumerate(movers)
                   if booking.id in moved_ids and sources[index % len(sources)] == source)
        assert _slot(session, source).booked == before[source] - gone == _confirmed_people(session, source)
    queued = _fresh(session, sa.select(OutboxMessage).where(OutboxMessage.kind == "visit_moved"))
    assert sorted(m.booking_id for m in queued) == sorted(moved_ids)
