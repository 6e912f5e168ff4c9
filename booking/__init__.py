"""The museum's visit-booking app: create_app builds it from configuration."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from flask import Flask, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix

import config
from booking import db as database
from booking import startup
from booking.clock import FixedClock, SystemClock
from booking.context import AppState, close_db
from booking.extensions import babel, csrf, login_manager, mail, make_limiter
from booking.policy import Policy
from booking.startup import StartupRefused

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from config.Config, then `overrides` (tests pass a mapping, CLOCK included)."""
    # INSTANCE_PATH (uploads, mail files) may live apart from the code, as deploy/install.sh sets it.
    instance = (overrides or {}).get("INSTANCE_PATH") or config.INSTANCE_DIR
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object("config.Config")
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        raise StartupRefused("SECRET_KEY is not set: export it, or run `make run` to create a development key.")
    startup.check_config(app.config)

    clock = app.config.get("CLOCK")
    if clock is None:
        clock = FixedClock(app.config["CLOCK_NOW"]) if app.config.get("CLOCK_NOW") else SystemClock()
    engine = database.create_engine(app.config["DATABASE_URL"])
    if app.config["CHECK_SCHEMA"] and click.get_current_context(silent=True) is None:
        # Serving (gunicorn, a test server): the schema must be the code's. Command-line tasks are
        # exempt, init-db being the one that brings it there; the worker checks for itself.
        startup.check_schema(engine)
        engine.dispose()  # no connection opened here outlives a fork (gunicorn's preload_app)
    sessions = database.make_session_factory(engine)
    app.extensions["booking"] = AppState(
        policy=Policy.from_config(app.config),
        clock=clock,
        engine=engine,
        sessions=sessions,
    )
    app.teardown_appcontext(close_db)

    from booking.notifications import dispatch

    dispatch.init_app(app, sessions)  # what a transaction queues is sent once it commits

    from booking import i18n

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=lambda: app.config["TIMEZONE"])
    csrf.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)

    from booking.views import (  # noqa: F401 (they add routes)
        accessibility,
        api,
        embed,
        errors,
        groups,
        guides,
        health,
        lost_links,
        public,
        staff,
        waitlist,
        whatson,
    )

    app.register_blueprint(public.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(public.links_bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(errors.bp)
    csrf.exempt(api.bp)  # JSON without cookies: no CSRF token to check
    make_limiter(app)  # after the blueprints: it wraps their public POST views

    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies > 0:  # the client's address is the hop the last `proxies` proxies saw, nothing a client wrote
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    from booking import cli, logs

    cli.init_app(app)
    logs.init_app(app)

    @app.before_request
    def refuse_nul():
        """A NUL character in the URL names nothing here: 404, before PostgreSQL (whose text cannot
        hold one) is asked about it. Form and JSON fields refuse it in their validators."""
        if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                          for key, value in request.args.items(multi=True)):
            abort(404)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # Booking pages carry their private token in the URL: never send it to another site.
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        return response

    return app
