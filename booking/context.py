"""The app's shared state (rules, clock, database) and the request's session, for views and CLI."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from booking.schedule import Rules
from booking.tour_rules import TourRules


@dataclass
class AppState:
    rules: Rules
    tour_rules: TourRules
    clock: object  # anything with now() -> aware datetime
    engine: Engine
    sessions: sessionmaker[Session]


def state() -> AppState:
    return current_app.extensions["booking"]


def rules() -> Rules:
    return state().rules


def now() -> dt.datetime:
    return state().clock.now()


def db() -> Session:
    """The session of this request or CLI command, closed when its app context ends."""
    if "db_session" not in g:
        g.db_session = state().sessions()
    return g.db_session


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def tour_policy():
    """What the tour operations need from configuration."""
    from booking.services.tours import Policy

    config = current_app.config
    from booking.guide_rules import GuideLimits

    return Policy(rules=rules(), tour_rules=state().tour_rules, museum_email=config["MUSEUM_NOTIFY_EMAIL"],
                  museum_language=config["MUSEUM_NOTIFY_LANGUAGE"], guide_limits=GuideLimits.from_config(config))
