""""Lost your link?": a visitor types their email and receives the links of their coming bookings."""

from __future__ import annotations

from flask import g, render_template, request

from booking.context import db, now, policy
from booking.extensions import rate_limited
from booking.forms import LostLinkForm
from booking.services.lost_links import send_lost_links
from booking.views.public import bp


@bp.route("/lost-link", methods=["GET", "POST"])
@rate_limited("RATELIMIT_SIGN_IN")
def lost_link():
    """The answer is the same whether or not the address has bookings, and whether or not it was
    throttled (one email per address every LOST_LINK_MINUTES, see services/lost_links.py)."""
    form = LostLinkForm()
    if request.method == "GET":
        return render_template("public/lost_link.html", form=form, sent=False)
    if not form.validate_on_submit():
        return render_template("public/lost_link.html", form=form, sent=False), 422
    send_lost_links(db(), now(), form.email.data, g.lang, policy().lost_link_window)
    return render_template("public/lost_link.html", form=form, sent=True)
