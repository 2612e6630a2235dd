"""The control token's file, its comparison, the failure limiter and the links printed at start."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from beerpi.auth import (FailureLimiter, lan_addresses, load_or_create_token, open_links, redact_uri,
                         resolve_token, token_matches, token_path_for)
from beerpi.errors import ConfigError
from tests.fake_time import FakeTime


def test_a_token_is_created_once_with_mode_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "token"
    first = load_or_create_token(path)
    assert len(first) >= 40 and path.read_text().strip() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_token(path) == first


def test_the_token_option_wins_and_no_file_is_written(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/beerpi.sqlite3"
    assert resolve_token("given-token-12345", None, db) == "given-token-12345"
    assert not (tmp_path / "token").exists()
    created = resolve_token(None, None, db)
    assert (tmp_path / "token").read_text().strip() == created
    assert resolve_token(None, str(tmp_path / "elsewhere"), db) != created


def test_the_token_file_lives_beside_the_database_else_under_data() -> None:
    assert token_path_for("sqlite:////var/lib/beerpi/b.sqlite3") == Path("/var/lib/beerpi/token")
    assert token_path_for("sqlite:///:memory:") == Path("data/token")
    assert token_path_for("mongodb://localhost/beerpi") == Path("data/token")


def test_an_unusable_token_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("short\n")
    with pytest.raises(ConfigError, match="at least 12"):
        load_or_create_token(path)


def test_tokens_compare_whole_and_exact() -> None:
    assert token_matches("right-token-123", "right-token-123")
    assert not token_matches("right-token-123", "right-token-12")
    assert not token_matches("right-token-123", None)
    assert not token_matches("right-token-123", "right-token-123\udcff")


def test_five_wrong_tokens_within_a_minute_lock_the_address_out() -> None:
    clock = FakeTime(1000.0)
    limiter = FailureLimiter(allowed=5, window=60.0, lockout=300.0, clock=clock)
    assert [limiter.failed("10.0.0.9") for _ in range(4)] == [False] * 4
    assert not limiter.blocked("10.0.0.9")
    assert limiter.failed("10.0.0.9") is True
    assert limiter.blocked("10.0.0.9") and not limiter.blocked("10.0.0.8")
    clock.advance(299.0)
    assert limiter.blocked("10.0.0.9")
    clock.advance(1.0)
    assert not limiter.blocked("10.0.0.9")


def test_wrong_tokens_further_apart_than_the_window_do_not_add_up() -> None:
    clock = FakeTime(0.0)
    limiter = FailureLimiter(allowed=3, window=60.0, lockout=300.0, clock=clock)
    for _ in range(10):
        assert limiter.failed("10.0.0.9") is False
        clock.advance(31.0)
    assert not limiter.blocked("10.0.0.9")


def test_the_limiter_remembers_a_bounded_number_of_addresses() -> None:
    limiter = FailureLimiter(allowed=2, clock=FakeTime(0.0), max_addresses=3)
    for n in range(10):
        limiter.failed(f"10.0.0.{n}")
    assert len(limiter._failures) == 3


def test_a_token_in_a_url_is_redacted_for_logs() -> None:
    assert redact_uri("/ws?token=s3cret-token-xyz&x=1") == "/ws?token=REDACTED&x=1"
    assert redact_uri("/?a=1&token=s3cret&token=again") == "/?a=1&token=REDACTED&token=REDACTED"
    assert redact_uri("/static/js/main.js?v=2") == "/static/js/main.js?v=2"


def test_the_links_to_open_name_reachable_addresses_with_the_token() -> None:
    assert open_links("127.0.0.1", 8888, "tok") == ["http://127.0.0.1:8888/?token=tok"]
    assert open_links("::1", 80, "tok") == ["http://[::1]:80/?token=tok"]
    addresses = lan_addresses("0.0.0.0")
    assert addresses and "0.0.0.0" not in addresses
