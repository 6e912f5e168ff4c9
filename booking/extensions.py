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

# Public POSTs are limited per client address by a decorator on each view, where it is defined:
# renaming or moving a view keeps its limit.


def rate_limited(setting: str):
    """Limit this view's POSTs per client address by the limits in the config `setting`
    (e.g. "RATELIMIT_BOOKING"); views naming the same setting share one count (the booking form and
    POST /api/bookings are one budget). Put it under the route decorator."""

    def mark(view):
        view.rate_limit_setting = setting
        return view

    return mark


def rate_limits(app) -> dict[str, str]:
    """Each rate-limited endpoint of `app` and the setting of its limits."""
    return {endpoint: view.rate_limit_setting for endpoint, view in app.view_functions.items()
            if getattr(view, "rate_limit_setting", None)}


def client_address() -> str:
    """The visitor's address: the socket's peer, or the hop that TRUSTED_PROXIES proxies vouch for
    (ProxyFix rewrites REMOTE_ADDR); never a header the client could write itself."""
    from flask import request

    return request.remote_addr or "unknown"


def make_limiter(app):
    """A Limiter bound to `app`, applying the limits its views declare with @rate_limited."""
    from flask import current_app
    from flask_limiter import Limiter

    limiter = Limiter(key_func=client_address)
    limiter.init_app(app)
    for endpoint, setting in rate_limits(app).items():
        view = app.view_functions[endpoint]
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
