"""Pages for visitors: home, calendar, booking form, and the private page of each booking."""

from __future__ import annotations

import calendar as calendar_lib
import datetime as dt
import uuid
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from booking import schedule
from booking.context import db, now, policy, rules
from booking.extensions import rate_limited
from booking.forms.base import ConfirmForm
from booking.forms.public import MoveForm, VisitForm
from booking.i18n import best_language
from booking.links import VISIT, LinkKind, find_private, visit_path
from booking.messages import explain
from booking.models import Booking
from booking.presentation import access_offers_of
from booking.services import BookingClosed, BookingError
from booking.services.availability import DayView, check_bookable, days_between
from booking.services.bookings import VisitRequest, book_visit, cancel_booking, move_booking

bp = Blueprint("public", __name__, url_prefix="/<lang>")
links_bp = Blueprint("links", __name__)


@bp.url_value_preprocessor
def pull_language(endpoint, values):
    lang = (values or {}).pop("lang", None)
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    g.lang = lang


@bp.url_defaults
def add_language(endpoint, values):
    values.setdefault("lang", g.get("lang") or best_language())


@links_bp.after_request
def never_store_private_pages(response):
    """A private link's page (/b/, /g/, /w/) shows personal data: no cache, shared or back-button, keeps it."""
    if request.view_args and "token" in request.view_args:
        response.headers["Cache-Control"] = "no-store"
    return response


@links_bp.url_defaults
def keep_chosen_language(endpoint, values):
    """A booking's pages speak its language; a visitor who switched keeps their choice."""
    chosen = request.args.get("lang")
    if chosen in current_app.config["LANGUAGES"] and endpoint != "links.root":
        values.setdefault("lang", chosen)


@links_bp.get("/")
def root():
    response = redirect(url_for("public.home", lang=best_language()))
    response.headers["Vary"] = "Accept-Language"
    return response


@bp.get("/")
def home():
    from booking.services.whatson import programme

    exhibitions, events = programme(db(), schedule.local_today(now(), rules()), now())
    return render_template("public/home.html", exhibitions=exhibitions, events=events)


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html")


# --- the calendar -------------------------------------------------------------------------------

def _month_arg(today: dt.date) -> tuple[int, int]:
    try:
        first = dt.date.fromisoformat(request.args.get("month", "") + "-01")
    except ValueError:
        return today.year, today.month
    return first.year, first.month


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def month_page(year: int, month: int, day_url, month_url) -> dict:
    """What a month calendar template needs: weeks of days, links, and the neighbouring months."""
    the_rules, moment = rules(), now()
    today = schedule.local_today(moment, the_rules)
    last = schedule.last_bookable_day(moment, the_rules)
    # Only months with a bookable day can be shown; others fall back to the nearest one.
    if (year, month) < (today.year, today.month):
        year, month = today.year, today.month
    if (year, month) > (last.year, last.month):
        year, month = last.year, last.month
    days = days_between(db(), the_rules, moment, dt.date(year, month, 1),
                        dt.date(year, month, calendar_lib.monthrange(year, month)[1]), g.lang)
    lead = [None] * days[0].date.weekday()
    cells = lead + [(day, day_url(day.date) if day.bookable and day.in_window else None) for day in days]
    cells += [None] * (-len(cells) % 7)
    previous = _shift_month(year, month, -1)
    following = _shift_month(year, month, 1)
    return {
        "month_start": dt.date(year, month, 1),
        "weeks": [cells[i:i + 7] for i in range(0, len(cells), 7)],
        "previous_url": month_url(*previous) if previous >= (today.year, today.month) else None,
        "next_url": month_url(*following) if following <= (last.year, last.month) else None,
    }


def _month_param(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


@bp.get("/visit")
def calendar():
    today = schedule.local_today(now(), rules())
    year, month = _month_arg(today)
    day_url = url_for("public.day", day="DAY")  # built once; each day's link fills in its date
    page = month_page(
        year, month,
        day_url=lambda day: day_url.replace("DAY", day.isoformat()),
        month_url=lambda y, m: url_for("public.calendar", month=_month_param(y, m)),
    )
    return render_template("public/calendar.html", **page)


def _parse_day(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        abort(404)
    if not schedule.FIRST_DAY <= day <= schedule.LAST_DAY:
        abort(404)
    return day


def _day_view(day: dt.date) -> DayView:
    return days_between(db(), rules(), now(), day, day, g.lang)[0]


@bp.get("/visit/<day>")
def day(day: str):
    view = _day_view(_parse_day(day))
    return render_template("public/day.html", day=view)


# --- booking ------------------------------------------------------------------------------------

def slot_summary(form: VisitForm):
    """The chosen slot with its places left, for the form's heading; None if the start is unreadable."""
    start = form.start.data
    if start is None or not schedule.is_slot_start(start, rules()):
        return None
    local_day = schedule.to_local(start, rules()).date()
    view = _day_view(local_day)
    return next((slot for slot in view.slots if slot.start == start), None)


@bp.route("/book", methods=["GET", "POST"])
@rate_limited("RATELIMIT_BOOKING")
def book():
    """The booking form for one slot; a valid post books and redirects to the booking's page.

    A post that the calendar refuses (closed, past, full) shows the reason next to the time, with
    everything typed kept; the same form posted twice shows the first booking.
    """
    form = VisitForm()
    status = 200
    if request.method == "GET":
        form.start.process(MultiDict([("start", request.args.get("start", ""))]))
        form.form_id.data = uuid.uuid4().hex
        form.party_size.data = form.party_size.data or 1
        if form.start.data is None:
            return redirect(url_for("public.calendar"))
        try:
            check_bookable(db(), rules(), now(), form.start.data, g.lang)
        except BookingError as error:
            form.start.errors = [explain(error)]
    elif form.validate_on_submit():
        try:
            booking, created = book_visit(db(), rules(), now(), VisitRequest(
                start=form.start.data, party_size=form.party_size.data, name=form.name.data,
                email=form.email.data, language=g.lang, note=form.note.data or "",
                access_needs=form.access_needs_value(),
                request_key=form.request_key(),
                email_day_cap=policy().email_day_cap,
            ))
        except BookingError as error:
            form[error.field or "start"].errors = [explain(error)]
            status = 409 if error.code == "slot_full" else 422
        else:
            if created:
                flash(gettext("Your visit is booked. We have sent a confirmation to %(email)s.",
                              email=booking.email), "success")
            else:
                flash(gettext("This booking was already made; here it is."), "info")
            return redirect(visit_path(booking))
    else:
        status = 422
    return render_template("public/book.html", form=form, slot=slot_summary(form)), status


# --- a booking's private page -------------------------------------------------------------------

def open_private(kind: LinkKind, reference: str, token: str):
    """The record a private link names (a visit, a group visit, a waiting-list entry), its page in the
    record's language unless ?lang= chooses; a wrong reference or token is the same 404."""
    record = find_private(db(), kind, reference, token)
    if record is None:
        g.lang = g.get("lang") or _chosen_language(None)
        abort(404)
    g.lang = _chosen_language(record)
    return record


def load_visit(reference: str, token: str) -> Booking:
    return open_private(VISIT, reference, token)


def _chosen_language(record) -> str:
    chosen = request.args.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return record.language if record else best_language()


def _changeable(booking: Booking) -> bool:
    return booking.is_active and booking.start > now()


@links_bp.get("/b/<reference>/<token>")
def manage(reference: str, token: str):
    from booking.services.whatson import exhibitions_on

    booking = load_visit(reference, token)
    on_show = exhibitions_on(db(), schedule.to_local(booking.start, rules()).date()) if booking.is_active else []
    return render_template("public/manage.html", booking=booking, token=token, exhibitions=on_show,
                           changeable=_changeable(booking), cancel_form=ConfirmForm(),
                           access_offers=access_offers_of(booking, g.lang, db()))


@links_bp.route("/b/<reference>/<token>/cancel", methods=["GET", "POST"])
@rate_limited("RATELIMIT_MANAGE")
def cancel(reference: str, token: str):
    """Asks once more (a page of its own, no JavaScript needed); its button's post cancels."""
    booking = load_visit(reference, token)
    form = ConfirmForm()
    if request.method == "GET":
        if not _changeable(booking):
            return redirect(url_for("links.manage", reference=booking.reference, token=token))
        return render_template("public/cancel.html", booking=booking, form=form,
                               back=url_for("links.manage", reference=booking.reference, token=token))
    if form.validate_on_submit():
        try:
            cancel_booking(db(), rules(), now(), booking.id)
        except BookingClosed as error:
            flash(explain(error), "error")
        else:
            flash(gettext("Your visit is cancelled. We have sent you a confirmation."), "success")
    return redirect(url_for("links.manage", reference=booking.reference, token=token))


@links_bp.route("/b/<reference>/<token>/move", methods=["GET", "POST"])
@rate_limited("RATELIMIT_MANAGE")
def move(reference: str, token: str):
    """Choose a day, then a slot with room; the post moves the booking in one transaction.

    A refusal (full, closed, or a day on which the address already holds its most bookings) is
    shown next to the time, and nothing is changed.
    """
    booking = load_visit(reference, token)
    if not _changeable(booking):
        return redirect(url_for("links.manage", reference=booking.reference, token=token))
    form = MoveForm()
    status = 200
    chosen_day = None
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                move_booking(db(), rules(), now(), booking.id, form.start.data,
                             email_day_cap=policy().email_day_cap)
            except BookingError as error:
                form.start.errors = [explain(error)]
                status = 409 if error.code == "slot_full" else 422
            else:
                flash(gettext("Your visit has moved. We have sent you the new details."), "success")
                return redirect(url_for("links.manage", reference=booking.reference, token=token))
        else:
            status = 422
        if form.start.data:
            chosen_day = schedule.to_local(form.start.data, rules()).date()
    else:
        day_arg = request.args.get("day")
        if day_arg:
            chosen_day = _parse_day(day_arg)

    if chosen_day:
        year, month = chosen_day.year, chosen_day.month
    else:
        year, month = _month_arg(schedule.local_today(now(), rules()))
    move_url = url_for("links.move", reference=booking.reference, token=token, day="DAY")
    page = month_page(
        year, month,
        day_url=lambda d: move_url.replace("DAY", d.isoformat()),
        month_url=lambda y, m: url_for("links.move", reference=booking.reference, token=token,
                                       month=_month_param(y, m)),
    )
    day_view = _day_view(chosen_day) if chosen_day else None
    return render_template("public/move.html", booking=booking, token=token, form=form, day=day_view,
                           **page), status


# --- erasing one's own data ----------------------------------------------------------------------

@links_bp.route("/b/<reference>/<token>/delete", methods=["GET", "POST"])
@rate_limited("RATELIMIT_MANAGE")
def erase(reference: str, token: str):
    """Delete my data: a confirmation page, then the visit (if still to come) is cancelled and erased."""
    from booking.services.privacy import request_visit_erasure

    booking = load_visit(reference, token)
    return erase_page(
        booking, token, back=url_for("links.manage", reference=booking.reference, token=token),
        cancels=_changeable(booking),
        request_erasure=lambda mail_dir: request_visit_erasure(db(), rules(), now(), booking.id, mail_dir))


def erase_page(record, token: str, back: str, cancels: bool, request_erasure):
    """The "delete my data" page of a visit or a group visit (`record`), at the endpoint of this request:
    once confirmed, `request_erasure(mail_dir)` runs and the person goes `back`, as they do at once
    when the erasure was already asked for or done."""
    if record.anonymised_at or record.erase_requested_at:
        return redirect(back)
    form = ConfirmForm()
    if form.validate_on_submit():
        request_erasure(Path(current_app.config["MAIL_FILE_DIR"]))
        return redirect(back)
    return render_template("public/erase.html", form=form, back=back, reference=record.reference, cancels=cancels,
                           action=url_for(request.endpoint, reference=record.reference, token=token))
