"""What a refusal from an operation says to the visitor, in their language."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext

from booking.services import BookingError


def explain(error: BookingError) -> str:
    """A sentence for a domain error's code (and detail: a holiday's name, a closure's reason)."""
    detail = error.detail or ""
    code = error.code
    if code == "not_a_slot":
        return gettext("This is not one of the museum's arrival times. Please choose a time in the calendar.")
    if code == "past":
        return gettext("This time has already passed. Please choose a later time.")
    if code == "too_far":
        return gettext("Visits can be booked at most %(days)s days ahead.",
                       days=current_app.config["BOOKING_HORIZON_DAYS"])
    if code == "closed_weekend":
        return gettext("The museum is closed at weekends.")
    if code == "closed_holiday":
        return gettext("The museum is closed on this public holiday: %(name)s.", name=detail)
    if code == "closed":
        if detail:
            return gettext("The museum is closed at that time: %(reason)s.", reason=detail)
        return gettext("The museum is closed at that time.")
    if code == "slot_full":
        return gettext("Sorry, there are not enough places left at this time for your group. "
                       "Please choose another time.")
    if code == "party_size":
        return gettext("Choose between %(low)s and %(high)s people.",
                       low=current_app.config["PARTY_MIN"], high=current_app.config["PARTY_MAX"])
    if code == "same_slot":
        return gettext("Your visit is already at this time. Please choose another time.")
    if code == "cancelled":
        return gettext("This booking has been cancelled and can no longer be changed.")
    if code == "started":
        return gettext("This visit has already started and can no longer be changed.")
    return gettext("This request could not be completed.")
