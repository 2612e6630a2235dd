"""The Pis' hydrometers on the hub: their series gathered into ``hydrometer`` frames, named for the hub."""

from __future__ import annotations

from beerpi.fleet.remote_hydrometers import RemoteHydrometers, hydrometer_series
from beerpi.hardware.probe import Reading

T0 = 1_763_712_000.0
RED = {"type": "hydrometer", "ts": T0, "name": "red", "chamber": "ale", "gravity": 1.050, "angle": 52.0,
       "temperature": 19.5, "battery": 3.9, "rssi": -70, "interval": 900}


def series(ts: float, gravity: float, node: str = "garage") -> list[Reading]:
    return [Reading(ts, f"{node}/hydrometer:red:gravity", "red gravity", gravity),
            Reading(ts, f"{node}/hydrometer:red:angle", "red angle", 50.2)]


def test_a_hydrometers_series_are_told_apart_from_a_probes():
    assert hydrometer_series("garage/hydrometer:red:gravity") == ("garage", "red", "gravity")
    assert hydrometer_series("garage/hydrometer:Tilt red:battery") == ("garage", "Tilt red", "battery")
    assert hydrometer_series("garage/28-0316a2795cff") is None
    assert hydrometer_series("garage/hydrometer:red:rssi") is None
    assert hydrometer_series("hydrometer:red:gravity") is None  # a Pi's own id, not the hub's


def test_the_pis_hello_says_where_its_hydrometer_floats_named_for_the_hub():
    hydrometers = RemoteHydrometers()
    hydrometers.heard_hello("garage", [RED, {"name": ""}, "junk"])
    [told] = hydrometers.hello()
    assert (told["name"], told["chamber"], told["node"], told["gravity"]) == ("garage/red", "garage/ale", "garage", 1.05)
    assert told["series"] == "garage/hydrometer:red:gravity"


def test_a_reading_s_series_make_one_frame_in_the_chamber_the_hello_named():
    hydrometers = RemoteHydrometers()
    hydrometers.heard_hello("garage", [RED])
    assert {hydrometers.heard(reading) for reading in series(T0 + 900, 1.048)} == {"garage/red"}
    [frame] = hydrometers.hello()
    assert (frame["ts"], frame["gravity"], frame["angle"], frame["chamber"]) == (T0 + 900, 1.048, 50.2, "garage/ale")
    assert (frame["battery"], frame["interval"]) == (None, 900)  # not in this reading; its pace kept


def test_an_older_reading_changes_nothing_and_a_probe_s_is_none_of_its_business():
    hydrometers = RemoteHydrometers()
    hydrometers.restore(series(T0 + 900, 1.048))
    assert hydrometers.heard(series(T0, 1.060)[0]) is None
    assert hydrometers.heard(Reading(T0 + 1000, "garage/28-0001", "beer", 19.0)) is None
    assert hydrometers.hello()[0]["gravity"] == 1.048


def test_a_hello_older_than_the_latest_reading_moves_the_hydrometer_but_keeps_its_reading():
    hydrometers = RemoteHydrometers()
    hydrometers.restore(series(T0 + 900, 1.048))
    assert hydrometers.hello()[0]["chamber"] is None  # until its Pi says hello
    hydrometers.heard_hello("garage", [RED])
    [frame] = hydrometers.hello()
    assert (frame["chamber"], frame["gravity"], frame["ts"]) == ("garage/ale", 1.048, T0 + 900)


def test_two_pis_hydrometers_of_one_name_never_meet():
    hydrometers = RemoteHydrometers()
    hydrometers.restore([*series(T0, 1.048), *series(T0, 1.020, node="cellar")])
    assert [(h["name"], h["gravity"]) for h in hydrometers.hello()] == [("cellar/red", 1.02), ("garage/red", 1.048)]
