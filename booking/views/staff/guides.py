"""A guide's staff page: their details, tours to come, absences and conflicts; reassigning a tour; a new link."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from booking.context import db, now, policy, rules
from booking.forms.admin import GuideForm, ReassignForm, UnavailabilityForm
from booking.forms.base import ConfirmForm
from booking.links import guide_calendar_url, guide_url
from booking.messages import explain_tour, explain_unavailability
from booking.models import Guide
from booking.services import BookingError
from booking.services.guides import (
    UnavailabilityError,
    add_unavailability,
    coming_tours,
    coming_unavailability,
    conflicts,
    reissue_link,
    remove_unavailability,
)
from booking.services.roster import update_guide
from booking.services.tours import TourStateError, free_guides, reassign_guide
from booking.views.staff import bp


def _staff():
    return current_user._get_current_object()


def _guide(guide_id: int) -> Guide:
    guide = db().get(Guide, guide_id)
    if guide is None:
        abort(404)
    return guide


def _page(guide: Guide, status: int = 200, form: GuideForm | None = None, away_form=None, error: str | None = None):
    session, moment = db(), now()
    tours = coming_tours(session, moment, guide.id)
    others = {tour.id: [SelectChoice(g.id, g.name) for g in free_guides(
        session, rules(), tour.start, tour.duration_minutes, tour.tour_language or "", tour.id)
        if g.id not in {held.id for held in tour.guides}] for tour in tours}
    return render_template(
        "staff/guide_edit.html", guide=guide,
        form=form or GuideForm(prefix="guide", formdata=None, data={
            "name": guide.name, "languages": guide.languages, "email": guide.email or "", "language": guide.language}),
        tours=tours, others=others, away=coming_unavailability(session, rules(), moment, guide.id),
        conflicted={c.tour.id for c in conflicts(session, rules(), moment, guide.id)},
        away_form=away_form or UnavailabilityForm(prefix="away", formdata=None), button=ConfirmForm(),
        page_url=guide_url(guide), feed_url=guide_calendar_url(guide), error=error,
    ), status


@bp.route("/guides/<int:guide_id>", methods=["GET", "POST"])
def guide_edit(guide_id: int):
    """A guide's details (name, languages, email, language), tours to come, absences and conflicts."""
    guide = _guide(guide_id)
    form = GuideForm(prefix="guide")
    if not form.is_submitted():
        return _page(guide)
    if not form.validate():
        return _page(guide, 422, form=form)
    try:
        update_guide(db(), now(), _staff(), guide_id, form.name.data, form.languages.data, email=form.email.data,
                     language=form.language.data)
    except BookingError:
        form.name.errors = [gettext("A guide with this name already exists.")]
        return _page(guide, 422, form=form)
    flash(gettext("%(name)s is saved.", name=form.name.data), "success")
    return redirect(url_for("staff.capacity") + "#guides")


@bp.post("/guides/<int:guide_id>/link")
def guide_new_link(guide_id: int):
    """A new private link for the guide; the old one stops working."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        guide = reissue_link(db(), now(), _staff(), guide_id)
    except BookingError:
        abort(404)
    flash(gettext("%(name)s has a new private link; the old one no longer opens.", name=guide.name), "success")
    return redirect(url_for("staff.guide_edit", guide_id=guide_id))


@bp.post("/guides/<int:guide_id>/away")
def guide_away(guide_id: int):
    """Staff mark a guide away (a day or half a day) for them."""
    guide = _guide(guide_id)
    form = UnavailabilityForm(prefix="away")
    if not form.validate_on_submit():
        return _page(guide, 422, away_form=form)
    try:
        _entry, tours = add_unavailability(db(), rules(), now(), guide.id, form.day.data, form.part.data,
                                           form.note.data or "", staff=_staff())
    except UnavailabilityError as error:
        form.day.errors = [explain_unavailability(error.code, error.detail)]
        return _page(guide, 422, away_form=form)
    if tours:
        flash(gettext("Saved, but %(name)s holds a tour then: reassign it below.", name=guide.name), "error")
    else:
        flash(gettext("Saved: %(name)s is marked away then.", name=guide.name), "success")
    return redirect(url_for("staff.guide_edit", guide_id=guide_id))


@bp.post("/guides/<int:guide_id>/away/<int:entry_id>/remove")
def guide_away_remove(guide_id: int, entry_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        remove_unavailability(db(), rules(), now(), guide_id, entry_id, staff=_staff())
    except BookingError:
        abort(404)
    flash(gettext("Removed."), "success")
    return redirect(url_for("staff.guide_edit", guide_id=guide_id))


@bp.post("/guides/<int:guide_id>/reassign/<int:tour_id>")
def guide_reassign(guide_id: int, tour_id: int):
    """Give another guide this guide's place on a tour: the old guide gets a cancellation, the new
    one the assignment. If someone changed the tour's guides meanwhile, nothing changes and staff are told."""
    guide = _guide(guide_id)
    form = ReassignForm()
    if not form.validate_on_submit():
        return _page(guide, 422, error=gettext("Choose another guide."))
    try:
        tour = reassign_guide(db(), policy(), now(), tour_id, form.from_guide.data, form.to_guide.data, _staff())
    except TourStateError as error:
        return _page(guide, 409, error=explain_tour(error.code, error.detail))
    flash(gettext("%(reference)s is now guided by %(names)s.", reference=tour.reference,
                  names=", ".join(g.name for g in tour.guides)), "success")
    return redirect(url_for("staff.guide_edit", guide_id=guide_id))
