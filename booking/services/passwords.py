"""Staff passwords: changing one's own, and the emailed reset link (asked for at the sign-in, or sent by an admin)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from booking.db import atomic
from booking.models import OutboxMessage, StaffUser
from booking.services import audit
from booking.services.staff import (
    RESET_EMAIL_KIND,
    AccountError,
    find_account,
    locked_account,
    queue_reset_email,
    set_password,
)

_RESET_SALT = "staff-password-reset"
# A second reset email to the same account within this time is not queued (someone pressing again,
# or a script filling in the form): the first link still works.
RESET_EMAIL_INTERVAL = dt.timedelta(minutes=2)


# --- passwords -------------------------------------------------------------------------------------

def change_password(session: Session, now: dt.datetime, user_id: int, current: str, new: str) -> StaffUser:
    """A signed-in member of staff sets a new password, proving they know the current one."""
    found = session.get(StaffUser, user_id)
    if found is None or not check_password_hash(found.password_hash, current):
        raise AccountError("current_password", field="current_password")
    checked_hash = found.password_hash
    session.commit()

    def operation() -> StaffUser:
        user = locked_account(session, user_id)
        if user.password_hash != checked_hash:  # changed meanwhile: ask again
            raise AccountError("current_password", field="current_password")
        set_password(user, new, now)
        audit.record(session, now, user, "staff.password_change")
        return user

    return atomic(session, operation)


def _reset_fingerprint(user: StaffUser) -> str:
    # Part of a digest of the password hash: once the password changes, the link stops working.
    return hashlib.sha256(b"reset:" + user.password_hash.encode()).hexdigest()[:16]


def _serializer(secret_key: str, issued_at: dt.datetime | None = None) -> URLSafeTimedSerializer:
    signer = TimestampSigner
    if issued_at is not None:
        stamp = int(issued_at.timestamp())

        class _IssuedAt(TimestampSigner):
            """Stamps the app clock's time, not time.time(), so expiry follows the injected clock."""

            def get_timestamp(self) -> int:
                return stamp

        signer = _IssuedAt
    return URLSafeTimedSerializer(secret_key, salt=_RESET_SALT, signer=signer)


def reset_token(secret_key: str, user: StaffUser, issued_at: dt.datetime) -> str:
    """The token of a password-reset link issued at `issued_at` (the time the reset was asked for)."""
    return _serializer(secret_key, issued_at).dumps([user.id, _reset_fingerprint(user)])


def _decode_reset_token(secret_key: str, token: str, now: dt.datetime,
                        max_age: dt.timedelta) -> tuple[int, str] | None:
    try:
        (user_id, fingerprint), issued = _serializer(secret_key).loads(token, return_timestamp=True)
    except (BadData, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or not isinstance(fingerprint, str):
        return None
    if not now - max_age <= issued <= now + dt.timedelta(minutes=5):
        return None
    return user_id, fingerprint


def _opens(user: StaffUser | None, fingerprint: str) -> bool:
    return (user is not None and user.active
            and secrets.compare_digest(fingerprint, _reset_fingerprint(user)))


def user_for_reset_token(session: Session, secret_key: str, token: str, now: dt.datetime,
                         max_age: dt.timedelta) -> StaffUser | None:
    """The active account a reset token opens, if it is genuine, not expired and not used yet."""
    decoded = _decode_reset_token(secret_key, token, now, max_age)
    if decoded is None:
        return None
    user = session.get(StaffUser, decoded[0])
    return user if _opens(user, decoded[1]) else None


def reset_password(session: Session, secret_key: str, now: dt.datetime, max_age: dt.timedelta, token: str,
                   new: str) -> StaffUser:
    """Set the password a reset link is for; the link then stops working. Also lifts a lockout."""
    decoded = _decode_reset_token(secret_key, token, now, max_age)
    if decoded is None:
        raise AccountError("reset_link")
    user_id, fingerprint = decoded

    def operation() -> StaffUser:
        # The row is read afresh under a lock: of two submissions of one link, the second fails.
        user = session.scalars(sa.select(StaffUser).where(StaffUser.id == user_id).with_for_update()
                               .execution_options(populate_existing=True)).first()
        if not _opens(user, fingerprint):
            raise AccountError("reset_link")
        set_password(user, new, now)
        audit.record(session, now, user, "staff.password_reset")
        return user

    return atomic(session, operation)


def request_password_reset(session: Session, now: dt.datetime, email: str, language: str) -> bool:
    """Email a reset link to an active account with this address; False (and nothing sent) otherwise.

    The page answers the same either way, so it does not tell who has an account.
    """
    def operation() -> bool:
        user = find_account(session, email)
        if user is None or not user.active:
            return False
        recent = session.scalar(sa.select(OutboxMessage.id).where(
            OutboxMessage.kind == RESET_EMAIL_KIND, OutboxMessage.recipient == user.email,
            OutboxMessage.created_at > now - RESET_EMAIL_INTERVAL).limit(1))
        if recent is not None:
            return False
        queue_reset_email(session, now, user, language)
        audit.record(session, now, user, "staff.password_reset_request")
        return True

    return atomic(session, operation)
