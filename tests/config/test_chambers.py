"""The chamber configuration: the TOML file, the one chamber of the flags, and every error."""

from __future__ import annotations

from pathlib import Path

import pytest

from beerpi.base.errors import ConfigError
from beerpi.config import parse_config
from beerpi.config.chambers import (
    CHAMBER_KEYS,
    FLAGS_CHAMBER_ID,
    OUTPUT_KEYS,
    ChamberSpec,
    OutputSpec,
    RigSpec,
    load_rig_spec,
    require_pins,
    rig_spec_from_flags,
    start_warnings,
)
from beerpi.control.thermostat import COMPRESSOR_TIMINGS, COOLER, HEATER, HEATER_TIMINGS, ChamberLimits, OutputTimings

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
BEER, AIR, LAGER, ROOM = "28-0316a2795cff", "28-0416b3c4d2ee", "28-0517c4d5e3ff", "28-0000075c1a2b"
ALE = f"""
[chamber.ale]
beer_probe = "{BEER}"
air_probe = "{AIR}"
[chamber.ale.heater]
pin = 17
[chamber.ale.cooler]
pin = 27
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "beerpi.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> RigSpec:
    return load_rig_spec(write(tmp_path, text))


def error(tmp_path: Path, text: str) -> str:
    """Load ``text`` expecting a ConfigError: its message, checked to be one line naming the file."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_rig_spec(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    return message


# -- the examples ---------------------------------------------------------------------------

def test_the_one_chamber_example_loads_with_a_heater_a_cooler_and_both_probes():
    rig = load_rig_spec(EXAMPLES / "one-chamber.toml")
    (fridge,) = rig.chambers
    assert (fridge.beer_probe, fridge.air_probe) == (BEER, AIR)
    assert fridge.heater == OutputSpec(HEATER, 17, False, HEATER_TIMINGS)
    assert fridge.cooler == OutputSpec(COOLER, 27, False, COMPRESSOR_TIMINGS)
    assert rig.name_of(BEER) == "beer"


def test_the_one_chamber_example_shows_every_key_with_its_default():
    # Given the example, which says each value shown is the default
    text = (EXAMPLES / "one-chamber.toml").read_text(encoding="utf-8")
    fridge = load_rig_spec(EXAMPLES / "one-chamber.toml").chambers[0]
    # Then every key is in it...
    for key in [k for k in CHAMBER_KEYS if k not in (HEATER, COOLER)] + list(OUTPUT_KEYS):
        assert f"\n{key} = " in text, key
    # ...and its values are the defaults
    assert fridge.limits == ChamberLimits(heater=HEATER_TIMINGS, cooler=COMPRESSOR_TIMINGS)
    assert (fridge.target, fridge.hysteresis) == (20.0, 0.3)


def test_the_two_chamber_example_has_an_ale_a_lager_with_a_cooler_only_and_a_room_probe():
    rig = load_rig_spec(EXAMPLES / "two-chambers.toml")
    ale, lager = rig.chambers
    assert (ale.id, ale.air_probe, [o.kind for o in ale.outputs]) == ("ale", AIR, [HEATER, COOLER])
    assert (lager.id, lager.air_probe, [o.kind for o in lager.outputs]) == ("lager", None, [COOLER])
    assert lager.limits.cooler == OutputTimings(min_on=180.0, min_off=600.0)
    assert rig.logged_probes == (ROOM,) and rig.name_of(ROOM) == "room"
    assert rig.probe_ids == (BEER, AIR, LAGER, ROOM)


# -- what the file may leave out ------------------------------------------------------------

def test_a_minimal_chamber_takes_every_default(tmp_path):
    rig = load(tmp_path, f'[chamber.ale]\nbeer_probe = "{BEER}"\n[chamber.ale.heater]\n')
    (ale,) = rig.chambers
    # No pin: a simulated heater; no air probe: no air limits
    assert ale == ChamberSpec("ale", "ale", BEER, heater=OutputSpec(HEATER))
    assert ale.limits == ChamberLimits(heater=HEATER_TIMINGS, max_air=None, min_air=None)
    assert ale.settings.target == 20.0
    assert rig.probe_names == {BEER: "ale beer"} and rig.source == str(tmp_path / "beerpi.toml")


def test_runaway_watch_is_minutes_in_the_file_and_seconds_in_the_limits(tmp_path):
    rig = load(tmp_path, ALE.replace("[chamber.ale.heater]", "runaway_watch = 30\n[chamber.ale.heater]"))
    assert rig.chambers[0].limits.runaway_watch == 1800.0


def test_chambers_keep_the_order_of_the_file(tmp_path):
    lager = f'[chamber.lager]\nbeer_probe = "{LAGER}"\n[chamber.lager.cooler]\n'
    assert [c.id for c in load(tmp_path, lager + ALE).chambers] == ["lager", "ale"]


# -- every error: one line, naming the chamber and the key ----------------------------------

LAGER_COOLER_17 = f'[chamber.lager]\nbeer_probe = "{LAGER}"\n[chamber.lager.cooler]\npin = 17\n'


@pytest.mark.parametrize("text, expected", [
    pytest.param(ALE + f'[chamber.lager]\nbeer_probe = "{LAGER}"\n[chamber.lager.heater]\npin = 27\n',
                 'chamber "lager": heater.pin 27 is also chamber "ale"\'s cooler.pin', id="pin-twice"),
    pytest.param(ALE.replace("pin = 27", "pin = 17"),
                 'chamber "ale": cooler.pin 17 is also chamber "ale"\'s heater.pin', id="pin-twice-in-a-chamber"),
    pytest.param(ALE + f'[chamber.lager]\nbeer_probe = "{BEER}"\n[chamber.lager.cooler]\n',
                 f'chamber "lager": beer_probe {BEER} is also chamber "ale"\'s beer_probe', id="probe-twice"),
    pytest.param(ALE + f'[chamber.lager]\nbeer_probe = "{AIR}"\n[chamber.lager.cooler]\n',
                 f'chamber "lager": beer_probe {AIR} is also chamber "ale"\'s air_probe', id="probe-beer-and-air"),
    pytest.param(ALE.replace(AIR, BEER),
                 f'chamber "ale": air_probe {BEER} is also chamber "ale"\'s beer_probe', id="beer-probe-is-air-probe"),
])
def test_a_probe_or_a_pin_used_twice_is_an_error(tmp_path, text, expected):
    assert expected in error(tmp_path, text)


@pytest.mark.parametrize("old, new, expected", [
    pytest.param("[chamber.ale.heater]", "max_temp = 25\n[chamber.ale.heater]",
                 'chamber "ale": unknown key max_temp (did you mean max_beer?)', id="chamber-key"),
    pytest.param("pin = 17", "pins = 17", 'chamber "ale": unknown key heater.pins (did you mean heater.pin?)',
                 id="output-key"),
    pytest.param("[chamber.ale]", "colour = 'red'\n[chamber.ale]", "unknown key colour (known: chamber, probes, hydrometer)",
                 id="top-key"),
])
def test_an_unknown_key_is_an_error_that_suggests_the_known_one(tmp_path, old, new, expected):
    assert expected in error(tmp_path, ALE.replace(old, new))


@pytest.mark.parametrize("old, new, expected", [
    pytest.param("pin = 17", 'pin = "17"', 'heater.pin must be a whole number, not "17"', id="pin-text"),
    pytest.param("pin = 17", "pin = 17.0", "heater.pin must be a whole number, not 17.0", id="pin-float"),
    pytest.param("pin = 17", "active_low = 1", "heater.active_low must be true or false, not 1", id="active-low"),
    pytest.param("pin = 27", "min_on = true", "cooler.min_on must be a number, not true", id="min-on-bool"),
    pytest.param(f'beer_probe = "{BEER}"', f'beer_probe = "{BEER}"\ntarget = "20"',
                 'target must be a number, not "20"', id="target-text"),
    pytest.param(f'beer_probe = "{BEER}"', "beer_probe = 28", "beer_probe must be a probe id in quotes, not 28",
                 id="probe-number"),
    pytest.param(f'beer_probe = "{BEER}"', f'beer_probe = "{BEER}"\nname = ["a"]',
                 "name must be text in quotes, not a list", id="name-list"),
    pytest.param("[chamber.ale.heater]\npin = 17", "heater = 17",
                 "heater must be a table [chamber.ID.heater], not 17", id="heater-not-a-table"),
])
def test_a_wrong_type_is_an_error_naming_the_key(tmp_path, old, new, expected):
    message = error(tmp_path, ALE.replace(old, new))
    assert f'chamber "ale": {expected}' in message, message


def test_a_chamber_that_is_not_a_table_is_an_error(tmp_path):
    assert 'chamber "ale": must be a table [chamber.ale], not 3' in error(tmp_path, "[chamber]\nale = 3\n")
    assert "chamber must be a table [chamber.ID], not a list" in error(tmp_path, "chamber = [1]\n")


def test_a_missing_beer_probe_is_an_error(tmp_path):
    message = error(tmp_path, ALE.replace(f'beer_probe = "{BEER}"', ""))
    assert 'chamber "ale": beer_probe is missing' in message


def test_a_chamber_with_neither_heater_nor_cooler_is_an_error(tmp_path):
    message = error(tmp_path, f'[chamber.ale]\nbeer_probe = "{BEER}"\n')
    assert 'chamber "ale": has neither a heater nor a cooler' in message


def test_a_file_without_chambers_is_an_error(tmp_path):
    assert "no chamber: add a [chamber.ID] table" in error(tmp_path, f'[probes]\n"{ROOM}" = "room"\n')


@pytest.mark.parametrize("old, new, expected", [
    pytest.param("pin = 17", "pin = 28", "heater.pin 28 is not a GPIO pin", id="pin-28"),
    pytest.param("pin = 17", "pin = -1", "heater.pin -1 is not a GPIO pin", id="pin-negative"),
    pytest.param("pin = 27", "min_off = -1", "cooler.min_off -1 is outside 0…3600 s", id="min-off"),
    pytest.param("pin = 17", "min_on = inf", "heater.min_on inf is outside 0…3600 s", id="min-on-inf"),
    pytest.param("pin = 17", "min_on = nan", "heater.min_on nan is outside 0…3600 s", id="min-on-nan"),
    pytest.param("[chamber.ale.heater]", "target = 50\n[chamber.ale.heater]", "target 50 is outside 0…40 °C",
                 id="target"),
    pytest.param("[chamber.ale.heater]", "hysteresis = 0\n[chamber.ale.heater]",
                 "hysteresis 0 is outside 0.05…5 °C", id="hysteresis"),
    pytest.param("[chamber.ale.heater]", "dead_time = 7200\n[chamber.ale.heater]",
                 "dead_time 7200 is outside 0…3600 s", id="dead-time"),
    pytest.param("[chamber.ale.heater]", "runaway_watch = 2000\n[chamber.ale.heater]",
                 "runaway_watch 2000 is outside 0…1440 min", id="runaway-watch"),
    pytest.param("[chamber.ale.heater]", "runaway_progress = 0\n[chamber.ale.heater]",
                 "runaway_progress 0 is outside 0.0625…5 °C", id="runaway-progress"),
    pytest.param("[chamber.ale.heater]", "max_beer = 150\n[chamber.ale.heater]",
                 "max_beer 150 is outside -20…100 °C", id="max-beer"),
    pytest.param("[chamber.ale.heater]", "max_beer = 18\n[chamber.ale.heater]",
                 "target 20 °C must lie between min_beer -1 and max_beer 18 °C", id="target-above-max-beer"),
    pytest.param("[chamber.ale.heater]", "target = 1\nmin_beer = 2\n[chamber.ale.heater]",
                 "target 1 °C must lie between min_beer 2 and max_beer 30 °C", id="target-below-min-beer"),
    pytest.param("[chamber.ale.heater]", "min_beer = 30\n[chamber.ale.heater]",
                 "min_beer 30 °C must be below max_beer 30 °C", id="min-beer-above-max-beer"),
    pytest.param("[chamber.ale.heater]", "min_air = 40\n[chamber.ale.heater]",
                 "min_air 40 °C must be below max_air 35 °C", id="min-air-above-max-air"),
])
def test_a_value_out_of_range_is_an_error_naming_the_key_and_the_range(tmp_path, old, new, expected):
    assert f'chamber "ale": {expected}' in error(tmp_path, ALE.replace(old, new))


def test_air_limits_without_an_air_probe_are_an_error(tmp_path):
    text = ALE.replace(f'air_probe = "{AIR}"', "max_air = 30")
    assert 'chamber "ale": max_air needs an air_probe' in error(tmp_path, text)


@pytest.mark.parametrize("probe", ["28-0316A2795CFF", "sim-wort", "28-0316a2795c", "wort"])
def test_a_probe_id_must_be_a_ds18b20_id(tmp_path, probe):
    message = error(tmp_path, ALE.replace(BEER, probe))
    assert f"chamber \"ale\": beer_probe '{probe}' is not a DS18B20 id such as 28-0316a2795cff" in message


def test_a_probe_name_must_be_text_and_its_id_a_ds18b20_id(tmp_path):
    assert f"[probes] {ROOM} must be a name in quotes" in error(tmp_path, f'[probes]\n"{ROOM}" = 1\n' + ALE)
    assert "[probes] 'room' is not a DS18B20 id" in error(tmp_path, '[probes]\nroom = "room"\n' + ALE)


@pytest.mark.parametrize("chamber_id", ['"my lager"', '"lager!"', '"' + "x" * 33 + '"'])
def test_a_chamber_id_is_short_letters_digits_dash_and_underscore(tmp_path, chamber_id):
    text = f'[chamber.{chamber_id}]\nbeer_probe = "{BEER}"\n[chamber.{chamber_id}.heater]\n'
    assert "may hold only letters, digits, - and _ (at most 32)" in error(tmp_path, text)


def test_bad_toml_syntax_is_an_error_with_line_and_column(tmp_path):
    message = error(tmp_path, ALE + "target = = 3\n")
    assert "not valid TOML" in message and f"line {ALE.count(chr(10)) + 1}, column" in message


def test_a_key_given_twice_is_bad_toml(tmp_path):
    assert "not valid TOML" in error(tmp_path, ALE.replace("pin = 17", "pin = 17\npin = 18"))


def test_a_file_that_is_not_utf8_is_an_error(tmp_path):
    path = tmp_path / "beerpi.toml"
    path.write_bytes(b'[chamber.ale]\nname = "Ale \xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_rig_spec(path)


@pytest.mark.parametrize("make", [lambda p: p / "missing.toml", lambda p: p])
def test_an_unreadable_file_is_an_error_naming_it(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_rig_spec(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: cannot read the configuration file") and "--config" in message


# -- without a file: one chamber from the flags ---------------------------------------------

FOUND = {"sim-wort": "beer", "sim-chamber": "air"}


def test_the_flags_make_one_heater_chamber_on_the_first_probe_found():
    rig = rig_spec_from_flags(parse_config([], {}), FOUND)
    (main,) = rig.chambers
    assert (main.id, main.name, main.beer_probe, main.air_probe) == (FLAGS_CHAMBER_ID, "Fermenter", "sim-wort", None)
    assert main.heater == OutputSpec(HEATER, 17, False, HEATER_TIMINGS) and main.cooler is None
    assert main.limits == ChamberLimits(heater=HEATER_TIMINGS, max_air=None, min_air=None)
    assert rig.probe_names == FOUND and rig.source is None
    assert rig.logged_probes == ("sim-chamber",)


def test_the_flags_add_a_cooler_an_air_probe_and_their_limits():
    config = parse_config(["--control-probe", "air", "--air-probe", "sim-wort", "--heater-pin", "5",
                           "--active-low", "--min-on", "30", "--min-off", "40", "--max-temp", "26",
                           "--cooler-pin", "6", "--cooler-active-low", "--cooler-min-on", "200",
                           "--cooler-min-off", "400", "--dead-time", "900", "--target", "18",
                           "--hysteresis", "0.5"], {})
    (main,) = rig_spec_from_flags(config, FOUND).chambers
    assert (main.name, main.beer_probe, main.air_probe) == ("Fermenter", "sim-chamber", "sim-wort")
    assert main.heater == OutputSpec(HEATER, 5, True, OutputTimings(30.0, 40.0))
    assert main.cooler == OutputSpec(COOLER, 6, True, OutputTimings(200.0, 400.0))
    assert main.limits == ChamberLimits(heater=OutputTimings(30.0, 40.0), cooler=OutputTimings(200.0, 400.0),
                                        max_beer=26.0, dead_time=900.0)
    assert (main.target, main.hysteresis) == (18.0, 0.5)


def test_the_chamber_of_the_flags_is_called_fermenter_unless_named():
    assert rig_spec_from_flags(parse_config([], {}), {BEER: "beer"}).chambers[0].name == "Fermenter"
    named = parse_config([], {"BEERPI_CHAMBER_NAME": " Ale fridge "})
    assert rig_spec_from_flags(named, {BEER: "beer"}).chambers[0].name == "Ale fridge"
    with pytest.raises(SystemExit):
        parse_config(["--chamber-name", " "], {})


def test_a_control_probe_named_with_probe_name_or_not_found_yet_is_taken():
    config = parse_config(["--probe-name", f"{BEER}=wort", "--control-probe", "wort"], {})
    rig = rig_spec_from_flags(config, {})
    assert rig.chambers[0].beer_probe == BEER and rig.name_of(BEER) == "wort"
    # An id not on the bus yet reads as missing: every output stays off until it appears
    config = parse_config(["--control-probe", LAGER], {})
    assert rig_spec_from_flags(config, {BEER: BEER}).chambers[0].beer_probe == LAGER


def test_a_control_probe_that_matches_nothing_is_an_error_listing_the_probes():
    with pytest.raises(ConfigError, match=r"--control-probe 'cellar' matches no probe; known probes: "
                                          r"sim-wort \(beer\), sim-chamber \(air\)"):
        rig_spec_from_flags(parse_config(["--control-probe", "cellar"], {}), FOUND)


def test_no_probe_found_and_none_named_is_an_error_to_try_again_later():
    with pytest.raises(ConfigError, match="no probe found to control the chamber"):
        rig_spec_from_flags(parse_config([], {}), {})


def test_an_air_probe_that_is_the_control_probe_by_another_name_is_an_error():
    config = parse_config(["--air-probe", "beer"], {})
    with pytest.raises(ConfigError, match="--air-probe 'beer' is the control probe too"):
        rig_spec_from_flags(config, FOUND)


def test_real_relays_need_every_pin(tmp_path):
    require_pins(load_rig_spec(EXAMPLES / "two-chambers.toml"))
    require_pins(rig_spec_from_flags(parse_config([], {}), FOUND))
    rig = load(tmp_path, ALE.replace("pin = 27", ""))
    with pytest.raises(ConfigError, match='chamber "ale": cooler has no pin: give cooler.pin'):
        require_pins(rig)


@pytest.mark.parametrize("argv, environ, warned", [
    pytest.param([], {}, False, id="not-given"),
    pytest.param(["--max-on", "240"], {}, True, id="flag-even-at-its-default"),
    pytest.param([], {"BEERPI_MAX_ON": "60"}, True, id="environment"),
])
def test_max_on_is_replaced_by_runaway_protection_with_a_warning(argv, environ, warned):
    warnings = start_warnings(parse_config(argv, environ))
    assert bool(warnings) is warned
    assert all("--max-on is ignored: runaway protection replaces it" in w for w in warnings)


def test_the_specs_refuse_what_cannot_run():
    with pytest.raises(ConfigError):
        ChamberSpec("x", "x", BEER)  # neither heater nor cooler
    with pytest.raises(ConfigError):
        ChamberSpec("x", "x", BEER, heater=OutputSpec(HEATER), limits=ChamberLimits(cooler=COMPRESSOR_TIMINGS))
    with pytest.raises(ConfigError):
        OutputSpec("fan")
    with pytest.raises(ConfigError):
        RigSpec(())
    assert OutputSpec(COOLER).timings == COMPRESSOR_TIMINGS
