"""Absolute links for emails: always PUBLIC_BASE_URL, never the request's Host header."""

from __future__ import annotations

from flask import current_app

from booking.models import Booking, Guide, TourRequest, WaitlistEntry
from booking.services.guides import guide_token
from booking.tokens import manage_token


def visit_path(booking: Booking) -> str:
    token = manage_token(current_app.config["SECRET_KEY"], "visit", booking.id, booking.token_version)
    return f"/b/{booking.reference}/{token}"


def visit_url(booking: Booking) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + visit_path(booking)


def tour_path(tour: TourRequest) -> str:
    token = manage_token(current_app.config["SECRET_KEY"], "tour", tour.id, tour.token_version)
    return f"/g/{tour.reference}/{token}"


def tour_url(tour: TourRequest) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + tour_path(tour)


def waitlist_path(entry: WaitlistEntry) -> str:
    token = manage_token(current_app.config["SECRET_KEY"], "waitlist", entry.id, entry.token_version)
    return f"/w/{entry.reference}/{token}"


def waitlist_url(entry: WaitlistEntry) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + waitlist_path(entry)


def guide_path(guide: Guide) -> str:
    return f"/guide/{guide_token(current_app.config['SECRET_KEY'], guide)}"


def guide_url(guide: Guide) -> str:
    """The guide's private page: their tours, their unavailability (reissuing it revokes this one)."""
    return current_app.config["PUBLIC_BASE_URL"] + guide_path(guide)


def guide_calendar_url(guide: Guide) -> str:
    return guide_url(guide) + "/calendar.ics"
