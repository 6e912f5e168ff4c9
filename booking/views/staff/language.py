"""The back office's language: a choice (`?lang=`) lasts for the session and is kept with the account.

The menu's links carry no language, so without this every click fell back to the browser's.
"""

from __future__ import annotations

from flask import current_app, g, request, session
from flask_login import current_user

from booking.context import db
from booking.services import staff as accounts
from booking.views.staff import bp

CHOSEN = "staff_lang"  # in the signed session cookie


@bp.before_request
def staff_language():
    """The page's language: `?lang=`, else this session's choice, else the account's, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    signed_in = current_user.is_authenticated
    chosen = request.args.get("lang")
    if chosen in languages:
        session[CHOSEN] = chosen
        if signed_in and current_user.language != chosen:
            accounts.remember_language(db(), current_user.id, chosen)
    else:
        chosen = session.get(CHOSEN) or (current_user.language if signed_in else None)
    if chosen in languages:
        g.lang = chosen
