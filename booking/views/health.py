"""GET /healthz for monitors and load balancers: 200 when every check passes, 503 naming what fails."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from booking import startup
from booking.context import db, now
from booking.services.health import HealthLimits, check

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    config = current_app.config
    missing = startup.missing_catalogs(config["BABEL_TRANSLATION_DIRECTORIES"], tuple(config["LANGUAGES"]))
    health = check(db(), now(), HealthLimits.from_config(config), startup.head_revision(), missing)
    response = jsonify(health.as_json())
    response.status_code = 200 if health.ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
