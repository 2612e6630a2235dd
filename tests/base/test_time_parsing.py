"""One time parser, one meaning: a time without an offset is local time, wherever it is typed."""

from __future__ import annotations

import io
import time
from contextlib import redirect_stdout

import pytest

from beerpi.base.errors import ConfigError
from beerpi.base.time_parsing import parse_duration, parse_time
from beerpi.cli.data import main as data_tools
from beerpi.hardware.probe import Reading
from beerpi.repository.sqlite import SqliteRepository
from beerpi.web.api.translate import time_range

T0 = 1_763_712_000.0  # 2025-11-21T08:00:00Z
NOW = T0 + 3600


@pytest.fixture
def berlin_winter(monkeypatch):
    """The machine's local time is UTC+1 (a POSIX TZ rule, so no time zone database is needed)."""
    monkeypatch.setenv("TZ", "CET-1")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("text, expected", [
    ("now", NOW),
    ("90s", NOW - 90), ("30m", NOW - 1800), ("24h", NOW - 86400), ("7d", NOW - 604800),
    ("1d12h", NOW - 129600), ("1.5h", NOW - 5400),
    ("1763712000.5", T0 + 0.5), ("1763712000", T0),
    ("2025-11-21T08:00:00Z", T0), ("2025-11-21T09:00+01:00", T0), ("2025-11-21T08:00:00+00:00", T0),
    ("2025-11-21T09:00", T0),  # local time: UTC+1
    ("2025-11-21", T0 - 9 * 3600),  # local midnight
])
def test_a_time_is_now_an_age_unix_seconds_or_iso_in_local_time(berlin_winter, text, expected):
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "7 days ago", "", "1d and 2h", "2025-13-01"])
def test_anything_else_is_refused_with_the_forms_it_may_take(text):
    with pytest.raises(ConfigError, match="is not a time") as refused:
        parse_time(text, NOW)
    assert isinstance(refused.value, ValueError) and "30m" in str(refused.value)


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800),
                                           ("1d12h", 129600), ("1.5h", 5400)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "7", "7x", "h", "1d and 2h"])
def test_a_bad_duration_is_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_http_api_reads_a_time_without_offset_as_local_time(berlin_winter):
    assert time_range({"since": "2025-11-21T09:00", "until": "2025-11-21T10:00"}, NOW) == {
        "since": T0, "until": T0 + 3600}


def test_export_reads_a_time_without_offset_as_local_time(berlin_winter, tmp_path):
    """Before one parser, export read it as UTC: an hour of readings too many here."""
    path = tmp_path / "beerpi.sqlite3"
    with SqliteRepository(path) as store:
        store.add_readings([Reading(T0 + offset, "28-000000000001", "wort", 20.0) for offset in (-1800, 1800)])
    out = io.StringIO()
    with redirect_stdout(out):
        assert data_tools(["export", "--db", f"sqlite:///{path}", "--since", "2025-11-21T09:00"]) == 0
    rows = out.getvalue().splitlines()
    assert len(rows) == 2 and rows[1].startswith("2025-11-21T08:30:00.000Z")
