"""Every staff route refuses a visitor who is not signed in, every admin route refuses plain staff,
and every staff form refuses a POST without its CSRF token.

The routes are read from the app's URL map, so a page added later is covered without editing this file.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa
from flask import url_for

from booking.models import AuditEntry, StaffUser
from booking.views.staff import ADMIN_ENDPOINTS, PUBLIC_ENDPOINTS
from tests.conftest import STAFF_PASSWORD, csrf_token, signed_in

# The admin pages of the accounts area; the test fails if the URL map stops listing any of them.
ACCOUNTS_ADMIN_ENDPOINTS = {"staff.accounts", "staff.account_role", "staff.account_disable",
                            "staff.account_enable", "staff.account_unlock", "staff.account_reset", "staff.audit"}
ACCOUNTS_PUBLIC_ENDPOINTS = {"staff.login", "staff.forgot_password", "staff.reset_password"}

# Values tried for a URL variable, the first its converter accepts wins.
_CANDIDATES = [1, "2027-03-01", "MR-ABC123", "x", uuid.UUID(int=1), dt.date(2027, 3, 1)]


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Cheap password hashes for test accounts (scrypt costs a tenth of a second on purpose)."""
    from booking.services import staff

    real = staff.generate_password_hash
    monkeypatch.setattr(staff, "generate_password_hash", lambda password: real(password, method="pbkdf2:sha256:1000"))


def _dummy_value(converter):
    for candidate in _CANDIDATES:
        try:
            text = converter.to_url(candidate)
        except (TypeError, ValueError, AttributeError):
            continue
        if re.fullmatch(converter.regex, text):
            return candidate
    raise AssertionError(f"no dummy value fits converter {converter!r}")


def staff_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every staff route, variables filled with dummy values."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("staff."):
                continue
            values = {name: _dummy_value(converter) for name, converter in rule._converters.items()}
            url = url_for(rule.endpoint, **values)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                routes.append((rule.endpoint, method, url))
    return routes


def _refused(response) -> bool:
    if response.status_code == 403:
        return True
    return response.status_code == 302 and urlparse(response.headers["Location"]).path == "/staff/login"


def test_the_enumeration_covers_the_admin_and_public_pages(app):
    endpoints = {endpoint for endpoint, _method, _url in staff_routes(app)}
    assert ACCOUNTS_ADMIN_ENDPOINTS <= ADMIN_ENDPOINTS
    assert endpoints >= ADMIN_ENDPOINTS
    assert ACCOUNTS_PUBLIC_ENDPOINTS <= PUBLIC_ENDPOINTS <= endpoints
    assert endpoints >= ACCOUNTS_ADMIN_ENDPOINTS
    assert {"staff.account", "staff.logout", "staff.index"} <= endpoints
    assert not ADMIN_ENDPOINTS & PUBLIC_ENDPOINTS


def test_every_staff_route_refuses_an_anonymous_visitor(app, client, db_session, staff_user, admin_user):
    routes = [route for route in staff_routes(app) if route[0] not in PUBLIC_ENDPOINTS]
    assert len({endpoint for endpoint, _m, _u in routes}) >= len(ACCOUNTS_ADMIN_ENDPOINTS) + 2
    answered = {(endpoint, method): client.open(url, method=method) for endpoint, method, url in routes}
    leaks = {key: response.status_code for key, response in answered.items() if not _refused(response)}
    assert leaks == {}
    db_session.rollback()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_every_admin_route_refuses_a_staff_member(app, db_session, staff_user, admin_user):
    client = signed_in(app, staff_user)
    routes = [route for route in staff_routes(app) if route[0] in ADMIN_ENDPOINTS]
    assert {endpoint for endpoint, _m, _u in routes} >= ACCOUNTS_ADMIN_ENDPOINTS
    answered = {(endpoint, method): client.open(url, method=method).status_code for endpoint, method, url in routes}
    assert {key: status for key, status in answered.items() if status != 403} == {}
    # Nothing an admin route does happened: the admin is still an active admin, and the log holds
    # nothing but the staff member's sign-in.
    db_session.rollback()
    admin = db_session.get(StaffUser, admin_user.id)
    assert (admin.role, admin.active) == ("admin", True)
    assert db_session.scalars(sa.select(AuditEntry.action)).all() == ["staff.sign_in"]


def test_the_public_staff_pages_open_without_a_session(client):
    assert client.get("/staff/login").status_code == 200
    assert client.get("/staff/password/forgot").status_code == 200
    assert client.get("/staff/password/reset/not-a-token").status_code == 404


# --- CSRF ------------------------------------------------------------------------------------------

@pytest.fixture
def csrf_app(config_overrides, request):
    config_overrides["WTF_CSRF_ENABLED"] = True
    return request.getfixturevalue("app")


def test_staff_forms_refuse_a_post_without_or_with_a_forged_csrf_token(csrf_app, db_session, staff_user, admin_user):
    app = csrf_app
    anonymous = app.test_client()
    credentials = {"email": staff_user.email, "password": STAFF_PASSWORD}
    assert anonymous.post("/staff/login", data=credentials).status_code == 400

    staff = signed_in(app, staff_user, with_csrf=True)
    admin = signed_in(app, admin_user, with_csrf=True)
    new_password = {"current_password": STAFF_PASSWORD, "password": "a brand new secret",
                    "confirm": "a brand new secret"}
    new_account = {"email": "new@museum.example", "name": "New", "role": "admin"}
    for token in (None, "forged-token", csrf_token(anonymous, "/staff/login")):
        extra = {} if token is None else {"csrf_token": token}
        assert staff.post("/staff/account", data={**new_password, **extra}).status_code == 400
        assert admin.post("/staff/accounts", data={**new_account, **extra}).status_code == 400
        assert admin.post(f"/staff/accounts/{staff_user.id}/disable", data=extra).status_code == 400
        assert admin.post(f"/staff/accounts/{staff_user.id}/role", data={"role": "admin", **extra}).status_code == 400
        assert staff.post("/staff/logout", data=extra).status_code == 400

    db_session.rollback()
    staff_row = db_session.get(StaffUser, staff_user.id)
    assert (staff_row.password_hash, staff_row.active, staff_row.role) == (staff_user.password_hash, True, "staff")
    assert db_session.scalar(sa.select(StaffUser.id).where(StaffUser.email == "new@museum.example")) is None
    assert staff.get("/staff/account").status_code == 200  # still signed in: the logout was refused too

    # With the page's own token, the same change goes through.
    token = csrf_token(staff, "/staff/account")
    assert staff.post("/staff/account", data={**new_password, "csrf_token": token}).status_code == 302
