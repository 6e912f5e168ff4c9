"""The words the audit log's sentences are made of (booking/audit_sentences.py), and the labels a
booking's history shares with them: instants and days as the back office writes them, lists of names,
titles in several languages, and what an email kind, an email's state or an overridden rule is called.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from babel.lists import format_list
from flask import current_app
from flask_babel import get_locale, gettext

from booking import schedule
from booking.dates import date_as
from booking.i18n import colon, current_language, hour
from booking.texts import in_language


def when(moment: dt.datetime) -> str:
    """An instant as the back office writes it: "4 Dec 2026, 10:00" (Brussels time)."""
    return f"{date_as(moment, 'short_date')}, {hour(moment)}"


def email_label(kind: str) -> str:
    labels = {
        "visit_confirmed": gettext("Confirmation email"),
        "visit_cancelled": gettext("Cancellation email"),
        "visit_moved": gettext("Email about the new time"),
        "tour_received": gettext("Email: request received"),
        "tour_confirmed": gettext("Email: visit confirmed"),
        "tour_declined": gettext("Email: request declined"),
        "tour_proposed": gettext("Email: another time proposed"),
        "tour_refused": gettext("Email: proposal refused"),
        "tour_cancelled": gettext("Email: visit cancelled"),
        "tour_expired": gettext("Email: proposal expired"),
        "museum_tour_update": gettext("Notice to the museum"),
    }
    return labels.get(kind, kind)


def email_status_label(status: str) -> str:
    labels = {"pending": gettext("waiting to be sent"), "sent": gettext("sent"), "failed": gettext("failed")}
    return labels.get(status, status)


def override_label(name: str) -> str:
    labels = {"lead_time": gettext("lead time"), "group_size": gettext("group size"),
              "capacity": gettext("capacity")}
    return labels.get(name, name)


def moment(value: Any) -> str:
    return when(dt.datetime.fromisoformat(value))


def day(value: Any) -> str:
    return date_as(dt.date.fromisoformat(value), "date")


def names(items: list[str]) -> str:
    """"Anne, Bart and Chloé" in the page's language."""
    return format_list([str(item) for item in items], locale=current_language()) if items else ""


def quoted(text: str) -> str:
    return gettext("“%(title)s”", title=text)


def title(titles: Any) -> str:
    """A title saved in several languages, in the page's (else another staff gave)."""
    if isinstance(titles, dict):
        return quoted(in_language(titles, current_language()))
    return quoted(str(titles))


def languages(codes: list[str]) -> str:
    known = get_locale().languages
    return names([known.get(code, code) for code in codes])


def role(role: str) -> str:
    return {"admin": gettext("Administrator"), "staff": gettext("Staff")}.get(role, role)


def labelled(label: str, value: str) -> str:
    """"Reason: Works." A full stop closes it unless what staff typed ends a sentence already."""
    end = "" if value.rstrip().endswith((".", "!", "?", "…")) else "."
    return f"{colon(label)} {value}{end}"


def message_and_reasons(details: dict) -> list[str]:
    said = []
    reason = in_language(details.get("reasons"), current_language())
    if reason:
        said.append(labelled(gettext("Reason"), reason))
    if details.get("reason"):
        said.append(labelled(gettext("Reason"), details["reason"]))
    if details.get("message"):
        said.append(labelled(gettext("Message"), details["message"]))
    return said


def overrides(details: dict) -> list[str]:
    if not details.get("overrides"):
        return []
    return [labelled(gettext("Overridden rules"), ", ".join(override_label(name) for name in details["overrides"]))]


def holiday(details: dict) -> str:
    day = dt.date.fromisoformat(details["day"])
    name = schedule.holiday_name(day, current_app.extensions["booking"].rules, current_language())
    return name or details.get("holiday") or ""


def plain(value: Any) -> str:
    """A detail of an unknown action, as text: no braces, no quotes, no escapes."""
    if isinstance(value, dict):
        return "; ".join(labelled(key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(plain(item) for item in value)
    if value is None:
        return "–"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d(T[\d:.]+([+-][\d:]+|Z)?)?", value):
        return moment(value) if "T" in value else day(value)
    return str(value)
