"""Choosing guides, without an app: rare languages spared, a fair share of hours, limits, half-days."""

from __future__ import annotations

import datetime as dt

from booking.guide_rules import Candidate, GuideLimits, choose_guides, part_covers, part_hours, parts_touched


def test_the_guide_with_fewer_languages_goes_first_so_the_rare_language_stays_free():
    versatile = Candidate(1, ("fr", "nl", "en", "de"))
    plain = Candidate(2, ("fr", "nl", "en"), week_hours=6)
    assert choose_guides([versatile, plain], 1) == [2]


def test_among_equally_versatile_guides_the_one_with_fewest_hours_that_week_goes_first():
    busy = Candidate(1, ("fr", "nl"), week_hours=6, month_hours=6)
    idle = Candidate(2, ("fr", "nl"), week_hours=0, month_hours=20)
    assert choose_guides([busy, idle], 1) == [2]


def test_with_equal_hours_that_week_the_month_decides_then_the_id():
    first = Candidate(1, ("fr",), week_hours=2, month_hours=10)
    second = Candidate(2, ("fr",), week_hours=2, month_hours=4)
    third = Candidate(3, ("fr",), week_hours=2, month_hours=4)
    assert choose_guides([first, second, third], 2) == [2, 3]


def test_too_few_guides_gives_none():
    assert choose_guides([Candidate(1, ("fr",))], 2) == []


def test_limits_are_off_by_default():
    tired = Candidate(1, ("fr",), day_tours=5, week_tours=20)
    assert choose_guides([tired], 1) == [1]


def test_a_limit_per_day_leaves_out_the_guide_who_reached_it():
    limits = GuideLimits(per_day=2)
    assert choose_guides([Candidate(1, ("fr",), day_tours=2), Candidate(2, ("fr", "nl"), day_tours=1)], 1,
                         limits) == [2]
    assert choose_guides([Candidate(1, ("fr",), day_tours=2)], 1, limits) == []


def test_a_limit_per_week_leaves_out_the_guide_who_reached_it():
    limits = GuideLimits(per_week=3)
    assert choose_guides([Candidate(1, ("fr",), week_tours=3), Candidate(2, ("fr",), week_tours=2)], 1,
                         limits) == [2]


def test_limits_come_from_configuration_and_zero_means_none():
    assert GuideLimits.from_config({"GUIDE_MAX_TOURS_PER_DAY": 0, "GUIDE_MAX_TOURS_PER_WEEK": 0}) == GuideLimits()
    assert GuideLimits.from_config({"GUIDE_MAX_TOURS_PER_DAY": 2, "GUIDE_MAX_TOURS_PER_WEEK": 5}) == GuideLimits(2, 5)


def test_a_morning_away_covers_a_tour_before_13_00_and_not_one_after():
    t = dt.time
    assert part_covers("morning", t(9), t(11))
    assert part_covers("morning", t(11), t(13))
    assert not part_covers("morning", t(13), t(15))
    assert part_covers("afternoon", t(13), t(15))
    assert not part_covers("afternoon", t(10), t(12))


def test_a_tour_across_noon_touches_both_halves_and_the_whole_day_covers_everything():
    t = dt.time
    assert parts_touched(t(12), t(14)) == ["day", "morning", "afternoon"]
    assert parts_touched(t(9), t(11)) == ["day", "morning"]
    assert part_covers("day", t(15), t(17))


def test_the_parts_span_the_opening_hours():
    t = dt.time
    assert part_hours("day", t(9), t(17)) == (t(9), t(17))
    assert part_hours("morning", t(9), t(17)) == (t(9), t(13))
    assert part_hours("afternoon", t(9), t(17)) == (t(13), t(17))
