"""Configuration: defaults < BEERPI_* environment < command-line flags, one frozen Config."""

from __future__ import annotations

import dataclasses

import pytest

from beerpi.config import Config, parse_config

OPTIONS = ["--host", "--port", "--db", "--hardware", "--interval", "--target", "--hysteresis",
           "--speed", "--log-level", "--max-clients"]


def fails(capsys, argv: list[str], environ: dict[str, str]) -> str:
    """Run parse_config expecting exit status 2; return what it wrote to stderr."""
    with pytest.raises(SystemExit) as caught:
        parse_config(argv, environ)
    assert caught.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    return err


def test_defaults_are_the_documented_ones():
    config = parse_config([], {})
    # db "": data/beerpi.sqlite3, or data/simulation.sqlite3 for simulated probes (see default_db)
    assert config == Config(host="0.0.0.0", port=8888, db="",
                            hardware="auto", interval=5.0, target=20.0, hysteresis=0.3,
                            speed=1.0, log_level="info")


def test_the_real_environment_is_not_needed_when_one_is_given(monkeypatch):
    monkeypatch.setenv("BEERPI_PORT", "1234")
    assert parse_config([], {}).port == 8888
    assert parse_config([]).port == 1234  # without ``environ``: os.environ


@pytest.mark.parametrize("variable, text, field, value", [
    pytest.param("BEERPI_HOST", "127.0.0.1", "host", "127.0.0.1", id="host"),
    pytest.param("BEERPI_PORT", "8080", "port", 8080, id="port"),
    pytest.param("BEERPI_DB", "sqlite:///:memory:", "db", "sqlite:///:memory:", id="db"),
    pytest.param("BEERPI_HARDWARE", "sim", "hardware", "sim", id="hardware"),
    pytest.param("BEERPI_INTERVAL", "0.5", "interval", 0.5, id="interval"),
    pytest.param("BEERPI_TARGET", "18.5", "target", 18.5, id="target"),
    pytest.param("BEERPI_HYSTERESIS", "1", "hysteresis", 1.0, id="hysteresis"),
    pytest.param("BEERPI_SPEED", "120", "speed", 120.0, id="speed"),
    pytest.param("BEERPI_LOG_LEVEL", "debug", "log_level", "debug", id="log-level"),
    pytest.param("BEERPI_MAX_CLIENTS", "50", "max_clients", 50, id="max-clients"),
])
def test_environment_variables_apply(variable, text, field, value):
    config = parse_config([], {variable: text})
    assert getattr(config, field) == value
    assert type(getattr(config, field)) is type(value)


@pytest.mark.parametrize("variable, flag, field, value", [
    pytest.param("BEERPI_PORT", ["--port", "9000"], "port", 9000, id="port"),
    pytest.param("BEERPI_HARDWARE", ["--hardware", "pi"], "hardware", "pi", id="hardware"),
    pytest.param("BEERPI_DB", ["--db", "sqlite:////srv/b.sqlite3"], "db", "sqlite:////srv/b.sqlite3",
                 id="db"),
    pytest.param("BEERPI_LOG_LEVEL", ["--log-level", "error"], "log_level", "error", id="log-level"),
])
def test_a_flag_wins_over_the_environment(variable, flag, field, value):
    environ = {"BEERPI_PORT": "8080", "BEERPI_HARDWARE": "sim", "BEERPI_DB": "sqlite:///:memory:",
               "BEERPI_LOG_LEVEL": "debug"}
    assert getattr(parse_config(flag, environ), field) == value


def test_unrelated_environment_variables_are_ignored():
    assert parse_config([], {"PORT": "1", "BEERPI": "x", "BEERPI_COLOUR": "red"}) == Config()


@pytest.mark.parametrize("variable, text", [
    pytest.param("BEERPI_PORT", "eighty", id="port-not-a-number"),
    pytest.param("BEERPI_PORT", "70000", id="port-out-of-range"),
    pytest.param("BEERPI_INTERVAL", "0", id="interval-zero"),
    pytest.param("BEERPI_TARGET", "nan", id="target-nan"),
    pytest.param("BEERPI_HYSTERESIS", "10", id="hysteresis-out-of-range"),
    pytest.param("BEERPI_DB", "ftp://x", id="db-bad-url"),
    pytest.param("BEERPI_HARDWARE", "arduino", id="hardware-unknown"),
    pytest.param("BEERPI_LOG_LEVEL", "loud", id="log-level-unknown"),
    pytest.param("BEERPI_MAX_CLIENTS", "0", id="max-clients-zero"),
])
def test_a_bad_environment_value_exits_2_with_one_line_naming_the_variable(capsys, variable, text):
    err = fails(capsys, [], {variable: text})
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert variable in err


@pytest.mark.parametrize("argv, option", [
    pytest.param(["--port", "70000"], "--port", id="port-out-of-range"),
    pytest.param(["--port", "http"], "--port", id="port-not-a-number"),
    pytest.param(["--interval", "0"], "--interval", id="interval-zero"),
    pytest.param(["--interval", "-1"], "--interval", id="interval-negative"),
    pytest.param(["--target", "50"], "--target", id="target-out-of-range"),
    pytest.param(["--hysteresis", "0"], "--hysteresis", id="hysteresis-out-of-range"),
    pytest.param(["--speed", "inf"], "--speed", id="speed-infinite"),
    pytest.param(["--db", "ftp://x"], "--db", id="db-bad-url"),
    pytest.param(["--hardware", "foo"], "--hardware", id="hardware-unknown"),
    pytest.param(["--log-level", "loud"], "--log-level", id="log-level-unknown"),
    pytest.param(["--max-clients", "many"], "--max-clients", id="max-clients-not-a-number"),
])
def test_a_bad_flag_exits_2_with_one_line_naming_the_option(capsys, argv, option):
    err = fails(capsys, argv, {})
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert option in err


def test_an_unknown_flag_exits_2_with_one_line(capsys):
    err = fails(capsys, ["--colour", "amber"], {})
    assert err.count("\n") == 1 and "--colour" in err


def test_help_exits_0_and_mentions_every_option_and_the_environment(capsys):
    with pytest.raises(SystemExit) as caught:
        parse_config(["--help"], {})
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for option in OPTIONS:
        assert option in out, option
    assert "BEERPI_" in out


def test_config_is_frozen():
    config = parse_config([], {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.port = 1  # type: ignore[misc]
