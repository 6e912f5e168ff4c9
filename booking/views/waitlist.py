"""The waiting list, for visitors: join a full slot's list, then confirm or decline an offer from the link."""

from __future__ import annotations

import datetime as dt

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from booking import schedule
from booking.context import db, now, policy, rules
from booking.extensions import rate_limited
from booking.forms import ConfirmForm, WaitlistForm
from booking.links import WAITLIST, visit_path, waitlist_path
from booking.messages import explain
from booking.models import WaitlistEntry
from booking.services import BookingClosed, BookingError
from booking.services.waitlist import WaitRequest, accept_offer, expire_offers, join_waitlist, leave_waitlist
from booking.views.public import bp, links_bp, open_private, slot_summary


def waitlist_opens_before(moment: dt.datetime) -> dt.datetime:
    """Slots starting after this can still take waiting-list entries (an offer could still come in time)."""
    return moment + dt.timedelta(minutes=rules().offer_cutoff_minutes)


@bp.route("/waitlist", methods=["GET", "POST"])
@rate_limited("RATELIMIT_BOOKING")
def waitlist():
    form = WaitlistForm()
    status = 200
    if request.method == "GET":
        form.start.process(MultiDict([("start", request.args.get("start", ""))]))
        form.party_size.data = form.party_size.data or 1
        if form.start.data is None:
            return redirect(url_for("public.calendar"))
    elif form.validate_on_submit():
        try:
            entry = join_waitlist(db(), rules(), now(), WaitRequest(
                start=form.start.data, people=form.party_size.data, name=form.name.data, email=form.email.data,
                language=g.lang))
        except BookingError as error:
            if error.code == "waitlist_places_free":
                flash(explain(error), "info")
                return redirect(url_for("public.book", start=request.form.get("start", "")))
            form[error.field or "start"].errors = [explain(error)]
            status = 422
        else:
            flash(gettext("You are on the waiting list. We have sent a confirmation to %(email)s.",
                          email=entry.email), "success")
            return redirect(waitlist_path(entry))
    else:
        status = 422
    return render_template("public/waitlist_join.html", form=form, slot=slot_summary(form)), status


def load_entry(reference: str, token: str) -> WaitlistEntry:
    return open_private(WAITLIST, reference, token)


@links_bp.get("/w/<reference>/<token>")
def waitlist_entry(reference: str, token: str):
    entry = load_entry(reference, token)
    if entry.status == "offered" and entry.offer_expires_at <= now():
        expire_offers(db(), rules(), now())
        db().refresh(entry)
    booking_link = visit_path(entry.booking) if entry.booking is not None else None
    return render_template("public/waitlist.html", entry=entry, token=token, form=ConfirmForm(),
                           booking_link=booking_link)


@links_bp.post("/w/<reference>/<token>/accept")
@rate_limited("RATELIMIT_MANAGE")
def accept_waitlist_offer(reference: str, token: str):
    entry = load_entry(reference, token)
    if ConfirmForm().validate_on_submit():
        try:
            booking = accept_offer(db(), rules(), now(), entry.id,
                                   email_day_cap=policy().email_day_cap)
        except BookingError as error:  # closed, expired, or the address's most bookings that day
            if error.code == "offer_expired":
                expire_offers(db(), rules(), now())
            flash(explain(error), "error")
        else:
            flash(gettext("Your visit is booked. We have sent a confirmation to %(email)s.", email=booking.email),
                  "success")
            return redirect(visit_path(booking))
    return redirect(url_for("links.waitlist_entry", reference=entry.reference, token=token))


@links_bp.post("/w/<reference>/<token>/leave")
@rate_limited("RATELIMIT_MANAGE")
def leave_waitlist_page(reference: str, token: str):
    entry = load_entry(reference, token)
    if ConfirmForm().validate_on_submit():
        try:
            leave_waitlist(db(), rules(), now(), entry.id)
        except BookingClosed as error:
            flash(explain(error), "error")
        else:
            flash(gettext("You have left the waiting list."), "success")
    return redirect(url_for("links.waitlist_entry", reference=entry.reference, token=token))


@bp.app_template_global()
def waitlist_open_for(start: dt.datetime) -> bool:
    """Whether a full slot still takes waiting-list entries."""
    return start > waitlist_opens_before(now()) and schedule.within_booking_window(start, now(), rules())
