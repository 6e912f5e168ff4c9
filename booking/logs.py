"""Logging: one line per request and per email, plain text or JSON, with private tokens redacted.

Lines go to stderr (journald keeps them under systemd). A private link's token never reaches a
log: the request line is built from the matched route with its secret arguments replaced, and
the query string is left out (a staff search can hold a name or an email address).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

from flask import Flask, g, request

REDACTED = "REDACTED"
# Route arguments that are secrets: private-link tokens, password-reset tokens, the feed's secret.
SECRET_ARGUMENTS = ("token", "secret")
_REFERENCE = re.compile(r"\b(?:NMR|GRP)-[0-9A-Z]{6}\b")

request_log = logging.getLogger("booking.request")


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's `fields`.

    A dozen lines rather than a dependency: the log's shape is part of what the tests check.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(app: Flask) -> None:
    """Send the `booking` loggers (Flask's app.logger among them) to stderr in LOG_FORMAT, once."""
    level = logging.getLevelName(str(app.config.get("LOG_LEVEL", "INFO")).upper())
    logger = logging.getLogger("booking")
    logger.setLevel(level if isinstance(level, int) else logging.INFO)
    if app.config.get("TESTING") or any(getattr(h, "booking_handler", False) for h in logger.handlers):
        return  # tests read records through caplog; a second app in one process adds no second handler
    handler = logging.StreamHandler(sys.stderr)
    handler.booking_handler = True
    if app.config.get("LOG_FORMAT", "text") == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)  # Flask's app.logger is this logger ("booking"): it then adds no handler of its own


def loggable_path() -> str:
    """The request's path with every secret route argument replaced by REDACTED."""
    path = request.path
    if request.url_rule is None or not request.view_args:
        return _redact_unmatched(path)
    for name, value in request.view_args.items():
        if any(secret in name for secret in SECRET_ARGUMENTS) and isinstance(value, str) and value:
            path = path.replace(value, REDACTED)
    return path


def _redact_unmatched(path: str) -> str:
    """A path that matched no route (a 404, a 405) may still be a mistyped private link: keep only
    its first two segments, so /b/NMR-…/<token> loses its token."""
    parts = path.split("/")
    return "/".join(parts[:3] + [REDACTED] if len(parts) > 3 else parts)


def _reference(response) -> str | None:
    """The booking or group reference a request concerns: its route's, else the one it created."""
    args = request.view_args or {}
    if isinstance(args.get("reference"), str):
        return args["reference"]
    if g.get("log_reference"):
        return g.log_reference
    location = response.headers.get("Location", "")
    found = _REFERENCE.search(location)
    return found.group(0) if found else None


def start_timer() -> None:
    g.request_started = time.perf_counter()


def log_request(response):
    started = g.get("request_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
    path = loggable_path()
    reference = _reference(response)
    fields = {"method": request.method, "path": path, "status": response.status_code,
              "duration_ms": round(duration_ms, 1)}
    if reference:
        fields["reference"] = reference
    request_log.info("%s %s %s %.1fms%s", request.method, path, response.status_code, duration_ms,
                     f" ref={reference}" if reference else "", extra={"fields": fields})
    return response


def init_app(app: Flask) -> None:
    configure(app)
    app.before_request(start_timer)
    app.after_request(log_request)
