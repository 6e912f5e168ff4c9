"""Each email an outbox row names, rendered in the recipient's language at the moment it is sent."""

from __future__ import annotations

import re

import flask_mail
import sqlalchemy as sa
from flask import current_app, g, render_template
from flask_babel import force_locale, format_time, gettext, ngettext
from markupsafe import Markup, escape
from sqlalchemy.orm import object_session

from booking import links, qr, schedule
from booking.context import rules as current_rules
from booking.context import state
from booking.dates import date_as
from booking.models import Booking, OutboxMessage, StaffUser, TourRequest
from booking.notifications.guides import guide_message
from booking.notifications.ics import visit_event_calendar
from booking.notifications.message import MailMessage, message_id_domain
from booking.presentation import access_offers_of, museum_facts
from booking.texts import in_language
from booking.tour_rules import numbers_deadline


def _when(moment) -> dict[str, str]:
    return {"day": date_as(moment), "time": format_time(moment, "HH:mm")}


def _visit_subject(kind: str, booking: Booking) -> str:
    values = {**_when(booking.start), "reference": booking.reference}
    if kind == "visit_confirmed":
        return gettext("Your visit on %(day)s at %(time)s is booked (%(reference)s)", **values)
    if kind == "visit_moved":
        return gettext("Your visit has moved to %(day)s at %(time)s (%(reference)s)", **values)
    if kind == "visit_reminder":
        return gettext("See you soon: your visit on %(day)s at %(time)s (%(reference)s)", **values)
    return gettext("Your visit on %(day)s at %(time)s is cancelled (%(reference)s)", **values)


def _tour_subject(kind: str, tour: TourRequest, payload: dict) -> str:
    values = {**_when(tour.start), "reference": tour.reference, "organisation": tour.organisation}
    if kind == "tour_received":
        return gettext("We have received your group visit request (%(reference)s)", **values)
    if kind == "tour_confirmed":
        return gettext("Your group visit on %(day)s at %(time)s is confirmed (%(reference)s)", **values)
    if kind == "tour_declined":
        return gettext("Your group visit request could not be accepted (%(reference)s)", **values)
    if kind == "tour_proposed":
        return gettext("We propose another time for your group visit: %(day)s at %(time)s (%(reference)s)",
                       **values)
    if kind == "tour_refused":
        return gettext("You declined the time we proposed (%(reference)s)", **values)
    if kind == "tour_cancelled":
        return gettext("Your group visit is cancelled (%(reference)s)", **values)
    if kind == "tour_expired":
        return gettext("The time we proposed for your group visit has expired (%(reference)s)", **values)
    if kind == "tour_reminder":
        return gettext("Your group visit on %(day)s: please confirm your final numbers (%(reference)s)", **values)
    if kind == "tour_numbers_changed":
        return gettext("Your group's numbers are updated (%(reference)s)", **values)
    return gettext("Group visit %(reference)s: %(event)s – %(organisation)s, %(day)s %(time)s",
                   event=museum_event_label(payload.get("event", "")), **values)


def museum_event_label(event: str) -> str:
    labels = {
        "requested": gettext("new request"),
        "accepted": gettext("proposal accepted"),
        "refused": gettext("proposal refused"),
        "cancelled": gettext("cancelled by the teacher"),
        "expired": gettext("proposal expired"),
        "numbers_changed": gettext("numbers changed by the teacher"),
    }
    return labels.get(event, event)


_URL = re.compile(r"(https?://[^\s<>\"]+)")


_BUTTON = ("display:inline-block;padding:10px 16px;background:#7a1f1f;color:#ffffff;text-decoration:none;"
           "border-radius:4px;font-weight:bold;")


def _button_label(url: str) -> str:
    """What a private link opens, as the words of its button."""
    if "/guide/" in url:
        return gettext("See my tours")
    if "/g/" in url:
        return gettext("See my group visit")
    if "/b/" in url:
        return gettext("See, change or cancel my booking")
    if "/w/" in url:
        return gettext("See my places on the waiting list")
    if "/staff/password/reset/" in url:
        return gettext("Choose my password")
    return gettext("Open the page")


def text_to_html(text: str) -> Markup:
    """The plain-text email as simple HTML paragraphs, with its links clickable.

    A link alone on its line (a private link) becomes a button, with the address in small type
    beneath that may break anywhere: a 200-character link no longer widens the email on a phone.
    """
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = []
        for line in block.split("\n"):
            if _URL.fullmatch(line.strip()):
                url = str(escape(line.strip()))
                lines.append(f'<a href="{url}" class="button" style="{_BUTTON}">{escape(_button_label(url))}</a>'
                             f'<br>\n<small style="color:#555555;word-break:break-all;">{url}</small>')
            else:
                lines.append(_URL.sub(r'<a href="\1" style="color:#7a1f1f;word-break:break-all;">\1</a>',
                                      str(escape(line))))
        paragraphs.append("<p>" + "<br>\n".join(lines) + "</p>")
    return Markup("\n".join(paragraphs))  # noqa: S704 (built from escaped text)


def render(row: OutboxMessage) -> flask_mail.Message:
    """The email an outbox row names, rendered now in the row's language."""
    g.rendering_email = True  # flask-babel's force_locale ignores an empty `g`
    with force_locale(row.language):
        if row.kind == "lost_links":
            return _lost_links_message(row)
        if row.kind == "staff_password_reset":
            return _staff_password_message(row)
        if row.guide_id is not None:
            return guide_message(row, _text_message, _attach_ics)
        if row.booking is not None:
            return _visit_message(row)
        if row.waitlist is not None:
            return _waitlist_message(row)
        return _tour_message(row)


def _message(row: OutboxMessage, subject: str, body: str, html: str) -> MailMessage:
    config = current_app.config
    message = MailMessage(
        subject=subject, recipients=[row.recipient], body=body, html=html,
        sender=config["MAIL_DEFAULT_SENDER"], reply_to=museum_facts(row.language)["email"],
        # RFC 3834: written by a program, so mail servers and clients send no auto-reply to it.
        extra_headers={"Auto-Submitted": "auto-generated"},
    )
    message.msgId = row.message_id
    return message


def _text_message(row: OutboxMessage, subject: str, body: str) -> flask_mail.Message:
    """An email written as text, with its HTML made from the text."""
    html = render_template("emails/text.html", museum=museum_facts(row.language), language=row.language,
                           subject=subject, content=text_to_html(body))
    return _message(row, subject, body, html)


def _attach_ics(message, reference: str, calendar: bytes, cancelled: bool) -> None:
    method = "CANCEL" if cancelled else "REQUEST"
    message.attach(filename=f"{reference}.ics", content_type=f"text/calendar; charset=utf-8; method={method}",
                   data=calendar)


def _attach_calendar(message, row, *, reference, sequence, start, end, summary, description, url, attendee,
                     cancelled) -> None:
    config = current_app.config
    facts = museum_facts(row.language)
    calendar = visit_event_calendar(
        uid=f"{reference}@{message_id_domain(config)}", sequence=sequence, start=start, end=end,
        summary=summary, description=description, location=facts["address_line"], url=url,
        organizer_email=facts["email"], attendee_email=attendee, now=row.created_at, cancelled=cancelled,
        latitude=facts["latitude"], longitude=facts["longitude"],
    )
    method = "CANCEL" if cancelled else "REQUEST"
    message.attach(filename=f"{reference}.ics", content_type=f"text/calendar; charset=utf-8; method={method}",
                   data=calendar)


# The emails whose visit still lies ahead carry the reference as a QR code for the desk's scanner.
QR_KINDS = frozenset({"visit_confirmed", "visit_moved", "visit_reminder", "tour_confirmed", "tour_reminder"})
QR_SCALE = 6  # 29 modules + the quiet zone of 8 = 37 modules: 222 px, shown at 174 (crisp on HiDPI screens)


def _qr_content_id(reference: str) -> str:
    return f"qr-{reference.lower()}@{message_id_domain(current_app.config)}"


def _embed_qr(message: MailMessage, row: OutboxMessage, reference: str) -> None:
    if row.kind in QR_KINDS:
        message.embed(_qr_content_id(reference), "image/png", qr.reference_png(reference, scale=QR_SCALE))


def _visit_message(row: OutboxMessage) -> flask_mail.Message:
    booking = row.booking
    facts = museum_facts(row.language)
    manage_url = links.visit_url(booking)
    base_url = current_app.config["PUBLIC_BASE_URL"]
    payload = row.payload or {}
    # What staff told the visitor: a reason given in several languages, read in this one, and a note.
    museum_note = " ".join(part for part in (in_language(payload.get("reasons"), row.language),
                                             payload.get("message", "")) if part)
    exhibitions = []
    if row.kind in ("visit_confirmed", "visit_moved"):
        from booking.services.whatson import exhibitions_on

        exhibitions = exhibitions_on(object_session(booking), schedule.to_local(booking.start, current_rules()).date())
    offers = access_offers_of(booking, row.language, object_session(booking)) if row.kind == "visit_confirmed" else []
    context = {"booking": booking, "museum": facts, "manage_url": manage_url, "payload": payload,
               "exhibitions": exhibitions, "lang": row.language, "access_offers": offers,
               "by_museum": payload.get("by_museum", False), "museum_note": museum_note,
               "language": row.language, "calendar_url": f"{base_url}/{row.language}/visit",
               "qr_src": f"cid:{_qr_content_id(booking.reference)}" if row.kind in QR_KINDS else None}
    message = _message(row, _visit_subject(row.kind, booking),
                       render_template(f"emails/{row.kind}.txt", **context),
                       render_template(f"emails/{row.kind}.html", **context))
    _embed_qr(message, row, booking.reference)
    if row.kind == "visit_reminder":
        return message  # the calendar entry came with the confirmation
    _attach_calendar(
        message, row, reference=booking.reference, sequence=booking.sequence, start=booking.start,
        end=schedule.slot_end(booking.start, current_rules()),
        summary=gettext("Visit to the %(museum)s", museum=facts["name"]),
        description=ngettext("Booking %(reference)s for %(num)s person. Manage or cancel: %(url)s",
                             "Booking %(reference)s for %(num)s people. Manage or cancel: %(url)s",
                             booking.party_size, reference=booking.reference, url=manage_url),
        url=manage_url, attendee=booking.email, cancelled=row.kind == "visit_cancelled",
    )
    return message


def _tour_message(row: OutboxMessage) -> flask_mail.Message:
    tour = row.tour
    facts = museum_facts(row.language)
    manage_url = links.tour_url(tour)
    base_url = current_app.config["PUBLIC_BASE_URL"]
    context = {"tour": tour, "museum": facts, "manage_url": manage_url,
               "groups_url": f"{base_url}/{row.language}/groups",
               "staff_url": f"{base_url}/staff/?lang={row.language}", "payload": row.payload, "language": row.language,
               "event_label": museum_event_label(row.payload.get("event", "")),
               "access_offers": access_offers_of(tour, row.language, object_session(tour))
               if row.kind in ("tour_received", "tour_confirmed") else [],
               "numbers_deadline": numbers_deadline(tour.start, state().tour_rules),
               # Why the museum cancelled (a closure's reason in this language, then staff's note).
               "museum_note": " ".join(part for part in (
                   in_language(row.payload.get("reasons"), row.language),
                   row.payload.get("message", "")) if part)}
    body = render_template(f"emails/{row.kind}.txt", **context)
    subject = _tour_subject(row.kind, tour, row.payload)
    html = render_template("emails/text.html", museum=facts, language=row.language, subject=subject,
                           content=text_to_html(body), reference=tour.reference,
                           qr_src=f"cid:{_qr_content_id(tour.reference)}" if row.kind in QR_KINDS else None)
    message = _message(row, subject, body, html)
    _embed_qr(message, row, tour.reference)
    cancelled = row.kind == "tour_cancelled" and row.payload.get("was_confirmed")
    if row.kind == "tour_confirmed" or cancelled:
        summary = (gettext("Guided tour at the %(museum)s", museum=facts["name"]) if tour.guided
                   else gettext("Group visit to the %(museum)s", museum=facts["name"]))
        _attach_calendar(
            message, row, reference=tour.reference, sequence=tour.sequence, start=tour.start, end=tour.end,
            summary=summary,
            description=gettext("Group visit %(reference)s: %(pupils)s and %(adults)s. Details: %(url)s",
                                reference=tour.reference, url=manage_url,
                                pupils=ngettext("%(num)s pupil", "%(num)s pupils", tour.pupils),
                                adults=ngettext("%(num)s adult", "%(num)s adults", tour.adults)),
            url=manage_url, attendee=tour.email, cancelled=bool(cancelled),
        )
    return message


def _waitlist_message(row: OutboxMessage) -> flask_mail.Message:
    entry = row.waitlist
    facts = museum_facts(row.language)
    values = {**_when(entry.start), "reference": entry.reference}
    if row.kind == "waitlist_offer":
        subject = ngettext("A place is free for you on %(day)s at %(time)s: confirm it (%(reference)s)",
                           "Places are free for you on %(day)s at %(time)s: confirm them (%(reference)s)",
                           entry.people, **values)
    else:
        subject = gettext("You are on the waiting list for %(day)s at %(time)s (%(reference)s)", **values)
    body = render_template(f"emails/{row.kind}.txt", entry=entry, museum=facts, link=links.waitlist_url(entry),
                           language=row.language)
    html = render_template("emails/text.html", museum=facts, language=row.language, subject=subject,
                           content=text_to_html(body))
    return _message(row, subject, body, html)


def _lost_links_message(row: OutboxMessage) -> flask_mail.Message:
    """The private links of an address's coming visits, as they stand when the email is sent."""
    session = object_session(row)
    payload = row.payload or {}
    bookings = [b for b in session.scalars(sa.select(Booking).where(Booking.id.in_(payload.get("bookings", [])))
                                           .order_by(Booking.start, Booking.id)) if b.is_active]
    group_visits = [t for t in session.scalars(sa.select(TourRequest)
                                               .where(TourRequest.id.in_(payload.get("tours", [])))
                                               .order_by(TourRequest.start, TourRequest.id)) if t.holds]
    facts = museum_facts(row.language)
    context = {"museum": facts, "language": row.language,
               "visits": [(booking, links.visit_url(booking)) for booking in bookings],
               "group_visits": [(tour, links.tour_url(tour)) for tour in group_visits]}
    body = render_template("emails/lost_links.txt", **context)
    subject = gettext("Your bookings at the %(museum)s: your private links", museum=facts["name"])
    html = render_template("emails/text.html", museum=facts, language=row.language, subject=subject,
                           content=text_to_html(body))
    return _message(row, subject, body, html)


def _staff_password_message(row: OutboxMessage) -> flask_mail.Message:
    """A link to choose a (new) password; made now, from the account's current password hash."""
    from booking.services.passwords import reset_token

    config = current_app.config
    user = object_session(row).get(StaffUser, (row.payload or {}).get("staff_id"))
    if user is None or not user.active:
        raise LookupError("the staff account is gone or disabled")
    facts = museum_facts(row.language)
    # Issued when the reset was asked for, so the link's lifetime does not restart at each retry.
    token = reset_token(config["SECRET_KEY"], user, row.created_at)
    base_url = config["PUBLIC_BASE_URL"]
    welcome = bool(row.payload.get("welcome"))
    subject = (gettext("Your account for the %(museum)s back office", museum=facts["name"]) if welcome
               else gettext("Choose a new password for the %(museum)s back office", museum=facts["name"]))
    body = render_template("emails/staff_password_reset.txt", user=user, museum=facts, welcome=welcome,
                           reset_url=f"{base_url}/staff/password/reset/{token}?lang={row.language}",
                           forgot_url=f"{base_url}/staff/password/forgot?lang={row.language}",
                           hours=config["STAFF_RESET_HOURS"])
    html = render_template("emails/text.html", museum=facts, language=row.language, subject=subject,
                           content=text_to_html(body))
    return _message(row, subject, body, html)
