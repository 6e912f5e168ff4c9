"""Staff sign-in and sign-out, sessions that end, and the forgotten-password pages."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_time, gettext, ngettext
from flask_login import current_user, login_required, login_user, logout_user

from booking.context import db, now
from booking.extensions import login_manager, rate_limited
from booking.forms.accounts import ForgotPasswordForm, LoginForm, NewPasswordForm
from booking.i18n import current_language
from booking.services import passwords
from booking.services import staff as accounts
from booking.views.staff import PUBLIC_ENDPOINTS, SESSION_TOKEN, bp, public

# Kept in the signed cookie beside Flask-Login's user id.
SIGNED_IN_AT = "staff_signed_in_at"
AUTH_FINGERPRINT = "staff_auth"


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/staff") and not urlparse(target).netloc:
        return target
    return url_for("staff.index")


def _lang() -> str | None:
    """Keep the page language (`?lang=`) across the redirects of these pages."""
    return request.args.get("lang") or None


def start_staff_session(user) -> None:
    """Sign `user` in for STAFF_SESSION_HOURS; the cookie expires then and the server checks it too."""
    lifetime = dt.timedelta(hours=current_app.config["STAFF_SESSION_HOURS"])
    token = accounts.open_session(db(), now(), user, lifetime)
    session.clear()  # nothing from before the sign-in carries over
    session[SESSION_TOKEN] = token
    login_user(user)
    session.permanent = True
    session[SIGNED_IN_AT] = now().isoformat()
    session[AUTH_FINGERPRINT] = accounts.session_fingerprint(user)


def _end_staff_session() -> None:
    logout_user()
    for key in (SIGNED_IN_AT, AUTH_FINGERPRINT, SESSION_TOKEN):
        session.pop(key, None)


@bp.before_request
def end_stale_session():
    """Sign out a session that outlived STAFF_SESSION_HOURS (by the app's clock), whose account was
    disabled, or whose password changed since (a reset ends the sessions an intruder may hold)."""
    if not current_user.is_authenticated:
        return None
    try:
        started = dt.datetime.fromisoformat(session.get(SIGNED_IN_AT, ""))
    except (TypeError, ValueError):
        started = None
    lifetime = dt.timedelta(hours=current_app.config["STAFF_SESSION_HOURS"])
    if (started is not None and now() - started <= lifetime and current_user.active
            and session.get(AUTH_FINGERPRINT) == accounts.session_fingerprint(current_user)):
        return None
    _end_staff_session()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return login_manager.unauthorized()


def _refusal(refused: accounts.SignInRefused) -> str:
    if refused.code == "locked":
        return gettext("Too many wrong passwords: this account is locked until %(time)s. Try again then, "
                       "choose a new password with “Forgot your password?”, or ask an administrator.",
                       time=format_time(refused.locked_until, "HH:mm"))
    if refused.code == "disabled":
        return gettext("This account is disabled. Please ask an administrator.")
    return gettext("This email and password do not match an active staff account.")


@bp.route("/login", methods=["GET", "POST"])
@public
@rate_limited("RATELIMIT_SIGN_IN")
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        policy = accounts.SignInPolicy.from_config(current_app.config)
        try:
            user = accounts.sign_in(db(), policy, now(), form.email.data, form.password.data)
        except accounts.SignInRefused as refused:
            form.password.errors = [_refusal(refused)]
            status = 401
        else:
            start_staff_session(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    accounts.record_sign_out(db(), now(), current_user._get_current_object(), session.get(SESSION_TOKEN))
    _end_staff_session()
    return redirect(url_for("staff.login", lang=_lang()))


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    """End every session of this account: on this browser and on any other (a tablet left signed in)."""
    ended = accounts.sign_out_everywhere(db(), now(), current_user._get_current_object())
    _end_staff_session()
    flash(ngettext("You are signed out on %(num)s browser.", "You are signed out on %(num)s browsers.",
                   ended), "success")
    return redirect(url_for("staff.login", lang=_lang()))


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@rate_limited("RATELIMIT_SIGN_IN")
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        passwords.request_password_reset(db(), now(), form.email.data, current_language())
        hours = current_app.config["STAFF_RESET_HOURS"]
        flash(ngettext("If an account exists for this address, we have sent it a link to choose a new "
                       "password. The link works for %(num)s hour.",
                       "If an account exists for this address, we have sent it a link to choose a new "
                       "password. The link works for %(num)s hours.", hours), "success")
        return redirect(url_for("staff.login", lang=_lang()))
    return render_template("staff/password_forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
@rate_limited("RATELIMIT_SIGN_IN")
def reset_password(token: str):
    """The page an emailed link opens: choose a new password, once, before the link expires."""
    config = current_app.config
    max_age = dt.timedelta(hours=config["STAFF_RESET_HOURS"])
    user = passwords.user_for_reset_token(db(), config["SECRET_KEY"], token, now(), max_age)
    if user is None:
        return render_template("staff/password_reset.html", form=None, user=None), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            passwords.reset_password(db(), config["SECRET_KEY"], now(), max_age, token, form.password.data)
        except accounts.AccountError:
            return render_template("staff/password_reset.html", form=None, user=None), 404
        flash(gettext("Your new password is saved. Please sign in with it."), "success")
        return redirect(url_for("staff.login", lang=_lang()))
    return render_template("staff/password_reset.html", form=form, user=user)
