"""Which relays a pin's power-on level switches on, and the config.txt line that prevents it."""

from __future__ import annotations

import pytest

from beerpi.hardware.boot_pins import boot_hazard, config_txt_line


@pytest.mark.parametrize("pin, active_low, hazard", [
    (17, True, True),    # pulled down at boot: an active-low board is ON
    (17, False, False),  # pulled down: an active-high board stays off
    (4, False, True),    # pulled up at boot: an active-high board is ON
    (4, True, False),
    (8, False, True), (9, True, True), (9, False, False), (27, True, True),
])
def test_a_relay_switched_on_by_its_pins_boot_level_is_warned_about(pin, active_low, hazard):
    warning = boot_hazard("heater", pin, active_low)
    assert (warning is not None) is hazard
    if hazard:
        assert f"GPIO {pin}" in warning and config_txt_line(pin, active_low) in warning


def test_the_config_txt_line_drives_the_off_level():
    assert config_txt_line(17, active_low=True) == "gpio=17=op,dh"
    assert config_txt_line(4, active_low=False) == "gpio=4=op,dl"
