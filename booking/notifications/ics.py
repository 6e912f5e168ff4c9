"""The .ics calendar entry attached to every email about a visit."""

from __future__ import annotations

import datetime as dt

import icalendar


def visit_event_calendar(
    *,
    uid: str,
    sequence: int,
    start: dt.datetime,
    end: dt.datetime,
    summary: str,
    description: str,
    location: str,
    url: str,
    organizer_email: str,
    attendee_email: str | None,
    now: dt.datetime,
    cancelled: bool = False,
    latitude: float | None = None,
    longitude: float | None = None,
) -> bytes:
    """A REQUEST (or, once cancelled, a CANCEL) that calendars match to earlier ones by UID and SEQUENCE."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Musee national de la Resistance//Visit booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", now)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", location)
    event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if latitude is not None and longitude is not None:
        event.add("geo", (latitude, longitude))
    organizer = icalendar.vCalAddress(f"mailto:{organizer_email}")
    event.add("organizer", organizer)
    if attendee_email:
        attendee = icalendar.vCalAddress(f"mailto:{attendee_email}")
        attendee.params["ROLE"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["PARTSTAT"] = icalendar.vText("ACCEPTED")
        attendee.params["RSVP"] = icalendar.vText("FALSE")
        event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical()


def guide_uid(reference: str, guide_id: int, domain: str) -> str:
    """One calendar entry per tour and guide: the emails and the feed name it alike."""
    return f"{reference}-guide-{guide_id}@{domain}"


def guide_feed_calendar(*, name: str, events: list[dict], now: dt.datetime) -> bytes:
    """A guide's subscribable feed: one VEVENT per tour they hold (uid, sequence, start, end,
    summary, description, location)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Musee national de la Resistance//Guide tours//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for values in events:
        event = icalendar.Event()
        event.add("dtstamp", now)
        for key in ("uid", "sequence", "summary", "description", "location"):
            event.add(key, values[key])
        event.add("dtstart", values["start"])
        event.add("dtend", values["end"])
        event.add("status", "CONFIRMED" if values.get("confirmed") else "TENTATIVE")
        calendar.add_component(event)
    return calendar.to_ical()
