"""Languages: the URL prefix chooses the locale; dates and times are formatted for it in Brussels time."""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, g, request, url_for
from flask_babel import format_time, get_locale, get_translations, gettext, pgettext
from markupsafe import Markup

from booking import qr
from booking.dates import date_as
from booking.presentation import access_need_label, access_need_mark, museum_facts

LANGUAGE_NAMES = {"fr": "Français", "nl": "Nederlands", "en": "English", "de": "Deutsch"}


def best_language() -> str:
    languages = current_app.config["LANGUAGES"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_locale() -> str:
    lang = g.get("lang")
    if lang:
        return lang
    if request:
        chosen = request.args.get("lang")  # pages without a language prefix, e.g. the staff pages
        return chosen if chosen in current_app.config["LANGUAGES"] else best_language()
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def switch_language_url(code: str) -> str:
    """This page in another language: the prefix changes, or `lang=` for pages without one."""
    if not request.endpoint:
        return url_for("public.home", lang=code)
    args = dict(request.view_args or {})
    query = request.args.to_dict()
    if "lang" in args:
        args["lang"] = code
    else:
        query["lang"] = code
    return url_for(request.endpoint, **args, **query)


def group_kind_label(kind: str) -> str:
    labels = {"primary": gettext("Primary school"), "secondary": gettext("Secondary school"),
              "higher": gettext("Higher education"), "adults": gettext("Adults")}
    return labels.get(kind, kind)


def tour_status_label(status: str) -> str:
    labels = {"pending": gettext("pending"), "proposed": gettext("another time proposed"),
              "confirmed": gettext("confirmed"), "declined": gettext("declined"),
              "refused": gettext("proposal refused"), "cancelled": gettext("cancelled"),
              "expired": gettext("proposal expired")}
    return labels.get(status, status)


def _page_translations():
    """The catalog of the current locale, remembered for the request: templates call it dozens of times.

    flask-babel looks the catalog up anew on every call (about 15 µs); this keeps it on flask-babel's
    own per-request namespace, keyed by the locale object, so force_locale (emails) still switches.
    """
    babel_state = g.get("_flask_babel")
    locale = getattr(babel_state, "babel_locale", None)
    cached = getattr(babel_state, "booking_translations", None)
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    babel_state = g.get("_flask_babel")
    if babel_state is not None:
        babel_state.booking_translations = (getattr(babel_state, "babel_locale", None), translations)
    return translations


def hour(moment: dt.datetime | dt.time | None) -> str:
    """"14:00" in the museum's time zone: Babel's "HH:mm", which every locale writes alike, without
    the cost of Babel's formatting (the week view shows dozens). A naive datetime is UTC, as for Babel."""
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(current_app.extensions["booking"].rules.tz).strftime("%H:%M")
    if isinstance(moment, dt.time):
        return moment.strftime("%H:%M")
    return format_time(moment, "HH:mm")  # anything else as Babel takes it (None: now)


def colon(label: str) -> str:
    """A label and the language's colon: "Date:", but "Date\u202f:" in French (a narrow no-break space)."""
    return label + pgettext("after a label, before its value", ":")


def weekday_names() -> list[tuple[str, str]]:
    """(short, full) names, Monday first, in the page's language, straight from Babel's locale data."""
    days = get_locale().days["format"]
    return [(days["abbreviated"][i], days["wide"][i]) for i in range(7)]


def init_app(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _page_translations().ugettext(s),
        ngettext=lambda s, p, n: _page_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _page_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.add_template_global(weekday_names)
    app.add_template_filter(colon)
    app.add_template_filter(date_as, "day")  # Friday 4 December 2026
    app.add_template_filter(lambda moment: date_as(moment, "date"), "short_day")  # 4 December 2026
    app.add_template_filter(date_as, "date_as")  # {{ day|date_as("short") }}: see booking/dates.py
    app.add_template_filter(hour)
    app.add_template_filter(lambda text: dt.datetime.fromisoformat(text), "parse_iso")
    app.add_template_filter(
        lambda moment: moment.astimezone(app.extensions["booking"].rules.tz).strftime("%Y-%m-%dT%H:%M"),
        "local_iso",
    )

    app.add_template_global(group_kind_label)
    app.add_template_global(tour_status_label)
    app.add_template_global(access_need_label)
    app.add_template_global(access_need_mark)
    # The reference as a QR code for the desk's scanner: {{ qr_svg(reference, title) }} (see macros.html).
    app.add_template_global(lambda reference, title: Markup(qr.reference_svg(reference, title)),  # noqa: S704
                            "qr_svg")

    @app.context_processor
    def language_context():
        lang = current_language()
        return {
            "lang": lang,
            "language_names": LANGUAGE_NAMES,
            "switch_language_url": switch_language_url,
            "museum": museum_facts(lang),
        }
