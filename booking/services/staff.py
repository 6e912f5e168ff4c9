"""Staff accounts: creation, sign-in with a lockout, sessions on the server, roles, the accounts an
admin manages; their passwords are in services/passwords.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from booking.db import atomic, utc_param
from booking.models import OutboxMessage, StaffSession, StaffUser, enqueue_email
from booking.services import BookingError, audit

# Compared against when the email is unknown, so both answers take the same time.
_DUMMY_HASH = generate_password_hash("not-a-password")

PASSWORD_MIN_LENGTH = 10
RESET_EMAIL_KIND = "staff_password_reset"


class AccountError(BookingError):
    """A refused account operation: last_admin, staff_exists, role, current_password, reset_link..."""


class SignInRefused(BookingError):
    """mismatch (unknown email or wrong password), locked (until `locked_until`), disabled."""

    def __init__(self, code: str, locked_until: dt.datetime | None = None):
        super().__init__(code)
        self.locked_until = locked_until


@dataclass(frozen=True)
class SignInPolicy:
    max_failed: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=15)

    @classmethod
    def from_config(cls, config) -> SignInPolicy:
        return cls(max_failed=config["STAFF_MAX_FAILED_LOGINS"],
                   lockout=dt.timedelta(minutes=config["STAFF_LOCKOUT_MINUTES"]))


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _normalise(email: str) -> str:
    return email.strip().lower()


def find_account(session: Session, email: str) -> StaffUser | None:
    return session.scalars(sa.select(StaffUser).where(StaffUser.email == _normalise(email))).first()


def locked_account(session: Session, user_id: int) -> StaffUser:
    """The account row, locked for this transaction (a no-op on SQLite, whose writers take turns)."""
    user = session.scalars(sa.select(StaffUser).where(StaffUser.id == user_id).with_for_update()
                           .execution_options(populate_existing=True)).first()
    if user is None:
        raise AccountError("no_account")
    return user


def set_password(user: StaffUser, password: str, now: dt.datetime) -> None:
    user.password_hash = generate_password_hash(password)  # scrypt, Werkzeug's default
    user.password_changed_at = now
    user.failed_logins = 0
    user.locked_until = None


def _new_account_email(email: str, role: str) -> str:
    """The address of an account about to be made, normalised; an unknown role is refused."""
    email = _normalise(email)
    if role not in StaffUser.ROLES:
        raise AccountError("role", field="role")
    return email


def _refuse_taken(session: Session, email: str) -> None:
    if session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)):
        raise AccountError("staff_exists", field="email")


def create_staff(session: Session, email: str, password: str, role: str = "staff", name: str = "") -> StaffUser:
    email = _new_account_email(email, role)

    def operation() -> StaffUser:
        _refuse_taken(session, email)
        user = StaffUser(email=email, name=name, role=role, password_hash=generate_password_hash(password))
        session.add(user)
        return user

    return atomic(session, operation)


# --- signing in ------------------------------------------------------------------------------------

def is_locked(user: StaffUser, now: dt.datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def sign_in(session: Session, policy: SignInPolicy, now: dt.datetime, email: str, password: str) -> StaffUser:
    """The account these credentials open, its sign-in recorded; else SignInRefused.

    Wrong passwords in a row are counted; the one that reaches `policy.max_failed` locks the account
    for `policy.lockout`, during which even the right password is refused. The right password resets
    the count. An unknown email costs the same hash check as a known one.
    """
    found = find_account(session, email)
    if found is None:
        check_password_hash(_DUMMY_HASH, password)
        raise SignInRefused("mismatch")
    correct = check_password_hash(found.password_hash, password)  # outside the write transaction: slow
    session.commit()

    def operation() -> tuple[str, StaffUser]:
        user = locked_account(session, found.id)
        if is_locked(user, now):
            return "locked", user
        if not correct:
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= policy.max_failed:
                user.failed_logins = 0
                user.locked_until = now + policy.lockout
                audit.record(session, now, user, "staff.sign_in_locked", failed_logins=policy.max_failed,
                             until=user.locked_until.isoformat())
                return "locked", user
            return "mismatch", user
        if not user.active:
            return "disabled", user
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        audit.record(session, now, user, "staff.sign_in")
        return "ok", user

    outcome, user = atomic(session, operation)
    if outcome != "ok":
        raise SignInRefused(outcome, locked_until=user.locked_until if outcome == "locked" else None)
    return user


# --- sessions on the server ------------------------------------------------------------------------

def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, now: dt.datetime, user: StaffUser, lifetime: dt.timedelta) -> str:
    """A new signed-in session for `user`; returns the token its cookie keeps. The user's sessions
    older than `lifetime` are dropped on the way: they open nothing any more."""
    token = secrets.token_urlsafe(32)

    def operation() -> None:
        session.execute(sa.delete(StaffSession).where(StaffSession.user_id == user.id,
                                                      StaffSession.created_at < now - lifetime))
        session.add(StaffSession(id=_session_id(token), user_id=user.id, created_at=now))

    atomic(session, operation)
    return token


# Built once: every staff request runs it (see availability.py for statements bound per request).
_SESSION_USER = (
    sa.select(StaffUser).join(StaffSession, StaffSession.user_id == StaffUser.id)
    .where(StaffUser.id == sa.bindparam("user_id", type_=sa.Integer), StaffSession.id == sa.bindparam("session_id"),
           StaffSession.created_at >= utc_param("since"))
)


def signed_in_user(session: Session, user_id: int, token: str, since: dt.datetime) -> StaffUser | None:
    """The account a cookie opens: its user, only while the session it names exists and is younger
    than `since`. One SELECT, like loading the user alone."""
    return session.scalar(_SESSION_USER, {"user_id": user_id, "session_id": _session_id(token), "since": since})


def record_sign_out(session: Session, now: dt.datetime, user: StaffUser, token: str | None) -> None:
    """End this browser's session on the server, so a copied cookie opens nothing."""

    def operation() -> None:
        if token:
            session.execute(sa.delete(StaffSession).where(StaffSession.id == _session_id(token)))
        audit.record(session, now, session.merge(user), "staff.sign_out")

    atomic(session, operation)


def _end_sessions(session: Session, user_id: int) -> int:
    return session.execute(sa.delete(StaffSession).where(StaffSession.user_id == user_id)).rowcount


def sign_out_everywhere(session: Session, now: dt.datetime, user: StaffUser) -> int:
    """End every session of `user` (this browser's too); returns how many there were."""

    def operation() -> int:
        ended = _end_sessions(session, user.id)
        audit.record(session, now, session.merge(user), "staff.sign_out_everywhere", sessions=ended)
        return ended

    return atomic(session, operation)


def sign_out_account(session: Session, now: dt.datetime, admin: StaffUser, user_id: int) -> StaffUser:
    """An admin ends every session of another account (a lost tablet, a shared password)."""

    def change(user: StaffUser):
        return "staff.sign_out_everywhere", {"sessions": _end_sessions(session, user.id)}

    return admin_change(session, now, admin, user_id, change)


def remember_language(session: Session, user_id: int, language: str) -> None:
    """Keep the back-office language a member of staff chose, for their next sessions."""
    atomic(session, lambda: session.execute(
        sa.update(StaffUser).where(StaffUser.id == user_id).values(language=language)))


def session_fingerprint(user: StaffUser) -> str:
    """Kept in the signed-in session: a new password (or a reset) ends every other session."""
    return hashlib.sha256(b"session:" + user.password_hash.encode()).hexdigest()[:20]


def queue_reset_email(session: Session, now: dt.datetime, user: StaffUser, language: str,
                       welcome: bool = False) -> OutboxMessage:
    return enqueue_email(session, RESET_EMAIL_KIND, recipient=user.email, language=language, now=now,
                         payload={"staff_id": user.id, "welcome": welcome})


# --- administration --------------------------------------------------------------------------------

def create_account(session: Session, now: dt.datetime, admin: StaffUser, email: str, name: str, role: str,
                   language: str) -> StaffUser:
    """An admin adds an account; the new member gets an email with a link to choose their password.

    The account starts with a random password that nobody sees, so no password travels by email or
    over the admin's shoulder.
    """
    email = _new_account_email(email, role)

    def operation() -> StaffUser:
        _refuse_taken(session, email)
        user = StaffUser(email=email, name=name.strip(), role=role, created_at=now,
                         password_hash=generate_password_hash(secrets.token_urlsafe(32)))
        session.add(user)
        session.flush()
        queue_reset_email(session, now, user, language, welcome=True)
        audit.record(session, now, session.merge(admin), "staff.create", account=email, role=role)
        return user

    return atomic(session, operation)


def _keep_an_admin(session: Session, user: StaffUser) -> None:
    """Refuse to demote or disable the last active admin: nobody could manage accounts any more."""
    if user.role != "admin" or not user.active:
        return
    # The admin rows are locked, so two admins demoting each other at once cannot both succeed.
    admins = session.scalars(sa.select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.active.is_(True))
                             .with_for_update()).all()
    if not [admin_id for admin_id in admins if admin_id != user.id]:
        raise AccountError("last_admin")


def admin_change(session: Session, now: dt.datetime, admin: StaffUser, user_id: int, change) -> StaffUser:
    def operation() -> StaffUser:
        user = locked_account(session, user_id)
        action, details = change(user)
        audit.record(session, now, session.merge(admin), action, account=user.email, **details)
        return user

    return atomic(session, operation)


def set_role(session: Session, now: dt.datetime, admin: StaffUser, user_id: int, role: str) -> StaffUser:
    if role not in StaffUser.ROLES:
        raise AccountError("role", field="role")

    def change(user: StaffUser):
        if role != "admin":
            _keep_an_admin(session, user)
        old, user.role = user.role, role
        return "staff.role", {"old": old, "new": role}

    return admin_change(session, now, admin, user_id, change)


def set_active(session: Session, now: dt.datetime, admin: StaffUser, user_id: int, active: bool) -> StaffUser:
    def change(user: StaffUser):
        if not active:
            _keep_an_admin(session, user)
        user.active = active
        if not active:
            _end_sessions(session, user.id)
        return ("staff.enable" if active else "staff.disable"), {}

    return admin_change(session, now, admin, user_id, change)


def unlock(session: Session, now: dt.datetime, admin: StaffUser, user_id: int) -> StaffUser:
    def change(user: StaffUser):
        until = user.locked_until
        user.locked_until = None
        user.failed_logins = 0
        return "staff.unlock", {"was_locked_until": until.isoformat() if until else None}

    return admin_change(session, now, admin, user_id, change)


def send_reset(session: Session, now: dt.datetime, admin: StaffUser, user_id: int, language: str) -> StaffUser:
    """An admin sends a member of staff a link to choose a new password (the old one works until then)."""
    def change(user: StaffUser):
        if not user.active:
            raise AccountError("disabled")
        queue_reset_email(session, now, user, language)
        return "staff.password_reset_send", {}

    return admin_change(session, now, admin, user_id, change)
