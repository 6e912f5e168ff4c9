"""The accessibility statement, in the page's language, as the Brussels rules ask of public websites."""

from __future__ import annotations

from flask import current_app, render_template

from booking.context import db
from booking.services.accessibility import current_review
from booking.views.public import bp


@bp.get("/accessibility")
def accessibility():
    review = current_review(db(), current_app.config["ACCESSIBILITY_FIRST_REVIEW"])
    return render_template("public/accessibility.html", review=review)
