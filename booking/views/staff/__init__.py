"""The staff back office: one blueprint, a module per area.

Every page needs a signed-in staff member; pages marked @admin_only also need the admin role.
The access test enumerates the routes of this blueprint, so a new page is covered by it at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import NamedTuple

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from booking.context import db, now
from booking.extensions import login_manager
from booking.models import StaffUser
from booking.services.staff import signed_in_user

bp = Blueprint("staff", __name__, url_prefix="/staff")

# Endpoints anyone may open: the sign-in and the password reset pages.
PUBLIC_ENDPOINTS: set[str] = {"staff.login"}
# Endpoints only admins may open; filled by @admin_only.
ADMIN_ENDPOINTS: set[str] = set()


class NavItem(NamedTuple):
    endpoint: str
    label: object
    admin: bool = False


# The menu of every staff page, in order; an item shows once its page exists.
NAV = [
    NavItem("staff.week", _l("Calendar")),
    NavItem("staff.requests", _l("Group requests")),
    NavItem("staff.bookings", _l("Bookings")),
    NavItem("staff.closures", _l("Closures")),
    NavItem("staff.capacity", _l("Capacity and guides")),
    NavItem("staff.stats", _l("Statistics")),
    NavItem("staff.exports", _l("Exports")),
    NavItem("staff.whatson", _l("What's on")),
    NavItem("staff.outbox", _l("Emails")),
    NavItem("staff.accessibility_review", _l("Accessibility")),
    NavItem("staff.accounts", _l("Staff accounts"), admin=True),
    NavItem("staff.audit", _l("Audit log"), admin=True),
    NavItem("staff.account", _l("My account")),
]


def public(view: Callable) -> Callable:
    """Open this staff endpoint to visitors who are not signed in (sign-in, password reset)."""
    PUBLIC_ENDPOINTS.add(f"staff.{view.__name__}")
    return view


def admin_only(view: Callable) -> Callable:
    """Refuse this page (403) to signed-in staff who are not admins."""
    ADMIN_ENDPOINTS.add(f"staff.{view.__name__}")

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


# The key, in the signed cookie, of the token that names this browser's session on the server.
SESSION_TOKEN = "staff_session"  # noqa: S105 (a key name, not a secret)


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """The signed-in account, only while its session exists on the server and is younger than
    STAFF_SESSION_HOURS: signing out deletes it, so a replayed cookie opens nothing."""
    token = session.get(SESSION_TOKEN)
    if not isinstance(token, str) or not token:
        return None
    try:
        uid = int(user_id)
    except ValueError:
        return None
    since = now() - dt.timedelta(hours=current_app.config["STAFF_SESSION_HOURS"])
    return signed_in_user(db(), uid, token, since)


@bp.before_request
def require_staff():
    """Every staff page but the public ones answers anonymous visitors with a redirect to the sign-in."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.after_request
def never_cache(response):
    """Staff pages hold personal data: no shared or back-button cache keeps them."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.app_context_processor
def staff_menu():
    def menu() -> list[NavItem]:
        if not current_user.is_authenticated:
            return []
        views = current_app.view_functions
        return [item for item in NAV if item.endpoint in views and (current_user.is_admin or not item.admin)]

    return {"staff_menu": menu}


@bp.get("/")
def index():
    """The staff home: the week's calendar once it exists, else the group requests."""
    target = "staff.week" if "staff.week" in current_app.view_functions else "staff.requests"
    return redirect(url_for(target))


from booking.views.staff import (  # noqa: E402,F401  (they add their routes to bp)
    accessibility,
    accounts,
    auth,
    bookings,
    calendar,
    capacity,
    closures,
    guides,
    language,
    outbox,
    reports,
    requests,
    whatson,
)
