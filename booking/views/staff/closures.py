"""Closures and public holidays: close days or hours (cancelling what is booked there), open a holiday."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from booking.context import db, now, policy, rules
from booking.dates import date_as
from booking.forms import ClosureForm, ConfirmForm
from booking.i18n import current_language
from booking.services.closures import (
    ClosureError,
    NeedsConfirmation,
    close_holiday,
    close_period,
    coming_closures,
    coming_holidays,
    open_holiday,
    period,
    remove_closure,
)
from booking.views.staff import bp


def _staff():
    return current_user._get_current_object()


def explain_closure(error: ClosureError) -> str:
    messages = {
        "closure_range": gettext("The closure must end after it starts."),
        "reason_missing": gettext("Give the reason in at least one language."),
        "not_a_holiday": gettext("This day is not a public holiday on a weekday."),
        "past": gettext("This day has passed."),
        "already_open": gettext("This holiday is already open."),
        "not_open": gettext("This holiday is not open."),
        "not_found": gettext("This closure no longer exists."),
    }
    if error.code == "has_bookings":
        count = int(error.detail or 0)
        return ngettext(
            "%(num)s visit is booked that day: close the day with a reason in the form below, "
            "which cancels it and tells the visitor, then close the holiday again.",
            "%(num)s visits are booked that day: close the day with a reason in the form below, "
            "which cancels them and tells the visitors, then close the holiday again.", count)
    return messages.get(error.code, gettext("This request could not be completed."))


def period_label(start: dt.datetime, end: dt.datetime) -> str:
    """"Tuesday 2 March 2027", "… to Friday 5 March 2027", or with the hours when not whole days."""
    tz = rules().tz
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if local_start.time() == dt.time.min and local_end.time() == dt.time.min:
        last = (local_end - dt.timedelta(days=1)).date()
        if last == local_start.date():
            return date_as(local_start.date())
        return gettext("%(first)s to %(last)s", first=date_as(local_start.date()),
                       last=date_as(last))
    if local_start.date() == local_end.date():
        return gettext("%(day)s, %(start)s–%(end)s", day=date_as(local_start.date()),
                       start=local_start.strftime("%H:%M"), end=local_end.strftime("%H:%M"))
    return gettext("%(first)s to %(last)s", first=_when(start), last=_when(end))


def _page(form: ClosureForm, status: int = 200):
    moment = now()
    return render_template("staff/closures.html", form=form, coming=coming_closures(db(), moment),
                           holidays=coming_holidays(db(), rules(), moment, current_language()),
                           button=ConfirmForm(), period_label=period_label), status


@bp.route("/closures", methods=["GET", "POST"])
def closures():
    """The coming closures and holidays, and the form to close. A post that would cancel visits
    answers with the list of them and asks to confirm; the confirmed post closes and cancels."""
    form = ClosureForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        start, end = period(rules(), form.first_day.data, form.last_day.data, form.start_time.data,
                            form.end_time.data)
        confirmed = {key for key in (form.confirmed.data or "").split(",") if key}
        _closure, affected = close_period(db(), policy(), now(), _staff(), start, end, form.reasons(),
                                          form.message.data or "", confirmed=confirmed)
    except NeedsConfirmation as needs:
        changed = bool(form.confirmed.data)
        form.confirmed.data = ",".join(sorted(needs.affected.keys()))
        return render_template("staff/closures_confirm.html", form=form, affected=needs.affected,
                               period=period_label(start, end), changed=changed), 200
    except ClosureError as error:
        form[error.field or "first_day"].errors = [explain_closure(error)]
        return _page(form, 422)
    if affected.count:
        flash(ngettext("The museum is closed: %(period)s. %(num)s visit was cancelled and told why.",
                       "The museum is closed: %(period)s. %(num)s visits were cancelled and told why.",
                       affected.count, period=period_label(start, end)), "success")
    else:
        flash(gettext("The museum is closed: %(period)s.", period=period_label(start, end)), "success")
    return redirect(url_for("staff.closures"))


def _when(moment: dt.datetime) -> str:
    return date_as(moment) + " " + moment.astimezone(rules().tz).strftime("%H:%M")


@bp.post("/closures/<int:closure_id>/remove")
def remove_closure_view(closure_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        remove_closure(db(), now(), _staff(), closure_id)
    except ClosureError as error:
        flash(explain_closure(error), "error")
    else:
        flash(gettext("The closure is removed; the museum is open again then. Cancelled visits stay cancelled."),
              "success")
    return redirect(url_for("staff.closures"))


def _holiday_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(404)


@bp.post("/holidays/<day>/open")
def open_holiday_view(day: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    the_day = _holiday_day(day)
    try:
        open_holiday(db(), rules(), now(), _staff(), the_day)
    except ClosureError as error:
        flash(explain_closure(error), "error")
    else:
        flash(gettext("%(day)s is open exceptionally: visitors and groups can book it.",
                      day=date_as(the_day)), "success")
    return redirect(url_for("staff.closures"))


@bp.post("/holidays/<day>/close")
def close_holiday_view(day: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    the_day = _holiday_day(day)
    try:
        close_holiday(db(), rules(), now(), _staff(), the_day)
    except ClosureError as error:
        flash(explain_closure(error), "error")
    else:
        flash(gettext("%(day)s is closed again, as a public holiday.", day=date_as(the_day)),
              "success")
    return redirect(url_for("staff.closures"))
