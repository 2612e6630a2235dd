"""Configuration: defaults < BEERPI_* environment < command-line flags, one frozen Config."""

from __future__ import annotations

import dataclasses

import pytest

from beerpi.config import CHAMBER_OPTIONS, REAL_DB, SIMULATION_DB, Config, default_db, parse_config, with_default_db
from beerpi.control.thermostat import COMPRESSOR_TIMINGS, HEATER_TIMINGS, ChamberLimits

OPTIONS = ["--host", "--port", "--db", "--hardware", "--interval", "--target", "--hysteresis",
           "--speed", "--log-level", "--max-clients", "--max-clients-per-address", "--config", "--air-probe", "--cooler-pin",
           "--cooler-active-low", "--cooler-min-on", "--cooler-min-off", "--dead-time", "--token",
           "--token-file", "--read-token-required", "--allow-origin", "--allow-host"]


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
    pytest.param("BEERPI_MAX_CLIENTS_PER_ADDRESS", "200", "max_clients_per_address", 200,
                 id="max-clients-per-address"),
    pytest.param("BEERPI_CONFIG", "beerpi.toml", "config", "beerpi.toml", id="config"),
    pytest.param("BEERPI_AIR_PROBE", "chamber", "air_probe", "chamber", id="air-probe"),
    pytest.param("BEERPI_COOLER_PIN", "27", "cooler_pin", 27, id="cooler-pin"),
    pytest.param("BEERPI_COOLER_ACTIVE_LOW", "yes", "cooler_active_low", True, id="cooler-active-low"),
    pytest.param("BEERPI_COOLER_MIN_ON", "240", "cooler_min_on", 240.0, id="cooler-min-on"),
    pytest.param("BEERPI_COOLER_MIN_OFF", "600", "cooler_min_off", 600.0, id="cooler-min-off"),
    pytest.param("BEERPI_DEAD_TIME", "0", "dead_time", 0.0, id="dead-time"),
    pytest.param("BEERPI_TOKEN", "a-token-of-mine", "token", "a-token-of-mine", id="token"),
    pytest.param("BEERPI_TOKEN_FILE", "/etc/beerpi/token", "token_file", "/etc/beerpi/token", id="token-file"),
    pytest.param("BEERPI_READ_TOKEN_REQUIRED", "1", "read_token_required", True, id="read-token-required"),
    pytest.param("BEERPI_ALLOW_ORIGIN", "https://a.example,https://b.example", "allow_origin",
                 ("https://a.example", "https://b.example"), id="allow-origin"),
    pytest.param("BEERPI_ALLOW_HOST", "brew.example.org", "allow_host", ("brew.example.org",), id="allow-host"),
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
    pytest.param("BEERPI_TARGET", "1_9", id="target-underscore"),
    pytest.param("BEERPI_PORT", "8_888", id="port-underscore"),
    pytest.param("BEERPI_HYSTERESIS", "10", id="hysteresis-out-of-range"),
    pytest.param("BEERPI_DB", "ftp://x", id="db-bad-url"),
    pytest.param("BEERPI_HARDWARE", "arduino", id="hardware-unknown"),
    pytest.param("BEERPI_LOG_LEVEL", "loud", id="log-level-unknown"),
    pytest.param("BEERPI_MAX_CLIENTS", "0", id="max-clients-zero"),
    pytest.param("BEERPI_MAX_CLIENTS_PER_ADDRESS", "0", id="max-clients-per-address-zero"),
    pytest.param("BEERPI_COOLER_PIN", "28", id="cooler-pin-out-of-range"),
    pytest.param("BEERPI_COOLER_ACTIVE_LOW", "maybe", id="cooler-active-low-not-a-flag"),
    pytest.param("BEERPI_DEAD_TIME", "-1", id="dead-time-negative"),
    pytest.param("BEERPI_TOKEN", "short", id="token-too-short"),
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
    pytest.param(["--target", "1_9"], "--target", id="target-underscore"),
    pytest.param(["--heater-pin", "\u0661\u0667"], "--heater-pin", id="pin-other-digits"),
    pytest.param(["--hysteresis", "0"], "--hysteresis", id="hysteresis-out-of-range"),
    pytest.param(["--speed", "inf"], "--speed", id="speed-infinite"),
    pytest.param(["--db", "ftp://x"], "--db", id="db-bad-url"),
    pytest.param(["--hardware", "foo"], "--hardware", id="hardware-unknown"),
    pytest.param(["--log-level", "loud"], "--log-level", id="log-level-unknown"),
    pytest.param(["--max-clients", "many"], "--max-clients", id="max-clients-not-a-number"),
    pytest.param(["--cooler-pin", "40"], "--cooler-pin", id="cooler-pin-out-of-range"),
    pytest.param(["--cooler-min-on", "-5"], "--cooler-min-on", id="cooler-min-on-negative"),
    pytest.param(["--cooler-min-off", "x"], "--cooler-min-off", id="cooler-min-off-not-a-number"),
    pytest.param(["--dead-time", "4000"], "--dead-time", id="dead-time-out-of-range"),
    pytest.param(["--cooler-pin", "17"], "--cooler-pin", id="cooler-pin-is-the-heater-pin"),
    pytest.param(["--air-probe", "wort", "--control-probe", "wort"], "--air-probe", id="air-is-control"),
    pytest.param(["--token", "has spaces in it"], "--token", id="token-not-url-safe"),
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


def test_the_token_is_not_in_the_config_repr():
    assert "a-token-of-mine" not in repr(parse_config(["--token", "a-token-of-mine"], {}))


def test_config_is_frozen():
    config = parse_config([], {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.port = 1  # type: ignore[misc]


def test_the_new_defaults_are_the_thermostat_ones():
    config = parse_config([], {})
    assert (config.config, config.air_probe, config.cooler_pin, config.cooler_active_low) == (None, None, None, False)
    assert (config.min_on, config.min_off) == (HEATER_TIMINGS.min_on, HEATER_TIMINGS.min_off)
    assert (config.cooler_min_on, config.cooler_min_off) == (180.0, 300.0) == (
        COMPRESSOR_TIMINGS.min_on, COMPRESSOR_TIMINGS.min_off)
    assert config.dead_time == 600.0 == ChamberLimits().dead_time


def test_given_records_the_options_set_by_a_flag_or_the_environment_even_at_their_default():
    config = parse_config(["--heater-pin", "17", "--active-low"], {"BEERPI_PORT": "8888", "BEERPI_X": "1"})
    assert config.given == {"heater_pin", "active_low", "port"}
    assert parse_config([], {}).given == frozenset()


@pytest.mark.parametrize("argv", [
    ["--hardware", "sim", "--port", "9000", "--w1-dir", "w1", "--speed", "60", "--max-jump", "3",
     "--interval", "1", "--probes", "w1", "--heater", "sim", "--db", "sqlite:///:memory:"],
])
def test_global_options_go_with_config(argv):
    assert parse_config(["--config", "beerpi.toml", *argv], {}).config == "beerpi.toml"


@pytest.mark.parametrize("dest", sorted(CHAMBER_OPTIONS))
def test_a_chamber_flag_with_config_exits_2_naming_the_flag_and_the_file_key(capsys, dest):
    flag = "--" + dest.replace("_", "-")
    value = {"active_low": [], "cooler_active_low": [], "probe_name": ["28-0316a2795cff=wort"],
             "control_probe": ["wort"], "air_probe": ["air"]}.get(dest, ["3"])
    err = fails(capsys, ["--config", "beerpi.toml", flag, *value], {})
    assert err.count("\n") == 1, err
    assert f"{flag} cannot be combined with --config" in err
    assert f"set {CHAMBER_OPTIONS[dest]} in the file instead" in err


def test_a_chamber_variable_with_config_names_the_variable(capsys):
    err = fails(capsys, [], {"BEERPI_CONFIG": "beerpi.toml", "BEERPI_HEATER_PIN": "22", "BEERPI_TARGET": "18"})
    assert "BEERPI_TARGET, BEERPI_HEATER_PIN cannot be combined with --config" in err
    assert "set target, heater.pin in the file instead" in err


def test_a_simulation_of_a_chamber_file_has_its_own_default_database():
    assert default_db(False, "examples/two-chambers.toml") == REAL_DB  # real probes: one history
    assert default_db(True) == SIMULATION_DB
    assert default_db(True, "examples/two-chambers.toml") == "sqlite:///data/simulation-two-chambers.sqlite3"
    assert with_default_db(Config(config="/etc/my brew!.toml"), True).db == "sqlite:///data/simulation-my-brew.sqlite3"
    given = Config(db="sqlite:///elsewhere.sqlite3", config="examples/two-chambers.toml")
    assert with_default_db(given, True).db == "sqlite:///elsewhere.sqlite3"  # --db wins
