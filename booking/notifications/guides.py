"""What guides are told of a tour: its lines (page, feed, email) and the emails about their tours."""

from __future__ import annotations

import flask_mail
from flask import current_app, render_template
from flask_babel import format_time, gettext, ngettext

from booking import links
from booking.dates import date_as
from booking.i18n import LANGUAGE_NAMES, colon, group_kind_label
from booking.models import OutboxMessage, TourRequest
from booking.presentation import access_needs_line, museum_facts


def tour_summary(tour: TourRequest) -> str:
    return gettext("Guided tour: %(organisation)s (%(reference)s)", organisation=tour.organisation,
                   reference=tour.reference)


def guide_tour_lines(tour: TourRequest) -> list[str]:
    """A tour as its guide needs it, one line a fact, in the current language."""
    # The labels are marked outside f-strings, where the catalog extractor finds them.
    facts = [
        (gettext("Date"), date_as(tour.start)),
        (gettext("Time"), f"{format_time(tour.start, 'HH:mm')}–{format_time(tour.end, 'HH:mm')}"),
        (gettext("Group"), tour.organisation),
        (gettext("Level"), group_kind_label(tour.group_kind)),
        (gettext("People"), ", ".join((ngettext("%(num)s pupil", "%(num)s pupils", tour.pupils),
                                       ngettext("%(num)s adult", "%(num)s adults", tour.adults)))),
        (gettext("Tour language"), LANGUAGE_NAMES.get(tour.tour_language or "", tour.tour_language or "")),
    ]
    lines = [f"{colon(label)} {value}" for label, value in facts]
    if tour.status != "confirmed":
        lines.append(gettext("Not yet confirmed: the museum holds this time for the group."))
    if tour.access_needs:
        lines.append(access_needs_line(tour.access_needs))
    notes = [(gettext("Needs"), tour.needs), (gettext("Topic"), tour.topic), (gettext("Notes"), tour.notes)]
    lines += [f"{colon(label)} {value}" for label, value in notes if value]
    if tour.decision_message:
        lines.append(" ".join((gettext("Message from the museum:"), tour.decision_message)))
    return lines


def guide_subject(kind: str, tour: TourRequest) -> str:
    values = {"day": date_as(tour.start), "time": format_time(tour.start, "HH:mm"), "reference": tour.reference}
    if kind == "guide_assigned":
        return gettext("A tour for you on %(day)s at %(time)s (%(reference)s)", **values)
    if kind == "guide_changed":
        return gettext("Your tour on %(day)s at %(time)s has changed (%(reference)s)", **values)
    return gettext("You no longer guide the tour of %(day)s at %(time)s (%(reference)s)", **values)


def guide_message(row: OutboxMessage, message_factory, attach) -> flask_mail.Message:
    """The email to a guide about a tour, with its calendar entry: a REQUEST, or a CANCEL once
    they are taken off it. `message_factory` and `attach` are emails.py's (one place builds emails)."""
    from booking.notifications.ics import guide_uid, visit_event_calendar
    from booking.notifications.message import message_id_domain

    tour, guide = row.tour, row.guide
    facts = museum_facts(row.language)
    withdrawn = row.kind == "guide_withdrawn"
    subject = guide_subject(row.kind, tour)
    body = render_template(f"emails/{row.kind}.txt", kind=row.kind, tour=tour, guide=guide, museum=facts,
                           lines=guide_tour_lines(tour), page_url=links.guide_url(guide))
    message = message_factory(row, subject, body)
    calendar = visit_event_calendar(
        uid=guide_uid(tour.reference, guide.id, message_id_domain(current_app.config)),
        sequence=int((row.payload or {}).get("sequence", 0)), start=tour.start, end=tour.end,
        summary=tour_summary(tour), description="\n".join(guide_tour_lines(tour)), location=facts["address_line"],
        url=links.guide_url(guide), organizer_email=facts["email"], attendee_email=guide.email,
        now=row.created_at, cancelled=withdrawn, latitude=facts["latitude"], longitude=facts["longitude"])
    attach(message, tour.reference, calendar, withdrawn)
    return message
