"""What a refusal from an operation says to the visitor, in their language."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext, ngettext

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
    if code == "email_day_cap":
        return ngettext("This email address already has %(num)s booking on this day, the most we accept. "
                        "For a larger group, please request a group visit.",
                        "This email address already has %(num)s bookings on this day, the most we accept. "
                        "For a larger group, please request a group visit.",
                        int(detail or current_app.config["MAX_BOOKINGS_PER_EMAIL_PER_DAY"]))
    if code == "cancelled":
        return gettext("This booking has been cancelled and can no longer be changed.")
    if code == "started":
        return gettext("This visit has already started and can no longer be changed.")
    if code == "waitlist_too_late":
        return gettext("This time is too close for a waiting list: places freed now could not be offered in time.")
    if code == "waitlist_places_free":
        return gettext("There are enough places free at this time: you can book them directly.")
    if code == "waitlist_already":
        return gettext("This email address is already on the waiting list for this time.")
    if code == "waitlist_closed":
        return gettext("This waiting-list entry is closed: there is nothing more to do here.")
    if code == "offer_expired":
        return gettext("Sorry, the time to confirm these places has passed; they went to the next person waiting.")
    return gettext("This request could not be completed.")


def explain_tour(code: str, detail: str | None = None) -> str:
    """A sentence for a group-visit refusal code (input, a time that does not fit, or a state)."""
    config = current_app.config
    days_min, days_max = config["TOUR_MIN_DAYS_AHEAD"], config["TOUR_MAX_DAYS_AHEAD"]
    per_guide, per_adult = config["TOUR_PUPILS_PER_GUIDE"], config["TOUR_PUPILS_PER_ADULT"]
    messages = {
        "not_a_slot": gettext("Choose one of the start times offered."),
        "ends_after_closing": gettext(
            "A visit must end by 17:00: a guided tour starts at 15:00 at the latest, a one-hour visit at 16:00."),
        "weekend": gettext("The museum is closed at weekends."),
        "holiday": gettext("The museum is closed on public holidays."),
        "too_soon": ngettext("Group visits are requested at least %(num)s day ahead.",
                             "Group visits are requested at least %(num)s days ahead.", days_min),
        "too_far": gettext("Group visits can be requested at most %(days)s days ahead.", days=days_max),
        "start_missing": gettext("Choose a date."),
        "pupils_min": gettext("A group has at least one pupil or participant."),
        "pupils_max_guided": gettext(
            "A guided tour takes at most %(max)s pupils: groups of %(per)s, each with its own guide.",
            max=config["TOUR_MAX_GUIDES"] * per_guide, per=per_guide),
        "group_too_large": gettext("The whole group, adults included, can be at most %(count)s people.",
                                   count=config["SLOT_CAPACITY"]),
        "adults_ratio": gettext("A school group needs at least one accompanying adult for every %(per)s pupils.",
                                per=per_adult),
        "tour_language": gettext("Choose the language of the tour."),
        "group_kind": gettext("Choose the kind of group."),
        "duration": gettext("Choose 1 or 2 hours."),
        "no_guide": gettext("No guide is free at this time."),
        "language": gettext("No guide on duty that day speaks the language you chose."),
        "capacity": gettext("The museum is too full at this time for your group."),
        "closed": gettext("The museum is closed at this time."),
        "proposal_expired": gettext("The time we proposed has expired; we no longer hold it for you."),
        "too_late_to_cancel": ngettext(
            "Your visit is less than %(num)s day away: please call us on %(phone)s to cancel or change it.",
            "Your visit is less than %(num)s days away: please call us on %(phone)s to cancel or change it.",
            config["TOUR_CANCEL_DAYS_BEFORE"], phone=config["MUSEUM"]["phone"]),
        "same_time": gettext("The group already holds this time."),
        "reason_missing": gettext("Please give a reason."),
        "guide_count": ngettext("Choose exactly %(num)s guide.", "Choose exactly %(num)s guides.",
                                int(detail or 1)),
        "guide_unavailable": gettext("One of these guides is not free then, or does not speak the tour's language."),
        "guides_changed": gettext("Someone changed the guides of this visit meanwhile: here is how it stands now."),
        "not_guided": gettext("This group visits without a guide."),
        "started": gettext("This visit has already begun."),
        # Final numbers (the teacher's page): nothing changed when one of these is shown.
        "numbers_capacity": gettext(
            "The museum is too full at this time to welcome more people with your group. Your numbers are "
            "unchanged; to come with more people, please call us on %(phone)s.", phone=config["MUSEUM"]["phone"]),
        "numbers_no_guide": gettext(
            "These extra pupils need another guide, and none is free at this time. Your numbers are unchanged; "
            "please call us on %(phone)s.", phone=config["MUSEUM"]["phone"]),
        "numbers_unchanged": gettext("These are already your numbers."),
        "too_late_to_change": ngettext(
            "Your visit is less than %(num)s day away: please call us on %(phone)s to change your numbers.",
            "Your visit is less than %(num)s days away: please call us on %(phone)s to change your numbers.",
            config["TOUR_CANCEL_DAYS_BEFORE"], phone=config["MUSEUM"]["phone"]),
    }
    if code == "already_expired":
        code = "proposal_expired"
    if code in messages:
        return messages[code]
    if code.startswith("already_"):
        return gettext("This request has already been answered.")
    return gettext("This request could not be completed.")


def explain_unavailability(code: str, detail: str | None = None) -> str:
    """A sentence for an unavailability that could not be entered (services/guides.py)."""
    if code == "past":
        return gettext("This day has passed: choose a day to come.")
    if code == "closed_day":
        if detail == "weekend":
            return gettext("The museum is closed at weekends: no tour to miss that day.")
        if detail == "holiday":
            return gettext("The museum is closed on this public holiday: no tour to miss that day.")
        return gettext("The museum is closed then: no tour to miss.")
    if code == "already":
        return gettext("Already marked away at that time.")
    return gettext("This request could not be completed.")
