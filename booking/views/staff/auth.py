"""Staff sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required, login_user, logout_user

from booking.context import db
from booking.forms import LoginForm
from booking.services.staff import authenticate
from booking.views.staff import bp, public


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/staff") and not urlparse(target).netloc:
        return target
    return url_for("staff.index")


@bp.route("/login", methods=["GET", "POST"])
@public
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
