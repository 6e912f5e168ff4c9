"""The public JSON API: availability, bookings, and the OpenAPI document that describes them."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, g, jsonify, request, url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import AnyOf, InputRequired

from booking import schedule
from booking.access import CODES as ACCESS_CODES
from booking.context import db, now, policy, rules
from booking.extensions import rate_limited
from booking.forms import TourRequestForm, VisitForm
from booking.i18n import best_language
from booking.messages import explain, explain_tour
from booking.models import LANGUAGES, Booking
from booking.services import BookingError, SlotFull
from booking.services.availability import days_between
from booking.services.bookings import VisitRequest, book_visit
from booking.services.tours import NoTimeFits, TourInputError, request_tour
from booking.views.groups import application_from
from booking.views.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api")

COMING_DAYS = 21  # the availability asked without dates: today and the next 20 days


class FedFromJson:
    """A page's form fed from JSON: no CSRF (no cookies), no consent box, no form id, no honeypot."""

    class Meta:
        csrf = False

    form_id = None
    consent = None
    website = None  # the pages' honeypot


class ApiVisitForm(FedFromJson, VisitForm):
    """The booking form's checks, fed from JSON."""

    language = StringField(validators=[InputRequired(), AnyOf(LANGUAGES, message="Use one of: fr, nl, en, de.")])


def _errors(errors: dict[str, str], status: int = 422):
    response = jsonify({"errors": errors})
    response.status_code = status
    return response


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(rules().tz).isoformat()


def _booking_json(booking: Booking) -> dict:
    return {"reference": booking.reference, "status": booking.status, "start": _iso(booking.start),
            "party_size": booking.party_size}


def _query_language() -> str | None:
    """Choose the answer's language from ?language= (else the browser's); an unknown code is refused:
    the message (in the browser's language) for a 422, else None."""
    asked = request.args.getlist("language")
    g.lang = asked[0] if asked and asked[0] in LANGUAGES else best_language()
    if asked and (len(asked) > 1 or asked[0] not in LANGUAGES):
        return gettext("Choose one of these languages: %(languages)s.", languages=", ".join(LANGUAGES))
    return None


@bp.get("/availability")
def availability():
    """Days from `from` to `to` (at most AVAILABILITY_MAX_DAYS) with their slots and places left;
    without `from`, from today; without `to`, three weeks from `from`."""
    errors = {}
    wrong_language = _query_language()
    if wrong_language:
        errors["language"] = wrong_language
    # Without dates, the coming three weeks by the app's clock: what the museum's website shows,
    # whatever the date on the visitor's own device.
    today = schedule.local_today(now(), rules())
    defaults = {"from": today.isoformat(), "to": (today + dt.timedelta(days=COMING_DAYS - 1)).isoformat()}
    days = {}
    for name in ("from", "to"):
        if name == "to" and "from" in request.args and "to" not in request.args and "from" in days:
            defaults["to"] = (days["from"] + dt.timedelta(days=COMING_DAYS - 1)).isoformat()
        try:
            days[name] = dt.date.fromisoformat(request.args.get(name, defaults[name]))
        except ValueError:
            errors[name] = gettext("Give a date as YYYY-MM-DD.")
        else:
            if not schedule.FIRST_DAY <= days[name] <= schedule.LAST_DAY:
                errors[name] = gettext("Give a date between %(first)s and %(last)s.",
                                       first=schedule.FIRST_DAY.isoformat(), last=schedule.LAST_DAY.isoformat())
    if errors:
        return _errors(errors)
    first, last = days["from"], days["to"]
    limit = current_app.config["AVAILABILITY_MAX_DAYS"]
    if last < first:
        return _errors({"to": gettext("The end date must not be before the start date.")})
    if (last - first).days + 1 > limit:
        return _errors({"to": gettext("Ask for at most %(days)s days at a time.", days=limit)})
    the_rules = rules()
    tz = the_rules.tz
    views = days_between(db(), the_rules, now(), first, last, g.lang)
    return _for_other_sites({
        "timezone": the_rules.timezone,
        "days": [
            {
                "date": view.date.isoformat(),
                "open": view.open,
                "closed_reason": _closed_reason(view),
                "slots": [
                    {"start": slot.start.astimezone(tz).isoformat(), "end": slot.end.astimezone(tz).isoformat(),
                     "capacity": slot.capacity, "remaining": slot.remaining, "bookable": slot.bookable}
                    for slot in view.slots
                ],
            }
            for view in views
        ],
    })


@bp.get("/whatson")
def whatson():
    """Exhibitions on show or coming and events to come, in ?language= (else the browser's), for the
    museum's own website; the same programme as the home page, beside the /events.ics feed."""
    from booking.services.whatson import programme

    wrong_language = _query_language()
    if wrong_language:
        return _errors({"language": wrong_language})
    tz = rules().tz
    exhibitions, events = programme(db(), schedule.local_today(now(), rules()), now())
    return _for_other_sites({
        "language": g.lang,
        "exhibitions": [{"title": item.title(g.lang), "description": item.description(g.lang),
                         "starts_on": item.starts_on.isoformat(),
                         "ends_on": item.ends_on.isoformat() if item.ends_on else None,
                         "panel_languages": item.panel_language_list,
                         "image": _public_url("links.media", name=item.image) if item.image else None}
                        for item in exhibitions],
        "events": [{"title": item.title(g.lang), "description": item.description(g.lang),
                    "start": item.start_at.astimezone(tz).isoformat(), "end": item.end_at.astimezone(tz).isoformat(),
                    "place": item.place, "booking_needed": item.booking_needed} for item in events],
    })


def _public_url(endpoint: str, **values) -> str:
    """An absolute link from PUBLIC_BASE_URL, as in emails: the reader is another site's page."""
    return current_app.config["PUBLIC_BASE_URL"] + url_for(endpoint, **values)


def _for_other_sites(body: dict):
    """A public read the museum's own website may fetch from the browser: allowed to the origins in
    EMBED_ORIGINS (none by default), kept by caches for EMBED_MAX_AGE_SECONDS, and answered 304 to a
    request whose If-None-Match names the same body, so a busy home page costs little to send."""
    response = jsonify(body)
    origin = request.headers.get("Origin")
    if origin and origin in current_app.config["EMBED_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
    response.vary.update(("Origin", "Accept-Language"))
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["EMBED_MAX_AGE_SECONDS"]
    response.add_etag()  # of the body: a change of places, closures or time gives another one
    return response.make_conditional(request)


def _closed_reason(view) -> str | None:
    if view.open:
        return None
    if view.closed_kind == "weekend":
        return gettext("Closed at weekends")
    return view.closed_reason


# Fields given as a JSON list of texts, each item a value of the form's field.
_LIST_FIELDS = ("access_needs",)


def _json_body(fields: tuple[str, ...]) -> tuple[dict, MultiDict]:
    """The request's JSON object and its form fields as text; answers 422 for anything else.

    The messages speak the body's `language` when it is a valid one, else the Accept-Language's.
    A list field that is not a list of texts is refused with its own message.
    """
    body = request.get_json(silent=True)
    language = body.get("language") if isinstance(body, dict) else None
    g.lang = language if language in LANGUAGES else best_language()
    if not isinstance(body, dict):
        abort(_errors({"body": gettext("Send a JSON object.")}))
    formdata = MultiDict({key: str(value) for key, value in body.items()
                          if key in fields and key not in _LIST_FIELDS
                          and isinstance(value, (str, int)) and not isinstance(value, bool)})
    for key in _LIST_FIELDS:
        if key in fields and key in body:
            items = body[key]
            if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
                abort(_errors({key: gettext("Give a list of: %(codes)s.", codes=", ".join(ACCESS_CODES))}))
            formdata.setlist(key, items)
    if "access_needs_other" in fields and not isinstance(body.get("access_needs_other", ""), str):
        abort(_errors({"access_needs_other": gettext(
            "Please say which other need you have, or untick “Another need”.")}))
    return body, formdata


@bp.post("/bookings")
@rate_limited("RATELIMIT_BOOKING")
def create_booking():
    """Book a visit. 201 with the booking; 409 slot_full; 422 with field errors for anything else."""
    _body, formdata = _json_body(("start", "party_size", "name", "email", "language", "note", "access_needs",
                                  "access_needs_other"))
    form = ApiVisitForm(formdata=formdata)
    if not form.validate():
        return _errors({name: messages[0] for name, messages in form.errors.items()})

    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 80:
        return _errors({"Idempotency-Key": gettext("Use at most 80 characters.")})
    try:
        booking, _created = book_visit(db(), rules(), now(), VisitRequest(
            start=form.start.data, party_size=form.party_size.data, name=form.name.data,
            email=form.email.data, language=form.language.data, note=form.note.data or "",
            access_needs=form.access_needs_value(),
            request_key=f"api:{key}" if key else None,
            email_day_cap=policy().email_day_cap,
        ))
    except SlotFull as error:
        return jsonify({"error": "slot_full", "message": explain(error)}), 409
    except BookingError as error:
        return _errors({error.field or "start": explain(error)})
    g.log_reference = booking.reference
    return jsonify(_booking_json(booking)), 201


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config))


class ApiTourForm(FedFromJson, TourRequestForm):
    """The request form's checks fed from JSON: `starts` is a list of ISO datetimes instead of date fields."""

    start_1_date = start_1_time = start_2_date = start_2_time = start_3_date = start_3_time = None
    language = StringField(validators=[InputRequired(), AnyOf(LANGUAGES, message="Use one of: fr, nl, en, de.")])


_TOUR_FIELDS = ("kind", "duration_minutes", "organisation", "address", "postcode", "contact_name", "contact_role",
                "email", "phone", "leader_name", "pupils", "adults", "group_kind", "tour_language", "needs",
                "topic", "notes", "language", "access_needs", "access_needs_other")


@bp.post("/tour-requests")
@rate_limited("RATELIMIT_GROUP_REQUEST")
def create_tour_request():
    """Request a group visit. 201 pending; 409 with a reason when no time fits; 422 for bad input."""
    body, formdata = _json_body(_TOUR_FIELDS)
    formdata.setdefault("kind", "guided")
    form = ApiTourForm(formdata=formdata)
    if form.kind.data != "guided":
        form.tour_language.validate_choice = False  # a self-guided visit has no tour language
    errors = {} if form.validate() else {name: messages[0] for name, messages in form.errors.items()}
    for name in ("group_kind", "pupils", "adults") + (("tour_language",) if form.kind.data == "guided" else ()):
        if name not in formdata:
            errors.setdefault(name, gettext("This field is required."))
    starts = body.get("starts")
    parsed = []
    if not isinstance(starts, list) or not 1 <= len(starts) <= 3:
        errors["starts"] = gettext("Give one to three start times.")
    else:
        for value in starts:
            try:
                parsed.append(schedule.parse_start(value, rules()) if isinstance(value, str) else None)
            except ValueError:
                parsed.append(None)
        if None in parsed:
            errors["starts"] = gettext("Give each start as an ISO 8601 date and time.")
    if errors:
        return _errors(errors)

    application = application_from(form, form.language.data, parsed)
    try:
        tour, _created = request_tour(db(), policy(), now(), application)
    except TourInputError as error:
        return _errors({_api_field(field): explain_tour(code) for field, code in error.errors.items()})
    except NoTimeFits as error:
        return jsonify({"error": "no_time_fits", "reason": error.reason, "reasons": error.reasons,
                        "message": explain_tour(error.reason)}), 409
    g.log_reference = tour.reference
    return jsonify({"reference": tour.reference, "status": tour.status, "start": _iso(tour.start)}), 201


def _api_field(field: str) -> str:
    """start_1 → starts[0]: the service numbers the requested times from one."""
    if field.startswith("start_"):
        return f"starts[{int(field.removeprefix('start_')) - 1}]"
    return field
