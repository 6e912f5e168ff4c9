"""Abuse: rate limits per client address (shared through Redis by several app processes), the
trusted-proxy setting, the honeypot field of the public forms, and the cap of bookings per email."""

from __future__ import annotations

import re
import uuid

import pytest
import redis
import sqlalchemy as sa

from booking import create_app
from booking.extensions import rate_limits
from booking.models import Booking, OutboxMessage, TourRequest
from booking.services.bookings import VisitRequest, book_visit
from booking.views.staff import PUBLIC_ENDPOINTS
from tests.conftest import BufferedClient, local
from tests.test_tour_pages import tour_form

REDIS_URL = "redis://127.0.0.1:6379"
# Each public POST's limit: the views declare it (@rate_limited); this list says what they must declare.
LIMITED_POSTS = {
    "public.book": "RATELIMIT_BOOKING",
    "api.create_booking": "RATELIMIT_BOOKING",
    "public.waitlist": "RATELIMIT_BOOKING",
    "public.groups": "RATELIMIT_GROUP_REQUEST",
    "api.create_tour_request": "RATELIMIT_GROUP_REQUEST",
    "links.cancel": "RATELIMIT_MANAGE",
    "links.move": "RATELIMIT_MANAGE",
    "links.accept_proposal": "RATELIMIT_MANAGE",
    "links.refuse_proposal": "RATELIMIT_MANAGE",
    "links.cancel_request": "RATELIMIT_MANAGE",
    "links.accept_waitlist_offer": "RATELIMIT_MANAGE",
    "links.leave_waitlist_page": "RATELIMIT_MANAGE",
    "links.final_numbers": "RATELIMIT_MANAGE",
    "links.erase": "RATELIMIT_MANAGE",
    "links.erase_tour": "RATELIMIT_MANAGE",
    "links.guide_unavailable": "RATELIMIT_MANAGE",
    "links.guide_available": "RATELIMIT_MANAGE",
    "public.lost_link": "RATELIMIT_SIGN_IN",
    "staff.login": "RATELIMIT_SIGN_IN",
    "staff.forgot_password": "RATELIMIT_SIGN_IN",
    "staff.reset_password": "RATELIMIT_SIGN_IN",
}
LIMIT_SETTINGS = sorted(set(LIMITED_POSTS.values()))


def visit_form(**changes) -> dict:
    data = {"start": "2027-03-02T10:00", "party_size": "2", "name": "Anne Martin", "email": "anne@example.be",
            "note": "", "consent": "y", "form_id": uuid.uuid4().hex}
    data.update(changes)
    return data


def visit_json(**changes) -> dict:
    body = {"start": "2027-03-02T10:00:00+01:00", "party_size": 2, "name": "Anne Martin",
            "email": "anne@example.be", "language": "en"}
    body.update(changes)
    return body


def rows(session, model) -> list:
    session.expire_all()
    found = list(session.scalars(sa.select(model)))
    session.commit()
    return found


@pytest.fixture
def limited(config_overrides) -> dict:
    """Rate limits on, every public POST limited to 2 an hour per address, in this process's memory."""
    config_overrides.update({"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                             **{setting: "2/hour" for setting in LIMIT_SETTINGS}})
    return config_overrides


# --- rate limits ---------------------------------------------------------------------------------

def test_every_public_post_route_has_a_limit(app):
    """A public POST added later without a limit fails here: pages, private links, API, staff sign-in."""
    public_posts = {rule.endpoint for rule in app.url_map.iter_rules()
                    if "POST" in (rule.methods or ()) and (
                        rule.endpoint.split(".")[0] in {"public", "links", "api"} or rule.endpoint in PUBLIC_ENDPOINTS)}
    assert {"public.book", "public.groups", "links.cancel", "links.move", "links.accept_proposal",
            "links.refuse_proposal", "links.cancel_request", "api.create_booking", "api.create_tour_request",
            "staff.login"} <= public_posts
    assert public_posts <= set(rate_limits(app)), public_posts - set(rate_limits(app))


def test_each_limited_view_keeps_its_limit_and_its_budget(app):
    """A view that loses its @rate_limited, or moves to another budget, fails here."""
    assert rate_limits(app) == LIMITED_POSTS


def _post_any(client, endpoint: str, environ: dict | None = None):
    """One POST to `endpoint` with a body of the right shape; what it answers besides 429 does not matter."""
    environ = environ or {}
    paths = {
        "public.book": ("/en/book", visit_form(start="2027-03-06T10:00")),  # a Saturday: refused, counted
        "public.groups": ("/en/groups", tour_form(pupils="")),
        "links.cancel": ("/b/NMR-AAAAAA/not-a-token/cancel", {}),
        "links.move": ("/b/NMR-AAAAAA/not-a-token/move", {"start": "2027-03-02T10:00"}),
        "links.accept_proposal": ("/g/GRP-AAAAAA/not-a-token/accept", {}),
        "links.refuse_proposal": ("/g/GRP-AAAAAA/not-a-token/refuse", {}),
        "links.cancel_request": ("/g/GRP-AAAAAA/not-a-token/cancel", {}),
        "staff.login": ("/staff/login", {"email": "nobody@museum.example", "password": "wrong"}),
        "staff.forgot_password": ("/staff/password/forgot", {"email": "nobody@museum.example"}),
        "staff.reset_password": ("/staff/password/reset/not-a-token", {"password": "x", "confirm": "x"}),
        "public.waitlist": ("/en/waitlist", {"start": "2027-03-06T10:00"}),
        "public.lost_link": ("/en/lost-link", {"email": "nobody@example.be"}),
        "links.accept_waitlist_offer": ("/w/WL-AAAAAA/not-a-token/accept", {}),
        "links.leave_waitlist_page": ("/w/WL-AAAAAA/not-a-token/leave", {}),
        "links.final_numbers": ("/g/GRP-AAAAAA/not-a-token/numbers", {"pupils": "10", "adults": "1"}),
        "links.erase": ("/b/NMR-AAAAAA/not-a-token/delete", {}),
        "links.erase_tour": ("/g/GRP-AAAAAA/not-a-token/delete", {}),
        "links.guide_unavailable": ("/guide/1-not-a-token/unavailable", {"day": "2027-03-16", "part": "day"}),
        "links.guide_available": ("/guide/1-not-a-token/unavailable/1/remove", {}),
    }
    if endpoint == "api.create_booking":
        return client.post("/api/bookings", json=visit_json(start="2027-03-06T10:00:00+01:00"),
                           environ_base=environ)
    if endpoint == "api.create_tour_request":
        return client.post("/api/tour-requests", json={"language": "en"}, environ_base=environ)
    path, data = paths[endpoint]
    return client.post(path, data=data, environ_base=environ)


@pytest.mark.parametrize("endpoint", sorted(LIMITED_POSTS))
def test_each_public_post_is_refused_after_its_limit_per_address(limited, app, endpoint):
    client = app.test_client()
    first, second = (_post_any(client, endpoint) for _ in range(2))
    assert first.status_code != 429 and second.status_code != 429
    third = _post_any(client, endpoint)
    assert third.status_code == 429
    assert 3500 <= int(third.headers["Retry-After"]) <= 3600  # "2/hour": the window opened just now
    other_address = _post_any(client, endpoint, {"REMOTE_ADDR": "192.0.2.44"})
    assert other_address.status_code != 429  # per address: someone else is not blocked


def test_the_booking_form_and_the_api_share_one_budget_and_reading_pages_is_not_limited(limited, client):
    for _ in range(5):
        assert client.get("/en/book?start=2027-03-02T10:00").status_code == 200
    assert client.post("/en/book", data=visit_form(email="a@example.be")).status_code == 302
    assert client.post("/api/bookings", json=visit_json(email="b@example.be")).status_code == 201
    refused = client.post("/api/bookings", json=visit_json(email="c@example.be"))
    assert refused.status_code == 429
    assert client.post("/en/book", data=visit_form(email="d@example.be")).status_code == 429
    assert client.get("/en/book?start=2027-03-02T10:00").status_code == 200


def test_the_429_page_speaks_the_visitors_language_and_says_when_to_retry(limited, client, session):
    for _ in range(2):
        client.post("/fr/book", data=visit_form(start="2027-03-06T10:00"))
    response = client.post("/fr/book", data=visit_form(email="late@example.be"))
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert '<html lang="fr"' in page
    assert re.search(r"Veuillez réessayer dans 1\s+heure\.", page)  # in French, the delay from the locale data
    assert response.headers["Content-Type"].startswith("text/html")
    assert rows(session, Booking) == []  # refused before the booking was made


def test_the_api_answers_429_in_json_with_retry_after(limited, client):
    for _ in range(2):
        client.post("/api/bookings", json=visit_json(start="2027-03-06T10:00:00+01:00"))
    response = client.post("/api/bookings", json=visit_json())
    assert response.status_code == 429
    body = response.get_json()
    assert body["error"] == "rate_limited"
    assert body["retry_after"] == int(response.headers["Retry-After"]) > 0


def _redis_app(config_overrides: dict, prefix: str):
    app = create_app({**config_overrides, "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix})
    app.test_client_class = BufferedClient
    return app


def test_two_app_processes_share_their_counts_through_redis(limited, app):
    """Two apps, as two gunicorn workers would be: with Redis the third booking post is refused by
    either; with memory storage each would count alone (the second app lets it through)."""
    prefix = f"test-{uuid.uuid4().hex}"
    first, second = _redis_app(limited, prefix), _redis_app(limited, prefix)
    server = redis.Redis.from_url(REDIS_URL)
    try:
        assert first.extensions["rate_limiter"] is not second.extensions["rate_limiter"]
        one, two = first.test_client(), second.test_client()
        assert one.post("/api/bookings", json=visit_json(start="2027-03-06T10:00:00+01:00")).status_code == 422
        assert two.post("/api/bookings", json=visit_json(start="2027-03-06T10:00:00+01:00")).status_code == 422
        assert one.post("/api/bookings", json=visit_json()).status_code == 429
        assert two.post("/api/bookings", json=visit_json()).status_code == 429
        assert any(server.scan_iter(match=f"*{prefix}*"))  # the counts live in Redis

        # The same with each app's own memory: the second app has not seen the first one's posts.
        alone = [create_app({**limited, "RATELIMIT_STORAGE_URI": "memory://"}) for _ in range(2)]
        for _ in range(2):
            alone[0].test_client().post("/api/bookings", json=visit_json(start="2027-03-06T10:00:00+01:00"))
        assert alone[0].test_client().post("/api/bookings", json=visit_json()).status_code == 429
        assert alone[1].test_client().post("/api/bookings", json=visit_json()).status_code == 201
        for each in alone:
            each.extensions["booking"].engine.dispose()
    finally:
        for key in server.scan_iter(match=f"*{prefix}*"):
            server.delete(key)
        server.close()
        for each in (first, second):
            each.extensions["booking"].engine.dispose()


def test_an_unreachable_limit_storage_does_not_stop_bookings(limited, session):
    app = create_app({**limited, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1"})  # nothing listens there
    try:
        response = app.test_client().post("/api/bookings", json=visit_json())
        assert response.status_code == 201
    finally:
        app.extensions["booking"].engine.dispose()


# --- the client's address behind proxies ----------------------------------------------------------

def test_without_trusted_proxies_x_forwarded_for_is_ignored(limited, client):
    assert client.application.config["TRUSTED_PROXIES"] == 0
    for index in range(2):
        client.post("/api/bookings", json=visit_json(start="2027-03-06T10:00:00+01:00"),
                    headers={"X-Forwarded-For": f"198.51.100.{index}"})
    refused = client.post("/api/bookings", json=visit_json(), headers={"X-Forwarded-For": "198.51.100.99"})
    assert refused.status_code == 429  # a new header each time does not make a new visitor


@pytest.fixture
def behind_one_proxy(limited) -> dict:
    limited["TRUSTED_PROXIES"] = 1
    return limited


def test_with_one_trusted_proxy_the_last_hop_is_the_client(behind_one_proxy, client):
    proxy = {"REMOTE_ADDR": "10.0.0.1"}  # every request arrives from the proxy
    for forged in ("203.0.113.1", "203.0.113.2"):  # what the client wrote itself, before the proxy's hop
        response = client.post("/api/bookings", json=visit_json(start="2027-03-06T10:00:00+01:00"),
                               headers={"X-Forwarded-For": f"{forged}, 198.51.100.7"}, environ_base=proxy)
        assert response.status_code == 422
    same_client = client.post("/api/bookings", json=visit_json(),
                              headers={"X-Forwarded-For": "203.0.113.3, 198.51.100.7"}, environ_base=proxy)
    assert same_client.status_code == 429
    other_client = client.post("/api/bookings", json=visit_json(),
                               headers={"X-Forwarded-For": "198.51.100.8"}, environ_base=proxy)
    assert other_client.status_code == 201


# --- the honeypot --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/en/book?start=2027-03-02T10:00", "/en/groups"])
def test_the_honeypot_is_hidden_from_people_and_says_to_leave_it_empty(client, path):
    page = client.get(path).get_data(as_text=True)
    wrapper = re.search(r'<div class="hp-field" aria-hidden="true">(.*?)</div>', page, re.S)
    assert wrapper, "the honeypot's wrapper"
    field = re.search(r"<input[^>]*>", wrapper.group(1)).group(0)
    assert 'name="website"' in field and 'tabindex="-1"' in field and 'autocomplete="off"' in field
    assert 'value=""' in field and "style=" not in wrapper.group(0)
    assert re.search(r'<label for="website">Leave this field empty</label>', wrapper.group(1))
    css = client.get("/static/style.css").get_data(as_text=True)
    assert re.search(r"\.hp-field \{[^}]*left: -10000px", css)


def test_a_filled_honeypot_books_nothing_and_answers_like_any_unsent_form(client, session):
    response = client.post("/en/book", data=visit_form(website="http://spam.example"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Your form could not be sent. Please check your details and send it again." in page
    assert "spam.example" not in page  # shown empty again
    assert 'value="Anne Martin"' in page  # what a person typed is kept
    assert rows(session, Booking) == [] and rows(session, OutboxMessage) == []
    # A person whose browser filled it in sends the form again and books.
    assert client.post("/en/book", data=visit_form()).status_code == 302
    assert len(rows(session, Booking)) == 1


def test_a_filled_honeypot_requests_no_group_visit(client, session, guides):
    response = client.post("/en/groups", data=tour_form(website="buy-now"))
    assert response.status_code == 422
    assert "Your form could not be sent." in response.get_data(as_text=True)
    assert rows(session, TourRequest) == [] and rows(session, OutboxMessage) == []
    assert client.post("/en/groups", data=tour_form()).status_code == 302


# --- bookings per email per day ------------------------------------------------------------------

def test_an_email_holds_at_most_three_active_bookings_a_day(app, client, session, rules, clock):
    assert app.config["MAX_BOOKINGS_PER_EMAIL_PER_DAY"] == 3
    for hour, email in (("09", "anne@example.be"), ("10", "Anne@Example.be"), ("11", "ANNE@example.be")):
        assert client.post("/en/book", data=visit_form(start=f"2027-03-02T{hour}:00", email=email)).status_code == 302
    refused = client.post("/en/book", data=visit_form(start="2027-03-02T14:00", email=" anne@EXAMPLE.be"))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    error = re.search(r'<p class="error" id="email-error">([^<]*)</p>', page)
    assert error and "already has 3 bookings on this day" in error.group(1)
    assert 'aria-describedby="email-hint email-error"' in page
    api = client.post("/api/bookings", json=visit_json(start="2027-03-02T15:00:00+01:00"))
    assert api.status_code == 422
    assert "already has 3 bookings on this day" in api.get_json()["errors"]["email"]

    assert len(rows(session, Booking)) == 3
    # Another day is another count; a cancelled booking no longer counts.
    assert client.post("/api/bookings", json=visit_json(start="2027-03-03T10:00:00+01:00")).status_code == 201
    from booking.services.bookings import cancel_booking

    first = min(rows(session, Booking), key=lambda b: b.start)
    cancel_booking(session, rules, clock.now(), first.id)
    assert client.post("/api/bookings", json=visit_json(start="2027-03-02T15:00:00+01:00")).status_code == 201
    # Staff desk bookings (no cap given to the service) are not counted against.
    booking, created = book_visit(session, rules, clock.now(), VisitRequest(
        start=local("2027-03-02T16:00"), party_size=2, name="Anne Martin", email="anne@example.be", language="en"))
    assert created and booking.status == "confirmed"


@pytest.fixture
def one_a_day(config_overrides) -> dict:
    config_overrides["MAX_BOOKINGS_PER_EMAIL_PER_DAY"] = 1
    return config_overrides


def test_the_cap_is_a_setting(one_a_day, client):
    assert client.post("/api/bookings", json=visit_json()).status_code == 201
    refused = client.post("/api/bookings", json=visit_json(start="2027-03-02T11:00:00+01:00"))
    assert refused.status_code == 422
    assert "already has 1 booking on this day" in refused.get_json()["errors"]["email"]
    # The same request again is not a new booking: the Idempotency-Key answers before the cap.
    key = {"Idempotency-Key": "retry-1"}
    again = [client.post("/api/bookings", json=visit_json(email="luc@example.be"), headers=key) for _ in range(2)]
    assert [response.status_code for response in again] == [201, 201]
    assert again[0].get_json()["reference"] == again[1].get_json()["reference"]
