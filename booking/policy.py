"""What the museum's operations need from configuration, read once when the app is built.

Views take this one object from the request context (booking.context.policy) and hand it, or the
one setting an operation needs, to the services; no view reads a business setting from
configuration itself. Adding a setting means a field here and a line in from_config.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from booking.guide_rules import GuideLimits
from booking.schedule import Rules
from booking.tour_rules import TourRules


@dataclass(frozen=True)
class Policy:
    rules: Rules
    tour_rules: TourRules
    museum_email: str  # where tour requests and changes are announced (MUSEUM_NOTIFY_EMAIL)
    museum_language: str
    email_day_cap: int  # active bookings one address may hold on one day (MAX_BOOKINGS_PER_EMAIL_PER_DAY)
    overbook_max: int  # places the desk may add beyond an hour's capacity (STAFF_OVERBOOK_MAX)
    lost_link_window: dt.timedelta  # at most one "lost link" email per address in it (LOST_LINK_MINUTES)
    # At most so many tours per guide per day and per week (GUIDE_MAX_TOURS_PER_DAY, _PER_WEEK; 0: none).
    guide_limits: GuideLimits = GuideLimits()

    @classmethod
    def from_config(cls, config) -> Policy:
        return cls(
            rules=Rules.from_config(config),
            tour_rules=TourRules.from_config(config),
            museum_email=config["MUSEUM_NOTIFY_EMAIL"],
            museum_language=config["MUSEUM_NOTIFY_LANGUAGE"],
            email_day_cap=config["MAX_BOOKINGS_PER_EMAIL_PER_DAY"],
            overbook_max=config["STAFF_OVERBOOK_MAX"],
            lost_link_window=dt.timedelta(minutes=config["LOST_LINK_MINUTES"]),
            guide_limits=GuideLimits.from_config(config),
        )
