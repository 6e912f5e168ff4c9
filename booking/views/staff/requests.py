"""The staff pages: sign-in and the group-visit requests to decide."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from booking import schedule
from booking.context import db, now, rules, tour_policy
from booking.extensions import login_manager
from booking.forms import ConfirmForm, DecisionForm, LoginForm
from booking.messages import explain_tour
from booking.models import StaffUser, TourRequest
from booking.notifications.dispatch import deliver_after_commit
from booking.services.staff import authenticate
from booking.services.tours import TourStateError, confirm_tour, decline_tour, free_guides, propose_time, staff_queue

bp = Blueprint("staff", __name__, url_prefix="/staff")


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    try:
        return db().get(StaffUser, int(user_id))
    except ValueError:
        return None


@bp.before_request
def require_staff():
    """Every staff page but the sign-in answers anonymous visitors with a redirect to it."""
    if request.endpoint in ("staff.login",):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/staff") and not urlparse(target).netloc:
        return target
    return url_for("staff.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(db(), form.email.data, form.password.data)
        if user:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors = [gettext("This email and password do not match an active staff account.")]
        status = 401
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("staff.login"))


@bp.get("/")
def index():
    policy = tour_policy()
    moment = now()
    queue = staff_queue(db(), policy, moment)
    upcoming = db().scalars(
        sa.select(TourRequest).where(TourRequest.status == "confirmed", TourRequest.start >= moment)
        .order_by(TourRequest.start).limit(50)
    ).all()
    choices = {entry.tour.id: _guide_choices(entry.tour) for entry in queue}
    return render_template("staff/index.html", queue=queue, upcoming=upcoming, choices=choices,
                           form=DecisionForm(), logout_form=ConfirmForm(), policy=policy)


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
            deliver_after_commit()
            flash(success % {"reference": tour.reference}, "success")
    return redirect(url_for("staff.index"))


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
