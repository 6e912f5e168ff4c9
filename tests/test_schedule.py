"""The calendar's rules, tested without an app or a database."""

import datetime as dt

import pytest

from booking import schedule
from booking.schedule import ClosurePeriod, Rules

RULES = Rules(extra_holidays={(5, 8): "Iris Day"})
BRUSSELS = RULES.tz
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BRUSSELS)


def test_a_day_has_eight_hourly_arrival_slots_from_nine_to_four():
    times = schedule.slot_starts(dt.date(2027, 3, 2), RULES)
    assert times == [dt.time(h) for h in range(9, 17)]


def test_slots_follow_the_configured_hours_and_length():
    rules = Rules(opening_time=dt.time(10), closing_time=dt.time(12, 30), slot_minutes=30)
    assert schedule.slot_starts(dt.date(2027, 3, 2), rules) == [
        dt.time(10), dt.time(10, 30), dt.time(11), dt.time(11, 30), dt.time(12)]


@pytest.mark.parametrize("day", [dt.date(2027, 3, 6), dt.date(2027, 3, 7)])
def test_weekends_are_closed(day):
    assert schedule.calendar_closure(day, RULES) == ("weekend", None)


@pytest.mark.parametrize("day", [dt.date(2027, 3, 1), dt.date(2027, 3, 5)])
def test_weekdays_without_holiday_are_open(day):
    assert schedule.calendar_closure(day, RULES) is None


@pytest.mark.parametrize(("day", "name"), [
    (dt.date(2026, 12, 25), "Christmas Day"),
    (dt.date(2027, 1, 1), "New Year's Day"),
    (dt.date(2027, 3, 29), "Easter Monday"),
    (dt.date(2026, 11, 11), "Armistice Day"),
])
def test_belgian_public_holidays_on_weekdays_are_closed_with_their_name(day, name):
    assert day.weekday() < 5
    assert schedule.calendar_closure(day, RULES) == ("holiday", name)


def test_holiday_names_come_in_the_visitor_language():
    assert schedule.holiday_name(dt.date(2026, 12, 25), RULES, "fr") == "Noël"
    assert schedule.holiday_name(dt.date(2026, 12, 25), RULES, "nl") == "Kerstmis"
    assert schedule.holiday_name(dt.date(2026, 12, 25), RULES, "de") == "Weihnachten"


def test_the_eighth_of_may_is_closed_in_brussels():
    day = dt.date(2028, 5, 8)  # a Monday
    assert schedule.calendar_closure(day, RULES) == ("holiday", "Iris Day")


def test_brussels_offset_changes_with_summer_time_in_march_2027():
    before = schedule.local_datetime(dt.date(2027, 3, 26), dt.time(10), RULES)
    after = schedule.local_datetime(dt.date(2027, 3, 30), dt.time(10), RULES)
    assert before.isoformat() == "2027-03-26T10:00:00+01:00"
    assert after.isoformat() == "2027-03-30T10:00:00+02:00"
    assert schedule.to_utc(before).hour == 9
    assert schedule.to_utc(after).hour == 8


def test_parse_start_reads_brussels_time_without_offset_and_keeps_an_explicit_one():
    assert schedule.parse_start("2027-03-30T10:00", RULES) == dt.datetime(2027, 3, 30, 8, tzinfo=UTC)
    assert schedule.parse_start("2027-03-30T08:00:00+00:00", RULES) == dt.datetime(2027, 3, 30, 8, tzinfo=UTC)
    with pytest.raises(ValueError):
        schedule.parse_start("next tuesday", RULES)


@pytest.mark.parametrize(("text", "expected"), [
    ("2027-03-02T10:00", True),
    ("2027-03-02T09:00", True),
    ("2027-03-02T16:00", True),
    ("2027-03-02T17:00", False),
    ("2027-03-02T08:00", False),
    ("2027-03-02T10:30", False),
    ("2027-03-30T10:00", True),  # after the change to summer time
])
def test_only_the_hourly_starts_between_nine_and_four_are_slots(text, expected):
    assert schedule.is_slot_start(at(text), RULES) is expected


def test_a_slot_can_be_booked_until_it_starts():
    start = at("2027-03-02T10:00")
    assert schedule.within_booking_window(start, start - dt.timedelta(minutes=1), RULES)
    assert not schedule.within_booking_window(start, start, RULES)
    assert not schedule.within_booking_window(start, start + dt.timedelta(minutes=1), RULES)


def test_booking_horizon_is_ninety_days_in_brussels_dates():
    now = at("2027-03-01T23:30")  # late on 1 March: the 90 days count from that date
    assert schedule.last_bookable_day(now, RULES) == dt.date(2027, 5, 30)
    assert schedule.within_booking_window(at("2027-05-30T16:00"), now, RULES)
    assert not schedule.within_booking_window(at("2027-05-31T09:00"), now, RULES)


def test_brussels_today_differs_from_utc_today_just_after_midnight():
    now = at("2027-03-02T00:30")  # 1 March 23:30 UTC
    assert now.astimezone(UTC).date() == dt.date(2027, 3, 1)
    assert schedule.local_today(now, RULES) == dt.date(2027, 3, 2)


def test_a_closure_overlapping_a_slot_closes_it_and_one_touching_its_edge_does_not():
    closure = ClosurePeriod(at("2027-03-02T12:00"), at("2027-03-02T14:00"), "Staff training")
    assert schedule.closure_for(at("2027-03-02T12:00"), at("2027-03-02T13:00"), [closure]) is closure
    assert schedule.closure_for(at("2027-03-02T13:00"), at("2027-03-02T14:00"), [closure]) is closure
    assert schedule.closure_for(at("2027-03-02T11:00"), at("2027-03-02T12:00"), [closure]) is None
    assert schedule.closure_for(at("2027-03-02T14:00"), at("2027-03-02T15:00"), [closure]) is None


def test_references_are_short_readable_and_normalised():
    from booking.references import ALPHABET, new_reference, normalise_reference

    reference = new_reference()
    assert reference.startswith("NMR-") and len(reference) == 10
    assert all(c in ALPHABET for c in reference[4:])
    assert not set("01ILOSZ25") & set(ALPHABET)
    assert normalise_reference(" nmr-7kq3px ") == "NMR-7KQ3PX"
    assert normalise_reference("7kq3px") == "NMR-7KQ3PX"


def test_manage_tokens_are_long_depend_on_the_version_and_the_key():
    from booking.tokens import manage_token, token_matches

    token = manage_token("key", "visit", 7, 1)
    assert len(token) >= 22  # 128 bits or more in base64url
    assert token_matches("key", "visit", 7, 1, token)
    assert not token_matches("key", "visit", 7, 2, token)
    assert not token_matches("key", "visit", 8, 1, token)
    assert not token_matches("other", "visit", 7, 1, token)
    assert not token_matches("key", "visit", 7, 1, token[:-1] + ("A" if token[-1] != "A" else "B"))
