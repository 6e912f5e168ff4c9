"""Flask extensions, created unbound here and bound in create_app."""

from flask_babel import Babel, gettext
from flask_login import LoginManager
from flask_mail import Mail
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
mail = Mail()

login_manager = LoginManager()
login_manager.login_view = "staff.login"
login_manager.session_protection = "basic"
login_manager.login_message = "Please sign in to see the staff pages."
login_manager.localize_callback = gettext


# --- rate limits ---------------------------------------------------------------------------------
# Flask-Limiter keeps its storage and settings on the Limiter object, so each app builds its own
# (make_limiter): two apps in one process (tests, or one per "worker") never share a counter unless
# they share a storage such as Redis.

# Public POSTs, limited per client address: endpoint -> the setting that holds its limits. Endpoints
# naming the same setting share one count (the booking form and POST /api/bookings are one budget).
RATE_LIMITED_POSTS = {
    "public.book": "RATELIMIT_BOOKING",
    "api.create_booking": "RATELIMIT_BOOKING",
    "public.groups": "RATELIMIT_GROUP_REQUEST",
    "api.create_tour_request": "RATELIMIT_GROUP_REQUEST",
    "links.cancel": "RATELIMIT_MANAGE",
    "links.move": "RATELIMIT_MANAGE",
    "links.accept_proposal": "RATELIMIT_MANAGE",
    "links.refuse_proposal": "RATELIMIT_MANAGE",
    "links.cancel_request": "RATELIMIT_MANAGE",
    "public.waitlist": "RATELIMIT_BOOKING",
    "links.accept_waitlist_offer": "RATELIMIT_MANAGE",
    "links.leave_waitlist_page": "RATELIMIT_MANAGE",
    "links.final_numbers": "RATELIMIT_MANAGE",
    "links.erase": "RATELIMIT_MANAGE",
    "links.erase_tour": "RATELIMIT_MANAGE",
    "public.lost_link": "RATELIMIT_SIGN_IN",
    "staff.login": "RATELIMIT_SIGN_IN",
    "staff.forgot_password": "RATELIMIT_SIGN_IN",
    "staff.reset_password": "RATELIMIT_SIGN_IN",
}


def client_address() -> str:
    """The visitor's address: the socket's peer, or the hop that TRUSTED_PROXIES proxies vouch for
    (ProxyFix rewrites REMOTE_ADDR); never a header the client could write itself."""
    from flask import request

    return request.remote_addr or "unknown"


def make_limiter(app):
    """A Limiter bound to `app`, with RATE_LIMITED_POSTS applied to the app's view functions."""
    from flask import current_app
    from flask_limiter import Limiter

    limiter = Limiter(key_func=client_address)
    limiter.init_app(app)
    for endpoint, setting in RATE_LIMITED_POSTS.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        rule = limiter.shared_limit(lambda setting=setting: current_app.config[setting], scope=setting,
                                    methods=["POST"])
        app.view_functions[endpoint] = rule(view)
    app.extensions["rate_limiter"] = limiter
    return limiter


def retry_after_seconds() -> int:
    """Seconds until the limit that refused this request lets the client in again (at least 1)."""
    import time

    from flask import current_app

    limit = current_app.extensions["rate_limiter"].current_limit
    if limit is None:
        return 60
    return max(1, int(limit.reset_at - time.time()))
