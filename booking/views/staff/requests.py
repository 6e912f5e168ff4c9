"""The group-visit requests staff decide: confirm, decline, propose another time."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta, gettext
from wtforms.fields.choices import SelectChoice

from booking import schedule
from booking.context import db, now, policy, rules
from booking.forms import DecisionForm
from booking.messages import explain_tour
from booking.models import TourRequest
from booking.services.inbox import STATES, requests_inbox
from booking.services.tours import TourStateError, confirm_tour, decline_tour, free_guides, propose_time
from booking.views.staff import bp


def _day_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


def _filters() -> dict[str, str]:
    """The inbox's GET parameters that a decision keeps (its form posts to a URL carrying them)."""
    return {name: request.args[name] for name in ("state", "from", "to") if request.args.get(name)}


@bp.app_template_filter("waited")
def waited(delta: dt.timedelta) -> str:
    """"3 days", "2 hours": how long a request has waited, in the reader's language."""
    return format_timedelta(delta, threshold=1.0)


@bp.get("/requests")
def requests():
    """The requests inbox: ?state=waiting|proposed|confirmed|declined|expired, ?from= and ?to= (visit days)."""
    state = request.args.get("state", "waiting")
    first, last = _day_arg("from"), _day_arg("to")
    if first and last and last < first:
        first, last = last, first
    if state == "confirmed" and not (first or last):
        first = schedule.local_today(now(), rules())  # the visits to come; ?from= reaches back
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    inbox = requests_inbox(db(), policy(), now(), state, first, last, page)
    dates = {name: day.isoformat() for name, day in (("from", inbox.first), ("to", inbox.last)) if day}
    return render_template("staff/requests.html", inbox=inbox, states=STATES, form=DecisionForm(),
                           filters=_filters(), dates=dates)


def _decide(tour_id: int, action, success: str):
    tour = db().get(TourRequest, tour_id)
    if tour is None:
        abort(404)
    form = DecisionForm()
    form.guides.choices = [SelectChoice(g.id, g.name) for g in tour.guides] + [
        SelectChoice(g.id, g.name) for g in free_guides(db(), rules(), tour.start, tour.duration_minutes,
                                            tour.tour_language or "fr", tour.id)]
    if not form.validate_on_submit():
        flash(gettext("Please check the form."), "error")
    else:
        try:
            action(tour, form)
        except TourStateError as error:
            flash(f"{tour.reference}: {explain_tour(error.code, error.detail)}", "error")
        else:
            flash(success % {"reference": tour.reference}, "success")
            return redirect(url_for("staff.requests", **_filters()))
    # Refused: back to the request's card, its forms still in view.
    return redirect(url_for("staff.requests", **_filters(), _anchor=f"tour-{tour.id}"))


@bp.post("/tours/<int:tour_id>/confirm")
def confirm(tour_id: int):
    return _decide(tour_id, lambda tour, form: confirm_tour(
        db(), policy(), now(), tour.id, guide_ids=form.guides.data or None, message=form.message.data or ""),
        gettext("%(reference)s is confirmed; the teacher has been emailed."))


@bp.post("/tours/<int:tour_id>/decline")
def decline(tour_id: int):
    def action(tour, form):
        if not form.reason.data:
            raise TourStateError("reason_missing")
        decline_tour(db(), policy(), now(), tour.id, form.reason.data)

    return _decide(tour_id, action, gettext("%(reference)s is declined; the teacher has been emailed."))


@bp.post("/tours/<int:tour_id>/propose")
def propose(tour_id: int):
    def action(tour, form):
        if form.date.data is None:
            raise TourStateError("start_missing")
        start = schedule.local_datetime(form.date.data, dt.time.fromisoformat(form.time.data), rules())
        propose_time(db(), policy(), now(), tour.id, start, form.message.data or "")

    return _decide(tour_id, action,
                   gettext("Another time is proposed for %(reference)s; the teacher has been emailed."))
