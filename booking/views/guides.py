"""A guide's private page (their tours to come, the days they are away) and calendar feed."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from booking import schedule
from booking.context import db, now, rules
from booking.extensions import rate_limited
from booking.forms.admin import UnavailabilityForm
from booking.forms.base import ConfirmForm
from booking.messages import explain_unavailability
from booking.models import Guide
from booking.notifications.guides import guide_tour_lines, tour_summary
from booking.notifications.ics import guide_feed_calendar, guide_uid
from booking.notifications.message import message_id_domain
from booking.presentation import museum_facts
from booking.services import BookingError
from booking.services.guides import (
    UnavailabilityError,
    add_unavailability,
    coming_tours,
    coming_unavailability,
    feed_sequences,
    find_guide_by_token,
    remove_unavailability,
)
from booking.views.public import links_bp


def load_guide(token: str) -> Guide:
    """The guide the token opens (404 for a forged or revoked one), and the page's language: the
    guide's own unless the URL asks for another."""
    guide = find_guide_by_token(db(), current_app.config["SECRET_KEY"], token)
    if guide is None:
        abort(404)
    chosen = request.args.get("lang")
    g.lang = chosen if chosen in current_app.config["LANGUAGES"] else guide.language
    return guide


def _page(guide: Guide, token: str, form: UnavailabilityForm | None = None, status: int = 200, conflicts=()):
    session, moment = db(), now()
    tours = coming_tours(session, moment, guide.id)
    return render_template(
        "public/guide.html", guide=guide, token=token, tours=[(tour, guide_tour_lines(tour)) for tour in tours],
        away=coming_unavailability(session, rules(), moment, guide.id), conflicts=conflicts,
        form=form or UnavailabilityForm(formdata=None), button=ConfirmForm(),
        today=schedule.local_today(moment, rules()),
    ), status


@links_bp.get("/guide/<token>")
def guide_page(token: str):
    return _page(load_guide(token), token)


@links_bp.post("/guide/<token>/unavailable")
@rate_limited("RATELIMIT_MANAGE")
def guide_unavailable(token: str):
    """The guide is away on a day or half a day; a tour they hold then stands until staff reassign it."""
    guide = load_guide(token)
    form = UnavailabilityForm()
    if not form.validate_on_submit():
        return _page(guide, token, form, 422)
    try:
        entry, tours = add_unavailability(db(), rules(), now(), guide.id, form.day.data, form.part.data,
                                          form.note.data or "")
    except UnavailabilityError as error:
        form.day.errors = [explain_unavailability(error.code, error.detail)]
        return _page(guide, token, form, 422)
    if tours:
        return _page(guide, token, status=200, conflicts=tours)
    flash(gettext("Saved: you are marked away then. No tour will be given to you at that time."), "success")
    return redirect(url_for("links.guide_page", token=token))


@links_bp.post("/guide/<token>/unavailable/<int:entry_id>/remove")
@rate_limited("RATELIMIT_MANAGE")
def guide_available(token: str, entry_id: int):
    guide = load_guide(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        remove_unavailability(db(), rules(), now(), guide.id, entry_id)
    except BookingError:
        abort(404)
    flash(gettext("Removed: you are available again then."), "success")
    return redirect(url_for("links.guide_page", token=token))


@links_bp.get("/guide/<token>/calendar.ics")
def guide_calendar(token: str):
    """The guide's tours to come as a calendar feed a phone subscribes to."""
    guide = load_guide(token)
    session, moment = db(), now()
    facts = museum_facts(g.lang)
    domain = message_id_domain(current_app.config)
    sequences = feed_sequences(session, guide.id)
    events = [{
        "uid": guide_uid(tour.reference, guide.id, domain), "sequence": max(sequences.get(tour.id, 0), 0),
        "start": tour.start, "end": tour.end, "summary": tour_summary(tour),
        "description": "\n".join(guide_tour_lines(tour)), "location": facts["address_line"],
        "confirmed": tour.status == "confirmed",
    } for tour in coming_tours(session, moment, guide.id)]
    body = guide_feed_calendar(name=f"{facts['name']} – {guide.name}", events=events, now=moment)
    return current_app.response_class(body, mimetype="text/calendar",
                                      headers={"Content-Disposition": "inline; filename=tours.ics"})
