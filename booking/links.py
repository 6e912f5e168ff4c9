"""Private links: a record's reference and an HMAC token (booking.tokens), no password.

Each kind of record that has one is a line of this module: the model, its reference prefix, and the
route that shows it. Building a link and finding the record a link names both live here, so a route
renamed or moved changes one place; paths come from the app's URL map, never from copies of routes.
Links in emails are absolute on PUBLIC_BASE_URL, never on the request's Host header.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from booking.models import Booking, Guide, TourRequest, WaitlistEntry
from booking.references import GROUP_PREFIX, PREFIX, normalise_reference
from booking.services.guides import guide_token
from booking.services.waitlist import PREFIX as WAITLIST_PREFIX
from booking.tokens import manage_token, token_matches


@dataclass(frozen=True)
class LinkKind:
    purpose: str  # what the token is for: a visit's token never opens a tour
    model: type
    prefix: str
    endpoint: str  # the route that shows the record, with <reference> and <token>


VISIT = LinkKind("visit", Booking, PREFIX, "links.manage")
TOUR = LinkKind("tour", TourRequest, GROUP_PREFIX, "links.tour_page")
WAITLIST = LinkKind("waitlist", WaitlistEntry, WAITLIST_PREFIX, "links.waitlist_entry")
_KIND_OF = {kind.model: kind for kind in (VISIT, TOUR, WAITLIST)}


def private_path(record) -> str:
    """The path of a record's private page, also outside a request (the worker's reminders)."""
    kind = _KIND_OF[type(record)]
    token = manage_token(current_app.config["SECRET_KEY"], kind.purpose, record.id, record.token_version)
    return current_app.url_map.bind("").build(kind.endpoint, {"reference": record.reference, "token": token})


def private_url(record) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + private_path(record)


def find_private(session: Session, kind: LinkKind, reference: str, token: str):
    """The record a private link names, or None for an unknown reference and a wrong or revoked token
    alike (the caller answers 404 to both, so a link says nothing about other references)."""
    model = kind.model
    wanted = normalise_reference(reference, kind.prefix)
    record = session.scalars(sa.select(model).where(model.reference == wanted)).first()
    if record is None or not token_matches(current_app.config["SECRET_KEY"], kind.purpose, record.id,
                                           record.token_version, token):
        return None
    return record


visit_path = tour_path = waitlist_path = private_path
visit_url = tour_url = waitlist_url = private_url


# A guide's link has no reference: the token carries the guide's id (services/guides.py).
def guide_path(guide: Guide) -> str:
    token = guide_token(current_app.config["SECRET_KEY"], guide)
    return current_app.url_map.bind("").build("links.guide_page", {"token": token})


def guide_url(guide: Guide) -> str:
    """The guide's private page: their tours, their unavailability (reissuing it revokes this one)."""
    return current_app.config["PUBLIC_BASE_URL"] + guide_path(guide)


def guide_calendar_url(guide: Guide) -> str:
    token = guide_token(current_app.config["SECRET_KEY"], guide)
    return current_app.config["PUBLIC_BASE_URL"] + current_app.url_map.bind("").build(
        "links.guide_calendar", {"token": token})
