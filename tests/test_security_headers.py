"""Nobody let in: security headers on public, private-link and staff pages; cookie attributes; the
private links' tokens; and names or notes with HTML shown as text on pages and in emails."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from booking.db import Base
from booking.links import tour_path, visit_path
from booking.notifications import deliver
from tests.conftest import signed_in

REPO = Path(__file__).resolve().parent.parent
SCRIPT_NAME = "<script>alert(1)</script>"
HTML_NOTE = '<img src=x onerror="alert(2)"><b>wheelchair</b>'
STRICT_REFERRER = {"no-referrer", "same-origin"}


def csp(response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_locked_down(response) -> None:
    policy = csp(response)
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, policy
    assert "'unsafe-inline'" not in policy.get("style-src", policy.get("default-src")), policy
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in STRICT_REFERRER  # a private link never leaves in a Referer
    page = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"
    assert not re.search(r"\sstyle=", page), "inline style attribute"
    assert not re.search(r"<[^>]+\son[a-z]+=", page), "inline event handler"


def test_public_private_link_and_staff_pages_send_the_security_headers(app, client, book, staff_user):
    booking = book("2027-03-02T10:00")
    with app.test_request_context():
        manage = visit_path(booking)
    pages = {
        "home": client.get("/en/"),
        "booking form": client.get("/en/book?start=2027-03-02T10:00"),
        "manage page": client.get(manage),
        "staff page": signed_in(app, staff_user).get("/staff/requests?lang=en"),
        "staff sign-in": client.get("/staff/login?lang=en"),
        "not found": client.get("/en/nothing-here"),
    }
    for name, response in pages.items():
        assert response.status_code == (404 if name == "not found" else 200), name
        assert_locked_down(response)
    assert pages["staff page"].headers["Cache-Control"] == "no-store"


# --- cookies -------------------------------------------------------------------------------------

def _cookie(response, name: str) -> str:
    found = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.getlist("Set-Cookie")
    return found[0]


@pytest.fixture
def production_cookies(config_overrides) -> dict:
    config_overrides.update({"SESSION_COOKIE_SECURE": True, "REMEMBER_COOKIE_SECURE": True, "WTF_CSRF_ENABLED": True})
    return config_overrides


def test_session_and_remember_cookies_are_httponly_lax_and_secure(production_cookies, app, client, staff_user):
    session_cookie = _cookie(client.get("/en/book?start=2027-03-02T10:00"), "session")  # holds the CSRF secret
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in session_cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite"} <= set(attributes)
    assert attributes["samesite"] == "SameSite=Lax"

    from flask_login import login_user

    with app.test_request_context("/staff/login", method="POST"):
        login_user(staff_user, remember=True)
        response = app.process_response(app.make_response("signed in"))
    remember = _cookie(response, "remember_token")
    assert "HttpOnly" in remember and "Secure" in remember and "SameSite=Lax" in remember


@pytest.mark.parametrize(("environment", "expected"), [(None, "True True"), ("false", "False False")])
def test_cookies_are_secure_unless_the_environment_says_otherwise(environment, expected):
    """The default is production's; `make run` and the tests set SESSION_COOKIE_SECURE=false."""
    env = {key: value for key, value in os.environ.items() if key != "SESSION_COOKIE_SECURE"}
    if environment is not None:
        env["SESSION_COOKIE_SECURE"] = environment
    output = subprocess.run(
        [sys.executable, "-c", "import config; c = config.Config; print(c.SESSION_COOKIE_SECURE, "
                               "c.REMEMBER_COOKIE_SECURE, c.SESSION_COOKIE_HTTPONLY, c.SESSION_COOKIE_SAMESITE)"],
        cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert " ".join(output[:2]) == expected and output[2:] == ["True", "Lax"]
    assert re.search(r"SESSION_COOKIE_SECURE=false \$\(FLASK\) run", (REPO / "Makefile").read_text())


# --- private links ---------------------------------------------------------------------------------

def test_link_tokens_have_128_bits_or_more_and_only_the_right_one_opens_the_page(app, client, session, book,
                                                                                 monkeypatch):
    first, second = book("2027-03-02T10:00"), book("2027-03-02T11:00", email="luc@example.be")
    with app.test_request_context():
        path, other_path = visit_path(first), visit_path(second)
    token, other_token = path.rsplit("/", 1)[1], other_path.rsplit("/", 1)[1]
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128

    import hmac

    compared = []
    real_compare = hmac.compare_digest
    monkeypatch.setattr("booking.tokens.hmac.compare_digest",
                        lambda a, b: compared.append(1) or real_compare(a, b))
    assert client.get(path).status_code == 200
    assert compared, "the token is compared in constant time"

    base = path.rsplit("/", 1)[0]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for wrong in (other_token, flipped, token[:-1], token + "A", token.upper(), ""):
        response = client.get(f"{base}/{wrong}")
        assert response.status_code == 404, wrong
        assert client.post(f"{base}/{wrong}/cancel").status_code in (404, 405)
    session.expire_all()
    assert session.get(type(first), first.id).status == "confirmed"
    session.commit()

    # Nothing to steal: no column of any table holds a token.
    for table in Base.metadata.sorted_tables:
        for row in session.execute(sa.select(table)).all():
            assert not any(token in str(value) or other_token in str(value) for value in row), table.name
    session.commit()


# --- HTML in names and notes ------------------------------------------------------------------------

def assert_shown_as_text(page: str, *texts: str) -> None:
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for text in texts:
        assert text not in page


def test_html_in_a_name_or_note_is_text_on_the_manage_and_staff_pages(app, client, session, book, guides,
                                                                      request_tour, staff_user):
    booking = book("2027-03-02T10:00", name=SCRIPT_NAME, note=HTML_NOTE)
    tour = request_tour("2027-03-16T10:00", organisation=SCRIPT_NAME)
    session.commit()
    with app.test_request_context():
        manage, tour_page = visit_path(booking), tour_path(tour)
    page = client.get(manage).get_data(as_text=True)
    assert_shown_as_text(page, HTML_NOTE)
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;&lt;b&gt;wheelchair&lt;/b&gt;" in page
    assert_shown_as_text(client.get(tour_page).get_data(as_text=True))
    staff = signed_in(app, staff_user)
    assert_shown_as_text(staff.get("/staff/requests?lang=en").get_data(as_text=True))


def test_html_in_a_name_is_text_in_both_parts_of_the_emails(smtp_server, smtp_config, app, session, book, guides,
                                                             request_tour, clock):
    book("2027-03-02T10:00", name=SCRIPT_NAME, note=HTML_NOTE)
    request_tour("2027-03-16T10:00", organisation=SCRIPT_NAME)
    session.commit()
    report = deliver(session, clock.now())
    messages = smtp_server.wait_for(3)
    assert len(report.sent) == len(messages) == 3  # the visit, the teacher's and the museum's
    for message in messages:
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert SCRIPT_NAME in text  # plain text shows what was typed, as text
        assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        # The one image is the reference's QR code, embedded (cid:); the typed one is text.
        assert all(src.startswith("cid:") for src in re.findall(r'<img src="([^"]*)"', html))
        assert len(re.findall(r"<img", html)) == len(re.findall(r'<img src="cid:', html)) <= 1

