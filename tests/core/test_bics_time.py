"""BICS timestamps: naive values are in BICS_TIME_ZONE, explicit zones win."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from core.bics_time import format_bics_date, format_bics_time, parse_bics_time


@pytest.fixture(autouse=True)
def brussels(settings):
    settings.BICS_TIME_ZONE = "Europe/Brussels"


@pytest.mark.parametrize(
    "value",
    ["2024-05-01 10:00:00", " 2024-05-01 10:00:00 ", "2024-05-01T10:00:00", "2024-05-01T10:00:00.000",
     "2024-05-01T08:00:00Z", "2024-05-01T09:00:00+01:00"],
)
def test_every_written_form_is_the_same_instant(value):
    assert parse_bics_time(value) == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def test_a_naive_value_takes_the_bics_zone():
    parsed = parse_bics_time("2024-01-15 12:30:00")
    assert parsed.tzinfo == ZoneInfo("Europe/Brussels") and parsed.astimezone(UTC).hour == 11


def test_a_date_is_midnight_in_the_bics_zone():
    assert parse_bics_time("2024-01-15") == datetime(2024, 1, 15, tzinfo=ZoneInfo("Europe/Brussels"))


@pytest.mark.parametrize("value", [None, "", "   ", "yesterday", "2024-13-45 10:00:00", 1714550400, ["x"]])
def test_unreadable_values_are_none(value):
    assert parse_bics_time(value) is None


def test_an_aware_datetime_passes_and_a_naive_one_gets_the_zone():
    aware = datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert parse_bics_time(aware) is aware
    assert parse_bics_time(datetime(2024, 5, 1, 10)) == aware


def test_formats_are_written_in_the_bics_zone():
    instant = datetime(2024, 5, 1, 22, 30, tzinfo=UTC)
    assert format_bics_time(instant) == "2024-05-02 00:30:00"
    assert format_bics_date(instant) == "2024-05-02"  # already the next day in Brussels
    assert format_bics_date(date(2024, 5, 1)) == "2024-05-01"
    assert parse_bics_time(format_bics_time(instant)) == instant
