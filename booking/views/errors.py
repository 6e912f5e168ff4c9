"""The app's error pages, for every blueprint: a page in the visitor's language, or JSON under /api/."""

from __future__ import annotations

import datetime as dt
import uuid

from flask import Blueprint, current_app, g, render_template, request
from flask_babel import format_timedelta, gettext
from flask_wtf.csrf import CSRFError

from booking.extensions import retry_after_seconds
from booking.forms.public import VisitForm
from booking.i18n import best_language
from booking.views.public import slot_summary

bp = Blueprint("errors", __name__)

def _error_language() -> None:
    if not g.get("lang"):
        parts = request.path.strip("/").split("/")
        g.lang = parts[0] if parts and parts[0] in current_app.config["LANGUAGES"] else best_language()


@bp.app_errorhandler(404)
def not_found(error):
    if request.path.startswith("/api/"):
        return {"error": "not_found", "message": "No such resource."}, 404
    _error_language()
    return render_template("public/error.html", title=gettext("Page not found"),
                           message=gettext("This page does not exist, or this link is no longer valid.")), 404


@bp.app_errorhandler(405)
def method_not_allowed(error):
    allow = {"Allow": ", ".join(error.valid_methods or ())}  # RFC 9110: a 405 says what is allowed
    if request.path.startswith("/api/"):
        return {"error": "method_not_allowed", "message": "Method not allowed."}, 405, allow
    _error_language()
    return render_template("public/error.html", title=gettext("Not allowed"),
                           message=gettext("This page cannot be used like that.")), 405, allow


@bp.app_errorhandler(CSRFError)
def csrf_failed(error):
    """An expired or forged form: show it again, with what was typed, and a fresh token."""
    _error_language()
    message = gettext("This form has expired. Please check your details and send it again.")
    if request.endpoint == "public.book":
        form = VisitForm(formdata=request.form, meta={"csrf": True})
        form.form_id.data = form.form_id.data or uuid.uuid4().hex
        return render_template("public/book.html", form=form, slot=slot_summary(form),
                               form_error=message), 400
    return render_template("public/error.html", title=gettext("Form expired"), message=message), 400


@bp.app_errorhandler(429)
def too_many_requests(error):
    """A rate limit refused the request: say so, and when to try again (Retry-After for programs)."""
    seconds = retry_after_seconds()
    headers = {"Retry-After": str(seconds)}
    if request.path.startswith("/api/"):
        return {"error": "rate_limited", "retry_after": seconds,
                "message": "Too many requests from this address; retry after the number of seconds given."
                }, 429, headers
    _error_language()
    shown = seconds if seconds < 60 else -(-seconds // 60) * 60  # whole minutes, rounded up
    delay = format_timedelta(dt.timedelta(seconds=shown), threshold=1, add_direction=False)
    return render_template("public/error.html", title=gettext("Too many attempts"), message=gettext(
        "We received too many requests from your connection in a short time, so this one was not processed. "
        "Please try again in %(delay)s.", delay=delay)), 429, headers


@bp.app_errorhandler(500)
def server_error(error):
    if request.path.startswith("/api/"):
        return {"error": "server_error", "message": "Something went wrong on our side."}, 500
    _error_language()
    return render_template("public/error.html", title=gettext("Something went wrong"),
                           message=gettext("Please try again in a moment, or call us.")), 500
