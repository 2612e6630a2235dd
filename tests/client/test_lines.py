"""The client's one-line states say a wait in the dashboard's words."""

from __future__ import annotations

import pytest

from beerpi.client.lines import state_line

STATE = {"type": "state", "ts": 1763712005.0, "heater": False, "mode": "auto", "target": 20.0, "hysteresis": 0.3,
         "fault": None, "chamber": "main", "cooler": False, "activity": "waiting"}


@pytest.mark.parametrize("waiting_for, output, words", [
    ("min_off", "cooler", "compressor resting"),
    ("min_off", "heater", "heater resting"),
    ("dead_time", "heater", "pause between heating and cooling"),
    ("other_on", "cooler", "waiting for the heater to stop"),
    ("min_off", None, "resting (minimum off time)"),  # a server from before waiting_output
])
def test_a_wait_reads_as_on_the_dashboard(waiting_for, output, words):
    line = state_line({**STATE, "waiting_for": waiting_for, "waiting_output": output})
    assert f"  {words}  " in line
