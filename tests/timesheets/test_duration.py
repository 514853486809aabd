import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.formatting import duration
from app.timesheets.duration import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("1h30", 90),
        ("1 h 30", 90),
        ("1:30", 90),
        ("90", 90),
        ("1,5", 90),
        ("1.5", 90),
        ("1h", 60),
        ("2 h", 120),
        ("45", 45),
        ("45 min", 45),
        ("45mn", 45),
        ("0:45", 45),
        ("1h05", 65),
        ("1 h 30 min", 90),
        ("0,25", 15),
        ("24h", 1440),
        (" 1H30 ", 90),
    ],
)
def test_parses_the_ways_people_type_durations(text, minutes):
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    "text", ["", "   ", "abc", "1h75", "0", "0:00", "25h", "1441", "-30", "1,5,5", "1h30h", "=1+1", "9" * 40]
)
def test_refuses_what_is_not_a_duration(text):
    with pytest.raises(DurationError):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=1440))
def test_what_is_shown_parses_back_to_the_same_minutes(minutes):
    assert parse_duration(format_duration(minutes)) == minutes
    assert parse_duration(duration(minutes).replace(" min", "")) == minutes


@given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_hours_and_minutes_in_every_notation(hours, minutes):
    total = hours * 60 + minutes
    if total == 0:
        return
    assert parse_duration(f"{hours}h{minutes:02d}") == total
    assert parse_duration(f"{hours} h {minutes}") == total
    assert parse_duration(f"{hours}:{minutes:02d}") == total


@given(st.text(max_size=30))
def test_any_text_is_a_duration_or_a_clear_error(text):
    try:
        minutes = parse_duration(text)
    except DurationError as error:
        assert str(error)
    else:
        assert 1 <= minutes <= 1440


def test_durations_are_shown_the_french_way():
    assert duration(90) == "1 h 30"
    assert duration(45) == "45 min"
    assert duration(120) == "2 h"
    assert duration(65) == "1 h 05"
