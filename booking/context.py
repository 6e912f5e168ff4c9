"""The app's shared state (rules, clock, database) and the request's session, for views and CLI."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from booking.policy import Policy
from booking.schedule import Rules
from booking.tour_rules import TourRules


@dataclass
class AppState:
    policy: Policy  # what operations need from configuration, read once
    clock: object  # anything with now() -> aware datetime
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def rules(self) -> Rules:
        return self.policy.rules

    @property
    def tour_rules(self) -> TourRules:
        return self.policy.tour_rules


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


def policy() -> Policy:
    """What operations need from configuration (rules, tour rules, limits, the museum's address)."""
    return state().policy
