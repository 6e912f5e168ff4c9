"""Capacity (one slot, one day, the default) and the guides: the weekly roster, adding, editing, deactivating."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from booking import schedule
from booking.context import db, now, rules
from booking.dates import date_as
from booking.forms.admin import (
    DayCapacityForm,
    DefaultCapacityForm,
    GuideForm,
    KeptBackForm,
    RosterForm,
    SlotCapacityForm,
)
from booking.forms.base import ConfirmForm
from booking.i18n import current_language
from booking.services import BookingError
from booking.services.capacity import (
    CapacityBelowBooked,
    CapacityBelowKeptBack,
    TooManyKeptBack,
    custom_slots,
    set_day_capacity,
    set_day_kept_back,
    set_default_capacity,
    set_default_kept_back,
    set_slot_capacity,
    set_slot_kept_back,
)
from booking.services.guides import conflicts, hours_now
from booking.services.roster import (
    GuideBusy,
    active_guides,
    add_guide,
    all_guides,
    on_duty,
    set_guide_active,
    set_roster,
    week_days,
)
from booking.services.settings import default_capacity, default_kept_back
from booking.views.staff import bp


def _staff():
    return current_user._get_current_object()


def _when(moment: dt.datetime) -> str:
    local = schedule.to_local(moment, rules())
    return f"{date_as(local.date(), 'day_no_year')} {local.strftime('%H:%M')}"


def below_booked_message(error: CapacityBelowBooked | CapacityBelowKeptBack) -> str:
    if isinstance(error, CapacityBelowKeptBack):
        if error.default is not None:
            return ngettext("%(num)s place is kept back by default: the default capacity cannot go below %(num)s.",
                            "%(num)s places are kept back by default: the default capacity cannot go below %(num)s.",
                            error.default)
        return " ".join(
            ngettext("%(when)s keeps %(num)s place back: the capacity cannot go below %(num)s.",
                     "%(when)s keeps %(num)s places back: the capacity cannot go below %(num)s.", kept,
                     when=_when(start))
            for start, kept in error.slots)
    return " ".join(
        ngettext("%(when)s has %(num)s place taken: the capacity cannot go below %(num)s.",
                 "%(when)s has %(num)s places taken: the capacity cannot go below %(num)s.", booked, when=_when(start))
        for start, booked in error.slots)


def too_many_kept_back_message(error: TooManyKeptBack) -> str:
    if error.default_capacity is not None:
        return ngettext("The default capacity is %(num)s place: no more can be kept back by default.",
                        "The default capacity is %(num)s places: no more can be kept back by default.",
                        error.default_capacity)
    return " ".join(
        ngettext("%(when)s has %(taken)s of %(capacity)s places taken: at most %(num)s can be kept back.",
                 "%(when)s has %(taken)s of %(capacity)s places taken: at most %(num)s can be kept back.",
                 capacity - booked, when=_when(start), taken=booked, capacity=capacity)
        for start, capacity, booked in error.slots)


def _week(text: str | None) -> dt.date:
    """The Monday of the week asked for, else of this week (next week at the weekend)."""
    try:
        day = dt.date.fromisoformat(text or "")
    except ValueError:
        day = schedule.local_today(now(), rules())
        if not schedule.is_open_weekday(day, rules()) and day.weekday() >= 5:
            day += dt.timedelta(days=7 - day.weekday())
    return day - dt.timedelta(days=day.weekday())


def _page(status: int = 200, *, slot_form=None, day_form=None, default_form=None, guide_form=None,
          roster_form=None, week: dt.date | None = None, busy=None, kept_back_form=None):
    session, the_rules = db(), rules()
    week = week or _week(request.args.get("week"))
    days = week_days(week, the_rules)
    if roster_form is not None and roster_form.week.data == week:
        duty = roster_form.duty_by_day(days)  # what staff ticked, kept when refused
    else:
        duty = on_duty(session, days)
    default_form = default_form or DefaultCapacityForm(prefix="default", formdata=None,
                                                        capacity=default_capacity(session, the_rules.slot_capacity))
    return render_template(
        "staff/capacity.html",
        slot_form=slot_form or SlotCapacityForm(prefix="slot", formdata=None),
        day_form=day_form or DayCapacityForm(prefix="day", formdata=None),
        default_form=default_form, guide_form=guide_form or GuideForm(prefix="guide", formdata=None),
        default_capacity=default_capacity(session, the_rules.slot_capacity), custom=custom_slots(session, now()),
        default_kept_back=default_kept_back(session),
        kept_back_form=kept_back_form or KeptBackForm(prefix="kept", formdata=None),
        week=week, days=days, duty=duty, guides=active_guides(session), every_guide=all_guides(session),
        hours=hours_now(session, the_rules, now()),
        conflicted={c.entry.guide_id for c in conflicts(session, the_rules, now())},
        previous_week=week - dt.timedelta(days=7), next_week=week + dt.timedelta(days=7), busy=busy or [],
        holidays={day: schedule.holiday_name(day, the_rules, current_language()) for day in days},
        button=ConfirmForm(),
    ), status


@bp.get("/capacity")
def capacity():
    return _page()


@bp.post("/capacity/default")
def capacity_default():
    form = DefaultCapacityForm(prefix="default")
    if not form.validate_on_submit():
        return _page(422, default_form=form)
    try:
        changed = set_default_capacity(db(), rules(), now(), _staff(), form.capacity.data)
    except (CapacityBelowBooked, CapacityBelowKeptBack) as error:
        form.capacity.errors = [below_booked_message(error)]
        return _page(422, default_form=form)
    flash(" ".join([
        ngettext("The default capacity is now %(num)s place an hour.",
                 "The default capacity is now %(num)s places an hour.", form.capacity.data),
        ngettext("%(num)s slot to come is updated.", "%(num)s slots to come are updated.", changed),
    ]), "success")
    return redirect(url_for("staff.capacity"))


@bp.post("/capacity/slot")
def capacity_slot():
    form = SlotCapacityForm(prefix="slot")
    if not form.validate_on_submit():
        return _page(422, slot_form=form)
    start = schedule.local_datetime(form.date.data, dt.time.fromisoformat(form.time.data), rules())
    try:
        set_slot_capacity(db(), rules(), now(), _staff(), start, form.capacity.data)
    except (CapacityBelowBooked, CapacityBelowKeptBack) as error:
        form.capacity.errors = [below_booked_message(error)]
        return _page(422, slot_form=form)
    flash(ngettext("%(when)s now has %(num)s place.", "%(when)s now has %(num)s places.", form.capacity.data,
                   when=_when(start)), "success")
    return redirect(url_for("staff.capacity"))


@bp.post("/capacity/day")
def capacity_day():
    form = DayCapacityForm(prefix="day")
    if not form.validate_on_submit():
        return _page(422, day_form=form)
    try:
        set_day_capacity(db(), rules(), now(), _staff(), form.date.data, form.capacity.data)
    except (CapacityBelowBooked, CapacityBelowKeptBack) as error:
        form.capacity.errors = [below_booked_message(error)]
        return _page(422, day_form=form)
    flash(ngettext("Every hour of %(day)s now has %(num)s place.", "Every hour of %(day)s now has %(num)s places.",
                   form.capacity.data, day=date_as(form.date.data)), "success")
    return redirect(url_for("staff.capacity"))


@bp.post("/capacity/kept-back")
def capacity_kept_back():
    """Places kept back for visitors without a booking: by default, for a whole day or for one hour."""
    form = KeptBackForm(prefix="kept")
    if not form.validate_on_submit():
        return _page(422, kept_back_form=form)
    places, session, museum = form.kept_back.data, db(), rules()
    try:
        if form.scope.data == "default":
            changed = set_default_kept_back(session, museum, now(), _staff(), places)
            message = " ".join([
                ngettext("By default, %(num)s place is now kept back in each hour.",
                         "By default, %(num)s places are now kept back in each hour.", places),
                ngettext("%(num)s slot to come is updated.", "%(num)s slots to come are updated.", changed)])
        elif form.scope.data == "day":
            set_day_kept_back(session, museum, now(), _staff(), form.date.data, places)
            message = ngettext("Every hour of %(day)s now keeps %(num)s place back.",
                               "Every hour of %(day)s now keeps %(num)s places back.", places,
                               day=date_as(form.date.data))
        else:
            start = schedule.local_datetime(form.date.data, dt.time.fromisoformat(form.time.data), museum)
            set_slot_kept_back(session, museum, now(), _staff(), start, places)
            message = ngettext("%(when)s now keeps %(num)s place back.", "%(when)s now keeps %(num)s places back.",
                               places, when=_when(start))
    except TooManyKeptBack as error:
        form.kept_back.errors = [too_many_kept_back_message(error)]
        return _page(422, kept_back_form=form)
    flash(message, "success")
    return redirect(url_for("staff.capacity") + "#kept-back")


@bp.post("/roster")
def roster():
    form = RosterForm()
    if not form.validate_on_submit():
        abort(400)
    week = _week(form.week.data.isoformat())
    form.week.data = week
    days = week_days(week, rules())
    try:
        changed = set_roster(db(), rules(), now(), _staff(), form.duty_by_day(days))
    except GuideBusy as error:
        return _page(422, roster_form=form, week=week, busy=error.busy)
    if changed:
        flash(gettext("The roster of the week of %(day)s is saved.", day=date_as(week, "date")), "success")
    else:
        flash(gettext("Nothing changed in the roster."), "info")
    return redirect(url_for("staff.capacity", week=week.isoformat()) + "#roster")


@bp.post("/guides")
def guide_add():
    form = GuideForm(prefix="guide")
    if not form.validate_on_submit():
        return _page(422, guide_form=form)
    try:
        guide = add_guide(db(), now(), _staff(), form.name.data, form.languages.data, email=form.email.data,
                          language=form.language.data)
    except BookingError:
        form.name.errors = [gettext("A guide with this name already exists.")]
        return _page(422, guide_form=form)
    flash(gettext("%(name)s is added to the guides.", name=guide.name), "success")
    return redirect(url_for("staff.capacity") + "#guides")


def _set_active(guide_id: int, active: bool):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        guide = set_guide_active(db(), rules(), now(), _staff(), guide_id, active)
    except GuideBusy as error:
        return _page(422, busy=error.busy)
    except BookingError:
        abort(404)
    message = (gettext("%(name)s is back among the active guides.", name=guide.name) if active else
               gettext("%(name)s is no longer an active guide.", name=guide.name))
    flash(message, "success")
    return redirect(url_for("staff.capacity") + "#guides")


@bp.post("/guides/<int:guide_id>/deactivate")
def guide_deactivate(guide_id: int):
    return _set_active(guide_id, False)


@bp.post("/guides/<int:guide_id>/activate")
def guide_activate(guide_id: int):
    return _set_active(guide_id, True)
