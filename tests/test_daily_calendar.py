"""When the daily question posts: local time, daylight saving, days, grace, windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.engine.daily import (
    EVERY_DAY,
    DailySchedule,
    closes_at,
    due_posts,
    next_post_after,
    parse_days,
    parse_time,
    post_instant,
)
from bot.engine.model import PlaceRef


def schedule(
    at: str, zone: str, days: frozenset[int] = EVERY_DAY, close_after: timedelta | None = None
) -> DailySchedule:
    return DailySchedule(
        1, PlaceRef("discord", "g", "c"), parse_time(at), zone, days, None, close_after, None, "u"
    )


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_berlin_spring_forward_posts_at_the_first_valid_minute_after() -> None:
    # 2026-03-29: clocks go from 02:00 to 03:00; 02:30 never happens
    assert post_instant(date(2026, 3, 29), time(2, 30), "Europe/Berlin") == utc(
        2026, 3, 29, 1, 0
    )  # 03:00 CEST
    assert post_instant(date(2026, 3, 28), time(2, 30), "Europe/Berlin") == utc(2026, 3, 28, 1, 30)  # CET
    assert post_instant(date(2026, 3, 30), time(2, 30), "Europe/Berlin") == utc(2026, 3, 30, 0, 30)  # CEST


def test_berlin_fall_back_posts_once_at_the_first_occurrence() -> None:
    # 2026-10-25: clocks go from 03:00 back to 02:00; 02:30 happens twice
    assert post_instant(date(2026, 10, 25), time(2, 30), "Europe/Berlin") == utc(2026, 10, 25, 0, 30)  # CEST
    s = schedule("02:30", "Europe/Berlin")
    first, _ = due_posts(s, utc(2026, 10, 25, 0, 31))
    second_occurrence, _ = due_posts(s, utc(2026, 10, 25, 1, 31))  # 02:31 again, local
    assert [p.local_date for p in first] == [date(2026, 10, 25)]
    assert [p.local_date for p in second_occurrence] == [date(2026, 10, 25)]  # the same post: claimed once


def test_sao_paulo_and_other_zones_post_at_their_local_minute() -> None:
    assert post_instant(date(2026, 11, 26), time(9, 0), "America/Sao_Paulo") == utc(2026, 11, 26, 12, 0)
    assert post_instant(date(2026, 11, 26), time(9, 0), "Asia/Kolkata") == utc(2026, 11, 26, 3, 30)
    s = schedule("09:00", "America/Sao_Paulo")
    assert due_posts(s, utc(2026, 11, 26, 11, 59))[0] == []  # a minute early: nothing due yet
    due, _ = due_posts(s, utc(2026, 11, 26, 12, 0))
    assert [(p.local_date, p.late) for p in due] == [(date(2026, 11, 26), False)]


def test_days_of_the_week_filter() -> None:
    weekdays = schedule("08:00", "UTC", parse_days("mon-fri"))
    assert due_posts(weekdays, utc(2026, 11, 28, 8, 0))[0] == []  # a Saturday
    assert [p.local_date for p in due_posts(weekdays, utc(2026, 11, 27, 8, 0))[0]] == [date(2026, 11, 27)]
    assert next_post_after(weekdays, utc(2026, 11, 27, 8, 0)) == utc(2026, 11, 30, 8, 0)  # Friday → Monday


def test_catch_up_inside_the_grace_window_and_skip_outside() -> None:
    s = schedule("08:00", "Europe/Berlin")  # 07:00 UTC in winter
    due, missed = due_posts(s, utc(2026, 11, 26, 8, 30), grace=timedelta(hours=2))
    assert [(p.local_date, p.late) for p in due] == [(date(2026, 11, 26), True)]
    due, missed = due_posts(s, utc(2026, 11, 26, 9, 30), grace=timedelta(hours=2))
    assert due == [] and [p.local_date for p in missed] == [date(2026, 11, 25), date(2026, 11, 26)]


def test_the_window_lasts_until_the_next_post_and_never_more_than_a_day() -> None:
    daily = schedule("08:00", "UTC")
    assert closes_at(daily, utc(2026, 11, 26, 8, 0)) == utc(2026, 11, 27, 8, 0)
    weekly = schedule("08:00", "UTC", parse_days("mon"))
    assert closes_at(weekly, utc(2026, 11, 30, 8, 0)) == utc(2026, 12, 1, 8, 0)  # capped at 24 h
    short = schedule("08:00", "UTC", close_after=timedelta(minutes=30))
    assert closes_at(short, utc(2026, 11, 26, 8, 0)) == utc(2026, 11, 26, 8, 30)


def test_parse_days() -> None:
    assert parse_days("") == EVERY_DAY
    assert parse_days("mon,wed,fri") == {0, 2, 4}
    assert parse_days("sat-mon") == {5, 6, 0}
    with pytest.raises(ValueError):
        parse_days("funday")
