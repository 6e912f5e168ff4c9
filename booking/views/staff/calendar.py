"""The staff calendar: the week, a day with its check-in, and the printable day sheet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from booking import schedule
from booking.context import db, now, rules
from booking.dates import date_as
from booking.forms.base import START_TIMES
from booking.forms.desk import CheckInByReferenceForm, CheckInForm, WalkInForm, WalkInUndoForm
from booking.i18n import colon, current_language
from booking.models import Booking, TourRequest
from booking.services.attendance import AttendanceError, CheckInRefused, check_in_by_reference, mark
from booking.services.desk_day import desk_day
from booking.services.occupancy import DayOccupancy, SlotOccupancy, day_bookings, occupancy_between
from booking.services.walkins import WalkInError, add_walk_ins, undo_walk_in, walk_in_counts
from booking.views.staff import bp


@bp.app_template_global()
def staff_booking_url(reference: str) -> str | None:
    """The back office's page of a booking or a group, once that page exists; else None (no link)."""
    if "staff.booking" in current_app.view_functions:
        return url_for("staff.booking", reference=reference)
    return None


def _parse_day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _today() -> dt.date:
    return schedule.local_today(now(), rules())


@bp.get("/calendar")
def week():
    """Monday to Friday (the open weekdays) of the week holding ?date=YYYY-MM-DD, today's by default."""
    museum = rules()
    today = _today()
    chosen = _parse_day(request.args.get("date"))
    if chosen is None:
        # At the weekend, the week staff prepare is the coming one.
        chosen = today + dt.timedelta(days=7 - today.weekday()) if today.weekday() >= 5 else today
    monday = chosen - dt.timedelta(days=chosen.weekday())
    last = monday + dt.timedelta(days=max(museum.open_weekdays, default=-1))  # the week's last open weekday
    days = occupancy_between(db(), museum, monday, last, current_language()) if last >= monday else []
    days = [day for day in days if schedule.is_open_weekday(day.date, museum)]
    rows = [[day.slots[index] for day in days] for index in range(len(days[0].slots))] if days else []
    # Per column, what its forty cells share: the day, its page, and whether it is today.
    columns = [(day, url_for("staff.day", day=day.date.isoformat()), " today" if day.date == today else "")
               for day in days]
    return render_template(
        "staff/week.html", days=days, rows=rows, columns=columns, monday=monday,
        previous=monday - dt.timedelta(days=7), next=monday + dt.timedelta(days=7),
        this_week=today - dt.timedelta(days=today.weekday()),
        kept_back=any(slot.kept_back for day in days for slot in day.slots),
    )


def _day_or_404(text: str) -> dt.date:
    day = _parse_day(text)
    if day is None:
        abort(404)
    return day


def _day_data(day: dt.date) -> tuple[DayOccupancy, dict]:
    museum = rules()
    occupancy = occupancy_between(db(), museum, day, day, current_language())[0]
    return occupancy, day_bookings(db(), museum, day)


def _neighbour_open_day(day: dt.date, step: int) -> dt.date:
    """The previous (-1) or next (+1) open weekday; holidays are kept, since staff may open them."""
    day += dt.timedelta(days=step)
    while not schedule.is_open_weekday(day, rules()):
        day += dt.timedelta(days=step)
    return day


@bp.get("/day/<day>")
def day(day: str):
    """Every slot of a day with its bookings and groups, and their check-in."""
    date = _day_or_404(day)
    desk = desk_day(db(), rules(), date, current_language())
    return render_template("staff/day.html", day=desk.occupancy, bookings=desk.bookings, today=_today(),
                           waiting=desk.waiting,
                           can_mark=date <= _today(), previous=_neighbour_open_day(date, -1),
                           next=_neighbour_open_day(date, 1), walk_in_block=walk_in_block,
                           reference_form=CheckInByReferenceForm(formdata=None))


@bp.get("/day/<day>/sheet")
def sheet(day: str):
    """The day sheet for the front desk and the guides: one printed A4 page on a typical day."""
    date = _day_or_404(day)
    occupancy, bookings = _day_data(date)
    arrivals = [booking for slot in occupancy.slots for booking in bookings.get(slot.start, [])]
    return render_template("staff/sheet.html", day=occupancy, arrivals=arrivals)


def _explain(error: AttendanceError) -> str:
    messages = {
        "future": gettext("A visit on a later day cannot be marked yet."),
        "not_active": gettext("This visit is no longer booked, so it cannot be marked."),
        "unknown": gettext("Please check the form."),
        "not_found": gettext("This visit no longer exists."),
    }
    return messages.get(error.code, gettext("This request could not be completed."))


def _check_in(model, visit_id: int, kind: str):
    visit = db().get(model, visit_id)
    if visit is None:
        abort(404)
    form = CheckInForm()
    error = None
    if not form.validate_on_submit():
        error = gettext("Please check the form.")
    else:
        try:
            visit = mark(db(), rules(), now(), current_user._get_current_object(), visit,
                         form.attendance.data or None)
        except AttendanceError as refusal:
            error = _explain(refusal)
    date = schedule.to_local(visit.start, rules()).date()
    if request.accept_mimetypes.best == "application/json":
        html = render_template("staff/_checkin.html", kind=kind, visit=visit, can_mark=date <= _today())
        return jsonify(attendance=visit.attendance, error=error, html=html), 409 if error else 200
    if error:
        flash(f"{visit.reference}: {error}", "error")
    return redirect(url_for("staff.day", day=date.isoformat(), _anchor=f"{kind}-{visit.id}"))


@bp.post("/checkin/booking/<int:booking_id>")
def check_in_booking(booking_id: int):
    """Mark an individual booking arrived or no-show, or undo the mark; back to its row on the day page."""
    return _check_in(Booking, booking_id, "booking")


@bp.post("/checkin/tour/<int:tour_id>")
def check_in_tour(tour_id: int):
    """Mark a group arrived or no-show, or undo the mark; back to its row on the day page."""
    return _check_in(TourRequest, tour_id, "tour")


# --- check-in by reference -------------------------------------------------------------------------

def _who(visit: Booking | TourRequest) -> str:
    """Whose visit it is, as the desk reads it back to them: name, people, time (and guides)."""
    time = schedule.to_local(visit.start, rules()).strftime("%H:%M")
    if isinstance(visit, Booking):
        return gettext("%(name)s, %(people)s, %(time)s", name=visit.name or "—", time=time,
                       people=ngettext("%(num)s person", "%(num)s people", visit.party_size))
    people = gettext("%(pupils)s + %(adults)s", pupils=ngettext("%(num)s pupil", "%(num)s pupils", visit.pupils),
                     adults=ngettext("%(num)s adult", "%(num)s adults", visit.adults))
    return gettext("%(name)s, %(people)s, %(time)s", name=visit.organisation or "—", people=people,
                   time=f"{time}–{schedule.to_local(visit.end, rules()).strftime('%H:%M')}")


def _guides(visit: Booking | TourRequest) -> str:
    """The names of a group's guides after its outcome (" Guides: A, B."), so the desk knows whom to call."""
    names = [guide.name for guide in visit.guides] if isinstance(visit, TourRequest) else []
    return f" {colon(gettext('Guides'))} {', '.join(names)}." if names else ""


def _check_in_outcome(date: dt.date, text: str) -> tuple[str, str, Booking | TourRequest | None]:
    """("arrived" | "already" | a refusal's code, the sentence for the desk, the visit found)."""
    try:
        result = check_in_by_reference(db(), rules(), now(), current_user._get_current_object(), text, date)
    except CheckInRefused as refusal:
        visit = refusal.visit
        messages = {
            "empty": gettext("Type or scan a reference."),
            "unknown": gettext("No booking or group has the reference %(reference)s.", reference=refusal.reference),
        }
        if visit is not None:
            who = f"{visit.reference} · {_who(visit)}"
            messages["cancelled"] = colon(who) + " " + gettext("this visit is cancelled; it cannot be checked in.")
            messages["other_day"] = colon(who) + " " + gettext(
                "this visit is on %(day)s, not on this day.", day=date_as(visit.start))
        return refusal.code, messages.get(refusal.code, gettext("Please check the form.")), visit
    except AttendanceError as refusal:
        return refusal.code, _explain(refusal), None
    visit = result.visit
    when = schedule.to_local(visit.attendance_at, rules()).strftime("%H:%M")
    who = colon(f"{visit.reference} · {_who(visit)}")
    if result.already:
        return "already", who + " " + gettext("already arrived at %(time)s.", time=when) + _guides(visit), visit
    return "arrived", who + " " + gettext("arrived, checked in at %(time)s.", time=when) + _guides(visit), visit


@bp.post("/day/<day>/checkin")
def check_in_reference(day: str):
    """Check in the visit or group whose reference the desk typed or scanned; back to the day (or JSON)."""
    date = _day_or_404(day)
    form = CheckInByReferenceForm()
    if form.validate_on_submit():
        outcome, message, visit = _check_in_outcome(date, form.reference.data or "")
    else:
        outcome, message, visit = "invalid", "; ".join(
            str(text) for texts in form.errors.values() for text in texts) or gettext("Please check the form."), None
    ok = outcome in ("arrived", "already")
    if request.accept_mimetypes.best == "application/json":
        kind = "booking" if isinstance(visit, Booking) else "tour"
        row = f"{kind}-{visit.id}" if ok else None
        html = render_template("staff/_checkin.html", kind=kind, visit=visit, can_mark=True) if ok else None
        return jsonify(outcome=outcome, message=message, row=row, html=html), 200 if ok else 422
    flash(message, "success" if outcome == "arrived" else "info" if ok else "error")
    return redirect(url_for("staff.day", day=date.isoformat(), _anchor="checkin"))


# --- walk-ins -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WalkInBlock:
    """What staff/_walkins.html shows of one hour."""

    day: str  # YYYY-MM-DD
    time: str  # HH:MM, local
    anchor: str  # the slot's fragment on the day page
    walk_ins: int
    kept_back: int

    @property
    def kept_back_left(self) -> int:
        return max(self.kept_back - self.walk_ins, 0)


def walk_in_block(slot: SlotOccupancy) -> WalkInBlock:
    return WalkInBlock(slot.local_start.date().isoformat(), slot.local_start.strftime("%H:%M"), slot.anchor,
                       slot.walk_ins, slot.kept_back)


def _walk_in_answer(date: dt.date, form, change):
    """Run `change(start)` for the hour the form names; back to that hour, or JSON for checkin.js."""
    error = None
    time = form.time.data if form.time.data in START_TIMES else None
    if not form.validate_on_submit() or time is None:
        error = "; ".join(str(message) for messages in form.errors.values() for message in messages) or \
            gettext("Please check the form.")
    start = schedule.local_datetime(date, dt.time.fromisoformat(time or "09:00"), rules())
    if error is None:
        try:
            change(start)
        except WalkInError as refusal:
            error = {"future": gettext("Walk-ins of a later day cannot be counted yet."),
                     "none": gettext("No walk-in is counted in this hour."),
                     }.get(refusal.code, gettext("Please check the form."))
    anchor = "slot-" + start.strftime("%H%M")
    if request.accept_mimetypes.best == "application/json":
        walk = WalkInBlock(date.isoformat(), start.strftime("%H:%M"), anchor, *walk_in_counts(db(), start))
        html = render_template("staff/_walkins.html", walk=walk, can_mark=date <= _today())
        return jsonify(walk_ins=walk.walk_ins, error=error, html=html), 409 if error else 200
    if error:
        flash(f"{colon(start.strftime('%H:%M'))} {error}", "error")
    return redirect(url_for("staff.day", day=date.isoformat(), _anchor=anchor))


@bp.post("/day/<day>/walk-ins")
def walk_ins_add(day: str):
    """Count people let in without a booking (+1 or +n, 1–50) in an hour of the day; back to that hour."""
    form = WalkInForm()
    return _walk_in_answer(_day_or_404(day), form, lambda start: add_walk_ins(
        db(), rules(), now(), current_user._get_current_object(), start, form.people.data))


@bp.post("/day/<day>/walk-ins/undo")
def walk_ins_undo(day: str):
    """Take back one walk-in counted by mistake in an hour of the day; back to that hour."""
    return _walk_in_answer(_day_or_404(day), WalkInUndoForm(), lambda start: undo_walk_in(
        db(), rules(), now(), current_user._get_current_object(), start))
