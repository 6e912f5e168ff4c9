"""CSRF on every HTML form: each POST route of the pages, the private links and the staff back office
(found in the URL map, so a new route is covered at once) refuses a missing or forged token with a
400 page that says what happened, and changes nothing in the database. The JSON API needs no token
(no cookies; tests/test_api.py)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from booking import create_app
from booking.db import Base
from booking.links import tour_path, visit_path
from tests.conftest import STAFF_PASSWORD, BufferedClient, csrf_token, signed_in
from tests.test_tour_pages import tour_form

HTML_BLUEPRINTS = {"public", "links", "staff"}
EXPIRED = "This form has expired. Please check your details and send it again."


@pytest.fixture
def config_overrides(config_overrides):
    return {**config_overrides, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def web(app, config_overrides):
    """The app the clients talk to: a second instance on the same database. The `session` fixture keeps
    an app context open on `app`, and requests inside it would share flask.g, where Flask-WTF caches
    the token, so every client would get the first client's token."""
    web = create_app(config_overrides)
    web.test_client_class = BufferedClient
    yield web
    web.extensions["booking"].engine.dispose()


def snapshot(session) -> dict[str, list]:
    """Every row of every table, to compare before and after."""
    session.expire_all()
    tables = {table.name: sorted(tuple(str(value) for value in row)
                                 for row in session.execute(sa.select(table)).all())
              for table in Base.metadata.sorted_tables}
    session.commit()
    return tables


@pytest.fixture
def world(app, session, book, guides, request_tour, admin_user):
    """A booking and a group request for the routes to act on, and the private paths of both."""
    booking = book("2027-03-02T10:00", party_size=2)
    tour = request_tour("2027-03-16T10:00", pupils=20)
    session.commit()
    with app.test_request_context():
        return {"visit": visit_path(booking), "tour": tour_path(tour), "booking": booking, "tour_request": tour,
                "admin": admin_user}


def post_routes(app) -> list:
    return sorted((rule for rule in app.url_map.iter_rules()
                   if "POST" in (rule.methods or ()) and rule.endpoint.split(".")[0] in HTML_BLUEPRINTS),
                  key=lambda rule: rule.rule)


def path_for(rule, world) -> str:
    """The route's path for the world's booking or tour (the private links with their real token)."""
    parts = world["tour"].strip("/").split("/") if rule.rule.startswith("/g/") else world["visit"].strip("/").split("/")
    values = {}
    for name in rule.arguments:
        if name == "lang":
            values[name] = "en"
        elif name == "reference":
            values[name] = parts[1]
        elif name == "token":
            values[name] = parts[2]
        elif isinstance(rule._converters.get(name), IntegerConverter):
            values[name] = world["tour_request"].id if "tour" in name else world["booking"].id
        else:
            values[name] = "x"
    return rule.build(values, append_unknown=False)[1]


def body_for(endpoint: str) -> dict:
    """What a real form would send to the route: valid input, so only the token can refuse it."""
    if endpoint == "public.book":
        return {"start": "2027-03-03T10:00", "party_size": "2", "name": "Luc Peeters", "email": "luc@example.be",
                "consent": "y", "form_id": uuid.uuid4().hex}
    if endpoint == "public.groups":
        return tour_form()
    if endpoint == "staff.login":
        return {"email": "admin@museum.example", "password": STAFF_PASSWORD}
    return {"start": "2027-03-02T11:00", "reason": "Staff training", "message": "Sorry", "date": "2027-03-17",
            "time": "10:00"}


def forged_token(app) -> str:
    """A well-formed token signed with another secret: what an attacker's own site could produce."""
    other = create_app({"SECRET_KEY": "another-secret-of-at-least-32-characters",
                        "DATABASE_URL": app.config["DATABASE_URL"], "CLOCK": app.extensions["booking"].clock})
    with other.test_request_context():
        from flask_wtf.csrf import generate_csrf

        token = generate_csrf()
    other.extensions["booking"].engine.dispose()
    return token


def test_every_html_post_route_refuses_a_missing_or_forged_token_and_changes_nothing(web, session, world):
    routes = post_routes(web)
    endpoints = {rule.endpoint for rule in routes}
    assert {"public.book", "public.groups", "links.cancel", "links.move", "links.accept_proposal",
            "links.refuse_proposal", "links.cancel_request", "staff.login", "staff.logout"} <= endpoints
    assert len([e for e in endpoints if e.startswith("staff.")]) >= 5  # the decisions on tour requests too

    staff = signed_in(web, world["admin"], with_csrf=True)
    visitor = web.test_client()
    csrf_token(visitor, "/en/book?start=2027-03-03T10:00")  # the visitor has a session with its own secret
    someone_else = web.test_client()
    tokens = {"forged": forged_token(web),
              "another visitor's": csrf_token(someone_else, "/en/book?start=2027-03-03T10:00")}
    before = snapshot(session)
    checked = []
    for rule in routes:
        path = path_for(rule, world)
        client = staff if rule.endpoint.startswith("staff.") else visitor
        for label, token in [("missing", None), *tokens.items()]:
            data = body_for(rule.endpoint) | ({"csrf_token": token} if token else {})
            response = client.post(path, data=data)
            assert response.status_code == 400, (rule.endpoint, label, response.status_code)
            page = response.get_data(as_text=True)
            assert EXPIRED in page, (rule.endpoint, label)
            checked.append((rule.endpoint, label))
        assert snapshot(session) == before, rule.endpoint
    # The staff member is still signed in: a logout without its token did not sign them out.
    assert staff.get("/staff/requests?lang=en").status_code == 200
    print(f"CSRF: {len(routes)} HTML POST routes x 3 bad tokens = {len(checked)} posts refused with 400, "
          "database unchanged")
    assert len(checked) == 3 * len(routes)


def test_the_same_posts_go_through_with_the_real_token(web, session, world):
    """The control: the refusals above come from the token, not from the test's bodies."""
    visitor = web.test_client()
    token = csrf_token(visitor, "/en/book?start=2027-03-03T10:00")
    assert visitor.post("/en/book", data={**body_for("public.book"), "csrf_token": token}).status_code == 302
    cancel = visitor.post(world["visit"] + "/cancel", data={"csrf_token": token})
    assert cancel.status_code == 302
    session.expire_all()
    assert session.get(type(world["booking"]), world["booking"].id).status == "cancelled"
    session.commit()
