"""The back office speaks the language a member of staff chose, on every page after, and at the next sign-in."""

from __future__ import annotations

import re

import sqlalchemy as sa

from booking.models import StaffUser
from tests.conftest import signed_in


def page_language(response) -> str:
    return re.search(r'<html lang="(\w\w)"', response.get_data(as_text=True)).group(1)


def test_a_language_chosen_in_the_back_office_sticks_for_the_session(staff_client):
    assert page_language(staff_client.get("/staff/calendar?lang=de")) == "de"
    # The menu's links carry no language: the next pages still speak German.
    assert page_language(staff_client.get("/staff/bookings")) == "de"
    assert page_language(staff_client.get("/staff/requests", headers={"Accept-Language": "fr"})) == "de"
    assert page_language(staff_client.get("/staff/bookings?lang=nl")) == "nl"
    assert page_language(staff_client.get("/staff/closures")) == "nl"


def test_a_language_chosen_is_kept_with_the_account_for_the_next_sign_in(app, session, staff_user):
    signed_in(app, staff_user).get("/staff/calendar?lang=nl")
    session.expire_all()
    assert session.scalar(sa.select(StaffUser.language).where(StaffUser.id == staff_user.id)) == "nl"
    elsewhere = signed_in(app, staff_user)  # another browser, a new session
    assert page_language(elsewhere.get("/staff/bookings", headers={"Accept-Language": "en"})) == "nl"


def test_without_a_choice_the_back_office_follows_the_browser(staff_client):
    assert page_language(staff_client.get("/staff/bookings", headers={"Accept-Language": "fr"})) == "fr"
