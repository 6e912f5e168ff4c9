"""The accessibility statement's conformance status and review date, kept up to date by staff, and the
texts visitors read about what the museum offers for their access needs (admins)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import force_locale, gettext
from flask_login import current_user

from booking.access import CODES as ACCESS_CODES
from booking.context import db, now
from booking.forms.admin import AccessibilityReviewForm, AccessOffersForm
from booking.models import LANGUAGES
from booking.presentation import default_access_offer
from booking.services.access_offers import save_offers, stored_offers
from booking.services.accessibility import current_review, save_review
from booking.views.staff import admin_only, bp


@bp.route("/accessibility", methods=["GET", "POST"])
def accessibility_review():
    review = current_review(db(), current_app.config["ACCESSIBILITY_FIRST_REVIEW"])
    form = AccessibilityReviewForm(data={"status": review.status, "reviewed_on": review.reviewed_on})
    if form.validate_on_submit():
        save_review(db(), now(), current_user._get_current_object(), form.status.data, form.reviewed_on.data)
        flash(gettext("The accessibility statement is updated."), "success")
        return redirect(url_for("staff.accessibility_review"))
    return render_template("staff/accessibility.html", form=form), 422 if form.is_submitted() else 200


def _default_offers() -> dict[str, dict[str, str]]:
    """Each need's default text in each language, from the catalogs."""
    defaults: dict[str, dict[str, str]] = {code: {} for code in ACCESS_CODES}
    for language in LANGUAGES:
        with force_locale(language):
            for code in ACCESS_CODES:
                defaults[code][language] = default_access_offer(code)
    return defaults


@bp.route("/accessibility/needs", methods=["GET", "POST"])
@admin_only
def access_offers():
    """What visitors are told the museum offers for each access need they tick (admins)."""
    stored = stored_offers(db())
    defaults = _default_offers()
    form = AccessOffersForm(data={f"offer_{code}_{language}": (stored.get(code) or {}).get(language) or text
                                  for code, texts in defaults.items() for language, text in texts.items()})
    if form.validate_on_submit():
        # Only what differs from the default is kept, so the defaults follow the catalogs.
        texts = {code: {language: text for language, text in form.texts(f"offer_{code}").items()
                        if text and text != defaults[code][language]} for code in ACCESS_CODES}
        save_offers(db(), now(), current_user._get_current_object(), texts)
        flash(gettext("The texts for access needs are saved."), "success")
        return redirect(url_for("staff.access_offers"))
    return render_template("staff/access_offers.html", form=form, codes=ACCESS_CODES), \
        422 if form.is_submitted() else 200
