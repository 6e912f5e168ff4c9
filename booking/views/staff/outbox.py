"""Emails that could not be delivered: staff see why and send them again."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from booking.context import db, now
from booking.forms.base import ConfirmForm
from booking.services import BookingError
from booking.services.outbox import resend, undelivered
from booking.views.staff import bp


@bp.get("/emails")
def outbox():
    return render_template("staff/outbox.html", rows=undelivered(db()), form=ConfirmForm())


@bp.post("/emails/<int:message_id>/resend")
def resend_email(message_id: int):
    if not ConfirmForm().validate_on_submit():
        flash(gettext("Please check the form."), "error")
        return redirect(url_for("staff.outbox"))
    try:
        row = resend(db(), now(), current_user, message_id)
    except BookingError:
        flash(gettext("This email is no longer waiting to be sent."), "error")
    else:
        flash(gettext("The email to %(recipient)s is queued again.", recipient=row.recipient), "success")
    return redirect(url_for("staff.outbox"))
