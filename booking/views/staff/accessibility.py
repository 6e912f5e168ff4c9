"""The accessibility statement's conformance status and review date, kept up to date by staff."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from booking.context import db, now
from booking.forms import AccessibilityReviewForm
from booking.services.accessibility import current_review, save_review
from booking.views.staff import bp


@bp.route("/accessibility", methods=["GET", "POST"])
def accessibility_review():
    review = current_review(db(), current_app.config["ACCESSIBILITY_FIRST_REVIEW"])
    form = AccessibilityReviewForm(data={"status": review.status, "reviewed_on": review.reviewed_on})
    if form.validate_on_submit():
        save_review(db(), now(), current_user._get_current_object(), form.status.data, form.reviewed_on.data)
        flash(gettext("The accessibility statement is updated."), "success")
        return redirect(url_for("staff.accessibility_review"))
    return render_template("staff/accessibility.html", form=form), 422 if form.is_submitted() else 200
