"""Staff accounts: signing in and out, the lockout, forgotten and changed passwords, what admins do
to accounts, and the audit log page."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from booking.models import AuditEntry, OutboxMessage, StaffUser
from booking.services import audit, passwords
from booking.services import staff as service
from tests.conftest import NOW, STAFF_PASSWORD, sign_in, signed_in
from tests.smtp import plain_text

BASE_URL = "http://museum.test"
RESET_LINK = re.compile(re.escape(BASE_URL) + r"(/staff/password/reset/[\w.-]+)\?lang=(\w\w)")
NEW_PASSWORD = "a new and long secret"
SAME_ANSWER = "If an account exists for this address, we have sent it a link"


@pytest.fixture
def mail(smtp_config, smtp_server):
    """The loopback SMTP server, with the app (built after this fixture) sending through it."""
    return smtp_server


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Scrypt takes a tenth of a second per hash on purpose; these tests sign in dozens of times.
    test_passwords_are_stored_with_scrypt checks the real default."""
    real = service.generate_password_hash
    monkeypatch.setattr(service, "generate_password_hash",
                        lambda password: real(password, method="pbkdf2:sha256:1000"))


def forget(db_session) -> None:
    """End the test's read transaction and drop what it cached: the next query reads the database."""
    db_session.rollback()
    db_session.expire_all()


def fresh(db_session, user: StaffUser) -> StaffUser:
    """The account as the database has it now."""
    forget(db_session)
    return db_session.get(StaffUser, user.id)


def actions(db_session) -> list[str]:
    forget(db_session)
    return list(db_session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def page(response) -> str:
    return response.get_data(as_text=True)


def reset_path(message: EmailMessage) -> str:
    match = RESET_LINK.search(plain_text(message))
    assert match, plain_text(message)
    return match.group(1) + "?lang=" + match.group(2)


def only_email(mail, recipient: str) -> EmailMessage:
    messages = mail.wait_for(1)
    assert len(messages) == 1, [m["To"] for m in messages]
    assert messages[0]["To"] == recipient
    return messages[0]


# --- signing in ------------------------------------------------------------------------------------

def test_signing_in_records_the_time_and_the_audit_log(app, client, db_session, staff_user):
    response = sign_in(client, staff_user.email.upper())
    assert response.status_code == 302
    assert fresh(db_session, staff_user).last_login_at == NOW
    assert actions(db_session) == ["staff.sign_in"]
    assert client.get("/staff/account?lang=en").status_code == 200


def test_passwords_are_stored_with_scrypt(monkeypatch, db_session):
    monkeypatch.undo()
    user = service.create_staff(db_session, "someone@museum.example", "a long enough secret")
    assert user.password_hash.startswith("scrypt:")
    assert service._DUMMY_HASH.startswith("scrypt:")


@pytest.fixture
def default_sessions(config_overrides):
    config_overrides.pop("STAFF_SESSION_HOURS", None)  # conftest lengthens it for the other tests


def test_the_session_is_permanent_and_ends_after_the_configured_hours(default_sessions, app, client, clock,
                                                                       staff_user):
    response = sign_in(client, staff_user.email)
    assert app.permanent_session_lifetime == dt.timedelta(hours=10)
    assert "Expires=" in response.headers["Set-Cookie"]
    clock.advance(hours=9, minutes=59)
    assert client.get("/staff/account").status_code == 200
    clock.advance(minutes=2)
    response = client.get("/staff/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
    assert client.get("/staff/account").status_code == 302  # signed out for good, not just redirected once


@pytest.fixture
def short_sessions(config_overrides):
    config_overrides.update({"STAFF_SESSION_HOURS": 2})


def test_the_session_length_is_configuration(short_sessions, app, client, clock, staff_user):
    sign_in(client, staff_user.email)
    clock.advance(hours=2, seconds=1)
    assert client.get("/staff/account").status_code == 302


def test_signing_out_ends_the_session(app, client, db_session, staff_user):
    sign_in(client, staff_user.email)
    response = client.post("/staff/logout")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
    assert client.get("/staff/account").status_code == 302
    assert actions(db_session) == ["staff.sign_in", "staff.sign_out"]


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(app, client, clock, db_session, staff_user):
    for attempt in range(4):
        response = sign_in(client, staff_user.email, "wrong password")
        assert response.status_code == 401
        assert "do not match an active staff account" in page(response)
    assert fresh(db_session, staff_user).failed_logins == 4

    response = sign_in(client, staff_user.email, "wrong password")
    assert response.status_code == 401
    assert "this account is locked until 09:15" in page(response)
    assert fresh(db_session, staff_user).locked_until == NOW + dt.timedelta(minutes=15)
    assert actions(db_session) == ["staff.sign_in_locked"]

    # Locked: even the right password is refused, and the lock does not grow.
    clock.advance(minutes=14, seconds=59)
    response = sign_in(client, staff_user.email)
    assert response.status_code == 401
    assert "locked until 09:15" in page(response)
    assert client.get("/staff/account").status_code == 302

    clock.advance(seconds=2)
    assert sign_in(client, staff_user.email).status_code == 302
    account = fresh(db_session, staff_user)
    assert (account.failed_logins, account.locked_until) == (0, None)


def test_a_right_password_resets_the_count_of_wrong_ones(app, client, db_session, staff_user):
    for _ in range(4):
        sign_in(client, staff_user.email, "wrong password")
    assert sign_in(client, staff_user.email).status_code == 302
    client.post("/staff/logout")
    for _ in range(4):
        assert "locked" not in page(sign_in(client, staff_user.email, "wrong password"))
    assert fresh(db_session, staff_user).locked_until is None
    assert sign_in(client, staff_user.email).status_code == 302


def test_the_lockout_follows_configuration(db_session, clock, staff_user):
    policy = service.SignInPolicy(max_failed=2, lockout=dt.timedelta(minutes=3))
    with pytest.raises(service.SignInRefused) as first:
        service.sign_in(db_session, policy, clock.now(), staff_user.email, "wrong")
    assert first.value.code == "mismatch"
    with pytest.raises(service.SignInRefused) as second:
        service.sign_in(db_session, policy, clock.now(), staff_user.email, "wrong")
    assert (second.value.code, second.value.locked_until) == ("locked", NOW + dt.timedelta(minutes=3))
    clock.advance(minutes=3)
    assert service.sign_in(db_session, policy, clock.now(), staff_user.email, STAFF_PASSWORD).id == staff_user.id


def test_an_unknown_email_gets_the_same_answer_after_a_hash_check(app, client, db_session, staff_user, monkeypatch):
    checked = []
    real_check = service.check_password_hash
    monkeypatch.setattr(service, "check_password_hash", lambda hashed, password: checked.append(hashed)
                        or real_check(hashed, password))
    unknown = sign_in(client, "nobody@museum.example", "wrong password")
    known = sign_in(client, staff_user.email, "wrong password")
    assert unknown.status_code == known.status_code == 401
    assert "do not match an active staff account" in page(unknown)
    assert checked == [service._DUMMY_HASH, fresh(db_session, staff_user).password_hash]


def test_a_disabled_account_cannot_sign_in_and_its_open_session_ends(app, db_session, staff_user, admin_user):
    desk = signed_in(app, staff_user)
    admin = signed_in(app, admin_user)
    assert admin.post(f"/staff/accounts/{staff_user.id}/disable").status_code == 302
    assert desk.get("/staff/account").status_code == 302
    response = sign_in(app.test_client(), staff_user.email)
    assert response.status_code == 401
    assert "This account is disabled" in page(response)
    # A wrong password does not tell whether the account is disabled.
    assert "disabled" not in page(sign_in(app.test_client(), staff_user.email, "wrong password"))

    assert admin.post(f"/staff/accounts/{staff_user.id}/enable").status_code == 302
    assert sign_in(app.test_client(), staff_user.email).status_code == 302
    assert actions(db_session)[-3:] == ["staff.disable", "staff.enable", "staff.sign_in"]


def test_the_create_staff_command_makes_an_admin_who_can_sign_in(app, runner, db_session):
    result = runner.invoke(args=["create-staff", "Boss@Museum.example", "--admin", "--name", "The Boss"])
    assert result.exit_code == 0, result.output
    assert "Created admin account boss@museum.example" in result.output
    password = re.search(r"Password: (\S+)", result.output).group(1)
    client = app.test_client()
    assert sign_in(client, "boss@museum.example", password).status_code == 302
    assert client.get("/staff/accounts").status_code == 200
    again = runner.invoke(args=["create-staff", "boss@museum.example"])
    assert again.exit_code != 0 and "staff_exists" in again.output


# --- forgotten password ----------------------------------------------------------------------------

def test_a_forgotten_password_is_reset_once_by_the_emailed_link(mail, app, client, db_session, staff_user):
    desk = signed_in(app, staff_user)  # a session somewhere else, e.g. an intruder's
    response = client.post("/staff/password/forgot?lang=en", data={"email": " DESK@museum.example "})
    assert response.status_code == 302
    assert SAME_ANSWER in page(client.get(response.headers["Location"]))

    message = only_email(mail, staff_user.email)
    assert "new password" in message["Subject"]
    path = reset_path(message)
    form = client.get(path)
    assert form.status_code == 200
    assert staff_user.email in page(form)

    mismatch = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})
    assert "The two passwords are not the same." in page(mismatch)
    too_short = client.post(path, data={"password": "short", "confirm": "short"})
    assert "Use between 10 and 200 characters." in page(too_short)
    assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302

    # Used: the link is dead, the old password too, and the other session is signed out.
    assert client.get(path).status_code == 404
    assert "expired or has already been used" in page(client.get(path))
    again = {"password": "yet another secret", "confirm": "yet another secret"}
    assert client.post(path, data=again).status_code == 404
    assert desk.get("/staff/account").status_code == 302
    assert sign_in(app.test_client(), staff_user.email).status_code == 401
    assert sign_in(app.test_client(), staff_user.email, NEW_PASSWORD).status_code == 302
    assert fresh(db_session, staff_user).password_changed_at == NOW
    assert actions(db_session) == ["staff.sign_in", "staff.password_reset_request", "staff.password_reset",
                                "staff.sign_in"]


def test_the_reset_link_expires_after_the_configured_hour(mail, app, client, clock, staff_user):
    client.post("/staff/password/forgot", data={"email": staff_user.email})
    path = reset_path(only_email(mail, staff_user.email))
    clock.advance(minutes=59)
    assert client.get(path).status_code == 200
    clock.advance(minutes=1, seconds=1)
    assert client.get(path).status_code == 404
    assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 404
    assert sign_in(client, staff_user.email).status_code == 302  # the password did not change


def test_the_link_expires_from_the_request_even_if_the_email_went_out_later(mail, app, client, clock, db_session,
                                                                            staff_user):
    with app.app_context():
        app.config["MAIL_DELIVER_AFTER_COMMIT"] = False
    client.post("/staff/password/forgot", data={"email": staff_user.email})
    clock.advance(minutes=50)
    with app.app_context():
        from booking.notifications import deliver

        assert len(deliver(db_session, clock.now()).sent) == 1
    path = reset_path(only_email(mail, staff_user.email))
    clock.advance(minutes=11)
    assert client.get(path).status_code == 404


def test_an_unknown_or_disabled_address_gets_the_same_answer_and_no_email(mail, app, client, session, db_session,
                                                                          staff_user):
    staff_user.active = False  # in the session that made the account, which the requests see too
    session.commit()
    for email in ("nobody@museum.example", staff_user.email):
        response = client.post("/staff/password/forgot", data={"email": email}, follow_redirects=True)
        assert SAME_ANSWER in page(response)
    forget(db_session)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert mail.messages == []


def test_a_second_request_within_two_minutes_sends_no_second_email(mail, app, client, clock, db_session, staff_user):
    for _ in range(2):
        client.post("/staff/password/forgot", data={"email": staff_user.email})
    clock.advance(minutes=2, seconds=1)
    client.post("/staff/password/forgot", data={"email": staff_user.email})
    forget(db_session)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 2
    assert len(mail.wait_for(2)) == 2


def test_the_reset_email_speaks_the_language_of_the_page(mail, app, client, db_session, staff_user):
    client.post("/staff/password/forgot?lang=nl", data={"email": staff_user.email})
    forget(db_session)
    assert db_session.scalars(sa.select(OutboxMessage.language)).all() == ["nl"]
    assert reset_path(only_email(mail, staff_user.email)).endswith("?lang=nl")


def test_a_reset_lifts_a_lockout(mail, app, client, db_session, staff_user):
    for _ in range(5):
        sign_in(client, staff_user.email, "wrong password")
    client.post("/staff/password/forgot", data={"email": staff_user.email})
    path = reset_path(only_email(mail, staff_user.email))
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert sign_in(client, staff_user.email, NEW_PASSWORD).status_code == 302


def test_a_forged_or_altered_token_opens_nothing(app, client, db_session, staff_user, admin_user):
    token = passwords.reset_token(app.config["SECRET_KEY"], staff_user, NOW)
    assert client.get(f"/staff/password/reset/{token}").status_code == 200
    other_key = passwords.reset_token("another-secret", staff_user, NOW)
    assert client.get(f"/staff/password/reset/{other_key}").status_code == 404
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/staff/password/reset/{tampered}").status_code == 404
    future = passwords.reset_token(app.config["SECRET_KEY"], staff_user, NOW + dt.timedelta(hours=1))
    assert client.get(f"/staff/password/reset/{future}").status_code == 404


# --- one's own account -----------------------------------------------------------------------------

def test_a_member_of_staff_changes_their_own_password(app, db_session, staff_user):
    desk = signed_in(app, staff_user)
    elsewhere = signed_in(app, staff_user)
    form = {"current_password": STAFF_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}

    wrong = desk.post("/staff/account", data={**form, "current_password": "not it"})
    assert wrong.status_code == 400
    assert "This is not your current password." in page(wrong)
    mismatch = desk.post("/staff/account", data={**form, "confirm": "something else entirely"})
    assert mismatch.status_code == 400
    assert "The two passwords are not the same." in page(mismatch)
    assert fresh(db_session, staff_user).password_hash == staff_user.password_hash

    response = desk.post("/staff/account", data=form)
    assert response.status_code == 302
    assert "Your password is changed" in page(desk.get(response.headers["Location"]))
    assert desk.get("/staff/account").status_code == 200  # this session stays
    assert elsewhere.get("/staff/account").status_code == 302  # the other one ends
    assert sign_in(app.test_client(), staff_user.email, NEW_PASSWORD).status_code == 302
    assert "staff.password_change" in actions(db_session)


# --- admins manage accounts ------------------------------------------------------------------------

def test_the_account_list_shows_role_state_and_last_sign_in(app, db_session, clock, staff_user, admin_user):
    for _ in range(5):
        sign_in(app.test_client(), staff_user.email, "wrong password")
    admin = signed_in(app, admin_user)
    listing = page(admin.get("/staff/accounts?lang=en"))
    assert "desk@museum.example" in listing and "Desk Agent" in listing
    assert "Administrator" in listing
    assert "Locked until 1 Mar 2027, 09:15" in listing
    assert "1 Mar 2027, 09:00" in listing  # the admin's sign-in, Brussels time
    assert f'action="/staff/accounts/{staff_user.id}/unlock"' in listing


def test_an_admin_adds_an_account_that_chooses_its_password_from_the_email(mail, app, db_session, admin_user):
    admin = signed_in(app, admin_user)
    response = admin.post("/staff/accounts", data={"email": "New.Guide@museum.example", "name": "Nina",
                                                   "role": "staff"})
    assert response.status_code == 302
    message = only_email(mail, "new.guide@museum.example")
    assert "Your account" in message["Subject"]
    assert "An account has been created for you" in plain_text(message)
    path = reset_path(message)
    client = app.test_client()
    assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert sign_in(client, "new.guide@museum.example", NEW_PASSWORD).status_code == 302
    assert client.get("/staff/accounts").status_code == 403

    duplicate = admin.post("/staff/accounts", data={"email": "new.guide@museum.example", "role": "admin"})
    assert duplicate.status_code == 400
    assert "An account with this email address already exists." in page(duplicate)
    invalid = admin.post("/staff/accounts", data={"email": "not an email", "role": "staff"})
    assert invalid.status_code == 400 and 'value="not an email"' in page(invalid)
    forget(db_session)
    entry = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "staff.create")).one()
    assert (entry.actor, entry.details) == (admin_user.email, {"account": "new.guide@museum.example", "role": "staff"})


def test_an_admin_changes_a_role_and_it_takes_effect_at_once(app, db_session, staff_user, admin_user):
    desk = signed_in(app, staff_user)
    admin = signed_in(app, admin_user)
    assert desk.get("/staff/audit").status_code == 403
    admin.post(f"/staff/accounts/{staff_user.id}/role", data={"role": "admin"})
    assert fresh(db_session, staff_user).role == "admin"
    assert desk.get("/staff/audit").status_code == 200
    admin.post(f"/staff/accounts/{staff_user.id}/role", data={"role": "staff"})
    assert desk.get("/staff/audit").status_code == 403
    forget(db_session)
    details = db_session.scalars(sa.select(AuditEntry.details).where(AuditEntry.action == "staff.role")
                              .order_by(AuditEntry.id)).all()
    assert details == [{"account": staff_user.email, "old": "staff", "new": "admin"},
                       {"account": staff_user.email, "old": "admin", "new": "staff"}]


def test_the_last_active_admin_cannot_demote_or_disable_themselves(app, db_session, staff_user, admin_user):
    admin = signed_in(app, admin_user)
    response = admin.post(f"/staff/accounts/{admin_user.id}/role", data={"role": "staff"}, follow_redirects=True)
    assert "This is the last active administrator" in page(response)
    response = admin.post(f"/staff/accounts/{admin_user.id}/disable", follow_redirects=True)
    assert "This is the last active administrator" in page(response)
    account = fresh(db_session, admin_user)
    assert (account.role, account.active) == ("admin", True)
    assert "staff.role" not in actions(db_session) and "staff.disable" not in actions(db_session)

    # With a second admin, stepping down is allowed; the page then leaves the admin-only list.
    admin.post(f"/staff/accounts/{staff_user.id}/role", data={"role": "admin"})
    response = admin.post(f"/staff/accounts/{admin_user.id}/role", data={"role": "staff"})
    assert response.headers["Location"].startswith("/staff/")
    assert fresh(db_session, admin_user).role == "staff"
    assert admin.get("/staff/accounts").status_code == 403


def test_two_admins_cannot_leave_the_museum_without_an_admin(db_session, clock, staff_user, admin_user):
    service.set_role(db_session, clock.now(), admin_user, staff_user.id, "admin")
    service.set_active(db_session, clock.now(), admin_user, staff_user.id, False)  # one active admin left
    with pytest.raises(service.AccountError) as refused:
        service.set_role(db_session, clock.now(), admin_user, admin_user.id, "staff")
    assert refused.value.code == "last_admin"


def test_an_admin_unlocks_an_account(app, db_session, staff_user, admin_user):
    for _ in range(5):
        sign_in(app.test_client(), staff_user.email, "wrong password")
    admin = signed_in(app, admin_user)
    assert admin.post(f"/staff/accounts/{staff_user.id}/unlock").status_code == 302
    assert sign_in(app.test_client(), staff_user.email).status_code == 302
    forget(db_session)
    entry = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "staff.unlock")).one()
    assert dt.datetime.fromisoformat(entry.details["was_locked_until"]) == NOW + dt.timedelta(minutes=15)


def test_an_admin_sends_a_reset_link(mail, app, db_session, staff_user, admin_user):
    admin = signed_in(app, admin_user)
    response = admin.post(f"/staff/accounts/{staff_user.id}/reset", follow_redirects=True)
    assert "has been emailed a link" in page(response)
    path = reset_path(only_email(mail, staff_user.email))
    client = app.test_client()
    assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert sign_in(client, staff_user.email, NEW_PASSWORD).status_code == 302
    assert actions(db_session)[-3:] == ["staff.password_reset_send", "staff.password_reset", "staff.sign_in"]


def test_admin_actions_on_an_unknown_account_answer_404(app, admin_user):
    admin = signed_in(app, admin_user)
    for action in ("role", "disable", "enable", "unlock", "reset"):
        assert admin.post(f"/staff/accounts/9999/{action}", data={"role": "staff"}).status_code == 404


# --- the audit log ---------------------------------------------------------------------------------

def test_the_audit_log_is_newest_first_fifty_a_page(app, db_session, clock, admin_user):
    admin = fresh(db_session, admin_user)
    for minute in range(60):
        audit.record(db_session, NOW + dt.timedelta(minutes=minute), admin, "closure.remove", closure_id=minute,
                     start=(NOW + dt.timedelta(days=1, minutes=minute)).isoformat(),
                     end=(NOW + dt.timedelta(days=2)).isoformat(), reasons={"en": f"Works {minute}"})
    db_session.commit()
    client = signed_in(app, admin_user)
    first = page(client.get("/staff/audit?action=closure&lang=en"))
    numbers = [int(n) for n in re.findall(r"Reason: Works (\d+)", first)]
    assert numbers == list(range(59, 9, -1))
    assert "1 Mar 2027, 09:59" in first  # Brussels time, not UTC
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = page(client.get("/staff/audit?action=closure&lang=en&page=2"))
    assert [int(n) for n in re.findall(r"Reason: Works (\d+)", second)] == list(range(9, -1, -1))
    assert 'rel="next"' not in second and 'rel="prev"' in second


def test_the_audit_log_filters_by_member_of_staff_and_action_prefix(app, db_session, staff_user, admin_user):
    desk = signed_in(app, staff_user)
    desk.post("/staff/logout")
    admin = signed_in(app, admin_user)
    by_desk = page(admin.get(f"/staff/audit?staff={staff_user.id}"))
    assert by_desk.count('<code class="audit-action">staff.sign') == 2 and "admin@museum.example</td>" not in by_desk
    sign_outs = page(admin.get("/staff/audit?action=staff.sign_o"))
    assert sign_outs.count(">staff.sign_out</code>") == 1 and ">staff.sign_in</code>" not in sign_outs
    # The prefix is literal: "_" and "%" are not wildcards.
    assert 'class="audit-action"' not in page(admin.get("/staff/audit?action=staff_sign"))
    assert 'class="audit-action"' not in page(admin.get("/staff/audit?action=%25"))


def test_the_audit_log_names_the_booking_without_its_private_link(app, session, clock, book, admin_user):
    booking = book("2027-03-02T10:00")
    audit.record(session, clock.now(), admin_user, "booking.cancel", booking=booking,
                 message="Closed for works")
    session.commit()
    listing = page(signed_in(app, admin_user).get("/staff/audit"))
    assert booking.reference in listing and "Closed for works" in listing
    assert f"/b/{booking.reference}/" not in listing
    with app.test_request_context():
        from booking.links import visit_path

        assert visit_path(booking) not in listing
    if "staff.booking" in app.view_functions:
        assert f"{booking.reference}</a>" in listing
    else:
        assert f"{booking.reference}</a>" not in listing


def test_the_audit_log_links_to_the_staff_booking_page_once_it_exists(app, session, clock, book, admin_user):
    if "staff.booking" not in app.view_functions:
        app.add_url_rule("/staff/test-booking/<reference>", endpoint="staff.booking", view_func=lambda reference: "")
    booking = book("2027-03-02T10:00")
    audit.record(session, clock.now(), admin_user, "booking.cancel", booking=booking)
    session.commit()
    listing = page(signed_in(app, admin_user).get("/staff/audit"))
    with app.test_request_context():
        from flask import url_for

        href = url_for("staff.booking", reference=booking.reference)
    assert f'<a href="{href}">{booking.reference}</a>' in listing
