"""What's on, for visitors: the exhibitions' images and the public events feed."""

from __future__ import annotations

import datetime as dt
import re

import icalendar
from flask import Response, abort, current_app, g, request, send_from_directory
from flask_babel import gettext

from booking.context import db, now
from booking.notifications.message import message_id_domain
from booking.presentation import museum_facts
from booking.services.whatson import events_from
from booking.views.public import links_bp
from booking.views.staff.whatson import upload_dir

_MEDIA_NAME = re.compile(r"^[0-9a-f]{24}\.(png|jpg|webp)$")


@links_bp.get("/media/<name>")
def media(name: str):
    if not _MEDIA_NAME.match(name):
        abort(404)
    response = send_from_directory(upload_dir(), name, max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@links_bp.get("/events.ics")
def events_feed():
    """The museum's talks and round tables, for any calendar app; titles in ?lang= (French by default)."""
    language = request.args.get("lang")
    g.lang = language if language in current_app.config["LANGUAGES"] else "fr"
    facts = museum_facts(g.lang)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Musee national de la Resistance//Events//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", gettext("Events at the %(museum)s", museum=facts["name"]))
    domain = message_id_domain(current_app.config)
    for item in events_from(db(), now() - dt.timedelta(days=30)):
        event = icalendar.Event()
        event.add("uid", f"event-{item.id}@{domain}")
        event.add("dtstamp", item.created_at)
        event.add("dtstart", item.start_at)
        event.add("dtend", item.end_at)
        event.add("summary", item.title(g.lang))
        notice = gettext("Booking needed.") if item.booking_needed else gettext("No booking needed.")
        event.add("description", f"{item.description(g.lang)}\n\n{notice}".strip())
        event.add("location", f"{item.place}, {facts['address_line']}" if item.place else facts["address_line"])
        calendar.add_component(event)
    return Response(calendar.to_ical(), mimetype="text/calendar",
                    headers={"Content-Disposition": "inline; filename=events.ics"})
