"""The control token's file, its comparison, the failure limiter and the links printed at start."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from beerpi.base.errors import ConfigError
from beerpi.protocol.access import (
    Access,
    FailureLimiter,
    lan_addresses,
    load_or_create_token,
    open_links,
    redact_uri,
    resolve_token,
    token_matches,
    token_path_for,
)
from tests.support.fake_time import FakeTime


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
    assert limiter.failed("10.0.0.9") is False  # the fifth is answered as wrong, and locks
    assert limiter.blocked("10.0.0.9") and not limiter.blocked("10.0.0.8")
    assert limiter.failed("10.0.0.9") is True  # the sixth is refused
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
    assert len(limiter) == 3


RIGHT = "right-token-123"
WRONG = "wrong-token-456"
SMALL = {"allowed": 3, "window": 60.0, "lockout": 300.0, "guesses": 5, "guess_window": 60.0, "max_addresses": 4}


def many(count: int, token: str, expected: str, first: int = 1) -> list[tuple[float, str, str, str]]:
    """One guess from each of ``count`` addresses 10.1.0.<first>…, all answered ``expected``."""
    return [(0.0, f"10.1.0.{n}", token, expected) for n in range(first, first + count)]


# Each step: (seconds to wait first, address, token presented, expected outcome)
GUESSING = {
    "behind one NAT, a stranger's wrong tokens never refuse the right one": (SMALL, [
        *[(0.0, "10.0.0.1", WRONG, "unauthorized")] * 3,  # the third locks the address
        (0.0, "10.0.0.1", WRONG, "rate_limited"),
        (0.0, "10.0.0.1", RIGHT, "ok"),  # the brewer and the iSpindel behind the same address
        (0.0, "10.0.0.1", WRONG, "rate_limited"),
        (300.0, "10.0.0.1", WRONG, "unauthorized"),  # the lockout is over
    ]),
    "many addresses share one budget of wrong guesses": (SMALL, [
        *many(5, WRONG, "unauthorized"),
        *many(20, WRONG, "rate_limited", first=6),  # new addresses do not help
        (0.0, "10.2.0.1", RIGHT, "ok"),
        (13.0, "10.2.0.2", WRONG, "unauthorized"),  # 12 s buys one guess back (5 a minute)
        (0.0, "10.2.0.3", WRONG, "rate_limited"),
    ]),
    "a locked address stays locked however many addresses come after it": (
        {**SMALL, "guesses": 1000}, [
            *[(0.0, "10.0.0.1", WRONG, "unauthorized")] * 3,
            *many(50, WRONG, "unauthorized"),
            (0.0, "10.0.0.1", WRONG, "rate_limited"),
            (0.0, "10.0.0.1", RIGHT, "ok"),
        ]),
    "with the table full of locked addresses, any other's wrong token is refused": (
        {**SMALL, "allowed": 1, "guesses": 1000, "max_addresses": 2}, [
            (0.0, "10.0.0.1", WRONG, "unauthorized"),
            (0.0, "10.0.0.2", WRONG, "unauthorized"),
            (0.0, "10.0.0.3", WRONG, "rate_limited"),
            (0.0, "10.0.0.3", RIGHT, "ok"),
            (0.0, "10.0.0.1", WRONG, "rate_limited"),
            (300.0, "10.0.0.3", WRONG, "unauthorized"),  # the locks ran out: room again
        ]),
}


@pytest.mark.parametrize("limits, steps", GUESSING.values(), ids=GUESSING.keys())
def test_wrong_guesses_are_limited_per_address_and_all_together(limits, steps) -> None:
    clock = FakeTime(1000.0)
    access = Access(RIGHT, limiter=FailureLimiter(clock=clock, **limits))
    seen = []
    for wait, address, token, _ in steps:
        clock.advance(wait)
        seen.append(access.check(address, token))
        assert len(access.limiter) <= limits["max_addresses"]
    assert seen == [expected for *_, expected in steps]


def test_a_token_in_a_url_is_redacted_for_logs() -> None:
    assert redact_uri("/ws?token=s3cret-token-xyz&x=1") == "/ws?token=REDACTED&x=1"
    assert redact_uri("/?a=1&token=s3cret&token=again") == "/?a=1&token=REDACTED&token=REDACTED"
    assert redact_uri("/static/js/main.js?v=2") == "/static/js/main.js?v=2"


def test_the_links_to_open_name_reachable_addresses_with_the_token() -> None:
    assert open_links("127.0.0.1", 8888, "tok") == ["http://127.0.0.1:8888/?token=tok"]
    assert open_links("::1", 80, "tok") == ["http://[::1]:80/?token=tok"]
    addresses = lan_addresses("0.0.0.0")
    assert addresses and "0.0.0.0" not in addresses
