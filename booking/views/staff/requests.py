"""The group-visit requests staff decide: confirm, decline, propose another time."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from wtforms.fields.choices import SelectChoice

from booking import schedule
from booking.context import db, now, rules, tour_policy
from booking.forms import DecisionForm
from booking.messages import explain_tour
from booking.models import TourRequest
from booking.services.guides import conflicts
from booking.services.tours import TourStateError, confirm_tour, decline_tour, free_guides, propose_time, staff_queue
from booking.views.staff import bp


@bp.get("/requests")
def requests():
    policy = tour_policy()
    moment = now()
    queue = staff_queue(db(), policy, moment)
    upcoming = db().scalars(
        sa.select(TourRequest).where(TourRequest.status == "confirmed", TourRequest.start >= moment)
        .order_by(TourRequest.start).limit(50)
    ).all()
    choices = {entry.tour.id: _guide_choices(entry.tour) for entry in queue}
    # Tours whose guide is away then: flagged until staff reassign them (services/guides.py).
    away = {c.tour.id: c.entry.guide for c in conflicts(db(), policy.rules, moment)}
    return render_template("staff/requests.html", queue=queue, upcoming=upcoming, choices=choices,
                           form=DecisionForm(), policy=policy, away=away)


def _guide_choices(tour: TourRequest):
    if not tour.guided:
        return []
    held = tour.guides
    free = free_guides(db(), rules(), tour.start, tour.duration_minutes, tour.tour_language, tour.id)
    return [(g.id, g.name, g in held) for g in {g.id: g for g in held + free}.values()]


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
    return redirect(url_for("staff.requests"))


@bp.post("/tours/<int:tour_id>/confirm")
def confirm(tour_id: int):
    return _decide(tour_id, lambda tour, form: confirm_tour(
        db(), tour_policy(), now(), tour.id, guide_ids=form.guides.data or None, message=form.message.data or ""),
        gettext("%(reference)s is confirmed; the teacher has been emailed."))


@bp.post("/tours/<int:tour_id>/decline")
def decline(tour_id: int):
    def action(tour, form):
        if not form.reason.data:
            raise TourStateError("reason_missing")
        decline_tour(db(), tour_policy(), now(), tour.id, form.reason.data)

    return _decide(tour_id, action, gettext("%(reference)s is declined; the teacher has been emailed."))


@bp.post("/tours/<int:tour_id>/propose")
def propose(tour_id: int):
    def action(tour, form):
        if form.date.data is None:
            raise TourStateError("start_missing")
        start = schedule.local_datetime(form.date.data, dt.time.fromisoformat(form.time.data), rules())
        propose_time(db(), tour_policy(), now(), tour.id, start, form.message.data or "")

    return _decide(tour_id, action,
                   gettext("Another time is proposed for %(reference)s; the teacher has been emailed."))
