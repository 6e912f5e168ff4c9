"""Staff accounts: creation and sign-in."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from booking.db import atomic
from booking.models import Guide, StaffUser
from booking.services import BookingError

# Compared against when the email is unknown, so both answers take the same time.
_DUMMY_HASH = generate_password_hash("not-a-password")


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_staff(session: Session, email: str, password: str, role: str = "staff", name: str = "") -> StaffUser:
    email = email.strip().lower()
    if role not in StaffUser.ROLES:
        raise BookingError("role", field="role")

    def operation() -> StaffUser:
        if session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)):
            raise BookingError("staff_exists", field="email")
        user = StaffUser(email=email, name=name, role=role, password_hash=generate_password_hash(password))
        session.add(user)
        return user

    return atomic(session, operation)


def authenticate(session: Session, email: str, password: str) -> StaffUser | None:
    user = session.scalars(sa.select(StaffUser).where(StaffUser.email == email.strip().lower())).first()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def add_guide(session: Session, name: str, languages: list[str]) -> Guide:
    def operation() -> Guide:
        guide = Guide(name=name.strip(), language_codes=",".join(languages))
        session.add(guide)
        return guide

    return atomic(session, operation)
